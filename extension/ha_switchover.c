/*-------------------------------------------------------------------------
 *
 * ha_switchover.c
 *	  Switchover requests from SQL (ha_switchover()) and HTTP (POST
 *	  /switchover), both through the request slot in shared memory: checks
 *	  a request against the cluster, writes /failover, and follows it until
 *	  the candidate leads or it fails.  The leader's side, handing over, is
 *	  ha_duties.c's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <zookeeper/zookeeper.h>

#include "storage/latch.h"
#include "storage/lwlock.h"

#include "ha_agent.h"
#include "ha_guc.h"
#include "ha_http.h"
#include "switchover_rule.h"

#define SWITCHOVER_TIMEOUT_MS	60000

/*
 * Checks a switchover to candidate ("" = pick the best) against the
 * cluster as this agent sees it (the rule is switchover_rule.c's).
 * Returns NULL and the chosen member in chosen, or an error message
 * (static or in a static buffer) with a hint.
 */
static const char *
switchover_check(const char *candidate, bool failover, bool force, char *chosen,
				 char *hint, size_t hintlen)
{
	static char msg[256];
	int64		now = ha_mono_ms();
	bool		fresh[HA_MAX_MEMBERS];
	HaSwitchoverAsk a;
	HaSwitchoverVerdict v;
	const HaMember *m;
	const HaMember *leader;
	int			chosen_i;
	int			leader_i;

	for (int i = 0; i < agent.view.nmembers; i++)
		fresh[i] = session_member_fresh(agent.view.members[i].name, now);
	a.members = agent.view.members;
	a.fresh = fresh;
	a.nmembers = agent.view.nmembers;
	a.zk_reachable = session_reachable(now);
	a.leader_exists = agent.leader_exists;
	a.leader = agent.view.leader;
	a.failover_candidate = agent.failover_exists || keys_failover_scheduled() ?
		agent.failover_candidate : NULL;
	a.creating = agent.sw_state == SW_CREATING;
	a.sync_mode = ha_synchronous_mode;
	a.sync_confirmed = agent.sync_confirmed;
	a.sync_standby = agent.view.sync_standby;
	a.cluster_timeline = agent.cluster_timeline;
	a.maximum_lag = (uint64) ha_maximum_lag_on_failover;
	a.candidate = candidate;
	v = failover ? ha_failover_check(&a, force, &chosen_i, &leader_i) :
		ha_switchover_check(&a, &chosen_i, &leader_i);
	m = chosen_i < 0 ? NULL : &agent.view.members[chosen_i];
	leader = leader_i < 0 ? NULL : &agent.view.members[leader_i];

	hint[0] = '\0';
	switch (v)
	{
		case HA_SWV_OK:
			strlcpy(chosen, m->name, HA_NAME_LEN);
			return NULL;
		case HA_SWV_ZK_UNREACHABLE:
			snprintf(hint, hintlen, "Check ZooKeeper (pg_ha.zk_hosts); ha_status() shows since when it is unreachable.");
			return "ZooKeeper is unreachable from this node";
		case HA_SWV_NO_LEADER:
			snprintf(hint, hintlen, "Without a leader there is nothing to switch over; the replicas elect one by themselves.");
			return "the cluster has no leader";
		case HA_SWV_IN_PROGRESS:
			snprintf(hint, hintlen, "Wait for it to finish (ha_status() shows the roles).");
			snprintf(msg, sizeof(msg), "a switchover to \"%s\" is already in progress",
					 agent.failover_candidate);
			return msg;
		case HA_SWV_LEADER_UNSUPERVISED:
			snprintf(hint, hintlen, "Run the leader with pg_ha_supervisor: only it can stop the leader and hand over without losing a commit.");
			snprintf(msg, sizeof(msg), "the leader \"%s\" is not run by pg_ha_supervisor", leader->name);
			return msg;
		case HA_SWV_NONE_ELIGIBLE:
			snprintf(hint, hintlen, ha_synchronous_mode ?
					 "In synchronous mode only a confirmed synchronous standby can take over; see ha_status()." :
					 "Start a replica, or check ha_status() for the replicas' state and tags.");
			return "no replica can take over";
		case HA_SWV_NOT_MEMBER:
			snprintf(hint, hintlen, "SELECT name FROM ha_status() lists the members.");
			snprintf(msg, sizeof(msg), "\"%s\" is not a member of cluster \"%s\"", candidate, ha_scope);
			return msg;
		case HA_SWV_IS_LEADER:
			snprintf(hint, hintlen, "Name a replica, or call ha_switchover() without a candidate.");
			snprintf(msg, sizeof(msg), "\"%s\" is already the leader", candidate);
			return msg;
		case HA_SWV_UNHEALTHY:
			snprintf(hint, hintlen, "Only a running, reporting replica can take over; see ha_status().");
			snprintf(msg, sizeof(msg), "\"%s\" is not a healthy replica (%s, %s)", candidate, m->role, m->state);
			return msg;
		case HA_SWV_NOFAILOVER:
			snprintf(hint, hintlen, "Remove pg_ha.nofailover on \"%s\", or name another replica.", candidate);
			snprintf(msg, sizeof(msg), "\"%s\" is tagged nofailover", candidate);
			return msg;
		case HA_SWV_NO_CANDIDATE:
			snprintf(hint, hintlen, "Name the member to promote: ha_failover('node2'), or {\"candidate\": \"node2\"}.");
			return "a failover needs a candidate";
		case HA_SWV_NOT_SYNC_STANDBY:
			snprintf(hint, hintlen, failover && !agent.leader_exists ?
					 "Name the synchronous standby (ha_status() shows sync_standby), or force it: ha_failover(candidate, force => true) may lose commits only the synchronous standby acknowledged." :
					 "Name the synchronous standby (ha_status() shows sync_standby) or call ha_switchover() without a candidate.");
			snprintf(msg, sizeof(msg), "in synchronous mode only the synchronous standby can take over, and \"%s\" is not it", candidate);
			return msg;
		case HA_SWV_LAGGING:
			snprintf(hint, hintlen, "Wait until it catches up, or raise pg_ha.maximum_lag_on_failover.");
			snprintf(msg, sizeof(msg), "\"%s\" is " UINT64_FORMAT " bytes behind the leader, more than maximum_lag_on_failover (%d)",
					 candidate, (uint64) (leader->xlog_location - m->xlog_location), ha_maximum_lag_on_failover);
			return msg;
		case HA_SWV_OLD_TIMELINE:
			snprintf(hint, hintlen, "Wait until it follows the current timeline.");
			snprintf(msg, sizeof(msg), "\"%s\" is on an older timeline", candidate);
			return msg;
	}
	return "the switchover request could not be checked";
}

