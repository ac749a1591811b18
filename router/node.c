/*
 * node.c - a node's lifetime, at the bottom of the router: created by
 * topology.c for the configuration, which holds one reference; every session,
 * check, lookup and open timer pointing at it holds another; freed when the
 * last one is dropped (a node retired by a reload lives on until its sessions
 * and probes end).  Calls no other router file.
 */
#include "router.h"

#include <stdlib.h>

/* A new node for ncfg holding the configuration's reference, or NULL. */
Node *
node_new(RouterContext *ctx, const NodeConfig *ncfg)
{
	Node	   *node = calloc(1, sizeof(*node));

	if (node == NULL)
		return NULL;
	node->ctx = ctx;
	node->cfg = *ncfg;
	node->refs = 1;
	list_init(&node->sessions[SERVICE_WRITE]);
	list_init(&node->sessions[SERVICE_READ]);
	return node;
}

void
node_ref(Node *node)
{
	node->refs++;
}

void
node_unref(Node *node)
{
	if (--node->refs == 0)
		free(node);
}

bool
node_has_room(const Node *node)
{
	uint64_t	in_use;

	if (!node->addr_known)
		return false;
	if (node->cfg.maxconn == 0)
		return true;
	/* one limit for both services: they share the node's max_connections */
	in_use = node->traffic[SERVICE_WRITE].cur_sessions +
		node->traffic[SERVICE_READ].cur_sessions;
	return in_use < (uint64_t) node->cfg.maxconn;
}
