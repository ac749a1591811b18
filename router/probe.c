/*
 * probe.c - an HttpProbe is one short-lived HTTP/1.0 request to a node's API
 * with a hard deadline: connect, send, read the reply (bounded), close.  It
 * owns two handles (socket, timer) and a reference to its node, and is freed
 * in the close callback of the last handle.  Its result goes to the caller's
 * done callback; it calls no other router file but node.c, health.c's reply
 * parsers, config.c's method names and, for check-ssl, tls.c: then what
 * arrives is fed to the TLS session and what the session produces is
 * written out, each write with its own buffer, freed in its callback
 * (libuv runs those before the socket's close callback).
 */
#include "probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
on_probe_closed(uv_handle_t *handle)
{
	HttpProbe  *probe = handle->data;

	if (--probe->open_handles == 0)
	{
		tls_client_free(probe->tls);
		node_unref(probe->node);
		free(probe);
	}
}

static void
probe_finish(HttpProbe *probe, ProbeOutcome outcome)
{
	if (probe->finished)
		return;
	probe->finished = true;
	probe->outcome = outcome;
	uv_read_stop((uv_stream_t *) &probe->tcp);
	uv_close((uv_handle_t *) &probe->tcp, on_probe_closed);
	uv_close((uv_handle_t *) &probe->timer, on_probe_closed);
	if (probe->abandoned || probe->node->retired)
		return;
	probe->done(probe);
}

static bool
probe_reply_complete(const HttpProbe *probe)
{
	ReplyNeed	need;

	/*
	 * A replica check needs only the status; a watch needs the JSON body, and
	 * so does a primary check when the reply has one (pg_ha's leader epoch
	 * tells an old primary from a new one).
	 */
	if (probe->purpose == CHECK_REPLICA)
		need = REPLY_NEED_HEADERS;
	else if (probe->purpose == CHECK_PRIMARY)
		need = probe->has_body ? REPLY_NEED_BODY_IF_LENGTH : REPLY_NEED_HEADERS;
	else
		need = REPLY_NEED_BODY;
	return health_reply_complete(probe->reply, probe->reply_len, sizeof(probe->reply), need);
}

static void
on_probe_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	HttpProbe  *probe = handle->data;

	(void) suggested;
	if (probe->tls)
	{
		buf->base = probe->raw;
		buf->len = sizeof(probe->raw);
		return;
	}
	buf->base = probe->reply + probe->reply_len;
	buf->len = sizeof(probe->reply) - probe->reply_len;
}

typedef struct TlsWrite
{
	uv_write_t	req;
	HttpProbe  *probe;
	char	   *buf;
} TlsWrite;

static void
on_tls_write(uv_write_t *req, int status)
{
	TlsWrite   *w = req->data;
	HttpProbe  *probe = w->probe;

	free(w->buf);
	free(w);
	if (status < 0 && !probe->finished)
	{
		probe->error = status;
		probe_finish(probe, PROBE_IO_ERROR);
	}
}

/* Sends what the TLS session has produced; false if it could not. */
static bool
tls_flush(HttpProbe *probe)
{
	size_t		len;
	char	   *data = tls_take_output(probe->tls, &len);
	TlsWrite   *w;
	uv_buf_t	buf;
	int			rc;

	if (data == NULL)
		return true;
	w = malloc(sizeof(*w));
	if (w == NULL)
	{
		free(data);
		probe->error = UV_ENOMEM;
		return false;
	}
	w->probe = probe;
	w->buf = data;
	w->req.data = w;
	buf = uv_buf_init(data, (unsigned int) len);
	rc = uv_write(&w->req, (uv_stream_t *) &probe->tcp, &buf, 1, on_tls_write);
	if (rc < 0)
	{
		free(data);
		free(w);
		probe->error = rc;
		return false;
	}
	return true;
}

