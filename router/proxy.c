/*
 * proxy.c - client sessions (accepted by listener.c).
 *
 * A session pairs a client connection with a backend connection and has one
 * explicit state (SessionState).  Bytes are relayed unchanged in both
 * directions, so TLS, COPY and the extended protocol pass through.  Each
 * direction (Relay) writes what it read with uv_try_write straight from the
 * loop's scratch buffer; only what the destination cannot take at once is
 * copied and queued, and when the destination's queue passes the high-water
 * mark the source is not read again until it drains below the low-water
 * mark, so a slow reader bounds the memory spent on it.
 *
 * The session owns three handles (client, backend, timer); it is freed in
 * the close callback of the last one.  Write clients that find no primary
 * wait in the service's hold queue (bounded in time and count) instead of
 * being refused; refusals are a PostgreSQL ErrorResponse, so libpq shows a
 * clear message instead of "server closed the connection unexpectedly".
 *
 * Why one file of over 700 lines (about 830): it is one state machine.  Every callback here
 * (accept, connect, relay read and write, shutdown, timer, close) reads and
 * changes the same private Session and its SessionState, and each part ends
 * in session_close or session_route; split, the Session struct would be
 * public and the parts would call each other back.  What it acts on lives
 * elsewhere: where a client goes (route.c), the listening sockets
 * (listener.c).
 */
#include "router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOLD_RECHECK_MS 250		/* held clients re-try the route this often */
#define REFUSE_LINGER_MS 2000	/* time a refused client gets to read the error */
#define KEEPALIVE_DELAY_S 60

typedef enum SessionState
{
	SESSION_HELD,				/* in the hold queue, client not read */
	SESSION_CONNECTING,			/* backend connect in flight, client not read */
	SESSION_STREAMING,			/* relaying both ways */
	SESSION_REFUSING,			/* error sent, waiting (bounded) for the client to go */
	SESSION_CLOSING				/* handles closing; freed by the last close callback */
} SessionState;

typedef struct Relay
{
	uv_stream_t *src;
	uv_stream_t *dst;
	bool		src_eof;		/* src sent FIN */
	bool		paused;			/* src not read: dst's queue is above high water */
	bool		shutdown_started;
	bool		shutdown_done;
	uv_shutdown_t shutdown_req;
} Relay;

typedef struct Session
{
	RouterContext *ctx;
	Service    *service;
	Node	   *node;			/* NULL unless connecting or streaming */
	ListLink	ctx_link;		/* ctx->sessions */
	ListLink	queue_link;		/* service->held or node->sessions[kind] */
	SessionState state;
	bool		counted;		/* counts against maxconn */
	bool		via_fallback;	/* a read client sent to the primary */
	bool		backend_open;	/* backend handle initialised and not closing */
	bool		retry_pending;	/* backend closing to be connected again */
	int			open_handles;
	int			connect_failures;
	uint64_t	accepted_ms;
	uint64_t	hold_deadline_ms;
	uint64_t	client_rx_ms;	/* last byte from the client */
	uint64_t	server_rx_ms;	/* last byte from the server */
	uv_tcp_t	client;
	uv_tcp_t	backend;
	uv_timer_t	timer;			/* hold, connect, idle or linger deadline */
	uv_connect_t connect_req;
	Relay		upstream;		/* client -> backend */
	Relay		downstream;		/* backend -> client */
} Session;

/* A queued write owns a copy of the bytes the destination could not take. */
typedef struct WriteReq
{
	uv_write_t	req;
	char		data[];
} WriteReq;

static void session_close(Session *session, bool is_error, const char *why);
static void session_route(Session *session);
static void on_session_timer(uv_timer_t *timer);

/* ---- helpers ---- */

static const char *
peer_name(Session *session, char *out, size_t outlen)
{
	struct sockaddr_storage addr;
	int			len = sizeof(addr);
	char		host[64] = "?";
	int			port = 0;

	if (uv_tcp_getpeername(&session->client, (struct sockaddr *) &addr, &len) == 0)
	{
		if (addr.ss_family == AF_INET6)
		{
			uv_ip6_name((struct sockaddr_in6 *) &addr, host, sizeof(host));
			port = ntohs(((struct sockaddr_in6 *) &addr)->sin6_port);
		}
		else
		{
			uv_ip4_name((struct sockaddr_in *) &addr, host, sizeof(host));
			port = ntohs(((struct sockaddr_in *) &addr)->sin_port);
		}
	}
	snprintf(out, outlen, "%s:%d", host, port);
	return out;
}

