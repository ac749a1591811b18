/*-------------------------------------------------------------------------
 *
 * ha_http.c
 *	  Non-blocking HTTP/1.0 server inside the agent's WaitEventSet loop.
 *
 * Everything is bounded, because a crash here restarts every backend: a
 * request is at most HTTP_MAX_REQUEST bytes and must arrive within
 * HTTP_REQUEST_TIMEOUT_MS, at most max_conns connections are open, and each
 * connection's memory lives in its own context that is deleted when it
 * closes, so nothing accumulates.
 *
 * Health checks cannot be starved by a flood of connections (idle ones,
 * byte-at-a-time ones, ones that send a request line and stop):
 *	- the kernel hands a connection over only once its first bytes are in
 *	  (TCP_DEFER_ACCEPT, HTTP_DEFER_ACCEPT_S): connections that send nothing
 *	  wait in the kernel, not in a slot, and do not churn the slots;
 *	- the listening socket is always polled, with a deep backlog, and up to
 *	  HTTP_ACCEPT_BURST connections are accepted per loop turn;
 *	- a new connection is read at once: a checker's request is usually
 *	  there already, so it is answered and closed within the accept;
 *	- at the cap, a connection is closed to make room, chosen by
 *	  http_evict_choose() (http_evict.c): the oldest one without a complete
 *	  request from the source address holding the most such connections,
 *	  parked long-polls (/watch) only when there is no incomplete one (it
 *	  gets its answer early, as at its timeout), a connection writing its
 *	  answer never.  Only when every slot is writing is the new connection
 *	  closed instead.
 * So a health check waits for the accept queue ahead of it, never for a
 * flood to time out (bench/api-flood: p99 under 5 ms with 1,050 flooding
 * connections).
 *
 * With pg_ha.api_certfile set the API speaks TLS (ha_tls.c) on the same
 * port: a connection whose first byte is a TLS handshake record gets a TLS
 * session, driven without blocking (the handshake, like the request, must
 * be done within HTTP_REQUEST_TIMEOUT_MS, and a connection in its
 * handshake is "incomplete" for the eviction); any other is plain HTTP,
 * where ha_api.c refuses unsafe requests from off loopback.  The handler
 * learns which (HttpPeer).  A certificate that cannot be loaded keeps the
 * API closed (retried like a failed bind), never plain instead.
 *
 * Why one file of over 700 lines (about 840): the connection slots, their
 * states and the eviction are one state machine that every event of the
 * loop drives; TLS's own work (contexts, sessions, the handshake step)
 * already lives in ha_tls.c, and what is left here is where that machine
 * asks it to read or write.  Split further, each half would change the
 * other's slot states.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include "addr.h"
#include "ha_guc.h"
#include "ha_http.h"
#include "ha_tls.h"
#include "http_evict.h"

#define HTTP_BIND_RETRY_MS 5000
#define HTTP_LISTEN_BACKLOG 4096	/* the kernel caps it at somaxconn */
#define HTTP_ACCEPT_BURST 64	/* accepts per loop turn */
#define HTTP_DEFER_ACCEPT_S 5	/* a silent connection waits in the kernel */
#define HTTP_EVICT_LOG_MS 60000 /* at most one log line per minute */
#define TLS_RECORD_HANDSHAKE 0x16	/* first byte of a ClientHello */

typedef enum HttpConnState
{
	CONN_HANDSHAKE,				/* TLS configured: plain or TLS? then TLS's */
	CONN_READING,
	CONN_PARKED,
	CONN_WRITING,
	CONN_HANDED_OFF				/* another process answers it: just close */
} HttpConnState;

typedef struct HttpConn
{
	MemoryContext cxt;
	pgsocket	sock;
	HttpConnState state;
	uint64		seq;			/* accept order */
	struct sockaddr_storage peer;
	HaTlsConn  *tls;			/* NULL: plain HTTP */
	int			tls_wants;		/* WL_SOCKET_* a TLS call waits for; 0: none */
	int64		deadline_ms;
	size_t		inlen;
	char		in[HTTP_MAX_REQUEST];
	StringInfoData out;
	size_t		outpos;
	HttpPark	park;
} HttpConn;

