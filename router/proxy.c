/*
 * proxy.c - the client sessions of one relay loop (accepted by listener.c on
 * the main loop, handed over by relay.c as a socket).
 *
 * A session lives on one loop from start to end: its handles, its timer and
 * its place in the loop's lists.  Where it goes is read from the loop's
 * routing snapshot (RouteView); what it counts goes to atomics shared by all
 * loops (the stats page sums nothing, the counters are exact).  maxconn,
 * hold max and a node's maxconn are reservations on atomics, taken before
 * the session counts and given back when it stops.
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
 * Why one file of over 700 lines (about 870): it is one state machine.  Every callback here
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
#include <unistd.h>

#define HOLD_RECHECK_MS 250		/* held clients re-try the route this often */
#define REFUSE_LINGER_MS 2000	/* time a refused client gets to read the error */

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
	Worker	   *w;				/* the loop that owns it */
	RouterContext *ctx;			/* shared counters and the log only */
	Service    *service;
	Node	   *node;			/* NULL unless connecting or streaming */
	ListLink	w_link;			/* w->sessions */
	ListLink	queue_link;		/* w->held */
	SessionState state;
	bool		counted;		/* counts against maxconn */
	bool		held_counted;	/* counts against hold max */
	bool		via_fallback;	/* a read client sent to the primary */
	bool		backend_open;	/* backend handle initialised and not closing */
	bool		retry_pending;	/* backend closing to be connected again */
	int			open_handles;
	int			connect_failures;
	char		node_name[CONFIG_NAME_MAX];	/* for messages */
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

static const RouterConfig *
session_cfg(const Session *session)
{
	return &session->w->view->cfg;
}

static void
session_unhold(Session *session)
{
	if (session->state != SESSION_HELD)
		return;
	list_remove(&session->queue_link);
	if (session->held_counted)
	{
		session->held_counted = false;
		atomic_fetch_sub(&session->service->held_count, 1);
	}
}

static void
session_detach_node(Session *session)
{
	Node	   *node = session->node;
	TrafficStats *traffic;

	if (node == NULL)
		return;
	traffic = &node->traffic[session->service->kind];
	atomic_fetch_sub(&traffic->cur_sessions, 1);
	node_release(node);
	session->node = NULL;
	/* a slot on a node may let a held client of this loop through (those
	 * of other loops try again within HOLD_RECHECK_MS) */
	if (!list_empty(&session->w->held))
		proxy_schedule_dispatch(session->w);
	node_unref(node);
}

static void
count_error(Session *session)
{
	atomic_fetch_add(&session->service->traffic.errors, 1);
	if (session->node)
		atomic_fetch_add(&session->node->traffic[session->service->kind].errors, 1);
}

static void
session_uncount(Session *session)
{
	if (!session->counted)
		return;
	session->counted = false;
	atomic_fetch_sub(&session->ctx->session_count, 1);
	atomic_fetch_sub(&session->service->traffic.cur_sessions, 1);
	if (atomic_load(&session->ctx->relay_draining))
		mailbox_report_session_closed(session->w);
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
	Worker	   *w = session->w;

	if (session->state == SESSION_CLOSING)
		return;
	if (is_error)
	{
		char		peer[80];

		count_error(session);
		log_debug(&session->w->log, "%s session from %s closed: %s", session->service->name,
				  peer_name(session, peer, sizeof(peer)), why);
	}
	session_unhold(session);
	session_detach_node(session);
	session_uncount(session);
	list_remove(&session->w_link);
	atomic_fetch_sub_explicit(&w->load, 1, memory_order_relaxed);
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
	char		message[256];
	char		peer[80];
	WriteReq   *write;
	uv_buf_t	buf;
	size_t		len;
	va_list		args;

	va_start(args, fmt);
	vsnprintf(message, sizeof(message), fmt, args);
	va_end(args);
	log_info(&session->w->log, "%s client %s refused: %s", session->service->name,
			 peer_name(session, peer, sizeof(peer)), message);

	session_unhold(session);
	session_detach_node(session);
	session_uncount(session);
	atomic_fetch_add(&session->service->refused, 1);
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
	buf->base = session->w->read_buf;
	buf->len = sizeof(session->w->read_buf);
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
		uv_stream_get_write_queue_size(dst) <= session_cfg(session)->low_water)
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
		uv_stream_get_write_queue_size(relay->dst) > session_cfg(session)->high_water)
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

