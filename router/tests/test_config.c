/*
 * test_config.c - unit tests of the configuration parser (config.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"

static RouterConfig cfg;

static bool
parse(const char *text, ConfigError *err)
{
	return config_parse(text, strlen(text), &cfg, err);
}

/* Expects a parse failure on `line` whose message contains `needle`. */
static void
expect_error(const char *text, int line, const char *needle)
{
	ConfigError err;

	assert_false(parse(text, &err));
	if (err.line != line || strstr(err.message, needle) == NULL)
		fail_msg("expected line %d with '%s', got line %d: %s", line, needle, err.line, err.message);
}

#define MINIMAL "listen write 127.0.0.1:5432\nnode a 127.0.0.1:5433\n"

static void
test_lab_equivalent(void **state)
{
	const char *text =
		"# the lab's haproxy.cfg\n"
		"maxconn 100\n"
		"timeout client 30m\n"
		"timeout connect 4s\n"
		"timeout server 30m\n"
		"timeout check 5s\n"
		"listen stats *:7000\n"
		"listen write *:5432   # clients\n"
		"check path /master interval 3s fall 3 rise 2\n"
		"node pg-master pg-master:5432 check pg-master:8008 maxconn 100\n"
		"node pg-slave pg-slave:5432 check pg-slave:8008 maxconn 100\n";
	ConfigError err;

	(void) state;
	assert_true(parse(text, &err));
	assert_int_equal(cfg.maxconn, 100);
	assert_int_equal(cfg.client_timeout_ms, 30 * 60 * 1000);
	assert_int_equal(cfg.connect_timeout_ms, 4000);
	assert_int_equal(cfg.primary_check.timeout_ms, 5000);
	assert_int_equal(cfg.replica_check.timeout_ms, 5000);
	assert_int_equal(cfg.n_listeners, 2);
	assert_int_equal(cfg.listeners[0].kind, LISTEN_STATS);
	assert_string_equal(cfg.listeners[0].addr.host, "0.0.0.0");
	assert_int_equal(cfg.listeners[0].addr.port, 7000);
	assert_int_equal(cfg.listeners[1].kind, LISTEN_WRITE);
	assert_string_equal(cfg.primary_check.path, "/master");
	assert_int_equal(cfg.primary_check.interval_ms, 3000);
	assert_int_equal(cfg.primary_check.fall, 3);
	assert_int_equal(cfg.primary_check.rise, 2);
	assert_int_equal(cfg.n_nodes, 2);
	assert_string_equal(cfg.nodes[1].name, "pg-slave");
	assert_string_equal(cfg.nodes[1].addr.host, "pg-slave");
	assert_int_equal(cfg.nodes[1].check_addr.port, 8008);
	assert_int_equal(cfg.nodes[1].maxconn, 100);
	assert_true(cfg.nodes[1].watch);
}

static void
test_defaults(void **state)
{
	ConfigError err;

	(void) state;
	assert_true(parse(MINIMAL, &err));
	assert_int_equal(cfg.maxconn, 1000);
	assert_int_equal(cfg.primary_check.interval_ms, 3000);
	assert_int_equal(cfg.primary_check.timeout_ms, 5000);
	assert_string_equal(cfg.replica_check.path, "/replica");
	assert_int_equal(cfg.primary_check.method, CHECK_METHOD_GET);
	assert_int_equal(cfg.hold_timeout_ms, 10000);
	assert_int_equal(cfg.hold_max, 100);
	assert_int_equal(cfg.read_fallback, READ_FALLBACK_PRIMARY);
	assert_int_equal(cfg.balance, BALANCE_ROUNDROBIN);
	assert_true(cfg.watch_enabled);
	/* check address defaults to the node's host, port 8008 */
	assert_string_equal(cfg.nodes[0].check_addr.host, "127.0.0.1");
	assert_int_equal(cfg.nodes[0].check_addr.port, 8008);
	assert_int_equal(cfg.nodes[0].maxconn, 0);
	assert_int_equal(cfg.threads, 0);	/* one relay loop per CPU */
}