static void conn_write(int slot);

static struct
{
	char		listen_addr[HA_HOST_LEN + 8];
	pgsocket	listen_sock;
	int			port;
	bool		loopback;
	int64		next_bind_ms;
	bool		bind_failed_logged;
	int			max_conns;
	int			nconns;
	HttpConn  **conns;			/* max_conns slots, NULL = free */
	HttpEvictCand *cands;		/* max_conns, scratch for the eviction */
	uint64		next_seq;
	uint64		evicted;		/* closed to make room, since the last log */
	uint64		refused;		/* closed at once: every slot was writing */
	int64		evict_logged_ms;
	bool		tls;			/* TLS configured and loaded */
	bool		tls_failed_logged;
	uint64		tls_failures;	/* handshakes that failed, since the last log */
	char		tls_last_failure[256];
	int64		tls_logged_ms;
	HttpHandler handler;
	HttpParkPoll poll;
	HttpHandOff hand_off;
	MemoryContext cxt;
}			srv = {.listen_sock = PGINVALID_SOCKET};

int64
ha_mono_ms(void)
{
	struct timespec ts;

	/*
	 * Time since the last reply from ZooKeeper must include a suspend of the
	 * machine (CLOCK_MONOTONIC stops then): the fence and the leader lease
	 * are counted on this clock.
	 */
#ifdef CLOCK_BOOTTIME
	clock_gettime(CLOCK_BOOTTIME, &ts);
#else
	clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
	return (int64) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool
try_bind(void)
{
	char		host[HA_HOST_LEN];
	char		portstr[8];
	char		why[128];
	int			port;
	struct addrinfo hints,
			   *res = NULL;
	int			rc;
	int			one = 1;
	pgsocket	sock = PGINVALID_SOCKET;

	if (!addr_parse_host_port(srv.listen_addr, host, sizeof(host), &port,
							  why, sizeof(why)))
		return false;			/* the check hook makes this unreachable */
	if (ha_tls_configured() && !srv.tls)
	{
		char		tlswhy[MAXPGPATH + 384];

		/* never plain HTTP instead: the API stays closed until it loads */
		if (!ha_tls_load(tlswhy, sizeof(tlswhy)))
		{
			if (!srv.tls_failed_logged)
				ereport(WARNING,
						(errcode(ERRCODE_CONFIG_FILE_ERROR),
						 errmsg("pg_ha: could not set up TLS for the HTTP API; it is not served"),
						 errdetail("%s", tlswhy),
						 errhint("Check pg_ha.api_certfile, pg_ha.api_keyfile and pg_ha.api_cafile (PEM files readable by the server); the agent retries every %d s.",
								 HTTP_BIND_RETRY_MS / 1000)));
			srv.tls_failed_logged = true;
			return false;
		}
		srv.tls = true;
		if (srv.tls_failed_logged)
			ereport(LOG, (errmsg("pg_ha: TLS for the HTTP API set up")));
	}
	snprintf(portstr, sizeof(portstr), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = strcmp(host, "*") == 0 ? AF_INET : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, portstr, &hints, &res);
	if (rc != 0)
	{
		if (!srv.bind_failed_logged)
			ereport(WARNING,
					(errmsg("pg_ha: could not resolve HTTP API address \"%s\": %s",
							srv.listen_addr, gai_strerror(rc)),
					 errhint("Check pg_ha.api_listen; the agent retries every %d s.",
							 HTTP_BIND_RETRY_MS / 1000)));
		srv.bind_failed_logged = true;
		return false;
	}

	sock = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sock == PGINVALID_SOCKET ||
		setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		bind(sock, res->ai_addr, res->ai_addrlen) < 0 ||
		listen(sock, HTTP_LISTEN_BACKLOG) < 0)
	{
		int			save_errno = errno;

		if (sock != PGINVALID_SOCKET)
			close(sock);
		freeaddrinfo(res);
		if (!srv.bind_failed_logged)
			ereport(WARNING,
					(errmsg("pg_ha: could not listen on \"%s\" for the HTTP API: %s",
							srv.listen_addr, strerror(save_errno)),
					 errhint("Is another process using the port? The agent retries every %d s.",
							 HTTP_BIND_RETRY_MS / 1000)));
		srv.bind_failed_logged = true;
		return false;
	}

#ifdef TCP_DEFER_ACCEPT
	{
		/*
		 * HTTP clients speak first: hold a connection in the kernel until
		 * its request arrives (an idle one is handed over after about this
		 * long, and then counts as incomplete).  Only an optimization: the
		 * eviction below works without it.
		 */
		int			defer = HTTP_DEFER_ACCEPT_S;

		if (setsockopt(sock, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer)) < 0)
			ereport(LOG,
					(errmsg("pg_ha: could not set TCP_DEFER_ACCEPT on the HTTP API socket: %m")));
	}
