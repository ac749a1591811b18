/*-------------------------------------------------------------------------
 *
 * test_reinit_rule.c
 *	  Unit tests for extension/reinit_rule.c: whether a reinitialize
 *	  request (POST /reinitialize, ha_reinitialize()) is accepted.
 *
 * README rules (section "Operations", reinitialize) and the tests that
 * cover them:
 *	  "a replica is re-cloned from the leader"              test_replica_accepted
 *	  "the leader is refused"                               test_leader_refused
 *	  "no leader: refused"                                  test_no_leader
 *	  "only a node run by pg_ha_supervisor"                 test_unsupervised
 *	  "a second one while it runs is refused"               test_in_progress
 *	  "force replaces another pending request, never
 *	   a reinit under way"                                  test_force
 *	  the messages patronictl reads                         test_messages
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "reinit_rule.h"

/* n2, a supervised replica of n1 */
static HaReinitFacts
replica(void)
{
	HaReinitFacts f = {
		.self = "n2",
		.leader = "n1",
		.supervised = true,
		.leader_addressable = true,
	};

	return f;
}

static void
test_replica_accepted(void **state)
{
	HaReinitFacts f = replica();

	(void) state;
	assert_int_equal(ha_reinit_check(&f), HA_RIV_OK);
}

static void
test_leader_refused(void **state)
{
	HaReinitFacts f = replica();

	(void) state;
	f.is_leader = true;
	f.leader = "n2";
	assert_int_equal(ha_reinit_check(&f), HA_RIV_IS_LEADER);
	/* the key names us before is_leader follows: still refused */
	f.is_leader = false;
	assert_int_equal(ha_reinit_check(&f), HA_RIV_IS_LEADER);
	/* is_leader set while the key read says another: refused */
	f.is_leader = true;
	f.leader = "n1";
	assert_int_equal(ha_reinit_check(&f), HA_RIV_IS_LEADER);
	/* even forced, and even unsupervised: the leader's refusal comes first */
	f.force = true;
	f.supervised = false;
	assert_int_equal(ha_reinit_check(&f), HA_RIV_IS_LEADER);
}

static void
test_no_leader(void **state)
{
	HaReinitFacts f = replica();

	(void) state;
	f.leader = "";
	assert_int_equal(ha_reinit_check(&f), HA_RIV_NO_LEADER);
	f.leader = NULL;
	f.force = true;
	assert_int_equal(ha_reinit_check(&f), HA_RIV_NO_LEADER);
}

static void
test_unsupervised(void **state)
{
	HaReinitFacts f = replica();

	(void) state;
	f.supervised = false;
	assert_int_equal(ha_reinit_check(&f), HA_RIV_UNSUPERVISED);
	f.supervised = true;
	f.leader_addressable = false;
	assert_int_equal(ha_reinit_check(&f), HA_RIV_NO_LEADER_ADDRESS);
}

static void
test_in_progress(void **state)
{
	HaReinitFacts f = replica();

	(void) state;
	f.reinit_requested = true;
	assert_int_equal(ha_reinit_check(&f), HA_RIV_IN_PROGRESS);
	f.reinit_requested = false;
	f.pending_action = "reinit";
	assert_int_equal(ha_reinit_check(&f), HA_RIV_IN_PROGRESS);
	f.pending_action = "rejoin";
	assert_int_equal(ha_reinit_check(&f), HA_RIV_OTHER_PENDING);
}

static void
test_force(void **state)
{
	HaReinitFacts f = replica();

	(void) state;
	f.force = true;
	assert_int_equal(ha_reinit_check(&f), HA_RIV_OK);
	/* force replaces a pending rejoin ... */
	f.pending_action = "rejoin";
	assert_int_equal(ha_reinit_check(&f), HA_RIV_OK);
	/* ... but not a reinit asked for already, pending or taken */
	f.pending_action = "reinit";
	assert_int_equal(ha_reinit_check(&f), HA_RIV_IN_PROGRESS);
	f.pending_action = NULL;
	f.reinit_requested = true;
	assert_int_equal(ha_reinit_check(&f), HA_RIV_IN_PROGRESS);
}

static void
test_messages(void **state)
{
	char		buf[128];
	char		tiny[8];

	(void) state;
	ha_reinit_message(HA_RIV_OK, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "reinitialize started");
	ha_reinit_message(HA_RIV_IS_LEADER, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "I am the leader, can not reinitialize");
	ha_reinit_message(HA_RIV_NO_LEADER, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "Cluster has no leader, can not reinitialize");
	/* patronictl offers to force when the text ends so */
	ha_reinit_message(HA_RIV_IN_PROGRESS, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "reinitialize already in progress");
	ha_reinit_message(HA_RIV_OTHER_PENDING, "rejoin", buf, sizeof(buf));
	assert_string_equal(buf, "rejoin already in progress");
	ha_reinit_message(HA_RIV_OTHER_PENDING, "rejoin", tiny, sizeof(tiny));
	assert_string_equal(tiny, "rejoin ");
	for (int v = HA_RIV_OK; v <= HA_RIV_OTHER_PENDING; v++)
	{
		ha_reinit_message((HaReinitVerdict) v, NULL, buf, sizeof(buf));
		assert_true(strlen(buf) > 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replica_accepted),
		cmocka_unit_test(test_leader_refused),
		cmocka_unit_test(test_no_leader),
		cmocka_unit_test(test_unsupervised),
		cmocka_unit_test(test_in_progress),
		cmocka_unit_test(test_force),
		cmocka_unit_test(test_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
