/*-------------------------------------------------------------------------
 *
 * role.c
 *	  The agent's role decision (see role.h).  Rules are checked from the
 *	  most fundamental fact down; the first that applies decides.  The
 *	  safety rules (DESIGN.md, section 6) live here:
 *	  S1  a primary without a live session is never leader, and fences
 *	      itself after retry_timeout; once fenced it leads again only by
 *	      keeping or winning the key like any candidate;
 *	  S2  in synchronous mode only the confirmed sync standby may race, or
 *	      the leader /sync names (a fenced old primary: a new leader names
 *	      itself there before it acknowledges any commit);
 *	  S3  in asynchronous mode a replica lagging beyond the maximum may not;
 *	  S4  a node on an older timeline than the cluster's never leads.
 *	  While the cluster is paused (maintenance mode) nothing is automatic:
 *	  no race for a free key unless a switchover names this node, and a
 *	  primary another member leads over is fenced in place, not rejoined.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "role.h"

static HaDecision
decision(HaAction action, bool is_leader, const char *reason)
{
	HaDecision	d;

	d.action = action;
	d.is_leader = is_leader;
	d.reason = reason;
	return d;
}

/*
 * No leader: may this node race for the key?  A replica, or a fenced
 * primary whose session expired while it was cut off (it holds every
 * commit it acknowledged, but another node may have led meanwhile).
 */
static HaDecision
decide_race(const HaFacts *f)
{
	if (f->nofailover)
		return decision(HA_ACT_FOLLOW, false, "no leader; tagged nofailover, not racing");
	if (f->paused && !f->switchover_self)
		return decision(HA_ACT_FOLLOW, false, "no leader; the cluster is paused (maintenance mode): no automatic failover");
	if (f->switchover_other)
		return decision(HA_ACT_FOLLOW, false, "no leader; a switchover names another member");
	if (f->cluster_timeline != 0 && f->timeline < f->cluster_timeline)
		return decision(HA_ACT_FOLLOW, false, "no leader; on an older timeline than the cluster, not racing");
	/* an operator's forced failover overrides S2 and S3 (logged as such by the duties) */
	if (f->sync_mode && !f->sync_standby_self && !f->sync_leader_self && !f->failover_forced)
		return decision(HA_ACT_FOLLOW, false, "no leader; synchronous mode and neither the confirmed synchronous standby nor the last leader");
	if (!f->sync_mode && !f->lag_ok && !f->failover_forced)
		return decision(HA_ACT_FOLLOW, false, "no leader; lagging beyond maximum_lag_on_failover");
	if (!f->switchover_self && !f->sync_mode)
	{
		if (!f->peers_settled)
			return decision(HA_ACT_FOLLOW, false, "no leader; waiting for the other members' positions");
		if (f->better_peer)
			return decision(HA_ACT_FOLLOW, false, "no leader; another member has more WAL");
	}
	if (!f->in_recovery)
		return decision(HA_ACT_ACQUIRE_LEADER, false, "no leader and this fenced primary is the best candidate");
	return decision(HA_ACT_ACQUIRE_LEADER, false, "no leader and this replica is the best candidate");
}

static HaDecision
decide_replica(const HaFacts *f)
{
	if (f->leader_exists && f->leader_is_self && f->leader_owned)
		return decision(HA_ACT_PROMOTE, false,
						f->promoting ? "promotion in progress" : "holding the leader key as a replica: promote");
	if (f->leader_exists && f->leader_is_self)
		return decision(HA_ACT_RELEASE_STALE_KEY, false,
						"a replica found a leader key left by an older session of its own");
	if (f->leader_exists)
		return decision(HA_ACT_FOLLOW, false, "replica following the leader");
	return decide_race(f);
}

