/*-------------------------------------------------------------------------
 *
 * postmaster.h
 *	  The node's postmaster, run as this program's child.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SUP_POSTMASTER_H
#define SUP_POSTMASTER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "conf.h"

extern bool pg_start(const NodeConf *c, const char *why);
extern pid_t pg_pid(void);
extern bool pg_running(void);
extern long long pg_started_at(void);

/* Reaps postgres if it exited: returns true once, with its wait status. */
extern bool pg_reap(int *status);

/*
 * Sends sig (SIGINT fast, SIGQUIT immediate) and waits for postgres to
 * exit; after timeout_ms escalates to SIGQUIT, then SIGKILL of its
 * process group.  Returns the wait status (or -1 if it was not running).
 */
extern int	pg_stop(int sig, int timeout_ms, const char *why);

/*
 * The status line of our postmaster's postmaster.pid ("starting",
 * "ready", "standby", "stopping"); false when it does not run or the
 * file is not its own.
 */
extern bool pg_pm_status(const NodeConf *c, char *buf, size_t cap);

/* Waits until the postmaster says it accepts connections (or is a standby). */
extern bool pg_wait_ready(const NodeConf *c, int timeout_ms);

/* Waits until no process of a dead postmaster holds its shared memory. */
extern bool pg_wait_shmem_free(const NodeConf *c, int timeout_ms);

/* A postmaster that is not our child runs on the data directory: its pid, else 0. */
extern pid_t pg_foreign_postmaster(const NodeConf *c);

#endif							/* SUP_POSTMASTER_H */
