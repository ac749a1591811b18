/*
 * Unit tests of which callback is due (callback_policy.c).
 * Run by `make -C supervisor check`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "callback_policy.h"

#define M CB_ROLE_MASTER
#define R CB_ROLE_REPLICA
#define N CB_ROLE_NONE

static CbTrack
fresh(void)
{
	CbTrack		t;

	memset(&t, 0, sizeof(t));
	return t;
}

/* postmaster.pid's status line, padded as postgres writes it, and standby.signal */
static void
test_role_of(void **state)
{
	(void) state;
	assert_int_equal(cb_role_of("ready   ", false), M);
	assert_int_equal(cb_role_of("ready   ", true), R);	/* a hot standby */
	assert_int_equal(cb_role_of("standby ", true), R);	/* hot_standby = off */
	assert_int_equal(cb_role_of("starting", false), N);
	assert_int_equal(cb_role_of("starting", true), N);
	assert_int_equal(cb_role_of("stopping", false), N);
	assert_int_equal(cb_role_of("", false), N);
	assert_int_equal(cb_role_of(NULL, true), N);
	assert_string_equal(cb_role_word(M), "master");
	assert_string_equal(cb_role_word(R), "replica");
	assert_string_equal(cb_action_name(CB_ON_ROLE_CHANGE), "on_role_change");
	assert_string_equal(cb_action_name(CB_ON_START), "on_start");
	assert_string_equal(cb_action_name(CB_ON_STOP), "on_stop");
	assert_string_equal(cb_action_name(CB_ON_RESTART), "on_restart");
	assert_string_equal(cb_action_name(CB_ON_RELOAD), "on_reload");
}

/* on_start once the postmaster shows its role, once */
static void
test_start_once_ready(void **state)
{
	CbTrack		t = fresh();

	(void) state;
	assert_int_equal(cb_observe(&t, 0, N), CB_NONE);
	assert_int_equal(cb_observe(&t, 100, N), CB_NONE);	/* starting */
	assert_int_equal(cb_observe(&t, 100, M), CB_ON_START);
	assert_int_equal(t.role, M);
	assert_int_equal(cb_observe(&t, 100, M), CB_NONE);
	assert_int_equal(cb_observe(&t, 100, N), CB_NONE);	/* stopping: nothing */
	assert_int_equal(t.role, M);
}

/* a replica promoted while it runs: on_role_change master, once */
static void
test_promotion(void **state)
{
	CbTrack		t = fresh();

	(void) state;
	assert_int_equal(cb_observe(&t, 100, R), CB_ON_START);
	assert_int_equal(t.role, R);
	assert_int_equal(cb_observe(&t, 100, M), CB_ON_ROLE_CHANGE);
	assert_int_equal(t.role, M);
	assert_int_equal(cb_observe(&t, 100, M), CB_NONE);
}

/* a hand-over: on_stop as master, then on_role_change replica (not on_start) */
static void
test_demotion_after_stop(void **state)
{
	CbTrack		t = fresh();

	(void) state;
	cb_observe(&t, 100, M);
	assert_int_equal(cb_stopped(&t), CB_ON_STOP);
	assert_int_equal(t.role, M);	/* on_stop's role */
	assert_int_equal(cb_stopped(&t), CB_NONE);	/* nothing runs any more */
	assert_int_equal(cb_observe(&t, 0, N), CB_NONE);
	assert_int_equal(cb_observe(&t, 200, N), CB_NONE);
	assert_int_equal(cb_observe(&t, 200, R), CB_ON_ROLE_CHANGE);
	assert_int_equal(t.role, R);
}

/* a replica stopped and started again as a replica: on_stop, on_start */
static void
test_stop_then_start_same_role(void **state)
{
	CbTrack		t = fresh();

	(void) state;
	cb_observe(&t, 100, R);
	assert_int_equal(cb_stopped(&t), CB_ON_STOP);
	assert_int_equal(cb_observe(&t, 200, R), CB_ON_START);
}

