/*-------------------------------------------------------------------------
 *
 * slot_rule.h
 *	  Member replication slots (README "Replication slots", Patroni's
 *	  use_slots and member_slots_ttl) as a pure step: from the members in
 *	  ZooKeeper and the slots this postgres has, which slots to create,
 *	  drop and advance.  ha_slots.c gathers the facts and carries the
 *	  actions out.
 *
 * Every node keeps one physical slot per other member: the leader's hold
 * the WAL its replicas still need, a replica's are copies, advanced to
 * what that member has and this replica has replayed, so that a new
 * leader has them already when the others reconnect.  A slot of a member
 * gone longer than member_slots_ttl is dropped; a slot pg_ha did not
 * create (another name, or not in its record) is never touched.
 *
 * Permanent slots (Patroni's /config "slots", physical only) are kept by
 * every node that may lead: created if missing, never dropped while
 * declared; a replica's copy is advanced as far as the leader's slot has
 * come (the leader publishes it in /status, as Patroni does) and this
 * replica has replayed, never further: a backup tool that resumes on a new
 * leader finds the WAL it has not received yet.  One pg_ha made as a
 * permanent slot and no longer declared is dropped.  A name that is a
 * member's slot name (this node's own included) follows the member rule.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SLOT_RULE_H
#define SLOT_RULE_H

#include <stdbool.h>
#include <stdint.h>

#include "slot_name.h"

/* A member listed in /members (this node's own row included or not). */
typedef struct HaSlotMember
{
	const char *name;			/* member name */
	uint64_t	lsn;			/* its published position (xlog_location), 0 unknown */
} HaSlotMember;

/* A replication slot this postgres has. */
typedef struct HaSlotHave
{
	char		name[SLOT_NAME_LEN];
	bool		physical;
	bool		ours;			/* pg_ha created (or adopted) it: in its record */
	bool		made_permanent; /* ours, made as a permanent slot */
	bool		active;			/* a walsender streams through it */
	bool		lost;			/* invalidated: its WAL was removed (wal_status 'lost') */
	uint64_t	restart_lsn;	/* 0: none reserved */
	int64_t		seen_ms;		/* when its member was last listed (0: never) */
} HaSlotHave;

typedef struct HaSlotFacts
{
	bool		use_slots;
	bool		members_known;	/* the member list is read: no create, no drop without it */
	bool		primary;		/* not in recovery */
	bool		nofailover;		/* this node never leads: a replica keeps no copies */
	const char *self_name;
	uint64_t	replayed_lsn;	/* replica: what it has replayed */
	int64_t		now_ms;
	int64_t		ttl_ms;			/* member_slots_ttl */
	int			nmembers;
	const HaSlotMember *members;
	int			nslots;
	const HaSlotHave *slots;
	bool		permanent_known;	/* /config is read: no permanent slot dropped without it */
	int			npermanent;
	const char (*permanent)[SLOT_NAME_LEN];	/* the declared permanent slots */
	const uint64_t *permanent_lsn;	/* each one's restart_lsn on the leader (/status), 0 unknown */
} HaSlotFacts;

typedef enum HaSlotOp
{
	HA_SLOT_CREATE,				/* a physical slot reserving WAL now */
	HA_SLOT_CREATE_PERMANENT,	/* the same, for a permanent slot */
	HA_SLOT_DROP,				/* one of ours no longer wanted */
	HA_SLOT_DROP_LOST,			/* one of ours invalidated: dropped, created again later */
	HA_SLOT_LOST,				/* a gone member's, invalidated: only reported (kept for the ttl) */
	HA_SLOT_ADVANCE,			/* a replica's copy: restart_lsn to lsn */
	HA_SLOT_ADOPT				/* a physical slot with a member's name: recorded as ours */
} HaSlotOp;

typedef struct HaSlotAction
{
	HaSlotOp	op;
	char		name[SLOT_NAME_LEN];
	uint64_t	lsn;			/* HA_SLOT_ADVANCE */
} HaSlotAction;

/* at most one action per slot, one per member and one per permanent slot */
#define HA_SLOT_MAX_ACTIONS(nslots, nmembers, npermanent) \
	((nslots) + (nmembers) + (npermanent))

/*
 * The actions of one pass, in out (cap entries); returns how many.  An
 * active slot is never dropped nor advanced (its walsender moves it).
 */
extern int	ha_slot_plan(const HaSlotFacts *f, HaSlotAction *out, int cap);

extern const char *ha_slot_op_name(HaSlotOp op);

#endif							/* SLOT_RULE_H */
