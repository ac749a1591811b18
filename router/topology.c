/*
 * topology.c - the running nodes: how a (re)loaded configuration is
 * reconciled with them and the listeners without dropping live sessions, and
 * what a health change does to the routing (route.c) and to the sessions
 * (proxy.c).
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

	if (!route_update_write_target(ctx, &old))
		return;
	/* sessions on the old primary must not outlive its role */
	if (old)
		proxy_shutdown_node_sessions(old, SERVICE_WRITE, false, "no longer the write target");
	if (ctx->services[SERVICE_WRITE].target)
		proxy_schedule_dispatch(ctx);
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
			proxy_shutdown_node_sessions(node, SERVICE_WRITE, false, "primary check marked it down");
			proxy_shutdown_node_sessions(node, SERVICE_READ, true, "primary check marked it down (read fallback)");
		}
	}
	else if (transition == HEALTH_WENT_DOWN)
		proxy_shutdown_node_sessions(node, SERVICE_READ, false, "replica check marked it down");
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
same_addr(const ConfigAddr *a, const ConfigAddr *b)
{
	return a->port == b->port && strcmp(a->host, b->host) == 0;
}

static bool
same_check(const CheckConfig *a, const CheckConfig *b)
{
	return a->method == b->method && strcmp(a->path, b->path) == 0;
}

static bool
apply_listeners(RouterContext *ctx, const RouterConfig *cfg, char *errbuf, size_t errlen)
{
	Listener   *opened[CONFIG_MAX_LISTENERS];
	bool		keep[CONFIG_MAX_LISTENERS];
	int			n_opened = 0;
	ListLink   *pos;
	ListLink   *tmp;

	memset(keep, 0, sizeof(keep));
	for (int i = 0; i < cfg->n_listeners; i++)
	{
		Listener   *existing = NULL;

		if (ctx->draining)
			break;
		list_for_each_safe(pos, tmp, &ctx->listeners)
		{
			Listener   *l = container_of(pos, Listener, link);

			if (same_addr(&l->cfg.addr, &cfg->listeners[i].addr))
				existing = l;
		}
		if (existing)
		{
			keep[i] = true;
			continue;
		}
		opened[n_opened] = proxy_listener_open(ctx, &cfg->listeners[i], errbuf, errlen);
		if (opened[n_opened] == NULL)
		{
			/* undo: the old configuration stays in force */
			for (int j = 0; j < n_opened; j++)
				proxy_listener_close(opened[j]);
			return false;
		}
		n_opened++;
	}

	/* close what the new configuration no longer has; retag what it moved */
	list_for_each_safe(pos, tmp, &ctx->listeners)
	{
		Listener   *l = container_of(pos, Listener, link);
		bool		wanted = false;

		for (int i = 0; i < cfg->n_listeners; i++)
		{
			if (same_addr(&l->cfg.addr, &cfg->listeners[i].addr))
			{
				wanted = true;
				if (l->cfg.kind != cfg->listeners[i].kind)
				{
					log_info(&ctx->log, "listener %s:%u now serves %s clients", l->cfg.addr.host,
							 l->cfg.addr.port, config_listen_kind_name(cfg->listeners[i].kind));
					l->cfg.kind = cfg->listeners[i].kind;
				}
			}
		}
		if (!wanted)
		{
			log_info(&ctx->log, "no longer listening on %s:%u", l->cfg.addr.host, l->cfg.addr.port);
			proxy_listener_close(l);
		}
	}
	return true;
}

bool
topology_apply(RouterContext *ctx, const RouterConfig *cfg, char *errbuf, size_t errlen)
{
	bool		primary_check_changed;
	bool		replica_check_changed;
	ListLink   *pos;
	ListLink   *tmp;

	/* listeners first: a bind failure rejects the configuration unchanged.
	 * Node names are not looked up here (see resolve.c): a name that does
	 * not resolve yet leaves its node DOWN, it does not block the router. */
	if (!apply_listeners(ctx, cfg, errbuf, errlen))
		return false;

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
			bool		check_moved = !same_addr(&old.check_addr, &ncfg->check_addr);

			if (!same_addr(&old.addr, &ncfg->addr))
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
	proxy_schedule_dispatch(ctx);
	return true;
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