/* a crash, seen down or not: the next postmaster is a restart in place */
static void
test_crash_restart(void **state)
{
	CbTrack		t = fresh();

	(void) state;
	cb_observe(&t, 100, R);
	assert_int_equal(cb_observe(&t, 0, N), CB_NONE);	/* died */
	assert_int_equal(cb_observe(&t, 200, N), CB_NONE);
	assert_int_equal(cb_observe(&t, 200, R), CB_ON_RESTART);
	/* restarted between two loop turns: never seen down */
	assert_int_equal(cb_observe(&t, 300, R), CB_ON_RESTART);
	/* a restart that died while starting, then one that runs */
	assert_int_equal(cb_observe(&t, 400, N), CB_NONE);
	assert_int_equal(cb_observe(&t, 0, N), CB_NONE);
	assert_int_equal(cb_observe(&t, 500, R), CB_ON_RESTART);
	/* and a start after a stop on purpose is a start again */
	assert_int_equal(cb_stopped(&t), CB_ON_STOP);
	assert_int_equal(cb_observe(&t, 600, R), CB_ON_START);
}

/* a primary crashed, a replica took over, it came back as a replica */
static void
test_crash_then_rejoin(void **state)
{
	CbTrack		t = fresh();

	(void) state;
	cb_observe(&t, 100, M);
	assert_int_equal(cb_observe(&t, 0, N), CB_NONE);
	assert_int_equal(cb_observe(&t, 200, R), CB_ON_ROLE_CHANGE);
	assert_int_equal(t.role, R);
}

/* a restart in place by the supervisor: no on_stop, then on_restart */
static void
test_expected_restart(void **state)
{
	CbTrack		t = fresh();

	(void) state;
	cb_observe(&t, 100, M);
	cb_expect_restart(&t);
	assert_int_equal(cb_stopped(&t), CB_NONE);
	assert_int_equal(cb_observe(&t, 0, N), CB_NONE);
	assert_int_equal(cb_observe(&t, 200, M), CB_ON_RESTART);
	assert_int_equal(cb_observe(&t, 200, M), CB_NONE);
	/* the next stop is an ordinary one */
	assert_int_equal(cb_stopped(&t), CB_ON_STOP);
}

/* nothing announced, nothing to stop or reload; the first role is on_start even after a crash */
static void
test_nothing_announced(void **state)
{
	CbTrack		t = fresh();

	(void) state;
	assert_int_equal(cb_reloaded(&t), CB_NONE);
	assert_int_equal(cb_stopped(&t), CB_NONE);
	cb_observe(&t, 100, N);
	assert_int_equal(cb_reloaded(&t), CB_NONE);
	assert_int_equal(cb_stopped(&t), CB_NONE);
	cb_observe(&t, 200, N);
	assert_int_equal(cb_observe(&t, 0, N), CB_NONE);	/* a crash while starting */
	assert_int_equal(cb_observe(&t, 300, R), CB_ON_START);
}

/* on_reload while a role is announced */
static void
test_reload(void **state)
{
	CbTrack		t = fresh();

	(void) state;
	cb_observe(&t, 100, R);
	assert_int_equal(cb_reloaded(&t), CB_ON_RELOAD);
	assert_int_equal(cb_reloaded(&t), CB_ON_RELOAD);
	assert_int_equal(t.role, R);
	cb_stopped(&t);
	assert_int_equal(cb_reloaded(&t), CB_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_role_of),
		cmocka_unit_test(test_start_once_ready),
		cmocka_unit_test(test_promotion),
		cmocka_unit_test(test_demotion_after_stop),
		cmocka_unit_test(test_stop_then_start_same_role),
		cmocka_unit_test(test_crash_restart),
		cmocka_unit_test(test_crash_then_rejoin),
		cmocka_unit_test(test_expected_restart),
		cmocka_unit_test(test_nothing_announced),
		cmocka_unit_test(test_reload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