#endif

	if (res->ai_family == AF_INET)
		srv.loopback = (ntohl(((struct sockaddr_in *) res->ai_addr)->sin_addr.s_addr) >> 24) == 127;
	else if (res->ai_family == AF_INET6)
		srv.loopback = IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *) res->ai_addr)->sin6_addr);
	freeaddrinfo(res);
	srv.listen_sock = sock;
	srv.port = port;
	if (srv.bind_failed_logged || srv.tls_failed_logged)
		ereport(LOG, (errmsg("pg_ha: HTTP API now listening on \"%s\"%s", srv.listen_addr,
							 srv.tls ? " (HTTPS, and plain HTTP)" : "")));
	srv.tls_failed_logged = false;
	srv.bind_failed_logged = false;
	return true;
}

void
ha_http_start(const char *listen_addr, int max_conns, HttpHandler handler,
			  HttpParkPoll poll, HttpHandOff hand_off)
{
	srv.cxt = AllocSetContextCreate(TopMemoryContext, "pg_ha http",
									ALLOCSET_SMALL_SIZES);
	strlcpy(srv.listen_addr, listen_addr, sizeof(srv.listen_addr));
	srv.max_conns = max_conns;
	srv.conns = MemoryContextAllocZero(srv.cxt, sizeof(HttpConn *) * max_conns);
	srv.cands = MemoryContextAllocZero(srv.cxt, sizeof(HttpEvictCand) * max_conns);
	srv.handler = handler;
	srv.poll = poll;
	srv.hand_off = hand_off;
	if (!try_bind())
		srv.next_bind_ms = ha_mono_ms() + HTTP_BIND_RETRY_MS;
}

static void
conn_close(int slot)
{
	HttpConn   *c = srv.conns[slot];

	ha_tls_close(c->tls);
	close(c->sock);
	MemoryContextDelete(c->cxt);
	srv.conns[slot] = NULL;
	srv.nconns--;
}

void
ha_http_stop(void)
{
	for (int i = 0; i < srv.max_conns; i++)
		if (srv.conns && srv.conns[i])
			conn_close(i);
	if (srv.listen_sock != PGINVALID_SOCKET)
		close(srv.listen_sock);
	srv.listen_sock = PGINVALID_SOCKET;
}

int
ha_http_listen_port(void)
{
	return srv.port;
}

bool
ha_http_loopback_only(void)
{
	return srv.loopback;
}

bool
ha_http_tls(void)
{
	return srv.tls;
}

/* What the connection waits for: what TLS asks, else what its state does. */
static int
conn_wants(const HttpConn *c)
{
	if (c->tls_wants)
		return c->tls_wants;
	return c->state == CONN_WRITING ? WL_SOCKET_WRITEABLE : WL_SOCKET_READABLE;
}

/*
 * recv() or SSL_read(): > 0 bytes, 0 at the end, -1 with errno EAGAIN to
 * wait (conn_wants() says for what) or another errno to give up.
 */
static ssize_t
conn_recv(HttpConn *c, void *buf, size_t len)
{
	size_t		got;
	HaTlsStatus st;

	if (c->tls == NULL)
		return recv(c->sock, buf, len, 0);
	st = ha_tls_read(c->tls, buf, len, &got);
	c->tls_wants = st == HA_TLS_WANT_READ ? WL_SOCKET_READABLE :
		st == HA_TLS_WANT_WRITE ? WL_SOCKET_WRITEABLE : 0;
	switch (st)
	{
		case HA_TLS_OK:
			return (ssize_t) got;
		case HA_TLS_EOF:
			return 0;
		case HA_TLS_WANT_READ:
		case HA_TLS_WANT_WRITE:
			errno = EAGAIN;
			return -1;
		case HA_TLS_ERROR:
			break;
	}
	errno = ECONNRESET;
	return -1;
}

