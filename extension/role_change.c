/*-------------------------------------------------------------------------
 *
 * role_change.c
 *	  The table of role changes (see role_change.h).  Each row is one
 *	  transition and the line it logs; tests and operators match on these
 *	  lines (TAP 014 the fence, the router test "is now the leader").
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>

#include "role_change.h"

static const HaRoleTransition transitions[HA_RC_COUNT] = {
	/* detail: cluster "<scope>" (epoch <e>, timeline <t>) */
	{HA_RC_LEAD, "candidate", "leader",
	"\"%s\" is now the leader of %s"},
	/* detail: the decision that ended it (role.c's reason) */
	{HA_RC_UNLEAD, "leader", "not leader",
	"\"%s\" is no longer the leader: %s"},
	/* detail: it holds the leader key, epoch <e> */
	{HA_RC_PROMOTE, "replica", "promoting",
	"promoting \"%s\" (%s)"},
	/* detail: the candidate's name */
	{HA_RC_HAND_OVER, "leader", "handing over",
	"switchover: handing the leadership of \"%s\" over to \"%s\""},
	/* detail: why (role.c's reason) */
	{HA_RC_FENCE, "primary", "fenced primary",
	"\"%s\" stops accepting writes (fence): %s"},
	/* detail: why another node leads (role.c's reason) */
	{HA_RC_REJOIN_PRIMARY, "primary", "rejoining standby",
	"\"%s\" stops accepting writes (rejoin): %s"},
	/* detail: why it cannot follow */
	{HA_RC_REJOIN_STANDBY, "standby", "rewound standby",
	"\"%s\" stops to be rewound (rejoin): %s"},
};

const HaRoleTransition *
ha_role_transition(HaRoleChange change)
{
	if ((int) change < 0 || change >= HA_RC_COUNT)
		return NULL;
	return &transitions[change];
}

int
ha_role_change_text(HaRoleChange change, const char *self, const char *detail,
					char *buf, size_t len)
{
	const HaRoleTransition *t = ha_role_transition(change);

	if (t == NULL)
	{
		if (len > 0)
			buf[0] = '\0';
		return -1;
	}
	return snprintf(buf, len, t->text, self, detail ? detail : "");
}
