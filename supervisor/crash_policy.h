/*-------------------------------------------------------------------------
 *
 * crash_policy.h
 *	  The crash/restart policy as pure functions of the restart history
 *	  and the time: at most CRASH_RESTART_LIMIT restarts within
 *	  CRASH_RESTART_WINDOW_MS, a back-off that doubles from
 *	  CRASH_BACKOFF_MIN_MS up to CRASH_BACKOFF_MAX_MS, and that goes back
 *	  to the minimum once postgres has run CRASH_BACKOFF_RESET_MS.  No I/O;
 *	  unit-tested in tests/test_crash_policy.c.  node.c logs and acts.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SUP_CRASH_POLICY_H
#define SUP_CRASH_POLICY_H

#include <stdbool.h>

#include "ha_types.h"

#define CRASH_RESTART_LIMIT		10
#define CRASH_RESTART_WINDOW_MS	(5 * 60 * 1000)
#define CRASH_BACKOFF_MIN_MS	1000
#define CRASH_BACKOFF_MAX_MS	30000
#define CRASH_BACKOFF_RESET_MS	60000

typedef struct CrashPolicy
{
	long long	restarts[CRASH_RESTART_LIMIT];	/* times of recent restarts */
	int			nrestarts;
	int			backoff_ms;		/* the delay of the next restart */
} CrashPolicy;

extern void crash_policy_init(CrashPolicy *p);

/*
 * One more restart at now: forgets restarts older than the window, then
 * records it and returns true, or returns false (and records nothing)
 * when CRASH_RESTART_LIMIT restarts happened within the window.
 */
extern bool crash_policy_count(CrashPolicy *p, long long now);

/* The delay of the restart being scheduled; doubles the next one (capped). */
extern int	crash_policy_next_delay(CrashPolicy *p);

/*
 * Postgres runs since started_at: the back-off returns to the minimum once
 * it ran CRASH_BACKOFF_RESET_MS.  True if that changed the back-off.
 */
extern bool crash_policy_running(CrashPolicy *p, long long started_at, long long now);

/*
 * The primary crashed (and primary_start_timeout is 0): whether one of the
 * other members (m[0..n-1]) could take over: a replica without the
 * nofailover tag.  When none can, the primary restarts in place at once.
 */
extern bool crash_policy_replica_can_take_over(const HaMember *m, int n);

#endif							/* SUP_CRASH_POLICY_H */
