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

/* Exit codes */
#define SUP_EXIT_OK		0
#define SUP_EXIT_FAIL	1
#define SUP_EXIT_CONFIG 2

/* The node's configuration (main.c owns it; reloaded on SIGHUP). */
extern NodeConf *node_conf;

/*
 * Brings the node up from whatever is in data_dir: bootstrap (initdb or
 * clone) when it is empty, else start postgres as its data says.  Returns
 * an exit code to exit with, or -1 when postgres runs.
 */
extern int	node_prepare(void);

/* Reads, removes and carries out pg_ha.request; false if there was none. */
extern bool node_check_request(void);

/*
 * Postgres exited on its own (status from waitpid): a crash unless a
 * request explains it.  Returns an exit code, or -1 to go on.
 */
extern int	node_postgres_exited(int status);

/* Called every loop turn: a restart that is due. Returns an exit code or -1. */
extern int	node_tick(void);

/* SIGTERM: graceful hand-over when this node leads, else fast shutdown. */
extern void node_shutdown_graceful(void);

/* SIGINT (fast) / SIGQUIT (immediate) */
extern void node_shutdown(int sig);

#endif							/* SUP_NODE_H */
