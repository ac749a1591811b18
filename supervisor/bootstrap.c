/*-------------------------------------------------------------------------
 *
 * bootstrap.c
 *	  Bootstrap (see bootstrap.h and PROTOCOL.md).
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "actions.h"
#include "addr.h"
#include "bootstrap.h"
#include "log.h"
#include "pg.h"
#include "run.h"
#include "zk.h"

#define WAIT_BACKOFF_MIN_MS		1000	/* waiting for a leader or the lock */
#define WAIT_BACKOFF_MAX_MS		30000

static NodeOutcome
bootstrap_initdb(const NodeConf *c)
{
	char		prog[CONF_PATH_LEN + 32];
	char		pwopt[128] = "";
	char		pwfile[64] = "";
	const char *argv[12];
	int			ac = 0;
	int			rc;
	ControlData cd;
	char		sysid[32];

	sup_log("bootstrap: won the initialize key of cluster \"%s\", running initdb", c->scope);
	bin_path(c, "initdb", prog, sizeof(prog));
	argv[ac++] = prog;
	argv[ac++] = "-D";
	argv[ac++] = c->data_dir;
	argv[ac++] = "-U";
	argv[ac++] = c->superuser;
	argv[ac++] = "--auth-local=trust";
	argv[ac++] = "--auth-host=scram-sha-256";
	if (c->superuser_password[0])
	{
		int			fd;

		snprintf(pwfile, sizeof(pwfile), "/tmp/pg_ha_pwfile.XXXXXX");
		fd = mkstemp(pwfile);
		if (fd < 0 || dprintf(fd, "%s\n", c->superuser_password) < 0 || close(fd) != 0)
		{
			sup_log("bootstrap: could not write a password file: %s", strerror(errno));
			pwfile[0] = '\0';
			rc = 1;
			goto failed;
		}
		snprintf(pwopt, sizeof(pwopt), "--pwfile=%s", pwfile);
		argv[ac++] = pwopt;
	}
	argv[ac] = NULL;
	rc = run_simple("initdb", argv, NULL, NULL, true);
	if (pwfile[0])
		unlink(pwfile);
	if (rc != 0)
		goto failed;

	/* pg_hba lines of the node configuration */
	if (c->nhba > 0)
	{
		char		path[CONF_PATH_LEN + 32];
		FILE	   *f;

		pgd_path(c, "pg_hba.conf", path, sizeof(path));
		f = fopen(path, "ae");
		if (f == NULL)
		{
			sup_log("bootstrap: could not open \"%s\": %s", path, strerror(errno));
			rc = 1;
			goto failed;
		}
		fprintf(f, "\n# Added by pg_ha_supervisor from the node configuration (hba = ...):\n");
		for (int i = 0; i < c->nhba; i++)
			fprintf(f, "%s\n", c->hba[i]);
		if (fclose(f) != 0)
		{
			rc = 1;
			goto failed;
		}
		sup_log("bootstrap: appended %d hba line(s) to pg_hba.conf", c->nhba);
	}

	/* the replication user, in single-user mode (its password goes on stdin) */
	if (strcmp(c->replication_user, c->superuser) != 0)
	{
		char		sql[2048];
		char		ident[2 * CONF_NAME_LEN + 3];
		char		pw[2 * CONF_STR_LEN + 3];
		size_t		o = 0;
		const char *single[] = {prog, "--single", "-D", c->data_dir,
			"-c", "exit_on_error=on", "-c", "shared_preload_libraries=", "postgres", NULL};

		/* "ident" with "" doubled; 'password' with '' doubled */
		ident[o++] = '"';
		for (const char *p = c->replication_user; *p && o < sizeof(ident) - 3; p++)
		{
			if (*p == '"')
				ident[o++] = '"';
			ident[o++] = *p;
		}
		ident[o++] = '"';
		ident[o] = '\0';
		o = 0;
		pw[o++] = '\'';
		for (const char *p = c->replication_password; *p && o < sizeof(pw) - 3; p++)
		{
			if (*p == '\'')
				pw[o++] = '\'';
			pw[o++] = *p;
		}
		pw[o++] = '\'';
		pw[o] = '\0';
		snprintf(sql, sizeof(sql), "CREATE ROLE %s WITH REPLICATION LOGIN%s%s;\n", ident,
				 c->replication_password[0] ? " PASSWORD " : "",
				 c->replication_password[0] ? pw : "");
		bin_path(c, "postgres", prog, sizeof(prog));
		sup_log("bootstrap: creating the replication user \"%s\"", c->replication_user);
		rc = run_simple("postgres", single, NULL, sql, false);
		if (rc != 0)
			goto failed;
	}

	if (!pgd_controldata(c, &cd))
	{
		rc = 1;
		goto failed;
	}
	snprintf(sysid, sizeof(sysid), "%" PRIu64, cd.system_id);
	for (int attempt = 0;; attempt++)
	{
		int			zrc = zk_ready() ? zkc_set(zkc_paths()->initialize, sysid, (int) strlen(sysid), -1)
			: ZCONNECTIONLOSS;

		if (zrc == ZOK)
			break;
		if (attempt >= 10 || sig_stop_pending())
		{
			sup_log("bootstrap: could not record the system identifier %s in %s (%s); the next start records it",
					sysid, zkc_paths()->initialize, zerror(zrc));
			return NODE_EXIT_FAIL;
		}
		pause_ms(1000);
	}
	sup_log("bootstrap: initialized cluster \"%s\" (system identifier %s), starting as primary",
			c->scope, sysid);
	pgd_set_standby(c, false);
	if (!pg_start(c, "bootstrap: new cluster"))
		return NODE_EXIT_FAIL;
	return NODE_CONTINUE;

failed:
	if (pgd_dir_kind(c->data_dir) != DIR_MISSING && pgd_dir_kind(c->data_dir) != DIR_EMPTY)
	{
		/* made from nothing seconds ago: a half-made cluster must not start later */
		sup_log("bootstrap: removing the unfinished data directory \"%s\"", c->data_dir);
		remove_partial_clone(c);
	}
	{
		int			zrc = zk_ready() ? zkc_delete(zkc_paths()->initialize, -1) : ZCONNECTIONLOSS;

		if (zrc == ZOK || zrc == ZNONODE)
			sup_log("bootstrap: failed; deleted the initialize key so that another node can bootstrap");
		else
			sup_log("bootstrap: failed, and the initialize key %s could not be deleted (%s): delete it by hand",
					zkc_paths()->initialize, zerror(zrc));
	}
	return rc == RUN_INTERRUPTED ? NODE_EXIT_OK : NODE_EXIT_FAIL;
}

