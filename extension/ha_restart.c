/*-------------------------------------------------------------------------
 *
 * ha_restart.c
 *	  Restarts asked of this node that wait in the restart slot (a
 *	  scheduled POST /restart, ha_restart() from SQL): the agent publishes
 *	  a scheduled one in its member key (Patroni's scheduled_restart) and,
 *	  when it is due, checks its conditions once more (Patroni does) and
 *	  asks the supervisor to restart postgres.  An immediate POST /restart
 *	  does not wait here: ha_api.c hands its client to the supervisor.
 *
 * Restarting the leader keeps its leadership: its agent leaves the
 * session (and the leader key) in place when postgres stops (ha_worker.c,
 * agent_sigterm), and the new agent takes the key over at once.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/lwlock.h"

#include "ha_agent.h"
#include "ha_local.h"
#include "ha_shmem.h"
#include "restart_rule.h"

static bool restart_asked = false;	/* once asked, postgres is going down */

bool
restart_in_progress(void)
{
	return restart_asked;
}

bool
restart_ask(const char *reason, uint64 reply_token)
{
	if (restart_asked || !ha_request_restart(reason, reply_token))
		return false;
	restart_asked = true;
	return true;
}

/* Keeps the member key's scheduled_restart in step with the slot. */
static void
publish_schedule(const HaRestartSlot *slot)
{
	HaMember   *self = &agent.view.self;
	const char *at = "";
	const char *version = "";

	if (slot->active && slot->req.scheduled)
	{
		at = slot->req.schedule;
		version = slot->req.postgres_version_text;
	}
	if (strcmp(self->scheduled_restart, at) == 0 &&
		strcmp(self->scheduled_restart_version, version) == 0)
		return;
	strlcpy(self->scheduled_restart, at, sizeof(self->scheduled_restart));
	strlcpy(self->scheduled_restart_version, version, sizeof(self->scheduled_restart_version));
	agent.self_changed = true;
	agent.view_dirty = true;
}

void
restart_tick(void)
{
	HaRestartSlot slot;
	HaRestartFacts f;
	const char *mismatch;
	bool		due;

	LWLockAcquire(ha_shared->lock, LW_EXCLUSIVE);
	slot = ha_shared->restart;
	due = slot.active && (!slot.req.scheduled || slot.req.at_us <= iso_time_now_us());
	if (due)
		ha_shared->restart.active = false;
	LWLockRelease(ha_shared->lock);

	if (due)
		slot.active = false;
	publish_schedule(&slot);
	if (!due || restart_in_progress())
		return;

	ha_restart_facts(&agent.view, &f);
	mismatch = ha_restart_mismatch(&slot.req, &f);
	if (mismatch)
	{
		ereport(LOG,
				(errmsg("pg_ha: not proceeding with the %s restart: %s",
						slot.req.scheduled ? "scheduled" : "requested", mismatch)));
		return;
	}
	if (!restart_ask(slot.req.scheduled ? "scheduled restart" : "restart requested from SQL", 0))
	{
		ereport(WARNING,
				(errmsg("pg_ha: cannot restart postgres: %s",
						ha_supervisor_pid() == 0 ? "it does not run under pg_ha_supervisor" :
						"the request to the supervisor could not be written")));
		return;
	}
	ereport(LOG,
			(errmsg("pg_ha: %s: the supervisor restarts postgres now",
					slot.req.scheduled ? "scheduled restart due" : "restart requested from SQL"),
			 errdetail("%s", agent.view.is_leader ? "This node leads and keeps the leader key across the restart." :
					   "This node is a replica.")));
}
