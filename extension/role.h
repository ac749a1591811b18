/*-------------------------------------------------------------------------
 *
 * role.h
 *	  The agent's role decision: a pure function from observed facts (the
 *	  ZooKeeper view and the local postgres state) to one action.  Kept apart
 *	  from all I/O so every case is a unit test.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ROLE_H
#define ROLE_H

#include "ha_types.h"

typedef struct HaFacts
{
	bool		config_ok;		/* settings consistent (ttl > retry_timeout, ...) */
	bool		pg_running;		/* postgres accepts connections */
	bool		in_recovery;	/* postgres is a standby */
	bool		zk_reachable;	/* live session, heard from within the bound */
	bool		identity_ok;	/* system id matches /initialize, name not taken */
	bool		registered;		/* our member znode exists and is ours */
	bool		leader_known;	/* the leader key was read in this session */
	bool		leader_exists;
	bool		leader_is_self; /* the key names us */
	bool		leader_owned;	/* ... and our current session owns it */
} HaFacts;

typedef enum HaAction
{
	HA_ACT_WAIT,				/* nothing to do until something changes */
	HA_ACT_ACQUIRE_LEADER,		/* running primary, key free: take it */
	HA_ACT_RELEASE_STALE_KEY,	/* key names us but an older session of ours owns it */
	HA_ACT_LEAD,				/* we hold the key: serve as leader */
	HA_ACT_FOLLOW,				/* replica with a leader (or none yet) */
	HA_ACT_PRIMARY_NOT_LEADER	/* primary, another node holds the key */
} HaAction;

typedef struct HaDecision
{
	HaAction	action;
	bool		is_leader;		/* what /primary and /leader report */
	const char *reason;			/* one line for the log and the API */
} HaDecision;

extern HaDecision ha_decide(const HaFacts *f);
extern const char *ha_action_name(HaAction a);

#endif							/* ROLE_H */