static void
test_all_directives(void **state)
{
	const char *text =
		"listen write 0.0.0.0:5432\n"
		"listen read [::1]:5433\n"
		"check replica path /replica?lag=16MB method OPTIONS interval 1500ms timeout 2s fall 2 rise 1\n"
		"check primary method HEAD\n"
		"watch off timeout 20s backoff 1m\n"
		"hold timeout 15s max 7\n"
		"read-fallback none\n"
		"balance leastconn\n"
		"retries 0\n"
		"threads 3\n"
		"backpressure high 1m low 128k\n"
		"log-level debug\n"
		"timeout drain 5s\n"
		"\t node   n1   10.0.0.1:5432   check 10.0.0.1:9000   watch off \r\n";
	ConfigError err;

	(void) state;
	assert_true(parse(text, &err));
	assert_string_equal(cfg.listeners[1].addr.host, "::1");
	assert_string_equal(cfg.replica_check.path, "/replica?lag=16MB");
	assert_int_equal(cfg.replica_check.method, CHECK_METHOD_OPTIONS);
	assert_int_equal(cfg.replica_check.interval_ms, 1500);
	assert_int_equal(cfg.replica_check.fall, 2);
	assert_int_equal(cfg.replica_check.rise, 1);
	assert_int_equal(cfg.primary_check.method, CHECK_METHOD_HEAD);
	assert_false(cfg.watch_enabled);
	assert_int_equal(cfg.watch_timeout_ms, 20000);
	assert_int_equal(cfg.watch_backoff_ms, 60000);
	assert_int_equal(cfg.hold_timeout_ms, 15000);
	assert_int_equal(cfg.hold_max, 7);
	assert_int_equal(cfg.read_fallback, READ_FALLBACK_NONE);
	assert_int_equal(cfg.balance, BALANCE_LEASTCONN);
	assert_int_equal(cfg.retries, 0);
	assert_int_equal(cfg.threads, 3);
	assert_int_equal(cfg.high_water, 1024 * 1024);
	assert_int_equal(cfg.low_water, 128 * 1024);
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	assert_int_equal(cfg.drain_timeout_ms, 5000);
	assert_int_equal(cfg.nodes[0].check_addr.port, 9000);
	assert_false(cfg.nodes[0].watch);
}

static void
test_hold_off(void **state)
{
	ConfigError err;

	(void) state;
	assert_true(parse(MINIMAL "hold off\n", &err));
	assert_int_equal(cfg.hold_max, 0);
}

static void
test_errors_name_the_line(void **state)
{
	(void) state;
	expect_error(MINIMAL "bogus 1\n", 3, "unknown directive 'bogus'");
	expect_error("listen write 127.0.0.1\n", 1, "invalid address");
	expect_error("listen write 127.0.0.1:0\n", 1, "invalid address");
	expect_error("listen write 127.0.0.1:65536\n", 1, "invalid address");
	expect_error("listen sideways 127.0.0.1:1\n", 1, "unknown kind");
	expect_error("listen write 127.0.0.1:1\nlisten read 127.0.0.1:1\n", 2, "already used");
	expect_error(MINIMAL "node a 127.0.0.1:1\n", 3, "already used on line 2");
	expect_error(MINIMAL "node b\n", 3, "usage: node");
	expect_error(MINIMAL "node b/c 127.0.0.1:1\n", 3, "invalid name");
	expect_error(MINIMAL "node b 127.0.0.1:1 maxconn\n", 3, "needs a value");
	expect_error(MINIMAL "node b 127.0.0.1:1 maxconn -1\n", 3, "invalid maxconn");
	expect_error(MINIMAL "node b 127.0.0.1:1 colour red\n", 3, "unknown option 'colour'");
	expect_error(MINIMAL "node b 127.0.0.1:1 watch maybe\n", 3, "watch must be on or off");
	expect_error(MINIMAL "check path master\n", 3, "invalid path");
	expect_error(MINIMAL "check interval 0s\n", 3, "invalid interval");
	expect_error(MINIMAL "check interval 3 s\n", 3, "'s' needs a value");
	expect_error(MINIMAL "check interval 3x\n", 3, "invalid interval");
	expect_error(MINIMAL "check fall 0\n", 3, "fall must be");
	expect_error(MINIMAL "check method POST\n", 3, "method must be");
	expect_error(MINIMAL "check\n", 3, "usage: check");
	expect_error(MINIMAL "timeout connect\n", 3, "usage: timeout");
	expect_error(MINIMAL "timeout nap 1s\n", 3, "unknown kind 'nap'");
	expect_error(MINIMAL "timeout client forever\n", 3, "invalid duration");
	expect_error(MINIMAL "maxconn 0\n", 3, "usage: maxconn");
	expect_error(MINIMAL "maxconn lots\n", 3, "usage: maxconn");
	expect_error(MINIMAL "hold timeout\n", 3, "usage: hold");
	expect_error(MINIMAL "hold max many\n", 3, "invalid max");
	expect_error(MINIMAL "read-fallback replica\n", 3, "usage: read-fallback");
	expect_error(MINIMAL "balance random\n", 3, "usage: balance");
	expect_error(MINIMAL "log-level loud\n", 3, "usage: log-level");
	expect_error(MINIMAL "watch timeout 500ms\n", 3, "at least 1s");
	expect_error(MINIMAL "backpressure high 1k\n", 3, "usage: backpressure");
	expect_error(MINIMAL "backpressure high 1q low 1k\n", 3, "invalid size");
	expect_error(MINIMAL "retries 101\n", 3, "usage: retries");
	expect_error(MINIMAL "threads 0\n", 3, "usage: threads");
	expect_error(MINIMAL "threads 65\n", 3, "usage: threads");
}

