/*
 * health.h - the pure part of health checking: the up/down state machine
 * with HAProxy's rise/fall semantics, and parsers for the HTTP replies of a
 * check and of the agent's /watch long-poll.  No I/O here (see check.c), so
 * all of it is unit-tested.
 */
#ifndef ROUTER_HEALTH_H
#define ROUTER_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum HealthStatus
{
	HEALTH_UNKNOWN,				/* no check has completed yet */
	HEALTH_UP,
	HEALTH_DOWN
} HealthStatus;

typedef enum HealthTransition
{
	HEALTH_NO_CHANGE,
	HEALTH_WENT_UP,
	HEALTH_WENT_DOWN
} HealthTransition;

typedef struct HealthState
{
	HealthStatus status;
	int			ok_streak;		/* consecutive passing checks */
	int			fail_streak;	/* consecutive failing checks */
	int			rise;			/* passing checks that turn DOWN into UP */
	int			fall;			/* failing checks that turn UP into DOWN */
} HealthState;

void		health_init(HealthState *state, int rise, int fall);

/* Changes rise/fall (reload) without forgetting the current status. */
void		health_set_thresholds(HealthState *state, int rise, int fall);

/*
 * Records one check result.  From UNKNOWN the first result decides at once
 * (so a fresh router routes after one check and never to an unchecked node);
 * after that UP needs `fall` consecutive failures to go DOWN and DOWN needs
 * `rise` consecutive passes to go UP.
 */
HealthTransition health_record(HealthState *state, bool passed);

/*
 * Sets the status at once, bypassing rise/fall: used when the agent's
 * /watch reported a role change and a check confirmed it.
 */
HealthTransition health_force(HealthState *state, HealthStatus status);

const char *health_status_name(HealthStatus status);

/*
 * Parses the status line of an HTTP reply ("HTTP/1.x NNN ...").
 * Returns 1 and sets *status when complete, 0 when more bytes are needed,
 * -1 when the bytes cannot be an HTTP status line.
 */
int			health_parse_status_line(const char *buf, size_t len, int *status);

/*
 * Finds the end of the headers.  Returns the offset of the body, or 0 when
 * the header block is not complete yet.  *content_length is set to the
 * Content-Length header's value or -1 when absent or invalid.
 */
size_t		health_find_body(const char *buf, size_t len, long *content_length);

/* How much of a reply a probe waits for (health_reply_complete). */
typedef enum ReplyNeed
{
	REPLY_NEED_HEADERS,			/* the status and the headers */
	REPLY_NEED_BODY_IF_LENGTH,	/* the body too when Content-Length gives its size */
	REPLY_NEED_BODY				/* the body: complete only by its Content-Length */
} ReplyNeed;

/*
 * Whether the first len bytes of a reply read into a buffer of cap bytes are
 * all there is to read: the buffer is full, the status line is garbage, or
 * what `need` asks for has arrived.  Otherwise reading goes on until the
 * server closes the connection (HTTP/1.0) or the deadline.
 */
bool		health_reply_complete(const char *buf, size_t len, size_t cap, ReplyNeed need);

/*
 * pg_ha's leader epoch from a complete reply's JSON body (a check of our
 * agent carries it as well as a watch); false when there is none.
 */
bool		health_parse_epoch(const char *buf, size_t len, uint64_t *epoch);

typedef struct WatchReply
{
	int			status;			/* 200 or 503 */
	bool		primary;		/* the agent's own primary-check result */
	bool		has_epoch;
	uint64_t	leader_epoch;
} WatchReply;

/*
 * Validates a complete reply to GET /watch.  It counts as a real watch reply
 * only when the status is 200 or 503 and the JSON body has a boolean
 * "primary" that agrees with it.  What anything else means (404 or 501:
 * not supported; another answer or none: retry) is decide_watch_outcome's.
 */
bool		health_parse_watch_reply(const char *buf, size_t len, WatchReply *out);

#endif
