/*-------------------------------------------------------------------------
 *
 * main.c
 *	  pg_ha_supervisor: runs one node's postgres as its child.
 *
 *	  pg_ha_supervisor [-c] node.conf      run the node
 *	  pg_ha_supervisor --check -c node.conf  check the configuration, exit
 *
 * One loop: wait (poll) on the signal pipe and postgres' output for up to
 * a second, then handle signals, postgres' exit, the agent's request file
 * and a due restart.  See PROTOCOL.md for what each does.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "callbacks.h"
#include "guard.h"
#include "conf.h"
#include "log.h"
#include "node.h"
#include "pg.h"
#include "replies.h"
#include "run.h"
#include "zk.h"

static NodeConf conf;
static const char *conf_path = NULL;

static void
usage(FILE *f)
{
	fprintf(f,
			"pg_ha_supervisor runs one pg_ha node: bootstraps it, runs postgres as its child,\n"
			"restarts it after a crash and carries out the pg_ha agent's requests.\n\n"
			"Usage:\n"
			"  pg_ha_supervisor [-c] NODE.CONF         run the node\n"
			"  pg_ha_supervisor --check [-c] NODE.CONF check the configuration and exit\n\n"
			"Signals: TERM hands leadership over (when leading) and stops, INT fast stop,\n"
			"QUIT immediate stop, HUP re-reads NODE.CONF and reloads postgres,\n"
			"USR1 reads the agent's request (pg_ha.request).\n"
			"See supervisor/node.conf.sample for the configuration keys.\n");
}

/* Reads and parses the node configuration; false with the error logged. */
static bool
load_conf(const char *path, NodeConf *out)
{
	size_t		len = 0;
	char	   *text = pgd_read_file(path, &len);
	char		err[1024];
	bool		ok;

	if (text == NULL)
	{
		sup_log("cannot read the node configuration \"%s\": %s", path, strerror(errno));
		return false;
	}
	ok = conf_parse(text, len, path, getenv("PGDATA"), out, err, sizeof(err));
	free(text);
	if (!ok)
		sup_log("invalid node configuration: %s", err);
	else if (out->wal_keep_segments >= 0)
		sup_log("configuration: pg.wal_keep_segments = %d (the name before PostgreSQL 13) is set as wal_keep_size = %lldMB: %d segments x 16 MB, the default WAL segment size",
				out->wal_keep_segments, (long long) out->wal_keep_segments * 16, out->wal_keep_segments);
	return ok;
}

static void
reload(void)
{
	NodeConf   *fresh = malloc(sizeof(NodeConf));

	if (fresh == NULL)
		return;
	if (!load_conf(conf_path, fresh))
	{
		sup_log("reload: keeping the previous configuration");
		free(fresh);
		return;
	}
	if (strcmp(fresh->name, conf.name) != 0 || strcmp(fresh->scope, conf.scope) != 0 ||
		strcmp(fresh->namespace_, conf.namespace_) != 0 ||
		strcmp(fresh->zk_hosts, conf.zk_hosts) != 0 ||
		strcmp(fresh->data_dir, conf.data_dir) != 0 || strcmp(fresh->bin_dir, conf.bin_dir) != 0)
	{
		sup_log("reload: name, scope, namespace, zk_hosts, data_dir and bin_dir change only with a restart of the supervisor; keeping the previous configuration");
		free(fresh);
		return;
	}
	conf = *fresh;
	free(fresh);
	if (pgd_write_pg_ha_conf(&conf))
		sup_log("reload: rewrote pg_ha.conf");
	if (pg_running())
	{
		kill(pg_pid(), SIGHUP);
		sup_log("reload: sent SIGHUP to postgres (settings marked \"restart\" apply at its next start)");
		callbacks_reloaded();
	}
}

/* What the callbacks need to know of postgres, every loop turn */
static void
observe_for_callbacks(void)
{
	char		status[32];

	if (!pg_running())
		callbacks_observe(0, "", false);
	else if (!pg_pm_status(&conf, status, sizeof(status)))
		callbacks_observe(pg_pid(), "", false);
	else
		callbacks_observe(pg_pid(), status, pgd_is_standby(&conf));
}