/* send() or SSL_write(), as conn_recv. */
static ssize_t
conn_send(HttpConn *c, const void *buf, size_t len, int flags)
{
	size_t		put;
	HaTlsStatus st;

	if (c->tls == NULL)
		return send(c->sock, buf, len, MSG_NOSIGNAL | flags);
	st = ha_tls_write(c->tls, buf, len, &put);
	c->tls_wants = st == HA_TLS_WANT_READ ? WL_SOCKET_READABLE :
		st == HA_TLS_WANT_WRITE ? WL_SOCKET_WRITEABLE : 0;
	if (st == HA_TLS_OK)
		return (ssize_t) put;
	errno = st == HA_TLS_WANT_READ || st == HA_TLS_WANT_WRITE ? EAGAIN : ECONNRESET;
	return -1;
}

/* Says, at most once a minute, that TLS handshakes failed, and the last reason. */
static void
log_tls_failures(int64 now_ms)
{
	if (srv.tls_failures == 0 || now_ms - srv.tls_logged_ms < HTTP_EVICT_LOG_MS)
		return;
	ereport(LOG,
			(errcode(ERRCODE_PROTOCOL_VIOLATION),
			 errmsg("pg_ha: %llu TLS handshake(s) on the HTTP API failed; the last: %s",
					(unsigned long long) srv.tls_failures, srv.tls_last_failure),
			 errdetail("Those connections were closed."),
			 errhint("A client without the right CA or client certificate, or one that is not speaking TLS.")));
	srv.tls_failures = 0;
	srv.tls_logged_ms = now_ms;
}

static void
tls_failed(int slot, const char *why)
{
	srv.tls_failures++;
	strlcpy(srv.tls_last_failure, why, sizeof(srv.tls_last_failure));
	log_tls_failures(ha_mono_ms());
	conn_close(slot);
}

int
ha_http_wait_events(void)
{
	return 1 + srv.max_conns;
}

void
ha_http_add_events(WaitEventSet *set)
{
	/* always: at the cap a new connection evicts an incomplete one */
	if (srv.listen_sock != PGINVALID_SOCKET)
		AddWaitEventToSet(set, WL_SOCKET_READABLE, srv.listen_sock, NULL, NULL);
	for (int i = 0; i < srv.max_conns; i++)
	{
		HttpConn   *c = srv.conns[i];

		if (c == NULL)
			continue;
		/* a parked connection is read too, to notice the client leaving */
		AddWaitEventToSet(set, conn_wants(c), c->sock, NULL, (void *) (intptr_t) (i + 1));
	}
}

void
ha_http_reply(StringInfo out, int status, bool head_only,
			  const char *content_type, const char *body, size_t body_len)
{
	resetStringInfo(out);
	/* Patroni's HEAD/OPTIONS answer: the status line only (HAProxy reads no more) */
	if (head_only)
	{
		appendStringInfo(out, "HTTP/1.0 %d %s\r\n\r\n", status, http_reason(status));
		return;
	}
	appendStringInfo(out,
					 "HTTP/1.0 %d %s\r\n"
					 "Content-Type: %s\r\n"
					 "Content-Length: %zu\r\n"
					 "Connection: close\r\n\r\n",
					 status, http_reason(status), content_type, body_len);
	appendBinaryStringInfo(out, body, (int) body_len);
}

static void
reply_error(HttpConn *c, int status)
{
	char		body[128];
	int			n;

	n = snprintf(body, sizeof(body), "{\"error\": \"%s\"}\n", http_reason(status));
	ha_http_reply(&c->out, status, false, "application/json", body, n);
	c->state = CONN_WRITING;
	c->outpos = 0;
}

static void conn_read(int slot);
static void conn_handshake(int slot);