/*
 * Passes src's FIN on to dst.  With nothing queued for dst (the usual case:
 * uv_try_write took it all) it is one shutdown() now; uv_shutdown would
 * watch dst for writability first and stop watching after, two epoll_ctl
 * and a loop iteration per direction of every session (bench/README.md).
 * Nothing writes to dst after this: its only writer is this relay, whose
 * source has ended.
 */
static void
relay_shutdown(Session *session, Relay *relay)
{
	uv_os_fd_t	fd;

	relay->shutdown_started = true;
	if (uv_stream_get_write_queue_size(relay->dst) == 0 &&
		uv_fileno((uv_handle_t *) relay->dst, &fd) == 0)
	{
		relay->shutdown_done = true;
		if (shutdown(fd, SHUT_WR) < 0)
			session_close(session, false, "peer gone during shutdown");
		else if (session->upstream.shutdown_done && session->downstream.shutdown_done)
			session_close(session, false, "both sides finished");
		return;
	}
	relay->shutdown_req.data = session;
	if (uv_shutdown(&relay->shutdown_req, relay->dst, on_relay_shutdown) < 0)
		session_close(session, false, "peer gone");
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
		uint64_t	now = uv_now(&session->w->loop);
		TrafficStats *node_traffic = &session->node->traffic[session->service->kind];

		/* relaxed: counters, nothing is published through them */
		if (relay == &session->upstream)
		{
			session->client_rx_ms = now;
			atomic_fetch_add_explicit(&session->service->traffic.bytes_in, (uint64_t) nread, memory_order_relaxed);
			atomic_fetch_add_explicit(&node_traffic->bytes_in, (uint64_t) nread, memory_order_relaxed);
		}
		else
		{
			session->server_rx_ms = now;
			atomic_fetch_add_explicit(&session->service->traffic.bytes_out, (uint64_t) nread, memory_order_relaxed);
			atomic_fetch_add_explicit(&node_traffic->bytes_out, (uint64_t) nread, memory_order_relaxed);
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
			relay_shutdown(session, relay);
		return;
	}
	session_close(session, nread != UV_ECONNRESET,
				  relay == &session->upstream ? "client read error" : "server read error");
}

/* ---- connecting ---- */

