/*-------------------------------------------------------------------------
 *
 * test_role.c
 *	  Unit tests for extension/role.c: the agent's role decision, one
 *	  test per rule, from the fully healthy leader outwards.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "role.h"

/* A running primary in a healthy session that holds the leader key. */
static HaFacts
leader_facts(void)
{
	HaFacts		f;

	memset(&f, 0, sizeof(f));
	f.config_ok = true;
	f.pg_running = true;
	f.in_recovery = false;
	f.zk_reachable = true;
	f.identity_ok = true;
	f.registered = true;
	f.leader_known = true;
	f.leader_exists = true;
	f.leader_is_self = true;
	f.leader_owned = true;
	return f;
}

static void
assert_decision(const HaFacts *f, HaAction action, bool is_leader)
{
	HaDecision	d = ha_decide(f);

	assert_int_equal(d.action, action);
	assert_int_equal(d.is_leader, is_leader);
	assert_non_null(d.reason);
	assert_true(strlen(d.reason) > 0);
}

static void
test_leader_leads(void **state)
{
	HaFacts		f = leader_facts();

	(void) state;
	assert_decision(&f, HA_ACT_LEAD, true);
}

static void
test_free_key_is_taken_by_running_primary(void **state)
{
	HaFacts		f = leader_facts();

	(void) state;
	f.leader_exists = false;
	f.leader_is_self = false;
	f.leader_owned = false;
	assert_decision(&f, HA_ACT_ACQUIRE_LEADER, false);
}

static void
test_replica_never_takes_key(void **state)
{
	HaFacts		f = leader_facts();

	(void) state;
	f.in_recovery = true;
	f.leader_exists = false;
	f.leader_is_self = false;
	f.leader_owned = false;
	assert_decision(&f, HA_ACT_FOLLOW, false);

	f.leader_exists = true;
	assert_decision(&f, HA_ACT_FOLLOW, false);
}

static void
test_replica_with_stale_own_key_is_not_leader(void **state)
{
	HaFacts		f = leader_facts();

	(void) state;
	f.in_recovery = true;
	assert_decision(&f, HA_ACT_FOLLOW, false);
}

static void
test_primary_sees_other_leader(void **state)
{
	HaFacts		f = leader_facts();

	(void) state;
	f.leader_is_self = false;
	f.leader_owned = false;
	assert_decision(&f, HA_ACT_PRIMARY_NOT_LEADER, false);
}

static void
test_key_of_older_session_is_released(void **state)
{
	HaFacts		f = leader_facts();

	(void) state;
	f.leader_owned = false;
	assert_decision(&f, HA_ACT_RELEASE_STALE_KEY, false);
}

/* Each missing precondition turns the leader into "wait, not leader". */
static void
test_preconditions(void **state)
{
	static const size_t preconditions[] = {
		offsetof(HaFacts, config_ok),
		offsetof(HaFacts, zk_reachable),
		offsetof(HaFacts, identity_ok),
		offsetof(HaFacts, registered),
		offsetof(HaFacts, leader_known),
		offsetof(HaFacts, pg_running),
	};

	(void) state;
	for (size_t i = 0; i < sizeof(preconditions) / sizeof(preconditions[0]); i++)
	{
		HaFacts		f = leader_facts();

		*(bool *) ((char *) &f + preconditions[i]) = false;
		assert_decision(&f, HA_ACT_WAIT, false);
	}
}

/* A primary cut from ZooKeeper never claims leadership (fencing's first step). */
static void
test_unreachable_primary_is_not_leader(void **state)
{
	HaFacts		f = leader_facts();

	(void) state;
	f.zk_reachable = false;
	assert_false(ha_decide(&f).is_leader);
	f.leader_exists = false;
	assert_int_not_equal(ha_decide(&f).action, HA_ACT_ACQUIRE_LEADER);
}

static void
test_action_names(void **state)
{
	(void) state;
	for (int a = HA_ACT_WAIT; a <= HA_ACT_PRIMARY_NOT_LEADER; a++)
		assert_string_not_equal(ha_action_name((HaAction) a), "unknown");
	assert_string_equal(ha_action_name((HaAction) 999), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leader_leads),
		cmocka_unit_test(test_free_key_is_taken_by_running_primary),
		cmocka_unit_test(test_replica_never_takes_key),
		cmocka_unit_test(test_replica_with_stale_own_key_is_not_leader),
		cmocka_unit_test(test_primary_sees_other_leader),
		cmocka_unit_test(test_key_of_older_session_is_released),
		cmocka_unit_test(test_preconditions),
		cmocka_unit_test(test_unreachable_primary_is_not_leader),
		cmocka_unit_test(test_action_names),
	};

	return cmocka_run_group_tests_name("role", tests, NULL, NULL);
}