/* Runs the TLS session on what arrived (len bytes in raw) and sends its output. */
static void
tls_advance(HttpProbe *probe, size_t len)
{
	TlsStep		step;

	if (!tls_feed(probe->tls, probe->raw, len))
	{
		snprintf(probe->tls_why, sizeof(probe->tls_why), "out of memory");
		probe_finish(probe, PROBE_TLS_ERROR);
		return;
	}
	step = tls_step(probe->tls, probe->request, probe->request_len, probe->reply,
					sizeof(probe->reply), &probe->reply_len);
	if (!tls_flush(probe))
	{
		probe_finish(probe, PROBE_IO_ERROR);
		return;
	}
	if (step == TLS_STEP_ERROR)
	{
		snprintf(probe->tls_why, sizeof(probe->tls_why), "%s", tls_error(probe->tls));
		probe_finish(probe, probe->reply_len > 0 ? PROBE_REPLY : PROBE_TLS_ERROR);
	}
	else if (probe_reply_complete(probe))
		probe_finish(probe, PROBE_REPLY);
	else if (step == TLS_STEP_CLOSED)
		probe_finish(probe, probe->reply_len > 0 ? PROBE_REPLY : PROBE_IO_ERROR);
}

static void
on_probe_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	HttpProbe  *probe = stream->data;

	(void) buf;
	if (probe->finished)
		return;
	if (nread > 0 && probe->tls)
		tls_advance(probe, (size_t) nread);
	else if (nread < 0 && probe->tls && probe->reply_len == 0 && !tls_handshake_done(probe->tls))
	{
		probe->error = (int) nread;
		snprintf(probe->tls_why, sizeof(probe->tls_why), "closed during the TLS handshake");
		probe_finish(probe, PROBE_TLS_ERROR);
	}
	else if (nread > 0)
	{
		probe->reply_len += (size_t) nread;
		if (probe_reply_complete(probe))
			probe_finish(probe, PROBE_REPLY);
	}
	else if (nread < 0)
	{
		probe->error = (int) nread;
		/* HTTP/1.0: the server closing the connection ends the reply */
		probe_finish(probe, probe->reply_len > 0 ? PROBE_REPLY : PROBE_IO_ERROR);
	}
}

static void
on_probe_write(uv_write_t *req, int status)
{
	HttpProbe  *probe = req->data;

	if (status < 0 && !probe->finished)
	{
		probe->error = status;
		probe_finish(probe, PROBE_IO_ERROR);
	}
}

static void
on_probe_connect(uv_connect_t *req, int status)
{
	HttpProbe  *probe = req->data;
	uv_buf_t	buf;
	int			rc;

	if (probe->finished)
		return;
	if (status < 0)
	{
		probe->error = status;
		probe_finish(probe, PROBE_CONNECT_ERROR);
		return;
	}
	probe->connected = true;
	if (probe->node->cfg.tls.ssl)
	{
		/* the ClientHello first; the request goes once the handshake is done */
		probe->tls = tls_client_new(&probe->node->cfg.tls, probe->node->cfg.check_addr.host,
									probe->tls_why, sizeof(probe->tls_why));
		if (probe->tls == NULL)
		{
			probe_finish(probe, PROBE_TLS_ERROR);
			return;
		}
		rc = uv_read_start((uv_stream_t *) &probe->tcp, on_probe_alloc, on_probe_read);
		if (rc < 0)
		{
			probe->error = rc;
			probe_finish(probe, PROBE_IO_ERROR);
			return;
		}
		tls_advance(probe, 0);
		return;
	}
	buf = uv_buf_init(probe->request, (unsigned int) probe->request_len);
	probe->write_req.data = probe;
	rc = uv_write(&probe->write_req, (uv_stream_t *) &probe->tcp, &buf, 1, on_probe_write);
	if (rc == 0)
		rc = uv_read_start((uv_stream_t *) &probe->tcp, on_probe_alloc, on_probe_read);
	if (rc < 0)
	{
		probe->error = rc;
		probe_finish(probe, PROBE_IO_ERROR);
	}
}

static void
on_probe_timer(uv_timer_t *timer)
{
	HttpProbe  *probe = timer->data;

	if (probe->error != 0 && !probe->connected)
		probe_finish(probe, PROBE_CONNECT_ERROR);	/* uv_tcp_connect refused at once */
	else if (probe->tls && !tls_handshake_done(probe->tls))
	{
		snprintf(probe->tls_why, sizeof(probe->tls_why), "TLS handshake timeout");
		probe_finish(probe, PROBE_TLS_ERROR);
	}
	else
		probe_finish(probe, probe->connected ? PROBE_REPLY_TIMEOUT : PROBE_CONNECT_TIMEOUT);
}

