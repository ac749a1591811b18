/*-------------------------------------------------------------------------
 *
 * node.h
 *	  What the supervisor does to its node: bootstrap, start, rejoin
 *	  (with the rewind decision, pg_rewind or a re-clone), the
 *	  graceful hand-over, and the restart after a crash.  PROTOCOL.md is
 *	  the contract these follow.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SUP_NODE_H
#define SUP_NODE_H

#include <stdbool.h>

#include "conf.h"
#include "proto.h"
#include "state.h"

/* Exit codes */
#define SUP_EXIT_OK		0
#define SUP_EXIT_FAIL	1
#define SUP_EXIT_CONFIG 2

/* What a call into the node asks main to do next */
typedef enum NodeOutcome
{
	NODE_CONTINUE,				/* postgres runs, or a restart is scheduled: go on */
	NODE_EXIT_OK,				/* stop the supervisor, exit code 0 */
	NODE_EXIT_FAIL,				/* stop the supervisor, exit code 1 */
} NodeOutcome;

/* The exit code for an outcome other than NODE_CONTINUE */
extern int	node_exit_code(NodeOutcome o);

/* The node's configuration (main.c owns it; reloaded on SIGHUP). */
extern NodeConf *node_conf;

/*
 * Brings the node up from whatever is in data_dir: bootstrap (initdb or
 * clone) when it is empty, else start postgres as its data says.
 * NODE_CONTINUE when postgres runs.
 */
extern NodeOutcome node_prepare(void);

/* Reads, removes and carries out pg_ha.request; false if there was none. */
extern bool node_check_request(void);

/*
 * Postgres exited on its own (status from waitpid): a crash unless a
 * request explains it.
 */
extern NodeOutcome node_postgres_exited(int status);

/* Called every loop turn: a restart that is due, or a failure to report. */
extern NodeOutcome node_tick(void);

/* SIGTERM: graceful hand-over when this node leads, else fast shutdown. */
extern void node_shutdown_graceful(void);

/* SIGINT (fast) / SIGQUIT (immediate) */
extern void node_shutdown(int sig);

#endif							/* SUP_NODE_H */