static void
session_set_timer(Session *session, uint64_t delay_ms)
{
	uv_timer_start(&session->timer, on_session_timer, delay_ms, 0);
}

static void
session_unhold(Session *session)
{
	if (session->state != SESSION_HELD)
		return;
	list_remove(&session->queue_link);
	session->service->held_count--;
}

static void
session_detach_node(Session *session)
{
	Node	   *node = session->node;
	TrafficStats *traffic;

	if (node == NULL)
		return;
	traffic = &node->traffic[session->service->kind];
	traffic->cur_sessions--;
	list_remove(&session->queue_link);
	session->node = NULL;
	/* a slot on a node with maxconn may let a held client through */
	if (node->cfg.maxconn > 0 && session->service->held_count > 0)
		proxy_schedule_dispatch(session->ctx);
	node_unref(node);
}

static void
count_error(Session *session)
{
	session->service->traffic.errors++;
	if (session->node)
		session->node->traffic[session->service->kind].errors++;
}

static void
session_uncount(Session *session)
{
	if (!session->counted)
		return;
	session->counted = false;
	session->ctx->session_count--;
	session->service->traffic.cur_sessions--;
}

/* ---- teardown ---- */

static void
on_session_handle_closed(uv_handle_t *handle)
{
	Session    *session = handle->data;

	session->open_handles--;
	if (session->state == SESSION_CLOSING)
	{
		if (session->open_handles == 0)
			free(session);
		return;
	}
	if (session->retry_pending && handle == (uv_handle_t *) &session->backend)
	{
		session->retry_pending = false;
		session_route(session);
	}
}

static void
session_close(Session *session, bool is_error, const char *why)
{
	RouterContext *ctx = session->ctx;

	if (session->state == SESSION_CLOSING)
		return;
	if (is_error)
	{
		char		peer[80];

		count_error(session);
		log_debug(&ctx->log, "%s session from %s closed: %s", session->service->name,
				  peer_name(session, peer, sizeof(peer)), why);
	}
	session_unhold(session);
	session_detach_node(session);
	session_uncount(session);
	list_remove(&session->ctx_link);
	session->state = SESSION_CLOSING;

	/* stop reading before closing (libuv may otherwise deliver a last read) */
	uv_read_stop((uv_stream_t *) &session->client);
	uv_close((uv_handle_t *) &session->client, on_session_handle_closed);
	if (session->backend_open)
	{
		session->backend_open = false;
		uv_read_stop((uv_stream_t *) &session->backend);
		uv_close((uv_handle_t *) &session->backend, on_session_handle_closed);
	}
	uv_close((uv_handle_t *) &session->timer, on_session_handle_closed);
	if (ctx->draining)
		ctx->on_session_closed(ctx);
}

/* ---- refusing a client with a PostgreSQL error ---- */

/* v3 ErrorResponse; libpq also accepts it in reply to SSLRequest/GSSENCRequest. */
static size_t
build_error_response(char *out, size_t cap, const char *sqlstate, const char *message)
{
	size_t		pos = 5;
	uint32_t	len;

	pos += (size_t) snprintf(out + pos, cap - pos, "SFATAL%cVFATAL%cC%s%cM%s%c%c",
							 0, 0, sqlstate, 0, message, 0, 0);
	if (pos > cap)
		pos = cap;
	out[0] = 'E';
	len = (uint32_t) (pos - 1);
	out[1] = (char) (len >> 24);
	out[2] = (char) (len >> 16);
	out[3] = (char) (len >> 8);
	out[4] = (char) len;
	return pos;
}

static void
on_refuse_shutdown(uv_shutdown_t *req, int status)
{
	(void) req;
	(void) status;				/* the linger timer or the client's EOF ends it */
}

static void
on_refuse_write(uv_write_t *req, int status)
{
	Session    *session = req->data;

	free(container_of(req, WriteReq, req));
	if (session->state != SESSION_REFUSING)
		return;
	if (status < 0)
	{
		session_close(session, false, "refused client gone");
		return;
	}
	session->downstream.shutdown_req.data = session;
	if (uv_shutdown(&session->downstream.shutdown_req, (uv_stream_t *) &session->client,
					on_refuse_shutdown) < 0)
		session_close(session, false, "refused client gone");
}

static void on_relay_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf);
static void on_relay_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

static void
session_refuse(Session *session, const char *sqlstate, const char *fmt, ...) PRINTF_LIKE(3, 4);

