/*-------------------------------------------------------------------------
 *
 * crash_policy.c
 *	  The crash/restart policy (see crash_policy.h).
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "crash_policy.h"

void
crash_policy_init(CrashPolicy *p)
{
	memset(p, 0, sizeof(*p));
	p->backoff_ms = CRASH_BACKOFF_MIN_MS;
}

bool
crash_policy_count(CrashPolicy *p, long long now)
{
	int			recent = 0;

	for (int i = 0; i < p->nrestarts; i++)
		if (now - p->restarts[i] < CRASH_RESTART_WINDOW_MS)
			p->restarts[recent++] = p->restarts[i];
	p->nrestarts = recent;
	if (p->nrestarts >= CRASH_RESTART_LIMIT)
		return false;
	p->restarts[p->nrestarts++] = now;
	return true;
}

int
crash_policy_next_delay(CrashPolicy *p)
{
	int			delay = p->backoff_ms;

	p->backoff_ms = p->backoff_ms * 2 > CRASH_BACKOFF_MAX_MS ?
		CRASH_BACKOFF_MAX_MS : p->backoff_ms * 2;
	return delay;
}

bool
crash_policy_running(CrashPolicy *p, long long started_at, long long now)
{
	if (p->backoff_ms != CRASH_BACKOFF_MIN_MS &&
		now - started_at >= CRASH_BACKOFF_RESET_MS)
	{
		p->backoff_ms = CRASH_BACKOFF_MIN_MS;
		return true;
	}
	return false;
}

bool
crash_policy_replica_can_take_over(const HaMember *m, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(m[i].role, "replica") == 0 && !m[i].tags.nofailover)
			return true;
	return false;
}
