/*-------------------------------------------------------------------------
 *
 * test_switchover_rule.c
 *	  Unit tests for extension/switchover_rule.c: checking a switchover
 *	  request, and the leader's judgement of one that names it.
 *
 * README rules (section "SQL API", ha_switchover()) and the tests that
 * cover them:
 *	  "A bad request is an ERROR ... unknown member"         test_check_named_refusals
 *	  "... the leader itself"                                test_check_named_refusals
 *	  "... a member tagged nofailover"                       test_check_named_refusals
 *	  "... an unhealthy or silent replica"                   test_check_named_refusals
 *	  "... one lagging beyond maximum_lag_on_failover"       test_check_lag_and_timeline
 *	  "... in synchronous mode anyone but the synchronous
 *	   standby"                                              test_check_sync_mode
 *	  "... no replica at all"                                test_check_pick_best
 *	  "... a switchover already running"                     test_check_cluster_refusals
 *	  "... a leader not run by the supervisor"               test_check_cluster_refusals
 *	  without a candidate: the replica with the most WAL     test_check_pick_best
 *	  "the leader has checked the candidate once more"
 *	  ("the candidate lagged or stopped running")            test_handover_cancels
 *	  "on the leader itself ... returns the chosen candidate
 *	   ... as soon as the leader ... committed to the
 *	   hand-over"                                            test_handover_holds_for_local_answer
 *	  "or 60 s passed" (a request is not kept for ever)      test_handover_stale_and_busy
 *	  judged on a position published after the request       test_handover_waits_for_position
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "switchover_rule.h"
#include "unit_member.h"

#define NMEMBERS 4

typedef struct Cluster
{
	HaMember	members[NMEMBERS];
	bool		fresh[NMEMBERS];
	HaSwitchoverAsk ask;
} Cluster;

/* Members run by pg_ha_supervisor (the leader must be, to hand over). */
static HaMember
member(const char *name, const char *role, uint64_t lsn)
{
	HaMember	m = unit_member(name, role, lsn);

	m.supervised = true;
	return m;
}

/* n1 leads (supervised, at 1000); n2 (990), n3 (980), n4 (970) are healthy replicas. */
static void
cluster(Cluster *c)
{
	memset(c, 0, sizeof(*c));
	c->members[0] = member("n1", HA_ROLE_MASTER, 1000);
	c->members[1] = member("n2", HA_ROLE_REPLICA, 990);
	c->members[2] = member("n3", HA_ROLE_REPLICA, 980);
	c->members[3] = member("n4", HA_ROLE_REPLICA, 970);
	for (int i = 0; i < NMEMBERS; i++)
		c->fresh[i] = true;
	c->ask.members = c->members;
	c->ask.fresh = c->fresh;
	c->ask.nmembers = NMEMBERS;
	c->ask.zk_reachable = true;
	c->ask.leader_exists = true;
	c->ask.leader = "n1";
	c->ask.sync_standby = "";
	c->ask.cluster_timeline = 2;
	c->ask.maximum_lag = 100;
	c->ask.candidate = "";
}

static HaSwitchoverVerdict
check(const Cluster *c, const char *candidate, int *chosen)
{
	HaSwitchoverAsk a = c->ask;
	int			leader;
	HaSwitchoverVerdict v;

	a.candidate = candidate;
	v = ha_switchover_check(&a, chosen, &leader);
	/* the leader's index is reported whenever it is a member */
	if (v != HA_SWV_ZK_UNREACHABLE && v != HA_SWV_NO_LEADER)
		assert_int_equal(leader, 0);
	return v;
}