static void
session_refuse(Session *session, const char *sqlstate, const char *fmt, ...)
{
	RouterContext *ctx = session->ctx;
	char		message[256];
	char		peer[80];
	WriteReq   *write;
	uv_buf_t	buf;
	size_t		len;
	va_list		args;

	va_start(args, fmt);
	vsnprintf(message, sizeof(message), fmt, args);
	va_end(args);
	log_info(&ctx->log, "%s client %s refused: %s", session->service->name,
			 peer_name(session, peer, sizeof(peer)), message);

	session_unhold(session);
	session_detach_node(session);
	session_uncount(session);
	session->service->refused++;
	session->state = SESSION_REFUSING;

	write = malloc(sizeof(*write) + 512);
	if (write == NULL)
	{
		session_close(session, true, "out of memory");
		return;
	}
	len = build_error_response(write->data, 512, sqlstate, message);
	buf = uv_buf_init(write->data, (unsigned int) len);
	write->req.data = session;
	if (uv_write(&write->req, (uv_stream_t *) &session->client, &buf, 1, on_refuse_write) < 0)
	{
		free(write);
		session_close(session, false, "refused client gone");
		return;
	}
	/* read and drop what the client sent, so closing does not reset the
	 * connection before the client has read the error */
	uv_read_start((uv_stream_t *) &session->client, on_relay_alloc, on_relay_read);
	session_set_timer(session, REFUSE_LINGER_MS);
}

/* ---- relaying ---- */

static void
on_relay_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	Session    *session = handle->data;

	(void) suggested;
	buf->base = session->ctx->read_buf;
	buf->len = sizeof(session->ctx->read_buf);
}

static Relay *
relay_of_source(Session *session, const uv_stream_t *src)
{
	return src == (uv_stream_t *) &session->client ? &session->upstream : &session->downstream;
}

static void
on_relay_write(uv_write_t *req, int status)
{
	Session    *session = req->data;
	uv_stream_t *dst = req->handle;
	Relay	   *relay;

	free(container_of(req, WriteReq, req));
	if (session->state != SESSION_STREAMING)
		return;					/* closing: the request was cancelled */
	if (status < 0)
	{
		session_close(session, true, uv_strerror(status));
		return;
	}
	relay = dst == (uv_stream_t *) &session->backend ? &session->upstream : &session->downstream;
	if (relay->paused && !relay->src_eof &&
		uv_stream_get_write_queue_size(dst) <= session->ctx->cfg->low_water)
	{
		relay->paused = false;
		uv_read_start(relay->src, on_relay_alloc, on_relay_read);
	}
}

static void
relay_forward(Session *session, Relay *relay, char *data, size_t len)
{
	uv_buf_t	buf = uv_buf_init(data, (unsigned int) len);
	int			written;
	WriteReq   *write;

	/* the common case: the kernel takes it all, nothing is copied */
	written = uv_try_write(relay->dst, &buf, 1);
	if (written == (int) len)
		return;
	if (written < 0 && written != UV_EAGAIN)
	{
		session_close(session, true, uv_strerror(written));
		return;
	}
	if (written < 0)
		written = 0;
	write = malloc(sizeof(*write) + len - (size_t) written);
	if (write == NULL)
	{
		session_close(session, true, "out of memory");
		return;
	}
	memcpy(write->data, data + written, len - (size_t) written);
	buf = uv_buf_init(write->data, (unsigned int) (len - (size_t) written));
	write->req.data = session;
	if (uv_write(&write->req, relay->dst, &buf, 1, on_relay_write) < 0)
	{
		free(write);
		session_close(session, true, "write failed");
		return;
	}
	if (!relay->paused &&
		uv_stream_get_write_queue_size(relay->dst) > session->ctx->cfg->high_water)
	{
		relay->paused = true;
		uv_read_stop(relay->src);
	}
}

static void
on_relay_shutdown(uv_shutdown_t *req, int status)
{
	Session    *session = req->data;
	Relay	   *relay;

	if (session->state != SESSION_STREAMING)
		return;
	relay = req == &session->upstream.shutdown_req ? &session->upstream : &session->downstream;
	relay->shutdown_done = true;
	if (status < 0)
		session_close(session, false, "peer gone during shutdown");
	else if (session->upstream.shutdown_done && session->downstream.shutdown_done)
		session_close(session, false, "both sides finished");
}

