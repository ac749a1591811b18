/*-------------------------------------------------------------------------
 *
 * fuzz_http_evict.c
 *	  libFuzzer target for common/http_evict.c.
 *
 * The input is a list of candidates (3 bytes each: class, age, address);
 * the choice is checked against the rule of http_evict.h, recomputed here
 * by brute force: -1 exactly when no connection may be closed, else one of
 * the highest class present, from an address holding the most of that
 * class (the tie to the address with the oldest one), its oldest.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_evict.h"
#include "fuzz_check.h"

#define MAX_CANDS 256

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
count_of(const HttpEvictCand *c, int n, int k, HttpEvictClass cls, uint64_t *oldest)
{
	int			count = 0;

	*oldest = UINT64_MAX;
	for (int j = 0; j < n; j++)
		if (c[j].cls == cls && memcmp(c[j].addr, c[k].addr, HTTP_EVICT_ADDR_LEN) == 0)
		{
			count++;
			if (c[j].seq < *oldest)
				*oldest = c[j].seq;
		}
	return count;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	HttpEvictCand *c;
	int			n = (int) (size / 3);
	int			v;
	HttpEvictClass top = HTTP_EVICT_NEVER;

	if (n > MAX_CANDS)
		n = MAX_CANDS;
	/* exactly sized, so a read past the end is an ASan report */
	c = malloc(sizeof(HttpEvictCand) * (n > 0 ? n : 1));
	CHECK(c != NULL);
	for (int i = 0; i < n; i++)
	{
		memset(&c[i], 0, sizeof(c[i]));
		c[i].cls = (HttpEvictClass) (data[3 * i] % 3);
		/* distinct ages, as the servers' accept counters give */
		c[i].seq = ((uint64_t) data[3 * i + 1] << 16) | (uint64_t) i;
		c[i].addr[15] = data[3 * i + 2] % 8;
		if (c[i].cls > top)
			top = c[i].cls;
	}

	v = http_evict_choose(c, n);
	if (top == HTTP_EVICT_NEVER)
		CHECK(v == -1);
	else
	{
		uint64_t	v_oldest;
		int			v_count;

		CHECK(v >= 0 && v < n);
		CHECK(c[v].cls == top);
		v_count = count_of(c, n, v, top, &v_oldest);
		CHECK(c[v].seq == v_oldest);
		for (int k = 0; k < n; k++)
		{
			uint64_t	k_oldest;
			int			k_count;

			if (c[k].cls != top)
				continue;
			k_count = count_of(c, n, k, top, &k_oldest);
			CHECK(k_count < v_count || (k_count == v_count && k_oldest >= v_oldest));
		}
	}
	free(c);
	return 0;
}
