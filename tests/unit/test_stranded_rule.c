/*-------------------------------------------------------------------------
 *
 * test_stranded_rule.c
 *	  Unit tests for extension/stranded_rule.c: whether a replica is
 *	  stranded, and whether its agent asks for a re-clone.
 *
 * README rules (section "Stranded replicas") and the tests that cover them:
 *	  "its position is older than the oldest WAL the leader
 *	   keeps, and it has not advanced for 10 s: stranded"      test_stranded_after_bound
 *	  "streaming resumes at the start of its segment"          test_segment_start
 *	  "a replica whose WAL the leader has is never stranded"   test_leader_has_wal
 *	  "with a restore_command the archive has 60 s"            test_archive_bound
 *	  "a position that advances is not stranded"               test_progress_resets
 *	  only while another node leads as a running primary;
 *	  not on an older timeline (a rejoin), not paused replay   test_not_judged
 *	  "pg_ha.auto_reclone = off: reported only"; pause;
 *	  only a supervised node                                   test_reclone_refusals
 *	  "at most one re-clone, then 60 s, doubling to 1 h"       test_reclone_backoff
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "stranded_rule.h"

#define SEG		(16u * 1024 * 1024)
#define NOW		1000000

/* A replica at segment 3 whose leader keeps WAL from segment 10; still for 10 s. */
static HaStrandedFacts
stuck(void)
{
	HaStrandedFacts f;

	memset(&f, 0, sizeof(f));
	f.in_recovery = true;
	f.leader_primary = true;
	f.leader_wal_oldest = 10 * (uint64_t) SEG;
	f.resume_lsn = 3 * (uint64_t) SEG + 4096;
	f.segment_size = SEG;
	f.now_ms = NOW;
	f.still_since_ms = NOW - HA_STRANDED_AFTER_MS;
	return f;
}

static void
test_stranded_after_bound(void **state)
{
	HaStrandedFacts f = stuck();

	(void) state;
	assert_int_equal(ha_stranded(&f), HA_STRANDED_YES);
	assert_int_equal(ha_stranded_bound_ms(&f), HA_STRANDED_AFTER_MS);
	f.still_since_ms = NOW - HA_STRANDED_AFTER_MS + 1;
	assert_int_equal(ha_stranded(&f), HA_STRANDED_WAITING);
	/* no time of stillness taken yet */
	f.still_since_ms = 0;
	assert_int_equal(ha_stranded(&f), HA_STRANDED_WAITING);
}

static void
test_segment_start(void **state)
{
	HaStrandedFacts f = stuck();

	(void) state;
	/* at the very start of the oldest segment the leader keeps: it can stream */
	f.resume_lsn = f.leader_wal_oldest;
	assert_int_equal(ha_stranded(&f), HA_STRANDED_NO);
	/* anywhere in the segment before it: that segment is gone */
	f.resume_lsn = f.leader_wal_oldest - 1;
	assert_int_equal(ha_stranded(&f), HA_STRANDED_YES);
	f.resume_lsn = f.leader_wal_oldest - SEG;
	assert_int_equal(ha_stranded(&f), HA_STRANDED_YES);
	/* inside the oldest kept segment */
	f.resume_lsn = f.leader_wal_oldest + SEG - 1;
	assert_int_equal(ha_stranded(&f), HA_STRANDED_NO);
}

static void
test_leader_has_wal(void **state)
{
	HaStrandedFacts f = stuck();

	(void) state;
	f.resume_lsn = 20 * (uint64_t) SEG;
	f.still_since_ms = NOW - 3600 * 1000;	/* an idle cluster: no progress for an hour */
	assert_int_equal(ha_stranded(&f), HA_STRANDED_NO);
	/* the leader's oldest WAL unknown (an older agent): never stranded */
	f = stuck();
	f.leader_wal_oldest = 0;
	assert_int_equal(ha_stranded(&f), HA_STRANDED_NO);
	f = stuck();
	f.segment_size = 0;
	assert_int_equal(ha_stranded(&f), HA_STRANDED_NO);
}

static void
test_archive_bound(void **state)
{
	HaStrandedFacts f = stuck();

	(void) state;
	f.archive = true;
	assert_int_equal(ha_stranded_bound_ms(&f), HA_STRANDED_ARCHIVE_AFTER_MS);
	assert_int_equal(ha_stranded(&f), HA_STRANDED_WAITING);
	f.still_since_ms = NOW - HA_STRANDED_ARCHIVE_AFTER_MS + 1;
	assert_int_equal(ha_stranded(&f), HA_STRANDED_WAITING);
	f.still_since_ms = NOW - HA_STRANDED_ARCHIVE_AFTER_MS;
	assert_int_equal(ha_stranded(&f), HA_STRANDED_YES);
	assert_true(HA_STRANDED_ARCHIVE_AFTER_MS > HA_STRANDED_AFTER_MS);
}

