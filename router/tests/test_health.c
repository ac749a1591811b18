/*
 * test_health.c - unit tests of the health state machine and of the HTTP
 * reply parsers (health.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "health.h"

static void
test_first_result_decides(void **state)
{
	HealthState h;

	(void) state;
	health_init(&h, 2, 3);
	assert_int_equal(h.status, HEALTH_UNKNOWN);
	assert_int_equal(health_record(&h, true), HEALTH_WENT_UP);
	assert_int_equal(h.status, HEALTH_UP);

	health_init(&h, 2, 3);
	assert_int_equal(health_record(&h, false), HEALTH_WENT_DOWN);
	assert_int_equal(h.status, HEALTH_DOWN);
}

static void
test_fall_needs_consecutive_failures(void **state)
{
	HealthState h;

	(void) state;
	health_init(&h, 2, 3);
	health_record(&h, true);
	assert_int_equal(health_record(&h, false), HEALTH_NO_CHANGE);
	assert_int_equal(health_record(&h, false), HEALTH_NO_CHANGE);
	/* a pass resets the count */
	assert_int_equal(health_record(&h, true), HEALTH_NO_CHANGE);
	assert_int_equal(health_record(&h, false), HEALTH_NO_CHANGE);
	assert_int_equal(health_record(&h, false), HEALTH_NO_CHANGE);
	assert_int_equal(h.status, HEALTH_UP);
	assert_int_equal(health_record(&h, false), HEALTH_WENT_DOWN);
	assert_int_equal(h.status, HEALTH_DOWN);
	assert_int_equal(health_record(&h, false), HEALTH_NO_CHANGE);
}

static void
test_rise_needs_consecutive_passes(void **state)
{
	HealthState h;

	(void) state;
	health_init(&h, 2, 3);
	health_record(&h, false);
	assert_int_equal(health_record(&h, true), HEALTH_NO_CHANGE);
	assert_int_equal(health_record(&h, false), HEALTH_NO_CHANGE);
	assert_int_equal(health_record(&h, true), HEALTH_NO_CHANGE);
	assert_int_equal(health_record(&h, true), HEALTH_WENT_UP);
	assert_int_equal(health_record(&h, true), HEALTH_NO_CHANGE);
}

static void
test_rise_fall_one(void **state)
{
	HealthState h;

	(void) state;
	health_init(&h, 1, 1);
	health_record(&h, true);
	assert_int_equal(health_record(&h, false), HEALTH_WENT_DOWN);
	assert_int_equal(health_record(&h, true), HEALTH_WENT_UP);
	/* nonsense thresholds are clamped to 1 */
	health_init(&h, 0, -5);
	assert_int_equal(h.rise, 1);
	assert_int_equal(h.fall, 1);
}

static void
test_force(void **state)
{
	HealthState h;

	(void) state;
	health_init(&h, 2, 3);
	health_record(&h, false);
	assert_int_equal(health_force(&h, HEALTH_UP), HEALTH_WENT_UP);
	assert_int_equal(health_force(&h, HEALTH_UP), HEALTH_NO_CHANGE);
	assert_int_equal(health_force(&h, HEALTH_DOWN), HEALTH_WENT_DOWN);
	assert_int_equal(health_force(&h, HEALTH_UNKNOWN), HEALTH_NO_CHANGE);
	assert_string_equal(health_status_name(HEALTH_UP), "UP");
	assert_string_equal(health_status_name(HEALTH_DOWN), "DOWN");
}

static void
test_thresholds_change_keeps_status(void **state)
{
	HealthState h;

	(void) state;
	health_init(&h, 2, 3);
	health_record(&h, true);
	health_set_thresholds(&h, 5, 1);
	assert_int_equal(h.status, HEALTH_UP);
	assert_int_equal(health_record(&h, false), HEALTH_WENT_DOWN);
}

static int
status_of(const char *text, int *status)
{
	return health_parse_status_line(text, strlen(text), status);
}

