/*-------------------------------------------------------------------------
 *
 * rejoin.c
 *	  Rejoin (see rejoin.h and PROTOCOL.md).
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
#include "conninfo.h"
#include "log.h"
#include "pg.h"
#include "rejoin.h"
#include "rewind.h"
#include "run.h"
#include "zk.h"

#define READY_TIMEOUT_MS		120000

/*
 * Moves data_dir aside, clones from the leader; restores on failure.  step
 * starts the log lines ("rejoin", "reinit").
 */
bool
reclone_as(const NodeConf *c, const char *step, const char *leader, const char *leader_ci)
{
	char		old[CONF_PATH_LEN + 64];
	char		stamp[32];
	time_t		t = time(NULL);
	struct tm	tm;
	int			rc;
	bool		was_rewinding;
	char		started_why[64];

	snprintf(started_why, sizeof(started_why), "%s: re-cloned", step);
	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	snprintf(old, sizeof(old), "%s.pg_ha-old.%s", c->data_dir, stamp);
	if (rename(c->data_dir, old) != 0)
	{
		sup_log("%s: cannot move \"%s\" aside to \"%s\": %s; not re-cloning",
				step, c->data_dir, old, strerror(errno));
		return false;
	}
	was_rewinding = marker_exists(c, MARK_REWINDING);
	marker_set(c, MARK_REWINDING, false);	/* a half-rewound copy is the old one now */
	sup_log("%s: re-cloning from \"%s\"; the old data directory is kept as \"%s\" until the new one runs",
			step, leader, old);
	marker_set(c, MARK_CLONING, true);
	rc = run_basebackup(c, leader_ci);
	if (rc != 0)
	{
		remove_partial_clone(c);
		marker_set(c, MARK_CLONING, false);
		if (rename(old, c->data_dir) != 0)
			sup_log("%s: could not move \"%s\" back to \"%s\": %s", step, old, c->data_dir, strerror(errno));
		else
			sup_log("%s: re-clone failed; the old data directory is back in place%s",
					step, was_rewinding ? " (half rewound: it will not be started, only cloned again)" : "");
		marker_set(c, MARK_REWINDING, was_rewinding);
		return false;
	}
	marker_set(c, MARK_CLONING, false);
	if (!configure_standby(c, leader_ci) || !pg_start(c, started_why))
		return false;
	if (pg_wait_ready(c, READY_TIMEOUT_MS))
	{
		if (pgd_remove_tree(old))
			sup_log("%s: the new copy runs; removed the old data directory \"%s\"", step, old);
	}
	else
		sup_log("%s: the new copy is not up yet; the old data directory stays in \"%s\"", step, old);
	return true;
}

bool
reclone(const NodeConf *c, const char *leader, const char *leader_ci)
{
	return reclone_as(c, "rejoin", leader, leader_ci);
}

/*
 * The agent asked for a re-clone (POST /reinitialize, ha_reinitialize()):
 * postgres is stopped.  A failed clone leaves the old directory in place,
 * and it starts again as it ran before (a standby).
 */
bool
reinit_steps(const NodeConf *c, const char *leader, const char *leader_ci)
{
	if (strcmp(leader, c->name) == 0)
	{
		sup_log("reinit: refusing: the request names this node (\"%s\") as the leader to clone from; starting it again unchanged",
				leader);
		return pg_start(c, "reinit: refused");
	}
	pg_wait_shmem_free(c, 10000);
	if (reclone_as(c, "reinit", leader, leader_ci))
		return true;
	sup_log("reinit: FAILED: could not re-clone from \"%s\" (%s); nothing was lost: the old data directory starts again as it ran before",
			leader, leader_ci);
	/* as it ran: its own standby settings (the agent points them at the leader) */
	if (!pgd_is_standby(c) && !configure_standby(c, leader_ci))
		return false;
	return pg_start(c, "reinit: failed, the old data directory");
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
 * leader_ci, "host=H port=P").  Postgres must be stopped.  Returns
 * REJOIN_REFUSED (nothing changed) when the leader has another system
 * identifier, REJOIN_NOT_STARTED when postgres could not be started.
 */
RejoinResult
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
		return REJOIN_NOT_STARTED;
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
		return REJOIN_REFUSED;
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

	if (rewind_method(d, c->use_pg_rewind) != d)
	{
		sup_log("rejoin: use_pg_rewind is off: re-cloning instead");
		d = rewind_method(d, c->use_pg_rewind);
	}
	if (d == REWIND_NEEDED)
	{
		char		prog[CONF_PATH_LEN + 32];
		char		src[1024];
		char		target[CONF_PATH_LEN + 32];
		const char *argv[] = {prog, target, src, NULL, NULL};
		const char *env[2] = {pg_password_env(c->superuser_password), NULL};
		const ConfParam *restore = conf_pg_param(c, "restore_command");
		int			rc;

		/* pg_rewind reads the source's timeline from its control file */
		if (!pg_leader_checkpoint(c, leader_ci, err, sizeof(err)))
			sup_log("rejoin: could not run CHECKPOINT on \"%s\": %s", leader, err);
		bin_path(c, "pg_rewind", prog, sizeof(prog));
		snprintf(target, sizeof(target), "--target-pgdata=%s", c->data_dir);
		snprintf(src, sizeof(src), "--source-server=%s", leader_ci);
		if (!conninfo_add(src, sizeof(src), "user", c->superuser) ||
			!conninfo_add(src, sizeof(src), "dbname", "postgres") ||
			!conninfo_add(src, sizeof(src), "connect_timeout", "10"))
			return REJOIN_NOT_STARTED;
		/* WAL the old primary recycled since the fork comes from the archive */
		if (restore && restore->value[0])
			argv[3] = "--restore-target-wal";
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
			return REJOIN_STARTED;
		/* the old copy is back: run it as a standby; it may not be able to follow */
	}

	if (!configure_standby(c, leader_ci))
		return REJOIN_NOT_STARTED;
	return pg_start(c, "rejoin") ? REJOIN_STARTED : REJOIN_NOT_STARTED;
}
