/*
 * Unit tests of the agent -> supervisor request parser, api_url parsing
 * and the /patroni field of the hand-over (proto.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "proto.h"

static Request r;
static char err[256];

static bool
parse(const char *text)
{
	err[0] = '\0';
	return request_parse(text, strlen(text), &r, err, sizeof(err));
}

static void
test_requests(void **state)
{
	(void) state;
	assert_true(parse("# written by the agent\n"
					  "action = rejoin\n"
					  "leader = node2\n"
					  "conninfo = host=10.0.0.2 port=5432\n"
					  "reason = 'node2 holds the leader key'\n"
					  "future_key = ignored\n"));
	assert_int_equal(r.action, REQ_REJOIN);
	assert_string_equal(r.leader, "node2");
	assert_string_equal(r.conninfo, "host=10.0.0.2 port=5432");
	assert_string_equal(r.reason, "node2 holds the leader key");
	assert_string_equal(request_action_name(r.action), "rejoin");

	assert_true(parse("action=handover\r\nleader=node2\r\nconninfo=host=h port=1\r\n"
					  "api_url=http://h:8009/patroni\r\n"));
	assert_int_equal(r.action, REQ_HANDOVER);
	assert_string_equal(r.api_url, "http://h:8009/patroni");
	assert_string_equal(r.conninfo, "host=h port=1");

	/* a restart needs no leader; its reply_token names the clients handed over */
	assert_true(parse("action = restart\nreply_token = 18446744073709551615\nreason = API\n"));
	assert_int_equal(r.action, REQ_RESTART);
	assert_true(r.reply_token == UINT64_MAX);
	assert_string_equal(request_action_name(r.action), "restart");
	assert_true(parse("action = restart\n"));
	assert_true(r.reply_token == 0);
	assert_int_equal(r.timeout_s, 0);
	assert_true(parse("action = restart\ntimeout = 30\n"));
	assert_int_equal(r.timeout_s, 30);
}

/* POST /reinitialize: re-clone from the leader named */
static void
test_reinit_request(void **state)
{
	(void) state;
	assert_true(parse("action = reinit\nleader = node1\nconninfo = host=10.0.0.1 port=5432\n"
					  "reason = POST /reinitialize\n"));
	assert_int_equal(r.action, REQ_REINIT);
	assert_string_equal(request_action_name(r.action), "reinit");
	assert_string_equal(r.leader, "node1");
	assert_string_equal(r.conninfo, "host=10.0.0.1 port=5432");
	/* no api_url needed (only a hand-over waits on one) */
	assert_string_equal(r.api_url, "");
	assert_false(parse("action = reinit\nconninfo = host=h port=1\n"));
	assert_string_equal(err, "reinit needs leader and conninfo");
	assert_false(parse("action = reinit\nleader = node1\n"));
	assert_string_equal(err, "reinit needs leader and conninfo");
}

static void
test_bad_requests(void **state)
{
	(void) state;
	assert_false(parse(""));
	assert_string_equal(err, "no action");
	assert_false(parse("action = dance\n"));
	assert_string_equal(err, "line 1: unknown action \"dance\"");
	/* the agent fences in place (its write gate); it asks for no restart */
	assert_false(parse("action = fence\nreason = lost ZooKeeper for 5 s\n"));
	assert_string_equal(err, "line 1: unknown action \"fence\"");
	assert_false(parse("action = rejoin\nleader = n\n"));
	assert_string_equal(err, "rejoin needs leader and conninfo");
	assert_false(parse("action = handover\nleader = n\nconninfo = host=h port=1\n"));
	assert_string_equal(err, "handover needs api_url");
	assert_false(parse("action = restart\nreply_token = -1\n"));
	assert_string_equal(err, "line 2: reply_token is not a number");
	assert_false(parse("action = restart\nreply_token = 12x\n"));
	assert_false(parse("action = restart\ntimeout = 0\n"));
	assert_string_equal(err, "line 2: timeout is not a number of seconds");
	assert_false(parse("action = restart\nreply_token = 99999999999999999999\n"));
	assert_false(parse("action rejoin\n"));
	assert_string_equal(err, "line 1: expected \"key = value\"");
	{
		char		big[2000];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		memcpy(big, "leader = ", 9);
		assert_false(parse(big));
		assert_string_equal(err, "line 1 is too long");
	}
	{
		char		longname[200];

		snprintf(longname, sizeof(longname), "action = rejoin\nconninfo = x\nleader = %0120d\n", 0);
		assert_false(parse(longname));
		assert_string_equal(err, "line 3: the value of \"leader\" is too long");
	}
	assert_false(request_parse("action = fen\0ce\n", 16, &r, err, sizeof(err)));
}