/* Starts a checked switchover: writes /failover (the result comes back later). */
static bool
start_switchover(const char *candidate, const char *scheduled_at, bool failover, bool force,
				 char *err, size_t errlen, char *hint, size_t hintlen)
{
	char		chosen[HA_NAME_LEN];
	const char *problem = switchover_check(candidate, failover, force, chosen, hint, hintlen);

	if (problem == NULL && scheduled_at[0] && agent.view.paused)
	{
		snprintf(hint, hintlen, "Resume the cluster first (ha_resume(), patronictl resume).");
		problem = "cannot schedule a switchover while the cluster is paused";
	}
	if (problem)
	{
		strlcpy(err, problem, errlen);
		return false;
	}
	strlcpy(agent.sw_candidate, chosen, HA_NAME_LEN);
	strlcpy(agent.sw_leader, agent.view.leader, HA_NAME_LEN);
	agent.sw_from_sql = false;
	agent.sw_state = SW_CREATING;
	agent.sw_error[0] = agent.sw_hint[0] = '\0';
	agent.sw_deadline_ms = ha_mono_ms() + SWITCHOVER_TIMEOUT_MS;
	agent.sw_scheduled = scheduled_at[0] != '\0';
	agent.sw_failover = failover && !agent.leader_exists;
	/* with a leader a failover is a switchover to the candidate; without, it names no leader */
	session_create_failover_request(agent.leader_exists ? agent.view.leader : "", chosen,
									scheduled_at, agent.sw_failover && force);
	if (agent.inflight[OP_FAILOVER_CREATE] == 0)
	{
		agent.sw_state = SW_FAILED;
		strlcpy(err, "could not write the switchover request to ZooKeeper", errlen);
		return false;
	}
	if (agent.sw_failover)
		ereport(force ? WARNING : LOG,
				(errmsg("pg_ha: manual failover requested%s: \"%s\" is to be promoted (the cluster has no leader)",
						force ? " with force" : "", chosen)));
	else
		ereport(LOG,
				(errmsg("pg_ha: switchover requested: from \"%s\" to \"%s\"%s%s", agent.view.leader, chosen,
						agent.sw_scheduled ? " at " : "", scheduled_at)));
	return true;
}

/* DELETE /switchover: drops a switchover scheduled for later (not one under way). */
static bool
cancel_scheduled(char *err, size_t errlen, char *hint, size_t hintlen)
{
	hint[0] = '\0';
	if (!keys_failover_scheduled())
	{
		strlcpy(err, "no switchover is scheduled", errlen);
		return false;
	}
	ereport(LOG,
			(errmsg("pg_ha: the switchover to \"%s\" scheduled at %s is cancelled",
					agent.failover_candidate, agent.failover_scheduled_at)));
	session_delete_failover();
	strlcpy(agent.sw_candidate, agent.failover_candidate, HA_NAME_LEN);
	agent.sw_state = SW_DONE;
	return true;
}

/* ZooKeeper answered our /failover create (ha_session.c recorded it). */
void
switchover_note_created(void)
{
	int			rc = agent.failover_created_rc;

	if (!agent.failover_created)
		return;
	agent.failover_created = false;
	if (agent.sw_state != SW_CREATING)
		return;
	if (rc == ZOK)
		agent.sw_state = agent.sw_scheduled ? SW_SCHEDULED : SW_RUNNING;
	else
	{
		agent.sw_state = SW_FAILED;
		if (rc == ZNODEEXISTS)
			strlcpy(agent.sw_error, "a switchover is already in progress", sizeof(agent.sw_error));
		else
			snprintf(agent.sw_error, sizeof(agent.sw_error),
					 "could not write the switchover request to ZooKeeper: %s", zk_error_name(rc));
	}
}

