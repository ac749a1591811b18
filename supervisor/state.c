/*-------------------------------------------------------------------------
 *
 * state.c
 *	  The supervisor node's states (see state.h).
 *
 *-------------------------------------------------------------------------
 */
#include "state.h"

const char *
node_state_name(NodeState s)
{
	switch (s)
	{
		case NODE_PREPARING:
			return "preparing";
		case NODE_RUNNING:
			return "running";
		case NODE_REJOINING:
			return "rejoining";
		case NODE_HANDING_OVER:
			return "handing over";
		case NODE_RESTARTING:
			return "restarting";
		case NODE_RESTART_WAIT:
			return "waiting to restart";
		case NODE_PAUSED:
			return "down while paused";
		case NODE_STOPPING:
			return "stopping";
		case NODE_FAILED:
			return "failed";
	}
	return "?";
}

bool
node_state_allows(NodeState from, NodeState to)
{
	if (from == to || from == NODE_FAILED)
		return false;
	if (from == NODE_STOPPING)
		return to == NODE_FAILED;
	return true;
}
