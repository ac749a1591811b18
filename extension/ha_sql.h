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

#endif							/* HA_SQL_H */
