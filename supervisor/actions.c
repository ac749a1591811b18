/*-------------------------------------------------------------------------
 *
 * actions.c
 *	  The small actions the rooms share (see actions.h).
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

#include "conninfo.h"
#include "actions.h"
#include "leader_link.h"
#include "slot_name.h"
#include "addr.h"
#include "log.h"
#include "pg.h"
#include "rewind.h"
#include "run.h"
#include "zk.h"

static void
sibling_path(const NodeConf *c, const char *suffix, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s", c->data_dir, suffix);
}

bool
marker_exists(const NodeConf *c, const char *suffix)
{
	char		path[CONF_PATH_LEN + 64];

	sibling_path(c, suffix, path, sizeof(path));
	return access(path, F_OK) == 0;
}

bool
marker_set(const NodeConf *c, const char *suffix, bool on)
{
	char		path[CONF_PATH_LEN + 64];

	sibling_path(c, suffix, path, sizeof(path));
	return pgd_flag_file(path, on);
}

/* "host=H port=P" of a member's conn_url; false if it has none */
bool
member_conninfo(const HaMember *m, char *buf, size_t cap)
{
	char		host[HA_HOST_LEN];
	int			port = 0;

	addr_split_conn_url(m->conn_url, host, sizeof(host), &port);
	return conninfo_address(buf, cap, host, port);
}

void
fmt_lsn(uint64_t lsn, char *buf, size_t cap)
{
	lsn_format(lsn, buf, cap);
}

/* Waits, relaying postgres' output; false if a stop signal came. */
bool
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

bool
zk_ready(void)
{
	return zkc_connected() || zkc_connect(ZK_WAIT_MS);
}

/* The current leader's name ("" if none or unknown); false if ZooKeeper is unreachable. */
bool
current_leader(char *name, size_t cap)
{
	int			rc;

	name[0] = '\0';
	if (!zk_ready())
		return false;
	rc = zkc_leader(name, cap, NULL);
	return rc == ZOK || rc == ZNONODE;
}

/* Looks up a leader's conninfo in ZooKeeper. */
bool
leader_conninfo(const char *leader, char *ci, size_t cap)
{
	HaMember	m;

	return zk_ready() && zkc_member(leader, &m) == ZOK && member_conninfo(&m, ci, cap);
}

int
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

void
bin_path(const NodeConf *c, const char *prog, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%s", c->bin_dir, prog);
}

/* pg_basebackup from host/port into data_dir (which must be empty or missing) */
int
run_basebackup(const NodeConf *c, const char *conninfo)
{
	char		prog[CONF_PATH_LEN + 32];
	char		dsn[1024];
	char		rate[32];
	const char *argv[] = {prog, "-D", c->data_dir, "-X", "stream", "--checkpoint=fast",
	"-w", "-d", dsn, NULL, NULL};
	const char *env[2] = {pg_password_env(c->replication_password), NULL};

	snprintf(dsn, sizeof(dsn), "%s", conninfo);
	/* not application_name=<name>: its walsender must not pass for our standby */
	if (!conninfo_add(dsn, sizeof(dsn), "user", c->replication_user) ||
		!conninfo_add(dsn, sizeof(dsn), "application_name", "pg_ha_clone"))
		return RUN_FAILED_TO_START;
	if (c->basebackup_max_rate > 0)
	{
		snprintf(rate, sizeof(rate), "--max-rate=%dk", c->basebackup_max_rate);
		argv[9] = rate;
	}
	bin_path(c, "pg_basebackup", prog, sizeof(prog));
	return run_simple("pg_basebackup", argv, env[0] ? env : NULL, NULL, true);
}

/* Crash recovery of a primary that did not shut down cleanly (single-user mode). */
bool
run_crash_recovery(const NodeConf *c)
{
	char		prog[CONF_PATH_LEN + 32];
	const char *argv[] = {prog, "--single", "-F", "-D", c->data_dir,
		"-c", "shared_preload_libraries=", "-c", "archive_mode=off", "template1", NULL};

	bin_path(c, "postgres", prog, sizeof(prog));
	return run_simple("postgres", argv, NULL, "", false) == 0;
}

/* Empties a directory that holds only what we put there (a partial clone). */
void
remove_partial_clone(const NodeConf *c)
{
	struct stat st;

	if (stat(c->data_dir, &st) != 0)
		return;
	pgd_remove_tree(c->data_dir);
}

/*
 * After a clone or pg_rewind: our files, not the source's; and our slot
 * on the leader (use_slots), so that the WAL receiver need not wait for
 * the leader's agent to make it.  Without it the agent makes it soon.
 */
bool
configure_standby(const NodeConf *c, const char *leader_ci)
{
	char		slot[SLOT_NAME_LEN];
	char		err[256];

	pgd_forget_source_files(c);
	if (c->use_slots && leader_ci && leader_ci[0] &&
		slot_name_for_member(c->name, slot, sizeof(slot)) &&
		!pg_leader_ensure_slot(c, leader_ci, slot, err, sizeof(err)))
		sup_log("standby: could not make the replication slot \"%s\" on the leader (its agent makes it): %s",
				slot, err);
	return pgd_clean_auto_conf(c) && pgd_set_standby(c, true) &&
		pgd_write_runtime_conf(c, leader_ci);
}

/* Starts as a standby with no upstream: the agent decides what comes next. */
bool
start_fenced(const NodeConf *c, const char *why)
{
	if (!pgd_set_standby(c, true) || !pgd_write_runtime_conf(c, NULL))
		return false;
	return pg_start(c, why);
}
