/*-------------------------------------------------------------------------
 *
 * http_evict.c
 *	  The victim choice of an HTTP server at its connection cap (see
 *	  http_evict.h for the rule).  Plain C: shared by the agent's API and
 *	  the router's stats port, unit-tested in tests/unit/test_http_evict.c
 *	  and fuzzed in tests/fuzz/fuzz_http_evict.c.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "http_evict.h"

static bool
same_addr(const HttpEvictCand *a, const HttpEvictCand *b)
{
	return memcmp(a->addr, b->addr, HTTP_EVICT_ADDR_LEN) == 0;
}

int
http_evict_choose(const HttpEvictCand *cands, int n)
{
	HttpEvictClass top = HTTP_EVICT_NEVER;
	int			best = -1;		/* the oldest of the best address so far */
	int			best_count = 0;

	for (int i = 0; i < n; i++)
		if (cands[i].cls > top)
			top = cands[i].cls;
	if (top == HTTP_EVICT_NEVER)
		return -1;

	for (int i = 0; i < n; i++)
	{
		int			count = 0;
		int			oldest = i;
		bool		seen = false;

		if (cands[i].cls != top)
			continue;
		/* count each address once: at its first connection in the array */
		for (int j = 0; j < i && !seen; j++)
			seen = cands[j].cls == top && same_addr(&cands[i], &cands[j]);
		if (seen)
			continue;
		for (int j = i; j < n; j++)
		{
			if (cands[j].cls != top || !same_addr(&cands[i], &cands[j]))
				continue;
			count++;
			if (cands[j].seq < cands[oldest].seq)
				oldest = j;
		}
		if (count > best_count ||
			(count == best_count && cands[oldest].seq < cands[best].seq))
		{
			best = oldest;
			best_count = count;
		}
	}
	return best;
}

void
http_evict_set_addr(HttpEvictCand *cand, const void *sockaddr)
{
	const struct sockaddr *sa = sockaddr;

	memset(cand->addr, 0, sizeof(cand->addr));
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
	{
		/* as an IPv4-mapped IPv6 address, so no IPv6 address collides */
		cand->addr[10] = 0xff;
		cand->addr[11] = 0xff;
		memcpy(cand->addr + 12, &((const struct sockaddr_in *) sa)->sin_addr, 4);
	}
	else if (sa->sa_family == AF_INET6)
		memcpy(cand->addr, &((const struct sockaddr_in6 *) sa)->sin6_addr, 16);
}