static void
test_status_line(void **state)
{
	int			status = 0;

	(void) state;
	assert_int_equal(status_of("HTTP/1.0 200 OK\r\n\r\n", &status), 1);
	assert_int_equal(status, 200);
	assert_int_equal(status_of("HTTP/1.1 503 Service Unavailable\r\n", &status), 1);
	assert_int_equal(status, 503);
	assert_int_equal(status_of("HTTP/1.0 404\r\n", &status), 1);
	assert_int_equal(status, 404);
	/* incomplete prefixes want more bytes */
	assert_int_equal(status_of("", &status), 0);
	assert_int_equal(status_of("HT", &status), 0);
	assert_int_equal(status_of("HTTP/1.0 20", &status), 0);
	assert_int_equal(status_of("HTTP/1.0 200", &status), 0);
	/* garbage is refused as early as possible */
	assert_int_equal(status_of("SSH-2.0-OpenSSH\r\n", &status), -1);
	assert_int_equal(status_of("HTTP/2 200\r\n", &status), -1);
	assert_int_equal(status_of("HTTP/1.0 2x0 OK\r\n", &status), -1);
	assert_int_equal(status_of("HTTP/1.0 2000 OK\r\n", &status), -1);
	assert_int_equal(status_of("HTTP/1.0 099 OK\r\n", &status), -1);
	assert_int_equal(status_of("\x16\x03\x01\x00", &status), -1);
}

static void
test_find_body(void **state)
{
	const char *reply = "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\ncontent-length: 12\r\n\r\n{\"a\":true}\r\n";
	const char *bare = "HTTP/1.0 200 OK\n\n";
	long		content_length;
	size_t		at;

	(void) state;
	at = health_find_body(reply, strlen(reply), &content_length);
	assert_int_equal(content_length, 12);
	assert_string_equal(reply + at, "{\"a\":true}\r\n");
	at = health_find_body(bare, strlen(bare), &content_length);
	assert_int_equal(at, strlen(bare));
	assert_int_equal(content_length, -1);
	assert_int_equal(health_find_body("HTTP/1.0 200 OK\r\nX: y\r\n", 23, &content_length), 0);
	assert_int_equal(health_find_body("\r\n\r\n", 4, &content_length), 0);
}

static bool
watch_of(const char *text, WatchReply *reply)
{
	return health_parse_watch_reply(text, strlen(text), reply);
}

static void
test_watch_reply(void **state)
{
	WatchReply	r;

	(void) state;
	assert_true(watch_of("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n"
						 "{\"role\":\"master\",\"primary\":true,\"leader_epoch\":123}", &r));
	assert_int_equal(r.status, 200);
	assert_true(r.primary);
	assert_true(r.has_epoch);
	assert_int_equal(r.leader_epoch, 123);

	assert_true(watch_of("HTTP/1.0 503 Service Unavailable\r\n\r\n{ \"primary\" : false }", &r));
	assert_int_equal(r.status, 503);
	assert_false(r.primary);
	assert_false(r.has_epoch);

	/* Content-Length bounds the body */
	assert_false(watch_of("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}\"primary\":true", &r));
}

static void
test_watch_reply_not_supported(void **state)
{
	WatchReply	r;

	(void) state;
	/* a plain 404 */
	assert_false(watch_of("HTTP/1.0 404 Not Found\r\n\r\n", &r));
	/* Patroni answers an unknown path with 503 and its status JSON: no "primary" */
	assert_false(watch_of("HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\n\r\n"
						  "{\"state\": \"running\", \"role\": \"master\", \"timeline\": 2}", &r));
	/* status and body disagree */
	assert_false(watch_of("HTTP/1.0 503 Service Unavailable\r\n\r\n{\"primary\":true}", &r));
	assert_false(watch_of("HTTP/1.0 200 OK\r\n\r\n{\"primary\":false}", &r));
	/* not a boolean, not complete, garbage */
	assert_false(watch_of("HTTP/1.0 200 OK\r\n\r\n{\"primary\":\"yes\"}", &r));
	assert_false(watch_of("HTTP/1.0 200 OK\r\n\r\n{\"primary\":", &r));
	assert_false(watch_of("HTTP/1.0 200 OK\r\n", &r));
	assert_false(watch_of("garbage", &r));
	assert_false(watch_of("", &r));
	/* an absurd epoch is ignored, the reply is kept */
	assert_true(watch_of("HTTP/1.0 200 OK\r\n\r\n{\"primary\":true,\"leader_epoch\":999999999999999999999999}", &r));
	assert_false(r.has_epoch);
}

