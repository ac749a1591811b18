/*-------------------------------------------------------------------------
 *
 * http_parse.h
 *	  Parser for the agent's HTTP requests.  Pure C, no allocation, bounded:
 *	  it re-parses the whole buffer each time more bytes arrive (requests are
 *	  at most HTTP_MAX_REQUEST bytes, so this is cheap and has no state to
 *	  get wrong).  Hostile input gets an HTTP error status, never a crash.
 *
 *-------------------------------------------------------------------------
 */
#ifndef HTTP_PARSE_H
#define HTTP_PARSE_H

#include "ha_types.h"

#define HTTP_MAX_REQUEST	8192	/* request line + headers + body */
#define HTTP_MAX_LINE		2048	/* request line */
#define HTTP_MAX_HEADERS	32
#define HTTP_MAX_PATH		1024
#define HTTP_MAX_QUERY		1024
#define HTTP_MAX_AUTH		512
#define HTTP_MAX_BODY		4096

typedef enum HttpMethod
{
	HTTP_GET,
	HTTP_HEAD,
	HTTP_OPTIONS,
	HTTP_POST,
	HTTP_PUT,
	HTTP_PATCH,
	HTTP_DELETE,
	HTTP_OTHER					/* a well-formed token we do not serve: 405 */
} HttpMethod;

typedef enum HttpParseStatus
{
	HTTP_PARSE_INCOMPLETE,		/* need more bytes */
	HTTP_PARSE_DONE,			/* req is filled in */
	HTTP_PARSE_ERROR			/* req->error_status says which (4xx/5xx) */
} HttpParseStatus;

typedef struct HttpRequest
{
	HttpMethod	method;
	int			version_minor;	/* HTTP/1.<minor>; 0 for HTTP/1.0 */
	char		path[HTTP_MAX_PATH];	/* percent-decoding is not done */
	char		query[HTTP_MAX_QUERY];	/* without '?', "" if none */
	char		authorization[HTTP_MAX_AUTH];	/* raw header value, "" if none */
	size_t		content_length;
	const char *body;			/* points into the caller's buffer */
	size_t		body_len;
	size_t		consumed;		/* bytes of the buffer this request used */
	int			error_status;	/* 400, 405, 413, 414, 431, 501, 505 on error */
} HttpRequest;

/*
 * Parse buf[0..len).  Errors: 400 malformed (bad request line, bad header
 * syntax, NUL or control bytes, bad Content-Length, Transfer-Encoding),
 * 414 request line > HTTP_MAX_LINE or path/query too long, 431 too many or
 * too large headers (total > HTTP_MAX_REQUEST), 413 body > HTTP_MAX_BODY,
 * 505 not HTTP/1.x.  A method token that is valid but unknown parses as
 * HTTP_OTHER (the server answers 405).  When len reaches HTTP_MAX_REQUEST
 * without a complete request, the result is an error (431), never
 * INCOMPLETE, so a caller's buffer can never be asked to grow.
 */
extern HttpParseStatus http_parse_request(const char *buf, size_t len,
										  HttpRequest *req);

/* Standard reason phrase ("OK", "Service Unavailable", ...); "Unknown" otherwise. */
extern const char *http_reason(int status);

/*
 * Decodes "Basic <base64>" and compares with "user:password" in constant
 * time with respect to the contents.  False for any malformed header.
 */
extern bool http_basic_auth_matches(const char *authorization,
									const char *user_colon_password);

#endif							/* HTTP_PARSE_H */
