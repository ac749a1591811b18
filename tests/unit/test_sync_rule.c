/*-------------------------------------------------------------------------
 *
 * test_sync_rule.c
 *	  Unit tests for extension/sync_rule.c: one step of the leader's
 *	  synchronous standby management.
 *
 * README rules (sections "Synchronous mode" and "Losing the synchronous
 * standby") and the tests that cover them (who may be the standby, the
 * stall and the nudge are role.c's: test_role.c's test_sync_eligible,
 * test_sync_choose, test_sync_standby_stalled, test_sync_nudge):
 *	  "The leader keeps one healthy streaming replica as the
 *	   synchronous standby"                                  test_names_best_replica
 *	  "it records it in /sync before naming it in
 *	   synchronous_standby_names"                            test_names_best_replica
 *	  "marks it confirmed (promotable) only once it has
 *	   everything written before it was named"               test_confirms_after_catching_up
 *	  "it removes a standby from /sync before dropping it
 *	   from synchronous_standby_names"                       test_no_standby_left
 *	  "With no healthy replica, writes go on asynchronously
 *	   (not strict) or block (strict)"                       test_no_standby_left
 *	  "names another healthy replica as soon as it sees the
 *	   standby gone"                                         test_replaces_lost_standby
 *	  "a stalled standby with no replacement stays named"    test_stalled_standby
 *	  a stalled one is replaced when another can take its
 *	  place                                                  test_stalled_standby
 *	  a new leader names itself in /sync before it
 *	  acknowledges anything ("a node that was just promoted
 *	  acknowledges nothing until /sync names it leader")     test_new_leader_claims_sync
 *	  asynchronous mode: no synchronous standby names         test_async_and_busy
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sync_rule.h"

#define NOW		100000

/* A leader /sync names, with a healthy standby named long ago and confirmed. */
static HaSyncFacts
settled(void)
{
	HaSyncFacts f;

	memset(&f, 0, sizeof(f));
	f.sync_mode = true;
	f.leads_sync = true;
	f.has_standby = true;
	f.healthy = true;
	f.confirmed = true;
	f.best = -1;
	f.now_ms = NOW;
	f.named_ms = NOW - 10000;
	f.confirm_lsn = 500;
	f.standby_lsn = 900;
	f.self_lsn = 1000;
	return f;
}

static void
assert_step(const HaSyncFacts *f, HaSyncAction action, int64_t named_ms,
			uint64_t confirm_lsn)
{
	HaSyncStep	s = ha_sync_step(f);

	assert_string_equal(ha_sync_action_name(s.action), ha_sync_action_name(action));
	assert_int_equal(s.named_ms, named_ms);
	assert_int_equal(s.confirm_lsn, confirm_lsn);
}

static void
test_async_and_busy(void **state)
{
	HaSyncFacts f = settled();

	(void) state;
	assert_step(&f, HA_SYNC_KEEP, NOW - 10000, 500);
	/* a /sync write under way (or /sync unread): wait for it, change nothing */
	f.busy = true;
	assert_step(&f, HA_SYNC_NOTHING, NOW - 10000, 500);
	f.healthy = false;
	f.best = 2;
	assert_step(&f, HA_SYNC_NOTHING, NOW - 10000, 500);
	/* asynchronous mode: only synchronous_standby_names follows (to none) */
	f = settled();
	f.sync_mode = false;
	assert_step(&f, HA_SYNC_APPLY_NAMES, NOW - 10000, 500);
	f.healthy = false;
	f.best = 2;
	assert_step(&f, HA_SYNC_APPLY_NAMES, NOW - 10000, 500);
}

static void
test_names_best_replica(void **state)
{
	HaSyncFacts f = settled();
	HaSyncStep	s;

	(void) state;
	/* no standby yet, a replica can be: /sync names it, unconfirmed, unnamed yet */
	f.has_standby = false;
	f.healthy = false;
	f.confirmed = false;
	f.best = 1;
	s = ha_sync_step(&f);
	assert_int_equal(s.action, HA_SYNC_NAME);
	assert_int_equal(s.named_ms, 0);
	assert_int_equal(s.confirm_lsn, 0);
	assert_false(s.named_now);
	/* the same when strict */
	f.strict = true;
	assert_step(&f, HA_SYNC_NAME, 0, 0);
}

