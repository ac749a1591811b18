/*
 * stats.c - the stats HTTP server: GET/HEAD of the HTML page, JSON and
 * Prometheus metrics, HTTP/1.0 with the connection closed after each reply.
 * Hostile input is bounded: request size, time to send it, and the number
 * of stats connections at once.  A flood of connections cannot lock the
 * page out: every connection is accepted, and at the cap one is closed to
 * make room, chosen by http_evict_choose() (common/http_evict.c, shared
 * with the agent's API): the oldest one without a complete request from
 * the source address holding the most such connections, then one already
 * answered that waits for its client to close, never one whose answer is
 * being written.  The stats port shares the loop with routing, so all of
 * this is O(cap) per accept and nothing else.
 */
#include "router.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_evict.h"

#define STATS_MAX_CONNS 64
#define STATS_REQUEST_MAX 4096
#define STATS_TIMEOUT_MS 5000
#define STATS_DEFER_ACCEPT_S 5

typedef struct StatsConn
{
	RouterContext *ctx;
	ListLink	link;			/* ctx->stats_conns */
	uv_tcp_t	tcp;
	uv_timer_t	timer;
	uv_write_t	write_req;
	uv_shutdown_t shutdown_req;
	int			open_handles;
	bool		closing;
	bool		answered;		/* a reply is queued (request complete) */
	bool		written;		/* ... and written: draining until the client closes */
	uint64_t	seq;			/* accept order */
	struct sockaddr_storage peer;
	StrBuf		reply;
	size_t		request_len;
	char		request[STATS_REQUEST_MAX];
} StatsConn;

static void
on_stats_closed(uv_handle_t *handle)
{
	StatsConn  *conn = handle->data;

	if (--conn->open_handles == 0)
	{
		sb_free(&conn->reply);
		free(conn);
	}
}

static void
stats_conn_close(StatsConn *conn)
{
	if (conn->closing)
		return;
	conn->closing = true;
	list_remove(&conn->link);
	conn->ctx->stats_conn_count--;
	uv_read_stop((uv_stream_t *) &conn->tcp);
	uv_close((uv_handle_t *) &conn->tcp, on_stats_closed);
	uv_close((uv_handle_t *) &conn->timer, on_stats_closed);
}

static void on_stats_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf);
static void on_stats_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

static void
on_stats_shutdown(uv_shutdown_t *req, int status)
{
	StatsConn  *conn = req->data;

	if (conn->closing)
		return;
	/* read (and drop) until the client closes, so our close cannot reset
	 * the connection before it has read the reply; the timer bounds this */
	conn->request_len = 0;
	if (status < 0 ||
		uv_read_start((uv_stream_t *) &conn->tcp, on_stats_alloc, on_stats_read) < 0)
		stats_conn_close(conn);
}

static void
on_stats_written(uv_write_t *req, int status)
{
	StatsConn  *conn = req->data;

	if (conn->closing)
		return;
	conn->written = true;
	conn->shutdown_req.data = conn;
	if (status < 0 ||
		uv_shutdown(&conn->shutdown_req, (uv_stream_t *) &conn->tcp, on_stats_shutdown) < 0)
		stats_conn_close(conn);
}

/* Builds the whole reply (headers and body) in conn->reply, which lives
 * until the write completes, and sends it. */
static void
stats_reply(StatsConn *conn, int status, const char *content_type, const StrBuf *body,
			bool head_only)
{
	const char *reason = status == 200 ? "OK" : status == 400 ? "Bad Request"
		: status == 404 ? "Not Found" : status == 405 ? "Method Not Allowed"
		: status == 431 ? "Request Header Fields Too Large" : "Internal Server Error";
	uv_buf_t	buf;

	conn->answered = true;
	uv_read_stop((uv_stream_t *) &conn->tcp);
	sb_printf(&conn->reply, "HTTP/1.0 %d %s\r\nServer: pg_ha_router/" ROUTER_VERSION
			  "\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-cache\r\n"
			  "Connection: close\r\n\r\n", status, reason, content_type, body->len);
	if (!head_only && body->len > 0)
		sb_append(&conn->reply, body->data, body->len);
	if (conn->reply.failed || body->failed)
	{
		stats_conn_close(conn);
		return;
	}
	buf = uv_buf_init(conn->reply.data, (unsigned int) conn->reply.len);
	conn->write_req.data = conn;
	if (uv_write(&conn->write_req, (uv_stream_t *) &conn->tcp, &buf, 1, on_stats_written) < 0)
		stats_conn_close(conn);
}

static void
stats_error(StatsConn *conn, int status, const char *message)
{
	StrBuf		body;

	sb_init(&body);
	sb_printf(&body, "%s\n", message);
	stats_reply(conn, status, "text/plain; charset=utf-8", &body, false);
	sb_free(&body);
}

static void
stats_handle_request(StatsConn *conn)
{
	char		method[8];
	char		target[512];
	char	   *query;
	bool		head_only;
	StrBuf		body;
	const char *content_type;

	if (sscanf(conn->request, "%7s %511s HTTP/1.%*d", method, target) != 2)
	{
		stats_error(conn, 400, "bad request");
		return;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
	{
		stats_error(conn, 405, "only GET and HEAD");
		return;
	}
	head_only = strcmp(method, "HEAD") == 0;
	query = strchr(target, '?');
	if (query)
		*query = '\0';

	sb_init(&body);
	if (strcmp(target, "/") == 0 || strcmp(target, "/stats") == 0)
	{
		stats_render_html(conn->ctx, &body);
		content_type = "text/html; charset=utf-8";
	}
	else if (strcmp(target, "/stats.json") == 0 || strcmp(target, "/;json") == 0 ||
			 strcmp(target, "/stats;json") == 0)
	{
		stats_render_json(conn->ctx, &body);
		content_type = "application/json";
	}
	else if (strcmp(target, "/metrics") == 0)
	{
		stats_render_metrics(conn->ctx, &body);
		content_type = "text/plain; version=0.0.4; charset=utf-8";
	}
	else
	{
		sb_free(&body);
		stats_error(conn, 404, "not found; try /, /stats.json or /metrics");
		return;
	}
	stats_reply(conn, 200, content_type, &body, head_only);
	sb_free(&body);
}

static void
on_stats_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	StatsConn  *conn = handle->data;

	(void) suggested;
	/* keep one byte for the terminating NUL */
	buf->base = conn->request + conn->request_len;
	buf->len = sizeof(conn->request) - 1 - conn->request_len;
}

