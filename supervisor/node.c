/*-------------------------------------------------------------------------
 *
 * node.c
 *	  The supervisor's actions on its node (see node.h and PROTOCOL.md):
 *	  the node's state (node_enter() is the one place it changes), the
 *	  first start, requests from the agent, shutdown, and what a crash of
 *	  postgres leads to.  The rooms below it: bootstrap.c, rejoin.c,
 *	  handover.c, crash_policy.c (pure), actions.c (shared small steps).
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

#include "actions.h"
#include "bootstrap.h"
#include "callbacks.h"
#include "crash_policy.h"
#include "handover.h"
#include "log.h"
#include "node.h"
#include "pg.h"
#include "rejoin.h"
#include "replies.h"
#include "run.h"
#include "zk.h"

#define REJOIN_STOP_TIMEOUT_MS	5000
#define RESTART_READY_TIMEOUT_S 60	/* a requested restart's default bound */

NodeConf   *node_conf = NULL;

/* What the supervisor keeps about its node; the state changes only in node_enter() */
static struct
{
	NodeState	state;
	CrashPolicy crash;
	long long	restart_due;	/* 0: none scheduled */
	char		restart_reason[256];
	char		crash_desc[64]; /* how postgres ended, last time it crashed */
	long long	pause_checked;	/* NODE_PAUSED: when /config was read last */
}			node = {.state = NODE_PREPARING, .crash = {.backoff_ms = CRASH_BACKOFF_MIN_MS}};

/*
 * The one place the node's state changes, with one log line naming the
 * reason; node_state_allows() says which changes are allowed.
 */
static void
node_enter(NodeState to, const char *why)
{
	NodeState	from = node.state;

	if (!node_state_allows(from, to))
		return;
	node.state = to;
	sup_log("state: %s -> %s (%s)", node_state_name(from), node_state_name(to), why);
}

/* ---------------------------------------------------------------------
 * Rejoin (the steps are in rejoin.c)
 * ---------------------------------------------------------------------
 */

/* rejoin_steps() as a state: rejoining, then running once postgres started */
static bool
rejoin_stopped(const NodeConf *c, const char *leader, const char *leader_ci)
{
	char		why[HA_NAME_LEN + 32];

	snprintf(why, sizeof(why), "following \"%s\"", leader);
	node_enter(NODE_REJOINING, why);
	switch (rejoin_steps(c, leader, leader_ci))
	{
		case REJOIN_STARTED:
			node_enter(NODE_RUNNING, why);
			return true;
		case REJOIN_REFUSED:
			node_enter(NODE_FAILED, "the leader belongs to another cluster");
			return false;
		case REJOIN_NOT_STARTED:
			break;
	}
	return false;
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
	else
		callbacks_postgres_stopped();	/* the agent stopped it for this request */
	return rejoin_stopped(c, leader, leader_ci);
}

/*
 * Reinit (POST /reinitialize): stops postgres as for a rejoin, then
 * re-clones (rejoin.c's reinit_steps()).
 */