int
main(int argc, char **argv)
{
	bool		check_only = false;
	long long	next_request_check = 0;
	int			rc;
	NodeOutcome o;

	/* a callback's runner (callbacks.c starts it), not a node */
	if (argc >= 2 && strcmp(argv[1], "--run-callback") == 0)
		return callbacks_runner_main(argc - 2, argv + 2);
	/* the guard of a program we wait for (run.c starts it) */
	if (argc >= 2 && strcmp(argv[1], "--guard") == 0)
		return guard_main(argc - 2, argv + 2);

	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
		{
			usage(stdout);
			return 0;
		}
		else if (strcmp(argv[i], "--check") == 0 || strcmp(argv[i], "-t") == 0)
			check_only = true;
		else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc && conf_path == NULL)
			conf_path = argv[++i];
		else if (argv[i][0] != '-' && conf_path == NULL)
			conf_path = argv[i];
		else
		{
			usage(stderr);
			return SUP_EXIT_CONFIG;
		}
	}
	if (conf_path == NULL)
	{
		usage(stderr);
		return SUP_EXIT_CONFIG;
	}
	if (!load_conf(conf_path, &conf))
		return SUP_EXIT_CONFIG;
	sup_log_set_name(conf.name);
	if (check_only)
	{
		printf("%s: OK (node \"%s\" of cluster \"%s\", data_dir %s)\n", conf_path, conf.name,
			   conf.scope, conf.data_dir);
		return 0;
	}
	if (geteuid() == 0)
	{
		sup_log("refusing to run as root: postgres does not; run pg_ha_supervisor as the postgres user");
		return SUP_EXIT_CONFIG;
	}
	umask(077);
	node_conf = &conf;
	callbacks_setup(&conf);
	if (!sig_setup())
		return SUP_EXIT_FAIL;
	zkc_setup(conf.zk_hosts, conf.ttl * 1000, conf.namespace_, conf.scope);
	(void) replies_open();
	sup_log("starting: node \"%s\" of cluster \"%s\", data_dir %s, ZooKeeper %s",
			conf.name, conf.scope, conf.data_dir, conf.zk_hosts);

	o = node_prepare();
	if (o != NODE_CONTINUE && sig_stop_pending())
		o = NODE_EXIT_OK;		/* asked to stop while preparing */
	if (o != NODE_CONTINUE)
	{
		rc = node_exit_code(o);
		if (pg_running())
			node_shutdown(SIGINT);
		zkc_close();
		callbacks_finish();
		sup_log("exiting (code %d)", rc);
		return rc;
	}

	for (;;)
	{
		int			status;
		long long	now;

		sup_wait(1000);

		if (sig_take(SIGQUIT))
		{
			sup_log("SIGQUIT: immediate shutdown");
			node_shutdown(SIGQUIT);
			break;
		}
		if (sig_take(SIGINT))
		{
			sup_log("SIGINT: fast shutdown");
			node_shutdown(SIGINT);
			break;
		}
		if (sig_take(SIGTERM))
		{
			sup_log("SIGTERM: stopping");
			node_shutdown_graceful();
			break;
		}
		if (sig_take(SIGHUP))
		{
			sup_log("SIGHUP: reloading");
			reload();
		}
		sig_take(SIGCHLD);

		if (pg_reap(&status))
		{
			o = node_postgres_exited(status);
			if (o != NODE_CONTINUE)
				goto out;
			continue;			/* signals first */
		}
		now = now_ms();
		if (sig_take(SIGUSR1) || now >= next_request_check)
		{
			next_request_check = now + 1000;
			if (node_check_request())
				continue;
		}
		replies_expire(now);
		o = node_tick();
		if (o != NODE_CONTINUE)
			goto out;
		observe_for_callbacks();
	}
	o = NODE_EXIT_OK;
out:
	rc = node_exit_code(o);
	if (rc != SUP_EXIT_OK && pg_running())
		node_shutdown(SIGINT);
	zkc_close();
	callbacks_finish();
	sup_log("exiting (code %d)", rc);
	return rc;
}
