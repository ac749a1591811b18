/*
 * Unit tests of the crash/restart policy (crash_policy.c).
 * Run by `make -C supervisor check`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "crash_policy.h"

/* ten restarts within five minutes are allowed, the eleventh is not */
static void
test_limit_in_window(void **state)
{
	CrashPolicy p;
	long long	t = 1000000;

	(void) state;
	crash_policy_init(&p);
	for (int i = 0; i < CRASH_RESTART_LIMIT; i++)
		assert_true(crash_policy_count(&p, t + i * 1000));
	assert_false(crash_policy_count(&p, t + CRASH_RESTART_LIMIT * 1000));
	/* a refused restart is not recorded */
	assert_int_equal(p.nrestarts, CRASH_RESTART_LIMIT);
}

/* restarts older than the window are forgotten */
static void
test_window_forgets(void **state)
{
	CrashPolicy p;
	long long	t = 1000000;

	(void) state;
	crash_policy_init(&p);
	for (int i = 0; i < CRASH_RESTART_LIMIT; i++)
		assert_true(crash_policy_count(&p, t));
	assert_false(crash_policy_count(&p, t + CRASH_RESTART_WINDOW_MS - 1));
	assert_true(crash_policy_count(&p, t + CRASH_RESTART_WINDOW_MS));
	assert_int_equal(p.nrestarts, 1);
}

/* the delay doubles from 1 s and stops at 30 s */
static void
test_backoff_doubles_capped(void **state)
{
	CrashPolicy p;
	const int	want[] = {1000, 2000, 4000, 8000, 16000, 30000, 30000};

	(void) state;
	crash_policy_init(&p);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(crash_policy_next_delay(&p), want[i]);
}

/* a postgres that ran a minute resets the back-off; a shorter run does not */
static void
test_backoff_reset(void **state)
{
	CrashPolicy p;

	(void) state;
	crash_policy_init(&p);
	assert_false(crash_policy_running(&p, 0, CRASH_BACKOFF_RESET_MS));	/* at minimum */
	crash_policy_next_delay(&p);
	crash_policy_next_delay(&p);
	assert_false(crash_policy_running(&p, 0, CRASH_BACKOFF_RESET_MS - 1));
	assert_int_equal(p.backoff_ms, 4000);
	assert_true(crash_policy_running(&p, 0, CRASH_BACKOFF_RESET_MS));
	assert_int_equal(crash_policy_next_delay(&p), CRASH_BACKOFF_MIN_MS);
}

/* a replica without nofailover can take over; a primary or a nofailover replica cannot */
static void
test_replica_can_take_over(void **state)
{
	HaMember	m[3];

	(void) state;
	memset(m, 0, sizeof(m));
	assert_false(crash_policy_replica_can_take_over(m, 0));
	strcpy(m[0].role, "master");
	strcpy(m[1].role, "replica");
	m[1].tags.nofailover = true;
	strcpy(m[2].role, "unknown");
	assert_false(crash_policy_replica_can_take_over(m, 3));
	m[1].tags.nofailover = false;
	assert_true(crash_policy_replica_can_take_over(m, 3));
	assert_false(crash_policy_replica_can_take_over(m, 1));	/* n bounds the array */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit_in_window),
		cmocka_unit_test(test_window_forgets),
		cmocka_unit_test(test_backoff_doubles_capped),
		cmocka_unit_test(test_backoff_reset),
		cmocka_unit_test(test_replica_can_take_over),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
