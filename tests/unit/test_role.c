/*-------------------------------------------------------------------------
 *
 * test_role.c
 *	  Unit tests for extension/role.c: the agent's role decision, one test
 *	  per rule, from a healthy leader or replica outwards, and the safety
 *	  rules S1-S4 (DESIGN.md, section 6) that the decision enforces.
 *
 * README "Failover" rules and the tests that cover them (the switchover
 * checks are test_switchover_rule.c's, the synchronous standby's steps
 * test_sync_rule.c's, the role-change lines test_role_change.c's):
 *	  Election: races only if not nofailover, on the newest timeline,
 *	  within maximum_lag_on_failover (async)          test_replica_must_not_race
 *	  ... and no candidate that published since has more WAL (ties: the
 *	  smaller name)                                   test_election_settled,
 *	                                                  test_election_better_peer,
 *	                                                  test_election_member_list,
 *	                                                  test_peer_is_better, test_lag_ok
 *	  ... in sync mode only the confirmed standby or
 *	  the last leader /sync names                     test_sync_mode_only_sync_standby,
 *	                                                  test_sync_mode_last_leader_races
 *	  a switchover's candidate races at once          test_switchover_candidate_races
 *	  the winner promotes; the startup process is
 *	  woken every 20 ms for at most 60 s              test_replica_holding_key_promotes,
 *	                                                  test_promote_nudge
 *	  a replica whose leader restarted streams again at
 *	  once, not after wal_retrieve_retry_interval         test_stream_nudge
 *	  a restarted primary takes over its own key
 *	  atomically                                      test_stale_own_key_is_taken_over
 *	  Fencing: not leader at once without ZooKeeper,
 *	  fenced after retry_timeout (before ttl)         test_unreachable_primary_fences,
 *	                                                  test_fence_after
 *	  the write gate: lease, fence flag, unproven     test_gate_verdict
 *	  a cancelled synchronous wait is no
 *	  acknowledgement                                 test_commit_replicated
 *	  the fence lifts when it leads again: kept key,
 *	  or won like any candidate                       test_fenced_primary_keeps_its_key,
 *	                                                  test_fenced_primary_races_like_a_candidate,
 *	                                                  test_fenced_primary_waits_without_zookeeper
 *	  a node that finds another leader rejoins; an
 *	  older timeline never serves                     test_primary_sees_other_leader_demotes,
 *	                                                  test_forked_primary_fences
 *	  the switchover's outcome on a fresh view only   test_switchover_outcome
 *	  Synchronous mode: who may be the standby        test_sync_eligible, test_sync_choose
 *	  Losing the standby: a stall (500 ms, another
 *	  has the WAL), the nudge (3 s, every 50 ms)      test_sync_standby_stalled,
 *	                                                  test_sync_nudge
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
#include "unit_member.h"

/* A running primary in a healthy session that holds the leader key. */
static HaFacts
leader_facts(void)
{
	HaFacts		f;

	memset(&f, 0, sizeof(f));
	f.config_ok = true;
	f.pg_running = true;
	f.zk_reachable = true;
	f.identity_ok = true;
	f.registered = true;
	f.leader_known = true;
	f.leader_exists = true;
	f.leader_is_self = true;
	f.leader_owned = true;
	f.timeline = 2;
	f.cluster_timeline = 2;
	return f;
}

/* A healthy replica; the leader key is free; it is the best candidate. */
static HaFacts
candidate_facts(void)
{
	HaFacts		f = leader_facts();

	f.in_recovery = true;
	f.leader_exists = false;
	f.leader_is_self = false;
	f.leader_owned = false;
	f.lag_ok = true;
	f.peers_settled = true;
	return f;
}

static void
assert_decision(const HaFacts *f, HaAction action, bool is_leader)
{
	HaDecision	d = ha_decide(f);

	assert_string_equal(ha_action_name(d.action), ha_action_name(action));
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
	f.leader_exists = f.leader_is_self = f.leader_owned = false;
	assert_decision(&f, HA_ACT_ACQUIRE_LEADER, false);
}

static void
test_stale_own_key_is_taken_over(void **state)
{
	HaFacts		f = leader_facts();

	(void) state;
	f.leader_owned = false;
	assert_decision(&f, HA_ACT_TAKEOVER_STALE_KEY, false);
	/* a replica does not take it over: it releases it for an election */
	f.in_recovery = true;
	assert_decision(&f, HA_ACT_RELEASE_STALE_KEY, false);
}