static void
on_relay_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	Session    *session = stream->data;
	Relay	   *relay;

	if (session->state == SESSION_REFUSING)
	{
		if (nread < 0)
			session_close(session, false, "refused client left");
		return;
	}
	if (session->state != SESSION_STREAMING || nread == 0)
		return;
	relay = relay_of_source(session, stream);
	if (nread > 0)
	{
		uint64_t	now = uv_now(session->ctx->loop);
		TrafficStats *node_traffic = &session->node->traffic[session->service->kind];

		if (relay == &session->upstream)
		{
			session->client_rx_ms = now;
			session->service->traffic.bytes_in += (uint64_t) nread;
			node_traffic->bytes_in += (uint64_t) nread;
		}
		else
		{
			session->server_rx_ms = now;
			session->service->traffic.bytes_out += (uint64_t) nread;
			node_traffic->bytes_out += (uint64_t) nread;
		}
		relay_forward(session, relay, buf->base, (size_t) nread);
		return;
	}
	if (nread == UV_EOF)
	{
		/* half-close: pass the FIN on once the queued bytes are written */
		relay->src_eof = true;
		uv_read_stop(stream);
		if (!relay->shutdown_started)
		{
			relay->shutdown_started = true;
			relay->shutdown_req.data = session;
			if (uv_shutdown(&relay->shutdown_req, relay->dst, on_relay_shutdown) < 0)
				session_close(session, false, "peer gone");
		}
		return;
	}
	session_close(session, nread != UV_ECONNRESET,
				  relay == &session->upstream ? "client read error" : "server read error");
}

/* ---- connecting ---- */

static void
session_start_streaming(Session *session)
{
	RouterContext *ctx = session->ctx;
	uint64_t	now = uv_now(ctx->loop);
	uint64_t	idle = ctx->cfg->client_timeout_ms < ctx->cfg->server_timeout_ms
		? ctx->cfg->client_timeout_ms : ctx->cfg->server_timeout_ms;

	session->state = SESSION_STREAMING;
	session->client_rx_ms = now;
	session->server_rx_ms = now;
	/* no keepalive here: postgres has its own tcp_keepalives_* settings,
	 * and every syscall counts in a connection-per-transaction workload */
	uv_tcp_nodelay(&session->backend, 1);
	session->upstream.src = (uv_stream_t *) &session->client;
	session->upstream.dst = (uv_stream_t *) &session->backend;
	session->downstream.src = (uv_stream_t *) &session->backend;
	session->downstream.dst = (uv_stream_t *) &session->client;
	if (uv_read_start((uv_stream_t *) &session->client, on_relay_alloc, on_relay_read) < 0 ||
		uv_read_start((uv_stream_t *) &session->backend, on_relay_alloc, on_relay_read) < 0)
	{
		session_close(session, true, "cannot start reading");
		return;
	}
	session_set_timer(session, idle);
}

static void
session_connect_failed(Session *session, int status)
{
	RouterContext *ctx = session->ctx;
	Node	   *node = session->node;

	count_error(session);
	session->connect_failures++;
	log_warn(&ctx->log, "%s session: cannot connect to node %s: %s", session->service->name,
			 node ? node->cfg.name : "?", uv_strerror(status));
	/* the node may be going away: ask its check now instead of at the next
	 * interval; if that fails too, it is marked down at once */
	if (node)
		check_request_now(node, session->service->kind == SERVICE_WRITE ? CHECK_PRIMARY : CHECK_REPLICA,
						  false, "a client could not connect");
	session_detach_node(session);
	uv_timer_stop(&session->timer);
	/* the handle cannot be reused: route again from its close callback */
	session->retry_pending = true;
	session->backend_open = false;
	session->state = SESSION_CONNECTING;
	uv_close((uv_handle_t *) &session->backend, on_session_handle_closed);
}

static void
on_backend_connect(uv_connect_t *req, int status)
{
	Session    *session = req->data;

	if (session->state != SESSION_CONNECTING || !session->backend_open)
		return;					/* cancelled by a close */
	if (status < 0)
	{
		session_connect_failed(session, status);
		return;
	}
	session_start_streaming(session);
}

static void
session_connect(Session *session, Node *node, bool via_fallback)
{
	RouterContext *ctx = session->ctx;
	TrafficStats *traffic = &node->traffic[session->service->kind];
	int			rc;

	session_unhold(session);
	session->node = node;
	node_ref(node);
	session->via_fallback = via_fallback;
	traffic->cur_sessions++;
	traffic->total_sessions++;
	if (traffic->cur_sessions > traffic->max_sessions)
		traffic->max_sessions = traffic->cur_sessions;
	list_push_back(&node->sessions[session->service->kind], &session->queue_link);

	uv_tcp_init(ctx->loop, &session->backend);
	session->backend.data = session;
	session->backend_open = true;
	session->open_handles++;
	session->state = SESSION_CONNECTING;
	session->connect_req.data = session;
	session_set_timer(session, ctx->cfg->connect_timeout_ms);
	rc = uv_tcp_connect(&session->connect_req, &session->backend,
						(const struct sockaddr *) &node->addr, on_backend_connect);
	if (rc < 0)
		session_connect_failed(session, rc);
}