/*
 * The source of a clone: a running member tagged clonefrom, else the
 * leader.  Fills conninfo ("host=H port=P") and the leader's for
 * primary_conninfo.  Returns false while there is no usable leader.
 */
static bool
pick_clone_source(const NodeConf *c, char *src_name, size_t src_cap, char *src_ci, size_t ci_cap,
				  char *leader_name, size_t leader_cap, char *leader_ci, size_t lci_cap,
				  char *why, size_t whycap)
{
	HaMember   *members = calloc(HA_MAX_MEMBERS, sizeof(HaMember));
	HaMember	lm;
	int			n;
	bool		ok = false;

	snprintf(why, whycap, "no leader yet");
	if (members == NULL)
		return false;
	if (!current_leader(leader_name, leader_cap))
	{
		snprintf(why, whycap, "ZooKeeper is unreachable");
		goto out;
	}
	if (leader_name[0] == '\0')
		goto out;
	if (strcmp(leader_name, c->name) == 0)
	{
		snprintf(why, whycap, "the leader key names this node, whose data directory is empty: waiting for the key to expire");
		goto out;
	}
	if (zkc_member(leader_name, &lm) != ZOK || !member_conninfo(&lm, leader_ci, lci_cap))
	{
		snprintf(why, whycap, "the leader \"%s\" has no readable member entry yet", leader_name);
		goto out;
	}
	snprintf(src_name, src_cap, "%s", leader_name);
	snprintf(src_ci, ci_cap, "%s", leader_ci);
	n = zkc_members(members, HA_MAX_MEMBERS, c->name);
	for (int i = 0; i < n; i++)
	{
		char		ci[512];

		if (members[i].tags.clonefrom && strcmp(members[i].state, "running") == 0 &&
			member_conninfo(&members[i], ci, sizeof(ci)))
		{
			snprintf(src_name, src_cap, "%s", members[i].name);
			snprintf(src_ci, ci_cap, "%s", ci);
			break;
		}
	}
	ok = true;
out:
	free(members);
	return ok;
}