static void
test_check_cluster_refusals(void **state)
{
	Cluster		c;
	int			chosen;

	(void) state;
	cluster(&c);
	assert_int_equal(check(&c, "n2", &chosen), HA_SWV_OK);
	assert_int_equal(chosen, 1);

	c.ask.zk_reachable = false;
	assert_int_equal(check(&c, "n2", &chosen), HA_SWV_ZK_UNREACHABLE);
	assert_int_equal(chosen, -1);
	cluster(&c);
	c.ask.leader_exists = false;
	assert_int_equal(check(&c, "n2", &chosen), HA_SWV_NO_LEADER);
	/* a leader key naming no member known here is no leader either */
	cluster(&c);
	c.ask.leader = "gone";
	assert_int_equal(check(&c, "n2", &chosen), HA_SWV_NO_LEADER);

	/* a switchover already running: its request names another candidate ... */
	cluster(&c);
	c.ask.failover_candidate = "n3";
	assert_int_equal(check(&c, "n2", &chosen), HA_SWV_IN_PROGRESS);
	/* ... or this node is writing one */
	cluster(&c);
	c.ask.creating = true;
	assert_int_equal(check(&c, "", &chosen), HA_SWV_IN_PROGRESS);
	/* a request left over that names the leader itself (it happened) is no obstacle */
	cluster(&c);
	c.ask.failover_candidate = "n1";
	assert_int_equal(check(&c, "n2", &chosen), HA_SWV_OK);

	/* the leader is not run by the supervisor: nobody can hand over */
	cluster(&c);
	c.members[0].supervised = false;
	assert_int_equal(check(&c, "n2", &chosen), HA_SWV_LEADER_UNSUPERVISED);
	assert_int_equal(check(&c, "", &chosen), HA_SWV_LEADER_UNSUPERVISED);
}

static void
test_check_named_refusals(void **state)
{
	Cluster		c;
	int			chosen;

	(void) state;
	cluster(&c);
	assert_int_equal(check(&c, "nosuch", &chosen), HA_SWV_NOT_MEMBER);
	assert_int_equal(chosen, -1);
	assert_int_equal(check(&c, "n1", &chosen), HA_SWV_IS_LEADER);
	assert_int_equal(chosen, 0);

	/* not running, not a replica, or silent */
	strcpy(c.members[1].state, "starting");
	assert_int_equal(check(&c, "n2", &chosen), HA_SWV_UNHEALTHY);
	assert_int_equal(chosen, 1);
	cluster(&c);
	strcpy(c.members[1].role, HA_ROLE_MASTER);
	assert_int_equal(check(&c, "n2", &chosen), HA_SWV_UNHEALTHY);
	cluster(&c);
	c.fresh[1] = false;
	assert_int_equal(check(&c, "n2", &chosen), HA_SWV_UNHEALTHY);

	cluster(&c);
	c.members[2].tags.nofailover = true;
	assert_int_equal(check(&c, "n3", &chosen), HA_SWV_NOFAILOVER);
	assert_int_equal(chosen, 2);
	/* an unhealthy one is reported as that first */
	c.fresh[2] = false;
	assert_int_equal(check(&c, "n3", &chosen), HA_SWV_UNHEALTHY);
}

static void
test_check_lag_and_timeline(void **state)
{
	Cluster		c;
	int			chosen;

	(void) state;
	cluster(&c);
	/* within maximum_lag_on_failover of the leader, exactly at it, and beyond */
	c.members[1].xlog_location = 900;
	assert_int_equal(check(&c, "n2", &chosen), HA_SWV_OK);
	c.members[1].xlog_location = 899;
	assert_int_equal(check(&c, "n2", &chosen), HA_SWV_LAGGING);
	assert_int_equal(chosen, 1);
	/* a replica ahead of the leader's published position does not lag */
	c.members[1].xlog_location = 1500;
	assert_int_equal(check(&c, "n2", &chosen), HA_SWV_OK);

	/* on an older timeline than the cluster's */
	cluster(&c);
	c.ask.cluster_timeline = 3;
	assert_int_equal(check(&c, "n2", &chosen), HA_SWV_OLD_TIMELINE);
	assert_int_equal(chosen, 1);
	/* ... and not picked without a candidate either */
	assert_int_equal(check(&c, "", &chosen), HA_SWV_NONE_ELIGIBLE);
	c.members[3].timeline = 3;
	assert_int_equal(check(&c, "", &chosen), HA_SWV_OK);
	assert_int_equal(chosen, 3);
}

static void
test_check_sync_mode(void **state)
{
	Cluster		c;
	int			chosen;

	(void) state;
	cluster(&c);
	c.ask.sync_mode = true;
	c.ask.sync_standby = "n3";
	/* not confirmed yet: nobody can take over */
	assert_int_equal(check(&c, "n3", &chosen), HA_SWV_NOT_SYNC_STANDBY);
	assert_int_equal(check(&c, "", &chosen), HA_SWV_NONE_ELIGIBLE);
	/* confirmed: only it */
	c.ask.sync_confirmed = true;
	assert_int_equal(check(&c, "n3", &chosen), HA_SWV_OK);
	assert_int_equal(chosen, 2);
	assert_int_equal(check(&c, "n2", &chosen), HA_SWV_NOT_SYNC_STANDBY);
	assert_int_equal(chosen, 1);
	/* without a candidate it is picked, though n2 has more WAL */
	assert_int_equal(check(&c, "", &chosen), HA_SWV_OK);
	assert_int_equal(chosen, 2);
	/* asynchronous mode ignores /sync */
	c.ask.sync_mode = false;
	assert_int_equal(check(&c, "", &chosen), HA_SWV_OK);
	assert_int_equal(chosen, 1);
}

