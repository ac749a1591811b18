/*
 * listener.c - the listening sockets: opened, closed and reconciled with a
 * (re)loaded configuration (by main.c, before topology_apply), and what an
 * accepted connection is handed to: proxy.c for clients, stats.c for the
 * stats port.  A listener is freed in its handle's close callback.
 */
#include "router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
on_listener_connection(uv_stream_t *server, int status)
{
	Listener   *listener = server->data;
	RouterContext *ctx = listener->ctx;

	if (status < 0)
	{
		log_warn(&ctx->log, "accept on %s:%u failed: %s", listener->cfg.addr.host,
				 listener->cfg.addr.port, uv_strerror(status));
		return;
	}
	if (listener->cfg.kind == LISTEN_STATS)
	{
		stats_accept(ctx, server);
		return;
	}
	proxy_accept(ctx, server, listener->cfg.kind == LISTEN_WRITE ? SERVICE_WRITE : SERVICE_READ);
}

static void
on_listener_closed(uv_handle_t *handle)
{
	free(handle->data);
}

Listener *
listener_open(RouterContext *ctx, const ListenerConfig *cfg, char *errbuf, size_t errlen)
{
	struct sockaddr_storage addr;
	Listener   *listener;
	char		why[200];
	int			rc;

	if (!resolve_addr(&cfg->addr, true, &addr, why, sizeof(why)))
	{
		snprintf(errbuf, errlen, "listen %s %s:%u: %s", config_listen_kind_name(cfg->kind),
				 cfg->addr.host, cfg->addr.port, why);
		return NULL;
	}
	listener = calloc(1, sizeof(*listener));
	if (listener == NULL)
	{
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	listener->ctx = ctx;
	listener->cfg = *cfg;
	uv_tcp_init(ctx->loop, &listener->tcp);
	listener->tcp.data = listener;
	rc = uv_tcp_bind(&listener->tcp, (const struct sockaddr *) &addr, 0);
	if (rc == 0 && cfg->kind == LISTEN_STATS)
		stats_listener_prepare(ctx, &listener->tcp);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *) &listener->tcp, 1024, on_listener_connection);
	if (rc < 0)
	{
		snprintf(errbuf, errlen, "listen %s %s:%u: %s", config_listen_kind_name(cfg->kind),
				 cfg->addr.host, cfg->addr.port, uv_strerror(rc));
		uv_close((uv_handle_t *) &listener->tcp, on_listener_closed);
		return NULL;
	}
	list_push_back(&ctx->listeners, &listener->link);
	log_info(&ctx->log, "listening for %s clients on %s:%u", config_listen_kind_name(cfg->kind),
			 cfg->addr.host, cfg->addr.port);
	return listener;
}

void
listener_close(Listener *listener)
{
	if (listener->closing)
		return;
	listener->closing = true;
	list_remove(&listener->link);
	uv_close((uv_handle_t *) &listener->tcp, on_listener_closed);
}

/*
 * Opens cfg's new listeners, closes those it no longer has and retags those
 * whose kind changed.  A bind failure closes what this call opened and
 * returns false: the running listeners are as before.
 */
bool
listener_apply(RouterContext *ctx, const RouterConfig *cfg, char *errbuf, size_t errlen)
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

			if (config_same_addr(&l->cfg.addr, &cfg->listeners[i].addr))
				existing = l;
		}
		if (existing)
		{
			keep[i] = true;
			continue;
		}
		opened[n_opened] = listener_open(ctx, &cfg->listeners[i], errbuf, errlen);
		if (opened[n_opened] == NULL)
		{
			/* undo: the old configuration stays in force */
			for (int j = 0; j < n_opened; j++)
				listener_close(opened[j]);
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
			if (config_same_addr(&l->cfg.addr, &cfg->listeners[i].addr))
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
			listener_close(l);
		}
	}
	return true;
}
