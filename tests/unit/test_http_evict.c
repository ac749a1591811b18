/*-------------------------------------------------------------------------
 *
 * test_http_evict.c
 *	  Unit tests for common/http_evict.c: which connection an HTTP
 *	  server at its cap closes for a new one.  Each rule of the choice has
 *	  its case: incomplete before parked, never one writing, the address
 *	  holding the most, its oldest, the tie between addresses, and the
 *	  address key (IPv4, IPv6, no address).
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "http_evict.h"

#define I HTTP_EVICT_INCOMPLETE
#define P HTTP_EVICT_PARKED
#define W HTTP_EVICT_NEVER

/* A candidate from 127.0.0.<host>. */
static HttpEvictCand
cand(HttpEvictClass cls, uint64_t seq, int host)
{
	HttpEvictCand c;
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x7f000000u | (unsigned) host);
	c.cls = cls;
	c.seq = seq;
	http_evict_set_addr(&c, &sin);
	return c;
}

static void
test_nothing_to_evict(void **state)
{
	HttpEvictCand c[3];

	(void) state;
	assert_int_equal(http_evict_choose(NULL, 0), -1);
	/* free slots and connections writing their answer are never closed */
	c[0] = cand(W, 1, 1);
	c[1] = cand(W, 2, 1);
	c[2] = cand(W, 3, 2);
	assert_int_equal(http_evict_choose(c, 3), -1);
}

static void
test_oldest_incomplete(void **state)
{
	HttpEvictCand c[4];

	(void) state;
	/* one address: its oldest incomplete one, wherever it sits */
	c[0] = cand(I, 30, 1);
	c[1] = cand(I, 10, 1);
	c[2] = cand(W, 5, 1);
	c[3] = cand(I, 20, 1);
	assert_int_equal(http_evict_choose(c, 4), 1);
}

static void
test_incomplete_before_parked(void **state)
{
	HttpEvictCand c[4];

	(void) state;
	/* an older parked /watch and an address with more parked: still the incomplete one */
	c[0] = cand(P, 1, 2);
	c[1] = cand(P, 2, 2);
	c[2] = cand(P, 3, 2);
	c[3] = cand(I, 100, 3);
	assert_int_equal(http_evict_choose(c, 4), 3);
	/* without an incomplete one: the oldest parked */
	c[3] = cand(W, 0, 3);
	assert_int_equal(http_evict_choose(c, 4), 0);
}

static void
test_busiest_address(void **state)
{
	HttpEvictCand c[6];

	(void) state;
	/* a checker from .9 is older than every flood connection from .1 ... */
	c[0] = cand(I, 1, 9);
	c[1] = cand(I, 50, 1);
	c[2] = cand(I, 40, 1);
	c[3] = cand(I, 60, 1);
	c[4] = cand(I, 2, 5);
	c[5] = cand(I, 45, 5);
	/* ... yet the flood's address, with the most, loses its oldest */
	assert_int_equal(http_evict_choose(c, 6), 2);
	/* counted per class: parked ones from .9 do not make .9 the busiest */
	c[4] = cand(P, 2, 9);
	c[5] = cand(P, 3, 9);
	assert_int_equal(http_evict_choose(c, 6), 2);
}

static void
test_tie_goes_to_oldest(void **state)
{
	HttpEvictCand c[4];

	(void) state;
	c[0] = cand(I, 7, 1);
	c[1] = cand(I, 8, 2);
	c[2] = cand(I, 3, 2);
	c[3] = cand(I, 9, 1);
	/* two each: address .2 holds the oldest (seq 3) */
	assert_int_equal(http_evict_choose(c, 4), 2);
	/* every address has one: the oldest overall */
	c[1] = cand(I, 8, 3);
	c[3] = cand(I, 9, 4);
	assert_int_equal(http_evict_choose(c, 4), 2);
}

static void
test_addresses(void **state)
{
	HttpEvictCand a, b, none;
	struct sockaddr_in6 sin6;
	struct sockaddr_in sin;

	(void) state;
	/* IPv4 is kept as ::ffff:a.b.c.d, so it equals its mapped IPv6 form */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(1234);
	assert_int_equal(inet_pton(AF_INET, "10.1.2.3", &sin.sin_addr), 1);
	http_evict_set_addr(&a, &sin);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(999);
	assert_int_equal(inet_pton(AF_INET6, "::ffff:10.1.2.3", &sin6.sin6_addr), 1);
	http_evict_set_addr(&b, &sin6);
	assert_memory_equal(a.addr, b.addr, HTTP_EVICT_ADDR_LEN);
	/* the port is not part of the key: one host, many connections */
	sin.sin_port = htons(4321);
	http_evict_set_addr(&b, &sin);
	assert_memory_equal(a.addr, b.addr, HTTP_EVICT_ADDR_LEN);
	/* an IPv6 address whose first bytes are the IPv4's is another address */
	assert_int_equal(inet_pton(AF_INET6, "a01:203::", &sin6.sin6_addr), 1);
	http_evict_set_addr(&b, &sin6);
	assert_memory_not_equal(a.addr, b.addr, HTTP_EVICT_ADDR_LEN);
	/* no address (or another family): all zeros */
	memset(&none, 0xaa, sizeof(none));
	http_evict_set_addr(&none, NULL);
	for (int i = 0; i < HTTP_EVICT_ADDR_LEN; i++)
		assert_int_equal(none.addr[i], 0);
}

/* A flood from one address never evicts a checker from another one. */
static void
test_flood_spares_other_address(void **state)
{
	HttpEvictCand c[32];
	uint64_t	seq = 0;

	(void) state;
	c[0] = cand(I, seq++, 200);	/* the checker, oldest of all */
	for (int i = 1; i < 32; i++)
		c[i] = cand(I, seq++, 1);
	for (int round = 0; round < 1000; round++)
	{
		int			v = http_evict_choose(c, 32);

		assert_true(v > 0);
		c[v] = cand(I, seq++, 1);	/* the next flood connection takes its slot */
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_to_evict),
		cmocka_unit_test(test_oldest_incomplete),
		cmocka_unit_test(test_incomplete_before_parked),
		cmocka_unit_test(test_busiest_address),
		cmocka_unit_test(test_tie_goes_to_oldest),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_flood_spares_other_address),
	};

	return cmocka_run_group_tests_name("http_evict", tests, NULL, NULL);
}