static void
session_start_streaming(Session *session)
{
	const RouterConfig *cfg = session_cfg(session);
	uint64_t	now = uv_now(&session->w->loop);
	uint64_t	idle = cfg->client_timeout_ms < cfg->server_timeout_ms
		? cfg->client_timeout_ms : cfg->server_timeout_ms;

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
	Node	   *node = session->node;

	count_error(session);
	session->connect_failures++;
	log_warn(&session->w->log, "%s session: cannot connect to node %s: %s", session->service->name,
			 session->node_name, uv_strerror(status));
	/* the node may be going away: the main loop checks it now instead of at
	 * the next interval; if that fails too, it is marked down at once */
	if (node)
		mailbox_report_connect_failed(session->w, node, session->service->kind);
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

/* Connects to entry's node, whose slot route_pick reserved for this session. */
static void
session_connect(Session *session, const RouteNode *entry, bool via_fallback)
{
	Node	   *node = entry->node;
	TrafficStats *traffic = &node->traffic[session->service->kind];
	int			rc;

	session_unhold(session);
	session->node = node;
	node_ref(node);
	snprintf(session->node_name, sizeof(session->node_name), "%s", entry->name);
	session->via_fallback = via_fallback;
	counter_max(&traffic->max_sessions, atomic_fetch_add(&traffic->cur_sessions, 1) + 1);
	atomic_fetch_add(&traffic->total_sessions, 1);

	uv_tcp_init(&session->w->loop, &session->backend);
	session->backend.data = session;
	session->backend_open = true;
	session->open_handles++;
	session->state = SESSION_CONNECTING;
	session->connect_req.data = session;
	session_set_timer(session, session_cfg(session)->connect_timeout_ms);
	rc = uv_tcp_connect(&session->connect_req, &session->backend,
						(const struct sockaddr *) &entry->addr, on_backend_connect);
	if (rc < 0)
		session_connect_failed(session, rc);
}

/* Holds the session; false when hold max are held already (on all loops). */
static bool
session_hold(Session *session)
{
	Service    *service = session->service;
	uint64_t	now = uv_now(&session->w->loop);
	uint64_t	left = session->hold_deadline_ms > now ? session->hold_deadline_ms - now : 0;

	if (session->state != SESSION_HELD)
	{
		/* a reservation: two loops cannot both take the last place */
		if (atomic_fetch_add(&service->held_count, 1) >= session_cfg(session)->hold_max)
		{
			atomic_fetch_sub(&service->held_count, 1);
			return false;
		}
		session->held_counted = true;
		session->state = SESSION_HELD;
		list_push_back(&session->w->held, &session->queue_link);
		if (session->connect_failures == 0)
			atomic_fetch_add(&service->held_total, 1);
	}
	session_set_timer(session, left < HOLD_RECHECK_MS ? left : HOLD_RECHECK_MS);
	return true;
}

/*
 * Sends the client to a node, or holds it (write, while no usable primary
 * is known or the primary refused the connection), or refuses it.
 */
static void
session_route(Session *session)
{
	Worker	   *w = session->w;
	Service    *service = session->service;
	const RouterConfig *cfg = session_cfg(session);
	bool		via_fallback;
	const RouteNode *node;
	bool		can_hold;
	uint64_t	now = uv_now(&w->loop);

	if (w->draining)
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
	/* a write client whose connect just failed waits a moment (held) before
	 * trying again: the node it failed on is most likely still the target */
	if (can_hold && session->connect_failures > 0 && session->state != SESSION_HELD)
		node = NULL;
	else
		node = route_pick(w->view, &w->rr_next, service->kind, &via_fallback);
	if (node)
	{
		if (session->state == SESSION_HELD && session->connect_failures == 0)
			atomic_fetch_add(&service->held_served, 1);
		session_connect(session, node, via_fallback);
		return;
	}
	if (can_hold)
	{
		if (session_hold(session))
			return;
		session_refuse(session, "53300", "pg_ha_router: too many clients waiting for a primary (hold max %d)",
					   cfg->hold_max);
		return;
	}
	if (service->kind == SERVICE_WRITE && session->state == SESSION_HELD)
	{
		char		waited[32];

		atomic_fetch_add(&service->hold_timeouts, 1);
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
	const RouterConfig *cfg = session_cfg(session);
	uint64_t	now = uv_now(&session->w->loop);

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
				uint64_t	client_deadline = session->client_rx_ms + cfg->client_timeout_ms;
				uint64_t	server_deadline = session->server_rx_ms + cfg->server_timeout_ms;

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

/* A client socket accepted by the main loop (fd, now this loop's). */
void
proxy_accept(Worker *w, int fd, ServiceKind kind)
{
	RouterContext *ctx = w->ctx;
	Session    *session;
	Service    *service = &ctx->services[kind];
	const RouterConfig *cfg = &w->view->cfg;

	session = calloc(1, sizeof(*session));
	if (session == NULL)
	{
		log_error(&w->log, "out of memory accepting a client");
		close(fd);
		return;
	}
	session->w = w;
	session->ctx = ctx;
	session->service = service;
	list_init(&session->queue_link);
	list_push_back(&w->sessions, &session->w_link);
	atomic_fetch_add_explicit(&w->load, 1, memory_order_relaxed);
	uv_tcp_init(&w->loop, &session->client);
	session->client.data = session;
	session->open_handles++;
	uv_timer_init(&w->loop, &session->timer);
	session->timer.data = session;
	session->open_handles++;
	session->state = SESSION_CONNECTING;
	if (uv_tcp_open(&session->client, fd) < 0)
	{
		close(fd);
		session_close(session, false, "cannot take the client socket");
		return;
	}
	/* TCP_NODELAY and keepalive come with the socket: set once on the
	 * listener (listener.c), inherited by every accepted one */
	session->accepted_ms = uv_now(&w->loop);
	session->hold_deadline_ms = session->accepted_ms + cfg->hold_timeout_ms;
	atomic_fetch_add(&service->traffic.total_sessions, 1);

	/* a reservation: two loops cannot both take the last slot */
	if (atomic_fetch_add(&ctx->session_count, 1) >= cfg->maxconn)
	{
		atomic_fetch_sub(&ctx->session_count, 1);
		session_refuse(session, "53300", "pg_ha_router: too many connections (maxconn %d)",
					   cfg->maxconn);
		return;
	}
	session->counted = true;
	counter_max(&service->traffic.max_sessions,
				atomic_fetch_add(&service->traffic.cur_sessions, 1) + 1);
	session_route(session);
}

/* ---- operations on many sessions of this loop ---- */

void
proxy_shutdown_node_sessions(Worker *w, Node *node, ServiceKind kind, bool fallback_sessions,
							 const char *why)
{
	ListLink   *pos;
	ListLink   *tmp;
	int			closed = 0;
	char		name[CONFIG_NAME_MAX] = "";

	list_for_each_safe(pos, tmp, &w->sessions)
	{
		Session    *session = container_of(pos, Session, w_link);

		if (session->node != node || session->service->kind != kind)
			continue;
		if (kind == SERVICE_READ && session->via_fallback != fallback_sessions)
			continue;
		snprintf(name, sizeof(name), "%s", session->node_name);
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
		log_info(&w->log, "node %s: closed %d %s session%s (%s)", name, closed,
				 kind == SERVICE_WRITE ? "write" : "read", closed == 1 ? "" : "s", why);
}

static void
on_dispatch_timer(uv_timer_t *timer)
{
	Worker	   *w = timer->data;
	ListLink   *pos;
	ListLink   *tmp;

	/* oldest first; stop at the first one that is still held */
	list_for_each_safe(pos, tmp, &w->held)
	{
		Session    *session = container_of(pos, Session, queue_link);

		if (w->draining || w->view->target < 0)
			break;
		session_route(session);
		if (session->state == SESSION_HELD)
			break;
	}
}

void
proxy_schedule_dispatch(Worker *w)
{
	/* run from its own callback: callers may be iterating session lists */
	if (!w->stopping && !uv_is_active((uv_handle_t *) &w->dispatch_timer))
	{
		w->dispatch_timer.data = w;
		uv_timer_start(&w->dispatch_timer, on_dispatch_timer, 0, 0);
	}
}

void
proxy_refuse_held(Worker *w, const char *why)
{
	ListLink   *pos;
	ListLink   *tmp;

	list_for_each_safe(pos, tmp, &w->held)
	{
		Session    *session = container_of(pos, Session, queue_link);

		session_refuse(session, "57P01", "%s", why);
	}
}

void
proxy_close_all_sessions(Worker *w)
{
	ListLink   *pos;
	ListLink   *tmp;

	list_for_each_safe(pos, tmp, &w->sessions)
		session_close(container_of(pos, Session, w_link), false, "router stopping");
}