static void
test_url(void **state)
{
	/* not http, no host, port out of range or not a number, no "]" */
	static const char *const bad[] = {
		"https://h:1/",
		"http://:1/",
		"http://h:0/",
		"http://h:70000/",
		"http://h:80x/",
		"http://[::1/",
		/* nothing that would break the request line or the Host header */
		"http://h:1/a b",
		"http://h:1/a\r\nX-Injected: 1",
		"http://[h\r\nX: 1]:1/",
		"http://h\t/",
		"http://h:1/\x7f",
		"http://h\xc3\xa9:1/",
	};
	char		host[64],
				path[64];
	int			port;

	(void) state;
	assert_true(url_parse("http://10.0.0.2:8009/patroni", host, sizeof(host), &port, path, sizeof(path)));
	assert_string_equal(host, "10.0.0.2");
	assert_int_equal(port, 8009);
	assert_string_equal(path, "/patroni");
	assert_true(url_parse("http://[::1]:8008/patroni", host, sizeof(host), &port, path, sizeof(path)));
	assert_string_equal(host, "::1");
	assert_true(url_parse("http://pg-master", host, sizeof(host), &port, path, sizeof(path)));
	assert_int_equal(port, 80);
	assert_string_equal(path, "/");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(url_parse(bad[i], host, sizeof(host), &port, path, sizeof(path)));
	assert_false(url_parse("http://averyveryverylonghostname.example.com:1/", host, 8, &port, path,
						   sizeof(path)));
}

static void
test_patroni(void **state)
{
	uint64_t	v = 0;
	const char *replica =
		"{\"state\": \"running\", \"role\": \"replica\", \"server_version\": 150000, "
		"\"xlog\": {\"received_location\": 50331976, \"replayed_location\": 50331800, "
		"\"replayed_timestamp\": null, \"paused\": false}, \"timeline\": 1}";
	const char *primary =
		"{\"state\":\"running\",\"role\":\"master\",\"xlog\":{\"location\":50331976},\"timeline\":2}";
	const char *tricky =
		"{\"note\":\"received_location\",\"pg_ha\":{\"received_location\":1},\"xlog\" : { \"replayed_location\":5 ,"
		" \"received_location\" :\n 77 }}";

	(void) state;
	assert_true(patroni_received_location(replica, strlen(replica), &v));
	assert_int_equal(v, 50331976);
	assert_false(patroni_received_location(primary, strlen(primary), &v));
	assert_true(patroni_received_location(tricky, strlen(tricky), &v));
	assert_int_equal(v, 77);
	assert_false(patroni_received_location("", 0, &v));
	assert_false(patroni_received_location("{\"xlog\":{\"received_location\":\"1\"}}", 34, &v));
	assert_false(patroni_received_location("{\"xlog\":{\"received_location\":99999999999999999999999}}", 53, &v));
	/* cut short: the field lies past len */
	assert_false(patroni_received_location(replica, 60, &v));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_reinit_request),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_patroni),
	};

	return cmocka_run_group_tests_name("supervisor proto", tests, NULL, NULL);
}
