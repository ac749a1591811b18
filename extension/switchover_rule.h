/*-------------------------------------------------------------------------
 *
 * switchover_rule.h
 *	  The rules of a planned switchover (README "SQL API", ha_switchover()),
 *	  as pure functions of data: which request is accepted (and which
 *	  member it names), and what the leader does with one that names it.
 *	  ha_switchover.c and ha_duties.c gather the facts and carry out the
 *	  verdict; the messages are theirs.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SWITCHOVER_RULE_H
#define SWITCHOVER_RULE_H

#include "ha_types.h"

/* A /failover request not carried out by then is ignored, and deleted by its leader. */
#define HA_FAILOVER_STALE_MS		60000

/*
 * Checking a request, on the node that received it.  A bad request is
 * refused with the first verdict that applies, in this order.
 */
typedef enum HaSwitchoverVerdict
{
	HA_SWV_OK,					/* accepted: *chosen is the candidate */
	HA_SWV_ZK_UNREACHABLE,		/* ZooKeeper is unreachable from this node */
	HA_SWV_NO_LEADER,			/* nothing to switch over */
	HA_SWV_IN_PROGRESS,			/* another switchover is being written or run */
	HA_SWV_LEADER_UNSUPERVISED, /* only a supervisor can hand over */
	HA_SWV_NONE_ELIGIBLE,		/* no candidate named, and no replica can take over */
	HA_SWV_NOT_MEMBER,			/* the candidate named is not a member */
	HA_SWV_IS_LEADER,			/* ... it is the leader itself */
	HA_SWV_UNHEALTHY,			/* ... not a running replica heard from recently */
	HA_SWV_NOFAILOVER,			/* ... tagged nofailover */
	HA_SWV_NOT_SYNC_STANDBY,	/* ... synchronous mode, and not the confirmed standby */
	HA_SWV_LAGGING,				/* ... beyond maximum_lag_on_failover */
	HA_SWV_OLD_TIMELINE,		/* ... on a timeline older than the cluster's */
	HA_SWV_NO_CANDIDATE			/* a failover names no candidate */
} HaSwitchoverVerdict;

typedef struct HaSwitchoverAsk
{
	const HaMember *members;	/* the member list as this agent sees it */
	const bool *fresh;			/* fresh[i]: members[i] heard from recently */
	int			nmembers;
	bool		zk_reachable;
	bool		leader_exists;	/* the leader key exists */
	const char *leader;			/* the name it holds */
	const char *failover_candidate; /* candidate of a /failover request; NULL: none */
	bool		creating;		/* this node is writing a /failover request */
	bool		sync_mode;
	bool		sync_confirmed; /* /sync says its standby caught up */
	const char *sync_standby;	/* the standby /sync names ("" none) */
	uint32_t	cluster_timeline;
	uint64_t	maximum_lag;	/* maximum_lag_on_failover, bytes */
	const char *candidate;		/* asked for; NULL or "": the best replica */
} HaSwitchoverAsk;

/*
 * The verdict on a request.  *chosen is the index in members of the
 * candidate accepted (HA_SWV_OK) or of the one named and refused (verdicts
 * from HA_SWV_IS_LEADER on), else -1; *leader that of the leader (-1 none).
 */
extern HaSwitchoverVerdict ha_switchover_check(const HaSwitchoverAsk *a,
											   int *chosen, int *leader);

/*
 * A manual failover (POST /failover, ha_failover()): with a leader it is a
 * switchover to the candidate (ha_switchover_check); without one the
 * candidate is promoted if it is a running replica heard from recently,
 * not tagged nofailover and on the cluster's timeline.  In synchronous mode
 * it must be the confirmed synchronous standby unless force is given (a
 * forced failover may lose commits only that standby acknowledged).
 */
extern HaSwitchoverVerdict ha_failover_check(const HaSwitchoverAsk *a, bool force,
											 int *chosen, int *leader);

/*
 * The leader's side: a /failover request names this node as the leader.
 * Judged on each pass until it hands over or drops the request.
 */
#define HA_HANDOVER_CLOCK_SLACK_MS	250 /* the candidate may see the request first */
#define HA_HANDOVER_ANSWER_MS		2000	/* a local ha_switchover() is answered within */
#define HA_HANDOVER_ANSWER_READ_MS	100 /* ... and has read its answer within */

typedef enum HaHandover
{
	HA_HO_BUSY,					/* our delete of the request is under way */
	HA_HO_DROP_STALE,			/* older than HA_FAILOVER_STALE_MS: delete it */
	HA_HO_AWAIT_POSITION,		/* the candidate has not published since: read again */
	HA_HO_CANCEL_UNSUPERVISED,	/* delete it: this leader is not supervised */
	HA_HO_CANCEL_LAGGING,		/* delete it: beyond maximum_lag_on_failover */
	HA_HO_CANCEL_NOT_REPLICA,	/* delete it: the candidate is gone or not promotable */
	HA_HO_HOLD,					/* a local ha_switchover() has yet to read its answer */
	HA_HO_HAND_OVER				/* ask the supervisor to hand over */
} HaHandover;

typedef struct HaHandoverFacts
{
	int64_t		now_ms;
	int64_t		request_seen_ms;	/* when this agent read the request */
	bool		delete_in_flight;	/* our delete of it is under way */
	const HaMember *candidate;	/* NULL: not a member (any more) */
	int64_t		candidate_changed_ms;	/* when its znode last changed */
	int64_t		position_wait_ms;	/* how long to wait for that after the request */
	bool		supervised;		/* this leader runs under pg_ha_supervisor */
	uint32_t	cluster_timeline;
	uint64_t	self_lsn;		/* the leader's position */
	uint64_t	maximum_lag;
	bool		local_waiting;	/* a local ha_switchover() waits for this answer */
	bool		local_told;		/* a local ha_switchover() was told "hand-over" */
	int64_t		told_ms;		/* when (when local_told) */
	int64_t		answered_ms;	/* when the waiting one read it; 0 not yet */
} HaHandoverFacts;

/*
 * What the leader does now.  *tell_local: from now on the local
 * ha_switchover() is told that the hand-over happens (told_ms = now);
 * once told, only a vanished candidate cancels.
 */
extern HaHandover ha_handover_judge(const HaHandoverFacts *f, bool *tell_local);

#endif							/* SWITCHOVER_RULE_H */