static void
session_hold(Session *session)
{
	Service    *service = session->service;
	uint64_t	now = uv_now(session->ctx->loop);
	uint64_t	left = session->hold_deadline_ms > now ? session->hold_deadline_ms - now : 0;

	if (session->state != SESSION_HELD)
	{
		session->state = SESSION_HELD;
		list_push_back(&service->held, &session->queue_link);
		service->held_count++;
		if (session->connect_failures == 0)
			service->held_total++;
	}
	session_set_timer(session, left < HOLD_RECHECK_MS ? left : HOLD_RECHECK_MS);
}

/*
 * Sends the client to a node, or holds it (write, while no usable primary
 * is known or the primary refused the connection), or refuses it.
 */
static void
session_route(Session *session)
{
	RouterContext *ctx = session->ctx;
	Service    *service = session->service;
	const RouterConfig *cfg = ctx->cfg;
	bool		via_fallback;
	Node	   *node;
	bool		can_hold;
	uint64_t	now = uv_now(ctx->loop);

	if (ctx->draining)
	{
		session_refuse(session, "57P01", "pg_ha_router is shutting down");
		return;
	}
	can_hold = service->kind == SERVICE_WRITE && cfg->hold_max > 0 && now < session->hold_deadline_ms;
	/* read clients retry another replica; write clients retry (held) until the hold deadline */
	if (session->connect_failures > cfg->retries && !can_hold)
	{
		session_refuse(session, "08006", "pg_ha_router: could not connect to a %s node after %d attempts",
					   service->kind == SERVICE_WRITE ? "primary" : "replica", session->connect_failures);
		return;
	}
	node = route_pick(ctx, service->kind, &via_fallback);
	/* a write client whose connect just failed waits a moment (held) before
	 * trying again: the node it failed on is most likely still the target */
	if (node && !(can_hold && session->connect_failures > 0 && session->state != SESSION_HELD))
	{
		if (session->state == SESSION_HELD && session->connect_failures == 0)
			service->held_served++;
		session_connect(session, node, via_fallback);
		return;
	}
	if (can_hold)
	{
		if (session->state == SESSION_HELD || service->held_count < cfg->hold_max)
		{
			session_hold(session);
			return;
		}
		session_refuse(session, "53300", "pg_ha_router: too many clients waiting for a primary (hold max %d)",
					   cfg->hold_max);
		return;
	}
	if (service->kind == SERVICE_WRITE && session->state == SESSION_HELD)
	{
		char		waited[32];

		service->hold_timeouts++;
		session_refuse(session, "57P03", "pg_ha_router: no primary available (waited %s)",
					   format_duration(now - session->accepted_ms, waited, sizeof(waited)));
		return;
	}
	session_refuse(session, "57P03", "pg_ha_router: no %s available",
				   service->kind == SERVICE_WRITE ? "primary" : "replica");
}

static void
on_session_timer(uv_timer_t *timer)
{
	Session    *session = timer->data;
	RouterContext *ctx = session->ctx;
	uint64_t	now = uv_now(ctx->loop);

	switch (session->state)
	{
		case SESSION_HELD:
			session_route(session);
			break;
		case SESSION_CONNECTING:
			if (session->backend_open)
				session_connect_failed(session, UV_ETIMEDOUT);
			break;
		case SESSION_STREAMING:
			{
				uint64_t	client_deadline = session->client_rx_ms + ctx->cfg->client_timeout_ms;
				uint64_t	server_deadline = session->server_rx_ms + ctx->cfg->server_timeout_ms;

				if (now >= client_deadline)
					session_close(session, true, "client timeout");
				else if (now >= server_deadline)
					session_close(session, true, "server timeout");
				else
					session_set_timer(session, (client_deadline < server_deadline
												? client_deadline : server_deadline) - now);
				break;
			}
		case SESSION_REFUSING:
			session_close(session, false, "refused client lingered");
			break;
		case SESSION_CLOSING:
			break;
	}
}

/* ---- accepting ---- */

