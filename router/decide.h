/*
 * decide.h - the router's decisions as pure functions of what it observed:
 * what a /watch result means and when the next one is sent, when a check
 * result applies at once instead of after `rise` or `fall`, and which node
 * is the write target.  No I/O and no clock here (check.c and topology.c
 * feed them), so every rule is unit-tested (tests/test_decide.c).
 */
#ifndef ROUTER_DECIDE_H
#define ROUTER_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "health.h"

/* ---- /watch ---- */

/* What the router knows about a node's /watch. */
typedef enum WatchMode
{
	WATCH_MODE_TRYING,			/* nothing came back yet */
	WATCH_MODE_SUPPORTED,		/* the last result was a valid watch reply */
	WATCH_MODE_RETRYING,		/* no usable answer: the node is down, restarting
								 * or busy; retried at the check interval */
	WATCH_MODE_LOST,			/* it answered watches, then stopped answering:
								 * postgres is restarting; retried every second */
	WATCH_MODE_UNSUPPORTED		/* 404 or 501: the endpoint does not exist */
} WatchMode;

typedef enum WatchOutcome
{
	WATCH_OUTCOME_REPLY,		/* a valid watch reply */
	WATCH_OUTCOME_NOT_FOUND,	/* HTTP 404 or 501 */
	WATCH_OUTCOME_NO_ANSWER,	/* refused, reset, closed or timed out before a
								 * complete answer: the node is down or restarting */
	WATCH_OUTCOME_BAD_REPLY		/* something answered, but not a watch reply
								 * (another status, garbage) */
} WatchOutcome;

/*
 * Classifies a finished /watch request.  answered: the connection delivered
 * bytes and ended normally (buf/len hold them); false for a refused, reset
 * or timed-out request, whatever arrived.  Fills *reply for a valid reply.
 */
WatchOutcome decide_watch_outcome(bool answered, const char *buf, size_t len,
								  WatchReply *reply);

typedef struct WatchTiming
{
	uint64_t	check_interval_ms;	/* the primary check's interval */
	uint64_t	timeout_ms;		/* how long the agent may hold a watch */
	uint64_t	backoff_ms;		/* the pause after "not supported" */
} WatchTiming;

#define WATCH_CHANGE_PAUSE_MS	10	/* a reply reported a change: ask again soon */
#define WATCH_EARLY_PAUSE_MS	1000	/* the agent did not hold the request */
#define WATCH_LOST_RETRY_MS		1000	/* an agent that answered went away */

typedef struct WatchStep
{
	WatchMode	mode;			/* the node's watch mode after this result */
	bool		check_now;		/* the watch broke: check at once, and a failed
								 * check marks the node DOWN at once */
	uint64_t	next_ms;		/* pause before the next /watch */
} WatchStep;

/*
 * What a /watch result means and when to send the next one.
 *   reply: SUPPORTED; again after WATCH_CHANGE_PAUSE_MS when its answer
 *     differs from what was asked (reply_changed), after WATCH_EARLY_PAUSE_MS
 *     when it came back in less than half the timeout (not held), else at once.
 *   404/501: UNSUPPORTED; again after the backoff.
 *   no answer: RETRYING, again after the check interval; when the watch was
 *     SUPPORTED it broke: LOST and check_now; LOST stays LOST and is tried
 *     again every WATCH_LOST_RETRY_MS (at most the check interval), as a
 *     restarted agent answers at once and faults come in clusters.
 *   another answer: RETRYING, again after the check interval.
 */
WatchStep	decide_watch_step(WatchMode before, WatchOutcome outcome, bool reply_changed,
							  uint64_t elapsed_ms, const WatchTiming *timing);

/*
 * A check of the node got an HTTP answer (check_answered): its API is up.
 * True when a watch that found no usable answer should be sent at once
 * rather than at its next retry.
 */
bool		decide_watch_retry_on_check(WatchMode mode, bool check_answered);

const char *decide_watch_mode_name(WatchMode mode);

/* ---- applying one check result ---- */

typedef struct CheckFacts
{
	bool		primary_check;	/* the primary check (else the replica check) */
	bool		passed;
	int			previous_http_status;	/* the check before: 0 when it got no HTTP answer */
	bool		watch_says_primary; /* the agent's watch reported primary and asked
									 * for this check */
	bool		loss_witness;	/* another witness says the node is gone (its watch
								 * broke, a client could not connect) */
	bool		has_epoch;		/* this reply's leader epoch */
	uint64_t	epoch;
	bool		newest_known;	/* the newest epoch the router has seen on a node
								 * whose primary check was UP */
	uint64_t	newest_epoch;
} CheckFacts;

typedef enum CheckVerdict
{
	CHECK_COUNTS,				/* counts toward rise/fall (health_record) */
	CHECK_UP_WATCH,				/* UP now: the watch and the check agree */
	CHECK_UP_PROMOTED,			/* UP now: the node was newly promoted */
	CHECK_DOWN_LOST				/* DOWN now: two witnesses say it is gone */
} CheckVerdict;

/*
 * How one check result is applied to a node in `status`:
 *   - a pass of the primary check that the node's own watch announced: UP now;
 *   - a pass of the primary check of a DOWN node that was newly promoted: UP
 *     now, whatever `rise` says.  Newly promoted means its previous check got
 *     an HTTP answer other than 200 (the node was up and said "not primary"),
 *     or this reply's leader epoch is newer than any the router has seen on a
 *     primary.  A node coming back from unreachable with no newer epoch
 *     still needs `rise` passes;
 *   - a failure of an UP node with a loss witness: DOWN now;
 *   - anything else counts toward rise/fall.
 * Two primaries are still told apart by topology (decide_write_target).
 */
CheckVerdict decide_check(HealthStatus status, const CheckFacts *facts);

/* Applies a verdict to the state machine; returns the transition. */
HealthTransition decide_apply_check(HealthState *state, CheckVerdict verdict, bool passed);

/* ---- the write target ---- */

typedef struct WriterCandidate
{
	bool		up;				/* its primary check passes */
	bool		has_epoch;
	uint64_t	epoch;
} WriterCandidate;

/*
 * The write target among n candidates: the one that is up; when several are,
 * the one with the highest leader epoch, provided every one of them has an
 * epoch and the highest is unique; otherwise none (write clients are held:
 * never two write backends at once).  Returns its index or -1; *up_count
 * (may be NULL) gets how many are up.
 */
int			decide_write_target(const WriterCandidate *candidates, int n, int *up_count);

#endif