static void
test_progress_resets(void **state)
{
	HaStrandedFacts f = stuck();

	(void) state;
	/* the caller restarts still_since_ms when the position moves */
	f.still_since_ms = NOW;
	assert_int_equal(ha_stranded(&f), HA_STRANDED_WAITING);
	f.now_ms = NOW + HA_STRANDED_AFTER_MS - 1;
	assert_int_equal(ha_stranded(&f), HA_STRANDED_WAITING);
	f.now_ms = NOW + HA_STRANDED_AFTER_MS;
	assert_int_equal(ha_stranded(&f), HA_STRANDED_YES);
}

static void
test_not_judged(void **state)
{
	HaStrandedFacts f = stuck();

	(void) state;
	f.in_recovery = false;
	assert_int_equal(ha_stranded(&f), HA_STRANDED_NO);
	f = stuck();
	f.leader_primary = false;	/* no leader, it leads, or the leader is not up */
	assert_int_equal(ha_stranded(&f), HA_STRANDED_NO);
	f = stuck();
	f.behind_timeline = true;
	assert_int_equal(ha_stranded(&f), HA_STRANDED_NO);
	f = stuck();
	f.replay_paused = true;
	assert_int_equal(ha_stranded(&f), HA_STRANDED_NO);
}

static HaRecloneFacts
asking(void)
{
	HaRecloneFacts r;

	memset(&r, 0, sizeof(r));
	r.stranded = true;
	r.enabled = true;
	r.supervised = true;
	r.now_s = 1700000000;
	return r;
}

static void
test_reclone_refusals(void **state)
{
	HaRecloneFacts r = asking();

	(void) state;
	assert_int_equal(ha_reclone_judge(&r), HA_RECLONE_ASK);
	r.stranded = false;
	assert_int_equal(ha_reclone_judge(&r), HA_RECLONE_NONE);
	r = asking();
	r.enabled = false;
	assert_int_equal(ha_reclone_judge(&r), HA_RECLONE_OFF);
	r.paused = true;			/* off comes first */
	assert_int_equal(ha_reclone_judge(&r), HA_RECLONE_OFF);
	r = asking();
	r.paused = true;
	assert_int_equal(ha_reclone_judge(&r), HA_RECLONE_PAUSED);
	r = asking();
	r.supervised = false;
	assert_int_equal(ha_reclone_judge(&r), HA_RECLONE_UNSUPERVISED);
}

static void
test_reclone_backoff(void **state)
{
	HaRecloneFacts r = asking();

	(void) state;
	assert_int_equal(ha_reclone_backoff_s(1), HA_RECLONE_BACKOFF_S);
	assert_int_equal(ha_reclone_backoff_s(2), 2 * HA_RECLONE_BACKOFF_S);
	assert_int_equal(ha_reclone_backoff_s(3), 4 * HA_RECLONE_BACKOFF_S);
	assert_int_equal(ha_reclone_backoff_s(30), HA_RECLONE_BACKOFF_MAX_S);
	assert_int_equal(ha_reclone_backoff_s(1000000), HA_RECLONE_BACKOFF_MAX_S);

	r.attempts = 1;
	r.last_attempt_s = r.now_s - HA_RECLONE_BACKOFF_S + 1;
	assert_int_equal(ha_reclone_judge(&r), HA_RECLONE_BACKOFF);
	r.last_attempt_s = r.now_s - HA_RECLONE_BACKOFF_S;
	assert_int_equal(ha_reclone_judge(&r), HA_RECLONE_ASK);
	r.attempts = 2;
	assert_int_equal(ha_reclone_judge(&r), HA_RECLONE_BACKOFF);
	r.last_attempt_s = r.now_s - 2 * HA_RECLONE_BACKOFF_S;
	assert_int_equal(ha_reclone_judge(&r), HA_RECLONE_ASK);

	/* a clock set back a little waits; set back beyond the longest wait, it does not */
	r.attempts = 1;
	r.last_attempt_s = r.now_s + 10;
	assert_int_equal(ha_reclone_judge(&r), HA_RECLONE_BACKOFF);
	r.last_attempt_s = r.now_s + HA_RECLONE_BACKOFF_MAX_S + 1;
	assert_int_equal(ha_reclone_judge(&r), HA_RECLONE_ASK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stranded_after_bound),
		cmocka_unit_test(test_segment_start),
		cmocka_unit_test(test_leader_has_wal),
		cmocka_unit_test(test_archive_bound),
		cmocka_unit_test(test_progress_resets),
		cmocka_unit_test(test_not_judged),
		cmocka_unit_test(test_reclone_refusals),
		cmocka_unit_test(test_reclone_backoff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