HttpProbe *
probe_start(Node *node, int purpose, CheckMethod method, const char *path_and_query,
			uint64_t timeout_ms, ProbeDone done)
{
	RouterContext *ctx = node->ctx;
	HttpProbe  *probe = calloc(1, sizeof(*probe));
	int			len;
	int			rc;

	if (probe == NULL)
	{
		log_error(&ctx->log, "out of memory starting a check of node %s", node->cfg.name);
		return NULL;
	}
	probe->node = node;
	node_ref(node);
	probe->purpose = purpose;
	probe->done = done;
	probe->has_body = method == CHECK_METHOD_GET;
	probe->started_ms = uv_now(ctx->loop);
	len = snprintf(probe->request, sizeof(probe->request),
				   "%s %s HTTP/1.0\r\nHost: %s:%u\r\nUser-Agent: pg_ha_router/" ROUTER_VERSION
				   "\r\nAccept: */*\r\nConnection: close\r\n\r\n",
				   config_check_method_name(method), path_and_query,
				   node->cfg.check_addr.host, node->cfg.check_addr.port);
	probe->request_len = len > 0 && (size_t) len < sizeof(probe->request) ? (size_t) len : 0;

	uv_tcp_init(ctx->loop, &probe->tcp);
	probe->tcp.data = probe;
	probe->open_handles++;
	uv_timer_init(ctx->loop, &probe->timer);
	probe->timer.data = probe;
	probe->open_handles++;

	probe->connect_req.data = probe;
	rc = uv_tcp_connect(&probe->connect_req, &probe->tcp,
						(const struct sockaddr *) &node->check_addr, on_probe_connect);
	if (rc < 0)
	{
		/* report from the timer, so callers never see a result re-entrantly */
		probe->error = rc;
		timeout_ms = 0;
	}
	uv_timer_start(&probe->timer, on_probe_timer, timeout_ms, 0);
	return probe;
}

/* Stops caring about a probe in flight; it closes itself. */
void
probe_abandon(HttpProbe **slot)
{
	HttpProbe  *probe = *slot;

	if (probe == NULL)
		return;
	*slot = NULL;
	probe->abandoned = true;
	probe_finish(probe, PROBE_ABORTED);
}

/* Describes a probe's outcome like HAProxy's check status; true if it passed. */
bool
probe_describe(const HttpProbe *probe, char *out, size_t outlen, int *http_status)
{
	int			status = 0;

	*http_status = 0;
	switch (probe->outcome)
	{
		case PROBE_CONNECT_ERROR:
			snprintf(out, outlen, "L4CON %s", uv_strerror(probe->error));
			return false;
		case PROBE_CONNECT_TIMEOUT:
			snprintf(out, outlen, "L4TOUT connect timeout");
			return false;
		case PROBE_REPLY_TIMEOUT:
			snprintf(out, outlen, "L7TOUT no reply in time");
			return false;
		case PROBE_IO_ERROR:
			snprintf(out, outlen, "L7RSP %s", probe->error == UV_EOF ? "closed without a reply" : uv_strerror(probe->error));
			return false;
		case PROBE_TLS_ERROR:
			/* HAProxy's layer 6 */
			snprintf(out, outlen, "L6RSP %s", probe->tls_why);
			return false;
		case PROBE_ABORTED:
			snprintf(out, outlen, "aborted");
			return false;
		case PROBE_REPLY:
			break;
	}
	if (health_parse_status_line(probe->reply, probe->reply_len, &status) != 1)
	{
		snprintf(out, outlen, "L7RSP not an HTTP reply");
		return false;
	}
	*http_status = status;
	if (status == 200)
	{
		snprintf(out, outlen, "L7OK %d", status);
		return true;
	}
	snprintf(out, outlen, "L7STS %d", status);
	return false;
}
