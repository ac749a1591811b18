/*-------------------------------------------------------------------------
 *
 * node.c
 *	  The supervisor's actions on its node (see node.h and PROTOCOL.md).
 *
 * Each role-relevant step writes one log line that starts with the step:
 * "bootstrap: ...", "start: ...", "crash: ...",
 * "rejoin: ...", "handover: ...".
 *
 * Nothing here deletes data it did not make: a data directory that must
 * be replaced is moved aside (<data_dir>.pg_ha-old.<time>) and removed
 * only once the new copy runs.  Two marker files beside the data
 * directory make an interrupted clone or pg_rewind visible to the next
 * start: <data_dir>.pg_ha-cloning (the directory holds a partial clone,
 * made by us: it is removed and cloned again) and
 * <data_dir>.pg_ha-rewinding (pg_rewind did not finish: the directory is
 * moved aside and cloned again).
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

#include "addr.h"
#include "crash_policy.h"
#include "http.h"
#include "log.h"
#include "node.h"
#include "pg.h"
#include "rewind.h"
#include "run.h"
#include "zk.h"

#define HANDOVER_TIMEOUT_MS		10000
#define STOP_TIMEOUT_MS			60000
#define REJOIN_STOP_TIMEOUT_MS	5000
#define READY_TIMEOUT_MS		120000
#define ZK_WAIT_MS				3000
#define WAIT_BACKOFF_MIN_MS		1000	/* bootstrap: waiting for a leader or the lock */
#define WAIT_BACKOFF_MAX_MS		30000

NodeConf   *node_conf = NULL;

/* The node's state: changed only by node_enter() */
static struct
{
	NodeState	state;
	CrashPolicy crash;
	long long	restart_due;	/* 0: none scheduled */
	char		restart_reason[256];
}			node = {.state = NODE_PREPARING, .crash = {.backoff_ms = CRASH_BACKOFF_MIN_MS}};

const char *
node_state_name(NodeState s)
{
	switch (s)
	{
		case NODE_PREPARING:
			return "preparing";
		case NODE_RUNNING:
			return "running";
		case NODE_REJOINING:
			return "rejoining";
		case NODE_HANDING_OVER:
			return "handing over";
		case NODE_RESTART_WAIT:
			return "waiting to restart";
		case NODE_STOPPING:
			return "stopping";
		case NODE_FAILED:
			return "failed";
	}
	return "?";
}

/*
 * The one place the node's state changes, with one log line naming the
 * reason.  Stopping and failed are final: nothing leaves them.
 */
static void
node_enter(NodeState to, const char *why)
{
	NodeState	from = node.state;

	if (from == to || from == NODE_FAILED || (from == NODE_STOPPING && to != NODE_FAILED))
		return;
	node.state = to;
	sup_log("state: %s -> %s (%s)", node_state_name(from), node_state_name(to), why);
}


/* ---------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------------
 */
static void
sibling_path(const NodeConf *c, const char *suffix, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s", c->data_dir, suffix);
}

static bool
marker_exists(const NodeConf *c, const char *suffix)
{
	char		path[CONF_PATH_LEN + 64];

	sibling_path(c, suffix, path, sizeof(path));
	return access(path, F_OK) == 0;
}

static bool
marker_set(const NodeConf *c, const char *suffix, bool on)
{
	char		path[CONF_PATH_LEN + 64];

	sibling_path(c, suffix, path, sizeof(path));
	return pgd_flag_file(path, on);
}

#define MARK_CLONING	".pg_ha-cloning"
#define MARK_REWINDING	".pg_ha-rewinding"

/* "host=H port=P" of a member's conn_url; false if it has none */
static bool
member_conninfo(const HaMember *m, char *buf, size_t cap)
{
	char		host[HA_HOST_LEN];
	int			port = 0;

	addr_split_conn_url(m->conn_url, host, sizeof(host), &port);
	if (host[0] == '\0' || port <= 0)
		return false;
	buf[0] = '\0';
	return conf_conninfo_add(buf, cap, "host", host) && snprintf(buf + strlen(buf), cap - strlen(buf), " port=%d", port) > 0;
}

static void
fmt_lsn(uint64_t lsn, char *buf, size_t cap)
{
	lsn_format(lsn, buf, cap);
}

/* Waits, relaying postgres' output; false if a stop signal came. */
static bool
pause_ms(int ms)
{
	long long	end = now_ms() + ms;

	while (now_ms() < end)
	{
		if (sig_stop_pending())
			return false;
		sup_wait((int) (end - now_ms()));
	}
	return !sig_stop_pending();
}

static bool
zk_ready(void)
{
	return zkc_connected() || zkc_connect(ZK_WAIT_MS);
}

/* The current leader's name ("" if none or unknown); false if ZooKeeper is unreachable. */
static bool
current_leader(char *name, size_t cap)
{
	int			rc;

	name[0] = '\0';
	if (!zk_ready())
		return false;
	rc = zkc_leader(name, cap, NULL);
	return rc == ZOK || rc == ZNONODE;
}

/* ---------------------------------------------------------------------
 * Programs
 * ---------------------------------------------------------------------
 */
