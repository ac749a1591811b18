/*-------------------------------------------------------------------------
 *
 * callback_policy.h
 *	  Which of Patroni's callbacks (on_start, on_stop, on_restart,
 *	  on_reload, on_role_change) is due, and with which role, as pure
 *	  functions of what the supervisor observed: the postmaster it runs
 *	  (its pid, and the status line of postmaster.pid) and what it did
 *	  (a stop on purpose, a restart in place, a reload).  No I/O;
 *	  unit-tested in tests/test_callback_policy.c.  callbacks.c runs them.
 *
 * The role comes from what postgres itself keeps in its data directory:
 * postmaster.pid's status line says "ready" once the server accepts
 * connections (a primary, or a hot standby: read-only), "standby" for a
 * standby without hot_standby; standby.signal is there while it is a
 * standby (the supervisor writes it, postgres removes it when a
 * promotion ends).  Other states (starting, stopping) change nothing.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SUP_CALLBACK_POLICY_H
#define SUP_CALLBACK_POLICY_H

#include <stdbool.h>

typedef enum CbRole
{
	CB_ROLE_NONE,				/* not known (not running, starting, stopping) */
	CB_ROLE_MASTER,
	CB_ROLE_REPLICA,
} CbRole;

typedef enum CbAction
{
	CB_NONE,
	CB_ON_START,
	CB_ON_STOP,
	CB_ON_RESTART,
	CB_ON_RELOAD,
	CB_ON_ROLE_CHANGE,
} CbAction;

/* What the callbacks were told so far */
typedef struct CbTrack
{
	long		pid;			/* the postmaster last observed; 0: none */
	bool		announced;		/* on_start/on_restart/on_role_change ran for pid */
	CbRole		role;			/* the role last passed to a callback */
	bool		restart;		/* the next postmaster counts as a restart in place */
} CbTrack;

/* "on_start", ... (the callback's key and its first argument) */
extern const char *cb_action_name(CbAction a);

/* The role word passed to callbacks, as the agent's /patroni says it: "master", "replica" */
extern const char *cb_role_word(CbRole r);

/* The role shown by postmaster.pid's status line ("ready   ", "standby ", ...) and standby.signal */
extern CbRole cb_role_of(const char *pm_status, bool standby_signal);

/*
 * Every loop turn: our postmaster's pid (0: not running) and the role it
 * shows.  A new postmaster after one that ended without a stop on
 * purpose (a crash) counts as a restart in place.  Returns on_start,
 * on_restart or on_role_change once the postmaster shows a role (its
 * role in t->role), on_role_change when the role changes while it runs
 * (a promotion), else CB_NONE.
 */
extern CbAction cb_observe(CbTrack *t, long pid, CbRole role);

/*
 * The postmaster t->pid was stopped on purpose (by the supervisor, or by
 * the agent for a request).  on_stop (with t->role) when something was
 * announced for it, unless a restart in place is expected.
 */
extern CbAction cb_stopped(CbTrack *t);

/* The supervisor restarts postgres in place: no on_stop, and on_restart for the next postmaster. */
extern void cb_expect_restart(CbTrack *t);

/* Postgres was sent SIGHUP: on_reload (with t->role) while a role was announced. */
extern CbAction cb_reloaded(const CbTrack *t);

#endif							/* SUP_CALLBACK_POLICY_H */