static void
test_confirms_after_catching_up(void **state)
{
	HaSyncFacts f = settled();
	HaSyncStep	s;

	(void) state;
	/* /sync names it, the name took effect just now: the clock starts */
	f.confirmed = false;
	f.named_ms = 0;
	f.confirm_lsn = 0;
	s = ha_sync_step(&f);
	assert_int_equal(s.action, HA_SYNC_KEEP);
	assert_int_equal(s.named_ms, NOW);
	assert_true(s.named_now);
	assert_int_equal(s.confirm_lsn, 0);
	/* until the walsenders have reloaded, no position is taken */
	f.named_ms = NOW - HA_SYNC_CONFIRM_AFTER_MS + 1;
	s = ha_sync_step(&f);
	assert_int_equal(s.action, HA_SYNC_KEEP);
	assert_false(s.named_now);
	assert_int_equal(s.confirm_lsn, 0);
	/* then the leader's position is what it must reach */
	f.named_ms = NOW - HA_SYNC_CONFIRM_AFTER_MS;
	assert_step(&f, HA_SYNC_SET_CONFIRM_POSITION, NOW - HA_SYNC_CONFIRM_AFTER_MS, 1000);
	/* not confirmed before it has reached it, though it is healthy */
	f.confirm_lsn = 1000;
	f.standby_lsn = 999;
	f.self_lsn = 2000;
	assert_step(&f, HA_SYNC_KEEP, NOW - HA_SYNC_CONFIRM_AFTER_MS, 1000);
	/* confirmed once it has */
	f.standby_lsn = 1000;
	assert_step(&f, HA_SYNC_CONFIRM, NOW - HA_SYNC_CONFIRM_AFTER_MS, 1000);
	/* confirmed already: kept, nothing written */
	f.confirmed = true;
	assert_step(&f, HA_SYNC_KEEP, NOW - HA_SYNC_CONFIRM_AFTER_MS, 1000);
	/* never confirmed in the pass it was named, even with a position */
	f.confirmed = false;
	f.named_ms = 0;
	assert_step(&f, HA_SYNC_KEEP, NOW, 1000);
}

static void
test_replaces_lost_standby(void **state)
{
	HaSyncFacts f = settled();

	(void) state;
	/* the standby is gone or unhealthy (stale, nosync, forked): another is named */
	f.healthy = false;
	f.best = 3;
	assert_step(&f, HA_SYNC_NAME, 0, 0);
	/* the same when strict */
	f.strict = true;
	assert_step(&f, HA_SYNC_NAME, 0, 0);
}

static void
test_stalled_standby(void **state)
{
	HaSyncFacts f = settled();

	(void) state;
	f.stalled = true;
	/* another can take its place: named instead */
	f.best = 2;
	assert_step(&f, HA_SYNC_NAME, 0, 0);
	/* none can: it stays named, nothing is written, not even when not strict */
	f.best = -1;
	assert_step(&f, HA_SYNC_APPLY_NAMES, NOW - 10000, 500);
	f.strict = true;
	assert_step(&f, HA_SYNC_APPLY_NAMES, NOW - 10000, 500);
}

static void
test_no_standby_left(void **state)
{
	HaSyncFacts f = settled();

	(void) state;
	/* not strict: /sync names none (first; the names follow once written) */
	f.healthy = false;
	assert_step(&f, HA_SYNC_CLEAR, NOW - 10000, 500);
	/* strict: it stays in /sync and commits wait */
	f.strict = true;
	assert_step(&f, HA_SYNC_APPLY_NAMES, NOW - 10000, 500);
	/* nothing named and nobody to name: nothing to write */
	f.strict = false;
	f.has_standby = false;
	assert_step(&f, HA_SYNC_APPLY_NAMES, NOW - 10000, 500);
}

static void
test_new_leader_claims_sync(void **state)
{
	HaSyncFacts f = settled();

	(void) state;
	/* /sync still names the last leader: a replica to name is named, with us as leader */
	f.leads_sync = false;
	f.has_standby = false;
	f.healthy = false;
	f.confirmed = false;
	f.best = 0;
	assert_step(&f, HA_SYNC_NAME, 0, 0);
	/* none: /sync is written as ours, with no standby */
	f.best = -1;
	assert_step(&f, HA_SYNC_CLAIM_EMPTY, NOW - 10000, 500);
	f.strict = true;
	assert_step(&f, HA_SYNC_CLAIM_EMPTY, NOW - 10000, 500);
}

static void
test_action_names(void **state)
{
	(void) state;
	for (int a = HA_SYNC_NOTHING; a <= HA_SYNC_CLAIM_EMPTY; a++)
		assert_string_not_equal(ha_sync_action_name((HaSyncAction) a), "unknown");
	assert_string_equal(ha_sync_action_name((HaSyncAction) 99), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_async_and_busy),
		cmocka_unit_test(test_names_best_replica),
		cmocka_unit_test(test_confirms_after_catching_up),
		cmocka_unit_test(test_replaces_lost_standby),
		cmocka_unit_test(test_stalled_standby),
		cmocka_unit_test(test_no_standby_left),
		cmocka_unit_test(test_new_leader_claims_sync),
		cmocka_unit_test(test_action_names),
	};

	return cmocka_run_group_tests_name("sync_rule", tests, NULL, NULL);
}