static void
test_check_pick_best(void **state)
{
	Cluster		c;
	int			chosen;

	(void) state;
	cluster(&c);
	assert_int_equal(check(&c, "", &chosen), HA_SWV_OK);
	assert_int_equal(chosen, 1);
	assert_int_equal(check(&c, NULL, &chosen), HA_SWV_OK);
	assert_int_equal(chosen, 1);
	/* the best is passed over when silent, nofailover or not running */
	c.fresh[1] = false;
	assert_int_equal(check(&c, "", &chosen), HA_SWV_OK);
	assert_int_equal(chosen, 2);
	c.members[2].tags.nofailover = true;
	assert_int_equal(check(&c, "", &chosen), HA_SWV_OK);
	assert_int_equal(chosen, 3);
	strcpy(c.members[3].state, "stopped");
	assert_int_equal(check(&c, "", &chosen), HA_SWV_NONE_ELIGIBLE);
	assert_int_equal(chosen, -1);
	/* no replica at all */
	cluster(&c);
	c.ask.nmembers = 1;
	assert_int_equal(check(&c, "", &chosen), HA_SWV_NONE_ELIGIBLE);
}

#define SEEN	100000

/* The leader n1 at 1000 sees a request to hand over to a healthy n2, published since. */
static HaHandoverFacts
handover(HaMember *cand)
{
	HaHandoverFacts f;

	*cand = member("n2", HA_ROLE_REPLICA, 990);
	memset(&f, 0, sizeof(f));
	f.now_ms = SEEN + 10;
	f.request_seen_ms = SEEN;
	f.candidate = cand;
	f.candidate_changed_ms = SEEN + 5;
	f.position_wait_ms = 3000;
	f.supervised = true;
	f.cluster_timeline = 2;
	f.self_lsn = 1000;
	f.maximum_lag = 100;
	return f;
}

static HaHandover
judge(const HaHandoverFacts *f, bool *tell)
{
	return ha_handover_judge(f, tell);
}

static void
test_handover_stale_and_busy(void **state)
{
	HaMember	cand;
	HaHandoverFacts f = handover(&cand);
	bool		tell;

	(void) state;
	assert_int_equal(judge(&f, &tell), HA_HO_HAND_OVER);
	assert_false(tell);
	/* our delete is under way: nothing else */
	f.delete_in_flight = true;
	assert_int_equal(judge(&f, &tell), HA_HO_BUSY);
	f.delete_in_flight = false;
	/* a request this old is dropped, whatever else */
	f.now_ms = SEEN + HA_FAILOVER_STALE_MS - 1;
	assert_int_equal(judge(&f, &tell), HA_HO_HAND_OVER);
	f.now_ms = SEEN + HA_FAILOVER_STALE_MS;
	assert_int_equal(judge(&f, &tell), HA_HO_DROP_STALE);
	f.candidate = NULL;
	assert_int_equal(judge(&f, &tell), HA_HO_DROP_STALE);
}

static void
test_handover_waits_for_position(void **state)
{
	HaMember	cand;
	HaHandoverFacts f = handover(&cand);
	bool		tell;

	(void) state;
	/* published just before we saw the request: it may have seen it first */
	f.candidate_changed_ms = SEEN - HA_HANDOVER_CLOCK_SLACK_MS;
	assert_int_equal(judge(&f, &tell), HA_HO_HAND_OVER);
	/* older: wait for a new position ... */
	f.candidate_changed_ms = SEEN - HA_HANDOVER_CLOCK_SLACK_MS - 1;
	assert_int_equal(judge(&f, &tell), HA_HO_AWAIT_POSITION);
	/* ... even if the old one lags (it may have caught up) */
	cand.xlog_location = 10;
	assert_int_equal(judge(&f, &tell), HA_HO_AWAIT_POSITION);
	/* but only for position_wait_ms; then the old one is judged */
	f.now_ms = SEEN + f.position_wait_ms;
	assert_int_equal(judge(&f, &tell), HA_HO_CANCEL_LAGGING);
}

