/*
 * route.c - the routing choices made from the nodes' health, without I/O:
 * which node is the write target (decide_write_target over the primary
 * checks and leader epochs, on the main loop) and which node a new client
 * goes to (from a routing snapshot, on a relay loop).  Called by proxy.c (a
 * client to place) and topology.c (health or configuration changed); calls
 * only node.c, decide.c and the log.
 */
#include "router.h"

#include <stdio.h>
#include <string.h>

/*
 * The write target: decide_write_target over the nodes' primary checks and
 * leader epochs (never two write backends at once).  Returns true when it
 * changed, with the previous one (or NULL) in *old_target.
 */
bool
route_update_write_target(RouterContext *ctx, Node **old_target)
{
	Service    *service = &ctx->services[SERVICE_WRITE];
	Node	   *old = service->target;
	Node	   *nodes[CONFIG_MAX_NODES];
	WriterCandidate candidates[CONFIG_MAX_NODES];
	Node	   *best;
	int			n = 0;
	int			count;
	int			chosen;
	char		names[256] = "";
	ListLink   *pos;
	ListLink   *tmp;

	list_for_each_safe(pos, tmp, &ctx->nodes)
	{
		Node	   *node = container_of(pos, Node, link);

		if (n == CONFIG_MAX_NODES)
			break;
		nodes[n] = node;
		candidates[n].up = node->checks[CHECK_PRIMARY].health.status == HEALTH_UP;
		candidates[n].has_epoch = node->has_epoch;
		candidates[n].epoch = node->leader_epoch;
		if (candidates[n].up)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
					 names[0] ? ", " : "", node->cfg.name);
		n++;
	}
	chosen = decide_write_target(candidates, n, &count);
	best = chosen >= 0 ? nodes[chosen] : NULL;
	if (count > 1 && count != ctx->primaries_seen)
	{
		if (best)
			log_warn(&ctx->log, "%d nodes pass the primary check (%s): writing to %s, the highest leader epoch",
					 count, names, best->cfg.name);
		else
			log_warn(&ctx->log, "%d nodes pass the primary check (%s) and no leader epoch tells them apart: holding write clients",
					 count, names);
	}
	ctx->primaries_seen = count;
	*old_target = old;
	if (best == old)
		return false;

	service->target = best;
	service->target_since_ms = uv_now(ctx->loop);
	log_info(&ctx->log, "write target: %s -> %s", old ? old->cfg.name : "(none)",
			 best ? best->cfg.name : "(none)");
	*old_target = old;
	return true;
}

/* A slot on entry's node (maxconn), if its address is known. */
static bool
take_slot(const RouteNode *entry)
{
	return entry->addr_known && node_reserve(entry->node, entry->maxconn);
}

/*
 * The node a new client goes to, from a routing snapshot (run on the relay
 * loops): the write target, or for reads the next replica whose check
 * passes (round robin from *rr_next, or the one with the fewest sessions),
 * else the primary when read-fallback allows it.  The returned node has a
 * slot reserved for the client (node_release gives it back).
 */
const RouteNode *
route_pick(const RouteView *view, unsigned *rr_next, ServiceKind kind, bool *via_fallback)
{
	const RouteNode *chosen = NULL;
	unsigned	count = (unsigned) view->n_nodes;

	*via_fallback = false;
	if (kind == SERVICE_WRITE)
		return view->target >= 0 && take_slot(&view->nodes[view->target])
			? &view->nodes[view->target] : NULL;

	if (count > 0 && view->cfg.balance == BALANCE_LEASTCONN)
	{
		/* fewest first; a node that is full meanwhile gives way to the next */
		bool		tried[CONFIG_MAX_NODES] = {false};

		for (unsigned round = 0; round < count && chosen == NULL; round++)
		{
			const RouteNode *best = NULL;

			for (unsigned i = 0; i < count; i++)
			{
				const RouteNode *entry = &view->nodes[i];

				if (!tried[i] && entry->read_up && entry->addr_known &&
					(best == NULL ||
					 atomic_load(&entry->node->traffic[SERVICE_READ].cur_sessions) <
					 atomic_load(&best->node->traffic[SERVICE_READ].cur_sessions)))
					best = entry;
			}
			if (best == NULL)
				break;
			tried[best - view->nodes] = true;
			if (take_slot(best))
				chosen = best;
		}
	}
	else if (count > 0)
	{
		/* round robin: start one past the last pick, take the first eligible */
		unsigned	start = *rr_next % count;

		for (unsigned step = 0; step < count && chosen == NULL; step++)
		{
			unsigned	wanted = (start + step) % count;
			const RouteNode *entry = &view->nodes[wanted];

			if (entry->read_up && take_slot(entry))
			{
				chosen = entry;
				*rr_next = wanted + 1;
			}
		}
	}
	if (chosen)
		return chosen;
	if (view->cfg.read_fallback == READ_FALLBACK_PRIMARY && view->target >= 0 &&
		take_slot(&view->nodes[view->target]))
	{
		*via_fallback = true;
		return &view->nodes[view->target];
	}
	return NULL;
}
