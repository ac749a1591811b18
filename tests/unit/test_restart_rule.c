/*-------------------------------------------------------------------------
 *
 * test_restart_rule.c
 *	  Unit tests for extension/restart_rule.c: POST /restart's body and its
 *	  conditions (README "Operations", restart; Patroni's rules).
 *
 * Rules and the tests that cover them:
 *	  no body: restart now, no condition                   test_parse_empty
 *	  schedule, role, postgres_version, restart_pending,
 *	  timeout are read                                     test_parse_all
 *	  "Cannot schedule restart in the past" (422), an
 *	  unparsable schedule (422)                            test_parse_schedule_refusals
 *	  an unknown key, a bad role, version or timeout (400) test_parse_refusals
 *	  postgres_version_to_int (X.Y.Z before 10, X.Y after) test_version_to_int
 *	  role, version and pending conditions                 test_mismatch
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "restart_rule.h"

#define NOW_US	1796205600000000LL	/* 2026-12-02T10:00:00Z */

static int
parse(const char *body, HaRestartRequest *r, char *err)
{
	return ha_restart_parse(body, strlen(body), NOW_US, r, err, 256);
}

static void
test_parse_empty(void **state)
{
	HaRestartRequest r;
	char		err[256];

	(void) state;
	assert_int_equal(parse("", &r, err), 0);
	assert_false(r.scheduled);
	assert_int_equal(r.postgres_version, 0);
	assert_int_equal(parse(" \r\n", &r, err), 0);
	assert_int_equal(parse("{}", &r, err), 0);
	assert_string_equal(r.role, "");
}

static void
test_parse_all(void **state)
{
	HaRestartRequest r;
	char		err[256];

	(void) state;
	assert_int_equal(parse("{\"schedule\": \"2026-12-02T11:00:00+00:00\", \"role\": \"primary\","
						   " \"postgres_version\": \"15.9\", \"restart_pending\": true, \"timeout\": \"30s\"}",
						   &r, err), 0);
	assert_true(r.scheduled);
	assert_true(r.at_us == NOW_US + 3600LL * 1000000);
	assert_string_equal(r.role, "master");	/* Patroni 3.0's word for it */
	assert_int_equal(r.postgres_version, 150009);
	assert_true(r.restart_pending);
	assert_int_equal(r.timeout_s, 30);
	assert_int_equal(parse("{\"timeout\": 12, \"role\": \"replica\"}", &r, err), 0);
	assert_int_equal(r.timeout_s, 12);
	assert_string_equal(r.role, "replica");
}

static void
test_parse_schedule_refusals(void **state)
{
	HaRestartRequest r;
	char		err[256];

	(void) state;
	assert_int_equal(parse("{\"schedule\": \"2026-12-02T09:00:00+00:00\"}", &r, err), 422);
	assert_string_equal(err, "Cannot schedule restart in the past");
	assert_false(r.scheduled);
	assert_int_equal(parse("{\"schedule\": \"tomorrow\"}", &r, err), 422);
	assert_non_null(strstr(err, "Unable to parse scheduled timestamp"));
	assert_int_equal(parse("{\"schedule\": 5}", &r, err), 422);
}

static void
test_parse_refusals(void **state)
{
	HaRestartRequest r;
	char		err[256];

	(void) state;
	assert_int_equal(parse("{\"rollback\": true}", &r, err), 400);
	assert_string_equal(err, "Unknown filter for the scheduled restart: rollback");
	assert_int_equal(parse("{\"role\": \"leader\"}", &r, err), 400);
	assert_string_equal(err, "PostgreSQL role should be either primary or replica");
	assert_int_equal(parse("{\"postgres_version\": \"9.6\"}", &r, err), 400);
	assert_non_null(strstr(err, "Invalid PostgreSQL version"));
	assert_int_equal(parse("{\"timeout\": 0}", &r, err), 400);
	assert_int_equal(parse("{\"timeout\": \"ten\"}", &r, err), 400);
	assert_int_equal(parse("{\"timeout\": -1}", &r, err), 400);
	assert_int_equal(parse("{\"restart_pending\": \"yes\"}", &r, err), 400);
	assert_int_equal(parse("[1]", &r, err), 400);
	assert_non_null(strstr(err, "not a JSON object"));
	assert_int_equal(parse("{\"role\": \"replica\"", &r, err), 400);
	/* nothing half-read is left behind */
	assert_string_equal(r.role, "");
}

static void
test_version_to_int(void **state)
{
	(void) state;
	assert_int_equal(ha_pg_version_to_int("9.5.3"), 90503);
	assert_int_equal(ha_pg_version_to_int("10.1"), 100001);
	assert_int_equal(ha_pg_version_to_int("15.4"), 150004);
	assert_int_equal(ha_pg_version_to_int("15.0.4"), 150004);
	assert_int_equal(ha_pg_version_to_int("10"), -1);
	assert_int_equal(ha_pg_version_to_int("9.6"), -1);
	assert_int_equal(ha_pg_version_to_int("a.b.c"), -1);
	assert_int_equal(ha_pg_version_to_int("15.4."), -1);
	assert_int_equal(ha_pg_version_to_int("15.4.1.2"), -1);
	assert_int_equal(ha_pg_version_to_int("150.1"), -1);
	assert_int_equal(ha_pg_version_to_int(""), -1);
	assert_int_equal(ha_pg_version_to_int(NULL), -1);
}

static void
test_mismatch(void **state)
{
	HaRestartRequest r;
	HaRestartFacts primary = {.is_primary = true, .server_version_num = 150004, .pending_restart = false};
	HaRestartFacts replica = {.is_primary = false, .server_version_num = 150004, .pending_restart = true};
	char		err[256];

	(void) state;
	assert_int_equal(parse("", &r, err), 0);
	assert_null(ha_restart_mismatch(&r, &primary));
	assert_int_equal(parse("{\"role\": \"replica\"}", &r, err), 0);
	assert_string_equal(ha_restart_mismatch(&r, &primary), "host role mismatch");
	assert_null(ha_restart_mismatch(&r, &replica));
	assert_int_equal(parse("{\"postgres_version\": \"15.4\"}", &r, err), 0);
	assert_string_equal(ha_restart_mismatch(&r, &primary), "postgres version mismatch");
	assert_int_equal(parse("{\"postgres_version\": \"15.5\"}", &r, err), 0);
	assert_null(ha_restart_mismatch(&r, &primary));
	assert_int_equal(parse("{\"restart_pending\": true}", &r, err), 0);
	assert_string_equal(ha_restart_mismatch(&r, &primary), "pending restart flag is not set");
	assert_null(ha_restart_mismatch(&r, &replica));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_empty),
		cmocka_unit_test(test_parse_all),
		cmocka_unit_test(test_parse_schedule_refusals),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_version_to_int),
		cmocka_unit_test(test_mismatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
