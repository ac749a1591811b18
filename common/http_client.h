/*-------------------------------------------------------------------------
 *
 * http_client.h
 *	  A minimal blocking HTTP/1.0 client with one deadline for the whole
 *	  exchange: the supervisor reads an agent's /patroni during the
 *	  hand-over, a backend POSTs to another member's API
 *	  (ha_reinitialize()).  Plain C, no PostgreSQL.
 *
 *-------------------------------------------------------------------------
 */
#ifndef HTTP_CLIENT_H
#define HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_CLIENT_FAILED		(-1)	/* unreachable, timed out, or no HTTP answer */
#define HTTP_CLIENT_STOPPED		(-2)	/* keep_waiting() said stop */

/* The longest single wait: keep_waiting() is called at least this often. */
#define HTTP_CLIENT_SLICE_MS	100

typedef struct HttpCall
{
	const char *method;			/* "GET", "POST" */
	const char *host;			/* a name or address; "[::1]" is taken as "::1" */
	int			port;
	const char *path;			/* "/patroni" */
	const char *headers;		/* more header lines, each ending "\r\n"; NULL: none */
	const char *body;			/* sent with its Content-Length; NULL: none */
	size_t		body_len;
	const char *user_agent;		/* NULL: "pg_ha" */
	int			timeout_ms;		/* connect, send and receive together */

	/*
	 * Called between waits (a backend checks for a cancel here); false
	 * ends the call with HTTP_CLIENT_STOPPED.  NULL: wait without it.
	 */
	bool		(*keep_waiting) (void *arg);
	void	   *arg;
} HttpCall;

/*
 * Makes the request and reads the answer until the server closes (HTTP/1.0)
 * or 64 kB arrived.  Returns the HTTP status with the body (NUL-terminated,
 * cut at cap - 1; *len its length, len may be NULL), or HTTP_CLIENT_FAILED
 * or HTTP_CLIENT_STOPPED.
 */
extern int	http_call(const HttpCall *call, char *body, size_t cap, size_t *len);

#endif							/* HTTP_CLIENT_H */