/* a primary check of our agent carries the leader epoch in its JSON body */
static void
test_check_epoch(void **state)
{
	uint64_t	epoch = 0;
	const char *ours = "HTTP/1.0 200 OK\r\nContent-Length: 45\r\n\r\n"
		"{\"role\":\"master\",\"pg_ha\":{\"leader_epoch\":77}}";
	const char *patroni = "HTTP/1.0 200 OK\r\n\r\n{\"state\": \"running\", \"role\": \"master\"}";

	(void) state;
	assert_true(health_parse_epoch(ours, strlen(ours), &epoch));
	assert_int_equal(epoch, 77);
	assert_false(health_parse_epoch(patroni, strlen(patroni), &epoch));
	/* headers only (a HEAD check), an incomplete header block, garbage */
	assert_false(health_parse_epoch("HTTP/1.0 200 OK\r\nContent-Length: 48\r\n\r\n", 39, &epoch));
	assert_false(health_parse_epoch("HTTP/1.0 200 OK\r\n", 17, &epoch));
	assert_false(health_parse_epoch("{\"leader_epoch\":5}", 18, &epoch));
	/* not a number, absurd */
	assert_false(health_parse_epoch("HTTP/1.0 200 OK\r\n\r\n{\"leader_epoch\":\"x\"}", 39, &epoch));
	assert_false(health_parse_epoch("HTTP/1.0 200 OK\r\n\r\n{\"leader_epoch\":99999999999999999999999}", 59, &epoch));
}

static void
test_reply_complete(void **state)
{
	const char *head = "HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\n";
	const char *full = "HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\n{\"a\"";
	const char *nolen = "HTTP/1.0 200 OK\r\n\r\n{}";

	(void) state;
	/* status line or headers still coming */
	assert_false(health_reply_complete("HTTP/1.", 7, 4096, REPLY_NEED_HEADERS));
	assert_false(health_reply_complete(head, 20, 4096, REPLY_NEED_HEADERS));
	/* garbage or a full buffer: nothing more to wait for */
	assert_true(health_reply_complete("SSH-2.0", 7, 4096, REPLY_NEED_BODY));
	assert_true(health_reply_complete(head, 20, 20, REPLY_NEED_BODY));
	/* the headers are enough for a replica check */
	assert_true(health_reply_complete(head, strlen(head), 4096, REPLY_NEED_HEADERS));
	assert_false(health_reply_complete(head, strlen(head), 4096, REPLY_NEED_BODY_IF_LENGTH));
	assert_false(health_reply_complete(head, strlen(head), 4096, REPLY_NEED_BODY));
	assert_true(health_reply_complete(full, strlen(full), 4096, REPLY_NEED_BODY_IF_LENGTH));
	assert_true(health_reply_complete(full, strlen(full), 4096, REPLY_NEED_BODY));
	/* no Content-Length: a primary check stops at the headers, a watch waits for the close */
	assert_true(health_reply_complete(nolen, strlen(nolen), 4096, REPLY_NEED_BODY_IF_LENGTH));
	assert_false(health_reply_complete(nolen, strlen(nolen), 4096, REPLY_NEED_BODY));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_result_decides),
		cmocka_unit_test(test_fall_needs_consecutive_failures),
		cmocka_unit_test(test_rise_needs_consecutive_passes),
		cmocka_unit_test(test_rise_fall_one),
		cmocka_unit_test(test_force),
		cmocka_unit_test(test_thresholds_change_keeps_status),
		cmocka_unit_test(test_status_line),
		cmocka_unit_test(test_find_body),
		cmocka_unit_test(test_watch_reply),
		cmocka_unit_test(test_watch_reply_not_supported),
		cmocka_unit_test(test_check_epoch),
		cmocka_unit_test(test_reply_complete),
	};

	return cmocka_run_group_tests_name("health", tests, NULL, NULL);
}