/* check-ssl / check-verify / check-ca: defaults for every node, a node's own options win */
static void
test_check_tls(void **state)
{
	ConfigError err;

	(void) state;
	assert_true(parse(MINIMAL, &err));
	assert_false(cfg.nodes[0].tls.ssl);
	assert_true(parse("listen write 127.0.0.1:5432\n"
					  "node a 127.0.0.1:5433 check 127.0.0.1:8008\n"
					  "node b 127.0.0.1:5434 ssl off\n"
					  "node c 127.0.0.1:5435 ca /etc/c.crt verify none\n"
					  "check-ssl on\ncheck-ca /etc/ca.crt\n", &err));
	assert_true(cfg.nodes[0].tls.ssl);
	assert_int_equal(cfg.nodes[0].tls.verify, CHECK_VERIFY_REQUIRED);
	assert_string_equal(cfg.nodes[0].tls.ca, "/etc/ca.crt");
	assert_false(cfg.nodes[1].tls.ssl);
	assert_true(cfg.nodes[2].tls.ssl);
	assert_int_equal(cfg.nodes[2].tls.verify, CHECK_VERIFY_NONE);
	assert_string_equal(cfg.nodes[2].tls.ca, "/etc/c.crt");
	assert_true(parse(MINIMAL "check-ssl on\ncheck-verify none\ncheck-crt /etc/client.pem\n", &err));
	assert_true(cfg.nodes[0].tls.ssl);
	assert_string_equal(cfg.nodes[0].tls.crt, "/etc/client.pem");
	assert_true(parse(MINIMAL "node b 127.0.0.1:1 ssl on verify none crt /b.pem\n", &err));
	assert_string_equal(cfg.nodes[1].tls.crt, "/b.pem");
	assert_string_equal(cfg.nodes[0].tls.crt, "");
	assert_true(parse("listen write 127.0.0.1:5432\nnode a 127.0.0.1:5433 ssl on ca /x.crt\n", &err));
	assert_true(cfg.nodes[0].tls.ssl);
	expect_error(MINIMAL "check-ssl on\n", 2, "need a CA file");
	expect_error("listen write 127.0.0.1:5432\nnode a 127.0.0.1:5433 ssl on\n", 2, "need a CA file");
	expect_error(MINIMAL "check-ssl maybe\n", 3, "usage: check-ssl");
	expect_error(MINIMAL "check-verify optional\n", 3, "usage: check-verify");
	expect_error(MINIMAL "check-ca\n", 3, "usage: check-ca");
	expect_error(MINIMAL "check-crt\n", 3, "usage: check-crt");
	expect_error(MINIMAL "node b 127.0.0.1:1 verify some\n", 3, "verify must be required or none");
	expect_error(MINIMAL "node b 127.0.0.1:1 ssl yes\n", 3, "ssl must be on or off");
}