static void
test_handover_cancels(void **state)
{
	HaMember	cand;
	HaHandoverFacts f = handover(&cand);
	bool		tell;

	(void) state;
	/* the candidate lags beyond maximum_lag_on_failover (of the leader's position) */
	cand.xlog_location = 900;
	assert_int_equal(judge(&f, &tell), HA_HO_HAND_OVER);
	cand.xlog_location = 899;
	assert_int_equal(judge(&f, &tell), HA_HO_CANCEL_LAGGING);
	/* it stopped running, is tagged nofailover, or forked */
	f = handover(&cand);
	strcpy(cand.state, "stopped");
	assert_int_equal(judge(&f, &tell), HA_HO_CANCEL_NOT_REPLICA);
	f = handover(&cand);
	cand.tags.nofailover = true;
	assert_int_equal(judge(&f, &tell), HA_HO_CANCEL_NOT_REPLICA);
	f = handover(&cand);
	f.cluster_timeline = 3;
	assert_int_equal(judge(&f, &tell), HA_HO_CANCEL_NOT_REPLICA);
	/* it is gone */
	f = handover(&cand);
	f.candidate = NULL;
	assert_int_equal(judge(&f, &tell), HA_HO_CANCEL_NOT_REPLICA);
	/* this leader cannot hand over without its supervisor (said first) */
	f = handover(&cand);
	f.supervised = false;
	assert_int_equal(judge(&f, &tell), HA_HO_CANCEL_UNSUPERVISED);
	cand.xlog_location = 0;
	assert_int_equal(judge(&f, &tell), HA_HO_CANCEL_UNSUPERVISED);
	f.candidate = NULL;
	assert_int_equal(judge(&f, &tell), HA_HO_CANCEL_UNSUPERVISED);
	assert_false(tell);
}

static void
test_handover_holds_for_local_answer(void **state)
{
	HaMember	cand;
	HaHandoverFacts f = handover(&cand);
	bool		tell;

	(void) state;
	/* a local ha_switchover() waits: it is told now, and the hand-over waits for it */
	f.local_waiting = true;
	assert_int_equal(judge(&f, &tell), HA_HO_HOLD);
	assert_true(tell);
	/* told: held until it has read the answer for HA_HANDOVER_ANSWER_READ_MS ... */
	f.local_told = true;
	f.told_ms = f.now_ms;
	f.now_ms += 50;
	assert_int_equal(judge(&f, &tell), HA_HO_HOLD);
	assert_false(tell);
	f.answered_ms = f.now_ms;
	f.now_ms += HA_HANDOVER_ANSWER_READ_MS - 1;
	assert_int_equal(judge(&f, &tell), HA_HO_HOLD);
	f.now_ms += 1;
	assert_int_equal(judge(&f, &tell), HA_HO_HAND_OVER);
	/* ... or for HA_HANDOVER_ANSWER_MS at most, answered or not */
	f.answered_ms = 0;
	f.now_ms = f.told_ms + HA_HANDOVER_ANSWER_MS - 1;
	assert_int_equal(judge(&f, &tell), HA_HO_HOLD);
	f.now_ms = f.told_ms + HA_HANDOVER_ANSWER_MS;
	assert_int_equal(judge(&f, &tell), HA_HO_HAND_OVER);

	/* once told, a candidate that lags or stops running no longer cancels ... */
	f.now_ms = f.told_ms + 10;
	cand.xlog_location = 0;
	strcpy(cand.state, "stopped");
	assert_int_equal(judge(&f, &tell), HA_HO_HOLD);
	f.supervised = false;
	assert_int_equal(judge(&f, &tell), HA_HO_HOLD);
	/* ... only a vanished one does */
	f.candidate = NULL;
	assert_int_equal(judge(&f, &tell), HA_HO_CANCEL_UNSUPERVISED);
	f.supervised = true;
	assert_int_equal(judge(&f, &tell), HA_HO_CANCEL_NOT_REPLICA);
	assert_false(tell);
}

/*
 * README "Manual failover": with a leader it is a switchover to the
 * candidate; without one the candidate must be a healthy replica, not
 * nofailover, on the cluster's timeline, and in synchronous mode the
 * confirmed synchronous standby unless forced.
 */