/* Has the switchover this node started finished (candidate leads)? */
static void
track_switchover(int64 now)
{
	const HaMember *m;
	bool		fresh;

	if (agent.sw_state != SW_RUNNING)
		return;
	m = session_member(agent.sw_candidate);
	/* both keys read since they last changed, and no read of them under way */
	fresh = agent.failover_known && !agent.failover_stale &&
		agent.inflight[OP_FAILOVER_GET] == 0 &&
		agent.leader_known && !agent.leader_stale &&
		agent.inflight[OP_LEADER_EXISTS] == 0 && agent.inflight[OP_LEADER_GET] == 0;
	switch (ha_switchover_outcome(fresh, agent.failover_exists,
								  agent.leader_exists ? agent.view.leader : "",
								  agent.sw_candidate,
								  m && strcmp(m->role, HA_ROLE_MASTER) == 0 &&
								  strcmp(m->state, "running") == 0))
	{
		case HA_SW_HAPPENED:
			agent.sw_state = SW_DONE;
			ereport(LOG, (errmsg("pg_ha: switchover to \"%s\" done", agent.sw_candidate)));
			return;
		case HA_SW_NOT_DONE:
			agent.sw_state = SW_FAILED;
			if (strcmp(agent.view.leader, agent.sw_leader) == 0)
			{
				snprintf(agent.sw_error, sizeof(agent.sw_error),
						 "the leader \"%s\" cancelled the switchover to \"%s\"",
						 agent.view.leader, agent.sw_candidate);
				snprintf(agent.sw_hint, sizeof(agent.sw_hint),
						 "The leader's log says why (the candidate lagged, or stopped running).");
			}
			else
			{
				snprintf(agent.sw_error, sizeof(agent.sw_error),
						 "the switchover to \"%s\" did not happen: \"%s\" leads now",
						 agent.sw_candidate, agent.view.leader);
				snprintf(agent.sw_hint, sizeof(agent.sw_hint),
						 "The members' logs say why; ha_status() shows the roles now.");
			}
			return;
		case HA_SW_PENDING:
			break;
	}
	if (now >= agent.sw_deadline_ms)
	{
		agent.sw_state = SW_FAILED;
		snprintf(agent.sw_error, sizeof(agent.sw_error),
				 "switchover to \"%s\" did not complete within %d s", agent.sw_candidate,
				 SWITCHOVER_TIMEOUT_MS / 1000);
	}
}

/* A backend's ha_switchover() request in shared memory. */
void
switchover_poll_request(int64 now)
{
	HaSwitchoverRequest *req = &ha_shared->switchover;
	char		candidate[HA_NAME_LEN];
	char		scheduled_at[ISO_TIME_LEN];
	uint64		id;
	char		err[256],
				hint[256];
	bool		ok;
	bool		answered_at_once;
	bool		cancel;
	bool		failover;
	bool		force;

	track_switchover(now);

	LWLockAcquire(ha_shared->lock, LW_EXCLUSIVE);
	id = req->id;
	strlcpy(candidate, req->candidate, sizeof(candidate));
	strlcpy(scheduled_at, req->scheduled_at, sizeof(scheduled_at));
	answered_at_once = req->answered_at_once;
	cancel = req->cancel;
	failover = req->failover;
	force = req->force;
	if (id == req->taken_id)
	{
		if (req->returned_id == id && agent.sw_answered_ms == 0)
			agent.sw_answered_ms = now;
		/* report progress of the one taken */
		req->state = (int) agent.sw_state;
		strlcpy(req->chosen, agent.sw_candidate, sizeof(req->chosen));
		if (agent.sw_state == SW_FAILED)
		{
			strlcpy(req->error, agent.sw_error, sizeof(req->error));
			strlcpy(req->hint, agent.sw_hint, sizeof(req->hint));
		}
		LWLockRelease(ha_shared->lock);
		return;
	}
	LWLockRelease(ha_shared->lock);

	if (cancel)
		ok = cancel_scheduled(err, sizeof(err), hint, sizeof(hint));
	else
		ok = start_switchover(candidate, scheduled_at, failover, force, err, sizeof(err),
							  hint, sizeof(hint));
	agent.sw_from_sql = ok && !answered_at_once;
	agent.sw_answered_ms = 0;

	LWLockAcquire(ha_shared->lock, LW_EXCLUSIVE);
	req->taken_id = id;
	req->accepted = ok;
	if (!ok)
	{
		req->state = (int) SW_FAILED;
		strlcpy(req->error, err, sizeof(req->error));
		strlcpy(req->hint, hint, sizeof(req->hint));
	}
	else
	{
		req->state = (int) agent.sw_state;
		strlcpy(req->chosen, agent.sw_candidate, sizeof(req->chosen));
	}
	LWLockRelease(ha_shared->lock);
	if (req->requester_latch)
		SetLatch(req->requester_latch);
}