static void
reinit(const NodeConf *c, const char *leader, const char *leader_ci, const char *reason)
{
	char		why[HA_NAME_LEN + 32];

	sup_log("reinit: re-cloning from \"%s\" (%s)", leader, reason);
	if (pg_running())
		pg_stop(SIGINT, REJOIN_STOP_TIMEOUT_MS, "reinit");
	snprintf(why, sizeof(why), "reinit from \"%s\"", leader);
	node_enter(NODE_REJOINING, why);
	if (reinit_steps(c, leader, leader_ci))
		node_enter(NODE_RUNNING, why);
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
 * Shutdown (the hand-over is in handover.c)
 * ---------------------------------------------------------------------
 */

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

/*
 * A restart in place asked by the agent (POST /restart, a scheduled
 * restart, ha_restart()).  The leader's agent leaves its session and the
 * leader key in place when postgres stops (it is supervised), and the new
 * agent takes the key over: no failover.  The clients handed over with the
 * request are answered once postgres accepts connections again, or not in
 * time (Patroni answers POST /restart the same way, when it is done).
 */
static void
restart_in_place(const NodeConf *c, const Request *r)
{
	int			timeout_s = r->timeout_s > 0 ? r->timeout_s : RESTART_READY_TIMEOUT_S;
	bool		ok;

	node_enter(NODE_RESTARTING, r->reason[0] ? r->reason : "requested by the agent");
	sup_log("restart: %s: fast shutdown, then start again in place",
			r->reason[0] ? r->reason : "requested by the agent");
	callbacks_expect_restart(); /* on_restart, not on_stop then on_start */
	if (pg_running())
		pg_stop(SIGINT, STOP_TIMEOUT_MS, "restart");
	pg_wait_shmem_free(c, 10000);
	ok = pg_start(c, "restart: requested") && pg_wait_ready(c, timeout_s * 1000);
	replies_collect();
	if (ok)
	{
		sup_log("restart: postgres accepts connections again");
		replies_answer(r->reply_token, 200, "restarted successfully", NULL);
	}
	else
	{
		sup_log("restart: postgres did not accept connections within %d s", timeout_s);
		replies_answer(r->reply_token, 503, "restart failed",
					   "postgres did not accept connections in time; the supervisor's log says why.");
	}
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
		case REQ_REINIT:
			reinit(c, r->leader, r->conninfo, r->reason[0] ? r->reason : "requested by the agent");
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
		case REQ_RESTART:
			restart_in_place(c, r);
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
				bool		any = n > 0 && crash_policy_replica_can_take_over(m, n);

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

static NodeOutcome after_crash(const NodeConf *c);

/* Is the cluster in maintenance mode?  Unknown (ZooKeeper unreachable) counts as no. */
static bool
cluster_paused(void)
{
	bool		paused = false;

	return zk_ready() && zkc_cluster_paused(&paused) == ZOK && paused;
}

NodeOutcome
node_postgres_exited(int status)
{
	const NodeConf *c = node_conf;
	char		desc[64];

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
	snprintf(node.crash_desc, sizeof(node.crash_desc), "%s", desc);
	if (cluster_paused())
	{
		/* maintenance mode: no restart, no failover (Patroni's pause) */
		node_enter(NODE_PAUSED, "the cluster is paused: postgres stays down until it is resumed");
		return NODE_CONTINUE;
	}
	return after_crash(c);
}

/*
 * What follows a crash (or the end of a pause that one happened in): a
 * primary lets a replica take over (primary_start_timeout 0), else
 * postgres restarts in place.
 */
static NodeOutcome
after_crash(const NodeConf *c)
{
	char		reason[128];

	if (!pgd_is_standby(c) && c->primary_start_timeout == 0)
	{
		if (primary_crash_failover(c))
			return node.state == NODE_FAILED ? NODE_EXIT_FAIL : NODE_CONTINUE;
		if (sig_stop_pending())
			return NODE_CONTINUE;
	}
	snprintf(reason, sizeof(reason), "crash restart: postgres ended with %s", node.crash_desc);
	schedule_restart(reason);
	return NODE_CONTINUE;
}

NodeOutcome
node_tick(void)
{
	const NodeConf *c = node_conf;

	if (node.state == NODE_FAILED)
		return NODE_EXIT_FAIL;	/* a refusal above, while carrying out a request */
	if (node.state == NODE_PAUSED)
	{
		/* asked again every second; resumed, the crash is handled as usual */
		if (now_ms() < node.pause_checked + 1000 || cluster_paused())
		{
			if (now_ms() >= node.pause_checked + 1000)
				node.pause_checked = now_ms();
			return NODE_CONTINUE;
		}
		sup_log("crash: the cluster was resumed; handling the crash (%s)", node.crash_desc);
		node.pause_checked = 0;
		return after_crash(c);
	}
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
