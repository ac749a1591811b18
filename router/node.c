/*
 * node.c - a node's lifetime, at the bottom of the router: created by
 * topology.c for the configuration, which holds one reference; every session,
 * check, lookup and open timer pointing at it holds another; freed when the
 * last one is dropped (a node retired by a reload lives on until its sessions
 * and probes end).  The references and the slot count are atomics: relay
 * loops hold references too (sessions, routing snapshots), and the last one
 * may be dropped on any loop -- by then nothing on the main loop points at
 * the node.  Calls no other router file.
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
	atomic_init(&node->refs, 1);
	atomic_init(&node->in_use, 0);
	return node;
}

void
node_ref(Node *node)
{
	atomic_fetch_add_explicit(&node->refs, 1, memory_order_relaxed);
}

void
node_unref(Node *node)
{
	/* release: this thread's writes happen before the free on another */
	if (atomic_fetch_sub_explicit(&node->refs, 1, memory_order_acq_rel) == 1)
		free(node);
}

/*
 * Takes a session slot on the node unless maxconn (0: no limit) are taken:
 * one limit for both services, they share the node's max_connections.  A
 * compare-and-swap, so two loops cannot both take the last slot.
 */
bool
node_reserve(Node *node, int maxconn)
{
	int			in_use = atomic_load_explicit(&node->in_use, memory_order_relaxed);

	do
	{
		if (maxconn > 0 && in_use >= maxconn)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&node->in_use, &in_use, in_use + 1,
													memory_order_relaxed, memory_order_relaxed));
	return true;
}

void
node_release(Node *node)
{
	atomic_fetch_sub_explicit(&node->in_use, 1, memory_order_relaxed);
}

/* Raises *max to value if it is below (a high-water mark counted on several loops). */
void
counter_max(_Atomic uint64_t *max, uint64_t value)
{
	uint64_t	seen = atomic_load_explicit(max, memory_order_relaxed);

	while (seen < value &&
		   !atomic_compare_exchange_weak_explicit(max, &seen, value, memory_order_relaxed,
												  memory_order_relaxed))
		;
}
