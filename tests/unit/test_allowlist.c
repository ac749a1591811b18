/*-------------------------------------------------------------------------
 *
 * test_allowlist.c
 *	  Unit tests for common/allowlist.c: the API's allowlist for unsafe
 *	  endpoints.  Parsing (CIDRs, addresses, names, errors) and matching
 *	  (prefix boundaries, IPv6, v4-mapped peers, names never matching).
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
#include <sys/socket.h>
#include <cmocka.h>

#include "allowlist.h"

static struct sockaddr_storage
peer(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':'))
	{
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) &ss;

		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
	}
	else
	{
		struct sockaddr_in *s4 = (struct sockaddr_in *) &ss;

		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, &s4->sin_addr), 1);
	}
	return ss;
}

static bool
allowed(const char *list, const char *addr)
{
	AllowEntry	e[16];
	char		why[128];
	int			n = allowlist_parse(list, e, 16, why, sizeof(why));
	struct sockaddr_storage p = peer(addr);

	assert_true(n >= 0);
	return allowlist_match(e, n, &p);
}

static void
test_parse_kinds(void **state)
{
	AllowEntry	e[8];
	char		why[128];

	(void) state;
	assert_int_equal(allowlist_parse("10.0.0.0/8, 192.168.1.7 ::1,fd00::/8 db-1.example.com", e, 8,
									 why, sizeof(why)), 5);
	assert_int_equal(e[0].family, AF_INET);
	assert_int_equal(e[0].prefix, 8);
	assert_int_equal(e[1].prefix, 32);
	assert_int_equal(e[2].family, AF_INET6);
	assert_int_equal(e[2].prefix, 128);
	assert_int_equal(e[3].prefix, 8);
	assert_int_equal(e[4].family, 0);
	assert_string_equal(e[4].name, "db-1.example.com");
	assert_int_equal(allowlist_parse("", e, 8, why, sizeof(why)), 0);
	assert_int_equal(allowlist_parse(" , ,", e, 8, why, sizeof(why)), 0);
	assert_int_equal(allowlist_parse(NULL, e, 8, why, sizeof(why)), 0);
}

static void
test_parse_errors(void **state)
{
	AllowEntry	e[2];
	char		why[128];
	const char *bad[] = {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/-1",
	"10.0.0.300", "name/8", "bad_name!", "-lead.example", "a..b", "10.0.0.0/0008"};

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		why[0] = '\0';
		assert_int_equal(allowlist_parse(bad[i], e, 2, why, sizeof(why)), -1);
		assert_true(why[0] != '\0');
	}
	assert_int_equal(allowlist_parse("1.1.1.1 2.2.2.2 3.3.3.3", e, 2, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "more than 2"));
}

static void
test_match_v4(void **state)
{
	(void) state;
	assert_true(allowed("10.1.0.0/16", "10.1.255.255"));
	assert_false(allowed("10.1.0.0/16", "10.2.0.0"));
	assert_true(allowed("10.1.2.3", "10.1.2.3"));
	assert_false(allowed("10.1.2.3", "10.1.2.4"));
	assert_true(allowed("10.1.2.0/23", "10.1.3.9"));
	assert_false(allowed("10.1.2.0/23", "10.1.4.0"));
	assert_true(allowed("0.0.0.0/0", "203.0.113.9"));
	assert_false(allowed("", "127.0.0.1"));
	/* a v4-mapped peer (a dual-stack socket) is its IPv4 address */
	assert_true(allowed("10.1.0.0/16", "::ffff:10.1.9.9"));
	assert_false(allowed("10.1.0.0/16", "::ffff:10.2.9.9"));
}

static void
test_match_v6(void **state)
{
	(void) state;
	assert_true(allowed("fd00::/8", "fd12:3456::1"));
	assert_false(allowed("fd00::/8", "fe80::1"));
	assert_true(allowed("::1", "::1"));
	assert_false(allowed("::1", "127.0.0.1"));
	assert_true(allowed("2001:db8::/33", "2001:db8:7fff::1"));
	assert_false(allowed("2001:db8::/33", "2001:db8:8000::1"));
	/* names never match by themselves */
	assert_false(allowed("localhost", "127.0.0.1"));
}

static void
test_resolved_and_loopback(void **state)
{
	AllowEntry	e;
	struct sockaddr_storage a = peer("192.0.2.5");
	struct sockaddr_storage b = peer("192.0.2.6");

	(void) state;
	assert_true(allowlist_entry_from_sockaddr(&e, &a));
	assert_true(allowlist_match(&e, 1, &a));
	assert_false(allowlist_match(&e, 1, &b));
	a = peer("127.0.0.2");
	assert_true(allowlist_peer_is_loopback(&a));
	a = peer("::1");
	assert_true(allowlist_peer_is_loopback(&a));
	a = peer("::ffff:127.0.0.1");
	assert_true(allowlist_peer_is_loopback(&a));
	a = peer("10.213.7.1");
	assert_false(allowlist_peer_is_loopback(&a));
	a = peer("::2");
	assert_false(allowlist_peer_is_loopback(&a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_kinds),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_match_v4),
		cmocka_unit_test(test_match_v6),
		cmocka_unit_test(test_resolved_and_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
