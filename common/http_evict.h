/*-------------------------------------------------------------------------
 *
 * http_evict.h
 *	  Which connection an HTTP server at its connection cap closes to make
 *	  room for a new one.  A pure function of what the server knows about
 *	  its open connections; no I/O, no PostgreSQL headers, so the agent's
 *	  API (extension/ha_http.c), the router's stats port (router/stats.c),
 *	  the unit tests and the fuzzer all use this one file.
 *
 *-------------------------------------------------------------------------
 */
#ifndef HTTP_EVICT_H
#define HTTP_EVICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How willing the server is to close a connection; higher goes first. */
typedef enum HttpEvictClass
{
	HTTP_EVICT_NEVER = 0,		/* free slot, or writing its answer */
	HTTP_EVICT_PARKED = 1,		/* complete request, waiting (long-poll) */
	HTTP_EVICT_INCOMPLETE = 2	/* no complete request yet */
} HttpEvictClass;

#define HTTP_EVICT_ADDR_LEN 16	/* IPv6; IPv4 as ::ffff:a.b.c.d */

typedef struct HttpEvictCand
{
	HttpEvictClass cls;
	uint64_t	seq;			/* accept order: lower is older */
	uint8_t		addr[HTTP_EVICT_ADDR_LEN];	/* source address (port excluded) */
} HttpEvictCand;

/*
 * The index of the connection to close, or -1 when none may be closed.
 *
 * Among the connections of the highest class present (incomplete before
 * parked; never one writing its answer), take the source address that holds
 * the most connections of that class -- a tie goes to the address whose
 * oldest such connection is older -- and close its oldest one.  So a flood
 * from one address only ever pushes out its own connections, and a health
 * checker that sends its request at once is never the one chosen while
 * older incomplete connections exist.  O(n^2) in n, which the caller caps
 * (at most a few hundred).
 */
extern int	http_evict_choose(const HttpEvictCand *cands, int n);

/* Fills cand->addr from a struct sockaddr (AF_INET or AF_INET6; else zeros). */
extern void http_evict_set_addr(HttpEvictCand *cand, const void *sockaddr);

#endif							/* HTTP_EVICT_H */