/* A client accepted from server (a write or read listener). */
void
proxy_accept(RouterContext *ctx, uv_stream_t *server, ServiceKind kind)
{
	Session    *session;
	Service    *service = &ctx->services[kind];

	session = calloc(1, sizeof(*session));
	if (session == NULL)
	{
		log_error(&ctx->log, "out of memory accepting a client");
		return;
	}
	session->ctx = ctx;
	session->service = service;
	list_init(&session->queue_link);
	list_push_back(&ctx->sessions, &session->ctx_link);
	uv_tcp_init(ctx->loop, &session->client);
	session->client.data = session;
	session->open_handles++;
	uv_timer_init(ctx->loop, &session->timer);
	session->timer.data = session;
	session->open_handles++;
	session->state = SESSION_CONNECTING;
	if (uv_accept(server, (uv_stream_t *) &session->client) < 0)
	{
		session_close(session, false, "accept failed");
		return;
	}
	uv_tcp_nodelay(&session->client, 1);
	uv_tcp_keepalive(&session->client, 1, KEEPALIVE_DELAY_S);
	session->accepted_ms = uv_now(ctx->loop);
	session->hold_deadline_ms = session->accepted_ms + ctx->cfg->hold_timeout_ms;
	service->traffic.total_sessions++;

	if (ctx->session_count >= ctx->cfg->maxconn)
	{
		session_refuse(session, "53300", "pg_ha_router: too many connections (maxconn %d)",
					   ctx->cfg->maxconn);
		return;
	}
	session->counted = true;
	ctx->session_count++;
	service->traffic.cur_sessions++;
	if (service->traffic.cur_sessions > service->traffic.max_sessions)
		service->traffic.max_sessions = service->traffic.cur_sessions;
	session_route(session);
}

/* ---- operations on many sessions ---- */

void
proxy_shutdown_node_sessions(Node *node, ServiceKind kind, bool fallback_sessions, const char *why)
{
	ListLink   *pos;
	ListLink   *tmp;
	int			closed = 0;

	list_for_each_safe(pos, tmp, &node->sessions[kind])
	{
		Session    *session = container_of(pos, Session, queue_link);

		if (kind == SERVICE_READ && session->via_fallback != fallback_sessions)
			continue;
		if (session->state == SESSION_CONNECTING && session->backend_open)
		{
			/* no byte has passed yet: route it again instead of failing it */
			session_detach_node(session);
			uv_timer_stop(&session->timer);
			session->retry_pending = true;
			session->backend_open = false;
			uv_close((uv_handle_t *) &session->backend, on_session_handle_closed);
			continue;
		}
		session_close(session, false, why);
		closed++;
	}
	if (closed > 0)
		log_info(&node->ctx->log, "node %s: closed %d %s session%s (%s)", node->cfg.name, closed,
				 kind == SERVICE_WRITE ? "write" : "read", closed == 1 ? "" : "s", why);
}

static void
on_dispatch_timer(uv_timer_t *timer)
{
	RouterContext *ctx = timer->data;
	Service    *service = &ctx->services[SERVICE_WRITE];
	ListLink   *pos;
	ListLink   *tmp;

	/* oldest first; stop at the first one that cannot be placed */
	list_for_each_safe(pos, tmp, &service->held)
	{
		Session    *session = container_of(pos, Session, queue_link);
		bool		via_fallback;

		if (ctx->draining || route_pick(ctx, SERVICE_WRITE, &via_fallback) == NULL)
			break;
		session_route(session);
	}
}

void
proxy_schedule_dispatch(RouterContext *ctx)
{
	/* run from its own callback: callers may be iterating session lists */
	if (!ctx->stopping && !uv_is_active((uv_handle_t *) &ctx->dispatch_timer))
	{
		ctx->dispatch_timer.data = ctx;
		uv_timer_start(&ctx->dispatch_timer, on_dispatch_timer, 0, 0);
	}
}

void
proxy_refuse_held(RouterContext *ctx, const char *why)
{
	Service    *service = &ctx->services[SERVICE_WRITE];
	ListLink   *pos;
	ListLink   *tmp;

	list_for_each_safe(pos, tmp, &service->held)
	{
		Session    *session = container_of(pos, Session, queue_link);

		session_refuse(session, "57P01", "%s", why);
	}
}

void
proxy_close_all_sessions(RouterContext *ctx)
{
	ListLink   *pos;
	ListLink   *tmp;

	list_for_each_safe(pos, tmp, &ctx->sessions)
		session_close(container_of(pos, Session, ctx_link), false, "router stopping");
}
