/*-------------------------------------------------------------------------
 *
 * reinit_rule.c
 *	  Whether a reinitialize request is accepted (see reinit_rule.h).
 *	  Pure; unit-tested in tests/unit/test_reinit_rule.c.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "reinit_rule.h"

HaReinitVerdict
ha_reinit_check(const HaReinitFacts *f)
{
	if (f->leader == NULL || f->leader[0] == '\0')
		return HA_RIV_NO_LEADER;
	/* the key may name us a moment before is_leader says so, or after */
	if (f->is_leader || strcmp(f->leader, f->self) == 0)
		return HA_RIV_IS_LEADER;
	if (!f->supervised)
		return HA_RIV_UNSUPERVISED;
	if (!f->leader_addressable)
		return HA_RIV_NO_LEADER_ADDRESS;
	/* once asked, postgres is stopping for it: a second one adds nothing */
	if (f->reinit_requested)
		return HA_RIV_IN_PROGRESS;
	if (f->pending_action && strcmp(f->pending_action, "reinit") == 0)
		return HA_RIV_IN_PROGRESS;
	/* a re-clone makes this node the leader's standby too: it may replace a rejoin */
	if (f->pending_action && !f->force)
		return HA_RIV_OTHER_PENDING;
	return HA_RIV_OK;
}

void
ha_reinit_message(HaReinitVerdict v, const char *pending_action, char *buf, size_t cap)
{
	switch (v)
	{
		case HA_RIV_OK:
			snprintf(buf, cap, "reinitialize started");
			return;
		case HA_RIV_NO_LEADER:
			snprintf(buf, cap, "Cluster has no leader, can not reinitialize");
			return;
		case HA_RIV_IS_LEADER:
			snprintf(buf, cap, "I am the leader, can not reinitialize");
			return;
		case HA_RIV_UNSUPERVISED:
			snprintf(buf, cap, "not run by pg_ha_supervisor, can not reinitialize");
			return;
		case HA_RIV_NO_LEADER_ADDRESS:
			snprintf(buf, cap, "the leader's address is unknown, can not reinitialize");
			return;
		case HA_RIV_IN_PROGRESS:
			snprintf(buf, cap, "reinitialize already in progress");
			return;
		case HA_RIV_OTHER_PENDING:
			snprintf(buf, cap, "%s already in progress", pending_action ? pending_action : "request");
			return;
	}
	snprintf(buf, cap, "can not reinitialize");
}