static int
run_simple(const char *label, const char *const *argv, const char *const *env,
		   const char *stdin_data, bool interruptible)
{
	RunSpec		rs;

	memset(&rs, 0, sizeof(rs));
	rs.label = label;
	rs.argv = argv;
	rs.env = env;
	rs.stdin_data = stdin_data;
	rs.interruptible = interruptible;
	return run_program(&rs);
}

static void
bin_path(const NodeConf *c, const char *prog, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%s", c->bin_dir, prog);
}

/* pg_basebackup from host/port into data_dir (which must be empty or missing) */
static int
run_basebackup(const NodeConf *c, const char *conninfo)
{
	char		prog[CONF_PATH_LEN + 32];
	char		dsn[1024];
	const char *argv[] = {prog, "-D", c->data_dir, "-X", "stream", "--checkpoint=fast",
	"-w", "-d", dsn, NULL};
	const char *env[2] = {pg_password_env(c->replication_password), NULL};

	snprintf(dsn, sizeof(dsn), "%s", conninfo);
	/* not application_name=<name>: its walsender must not pass for our standby */
	if (!conf_conninfo_add(dsn, sizeof(dsn), "user", c->replication_user) ||
		!conf_conninfo_add(dsn, sizeof(dsn), "application_name", "pg_ha_clone"))
		return RUN_FAILED_TO_START;
	bin_path(c, "pg_basebackup", prog, sizeof(prog));
	return run_simple("pg_basebackup", argv, env[0] ? env : NULL, NULL, true);
}

/* Crash recovery of a primary that did not shut down cleanly (single-user mode). */
static bool
run_crash_recovery(const NodeConf *c)
{
	char		prog[CONF_PATH_LEN + 32];
	const char *argv[] = {prog, "--single", "-F", "-D", c->data_dir,
		"-c", "shared_preload_libraries=", "-c", "archive_mode=off", "template1", NULL};

	bin_path(c, "postgres", prog, sizeof(prog));
	return run_simple("postgres", argv, NULL, "", false) == 0;
}

/* Empties a directory that holds only what we put there (a partial clone). */
static void
remove_partial_clone(const NodeConf *c)
{
	struct stat st;

	if (stat(c->data_dir, &st) != 0)
		return;
	pgd_remove_tree(c->data_dir);
}

/* ---------------------------------------------------------------------
 * Bootstrap
 * ---------------------------------------------------------------------
 */
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