/*
 * At the cap: closes the connection http_evict_choose() picks and returns
 * its slot, or -1 if none may be closed.
 */
static int
evict_one(void)
{
	int			victim;

	for (int i = 0; i < srv.max_conns; i++)
	{
		HttpConn   *c = srv.conns[i];
		HttpEvictCand *cand = &srv.cands[i];

		/* a connection in its TLS handshake has no complete request either */
		cand->cls = c == NULL || c->state == CONN_WRITING ? HTTP_EVICT_NEVER
			: c->state == CONN_PARKED ? HTTP_EVICT_PARKED : HTTP_EVICT_INCOMPLETE;
		cand->seq = c ? c->seq : 0;
		http_evict_set_addr(cand, c ? (void *) &c->peer : NULL);
	}
	victim = http_evict_choose(srv.cands, srv.max_conns);
	if (victim >= 0)
	{
		HttpConn   *c = srv.conns[victim];

		Assert(c != NULL);
		Assert(c->state != CONN_WRITING);
		if (c->state == CONN_PARKED)
		{
			/*
			 * A long-poll gets its answer early, as at its timeout, so a
			 * router sees a valid reply rather than a broken watch; sent
			 * once, without waiting (it fits in the socket buffer).
			 */
			MemoryContext old = MemoryContextSwitchTo(c->cxt);

			if (srv.poll(&c->park, true, &c->out))
				(void) conn_send(c, c->out.data, c->out.len, MSG_DONTWAIT);
			MemoryContextSwitchTo(old);
		}
		conn_close(victim);
		srv.evicted++;
	}
	return victim;
}

/* Says, at most once a minute, that the cap made the server close some. */
static void
log_evictions(int64 now_ms)
{
	if (srv.evicted + srv.refused == 0 ||
		now_ms - srv.evict_logged_ms < HTTP_EVICT_LOG_MS)
		return;
	ereport(LOG,
			(errmsg("pg_ha: HTTP API at its limit of %d connections: closed %llu without a complete request or waiting on /watch, refused %llu new ones",
					srv.max_conns, (unsigned long long) srv.evicted,
					(unsigned long long) srv.refused),
			 errdetail("A connection that does not send a complete request makes room for a new one when all are in use."),
			 errhint("Many connections that send nothing point at a client gone wrong or a flood; pg_ha.api_max_connections sets the limit.")));
	srv.evicted = srv.refused = 0;
	srv.evict_logged_ms = now_ms;
}

static void
accept_some(void)
{
	for (int burst = 0; burst < HTTP_ACCEPT_BURST; burst++)
	{
		pgsocket	sock;
		int			slot;
		HttpConn   *c;
		MemoryContext cxt;
		struct sockaddr_storage peer;
		socklen_t	peerlen = sizeof(peer);

		sock = accept4(srv.listen_sock, (struct sockaddr *) &peer, &peerlen,
					   SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (sock < 0)
		{
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
				errno != ECONNABORTED)
				ereport(LOG,
						(errmsg("pg_ha: could not accept an HTTP connection: %m")));
			return;
		}
		if (srv.nconns >= srv.max_conns && evict_one() < 0)
		{
			close(sock);
			srv.refused++;
			continue;
		}
		for (slot = 0; srv.conns[slot] != NULL; slot++)
			;
		Assert(slot < srv.max_conns);
		cxt = AllocSetContextCreate(srv.cxt, "pg_ha http connection",
									ALLOCSET_SMALL_SIZES);
		c = MemoryContextAllocZero(cxt, sizeof(HttpConn));
		c->cxt = cxt;
		c->sock = sock;
		c->state = srv.tls ? CONN_HANDSHAKE : CONN_READING;
		c->seq = srv.next_seq++;
		memcpy(&c->peer, &peer, Min(peerlen, sizeof(peer)));
		c->deadline_ms = ha_mono_ms() + HTTP_REQUEST_TIMEOUT_MS;
		{
			MemoryContext old = MemoryContextSwitchTo(cxt);

			initStringInfo(&c->out);
			MemoryContextSwitchTo(old);
		}
		srv.conns[slot] = c;
		srv.nconns++;
		/* a checker's request is usually there already: answer it now */
		if (c->state == CONN_HANDSHAKE)
			conn_handshake(slot);
		else
			conn_read(slot);
	}
}

