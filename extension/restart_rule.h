/*-------------------------------------------------------------------------
 *
 * restart_rule.h
 *	  The rules of a requested restart (POST /restart, ha_restart()), as
 *	  pure functions of data, the way Patroni has them: which request body
 *	  is valid, and whether this node's facts match its conditions (role,
 *	  postgres_version, restart_pending).  ha_api.c, ha_sql.c and
 *	  ha_duties.c gather the facts and carry out the verdict.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTART_RULE_H
#define RESTART_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iso_time.h"

#define HA_RESTART_ROLE_LEN		16

/* A restart request: what POST /restart's body or ha_restart() asked for. */
typedef struct HaRestartRequest
{
	bool		scheduled;		/* "schedule" was given */
	int64_t		at_us;			/* ... for then (Unix microseconds) */
	char		schedule[ISO_TIME_LEN]; /* ... as written */
	bool		restart_pending;	/* only if a parameter waits for a restart */
	char		role[HA_RESTART_ROLE_LEN];	/* only in this role: "", "master", "replica" */
	int			postgres_version;	/* only if running an older version; 0: any */
	char		postgres_version_text[16];
	int			timeout_s;		/* how long postgres may take to start; 0: default */
} HaRestartRequest;

/* What the conditions are checked against. */
typedef struct HaRestartFacts
{
	bool		is_primary;		/* postgres runs as a primary */
	int			server_version_num; /* e.g. 150004 */
	bool		pending_restart;	/* a parameter waits for a restart */
} HaRestartFacts;

/*
 * Patroni's postgres_version_to_int: "X.Y.Z" (X < 10) or "X.Y" (X >= 10)
 * to server_version_num form (9.5.3 -> 90503, 15.4 -> 150004); -1 if the
 * text is not such a version.
 */
extern int	ha_pg_version_to_int(const char *text);

/*
 * Parses POST /restart's body (empty: restart now, no conditions).
 * Returns 0, or the HTTP status that refuses it (400, 422) with err set
 * to Patroni's message.  now_us judges a schedule in the past.
 */
extern int	ha_restart_parse(const char *body, size_t len, int64_t now_us,
							 HaRestartRequest *r, char *err, size_t errlen);

/* NULL when the facts match every condition, else Patroni's reason (static). */
extern const char *ha_restart_mismatch(const HaRestartRequest *r,
									   const HaRestartFacts *f);

#endif							/* RESTART_RULE_H */
