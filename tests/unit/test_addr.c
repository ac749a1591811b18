/*-------------------------------------------------------------------------
 *
 * test_addr.c
 *	  Unit tests for common/addr.c: host:port, ZooKeeper connect
 *	  strings and conn_url splitting (what the GUC check hooks rely on).
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"

static void
test_host_port_good(void **state)
{
	char		host[HA_HOST_LEN];
	char		why[128];
	int			port;

	(void) state;
	assert_true(addr_parse_host_port("127.0.0.1:8008", host, sizeof(host), &port, why, sizeof(why)));
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 8008);
	assert_true(addr_parse_host_port("pg-master:5432", host, sizeof(host), &port, why, sizeof(why)));
	assert_string_equal(host, "pg-master");
	assert_true(addr_parse_host_port("[::1]:65535", host, sizeof(host), &port, why, sizeof(why)));
	assert_string_equal(host, "::1");
	assert_int_equal(port, 65535);
	assert_true(addr_parse_host_port("*:1", host, sizeof(host), &port, why, sizeof(why)));
	assert_string_equal(host, "*");
	/* host may be omitted by the caller */
	assert_true(addr_parse_host_port("db:5432", NULL, 0, NULL, why, sizeof(why)));
}

static void
test_host_port_bad(void **state)
{
	static const char *const bad[] = {
		"", "host", "host:", ":5432", "host:0", "host:65536", "host:99999999",
		"host:12a", "ho st:1", "[::1:80", "[::1]80", "[zz::1]:80", "*x:1",
		"host:-1", "host:+1",
	};
	char		why[128];

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		why[0] = '\0';
		assert_false(addr_parse_host_port(bad[i], NULL, 0, NULL, why, sizeof(why)));
		assert_true(strlen(why) > 0);
	}
	assert_false(addr_parse_host_port(NULL, NULL, 0, NULL, why, sizeof(why)));
}

static void
test_host_too_long(void **state)
{
	char		s[HA_HOST_LEN + 16];
	char		why[128];

	(void) state;
	memset(s, 'a', HA_HOST_LEN);
	strcpy(s + HA_HOST_LEN, ":80");
	assert_false(addr_parse_host_port(s, NULL, 0, NULL, why, sizeof(why)));
	assert_string_equal(why, "host name too long");
}

static void
test_zk_hosts(void **state)
{
	static const char *const good[] = {
		"127.0.0.1:2181", "zk1:2181,zk2:2181,zk3:2181", "zoo:2181/pg_ha",
		"[::1]:2181,zk:2181/a/b",
	};
	static const char *const bad[] = {
		"", "zk1", "zk1:2181,", ",zk1:2181", "zk1:2181,,zk2:2181", "zk1:2181/",
		"zk1:2181//x", "zk1:2181/a b", "/chroot", "zk1:0",
	};
	char		why[128];

	(void) state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(addr_valid_zk_hosts(good[i], why, sizeof(why)));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(addr_valid_zk_hosts(bad[i], why, sizeof(why)));
	assert_false(addr_valid_zk_hosts(NULL, why, sizeof(why)));
}

static void
test_conn_url(void **state)
{
	char		host[HA_HOST_LEN];
	int			port;

	(void) state;
	addr_split_conn_url("postgres://10.1.2.3:5433/postgres", host, sizeof(host), &port);
	assert_string_equal(host, "10.1.2.3");
	assert_int_equal(port, 5433);
	addr_split_conn_url("postgres://pg-slave:5432", host, sizeof(host), &port);
	assert_string_equal(host, "pg-slave");
	assert_int_equal(port, 5432);
	addr_split_conn_url("garbage", host, sizeof(host), &port);
	assert_string_equal(host, "");
	assert_int_equal(port, 0);
	addr_split_conn_url("postgres://nohost/db", host, sizeof(host), &port);
	assert_string_equal(host, "");
	assert_int_equal(port, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_port_good),
		cmocka_unit_test(test_host_port_bad),
		cmocka_unit_test(test_host_too_long),
		cmocka_unit_test(test_zk_hosts),
		cmocka_unit_test(test_conn_url),
	};

	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