static void
test_failover(void **state)
{
	Cluster		c;
	int			chosen,
				leader;

	(void) state;
	cluster(&c);
	/* a candidate is needed */
	assert_int_equal(ha_failover_check(&c.ask, false, &chosen, &leader), HA_SWV_NO_CANDIDATE);
	/* with a leader: the switchover's rules (n1 is the leader) */
	c.ask.candidate = "n1";
	assert_int_equal(ha_failover_check(&c.ask, false, &chosen, &leader), HA_SWV_IS_LEADER);
	c.ask.candidate = "n3";
	assert_int_equal(ha_failover_check(&c.ask, false, &chosen, &leader), HA_SWV_OK);
	assert_int_equal(chosen, 2);

	/* no leader: the old leader's entry is gone, n3 is promoted */
	c.ask.leader_exists = false;
	c.ask.leader = "";
	c.members[0] = member("n1", HA_ROLE_MASTER, 1000);
	strcpy(c.members[0].state, "stopped");
	assert_int_equal(ha_failover_check(&c.ask, false, &chosen, &leader), HA_SWV_OK);
	assert_int_equal(chosen, 2);
	assert_int_equal(leader, -1);
	/* lag does not count here: there is no leader to lag behind */
	c.members[2].xlog_location = 1;
	assert_int_equal(ha_failover_check(&c.ask, false, &chosen, &leader), HA_SWV_OK);
	c.ask.candidate = "n9";
	assert_int_equal(ha_failover_check(&c.ask, false, &chosen, &leader), HA_SWV_NOT_MEMBER);
	c.ask.candidate = "n1";
	assert_int_equal(ha_failover_check(&c.ask, true, &chosen, &leader), HA_SWV_UNHEALTHY);
	c.ask.candidate = "n3";
	c.fresh[2] = false;
	assert_int_equal(ha_failover_check(&c.ask, true, &chosen, &leader), HA_SWV_UNHEALTHY);
	c.fresh[2] = true;
	c.members[2].tags.nofailover = true;
	assert_int_equal(ha_failover_check(&c.ask, true, &chosen, &leader), HA_SWV_NOFAILOVER);
	c.members[2].tags.nofailover = false;
	c.members[2].timeline = 1;
	assert_int_equal(ha_failover_check(&c.ask, true, &chosen, &leader), HA_SWV_OLD_TIMELINE);
	c.members[2].timeline = c.members[1].timeline;
	/* synchronous mode: the confirmed standby, or forced */
	c.ask.sync_mode = true;
	c.ask.sync_standby = "n2";
	c.ask.sync_confirmed = true;
	assert_int_equal(ha_failover_check(&c.ask, false, &chosen, &leader), HA_SWV_NOT_SYNC_STANDBY);
	assert_int_equal(ha_failover_check(&c.ask, true, &chosen, &leader), HA_SWV_OK);
	c.ask.candidate = "n2";
	assert_int_equal(ha_failover_check(&c.ask, false, &chosen, &leader), HA_SWV_OK);
	c.ask.sync_confirmed = false;
	assert_int_equal(ha_failover_check(&c.ask, false, &chosen, &leader), HA_SWV_NOT_SYNC_STANDBY);
	/* one at a time; and not while ZooKeeper is out of reach */
	c.ask.failover_candidate = "n4";
	assert_int_equal(ha_failover_check(&c.ask, true, &chosen, &leader), HA_SWV_IN_PROGRESS);
	c.ask.failover_candidate = NULL;
	c.ask.zk_reachable = false;
	assert_int_equal(ha_failover_check(&c.ask, true, &chosen, &leader), HA_SWV_ZK_UNREACHABLE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failover),
		cmocka_unit_test(test_check_cluster_refusals),
		cmocka_unit_test(test_check_named_refusals),
		cmocka_unit_test(test_check_lag_and_timeline),
		cmocka_unit_test(test_check_sync_mode),
		cmocka_unit_test(test_check_pick_best),
		cmocka_unit_test(test_handover_stale_and_busy),
		cmocka_unit_test(test_handover_waits_for_position),
		cmocka_unit_test(test_handover_cancels),
		cmocka_unit_test(test_handover_holds_for_local_answer),
	};

	return cmocka_run_group_tests_name("switchover_rule", tests, NULL, NULL);
}
