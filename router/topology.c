/*
 * topology.c - the running nodes: how a (re)loaded configuration is
 * reconciled with them without dropping live sessions, and
 * what a health change does to the routing (route.c) and to the sessions
 * (on the relay loops, through relay.c: the new routing snapshot first, then
 * the shutdown of the sessions that lost their node).
 */
#include "router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static Node *
find_node(RouterContext *ctx, const char *name)
{
	ListLink   *pos;
	ListLink   *tmp;

	list_for_each_safe(pos, tmp, &ctx->nodes)
	{
		Node	   *node = container_of(pos, Node, link);

		if (strcmp(node->cfg.name, name) == 0)
			return node;
	}
	return NULL;
}

/* The write target moved: what goes with it on the session side. */
static void
topology_update_write_target(RouterContext *ctx)
{
	Node	   *old;

	bool		changed = route_update_write_target(ctx, &old);

	relay_publish(ctx, false);
	/* sessions on the old primary must not outlive its role */
	if (changed && old)
		relay_shutdown_node_sessions(ctx, old, SERVICE_WRITE, false, "no longer the write target");
}

void
topology_on_health_change(Node *node, CheckKind kind, HealthTransition transition)
{
	RouterContext *ctx = node->ctx;

	if (node->retired || transition == HEALTH_NO_CHANGE)
		return;
	if (kind == CHECK_PRIMARY)
	{
		topology_update_write_target(ctx);
		if (transition == HEALTH_WENT_DOWN)
		{
			/* on-marked-down shutdown-sessions */
			relay_shutdown_node_sessions(ctx, node, SERVICE_WRITE, false, "primary check marked it down");
			relay_shutdown_node_sessions(ctx, node, SERVICE_READ, true, "primary check marked it down (read fallback)");
		}
	}
	else
	{
		relay_publish(ctx, false);	/* the read pool changed */
		if (transition == HEALTH_WENT_DOWN)
			relay_shutdown_node_sessions(ctx, node, SERVICE_READ, false, "replica check marked it down");
	}
}

static void
node_retire(RouterContext *ctx, Node *node)
{
	log_info(&ctx->log, "node %s removed from the configuration; its live sessions continue",
			 node->cfg.name);
	list_remove(&node->link);
	node->retired = true;
	if (ctx->services[SERVICE_WRITE].target == node)
		ctx->services[SERVICE_WRITE].target = NULL;
	check_node_stop(node);
	node_unref(node);			/* the configuration's reference */
}

static bool
same_check(const CheckConfig *a, const CheckConfig *b)
{
	return a->method == b->method && strcmp(a->path, b->path) == 0;
}

/*
 * Takes cfg's nodes and settings (its listeners are already open:
 * listener_apply).  Node names are not looked up here (see resolve.c): a
 * name that does not resolve yet leaves its node DOWN, it does not block the
 * router.
 */
void
topology_apply(RouterContext *ctx, const RouterConfig *cfg)
{
	bool		primary_check_changed;
	bool		replica_check_changed;
	ListLink   *pos;
	ListLink   *tmp;

	primary_check_changed = !same_check(&ctx->cfg->primary_check, &cfg->primary_check);
	replica_check_changed = !same_check(&ctx->cfg->replica_check, &cfg->replica_check);
	*ctx->cfg = *cfg;
	ctx->log.min_level = ctx->verbose ? LOG_DEBUG : cfg->log_level;

	/* nodes gone from the configuration are retired (sessions continue) */
	list_for_each_safe(pos, tmp, &ctx->nodes)
	{
		Node	   *node = container_of(pos, Node, link);
		bool		wanted = false;

		for (int i = 0; i < cfg->n_nodes; i++)
			wanted |= strcmp(cfg->nodes[i].name, node->cfg.name) == 0;
		if (!wanted)
			node_retire(ctx, node);
	}

	for (int i = 0; i < cfg->n_nodes; i++)
	{
		const NodeConfig *ncfg = &cfg->nodes[i];
		Node	   *node = find_node(ctx, ncfg->name);

		if (node)
		{
			NodeConfig	old = node->cfg;
			bool		check_moved = !config_same_addr(&old.check_addr, &ncfg->check_addr);

			if (!config_same_addr(&old.addr, &ncfg->addr))
				log_info(&ctx->log, "node %s moves to %s:%u; live sessions stay on the old address",
						 ncfg->name, ncfg->addr.host, ncfg->addr.port);
			node->cfg = *ncfg;
			resolve_node_configured(node, &old);
			check_node_reconfigure(node, check_moved || primary_check_changed || replica_check_changed);
			continue;
		}
		node = node_new(ctx, ncfg);
		if (node == NULL)
		{
			log_error(&ctx->log, "out of memory adding node %s", ncfg->name);
			continue;
		}
		resolve_node_configured(node, NULL);
		list_push_back(&ctx->nodes, &node->link);
		log_info(&ctx->log, "node %s: clients to %s:%u, checks on %s:%u", ncfg->name,
				 ncfg->addr.host, ncfg->addr.port, ncfg->check_addr.host, ncfg->check_addr.port);
		check_node_start(node);
	}
	topology_update_write_target(ctx);
	relay_publish(ctx, true);
}

void
topology_stop(RouterContext *ctx)
{
	ListLink   *pos;
	ListLink   *tmp;

	ctx->services[SERVICE_WRITE].target = NULL;
	list_for_each_safe(pos, tmp, &ctx->nodes)
	{
		Node	   *node = container_of(pos, Node, link);

		list_remove(&node->link);
		node->retired = true;
		check_node_stop(node);
		node_unref(node);
	}
}
