/*-------------------------------------------------------------------------
 *
 * role.c
 *	  The agent's role decision (see role.h).  Rules are checked from the
 *	  most fundamental fact down; the first that applies decides.
 *
 *-------------------------------------------------------------------------
 */
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

HaDecision
ha_decide(const HaFacts *f)
{
	if (!f->config_ok)
		return decision(HA_ACT_WAIT, false, "configuration is inconsistent");
	if (!f->zk_reachable)
		return decision(HA_ACT_WAIT, false, "ZooKeeper is unreachable");
	if (!f->identity_ok)
		return decision(HA_ACT_WAIT, false, "identity refused by the cluster");
	if (!f->registered)
		return decision(HA_ACT_WAIT, false, "member not registered yet");
	if (!f->leader_known)
		return decision(HA_ACT_WAIT, false, "leader key not read yet");
	if (!f->pg_running)
		return decision(HA_ACT_WAIT, false, "postgres is not running");

	if (f->in_recovery)
		return decision(HA_ACT_FOLLOW, false,
						f->leader_exists ? "replica following the leader"
						: "replica, no leader");

	/* a running primary */
	if (!f->leader_exists)
		return decision(HA_ACT_ACQUIRE_LEADER, false,
						"running primary and the leader key is free");
	if (f->leader_is_self && f->leader_owned)
		return decision(HA_ACT_LEAD, true, "holding the leader key");
	if (f->leader_is_self)
		return decision(HA_ACT_RELEASE_STALE_KEY, false,
						"the leader key names this node but belongs to an older session");
	return decision(HA_ACT_PRIMARY_NOT_LEADER, false,
					"running primary but another member holds the leader key");
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
		case HA_ACT_RELEASE_STALE_KEY:
			return "release stale leader key";
		case HA_ACT_LEAD:
			return "lead";
		case HA_ACT_FOLLOW:
			return "follow";
		case HA_ACT_PRIMARY_NOT_LEADER:
			return "primary without leader key";
	}
	return "unknown";
}