/* After a clone or pg_rewind: our files, not the source's. */
static bool
configure_standby(const NodeConf *c, const char *leader_ci)
{
	pgd_forget_source_files(c);
	return pgd_clean_auto_conf(c) && pgd_set_standby(c, true) &&
		pgd_write_runtime_conf(c, leader_ci);
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

static NodeOutcome
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

/* ---------------------------------------------------------------------
 * Rejoin: rewind decision, pg_rewind, re-clone
 * ---------------------------------------------------------------------
 */

/* Moves data_dir aside, clones from the leader; restores on failure. */
static bool
reclone(const NodeConf *c, const char *leader, const char *leader_ci)
{
	char		old[CONF_PATH_LEN + 64];
	char		stamp[32];
	time_t		t = time(NULL);
	struct tm	tm;
	int			rc;
	bool		was_rewinding;

	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	snprintf(old, sizeof(old), "%s.pg_ha-old.%s", c->data_dir, stamp);
	if (rename(c->data_dir, old) != 0)
	{
		sup_log("rejoin: cannot move \"%s\" aside to \"%s\": %s; not re-cloning",
				c->data_dir, old, strerror(errno));
		return false;
	}
	was_rewinding = marker_exists(c, MARK_REWINDING);
	marker_set(c, MARK_REWINDING, false);	/* a half-rewound copy is the old one now */
	sup_log("rejoin: re-cloning from \"%s\"; the old data directory is kept as \"%s\" until the new one runs",
			leader, old);
	marker_set(c, MARK_CLONING, true);
	rc = run_basebackup(c, leader_ci);
	if (rc != 0)
	{
		remove_partial_clone(c);
		marker_set(c, MARK_CLONING, false);
		if (rename(old, c->data_dir) != 0)
			sup_log("rejoin: could not move \"%s\" back to \"%s\": %s", old, c->data_dir, strerror(errno));
		else
			sup_log("rejoin: re-clone failed; the old data directory is back in place%s",
					was_rewinding ? " (half rewound: it will not be started, only cloned again)" : "");
		marker_set(c, MARK_REWINDING, was_rewinding);
		return false;
	}
	marker_set(c, MARK_CLONING, false);
	if (!configure_standby(c, leader_ci) || !pg_start(c, "rejoin: re-cloned"))
		return false;
	if (pg_wait_ready(c, READY_TIMEOUT_MS))
	{
		if (pgd_remove_tree(old))
			sup_log("rejoin: the new copy runs; removed the old data directory \"%s\"", old);
	}
	else
		sup_log("rejoin: the new copy is not up yet; the old data directory stays in \"%s\"", old);
	return true;
}

/* End of a crashed primary's valid WAL, by pg_waldump --quiet from its last checkpoint. */
static bool
waldump_end(const NodeConf *c, const ControlData *cd, uint64_t *end)
{
	char		prog[CONF_PATH_LEN + 32];
	char		walpath[CONF_PATH_LEN + 32];
	char		start[24];
	char		tli[16];
	char	   *out = malloc(16384);
	const char *argv[] = {prog, "--quiet", "-p", walpath, "-s", start, "-t", tli, NULL};
	RunSpec		rs;
	bool		ok;

	if (out == NULL)
		return false;
	bin_path(c, "pg_waldump", prog, sizeof(prog));
	pgd_path(c, "pg_wal", walpath, sizeof(walpath));
	fmt_lsn(cd->redo, start, sizeof(start));
	snprintf(tli, sizeof(tli), "%u", cd->checkpoint_tli);
	memset(&rs, 0, sizeof(rs));
	rs.label = "pg_waldump";
	rs.argv = argv;
	rs.env = run_c_locale_env;
	rs.capture = out;
	rs.capture_cap = 16384;
	rs.capture_stderr = true;
	rs.nonzero_ok = true;
	rs.timeout_ms = 60000;
	run_program(&rs);			/* it fails by design: at the end of the WAL */
	ok = rewind_waldump_end(out, end) && *end > cd->checkpoint;
	free(out);
	return ok;
}

/* Our position for the decision; runs crash recovery when a primary crashed. */
static bool
local_position(const NodeConf *c, ControlData *cd, uint32_t *tli, uint64_t *end)
{
	char		why[160];

	if (!pgd_controldata(c, cd))
		return false;
	if (rewind_local_position(cd, tli, end, why, sizeof(why)))
		return true;
	if (pgd_is_standby(c))
	{
		sup_log("rejoin: %s", why);
		return false;
	}
	/* where its valid WAL ends, read without writing any (crash recovery would add a checkpoint) */
	if (waldump_end(c, cd, end))
	{
		char		a[24];

		*tli = cd->checkpoint_tli;
		fmt_lsn(*end, a, sizeof(a));
		sup_log("rejoin: %s; its WAL ends at %s (pg_waldump)", why, a);
		return true;
	}
	sup_log("rejoin: %s: running crash recovery in single-user mode first", why);
	if (!pg_wait_shmem_free(c, 10000) || !run_crash_recovery(c) || !pgd_controldata(c, cd))
		return false;
	if (!rewind_local_position(cd, tli, end, why, sizeof(why)))
	{
		sup_log("rejoin: after crash recovery: %s", why);
		return false;
	}
	return true;
}

/*
 * Makes this node a standby of leader (whose postgres listens at
 * leader_ci, "host=H port=P").  Postgres must be stopped.  Returns false
 * when postgres could not be started at all.
 */
static bool
rejoin_steps(const NodeConf *c, const char *leader, const char *leader_ci)
{
	ControlData cd;
	uint32_t	tli = 0;
	uint64_t	end = 0;
	LeaderInfo *li = calloc(1, sizeof(LeaderInfo));
	char		err[512];
	char		why[256];
	char		a[24];
	bool		have_pos;
	bool		have_leader = false;
	RewindDecision d = REWIND_NOT_NEEDED;
	long long	deadline = now_ms() + 30000;
	bool		logged = false;

	if (li == NULL)
		return false;
	pg_wait_shmem_free(c, 10000);
	have_pos = local_position(c, &cd, &tli, &end);

	/* the leader, once its promotion finished */
	while (now_ms() < deadline && !sig_stop_pending())
	{
		if (pg_leader_info(c, leader_ci, li, err, sizeof(err)) && !li->in_recovery)
		{
			have_leader = true;
			break;
		}
		if (!logged)
		{
			sup_log("rejoin: waiting for \"%s\" (%s): %s", leader, leader_ci,
					li->in_recovery ? "it is still a standby (promoting)" : err);
			logged = true;
		}
		sup_wait(500);
	}

	if (have_leader && have_pos && li->system_id != cd.system_id)
	{
		sup_log("rejoin: refusing: \"%s\" has system identifier %" PRIu64 ", this data directory %" PRIu64 "; nothing was changed",
				leader, li->system_id, cd.system_id);
		free(li);
		node_enter(NODE_FAILED, "the leader belongs to another cluster");
		return false;
	}
	if (!have_leader || !have_pos)
	{
		sup_log("rejoin: cannot check whether a rewind is needed (%s); starting as a standby of \"%s\" anyway (postgres refuses a timeline it cannot follow)",
				!have_pos ? "our WAL position is unknown" : "the leader did not answer", leader);
		d = REWIND_NOT_NEEDED;
	}
	else
	{
		d = rewind_decide(li->history, li->timeline, li->xlogpos, tli, end, why, sizeof(why));
		fmt_lsn(end, a, sizeof(a));
		if (d == REWIND_NOT_NEEDED)
			sup_log("rejoin: following \"%s\", no rewind needed (%s)", leader, why);
		else
			sup_log("rejoin: %s to follow \"%s\" (%s)", rewind_decision_name(d), leader, why);
	}
	free(li);

	if (d == REWIND_NEEDED && !c->use_pg_rewind)
	{
		sup_log("rejoin: use_pg_rewind is off: re-cloning instead");
		d = REWIND_RECLONE;
	}
	if (d == REWIND_NEEDED)
	{
		char		prog[CONF_PATH_LEN + 32];
		char		src[1024];
		char		target[CONF_PATH_LEN + 32];
		const char *argv[] = {prog, target, src, NULL};
		const char *env[2] = {pg_password_env(c->superuser_password), NULL};
		int			rc;

		/* pg_rewind reads the source's timeline from its control file */
		if (!pg_leader_checkpoint(c, leader_ci, err, sizeof(err)))
			sup_log("rejoin: could not run CHECKPOINT on \"%s\": %s", leader, err);
		bin_path(c, "pg_rewind", prog, sizeof(prog));
		snprintf(target, sizeof(target), "--target-pgdata=%s", c->data_dir);
		snprintf(src, sizeof(src), "--source-server=%s", leader_ci);
		if (!conf_conninfo_add(src, sizeof(src), "user", c->superuser) ||
			!conf_conninfo_add(src, sizeof(src), "dbname", "postgres") ||
			!conf_conninfo_add(src, sizeof(src), "connect_timeout", "10"))
			return false;
		marker_set(c, MARK_REWINDING, true);
		rc = run_simple("pg_rewind", argv, env[0] ? env : NULL, NULL, false);
		if (rc == 0)
		{
			marker_set(c, MARK_REWINDING, false);
			sup_log("rejoin: pg_rewind done, following \"%s\"", leader);
		}
		else
		{
			sup_log("rejoin: pg_rewind failed: re-cloning");
			d = REWIND_RECLONE;
		}
	}
	if (d == REWIND_RECLONE)
	{
		if (reclone(c, leader, leader_ci))
			return true;
		/* the old copy is back: run it as a standby; it may not be able to follow */
	}

	if (!configure_standby(c, leader_ci))
		return false;
	return pg_start(c, "rejoin");
}

/* rejoin_steps() as a state: rejoining, then running once postgres started */
static bool
rejoin_stopped(const NodeConf *c, const char *leader, const char *leader_ci)
{
	char		why[HA_NAME_LEN + 32];
	bool		ok;

	snprintf(why, sizeof(why), "following \"%s\"", leader);
	node_enter(NODE_REJOINING, why);
	ok = rejoin_steps(c, leader, leader_ci);
	if (ok)
		node_enter(NODE_RUNNING, why);
	return ok;
}

/*
 * Stops postgres if it runs, then rejoins.  A fast shutdown waits for
 * walsenders to hand their WAL to standbys, which a cut network stalls for
 * wal_sender_timeout; a node that another one replaces need not wait for
 * that (its write gate is closed already): after 5 s, an immediate
 * shutdown (pg_rewind runs crash recovery first when it must).
 */
static bool
rejoin(const NodeConf *c, const char *leader, const char *leader_ci, const char *reason)
{
	sup_log("rejoin: becoming a standby of \"%s\" (%s)", leader, reason);
	if (pg_running())
		pg_stop(SIGINT, REJOIN_STOP_TIMEOUT_MS, "rejoin");
	return rejoin_stopped(c, leader, leader_ci);
}

/* Looks up a leader's conninfo in ZooKeeper. */
static bool
leader_conninfo(const char *leader, char *ci, size_t cap)
{
	HaMember	m;

	return zk_ready() && zkc_member(leader, &m) == ZOK && member_conninfo(&m, ci, cap);
}

/* Starts as a standby with no upstream: the agent decides what comes next. */
static bool
start_fenced(const NodeConf *c, const char *why)
{
	if (!pgd_set_standby(c, true) || !pgd_write_runtime_conf(c, NULL))
		return false;
	return pg_start(c, why);
}

/* ---------------------------------------------------------------------
 * Start with data
 * ---------------------------------------------------------------------
 */
static NodeOutcome
start_existing(const NodeConf *c)
{
	ControlData cd;
	bool		standby = pgd_is_standby(c);
	pid_t		foreign = pg_foreign_postmaster(c);

	if (foreign > 0)
	{
		sup_log("start: postgres (pid %d) already runs on \"%s\" without this supervisor; stop it first",
				(int) foreign, c->data_dir);
		return NODE_EXIT_FAIL;
	}
	if (!pgd_controldata(c, &cd))
	{
		sup_log("start: cannot read the control data of \"%s\"; not touching it", c->data_dir);
		return NODE_EXIT_FAIL;
	}
	if (zkc_connect(ZK_WAIT_MS))
	{
		char		buf[64];
		struct Stat st;
		int			len = 0;
		int			rc = zkc_get(zkc_paths()->initialize, buf, sizeof(buf), &len, &st);
		char		leader[HA_NAME_LEN] = "";

		if (rc == ZOK && len > 0)
		{
			uint64_t	cluster = strtoull(buf, NULL, 10);

			if (cluster != cd.system_id)
			{
				sup_log("start: refusing: \"%s\" belongs to another cluster: its system identifier is %" PRIu64 ", cluster \"%s\" has %s (in %s); nothing was changed",
						c->data_dir, cd.system_id, c->scope, buf, zkc_paths()->initialize);
				return NODE_EXIT_FAIL;
			}
		}
		zkc_leader(leader, sizeof(leader), NULL);
		if (rc == ZOK && len == 0 && !standby && leader[0] == '\0')
		{
			char		sysid[32];

			/* the bootstrapping node stopped before it recorded the identifier */
			snprintf(sysid, sizeof(sysid), "%" PRIu64, cd.system_id);
			if (zkc_set(zkc_paths()->initialize, sysid, (int) strlen(sysid), st.version) == ZOK)
				sup_log("start: recorded system identifier %s in %s", sysid, zkc_paths()->initialize);
		}
		if (!standby && leader[0] && strcmp(leader, c->name) != 0)
		{
			char		ci[512];

			/* never run a second primary, even for a moment */
			if (leader_conninfo(leader, ci, sizeof(ci)))
			{
				sup_log("start: the data directory says primary, but \"%s\" leads cluster \"%s\": rejoining as its standby",
						leader, c->scope);
				return rejoin_stopped(c, leader, ci) ? NODE_CONTINUE : NODE_EXIT_FAIL;
			}
			sup_log("start: the data directory says primary, but \"%s\" leads cluster \"%s\": starting as a standby with no upstream",
					leader, c->scope);
			return start_fenced(c, "start: another node leads") ? NODE_CONTINUE : NODE_EXIT_FAIL;
		}
	}
	else
	{
		if (sig_stop_pending())
			return NODE_EXIT_OK;
		sup_log("start: ZooKeeper (%s) is unreachable; starting postgres as its data says", c->zk_hosts);
	}
	if (standby)
		pgd_clean_auto_conf(c);
	return pg_start(c, standby ? "start: standby.signal present" : "start: no standby.signal")
		? NODE_CONTINUE : NODE_EXIT_FAIL;
}

static NodeOutcome
prepare(const NodeConf *c)
{
	DirKind		k;

	if (marker_exists(c, MARK_CLONING))
	{
		sup_log("start: a clone into \"%s\" did not finish; removing it and starting over", c->data_dir);
		remove_partial_clone(c);
		marker_set(c, MARK_CLONING, false);
	}
	k = pgd_dir_kind(c->data_dir);
	if (k == DIR_DATA && marker_exists(c, MARK_REWINDING))
	{
		char		leader[HA_NAME_LEN];
		char		ci[512];

		sup_log("start: pg_rewind of \"%s\" did not finish; the directory must be cloned again",
				c->data_dir);
		for (;;)
		{
			if (current_leader(leader, sizeof(leader)) && leader[0] && strcmp(leader, c->name) != 0 &&
				leader_conninfo(leader, ci, sizeof(ci)))
				return reclone(c, leader, ci) ? NODE_CONTINUE : NODE_EXIT_FAIL;
			sup_log("start: waiting for a leader to clone from");
			if (!pause_ms(5000))
				return NODE_EXIT_OK;
		}
	}
	switch (k)
	{
		case DIR_MISSING:
		case DIR_EMPTY:
			return bootstrap(c);
		case DIR_DATA:
			return start_existing(c);
		case DIR_OTHER:
			sup_log("start: \"%s\" is neither empty nor a PostgreSQL data directory; refusing to touch it",
					c->data_dir);
			return NODE_EXIT_FAIL;
		case DIR_ERROR:
			sup_log("start: cannot read \"%s\": %s", c->data_dir, strerror(errno));
			return NODE_EXIT_FAIL;
	}
	return NODE_EXIT_FAIL;
}

NodeOutcome
node_prepare(void)
{
	const NodeConf *c = node_conf;
	NodeOutcome o = prepare(c);

	if (o == NODE_EXIT_FAIL)
		node_enter(NODE_FAILED, "could not bring the node up");
	else if (o == NODE_CONTINUE && node.state == NODE_FAILED)
		o = NODE_EXIT_FAIL;
	return o;
}

int
node_exit_code(NodeOutcome o)
{
	return o == NODE_EXIT_FAIL ? SUP_EXIT_FAIL : SUP_EXIT_OK;
}

/* ---------------------------------------------------------------------
 * Graceful hand-over
 * ---------------------------------------------------------------------
 */

/*
 * Synchronous mode: only the confirmed synchronous standby named in /sync
 * may take over.  A replica that confirmed the shutdown checkpoint has every
 * WAL record this primary wrote, so it is safe to name it there when /sync
 * names no confirmed standby yet (one that joined a moment ago).
 * The write is conditional on the version read, so it never overwrites
 * what a new leader wrote meanwhile.
 */
static void
handover_name_sync_standby(const NodeConf *c, const char *standby)
{
	char		buf[3 * HA_NAME_LEN + 8];
	char		now_leader[HA_NAME_LEN] = "",
				now_standby[HA_NAME_LEN] = "",
				now_confirmed[4] = "";
	int			len = 0;
	struct Stat st;
	int			rc;

	if (!c->synchronous_mode)
		return;
	rc = zkc_get(zkc_paths()->sync, buf, sizeof(buf) - 1, &len, &st);
	if (rc == ZOK)
	{
		buf[len < 0 ? 0 : len] = '\0';
		/* a confirmed synchronous standby (this one or another) has every
		 * acknowledged commit: it stays the one that takes over */
		if (sscanf(buf, "%63s %63s %3s", now_leader, now_standby, now_confirmed) == 3 &&
			strcmp(now_standby, "-") != 0 && strcmp(now_confirmed, "1") == 0)
			return;
	}
	snprintf(buf, sizeof(buf), "%s %s 1", c->name, standby);
	if (rc == ZOK)
		rc = zkc_set(zkc_paths()->sync, buf, (int) strlen(buf), st.version);
	else if (rc == ZNONODE)
		rc = zkc_create(zkc_paths()->sync, buf, (int) strlen(buf));
	if (rc == ZOK)
		sup_log("handover: named %s the confirmed synchronous standby (it has all our WAL)", standby);
	else
		sup_log("handover: could not name %s the synchronous standby (%s); it may wait for ttl",
				standby, zerror(rc));
}

/*
 * Steps 1-4 of PROTOCOL.md's hand-over: stop, read the shutdown
 * checkpoint, wait for a replica to confirm it (target_api_url, or every
 * running replica member when NULL), release the leader key if it still
 * names us.  Returns whether a replica confirmed.
 */
static bool
handover_release(const NodeConf *c, const char *target_name, const char *target_api_url)
{
	HaMember   *members = calloc(HA_MAX_MEMBERS, sizeof(HaMember));
	int			n = 0;
	ControlData cd = {0};
	uint64_t	end;
	char		lsn[24];
	char		confirmed_by[HA_NAME_LEN] = "";
	uint64_t	confirmed_at = 0;
	char		last_answer[HA_NAME_LEN + 64] = "none asked";	/* for the log */
	long long	deadline;
	char	   *body = malloc(16384);

	if (members == NULL || body == NULL)
	{
		free(members);
		free(body);
		return false;
	}
	if (target_api_url == NULL && zk_ready())
		n = zkc_members(members, HA_MAX_MEMBERS, c->name);

	if (pg_running())
		pg_stop(SIGINT, STOP_TIMEOUT_MS, "handover");
	if (!pgd_controldata(c, &cd) || strcmp(cd.state, "shut down") != 0)
	{
		sup_log("handover: postgres is not a cleanly stopped primary (state \"%s\"); leaving the leader key to expire",
				cd.state);
		free(members);
		free(body);
		return false;
	}
	end = rewind_checkpoint_end(cd.checkpoint, cd.seg_size);
	fmt_lsn(end, lsn, sizeof(lsn));
	if (target_api_url == NULL)
	{
		bool		any = false;

		for (int i = 0; i < n; i++)
			if (strcmp(members[i].role, "replica") == 0)
				any = true;
		if (!any)
		{
			sup_log("handover: shut down at %s; no replica is registered, so nobody can take over: leaving the leader key to expire",
					lsn);
			free(members);
			free(body);
			return false;
		}
	}
	sup_log("handover: shut down at %s; waiting up to %d s for %s to confirm it",
			lsn, HANDOVER_TIMEOUT_MS / 1000, target_name ? target_name : "a replica");

	deadline = now_ms() + HANDOVER_TIMEOUT_MS;
	while (confirmed_by[0] == '\0' && now_ms() < deadline)
	{
		long long	round = now_ms();
		int			count = target_api_url ? 1 : n;

		for (int i = 0; i < count && confirmed_by[0] == '\0'; i++)
		{
			const char *url = target_api_url ? target_api_url : members[i].api_url;
			const char *name = target_api_url ? target_name : members[i].name;
			size_t		len = 0;
			uint64_t	got = 0;
			long long	left = deadline - now_ms();
			int			status;

			if (!target_api_url && (strcmp(members[i].role, "replica") != 0 ||
									strcmp(members[i].state, "running") != 0))
				continue;
			if (left <= 0)
				break;
			status = http_get(url, left < 1000 ? (int) left : 1000, body, 16384, &len);
			if (status == 200 && patroni_received_location(body, len, &got))
			{
				char		at[24];

				fmt_lsn(got, at, sizeof(at));
				snprintf(last_answer, sizeof(last_answer), "%s had received %s", name, at);
				if (got >= end)
				{
					snprintf(confirmed_by, sizeof(confirmed_by), "%s", name);
					confirmed_at = got;
				}
			}
			else
				snprintf(last_answer, sizeof(last_answer), "%s answered %d%s", name, status,
						 status == 200 ? " without received_location" : "");
		}
		if (confirmed_by[0] == '\0')
		{
			long long	spent = now_ms() - round;

			sup_wait(spent < 50 ? (int) (50 - spent) : 1);
			/* a replica that registers meanwhile counts too */
			if (!target_api_url && now_ms() - round > 1000 && zkc_connected())
				n = zkc_members(members, HA_MAX_MEMBERS, c->name);
		}
	}
	free(members);
	free(body);

	if (confirmed_by[0] == '\0')
	{
		sup_log("handover: no replica confirmed %s within %d s (last: %s); leaving the leader key to expire after ttl (%d s)",
				lsn, HANDOVER_TIMEOUT_MS / 1000, last_answer, c->ttl);
		return false;
	}
	{
		char		got[24];
		char		leader[HA_NAME_LEN];
		struct Stat st;
		int			rc = zk_ready() ? zkc_leader(leader, sizeof(leader), &st) : ZCONNECTIONLOSS;

		fmt_lsn(confirmed_at, got, sizeof(got));
		if (rc == ZOK && strcmp(leader, c->name) == 0)
		{
			handover_name_sync_standby(c, confirmed_by);
			rc = zkc_delete(zkc_paths()->leader, st.version);
			if (rc == ZOK)
				sup_log("handover: %s confirmed %s, releasing the leader key", confirmed_by, got);
			else
				sup_log("handover: %s confirmed %s, but deleting the leader key failed (%s); it expires after ttl",
						confirmed_by, got, zerror(rc));
		}
		else if (rc == ZOK || rc == ZNONODE)
			sup_log("handover: %s confirmed %s; the leader key is %s%s%s, nothing to release",
					confirmed_by, got, rc == ZNONODE ? "gone" : "held by \"",
					rc == ZNONODE ? "" : leader, rc == ZNONODE ? "" : "\"");
		else
			sup_log("handover: %s confirmed %s, but ZooKeeper is unreachable (%s); the key expires after ttl",
					confirmed_by, got, zerror(rc));
	}
	return true;
}

void
node_shutdown_graceful(void)
{
	const NodeConf *c = node_conf;
	char		leader[HA_NAME_LEN] = "";

	node_enter(NODE_STOPPING, "shutdown");
	if (!pg_running())
	{
		sup_log("shutdown: postgres is not running; exiting");
		return;
	}
	if (!current_leader(leader, sizeof(leader)))
	{
		sup_log("shutdown: ZooKeeper is unreachable, cannot tell whether this node leads: fast shutdown");
		pg_stop(SIGINT, STOP_TIMEOUT_MS, "SIGTERM");
		return;
	}
	if (strcmp(leader, c->name) != 0)
	{
		pg_stop(SIGINT, STOP_TIMEOUT_MS, "SIGTERM, not the leader");
		return;
	}
	sup_log("handover: SIGTERM on the leader: handing over");
	handover_release(c, NULL, NULL);
}

void
node_shutdown(int sig)
{
	node_enter(NODE_STOPPING, "shutdown");
	if (pg_running())
		pg_stop(sig, sig == SIGQUIT ? 10000 : STOP_TIMEOUT_MS, sig == SIGQUIT ? "SIGQUIT" : "SIGINT");
}

/* ---------------------------------------------------------------------
 * Requests
 * ---------------------------------------------------------------------
 */

/* After a hand-over whose replica did not confirm: find who leads now. */
static void
after_unconfirmed_handover(const NodeConf *c)
{
	long long	deadline = now_ms() + (long long) (c->ttl + 2) * 1000;
	char		leader[HA_NAME_LEN];
	char		ci[512];

	while (now_ms() < deadline && !sig_stop_pending())
	{
		if (current_leader(leader, sizeof(leader)) && leader[0] && strcmp(leader, c->name) != 0 &&
			leader_conninfo(leader, ci, sizeof(ci)))
		{
			rejoin_stopped(c, leader, ci);
			return;
		}
		sup_wait(250);
	}
	if (!sig_stop_pending())
		start_fenced(c, "handover: no new leader yet");
}

static void
do_request(const NodeConf *c, const Request *r)
{
	switch (r->action)
	{
		case REQ_NONE:
			break;
		case REQ_REJOIN:
			rejoin(c, r->leader, r->conninfo, r->reason[0] ? r->reason : "requested by the agent");
			break;
		case REQ_HANDOVER:
			node_enter(NODE_HANDING_OVER, "requested by the agent");
			sup_log("handover: to \"%s\" (%s)", r->leader, r->reason[0] ? r->reason : "requested");
			if (handover_release(c, r->leader, r->api_url))
			{
				sup_log("handover: starting as a standby of \"%s\" (no rewind needed)", r->leader);
				if (configure_standby(c, r->conninfo))
					pg_start(c, "handover");
			}
			else
				after_unconfirmed_handover(c);
			break;
	}
}

bool
node_check_request(void)
{
	const NodeConf *c = node_conf;
	char		path[CONF_PATH_LEN + 32];
	size_t		len = 0;
	char	   *text;
	Request		r;
	char		err[256];

	pgd_path(c, "pg_ha.request", path, sizeof(path));
	text = pgd_read_file(path, &len);
	if (text == NULL)
		return false;
	unlink(path);
	if (!request_parse(text, len, &r, err, sizeof(err)))
	{
		sup_log("request: ignoring an invalid pg_ha.request: %s", err);
		free(text);
		return true;
	}
	free(text);
	sup_log("request: %s%s%s%s%s", request_action_name(r.action),
			r.leader[0] ? " leader=" : "", r.leader,
			r.reason[0] ? ", reason: " : "", r.reason);
	if (node.state == NODE_STOPPING || node.state == NODE_FAILED)
	{
		sup_log("request: ignored, the supervisor is stopping");
		return true;
	}
	do_request(c, &r);
	return true;
}

/* ---------------------------------------------------------------------
 * Crashes
 * ---------------------------------------------------------------------
 */
/* One more restart; false (logged) when the policy gives up. */
static bool
count_restart(void)
{
	if (!crash_policy_count(&node.crash, now_ms()))
	{
		sup_log("crash: postgres was restarted %d times in %d minutes; giving up",
				CRASH_RESTART_LIMIT, CRASH_RESTART_WINDOW_MS / 60000);
		node_enter(NODE_FAILED, "too many restarts");
		return false;
	}
	return true;
}

static void
schedule_restart(const char *reason)
{
	int			delay = crash_policy_next_delay(&node.crash);

	node_enter(NODE_RESTART_WAIT, reason);
	snprintf(node.restart_reason, sizeof(node.restart_reason), "%s", reason);
	node.restart_due = now_ms() + delay;
	sup_log("crash: restarting postgres in place in %d s (%s)", delay / 1000, reason);
	if (node.crash.nrestarts > 0)
		sup_log("crash: %d restart(s) in the last %d minutes (the limit is %d)", node.crash.nrestarts,
				CRASH_RESTART_WINDOW_MS / 60000, CRASH_RESTART_LIMIT);
}

/*
 * The primary crashed and primary_start_timeout is 0: its agent closed its
 * session, so a replica may take over.  Wait up to ttl + 2 s for a new
 * leader; true if we rejoined it.
 */
static bool
primary_crash_failover(const NodeConf *c)
{
	long long	deadline = now_ms() + (long long) (c->ttl + 2) * 1000;
	bool		candidates_checked = false;

	sup_log("crash: the primary's postgres died; waiting up to %d s for a new leader", c->ttl + 2);
	while (now_ms() < deadline && !sig_stop_pending())
	{
		char		leader[HA_NAME_LEN];
		char		ci[512];

		if (current_leader(leader, sizeof(leader)))
		{
			if (leader[0] && strcmp(leader, c->name) != 0 && leader_conninfo(leader, ci, sizeof(ci)))
			{
				sup_log("crash: \"%s\" leads now; rejoining it", leader);
				rejoin_stopped(c, leader, ci);
				return true;
			}
			if (!candidates_checked)
			{
				HaMember   *m = calloc(HA_MAX_MEMBERS, sizeof(HaMember));
				int			n = m ? zkc_members(m, HA_MAX_MEMBERS, c->name) : -1;
				bool		any = false;

				for (int i = 0; i < n; i++)
					if (strcmp(m[i].role, "replica") == 0 && !m[i].tags.nofailover)
						any = true;
				free(m);
				candidates_checked = n >= 0;
				if (n >= 0 && !any)
				{
					sup_log("crash: no replica can take over");
					return false;
				}
			}
		}
		sup_wait(200);
	}
	return false;
}

NodeOutcome
node_postgres_exited(int status)
{
	const NodeConf *c = node_conf;
	char		desc[64];
	bool		standby;

	run_describe_status(status, desc, sizeof(desc));
	if (node.state == NODE_STOPPING)
		return NODE_CONTINUE;
	sup_log("postgres: exited (%s)", desc);

	/* a request explains it? (a clean exit may come just before the request) */
	if (node_check_request())
		return NODE_CONTINUE;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
	{
		long long	until = now_ms() + 1000;

		while (now_ms() < until && !sig_stop_pending())
		{
			sup_wait(100);
			if (node_check_request())
				return NODE_CONTINUE;
		}
	}
	if (sig_stop_pending())
		return NODE_CONTINUE;

	if (!count_restart())
		return NODE_EXIT_FAIL;
	standby = pgd_is_standby(c);
	if (!standby && c->primary_start_timeout == 0)
	{
		if (primary_crash_failover(c))
			return node.state == NODE_FAILED ? NODE_EXIT_FAIL : NODE_CONTINUE;
		if (sig_stop_pending())
			return NODE_CONTINUE;
	}
	{
		char		reason[128];

		snprintf(reason, sizeof(reason), "crash restart: postgres ended with %s", desc);
		schedule_restart(reason);
	}
	return NODE_CONTINUE;
}

NodeOutcome
node_tick(void)
{
	const NodeConf *c = node_conf;

	if (node.state == NODE_FAILED)
		return NODE_EXIT_FAIL;	/* a refusal above, while carrying out a request */
	if (pg_running())
		node_enter(NODE_RUNNING, "postgres runs");
	if (pg_running())
		crash_policy_running(&node.crash, pg_started_at(), now_ms());
	if (!pg_running() && node.restart_due == 0 && node.state != NODE_STOPPING)
	{
		/* an action above could not start postgres: try again, with back-off */
		if (!count_restart())
			return NODE_EXIT_FAIL;
		schedule_restart("postgres is not running");
	}
	if (!pg_running() && node.restart_due && now_ms() >= node.restart_due && node.state != NODE_STOPPING)
	{
		node.restart_due = 0;
		if (marker_exists(c, MARK_REWINDING))
		{
			char		leader[HA_NAME_LEN];
			char		ci[512];

			if (current_leader(leader, sizeof(leader)) && leader[0] && strcmp(leader, c->name) != 0 &&
				leader_conninfo(leader, ci, sizeof(ci)) && reclone(c, leader, ci))
				return NODE_CONTINUE;
			if (!count_restart())
				return NODE_EXIT_FAIL;
			schedule_restart("the half-rewound data directory must be cloned again");
			return NODE_CONTINUE;
		}
		pg_wait_shmem_free(c, 10000);
		if (!pg_start(c, node.restart_reason))
		{
			if (!count_restart())
				return NODE_EXIT_FAIL;
			schedule_restart("postgres could not be started");
		}
	}
	return NODE_CONTINUE;
}
