/*
 * listener.c - the listening sockets: opened, closed and reconciled with a
 * (re)loaded configuration (by main.c, before topology_apply), and what an
 * accepted connection is handed to: a relay loop for clients (relay.c), the
 * stats server on this loop for the stats port.  A client port is watched
 * with a uv_poll_t and accepted with accept4() here, so the socket can go to
 * another loop (a uv_tcp_t cannot change loops); the stats port is a plain
 * uv_listen.  A listener is freed in its last handle's close callback.
 */
#define _GNU_SOURCE				/* accept4 */
#include "router.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* accepted per wake-up at most, so checks and the stats page keep their turn */
#define ACCEPT_BATCH 64
/* a client gone without a FIN is found after this idle time (then 10 probes 1 s apart) */
#define CLIENT_KEEPALIVE_S 60

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
	stats_accept(ctx, server);
}

static void
on_listener_closed(uv_handle_t *handle)
{
	Listener   *listener = handle->data;

	if (--listener->open_handles == 0)
		free(listener);
}

static void
on_client_port_readable(uv_poll_t *poll, int status, int events)
{
	Listener   *listener = poll->data;
	RouterContext *ctx = listener->ctx;
	ServiceKind kind = listener->cfg.kind == LISTEN_WRITE ? SERVICE_WRITE : SERVICE_READ;
	uv_os_fd_t	lfd;

	(void) events;
	if (status < 0 || uv_fileno((uv_handle_t *) &listener->tcp, &lfd) != 0)
	{
		log_warn(&ctx->log, "accept on %s:%u failed: %s", listener->cfg.addr.host,
				 listener->cfg.addr.port, uv_strerror(status < 0 ? status : UV_EBADF));
		return;
	}
	for (int i = 0; i < ACCEPT_BATCH && !listener->closing; i++)
	{
		int			fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
		{
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn(&ctx->log, "accept on %s:%u failed: %s", listener->cfg.addr.host,
						 listener->cfg.addr.port, strerror(errno));
			return;
		}
		relay_hand_over(ctx, fd, kind);
	}
}

/* A client port: libuv bound it; listened on and polled here. */
static int
client_port_listen(RouterContext *ctx, Listener *listener)
{
	uv_os_fd_t	fd;
	int			rc;

	/* inherited by every accepted socket (Linux): five setsockopt calls
	 * per client saved (bench/README.md) */
	rc = uv_tcp_nodelay(&listener->tcp, 1);
	if (rc == 0)
		rc = uv_tcp_keepalive(&listener->tcp, 1, CLIENT_KEEPALIVE_S);
	if (rc == 0)
		rc = uv_fileno((uv_handle_t *) &listener->tcp, &fd);
	if (rc == 0 && listen(fd, 1024) < 0)
		rc = uv_translate_sys_error(errno);
	if (rc == 0)
		rc = uv_poll_init_socket(ctx->loop, &listener->poll, fd);
	if (rc < 0)
		return rc;
	listener->poll.data = listener;
	listener->polling = true;
	listener->open_handles++;
	return uv_poll_start(&listener->poll, UV_READABLE, on_client_port_readable);
}

static bool
is_client_kind(ListenKind kind)
{
	return kind != LISTEN_STATS;
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
	listener->open_handles = 1;
	rc = uv_tcp_bind(&listener->tcp, (const struct sockaddr *) &addr, 0);
	if (rc == 0 && cfg->kind == LISTEN_STATS)
		stats_listener_prepare(ctx, &listener->tcp);
	if (rc == 0 && is_client_kind(cfg->kind))
		rc = client_port_listen(ctx, listener);
	else if (rc == 0)
		rc = uv_listen((uv_stream_t *) &listener->tcp, 1024, on_listener_connection);
	if (rc < 0)
	{
		snprintf(errbuf, errlen, "listen %s %s:%u: %s", config_listen_kind_name(cfg->kind),
				 cfg->addr.host, cfg->addr.port, uv_strerror(rc));
		listener->closing = true;
		if (listener->polling)
			uv_close((uv_handle_t *) &listener->poll, on_listener_closed);
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
	/* the poll first: it watches the socket the tcp handle closes */
	if (listener->polling)
		uv_close((uv_handle_t *) &listener->poll, on_listener_closed);
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
		if (existing && is_client_kind(existing->cfg.kind) != is_client_kind(cfg->listeners[i].kind))
		{
			/* between the stats port and a client port the socket is
			 * watched differently: closed and opened again (not undone) */
			listener_close(existing);
			existing = NULL;
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