static NodeOutcome
bootstrap_clone(const NodeConf *c)
{
	long long	last_log = 0;
	int			wait_backoff = WAIT_BACKOFF_MIN_MS;

	sup_log("bootstrap: cluster \"%s\" is initialized by another node; this node clones from it",
			c->scope);
	for (;;)
	{
		char		src[HA_NAME_LEN],
					src_ci[512],
					leader[HA_NAME_LEN],
					leader_ci[512],
					why[256];
		int			rc;

		if (sig_stop_pending())
			return NODE_EXIT_OK;
		if (!pick_clone_source(c, src, sizeof(src), src_ci, sizeof(src_ci), leader, sizeof(leader),
							   leader_ci, sizeof(leader_ci), why, sizeof(why)))
		{
			if (now_ms() - last_log >= 10000)
			{
				sup_log("bootstrap: waiting for a leader of cluster \"%s\" to clone from (%s)",
						c->scope, why);
				last_log = now_ms();
			}
			if (!pause_ms(1000))
				return NODE_EXIT_OK;
			continue;
		}

		sup_log("bootstrap: cloning from \"%s\" (%s), leader \"%s\"", src, src_ci, leader);
		marker_set(c, MARK_CLONING, true);
		rc = run_basebackup(c, src_ci);
		if (rc != 0)
		{
			sup_log("bootstrap: removing the partial clone in \"%s\"", c->data_dir);
			remove_partial_clone(c);
			marker_set(c, MARK_CLONING, false);
			if (rc == RUN_INTERRUPTED || sig_stop_pending())
				return NODE_EXIT_OK;
			sup_log("bootstrap: clone from \"%s\" failed; retrying in %d s", src, wait_backoff / 1000);
			if (!pause_ms(wait_backoff))
				return NODE_EXIT_OK;
			wait_backoff = wait_backoff * 2 > WAIT_BACKOFF_MAX_MS ? WAIT_BACKOFF_MAX_MS : wait_backoff * 2;
			continue;
		}
		marker_set(c, MARK_CLONING, false);
		if (!configure_standby(c, leader_ci))
			return NODE_EXIT_FAIL;
		sup_log("bootstrap: cloned from \"%s\", starting as a standby of \"%s\"", src, leader);
		if (!pg_start(c, "bootstrap: new replica"))
			return NODE_EXIT_FAIL;
		return NODE_CONTINUE;
	}
}

NodeOutcome
bootstrap(const NodeConf *c)
{
	int			wait_backoff = WAIT_BACKOFF_MIN_MS;

	for (;;)
	{
		int			rc;

		if (sig_stop_pending())
			return NODE_EXIT_OK;
		if (!zkc_connect(5000))
		{
			if (sig_stop_pending())
				return NODE_EXIT_OK;
			sup_log("bootstrap: ZooKeeper (%s) is unreachable; the empty data directory needs it; retrying in %d s",
					c->zk_hosts, wait_backoff / 1000);
			if (!pause_ms(wait_backoff))
				return NODE_EXIT_OK;
			wait_backoff = wait_backoff * 2 > WAIT_BACKOFF_MAX_MS ? WAIT_BACKOFF_MAX_MS : wait_backoff * 2;
			continue;
		}
		rc = zkc_ensure_parents();
		if (rc == ZOK)
			rc = zkc_create(zkc_paths()->initialize, "", 0);
		if (rc == ZOK)
			return bootstrap_initdb(c);
		if (rc == ZNODEEXISTS)
			return bootstrap_clone(c);
		sup_log("bootstrap: could not race for %s: %s; retrying", zkc_paths()->initialize, zerror(rc));
		if (!pause_ms(1000))
			return NODE_EXIT_OK;
	}
}
