/*-------------------------------------------------------------------------
 *
 * http.h
 *	  A minimal blocking HTTP/1.0 GET with a hard deadline, for reading an
 *	  agent's /patroni during the hand-over.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SUP_HTTP_H
#define SUP_HTTP_H

#include <stddef.h>

/*
 * GETs url (http://host:port/path) within timeout_ms.  Returns the HTTP
 * status and the body (NUL-terminated, cut at cap - 1) or -1.
 */
extern int	http_get(const char *url, int timeout_ms, char *body, size_t cap, size_t *len);

#endif							/* SUP_HTTP_H */