/* Runs the handler on a complete request, in the connection's context. */
static void
dispatch(HttpConn *c, const HttpRequest *req)
{
	MemoryContext old = MemoryContextSwitchTo(c->cxt);
	HttpPeer	peer;
	HttpAnswer	answer;

	peer.addr = &c->peer;
	peer.tls = c->tls != NULL;
	peer.client_verified = c->tls != NULL && ha_tls_client_verified(c->tls);
	answer = srv.handler(req, &peer, &c->out, &c->park);
	MemoryContextSwitchTo(old);
	if (answer == HTTP_ANSWER_PARK)
		c->state = CONN_PARKED;
	else if (answer == HTTP_ANSWER_HAND_OFF &&
			 srv.hand_off(c->tls ? PGINVALID_SOCKET : c->sock, &c->park, &c->out))
		c->state = CONN_HANDED_OFF;	/* (a TLS session cannot be handed on) */
	else
	{
		c->state = CONN_WRITING;
		c->outpos = 0;
	}
}

/*
 * TLS configured: the first byte tells a TLS client (a handshake record)
 * from a plain HTTP one; then the handshake, as far as it goes without
 * waiting.
 */
static void
conn_handshake(int slot)
{
	HttpConn   *c = srv.conns[slot];
	char		why[256];
	HaTlsStatus st;

	if (c->tls == NULL)
	{
		unsigned char first;
		ssize_t		n = recv(c->sock, &first, 1, MSG_PEEK);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
		{
			conn_close(slot);
			return;
		}
		if (first != TLS_RECORD_HANDSHAKE)
		{
			c->state = CONN_READING;
			conn_read(slot);
			return;
		}
		{
			/* the session's memory lives as long as the connection */
			MemoryContext old = MemoryContextSwitchTo(c->cxt);

			c->tls = ha_tls_open(c->sock, why, sizeof(why));
			MemoryContextSwitchTo(old);
		}
		if (c->tls == NULL)
		{
			tls_failed(slot, why);
			return;
		}
	}
	why[0] = '\0';
	st = ha_tls_handshake(c->tls, why, sizeof(why));
	c->tls_wants = st == HA_TLS_WANT_READ ? WL_SOCKET_READABLE :
		st == HA_TLS_WANT_WRITE ? WL_SOCKET_WRITEABLE : 0;
	if (st == HA_TLS_WANT_READ || st == HA_TLS_WANT_WRITE)
		return;
	if (st != HA_TLS_OK)
	{
		if (st == HA_TLS_EOF || why[0] == '\0')
			conn_close(slot);	/* a client that just left: nothing to report */
		else
			tls_failed(slot, why);
		return;
	}
	c->state = CONN_READING;
	/* the request usually came with the handshake's last flight */
	conn_read(slot);
}

static void
conn_read(int slot)
{
	HttpConn   *c = srv.conns[slot];
	HttpRequest req;
	ssize_t		n;
	HttpParseStatus parsed = HTTP_PARSE_INCOMPLETE;

	if (c->state == CONN_PARKED)
	{
		/* a long-poll client has nothing more to say: data or EOF ends it */
		char		buf[256];

		n = conn_recv(c, buf, sizeof(buf));
		if (n >= 0 || (errno != EAGAIN && errno != EINTR))
			conn_close(slot);
		return;
	}

	/*
	 * Until the socket has no more: TLS may hold decrypted bytes that the
	 * socket will not signal again.
	 */
	while (parsed == HTTP_PARSE_INCOMPLETE && c->inlen < sizeof(c->in))
	{
		n = conn_recv(c, c->in + c->inlen, sizeof(c->in) - c->inlen);
		if (n < 0)
		{
			if (errno != EAGAIN && errno != EINTR)
				conn_close(slot);
			return;
		}
		if (n == 0)
		{
			/* client closed before a complete request */
			conn_close(slot);
			return;
		}
		c->inlen += n;
		parsed = http_parse_request(c->in, c->inlen, &req);
	}

	switch (parsed)
	{
		case HTTP_PARSE_INCOMPLETE:
			break;
		case HTTP_PARSE_ERROR:
			reply_error(c, req.error_status);
			break;
		case HTTP_PARSE_DONE:
			dispatch(c, &req);
			break;
	}
	/* the socket is almost always writable: do not wait a loop turn for it */
	if (c->state == CONN_WRITING)
		conn_write(slot);
	else if (c->state == CONN_HANDED_OFF)
		conn_close(slot);		/* close() only: the other copy stays open */
}

