/*
 * route.c - the routing choices made from the nodes' health, without I/O:
 * which node is the write target (decide_write_target over the primary
 * checks and leader epochs) and which node a new client goes to.  Called by
 * proxy.c (a client to place) and topology.c (health or configuration
 * changed); calls only node.c, decide.c and the log.
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

static bool
node_eligible_for_read(const Node *node)
{
	return node->checks[CHECK_REPLICA].health.status == HEALTH_UP && node_has_room(node);
}

Node *
route_pick(RouterContext *ctx, ServiceKind kind, bool *via_fallback)
{
	Service    *service = &ctx->services[kind];
	ListLink   *pos;
	ListLink   *tmp;
	Node	   *chosen = NULL;
	unsigned	count = 0;

	*via_fallback = false;
	if (kind == SERVICE_WRITE)
		return service->target && node_has_room(service->target) ? service->target : NULL;

	list_for_each_safe(pos, tmp, &ctx->nodes)
		count++;
	if (count > 0 && ctx->cfg->balance == BALANCE_LEASTCONN)
	{
		list_for_each_safe(pos, tmp, &ctx->nodes)
		{
			Node	   *node = container_of(pos, Node, link);

			if (node_eligible_for_read(node) &&
				(chosen == NULL ||
				 node->traffic[SERVICE_READ].cur_sessions < chosen->traffic[SERVICE_READ].cur_sessions))
				chosen = node;
		}
	}
	else if (count > 0)
	{
		/* round robin: start one past the last pick, take the first eligible */
		unsigned	start = service->rr_next % count;

		for (unsigned step = 0; step < count && chosen == NULL; step++)
		{
			unsigned	index = 0;
			unsigned	wanted = (start + step) % count;

			list_for_each_safe(pos, tmp, &ctx->nodes)
			{
				if (index++ == wanted)
				{
					Node	   *node = container_of(pos, Node, link);

					if (node_eligible_for_read(node))
					{
						chosen = node;
						service->rr_next = wanted + 1;
					}
					break;
				}
			}
		}
	}
	if (chosen)
		return chosen;
	if (ctx->cfg->read_fallback == READ_FALLBACK_PRIMARY)
	{
		Node	   *primary = ctx->services[SERVICE_WRITE].target;

		if (primary && node_has_room(primary))
		{
			*via_fallback = true;
			return primary;
		}
	}
	return NULL;
}
