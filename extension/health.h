/*-------------------------------------------------------------------------
 *
 * health.h
 *	  Patroni-compatible health status codes, as a pure function of the
 *	  agent's in-memory view.  The rules are Patroni 3.0.2's (api.py
 *	  do_GET), see shared/reference/patroni-and-peers.md section 1.2, with
 *	  one deliberate difference: "leader" here means a live ZooKeeper
 *	  session that holds the leader key, not a time lease, so a primary cut
 *	  from ZooKeeper answers 503 at once (fencing).
 *
 *-------------------------------------------------------------------------
 */
#ifndef HEALTH_H
#define HEALTH_H

#include "ha_types.h"

/* Which handler a request path goes to (first path segment, like Patroni). */
typedef enum HaRoute
{
	HA_ROUTE_HEALTH,			/* generic health check (any other path) */
	HA_ROUTE_PATRONI,			/* GET /patroni: status JSON, always 200 */
	HA_ROUTE_CLUSTER,			/* GET /cluster */
	HA_ROUTE_METRICS,			/* GET /metrics */
	HA_ROUTE_LIVENESS,
	HA_ROUTE_READINESS,
	HA_ROUTE_CONFIG,
	HA_ROUTE_HISTORY,
	HA_ROUTE_WATCH,				/* GET /watch: long-poll for a role change */
	HA_ROUTE_SWITCHOVER,		/* POST /switchover */
	HA_ROUTE_FAILOVER,			/* POST /failover */
	HA_ROUTE_RESTART,			/* POST /restart */
	HA_ROUTE_REINITIALIZE		/* POST /reinitialize */
} HaRoute;

/* path is the request path without the query ("/", "/replica", ...). */
extern HaRoute ha_route_for_path(const char *path);

typedef struct HaHealthInput
{
	bool		pg_running;		/* postgres accepts connections ("running") */
	bool		in_recovery;	/* role replica */
	bool		is_leader;		/* live ZK session, holds the leader key, not in recovery */
	bool		has_dcs_view;	/* live ZK session with a current cluster view */
	bool		is_sync_standby;	/* named in /sync */
	bool		loop_alive;		/* the agent's loop ran recently (liveness) */
	uint64_t	leader_lsn;		/* leader's published position; 0 = unknown */
	uint64_t	replayed_lsn;	/* this node's replay position (replica) */
	HaTags		tags;
} HaHealthInput;

/*
 * Status code (200 or 503) for a health path with its query string
 * ("lag=16MB&tag_nofailover=false"; "" if none), per the Patroni table.
 * Liveness and readiness are answered here too.
 */
extern int	ha_health_status(const HaHealthInput *in, HaRoute route,
							 const char *path, const char *query);

/*
 * Parses a size like Patroni's parse_int(value, 'B'): "1048576", "16MB",
 * "1GB", "512kB" (units B, kB, MB, GB, TB; case as PostgreSQL's).  Returns
 * false on garbage or overflow.
 */
extern bool ha_parse_bytes(const char *s, uint64_t *out);

/*
 * The agent's one query-string reader: the first non-empty value of key in
 * "a=1&b=2", decoded as Python's parse_qs does ('+' a space, %XX a byte),
 * the way Patroni reads ?lag= and ?tag_*=.  False when key is absent, or
 * its value is longer than cap - 1 bytes or holds a NUL.
 */
extern bool ha_query_value(const char *query, const char *key, char *out,
						   size_t cap);

/*
 * GET /watch's ?timeout=<seconds>: a plain decimal number of seconds, at
 * most max; dflt (also at most max) when absent or anything else (a size
 * such as "30kB" is not a number of seconds).
 */
extern uint64_t ha_watch_timeout_secs(const char *query, uint64_t dflt,
									  uint64_t max);

#endif							/* HEALTH_H */