/* S1: a primary that finds another leader steps down. */
static void
test_primary_sees_other_leader_demotes(void **state)
{
	HaFacts		f = leader_facts();

	(void) state;
	f.leader_is_self = f.leader_owned = false;
	assert_decision(&f, HA_ACT_DEMOTE, false);
}

/*
 * README "Maintenance mode": while paused nothing is automatic.  A free
 * key is not raced for (no failover) unless a switchover names this node;
 * the leader keeps leading; a primary another member leads over is fenced
 * in place (the write gate), never restarted to rejoin.
 */
static void
test_paused(void **state)
{
	HaFacts		f = candidate_facts();

	(void) state;
	f.paused = true;
	assert_decision(&f, HA_ACT_FOLLOW, false);
	assert_non_null(strstr(ha_decide(&f).reason, "paused"));
	f.switchover_self = true;	/* a manual switchover is still carried out */
	assert_decision(&f, HA_ACT_ACQUIRE_LEADER, false);

	f = leader_facts();
	f.paused = true;
	assert_decision(&f, HA_ACT_LEAD, true);
	f.leader_exists = f.leader_is_self = f.leader_owned = false;
	assert_decision(&f, HA_ACT_ACQUIRE_LEADER, false);	/* its own key back */

	f = leader_facts();
	f.paused = true;
	f.leader_is_self = f.leader_owned = false;
	assert_decision(&f, HA_ACT_FENCE, false);
	f.fenced = true;
	assert_decision(&f, HA_ACT_WAIT, false);
	/* S1 is not paused: cut from ZooKeeper it still fences */
	f = leader_facts();
	f.paused = true;
	f.zk_reachable = false;
	f.fence_due = true;
	assert_decision(&f, HA_ACT_FENCE, false);
}

/*
 * README "Manual failover": a failover with no leader names a candidate,
 * which races alone; in synchronous mode (S2) and past the lag limit (S3)
 * only when the operator forced it.
 */
static void
test_manual_failover(void **state)
{
	HaFacts		f = candidate_facts();

	(void) state;
	f.switchover_self = true;
	f.sync_mode = true;
	assert_decision(&f, HA_ACT_FOLLOW, false);	/* not the confirmed standby */
	f.failover_forced = true;
	assert_decision(&f, HA_ACT_ACQUIRE_LEADER, false);
	f.sync_mode = false;
	f.lag_ok = false;
	assert_decision(&f, HA_ACT_ACQUIRE_LEADER, false);
	f.failover_forced = false;
	assert_decision(&f, HA_ACT_FOLLOW, false);
	/* never past S4 (an older timeline), nor nofailover */
	f = candidate_facts();
	f.switchover_self = f.failover_forced = true;
	f.timeline = 1;
	assert_decision(&f, HA_ACT_FOLLOW, false);
	f = candidate_facts();
	f.switchover_self = f.failover_forced = true;
	f.nofailover = true;
	assert_decision(&f, HA_ACT_FOLLOW, false);
	/* the others do not race while it names another member */
	f = candidate_facts();
	f.switchover_other = true;
	assert_decision(&f, HA_ACT_FOLLOW, false);
}

/* S1: cut from ZooKeeper: not leader at once, fenced after retry_timeout. */
static void
test_unreachable_primary_fences(void **state)
{
	HaFacts		f = leader_facts();

	(void) state;
	f.zk_reachable = false;
	assert_decision(&f, HA_ACT_WAIT, false);
	f.fence_due = true;
	assert_decision(&f, HA_ACT_FENCE, false);
	/* a replica has nothing to fence */
	f.in_recovery = true;
	assert_decision(&f, HA_ACT_WAIT, false);
}

/*
 * Fenced in place (the write gate closed, postgres still a primary): it
 * waits while ZooKeeper is away, and fences only once.
 */
static void
test_fenced_primary_waits_without_zookeeper(void **state)
{
	HaFacts		f = leader_facts();

	(void) state;
	f.zk_reachable = false;
	f.fence_due = true;
	f.fenced = true;
	assert_decision(&f, HA_ACT_WAIT, false);
}

/* ZooKeeper back, the session survived: it still owns the key and leads. */
static void
test_fenced_primary_keeps_its_key(void **state)
{
	HaFacts		f = leader_facts();

	(void) state;
	f.fenced = true;
	assert_decision(&f, HA_ACT_LEAD, true);
	/* the key of an older session of its own: nobody else took it meanwhile */
	f.leader_owned = false;
	assert_decision(&f, HA_ACT_TAKEOVER_STALE_KEY, false);
	/* another node leads: rejoin as its standby */
	f.leader_is_self = false;
	assert_decision(&f, HA_ACT_DEMOTE, false);
}

