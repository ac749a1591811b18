/*-------------------------------------------------------------------------
 *
 * ha_state.c
 *	  The agent's state (struct Agent, ha_agent.h) and the one helper that
 *	  records an error in it for the view.
 *
 * The layers above use it and call only downward:
 *	  ha_worker.c (main loop) -> ha_api.c, ha_duties.c, ha_switchover.c
 *	  -> ha_session.c -> ha_state.c -> ha_zk.c
 * (scripts/callgraph.sh extension checks that no file calls one that calls it back).
 * ha_session.c only records what ZooKeeper answered here (for example
 * sync_written, failover_created_rc); ha_duties.c reads it on its next pass.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ha_agent.h"

Agent		agent;

void
ha_set_error(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(agent.view.last_error, sizeof(agent.view.last_error), fmt, ap);
	va_end(ap);
	agent.view_dirty = true;
}