HaDecision
ha_decide(const HaFacts *f)
{
	if (!f->config_ok)
		return decision(HA_ACT_WAIT, false, "configuration is inconsistent");
	if (!f->zk_reachable)
	{
		if (f->pg_running && !f->in_recovery && f->fenced)
			return decision(HA_ACT_WAIT, false, "fenced: ZooKeeper is unreachable");
		if (f->pg_running && !f->in_recovery && f->fence_due)
			return decision(HA_ACT_FENCE, false,
							"primary out of touch with ZooKeeper for retry_timeout");
		return decision(HA_ACT_WAIT, false, "ZooKeeper is unreachable");
	}
	if (!f->identity_ok)
		return decision(HA_ACT_WAIT, false, "identity refused by the cluster");
	if (!f->registered)
		return decision(HA_ACT_WAIT, false, "member not registered yet");
	if (!f->leader_known)
		return decision(HA_ACT_WAIT, false, "leader key not read yet");
	if (!f->pg_running)
		return decision(HA_ACT_WAIT, false, "postgres is not running");

	if (f->in_recovery)
		return decide_replica(f);

	/* a running primary */
	if (f->leader_exists && !f->leader_is_self && f->paused)
		return decision(f->fenced ? HA_ACT_WAIT : HA_ACT_FENCE, false,
						"running primary but another member holds the leader key; paused: fenced in place, not rejoined");
	if (f->leader_exists && !f->leader_is_self)
		return decision(HA_ACT_DEMOTE, false,
						"running primary but another member holds the leader key");
	if (f->cluster_timeline != 0 && f->timeline < f->cluster_timeline)
		return decision(f->fenced ? HA_ACT_WAIT : HA_ACT_FENCE, false,
						"running primary on an older timeline than the cluster's");
	if (!f->leader_exists && f->fenced)
		return decide_race(f);
	if (!f->leader_exists)
		return decision(HA_ACT_ACQUIRE_LEADER, false,
						"running primary and the leader key is free");
	if (f->leader_owned)
		return decision(HA_ACT_LEAD, true, "holding the leader key");
	return decision(HA_ACT_TAKEOVER_STALE_KEY, false,
					"the leader key names this node but belongs to an older session");
}

const char *
ha_action_name(HaAction a)
{
	switch (a)
	{
		case HA_ACT_WAIT:
			return "wait";
		case HA_ACT_ACQUIRE_LEADER:
			return "acquire leader key";
		case HA_ACT_TAKEOVER_STALE_KEY:
			return "take over stale leader key";
		case HA_ACT_RELEASE_STALE_KEY:
			return "release stale leader key";
		case HA_ACT_LEAD:
			return "lead";
		case HA_ACT_PROMOTE:
			return "promote";
		case HA_ACT_FOLLOW:
			return "follow";
		case HA_ACT_DEMOTE:
			return "demote";
		case HA_ACT_FENCE:
			return "fence";
	}
	return "unknown";
}

HaGateVerdict
ha_gate_verdict(HaGateState state, uint64_t lease_until_ms, int64_t now_ms)
{
	switch (state)
	{
		case HA_GATE_OPEN:
			break;
		case HA_GATE_FENCED:
			return HA_GATE_REFUSE_FENCED;
		case HA_GATE_UNPROVEN:
			return HA_GATE_REFUSE_UNPROVEN;
		default:
			/* not a state the agent writes: refuse rather than guess */
			return HA_GATE_REFUSE_FENCED;
	}
	if (lease_until_ms != 0 && now_ms > (int64_t) lease_until_ms)
		return HA_GATE_REFUSE_LEASE;
	return HA_GATE_PASS;
}

bool
ha_commit_replicated(bool wait_expected, bool standbys_defined,
					 uint64_t commit_lsn, uint64_t released_lsn)
{
	if (!wait_expected || !standbys_defined || commit_lsn == 0)
		return true;
	return released_lsn >= commit_lsn;
}

bool
ha_lag_ok(uint64_t my_lsn, uint64_t last_leader_lsn, uint64_t maximum_lag)
{
	if (last_leader_lsn == 0 || my_lsn >= last_leader_lsn)
		return true;
	return last_leader_lsn - my_lsn <= maximum_lag;
}

bool
ha_peer_is_better(uint64_t my_lsn, const char *my_name,
				  uint64_t peer_lsn, const char *peer_name)
{
	if (peer_lsn != my_lsn)
		return peer_lsn > my_lsn;
	return strcmp(peer_name, my_name) < 0;
}

