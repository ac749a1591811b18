/*-------------------------------------------------------------------------
 *
 * callbacks.h
 *	  Patroni's postgresql.callbacks, run by the supervisor: the node
 *	  configuration's on_start, on_stop, on_restart, on_reload and
 *	  on_role_change commands, each run as
 *	  "<command> <action> <role> <scope>" (no shell), e.g.
 *	  "/etc/pg_ha/cb.sh on_role_change master my_cluster".
 *
 * Asynchronous, as in Patroni: the supervisor starts a runner (itself,
 * "pg_ha_supervisor --run-callback ...") and goes on; the runner runs the
 * command in its own process group, logs its command line, every output
 * line ("callback on_start: ...") and its exit status, and stops it after
 * callback_timeout (SIGTERM, SIGKILL 10 s later).  One callback runs at a
 * time: a new one first stops a previous one still running (logged).
 * Which callback is due is callback_policy.c's (pure) decision.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SUP_CALLBACKS_H
#define SUP_CALLBACKS_H

#include <stdbool.h>
#include <sys/types.h>

#include "conf.h"

/* The configuration the callbacks are read from (main's, reloaded in place). */
extern void callbacks_setup(const NodeConf *c);

/*
 * Every loop turn: our postmaster (0: none), its postmaster.pid status
 * line ("" when unknown) and whether standby.signal is there.  Runs
 * on_start, on_restart or on_role_change when one is due.
 */
extern void callbacks_observe(pid_t postmaster, const char *pm_status, bool standby_signal);

/* Postgres was stopped on purpose (pg_stop, or by the agent for a request): on_stop. */
extern void callbacks_postgres_stopped(void);

/*
 * The supervisor restarts postgres in place (call before stopping it):
 * no on_stop for the stop, on_restart once the new postmaster runs.
 * A crash restart is recognised without it.
 */
extern void callbacks_expect_restart(void);

/* Postgres was sent SIGHUP: on_reload. */
extern void callbacks_reloaded(void);

/* At exit: lets a running callback end (at most callback_timeout + 12 s). */
extern void callbacks_finish(void);

/*
 * "pg_ha_supervisor --run-callback NAME TIMEOUT COMMAND ACTION ROLE SCOPE":
 * the runner (argv from NAME on).  Returns the exit code.
 */
extern int	callbacks_runner_main(int argc, char **argv);

#endif							/* SUP_CALLBACKS_H */
