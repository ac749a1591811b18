/*
 * probe.h - one HTTP/1.0 request to a node's API (probe.c), shared by the
 * interval checks and the /watch long-poll (check.c).
 */
#ifndef ROUTER_PROBE_H
#define ROUTER_PROBE_H

#include "router.h"
#include "tls.h"

#define PROBE_WATCH 2			/* purpose besides CHECK_PRIMARY / CHECK_REPLICA */

typedef enum ProbeOutcome
{
	PROBE_REPLY,				/* bytes arrived; the parser judges them */
	PROBE_CONNECT_ERROR,
	PROBE_CONNECT_TIMEOUT,
	PROBE_REPLY_TIMEOUT,
	PROBE_IO_ERROR,
	PROBE_TLS_ERROR,			/* the handshake or the session failed */
	PROBE_ABORTED
} ProbeOutcome;

typedef void (*ProbeDone) (HttpProbe *probe);

struct HttpProbe
{
	Node	   *node;
	int			purpose;		/* CHECK_PRIMARY, CHECK_REPLICA or PROBE_WATCH */
	ProbeDone	done;			/* run once with the result, unless abandoned */
	uv_tcp_t	tcp;
	uv_timer_t	timer;
	uv_connect_t connect_req;
	uv_write_t	write_req;
	int			open_handles;
	bool		finished;
	bool		connected;
	bool		abandoned;		/* the node stopped caring; drop the result */
	bool		confirm_watch;
	const char *confirm_loss;
	bool		sent_known;		/* watch: we sent primary= (else: answer at once) */
	bool		sent_primary;	/* watch: the primary= value we sent */
	bool		has_body;		/* a GET: the reply carries a body */
	uint64_t	started_ms;
	ProbeOutcome outcome;
	int			error;
	size_t		request_len;
	char		request[CONFIG_PATH_MAX + CONFIG_HOST_MAX + 200];
	size_t		reply_len;
	char		reply[4096];
	TlsClient  *tls;			/* check-ssl: the session, else NULL */
	char		tls_why[128];	/* PROBE_TLS_ERROR: why */
	char		raw[16384];		/* check-ssl: ciphertext as it arrives */
};

/*
 * Starts a request; done runs once with the result (from a libuv callback,
 * never from inside probe_start), unless the probe was abandoned or its node
 * retired first.  NULL when out of memory.
 */
HttpProbe  *probe_start(Node *node, int purpose, CheckMethod method,
						const char *path_and_query, uint64_t timeout_ms, ProbeDone done);
void		probe_abandon(HttpProbe **slot);
bool		probe_describe(const HttpProbe *probe, char *out, size_t outlen, int *http_status);

#endif
