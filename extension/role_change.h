/*-------------------------------------------------------------------------
 *
 * role_change.h
 *	  The role changes of a node, one row each in a table of transitions
 *	  (from which role, to which, and the line that is logged), so that
 *	  every change is logged the same way, from one place (ha_duties.c's
 *	  log_role_change), with its reason: README "Failover": "Every role
 *	  change is one LOG line (pg_ha: role change: ...)".
 *
 *-------------------------------------------------------------------------
 */
#ifndef ROLE_CHANGE_H
#define ROLE_CHANGE_H

#include <stddef.h>

typedef enum HaRoleChange
{
	HA_RC_LEAD,					/* it leads (won, kept or took over the key) */
	HA_RC_UNLEAD,				/* it no longer leads */
	HA_RC_PROMOTE,				/* a replica holding the key promotes */
	HA_RC_HAND_OVER,			/* the leader hands over (planned switchover) */
	HA_RC_FENCE,				/* a primary refuses writes, in place */
	HA_RC_REJOIN_PRIMARY,		/* a primary another node leads stops to rejoin */
	HA_RC_REJOIN_STANDBY,		/* a standby on a forked timeline stops to be rewound */
	HA_RC_COUNT
} HaRoleChange;

typedef struct HaRoleTransition
{
	HaRoleChange change;
	const char *from;			/* the role before */
	const char *to;				/* the role after */
	/*
	 * What is logged after "pg_ha: role change: ": a format with two %s,
	 * the node's name and then the detail (the reason, or whom it concerns).
	 */
	const char *text;
} HaRoleTransition;

/* The row of a change (NULL for one out of range). */
extern const HaRoleTransition *ha_role_transition(HaRoleChange change);

/*
 * The line for a change of node self, with detail (NULL: ""), into buf.
 * Returns what snprintf returns (the length it needed), or -1 for a change
 * out of range.
 */
extern int	ha_role_change_text(HaRoleChange change, const char *self,
								const char *detail, char *buf, size_t len);

#endif							/* ROLE_CHANGE_H */
