/*-------------------------------------------------------------------------
 *
 * reinit_rule.h
 *	  Whether this node may be re-cloned from its leader now (POST
 *	  /reinitialize, ha_reinitialize(), patronictl reinit), as a pure
 *	  function of facts ha_reinit.c gathers.  The texts are Patroni's where
 *	  Patroni has one (patronictl reads "... already in progress").
 *
 *-------------------------------------------------------------------------
 */
#ifndef REINIT_RULE_H
#define REINIT_RULE_H

#include <stdbool.h>
#include <stddef.h>

/* The first that applies, in this order. */
typedef enum HaReinitVerdict
{
	HA_RIV_OK,					/* ask the supervisor to re-clone */
	HA_RIV_NO_LEADER,			/* no leader key: nothing to clone from */
	HA_RIV_IS_LEADER,			/* this node leads: never wipe the primary */
	HA_RIV_UNSUPERVISED,		/* no pg_ha_supervisor: nobody can re-clone */
	HA_RIV_NO_LEADER_ADDRESS,	/* the leader's member data has no address */
	HA_RIV_IN_PROGRESS,			/* this postgres asked for a reinit already */
	HA_RIV_OTHER_PENDING		/* another request waits for the supervisor (not forced) */
} HaReinitVerdict;

typedef struct HaReinitFacts
{
	const char *self;			/* this member's name */
	const char *leader;			/* the leader key's holder, "" none */
	bool		is_leader;		/* this node holds the leader key */
	bool		supervised;		/* run by pg_ha_supervisor */
	bool		leader_addressable; /* the leader's conn_url gives host and port */
	bool		reinit_requested;	/* this postgres asked for one (it stops for it) */
	const char *pending_action; /* action of a pg_ha.request not read yet; NULL none */
	bool		force;			/* replace a pending request of another action */
} HaReinitFacts;

extern HaReinitVerdict ha_reinit_check(const HaReinitFacts *f);

/*
 * The answer's text (Patroni's where it has one); pending_action names the
 * request in progress for HA_RIV_OTHER_PENDING.
 */
extern void ha_reinit_message(HaReinitVerdict v, const char *pending_action,
							  char *buf, size_t cap);

#endif							/* REINIT_RULE_H */