int
ha_fence_after_ms(int retry_timeout_s, int ttl_s, int granted_ms)
{
	int			after = retry_timeout_s * 1000;
	int			session_ms = ttl_s * 1000;

	if (granted_ms > 0 && ttl_s > 0 && granted_ms < ttl_s * 1000)
	{
		int			scaled = (int) ((int64_t) granted_ms * retry_timeout_s / ttl_s);

		if (scaled < after)
			after = scaled;
		session_ms = granted_ms;
	}
	if (session_ms > 0 && after > session_ms / 4 * 3)
		after = session_ms / 4 * 3;
	return after;
}

bool
ha_promote_nudge(bool promoting, bool in_recovery, int64_t since_request_ms)
{
	return promoting && in_recovery && since_request_ms >= 0 &&
		since_request_ms < HA_PROMOTE_NUDGE_FOR_MS;
}

bool
ha_stream_nudge(bool in_recovery, bool receiver_active, bool leader_runs_as_primary)
{
	return in_recovery && !receiver_active && leader_runs_as_primary;
}

HaSwitchoverOutcome
ha_switchover_outcome(bool views_fresh, bool request_exists, const char *leader,
					  const char *candidate, bool candidate_primary)
{
	if (!views_fresh)
		return HA_SW_PENDING;
	if (leader[0] != '\0' && strcmp(leader, candidate) == 0)
		return candidate_primary ? HA_SW_HAPPENED : HA_SW_PENDING;
	if (request_exists || leader[0] == '\0')
		return HA_SW_PENDING;
	return HA_SW_NOT_DONE;
}

bool
ha_sync_nudge(int64_t since_named_ms, int64_t since_last_nudge_ms,
			  uint64_t released_lsn, uint64_t flushed_lsn)
{
	return since_named_ms >= 0 && since_named_ms < HA_SYNC_NUDGE_FOR_MS &&
		since_last_nudge_ms >= HA_SYNC_NUDGE_EVERY_MS &&
		released_lsn < flushed_lsn;
}

bool
ha_sync_standby_stalled(uint64_t released_lsn, uint64_t flushed_lsn,
						int64_t since_progress_ms, uint64_t other_flushed_lsn)
{
	return released_lsn < flushed_lsn && since_progress_ms >= HA_SYNC_STALL_MS &&
		other_flushed_lsn > released_lsn;
}

void
ha_election_peers(const HaElection *e, bool *settled, bool *better)
{
	bool		within_settle = e->now_ms - e->leader_vanished_ms < e->settle_ms;

	*settled = true;
	*better = false;
	for (int i = 0; i < e->npeers; i++)
	{
		const HaPeer *p = &e->peers[i];

		if (strcmp(p->name, e->self_name) == 0 || !p->promotable)
			continue;
		if (!p->read || p->changed_ms < e->leader_vanished_ms)
		{
			if (within_settle)
				*settled = false;
			continue;
		}
		if (e->self_in_recovery ?
			ha_peer_is_better(e->self_lsn, e->self_name, p->lsn, p->name) :
			p->lsn > e->self_lsn)
			*better = true;
	}
	/* a member that registered meanwhile must be in the list we judge */
	if (e->members_listed_ms < e->leader_vanished_ms && within_settle)
		*settled = false;
}

bool
ha_member_running_replica(const HaMember *m)
{
	return strcmp(m->role, HA_ROLE_REPLICA) == 0 && strcmp(m->state, "running") == 0;
}

bool
ha_member_promotable(const HaMember *m, uint32_t cluster_timeline)
{
	return ha_member_running_replica(m) && !m->tags.nofailover &&
		(cluster_timeline == 0 || m->timeline >= cluster_timeline);
}

bool
ha_sync_eligible(const HaMember *m, bool fresh, uint32_t leader_timeline)
{
	return ha_member_running_replica(m) && !m->tags.nosync && fresh &&
		m->timeline == leader_timeline;
}

int
ha_sync_choose(const HaMember *members, const bool *fresh, int n,
			   const char *self_name, uint32_t leader_timeline,
			   const char *exclude)
{
	int			best = -1;

	for (int i = 0; i < n; i++)
	{
		const HaMember *m = &members[i];

		if (strcmp(m->name, self_name) == 0 ||
			!ha_sync_eligible(m, fresh[i], leader_timeline) ||
			(exclude && strcmp(m->name, exclude) == 0))
			continue;
		if (best < 0 || m->xlog_location > members[best].xlog_location)
			best = i;
	}
	return best;
}
