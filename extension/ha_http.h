/*-------------------------------------------------------------------------
 *
 * ha_http.h
 *	  The agent's HTTP server: sockets, bounded buffers, timeouts.  What to
 *	  answer is decided by ha_api.c; this file only moves bytes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef HA_HTTP_H
#define HA_HTTP_H

#include <sys/socket.h>

#include "lib/stringinfo.h"
#include "storage/latch.h"

#include "http_parse.h"

#define HTTP_REQUEST_TIMEOUT_MS	2000	/* whole request must arrive by then */
#define HTTP_WATCH_MAX_MS		60000	/* longest long-poll */

/* How the API answers a request. */
typedef enum HttpAnswer
{
	HTTP_ANSWER_NOW,			/* out holds the full response */
	HTTP_ANSWER_PARK,			/* long-poll: ask again until ready */
	HTTP_ANSWER_HAND_OFF		/* someone else answers: give the socket to
								 * the HttpHandOff; out holds the answer for
								 * when that fails */
} HttpAnswer;

typedef struct HttpPark
{
	int64		deadline_ms;	/* monotonic; answer at the latest then */
	int			kind;			/* the API's: what is being waited for */
	int			watch_value;	/* what the client last saw */
} HttpPark;

/* Who asks, and how. */
typedef struct HttpPeer
{
	const struct sockaddr_storage *addr;
	bool		tls;			/* over TLS (else plain HTTP) */
	bool		client_verified;	/* TLS with a client certificate the CA signed */
} HttpPeer;

/* Builds a response; may park (long-poll) instead. */
typedef HttpAnswer (*HttpHandler) (const HttpRequest *req, const HttpPeer *peer,
								   StringInfo out, HttpPark *park);
/* Asked for a parked request: returns true and fills out when ready. */
typedef bool (*HttpParkPoll) (const HttpPark *park, bool timed_out,
							  StringInfo out);

/*
 * Gives the client's socket away (the server then closes only its own
 * descriptor, without a word to the client); false keeps it here, and the
 * client gets out.  A TLS client's session cannot go: sock is then
 * PGINVALID_SOCKET, and out may be replaced by the answer.
 */
typedef bool (*HttpHandOff) (pgsocket sock, const HttpPark *park, StringInfo out);

extern void ha_http_start(const char *listen_addr, int max_conns,
						  HttpHandler handler, HttpParkPoll poll,
						  HttpHandOff hand_off);
extern void ha_http_stop(void);
extern int	ha_http_wait_events(void);	/* how many events it may add */
extern void ha_http_add_events(WaitEventSet *set);
extern void ha_http_handle_event(WaitEvent *ev);
/* Timeouts and parked requests; returns ms until the next deadline (-1 none). */
extern long ha_http_service(int64 now_ms);
extern int	ha_http_listen_port(void);
extern bool ha_http_loopback_only(void);
extern bool ha_http_tls(void);	/* TLS configured and set up */

/* Helpers for the API: a complete response into out. */
extern void ha_http_reply(StringInfo out, int status, bool head_only,
						  const char *content_type, const char *body,
						  size_t body_len);

extern int64 ha_mono_ms(void);

#endif							/* HA_HTTP_H */
