/*-------------------------------------------------------------------------
 *
 * ha_sql.h
 *	  What the files of SQL functions (ha_sql.c, ha_sql_member.c) share.
 *
 *-------------------------------------------------------------------------
 */
#ifndef HA_SQL_H
#define HA_SQL_H

/* ERROR unless the library was preloaded (the agent's shared memory exists). */
extern void ha_sql_require_loaded(void);

/* Waits on our latch for at most ms (interruptible, exits on postmaster death). */
extern void ha_sql_nap(long ms);

/* ERROR for a request slot that is busy (or has no agent to take it). */
extern void ha_sql_slot_unavailable(bool agent_running, const char *busy) pg_attribute_noreturn();

#endif							/* HA_SQL_H */