/*
 * The session expired and the key is free: another node may have led
 * meanwhile, so the fenced primary races by the election's rules, not at
 * once as an unfenced primary does.
 */
static void
test_fenced_primary_races_like_a_candidate(void **state)
{
	HaFacts		f = candidate_facts();

	(void) state;
	f.in_recovery = false;
	f.fenced = true;
	assert_decision(&f, HA_ACT_ACQUIRE_LEADER, false);
	f.peers_settled = false;
	assert_decision(&f, HA_ACT_FOLLOW, false);
	f.peers_settled = true;
	f.better_peer = true;
	assert_decision(&f, HA_ACT_FOLLOW, false);
	f.better_peer = false;
	f.switchover_other = true;
	assert_decision(&f, HA_ACT_FOLLOW, false);
	f.switchover_other = false;
	/* S2: in synchronous mode only as the leader /sync still names */
	f.sync_mode = true;
	assert_decision(&f, HA_ACT_FOLLOW, false);
	f.sync_leader_self = true;
	assert_decision(&f, HA_ACT_ACQUIRE_LEADER, false);
	/* S4: the cluster moved on to a newer timeline: it stays fenced */
	f.cluster_timeline = f.timeline + 1;
	assert_decision(&f, HA_ACT_WAIT, false);
}

/* S4: a primary on an older timeline never leads, even with the key free. */
static void
test_forked_primary_fences(void **state)
{
	HaFacts		f = leader_facts();

	(void) state;
	f.timeline = 1;
	f.leader_exists = f.leader_is_self = f.leader_owned = false;
	assert_decision(&f, HA_ACT_FENCE, false);
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

static void
test_replica_follows_leader(void **state)
{
	HaFacts		f = candidate_facts();

	(void) state;
	f.leader_exists = true;
	assert_decision(&f, HA_ACT_FOLLOW, false);
}

static void
test_best_replica_races(void **state)
{
	HaFacts		f = candidate_facts();

	(void) state;
	assert_decision(&f, HA_ACT_ACQUIRE_LEADER, false);
}

static void
test_replica_holding_key_promotes(void **state)
{
	HaFacts		f = candidate_facts();

	(void) state;
	f.leader_exists = f.leader_is_self = f.leader_owned = true;
	assert_decision(&f, HA_ACT_PROMOTE, false);
	f.promoting = true;
	assert_decision(&f, HA_ACT_PROMOTE, false);
}

/* Reasons a replica must not race for a free key. */
static void
test_replica_must_not_race(void **state)
{
	HaFacts		f;

	(void) state;

	f = candidate_facts();
	f.nofailover = true;
	assert_decision(&f, HA_ACT_FOLLOW, false);

	f = candidate_facts();
	f.switchover_other = true;
	assert_decision(&f, HA_ACT_FOLLOW, false);

	/* S4 */
	f = candidate_facts();
	f.timeline = 1;
	assert_decision(&f, HA_ACT_FOLLOW, false);

	/* S3 */
	f = candidate_facts();
	f.lag_ok = false;
	assert_decision(&f, HA_ACT_FOLLOW, false);

	f = candidate_facts();
	f.peers_settled = false;
	assert_decision(&f, HA_ACT_FOLLOW, false);

	f = candidate_facts();
	f.better_peer = true;
	assert_decision(&f, HA_ACT_FOLLOW, false);

	/* not in recovery-ready state yet */
	f = candidate_facts();
	f.pg_running = false;
	assert_decision(&f, HA_ACT_WAIT, false);
}

/* S2: in synchronous mode only the confirmed synchronous standby races. */
static void
test_sync_mode_only_sync_standby(void **state)
{
	HaFacts		f = candidate_facts();

	(void) state;
	f.sync_mode = true;
	assert_decision(&f, HA_ACT_FOLLOW, false);
	/* a switchover naming a non-sync replica does not override it */
	f.switchover_self = true;
	assert_decision(&f, HA_ACT_FOLLOW, false);
	f.sync_standby_self = true;
	assert_decision(&f, HA_ACT_ACQUIRE_LEADER, false);
	/* lag and peers do not matter for the sync standby: it has every commit */
	f.lag_ok = false;
	f.better_peer = true;
	f.peers_settled = false;
	assert_decision(&f, HA_ACT_ACQUIRE_LEADER, false);
}

/*
 * A fenced old primary that /sync still names leader may race: nobody else
 * acknowledged a commit since (a new leader names itself there first) --
 * unless the cluster moved to a newer timeline meanwhile.
 */
static void
test_sync_mode_last_leader_races(void **state)
{
	HaFacts		f = candidate_facts();

	(void) state;
	f.sync_mode = true;
	f.sync_leader_self = true;
	assert_decision(&f, HA_ACT_ACQUIRE_LEADER, false);
	f.cluster_timeline = f.timeline + 1;
	assert_decision(&f, HA_ACT_FOLLOW, false);
	f.cluster_timeline = f.timeline;
	f.nofailover = true;
	assert_decision(&f, HA_ACT_FOLLOW, false);
}

/* A switchover's candidate races without waiting for peers. */
static void
test_switchover_candidate_races(void **state)
{
	HaFacts		f = candidate_facts();

	(void) state;
	f.switchover_self = true;
	f.peers_settled = false;
	f.better_peer = true;
	assert_decision(&f, HA_ACT_ACQUIRE_LEADER, false);
	/* but not beyond the lag limit */
	f.lag_ok = false;
	assert_decision(&f, HA_ACT_FOLLOW, false);
}

static void
test_lag_ok(void **state)
{
	(void) state;
	assert_true(ha_lag_ok(100, 0, 0));	/* unknown leader position */
	assert_true(ha_lag_ok(100, 100, 0));
	assert_true(ha_lag_ok(200, 100, 0));
	assert_true(ha_lag_ok(90, 100, 10));
	assert_false(ha_lag_ok(89, 100, 10));
}

static void
test_peer_is_better(void **state)
{
	(void) state;
	assert_true(ha_peer_is_better(100, "b", 101, "c"));
	assert_false(ha_peer_is_better(101, "b", 100, "a"));
	/* equal WAL: the smaller name wins, so exactly one races */
	assert_true(ha_peer_is_better(100, "b", 100, "a"));
	assert_false(ha_peer_is_better(100, "a", 100, "b"));
}

static void
test_fence_after(void **state)
{
	(void) state;
	/* the server granted what we asked (or nothing known yet): retry_timeout */
	assert_int_equal(ha_fence_after_ms(5, 10, 10000), 5000);
	assert_int_equal(ha_fence_after_ms(5, 10, 0), 5000);
	assert_int_equal(ha_fence_after_ms(5, 10, 40000), 5000);
	/* capped at 20 ticks: fence at the same fraction of what was granted */
	assert_int_equal(ha_fence_after_ms(10, 30, 4000), 1333);
	assert_int_equal(ha_fence_after_ms(5, 10, 6000), 3000);
	/* always before the session can expire */
	for (int granted = 1; granted < 30000; granted += 997)
		assert_true(ha_fence_after_ms(10, 30, granted) < granted);
	/* a retry_timeout close to ttl: 3/4 of the session, with a heartbeat (a third) in it */
	assert_int_equal(ha_fence_after_ms(9, 10, 10000), 7500);
	assert_int_equal(ha_fence_after_ms(9, 10, 0), 7500);
	for (int retry = 1; retry < 30; retry++)
		for (int granted = 4000; granted <= 30000; granted += 1000)
		{
			int			after = ha_fence_after_ms(retry, 30, granted);

			assert_true(after + after / 3 <= granted);
		}
}

/* The write gate, asked before the commit record and again before the reply. */
static void
test_gate_verdict(void **state)
{
	(void) state;
	/* open, within the lease (its last millisecond included) */
	assert_int_equal(ha_gate_verdict(HA_GATE_OPEN, 5000, 4000), HA_GATE_PASS);
	assert_int_equal(ha_gate_verdict(HA_GATE_OPEN, 5000, 5000), HA_GATE_PASS);
	/* open without a lease (bootstrap, no agent has led yet) */
	assert_int_equal(ha_gate_verdict(HA_GATE_OPEN, 0, 123456), HA_GATE_PASS);
	/* past the lease, even if the agent has not closed the gate (frozen) */
	assert_int_equal(ha_gate_verdict(HA_GATE_OPEN, 5000, 5001), HA_GATE_REFUSE_LEASE);
	/* a closed gate refuses whatever the lease says */
	assert_int_equal(ha_gate_verdict(HA_GATE_FENCED, 5000, 4000), HA_GATE_REFUSE_FENCED);
	assert_int_equal(ha_gate_verdict(HA_GATE_FENCED, 0, 4000), HA_GATE_REFUSE_FENCED);
	assert_int_equal(ha_gate_verdict(HA_GATE_UNPROVEN, 5000, 4000), HA_GATE_REFUSE_UNPROVEN);
	assert_int_equal(ha_gate_verdict(HA_GATE_UNPROVEN, 5000, 9000), HA_GATE_REFUSE_UNPROVEN);
	/* a value no agent writes is not taken for open */
	assert_int_equal(ha_gate_verdict((HaGateState) 7, 5000, 4000), HA_GATE_REFUSE_FENCED);
}

/* A commit acknowledged only once its synchronous standby confirmed it. */
static void
test_commit_replicated(void **state)
{
	(void) state;
	/* released at or past the commit: confirmed */
	assert_true(ha_commit_replicated(true, true, 0x3000, 0x3000));
	assert_true(ha_commit_replicated(true, true, 0x3000, 0x5000));
	/* the wait ended before the standby confirmed it (cancelled) */
	assert_false(ha_commit_replicated(true, true, 0x3000, 0x2fff));
	/* no wait was due: asynchronous commit, or nothing written before the commit record */
	assert_true(ha_commit_replicated(false, true, 0x3000, 0x1000));
	/* standbys dropped meanwhile: postgres released every waiter */
	assert_true(ha_commit_replicated(true, false, 0x3000, 0x1000));
	/* no commit record position */
	assert_true(ha_commit_replicated(true, true, 0, 0x1000));
}

static void
test_action_names(void **state)
{
	(void) state;
	for (int a = HA_ACT_WAIT; a <= HA_ACT_FENCE; a++)
		assert_string_not_equal(ha_action_name((HaAction) a), "unknown");
	assert_string_equal(ha_action_name((HaAction) 999), "unknown");
}

/* The startup process is woken while a promotion runs, and only then, bounded. */
static void
test_promote_nudge(void **state)
{
	(void) state;
	assert_true(ha_promote_nudge(true, true, 0));
	assert_true(ha_promote_nudge(true, true, HA_PROMOTE_NUDGE_FOR_MS - 1));
	/* promotion over: postgres left recovery */
	assert_false(ha_promote_nudge(true, false, 100));
	/* nothing asked */
	assert_false(ha_promote_nudge(false, true, 100));
	/* bounded: a promotion that never ends is not nudged forever */
	assert_false(ha_promote_nudge(true, true, HA_PROMOTE_NUDGE_FOR_MS));
	/* a clock that went backwards (never expected) does not nudge */
	assert_false(ha_promote_nudge(true, true, -1));
}

/* A replica without a WAL receiver is woken while its leader runs, and only then. */
static void
test_stream_nudge(void **state)
{
	(void) state;
	assert_true(ha_stream_nudge(true, false, true));
	/* streaming (or starting): nothing to wake */
	assert_false(ha_stream_nudge(true, true, true));
	/* the leader is not up as a primary: waking would only fail again */
	assert_false(ha_stream_nudge(true, false, false));
	/* not a replica */
	assert_false(ha_stream_nudge(false, false, true));
}

/*
 * A switchover's outcome, as the node that asked for it sees the cluster
 * (issue 9: "cancelled" was reported from a view in which the leader key
 * had changed but not been read again).
 */
static void
test_switchover_outcome(void **state)
{
	(void) state;
	/* a view with changes not read yet decides nothing, whatever it says */
	assert_int_equal(ha_switchover_outcome(false, false, "", "n3", false), HA_SW_PENDING);
	assert_int_equal(ha_switchover_outcome(false, false, "n1", "n3", false), HA_SW_PENDING);
	assert_int_equal(ha_switchover_outcome(false, false, "n3", "n3", true), HA_SW_PENDING);
	/* the request still stands: under way */
	assert_int_equal(ha_switchover_outcome(true, true, "n1", "n3", false), HA_SW_PENDING);
	/* the request is gone and no one holds the key: the hand-over is between leaders */
	assert_int_equal(ha_switchover_outcome(true, false, "", "n3", false), HA_SW_PENDING);
	/* the candidate holds the key but does not run as primary yet */
	assert_int_equal(ha_switchover_outcome(true, false, "n3", "n3", false), HA_SW_PENDING);
	assert_int_equal(ha_switchover_outcome(true, true, "n3", "n3", false), HA_SW_PENDING);
	/* the candidate leads as primary: done, whether or not /failover is gone yet */
	assert_int_equal(ha_switchover_outcome(true, false, "n3", "n3", true), HA_SW_HAPPENED);
	assert_int_equal(ha_switchover_outcome(true, true, "n3", "n3", true), HA_SW_HAPPENED);
	/* the request is gone and another member leads: it did not happen */
	assert_int_equal(ha_switchover_outcome(true, false, "n1", "n3", false), HA_SW_NOT_DONE);
	assert_int_equal(ha_switchover_outcome(true, false, "n2", "n3", false), HA_SW_NOT_DONE);
}

/* A tiny WAL record for a newly named synchronous standby: when, how often, how long. */
static void
test_sync_nudge(void **state)
{
	(void) state;
	/* just named, commits wait (released behind flushed) */
	assert_true(ha_sync_nudge(0, 1000000, 100, 200));
	/* not more often than every HA_SYNC_NUDGE_EVERY_MS */
	assert_false(ha_sync_nudge(10, HA_SYNC_NUDGE_EVERY_MS - 1, 100, 200));
	assert_true(ha_sync_nudge(60, HA_SYNC_NUDGE_EVERY_MS, 100, 200));
	/* nothing waits: all flushed WAL is released */
	assert_false(ha_sync_nudge(10, 1000000, 200, 200));
	/* bounded: only for HA_SYNC_NUDGE_FOR_MS after naming */
	assert_true(ha_sync_nudge(HA_SYNC_NUDGE_FOR_MS - 1, 1000000, 100, 200));
	assert_false(ha_sync_nudge(HA_SYNC_NUDGE_FOR_MS, 1000000, 100, 200));
	assert_false(ha_sync_nudge(-1, 1000000, 100, 200));
}

/* A synchronous standby that holds commits back without acknowledging any. */
static void
test_sync_standby_stalled(void **state)
{
	(void) state;
	/* commits wait, nothing released for HA_SYNC_STALL_MS, another standby has them */
	assert_true(ha_sync_standby_stalled(100, 200, HA_SYNC_STALL_MS, 150));
	/* not yet */
	assert_false(ha_sync_standby_stalled(100, 200, HA_SYNC_STALL_MS - 1, 150));
	/* nothing waits: an idle standby is not stalled, however long */
	assert_false(ha_sync_standby_stalled(200, 200, 60000, 300));
	assert_false(ha_sync_standby_stalled(300, 200, 60000, 300));
	/* slow, but no other standby is further (a bulk load): not stalled */
	assert_false(ha_sync_standby_stalled(100, 200, 60000, 100));
	assert_false(ha_sync_standby_stalled(100, 200, 60000, 0));
}

/* ---------------------------------------------------------------------
 * ha_election_peers: the election's facts about the other members
 * ---------------------------------------------------------------------
 */
#define VANISHED	10000
#define SETTLE		2500

/* n2 (self) at LSN 100; the leader key vanished at VANISHED; list read after. */
static HaElection
election(const HaPeer *peers, int n, int64_t now)
{
	HaElection	e;

	memset(&e, 0, sizeof(e));
	e.self_name = "n2";
	e.self_lsn = 100;
	e.self_in_recovery = true;
	e.now_ms = now;
	e.leader_vanished_ms = VANISHED;
	e.members_listed_ms = VANISHED + 10;
	e.settle_ms = SETTLE;
	e.npeers = n;
	e.peers = peers;
	return e;
}

static HaPeer
peer(const char *name, uint64_t lsn, int64_t changed_ms)
{
	HaPeer		p = {name, lsn, true, true, changed_ms};

	return p;
}

static void
test_election_settled(void **state)
{
	HaPeer		peers[3];
	HaElection	e;
	bool		settled,
				better;

	(void) state;
	/* every candidate published since the leader vanished, none better */
	peers[0] = peer("n2", 100, VANISHED - 50);	/* ourselves: skipped */
	peers[1] = peer("n3", 90, VANISHED + 5);
	peers[2] = peer("n1", 500, VANISHED - 100); /* the old leader: not promotable */
	peers[2].promotable = false;
	e = election(peers, 3, VANISHED + 100);
	ha_election_peers(&e, &settled, &better);
	assert_true(settled);
	assert_false(better);

	/* one candidate not heard from since: not settled within settle_ms ... */
	peers[1].changed_ms = VANISHED - 1;
	ha_election_peers(&e, &settled, &better);
	assert_false(settled);
	assert_false(better);
	/* ... nor one whose znode was never read */
	peers[1] = peer("n3", 90, VANISHED + 5);
	peers[1].read = false;
	ha_election_peers(&e, &settled, &better);
	assert_false(settled);
	/* after settle_ms it is taken as unreachable, and not as better */
	peers[1].lsn = 900;
	e.now_ms = VANISHED + SETTLE;
	ha_election_peers(&e, &settled, &better);
	assert_true(settled);
	assert_false(better);
}

static void
test_election_member_list(void **state)
{
	HaPeer		peers[1];
	HaElection	e;
	bool		settled,
				better;

	(void) state;
	peers[0] = peer("n3", 90, VANISHED + 5);
	e = election(peers, 1, VANISHED + 100);
	/* a member list older than the vanishing may miss one that registered */
	e.members_listed_ms = VANISHED - 1;
	ha_election_peers(&e, &settled, &better);
	assert_false(settled);
	e.now_ms = VANISHED + SETTLE;
	ha_election_peers(&e, &settled, &better);
	assert_true(settled);
	/* no peers at all: settled once the list is fresh */
	e = election(NULL, 0, VANISHED + 1);
	ha_election_peers(&e, &settled, &better);
	assert_true(settled);
	assert_false(better);
}

static void
test_election_better_peer(void **state)
{
	HaPeer		peers[2];
	HaElection	e;
	bool		settled,
				better;

	(void) state;
	/* more WAL is better */
	peers[0] = peer("n3", 101, VANISHED + 5);
	e = election(peers, 1, VANISHED + 100);
	ha_election_peers(&e, &settled, &better);
	assert_true(settled);
	assert_true(better);
	/* the same WAL: the smaller name wins */
	peers[0] = peer("n1", 100, VANISHED + 5);
	ha_election_peers(&e, &settled, &better);
	assert_true(better);
	peers[0] = peer("n3", 100, VANISHED + 5);
	ha_election_peers(&e, &settled, &better);
	assert_false(better);
	/* a fenced primary yields only to more WAL, not to a smaller name */
	e.self_in_recovery = false;
	peers[0] = peer("n1", 100, VANISHED + 5);
	ha_election_peers(&e, &settled, &better);
	assert_false(better);
	peers[0].lsn = 101;
	ha_election_peers(&e, &settled, &better);
	assert_true(better);
	/* a better member that cannot be promoted does not count */
	e.self_in_recovery = true;
	peers[0].promotable = false;
	ha_election_peers(&e, &settled, &better);
	assert_false(better);
	/* one better peer among others is enough */
	peers[0] = peer("n3", 50, VANISHED + 5);
	peers[1] = peer("n4", 200, VANISHED + 6);
	e = election(peers, 2, VANISHED + 100);
	ha_election_peers(&e, &settled, &better);
	assert_true(settled);
	assert_true(better);
}

static void
test_member_promotable(void **state)
{
	HaMember	m;

	(void) state;
	memset(&m, 0, sizeof(m));
	strcpy(m.role, HA_ROLE_REPLICA);
	strcpy(m.state, "running");
	m.timeline = 3;
	assert_true(ha_member_running_replica(&m));
	assert_true(ha_member_promotable(&m, 3));
	assert_true(ha_member_promotable(&m, 0));	/* cluster timeline unknown */
	assert_true(ha_member_promotable(&m, 2));
	/* an older timeline than the cluster's */
	assert_false(ha_member_promotable(&m, 4));
	/* tagged nofailover */
	m.tags.nofailover = true;
	assert_true(ha_member_running_replica(&m));
	assert_false(ha_member_promotable(&m, 3));
	m.tags.nofailover = false;
	/* not running */
	strcpy(m.state, "starting");
	assert_false(ha_member_running_replica(&m));
	assert_false(ha_member_promotable(&m, 3));
	/* a primary */
	strcpy(m.state, "running");
	strcpy(m.role, HA_ROLE_MASTER);
	assert_false(ha_member_running_replica(&m));
	assert_false(ha_member_promotable(&m, 3));
}

static HaMember
sync_member(const char *name, uint64_t lsn)
{
	return unit_member(name, HA_ROLE_REPLICA, lsn);
}

static void
test_sync_eligible(void **state)
{
	HaMember	m = sync_member("n2", 100);

	(void) state;
	assert_true(ha_sync_eligible(&m, true, 2));
	assert_false(ha_sync_eligible(&m, false, 2));	/* not heard from */
	assert_false(ha_sync_eligible(&m, true, 3));	/* older (forked) timeline */
	assert_false(ha_sync_eligible(&m, true, 1));	/* not the leader's timeline */
	m.tags.nosync = true;
	assert_false(ha_sync_eligible(&m, true, 2));
	m.tags.nosync = false;
	m.tags.nofailover = true;	/* nofailover does not matter here */
	assert_true(ha_sync_eligible(&m, true, 2));
	strcpy(m.state, "stopped");
	assert_false(ha_sync_eligible(&m, true, 2));
	strcpy(m.state, "running");
	strcpy(m.role, HA_ROLE_MASTER);
	assert_false(ha_sync_eligible(&m, true, 2));
}

static void
test_sync_choose(void **state)
{
	HaMember	ms[4];
	bool		fresh[4] = {true, true, true, true};

	(void) state;
	ms[0] = sync_member("n1", 500);	/* the leader itself */
	strcpy(ms[0].role, HA_ROLE_MASTER);
	ms[1] = sync_member("n2", 100);
	ms[2] = sync_member("n3", 300);
	ms[3] = sync_member("n4", 300);
	/* the most WAL, the first listed on a tie; never the leader */
	assert_int_equal(ha_sync_choose(ms, fresh, 4, "n1", 2, NULL), 2);
	/* a stalled standby is passed over */
	assert_int_equal(ha_sync_choose(ms, fresh, 4, "n1", 2, "n3"), 3);
	/* nosync, stale and forked members are passed over */
	ms[3].tags.nosync = true;
	fresh[2] = false;
	assert_int_equal(ha_sync_choose(ms, fresh, 4, "n1", 2, NULL), 1);
	ms[1].timeline = 1;
	assert_int_equal(ha_sync_choose(ms, fresh, 4, "n1", 2, NULL), -1);
	/* the leader is skipped by name even if it looked eligible */
	ms[0] = sync_member("n1", 900);
	assert_int_equal(ha_sync_choose(ms, fresh, 4, "n1", 2, NULL), -1);
	assert_int_equal(ha_sync_choose(ms, fresh, 0, "n1", 2, NULL), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leader_leads),
		cmocka_unit_test(test_free_key_is_taken_by_running_primary),
		cmocka_unit_test(test_stale_own_key_is_taken_over),
		cmocka_unit_test(test_primary_sees_other_leader_demotes),
		cmocka_unit_test(test_paused),
		cmocka_unit_test(test_manual_failover),
		cmocka_unit_test(test_unreachable_primary_fences),
		cmocka_unit_test(test_fenced_primary_waits_without_zookeeper),
		cmocka_unit_test(test_fenced_primary_keeps_its_key),
		cmocka_unit_test(test_fenced_primary_races_like_a_candidate),
		cmocka_unit_test(test_forked_primary_fences),
		cmocka_unit_test(test_preconditions),
		cmocka_unit_test(test_replica_follows_leader),
		cmocka_unit_test(test_best_replica_races),
		cmocka_unit_test(test_replica_holding_key_promotes),
		cmocka_unit_test(test_replica_must_not_race),
		cmocka_unit_test(test_sync_mode_only_sync_standby),
		cmocka_unit_test(test_sync_mode_last_leader_races),
		cmocka_unit_test(test_switchover_candidate_races),
		cmocka_unit_test(test_lag_ok),
		cmocka_unit_test(test_peer_is_better),
		cmocka_unit_test(test_fence_after),
		cmocka_unit_test(test_gate_verdict),
		cmocka_unit_test(test_commit_replicated),
		cmocka_unit_test(test_action_names),
		cmocka_unit_test(test_promote_nudge),
		cmocka_unit_test(test_stream_nudge),
		cmocka_unit_test(test_switchover_outcome),
		cmocka_unit_test(test_sync_nudge),
		cmocka_unit_test(test_sync_standby_stalled),
		cmocka_unit_test(test_election_settled),
		cmocka_unit_test(test_election_member_list),
		cmocka_unit_test(test_election_better_peer),
		cmocka_unit_test(test_member_promotable),
		cmocka_unit_test(test_sync_eligible),
		cmocka_unit_test(test_sync_choose),
	};

	return cmocka_run_group_tests_name("role", tests, NULL, NULL);
}