static void
on_stats_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	StatsConn  *conn = stream->data;

	(void) buf;
	if (conn->closing)
		return;
	if (nread < 0)
	{
		stats_conn_close(conn);
		return;
	}
	if (conn->answered)
	{
		conn->request_len = 0;	/* draining after the reply */
		return;
	}
	conn->request_len += (size_t) nread;
	conn->request[conn->request_len] = '\0';
	if (memchr(conn->request, '\0', conn->request_len) != NULL)
	{
		stats_error(conn, 400, "bad request");
		return;
	}
	if (strstr(conn->request, "\r\n\r\n") || strstr(conn->request, "\n\n"))
		stats_handle_request(conn);
	else if (conn->request_len >= sizeof(conn->request) - 1)
		stats_error(conn, 431, "request too large");
}

static void
on_stats_timeout(uv_timer_t *timer)
{
	stats_conn_close(timer->data);
}

/* At the cap: closes the connection http_evict_choose() picks; false if none may go. */
static bool
stats_evict_one(RouterContext *ctx)
{
	HttpEvictCand cands[STATS_MAX_CONNS + 1];
	StatsConn  *conns[STATS_MAX_CONNS + 1];
	ListLink   *pos;
	ListLink   *tmp;
	int			n = 0;
	int			victim;

	list_for_each_safe(pos, tmp, &ctx->stats_conns)
	{
		StatsConn  *c = container_of(pos, StatsConn, link);

		if (n == STATS_MAX_CONNS + 1)
			break;				/* cannot happen: the cap is checked at each accept */
		conns[n] = c;
		cands[n].cls = !c->answered ? HTTP_EVICT_INCOMPLETE
			: c->written ? HTTP_EVICT_PARKED : HTTP_EVICT_NEVER;
		cands[n].seq = c->seq;
		http_evict_set_addr(&cands[n], &c->peer);
		n++;
	}
	victim = http_evict_choose(cands, n);
	if (victim < 0)
		return false;
	stats_conn_close(conns[victim]);
	ctx->stats_evicted++;
	return true;
}

void
stats_accept(RouterContext *ctx, uv_stream_t *server)
{
	StatsConn  *conn = calloc(1, sizeof(*conn));
	int			namelen = sizeof(conn->peer);

	if (conn == NULL)
	{
		log_error(&ctx->log, "out of memory accepting a stats connection");
		return;
	}
	conn->ctx = ctx;
	conn->seq = ctx->stats_accepted++;
	sb_init(&conn->reply);
	uv_tcp_init(ctx->loop, &conn->tcp);
	conn->tcp.data = conn;
	conn->open_handles++;
	uv_timer_init(ctx->loop, &conn->timer);
	conn->timer.data = conn;
	conn->open_handles++;
	list_push_back(&ctx->stats_conns, &conn->link);
	ctx->stats_conn_count++;
	if (uv_accept(server, (uv_stream_t *) &conn->tcp) < 0)
	{
		stats_conn_close(conn);
		return;
	}
	(void) uv_tcp_getpeername(&conn->tcp, (struct sockaddr *) &conn->peer, &namelen);
	/*
	 * The new one is the youngest: it is its own victim only when every
	 * other connection is writing its answer or it is alone at its address
	 * against no incomplete one elsewhere -- then it goes, as it must.
	 */
	if (ctx->stats_conn_count > STATS_MAX_CONNS && !stats_evict_one(ctx))
		stats_conn_close(conn);
	if (conn->closing)
		return;
	uv_timer_start(&conn->timer, on_stats_timeout, STATS_TIMEOUT_MS, 0);
	if (uv_read_start((uv_stream_t *) &conn->tcp, on_stats_alloc, on_stats_read) < 0)
		stats_conn_close(conn);
}

/*
 * HTTP clients speak first: the kernel holds a stats connection until its
 * request arrives, so connections that send nothing never take a slot (an
 * idle one is handed over after about STATS_DEFER_ACCEPT_S, and then counts
 * as incomplete).  Only an optimization: the eviction works without it.
 */
void
stats_listener_prepare(RouterContext *ctx, uv_tcp_t *tcp)
{
#ifdef TCP_DEFER_ACCEPT
	uv_os_fd_t	fd;
	int			defer = STATS_DEFER_ACCEPT_S;

	if (uv_fileno((uv_handle_t *) tcp, &fd) == 0 &&
		setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer)) < 0)
		log_warn(&ctx->log, "could not set TCP_DEFER_ACCEPT on the stats port: %s",
				 strerror(errno));
#else
	(void) ctx;
	(void) tcp;
#endif
}

void
stats_close_all(RouterContext *ctx)
{
	ListLink   *pos;
	ListLink   *tmp;

	list_for_each_safe(pos, tmp, &ctx->stats_conns)
		stats_conn_close(container_of(pos, StatsConn, link));
}