static void
conn_write(int slot)
{
	HttpConn   *c = srv.conns[slot];

	while (c->outpos < (size_t) c->out.len)
	{
		ssize_t		n = conn_send(c, c->out.data + c->outpos,
								  c->out.len - c->outpos, 0);

		if (n < 0)
		{
			if (errno == EAGAIN || errno == EINTR)
				return;
			break;
		}
		c->outpos += n;
	}
	/* HTTP/1.0: one request per connection */
	conn_close(slot);
}

void
ha_http_handle_event(WaitEvent *ev)
{
	if (ev->fd == srv.listen_sock && ev->user_data == NULL)
	{
		accept_some();
		return;
	}
	{
		int			slot = (int) (intptr_t) ev->user_data - 1;

		if (slot < 0 || slot >= srv.max_conns || srv.conns[slot] == NULL ||
			srv.conns[slot]->sock != ev->fd)
			return;
		/*
		 * The slot (and its descriptor number) may have been reused by an
		 * accept earlier in this loop turn: act only on what the
		 * connection waits for now.
		 */
		if ((ev->events & conn_wants(srv.conns[slot])) == 0)
			return;
		switch (srv.conns[slot]->state)
		{
			case CONN_HANDSHAKE:
				conn_handshake(slot);
				break;
			case CONN_WRITING:
				conn_write(slot);
				break;
			case CONN_READING:
			case CONN_PARKED:
				conn_read(slot);
				break;
			case CONN_HANDED_OFF:
				break;
		}
	}
}

long
ha_http_service(int64 now_ms)
{
	int64		next = -1;

	if (srv.listen_sock == PGINVALID_SOCKET && srv.max_conns > 0)
	{
		if (now_ms >= srv.next_bind_ms && !try_bind())
			srv.next_bind_ms = now_ms + HTTP_BIND_RETRY_MS;
		if (srv.listen_sock == PGINVALID_SOCKET)
			next = srv.next_bind_ms;
	}

	log_evictions(now_ms);
	log_tls_failures(now_ms);
	for (int i = 0; i < srv.max_conns; i++)
	{
		HttpConn   *c = srv.conns[i];

		if (c == NULL)
			continue;
		if (c->state == CONN_PARKED)
		{
			bool		timed_out = now_ms >= c->park.deadline_ms;
			MemoryContext old = MemoryContextSwitchTo(c->cxt);
			bool		ready = srv.poll(&c->park, timed_out, &c->out);

			MemoryContextSwitchTo(old);
			if (ready)
			{
				c->state = CONN_WRITING;
				c->outpos = 0;
				c->deadline_ms = now_ms + HTTP_REQUEST_TIMEOUT_MS;
				conn_write(i);
				continue;
			}
			if (next < 0 || c->park.deadline_ms < next)
				next = c->park.deadline_ms;
			continue;
		}
		if (now_ms >= c->deadline_ms)
		{
			if (c->state == CONN_READING && c->inlen > 0)
			{
				/* slow client: tell it, once, without waiting on it */
				reply_error(c, 408);
				(void) conn_send(c, c->out.data, c->out.len, MSG_DONTWAIT);
			}
			else if (c->state == CONN_HANDSHAKE && c->tls)
			{
				srv.tls_failures++;
				strlcpy(srv.tls_last_failure, "handshake not finished in time",
						sizeof(srv.tls_last_failure));
			}
			conn_close(i);
			continue;
		}
		if (next < 0 || c->deadline_ms < next)
			next = c->deadline_ms;
	}
	return next < 0 ? -1 : (long) Max(next - now_ms, 0);
}
