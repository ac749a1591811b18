/*-------------------------------------------------------------------------
 *
 * sync_rule.h
 *	  The leader's synchronous standby (README "Synchronous mode", "Losing
 *	  the synchronous standby") as a pure step: from the facts of one pass
 *	  to one action and the leader's bookkeeping after it.  ha_sync.c
 *	  gathers the facts (who /sync names, health, stall, the best
 *	  replacement: role.c's ha_sync_eligible, ha_sync_standby_stalled,
 *	  ha_sync_choose) and carries the action out.
 *
 * The order that keeps S2 (no acknowledged commit lost by a failover):
 * a standby is written to /sync, unconfirmed, before
 * synchronous_standby_names names it (HA_SYNC_NAME writes /sync; the name
 * is applied once ZooKeeper has the write); it is confirmed, and may then
 * be promoted, only once it has all the WAL written before it was named
 * (HA_SYNC_SET_CONFIRM_POSITION takes the leader's position
 * HA_SYNC_CONFIRM_AFTER_MS after naming it, when the walsenders have the
 * new setting; HA_SYNC_CONFIRM waits until the standby reaches it); and it
 * is removed from /sync before it is dropped from
 * synchronous_standby_names (HA_SYNC_CLEAR writes /sync first, too).
 *
 *-------------------------------------------------------------------------
 */
#ifndef SYNC_RULE_H
#define SYNC_RULE_H

#include <stdbool.h>
#include <stdint.h>

/* How long after naming a standby its confirmation position is taken. */
#define HA_SYNC_CONFIRM_AFTER_MS	500

typedef enum HaSyncAction
{
	HA_SYNC_NOTHING,			/* a /sync write is under way, or /sync not read */
	HA_SYNC_APPLY_NAMES,		/* only apply synchronous_standby_names for /sync */
	HA_SYNC_KEEP,				/* the standby stays: apply names, nudge it */
	HA_SYNC_SET_CONFIRM_POSITION,	/* ... and take the position it must reach */
	HA_SYNC_CONFIRM,			/* ... it has reached it: write /sync confirmed */
	HA_SYNC_NAME,				/* write /sync naming the best replica, unconfirmed */
	HA_SYNC_CLEAR,				/* no healthy standby, not strict: /sync names none */
	HA_SYNC_CLAIM_EMPTY			/* /sync names another leader: write it, with none, as ours */
} HaSyncAction;

typedef struct HaSyncFacts
{
	bool		busy;			/* a /sync write is under way, or /sync not read */
	bool		sync_mode;
	bool		strict;			/* synchronous_mode_strict */
	bool		leads_sync;		/* /sync names this node its leader */
	bool		has_standby;	/* ... and a standby */
	bool		healthy;		/* that standby is eligible (ha_sync_eligible) */
	bool		stalled;		/* ... and holds commits back (ha_sync_standby_stalled) */
	bool		confirmed;		/* /sync says it caught up */
	int			best;			/* the replacement (ha_sync_choose, the stalled one
								 * excluded), -1 none */
	int64_t		now_ms;
	int64_t		named_ms;		/* when synchronous_standby_names named it; 0 not yet */
	uint64_t	confirm_lsn;	/* the position it must reach; 0 not taken yet */
	uint64_t	standby_lsn;	/* its published position */
	uint64_t	self_lsn;		/* the leader's */
} HaSyncFacts;

typedef struct HaSyncStep
{
	HaSyncAction action;
	/* the leader's bookkeeping after this step */
	int64_t		named_ms;
	bool		named_now;		/* named_ms was set now: restart the nudges */
	uint64_t	confirm_lsn;
} HaSyncStep;

extern HaSyncStep ha_sync_step(const HaSyncFacts *f);

extern const char *ha_sync_action_name(HaSyncAction a);

#endif							/* SYNC_RULE_H */
