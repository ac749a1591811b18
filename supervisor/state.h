/*-------------------------------------------------------------------------
 *
 * state.h
 *	  The supervisor node's states and which changes between them are
 *	  allowed (pure; unit-tested in tests/test_state.c).  node.c's
 *	  node_enter() is the one place the state changes, and logs it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SUP_STATE_H
#define SUP_STATE_H

#include <stdbool.h>

/* The node's state; every change is one "state: a -> b (why)" log line */
typedef enum NodeState
{
	NODE_PREPARING,				/* bootstrap or first start (node_prepare) */
	NODE_RUNNING,				/* postgres runs under this supervisor */
	NODE_REJOINING,				/* becoming a standby of a leader */
	NODE_HANDING_OVER,			/* a graceful hand-over requested by the agent */
	NODE_RESTARTING,			/* a restart in place requested by the agent */
	NODE_RESTART_WAIT,			/* postgres is down; a restart is scheduled */
	NODE_PAUSED,				/* postgres crashed while the cluster is paused: it stays down until resumed */
	NODE_STOPPING,				/* a shutdown signal is being carried out (final) */
	NODE_FAILED,				/* a refusal or a give-up: the supervisor exits 1 (final) */
} NodeState;

extern const char *node_state_name(NodeState s);

/*
 * Whether the state may go from "from" to "to": not to itself, and
 * nothing leaves "failed"; "stopping" leads only to "failed".
 */
extern bool node_state_allows(NodeState from, NodeState to);

#endif							/* SUP_STATE_H */