static void
test_whole_file_errors(void **state)
{
	(void) state;
	expect_error("", 0, "nothing to route");
	expect_error("listen stats 127.0.0.1:7000\nnode a 127.0.0.1:1\n", 0, "nothing to route");
	expect_error("listen write 127.0.0.1:1\n", 0, "nowhere to route");
	expect_error(MINIMAL "backpressure high 64k low 64k\n", 0, "low (65536) must be below high");
}

static void
test_hostile_input(void **state)
{
	char		big[CONFIG_MAX_LINE + 10];
	char		nul_text[] = "listen write 127.0.0.1:1\nnode a\0 127.0.0.1:1\n";
	ConfigError err;

	(void) state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_error(big, 1, "line too long");
	assert_false(config_parse(nul_text, sizeof(nul_text) - 1, &cfg, &err));
	assert_int_equal(err.line, 2);
	expect_error(MINIMAL "node a1 a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a\n",
				 3, "too many words");
	/* comments and blank lines anywhere, CRLF endings, no final newline */
	assert_true(parse("# c\r\n\r\n   \nlisten write 127.0.0.1:1 # x\r\nnode a 127.0.0.1:2", &err));
	assert_int_equal(cfg.nodes[0].addr.port, 2);
}

static void
test_too_many_nodes(void **state)
{
	char		text[CONFIG_MAX_NODES * 40 + 100];
	size_t		len = 0;

	(void) state;
	len += (size_t) snprintf(text + len, sizeof(text) - len, "listen write 127.0.0.1:1\n");
	for (int i = 0; i <= CONFIG_MAX_NODES; i++)
		len += (size_t) snprintf(text + len, sizeof(text) - len, "node n%d 127.0.0.1:%d\n", i, i + 2);
	expect_error(text, CONFIG_MAX_NODES + 2, "too many nodes");
}

static void
test_durations_and_sizes(void **state)
{
	uint64_t	ms;
	size_t		bytes;
	ConfigAddr	addr;

	(void) state;
	assert_true(config_parse_duration("250", &ms));
	assert_int_equal(ms, 250);
	assert_true(config_parse_duration("250ms", &ms));
	assert_int_equal(ms, 250);
	assert_true(config_parse_duration("3s", &ms));
	assert_int_equal(ms, 3000);
	assert_true(config_parse_duration("30m", &ms));
	assert_int_equal(ms, 1800000);
	assert_true(config_parse_duration("2h", &ms));
	assert_int_equal(ms, 7200000);
	assert_true(config_parse_duration("1d", &ms));
	assert_int_equal(ms, 86400000);
	assert_false(config_parse_duration("", &ms));
	assert_false(config_parse_duration("s", &ms));
	assert_false(config_parse_duration("-1s", &ms));
	assert_false(config_parse_duration("1.5s", &ms));
	assert_false(config_parse_duration("50d", &ms));
	assert_false(config_parse_duration("99999999999999999999999", &ms));
	assert_true(config_parse_size("64k", &bytes));
	assert_int_equal(bytes, 65536);
	assert_true(config_parse_size("2m", &bytes));
	assert_int_equal(bytes, 2 * 1024 * 1024);
	assert_false(config_parse_size("2g", &bytes));
	assert_true(config_parse_addr("[::]:5432", &addr));
	assert_string_equal(addr.host, "::");
	assert_false(config_parse_addr("::1:5432", &addr));
	assert_false(config_parse_addr(":5432", &addr));
	assert_false(config_parse_addr("host:54x", &addr));
	assert_false(config_parse_addr("ho st:1", &addr));
}

static void
test_load_file_errors(void **state)
{
	char		errbuf[512];

	(void) state;
	assert_false(config_load_file("/nonexistent/pg_ha_router.conf", &cfg, errbuf, sizeof(errbuf)));
	assert_non_null(strstr(errbuf, "/nonexistent/pg_ha_router.conf: cannot open"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lab_equivalent),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_directives),
		cmocka_unit_test(test_hold_off),
		cmocka_unit_test(test_errors_name_the_line),
		cmocka_unit_test(test_whole_file_errors),
		cmocka_unit_test(test_check_tls),
		cmocka_unit_test(test_hostile_input),
		cmocka_unit_test(test_too_many_nodes),
		cmocka_unit_test(test_durations_and_sizes),
		cmocka_unit_test(test_load_file_errors),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
