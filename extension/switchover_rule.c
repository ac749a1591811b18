/*-------------------------------------------------------------------------
 *
 * switchover_rule.c
 *	  The rules of a planned switchover (see switchover_rule.h): checking a
 *	  request against the cluster, and the leader's judgement of one that
 *	  names it.  The predicates on members (promotable, lag) are role.c's.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "role.h"
#include "switchover_rule.h"

static int
member_index(const HaMember *members, int n, const char *name)
{
	if (name == NULL || name[0] == '\0')
		return -1;
	for (int i = 0; i < n; i++)
		if (strcmp(members[i].name, name) == 0)
			return i;
	return -1;
}

/* In synchronous mode only the confirmed synchronous standby may take over (S2). */
static bool
sync_allows(const HaSwitchoverAsk *a, const HaMember *m)
{
	return !a->sync_mode ||
		(a->sync_confirmed && strcmp(m->name, a->sync_standby) == 0);
}

/* The replica with the most WAL that could take over now, or -1. */
static int
best_candidate(const HaSwitchoverAsk *a, const HaMember *leader)
{
	int			best = -1;

	for (int i = 0; i < a->nmembers; i++)
	{
		const HaMember *m = &a->members[i];

		if (strcmp(m->name, leader->name) == 0 ||
			!ha_member_promotable(m, a->cluster_timeline) || !a->fresh[i] ||
			!sync_allows(a, m))
			continue;
		if (best < 0 || m->xlog_location > a->members[best].xlog_location)
			best = i;
	}
	return best;
}

/* The checks on a candidate named in the request. */
static HaSwitchoverVerdict
check_named(const HaSwitchoverAsk *a, const HaMember *leader, int i)
{
	const HaMember *m = &a->members[i];

	if (strcmp(m->name, leader->name) == 0)
		return HA_SWV_IS_LEADER;
	if (!ha_member_running_replica(m) || !a->fresh[i])
		return HA_SWV_UNHEALTHY;
	if (m->tags.nofailover)
		return HA_SWV_NOFAILOVER;
	if (!sync_allows(a, m))
		return HA_SWV_NOT_SYNC_STANDBY;
	if (!ha_lag_ok(m->xlog_location, leader->xlog_location, a->maximum_lag))
		return HA_SWV_LAGGING;
	if (m->timeline < a->cluster_timeline)
		return HA_SWV_OLD_TIMELINE;
	return HA_SWV_OK;
}

HaSwitchoverVerdict
ha_switchover_check(const HaSwitchoverAsk *a, int *chosen, int *leader_i)
{
	const HaMember *leader;

	*chosen = -1;
	*leader_i = member_index(a->members, a->nmembers, a->leader);
	if (!a->zk_reachable)
		return HA_SWV_ZK_UNREACHABLE;
	if (!a->leader_exists || *leader_i < 0)
		return HA_SWV_NO_LEADER;
	leader = &a->members[*leader_i];
	/* a request that names the leader as candidate is left over from a switchover that happened */
	if ((a->failover_candidate && strcmp(a->failover_candidate, leader->name) != 0) ||
		a->creating)
		return HA_SWV_IN_PROGRESS;
	if (!leader->supervised)
		return HA_SWV_LEADER_UNSUPERVISED;

	if (a->candidate == NULL || a->candidate[0] == '\0')
	{
		*chosen = best_candidate(a, leader);
		return *chosen < 0 ? HA_SWV_NONE_ELIGIBLE : HA_SWV_OK;
	}
	*chosen = member_index(a->members, a->nmembers, a->candidate);
	if (*chosen < 0)
		return HA_SWV_NOT_MEMBER;
	return check_named(a, leader, *chosen);
}

HaHandover
ha_handover_judge(const HaHandoverFacts *f, bool *tell_local)
{
	const HaMember *cand = f->candidate;
	int64_t		told_ms = f->told_ms;

	*tell_local = false;
	if (f->delete_in_flight)
		return HA_HO_BUSY;
	if (f->now_ms - f->request_seen_ms >= HA_FAILOVER_STALE_MS)
		return HA_HO_DROP_STALE;

	/*
	 * Judge the candidate on a position it published after the request (it
	 * does so as soon as it sees it); wait for that only so long.
	 */
	if (cand && f->candidate_changed_ms < f->request_seen_ms - HA_HANDOVER_CLOCK_SLACK_MS &&
		f->now_ms - f->request_seen_ms < f->position_wait_ms)
		return HA_HO_AWAIT_POSITION;

	/* the leader has the freshest view: it checks once more, until it told a local caller */
	if (cand == NULL ||
		(!f->local_told &&
		 (!ha_member_promotable(cand, f->cluster_timeline) || !f->supervised ||
		  !ha_lag_ok(cand->xlog_location, f->self_lsn, f->maximum_lag))))
	{
		if (!f->supervised)
			return HA_HO_CANCEL_UNSUPERVISED;
		if (cand && ha_member_promotable(cand, f->cluster_timeline))
			return HA_HO_CANCEL_LAGGING;
		return HA_HO_CANCEL_NOT_REPLICA;
	}

	/*
	 * An ha_switchover() called on this very node must get its answer (the
	 * hand-over happens) out before the hand-over ends its session.
	 */
	if (f->local_waiting)
	{
		if (!f->local_told)
		{
			*tell_local = true;
			told_ms = f->now_ms;
		}
		if (f->now_ms - told_ms < HA_HANDOVER_ANSWER_MS &&
			(f->answered_ms == 0 || f->now_ms - f->answered_ms < HA_HANDOVER_ANSWER_READ_MS))
			return HA_HO_HOLD;
	}
	return HA_HO_HAND_OVER;
}

HaSwitchoverVerdict
ha_failover_check(const HaSwitchoverAsk *a, bool force, int *chosen, int *leader_i)
{
	const HaMember *m;

	*chosen = -1;
	*leader_i = member_index(a->members, a->nmembers, a->leader);
	if (!a->zk_reachable)
		return HA_SWV_ZK_UNREACHABLE;
	if (a->candidate == NULL || a->candidate[0] == '\0')
		return HA_SWV_NO_CANDIDATE;
	if (a->leader_exists)
		return ha_switchover_check(a, chosen, leader_i);
	if (a->failover_candidate || a->creating)
		return HA_SWV_IN_PROGRESS;
	*chosen = member_index(a->members, a->nmembers, a->candidate);
	if (*chosen < 0)
		return HA_SWV_NOT_MEMBER;
	m = &a->members[*chosen];
	if (!ha_member_running_replica(m) || !a->fresh[*chosen])
		return HA_SWV_UNHEALTHY;
	if (m->tags.nofailover)
		return HA_SWV_NOFAILOVER;
	if (a->cluster_timeline != 0 && m->timeline < a->cluster_timeline)
		return HA_SWV_OLD_TIMELINE;
	if (!force && !sync_allows(a, m))
		return HA_SWV_NOT_SYNC_STANDBY;
	return HA_SWV_OK;
}
