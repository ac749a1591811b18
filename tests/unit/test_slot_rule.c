/*-------------------------------------------------------------------------
 *
 * test_slot_rule.c
 *	  Unit tests for extension/slot_rule.c (which member slots to create,
 *	  drop and advance) and common/slot_name.c (a member's slot name).
 *
 * README rules (section "Replication slots") and the tests that cover them:
 *	  "the slot name is the member name the way Patroni makes it"  test_slot_name
 *	  "the leader keeps one physical slot per other member"        test_leader_creates_slots
 *	  "a replica keeps copies of the other members' slots,
 *	   advanced to what the member has and it has replayed"        test_replica_copies_and_advances
 *	  "a slot of a member gone longer than member_slots_ttl is
 *	   dropped (0: at once)"                                        test_gone_member_ttl
 *	  "slots pg_ha did not create are never touched"                test_foreign_slots_untouched
 *	  "an invalidated slot (wal_status lost) is dropped and
 *	   created again"; a gone member's is reported, kept        test_lost_slot
 *	  "use_slots off: pg_ha's slots are dropped"                    test_use_slots_off
 *	  a nofailover replica keeps no copies                          test_nofailover_replica
 *	  nothing is created or dropped before the members are read     test_members_unknown
 *	  an active slot is neither dropped nor advanced                test_active_slot
 *	  "the leader keeps every permanent slot (/config slots),
 *	   replicas a copy advanced as far as the leader's slot
 *	   (/status) and what they replayed, never further; one
 *	   removed from /config is dropped if pg_ha made it"            test_permanent_slots
 *	  "a permanent slot with a member's name: the member rule"      test_permanent_member_name
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "slot_rule.h"

#define NOW		10000000
#define TTL		1800000

static HaSlotMember three[] = {{"n1", 500}, {"Node-2", 400}, {"node.3", 300}};

static HaSlotFacts
facts(bool primary, const HaSlotHave *slots, int nslots)
{
	HaSlotFacts f;

	memset(&f, 0, sizeof(f));
	f.use_slots = true;
	f.members_known = true;
	f.primary = primary;
	f.self_name = "n1";
	f.replayed_lsn = 450;
	f.now_ms = NOW;
	f.ttl_ms = TTL;
	f.nmembers = 3;
	f.members = three;
	f.nslots = nslots;
	f.slots = slots;
	return f;
}

static HaSlotHave
have(const char *name, bool ours, uint64_t restart_lsn)
{
	HaSlotHave	h;

	memset(&h, 0, sizeof(h));
	strcpy(h.name, name);
	h.physical = true;
	h.ours = ours;
	h.restart_lsn = restart_lsn;
	h.seen_ms = NOW;
	return h;
}

static int
plan(const HaSlotFacts *f, HaSlotAction *a)
{
	return ha_slot_plan(f, a, 16);
}

static void
assert_action(const HaSlotAction *a, HaSlotOp op, const char *name)
{
	if (a->op != op || strcmp(a->name, name) != 0)
		fail_msg("got %s %s, want %s %s", ha_slot_op_name(a->op), a->name,
				 ha_slot_op_name(op), name);
}

static void
test_slot_name(void **state)
{
	char		s[SLOT_NAME_LEN];
	char		longname[100];
	char		small[4];

	(void) state;
	assert_true(slot_name_for_member("Node-2.dc_1", s, sizeof(s)));
	assert_string_equal(s, "node_2_dc_1");
	assert_true(slot_name_for_member("pg1", s, sizeof(s)));
	assert_string_equal(s, "pg1");
	assert_true(slot_name_for_member("a b/c\xc3\xa9", s, sizeof(s)));
	assert_string_equal(s, "a_b_c__");
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_true(slot_name_for_member(longname, s, sizeof(s)));
	assert_int_equal(strlen(s), 63);	/* NAMEDATALEN - 1 */
	assert_false(slot_name_for_member("", s, sizeof(s)));
	assert_string_equal(s, "");
	assert_false(slot_name_for_member("abcd", small, sizeof(small)));
	assert_string_equal(small, "");
}

static void
test_leader_creates_slots(void **state)
{
	HaSlotAction a[16];
	HaSlotHave	slots[1];
	HaSlotFacts f = facts(true, NULL, 0);
	int			n;

	(void) state;
	n = plan(&f, a);
	assert_int_equal(n, 2);		/* not one for itself */
	assert_action(&a[0], HA_SLOT_CREATE, "node_2");
	assert_action(&a[1], HA_SLOT_CREATE, "node_3");

	/* one there already: the other is created; the leader never advances */
	slots[0] = have("node_2", true, 100);
	f = facts(true, slots, 1);
	n = plan(&f, a);
	assert_int_equal(n, 1);
	assert_action(&a[0], HA_SLOT_CREATE, "node_3");
}

static void
test_replica_copies_and_advances(void **state)
{
	HaSlotAction a[16];
	HaSlotHave	slots[2];
	HaSlotFacts f;
	int			n;

	(void) state;
	/* n1 is a replica now: node_2 behind it, node_3 with no copy yet */
	slots[0] = have("node_2", true, 100);
	slots[1] = have("n1", true, 100);	/* its own slot, from when it was a copy elsewhere */
	f = facts(false, slots, 2);
	n = plan(&f, a);
	assert_int_equal(n, 3);
	assert_action(&a[0], HA_SLOT_ADVANCE, "node_2");
	assert_int_equal(a[0].lsn, 400);	/* node-2's position, below the replayed 450 */
	assert_action(&a[1], HA_SLOT_DROP, "n1");	/* a node keeps no slot of its own */
	assert_action(&a[2], HA_SLOT_CREATE, "node_3");

	/* never past what this replica replayed */
	f.replayed_lsn = 350;
	n = plan(&f, a);
	assert_action(&a[0], HA_SLOT_ADVANCE, "node_2");
	assert_int_equal(a[0].lsn, 350);

	/* never backwards, and not without the member's position */
	slots[0].restart_lsn = 420;
	f.replayed_lsn = 450;
	n = plan(&f, a);
	assert_int_equal(n, 2);
	assert_action(&a[0], HA_SLOT_DROP, "n1");
	three[1].lsn = 0;
	slots[0].restart_lsn = 100;
	n = plan(&f, a);
	three[1].lsn = 400;
	assert_int_equal(n, 2);
	assert_action(&a[0], HA_SLOT_DROP, "n1");
}

static void
test_gone_member_ttl(void **state)
{
	HaSlotAction a[16];
	HaSlotHave	slots[1];
	HaSlotFacts f;
	int			n;

	(void) state;
	slots[0] = have("node_4", true, 100);	/* no member node-4 listed */
	slots[0].seen_ms = NOW - TTL + 1;
	f = facts(true, slots, 1);
	n = plan(&f, a);
	assert_int_equal(n, 2);		/* kept: only the creates */
	assert_int_equal(a[0].op, HA_SLOT_CREATE);

	slots[0].seen_ms = NOW - TTL;
	n = plan(&f, a);
	assert_int_equal(n, 3);
	assert_action(&a[0], HA_SLOT_DROP, "node_4");

	/* member_slots_ttl 0: at once */
	slots[0].seen_ms = NOW;
	f.ttl_ms = 0;
	n = plan(&f, a);
	assert_action(&a[0], HA_SLOT_DROP, "node_4");

	/* on a replica too (its copy) */
	f = facts(false, slots, 1);
	slots[0].seen_ms = NOW - TTL - 5;
	n = plan(&f, a);
	assert_action(&a[0], HA_SLOT_DROP, "node_4");
}

static void
test_foreign_slots_untouched(void **state)
{
	HaSlotAction a[16];
	HaSlotHave	slots[3];
	HaSlotFacts f;
	int			n;

	(void) state;
	slots[0] = have("backup_tool", false, 100);	/* not ours, no member's name */
	slots[0].seen_ms = 0;
	slots[1] = have("node_2", false, 0);	/* a physical slot with a member's name */
	slots[2] = have("node_3", false, 0);
	slots[2].physical = false;	/* a logical slot with a member's name */
	f = facts(true, slots, 3);
	f.ttl_ms = 0;
	n = plan(&f, a);
	assert_int_equal(n, 1);
	assert_action(&a[0], HA_SLOT_ADOPT, "node_2");	/* recorded as ours, not re-created */

	/* use_slots off: still untouched */
	f.use_slots = false;
	n = plan(&f, a);
	assert_int_equal(n, 0);
}

static void
test_lost_slot(void **state)
{
	HaSlotAction a[16];
	HaSlotHave	slots[2];
	HaSlotFacts f;
	int			n;

	(void) state;
	slots[0] = have("node_2", true, 0);
	slots[0].lost = true;
	slots[1] = have("node_3", true, 0);
	slots[1].lost = true;
	slots[1].active = true;		/* its walsender still holds it: later */
	f = facts(true, slots, 2);
	n = plan(&f, a);
	assert_int_equal(n, 1);
	assert_action(&a[0], HA_SLOT_DROP_LOST, "node_2");

	/* a gone member's lost slot: reported, kept for the ttl, then dropped */
	f = facts(true, slots, 1);
	f.nmembers = 1;				/* only n1 listed */
	n = plan(&f, a);
	assert_int_equal(n, 1);
	assert_action(&a[0], HA_SLOT_LOST, "node_2");
	slots[0].seen_ms = NOW - TTL;
	n = plan(&f, a);
	assert_action(&a[0], HA_SLOT_DROP, "node_2");
	slots[0].seen_ms = NOW;

	/* on a replica the same: a copy that is lost is no copy */
	f = facts(false, slots, 1);
	n = plan(&f, a);
	assert_int_equal(n, 2);
	assert_action(&a[0], HA_SLOT_DROP_LOST, "node_2");
	assert_action(&a[1], HA_SLOT_CREATE, "node_3");
}

static void
test_use_slots_off(void **state)
{
	HaSlotAction a[16];
	HaSlotHave	slots[2];
	HaSlotFacts f;
	int			n;

	(void) state;
	slots[0] = have("node_2", true, 100);
	slots[1] = have("node_9", true, 100);	/* a gone member's, within the ttl */
	f = facts(true, slots, 2);
	f.use_slots = false;
	n = plan(&f, a);
	assert_int_equal(n, 2);
	assert_action(&a[0], HA_SLOT_DROP, "node_2");
	assert_action(&a[1], HA_SLOT_DROP, "node_9");
}

static void
test_nofailover_replica(void **state)
{
	HaSlotAction a[16];
	HaSlotHave	slots[1];
	HaSlotFacts f;
	int			n;

	(void) state;
	slots[0] = have("node_2", true, 100);
	f = facts(false, slots, 1);
	f.nofailover = true;
	n = plan(&f, a);
	assert_int_equal(n, 1);
	assert_action(&a[0], HA_SLOT_DROP, "node_2");

	/* as a primary (it was promoted by hand) it keeps them */
	f.primary = true;
	n = plan(&f, a);
	assert_int_equal(n, 1);
	assert_action(&a[0], HA_SLOT_CREATE, "node_3");
}

static void
test_members_unknown(void **state)
{
	HaSlotAction a[16];
	HaSlotHave	slots[2];
	HaSlotFacts f;
	int			n;

	(void) state;
	slots[0] = have("node_9", true, 100);
	slots[0].seen_ms = 1;
	slots[1] = have("node_2", true, 100);
	f = facts(false, slots, 2);
	f.members_known = false;
	n = plan(&f, a);
	assert_int_equal(n, 1);		/* only the advance: no drop, no create */
	assert_action(&a[0], HA_SLOT_ADVANCE, "node_2");
}

static void
test_active_slot(void **state)
{
	HaSlotAction a[16];
	HaSlotHave	slots[2];
	HaSlotFacts f;
	int			n;

	(void) state;
	slots[0] = have("node_2", true, 100);
	slots[0].active = true;
	slots[1] = have("node_9", true, 100);
	slots[1].active = true;
	slots[1].seen_ms = 1;
	f = facts(false, slots, 2);
	n = plan(&f, a);
	assert_int_equal(n, 1);
	assert_action(&a[0], HA_SLOT_CREATE, "node_3");

	/* the plan never writes past cap */
	f = facts(true, NULL, 0);
	assert_int_equal(ha_slot_plan(&f, a, 1), 1);
	assert_int_equal(ha_slot_plan(&f, a, 0), 0);
}

static const char declared[][SLOT_NAME_LEN] = {"backup1", "backup2"};
static const uint64_t leader_at[] = {300, 0};	/* backup2's position unknown */

static HaSlotFacts
with_permanent(HaSlotFacts f)
{
	f.permanent_known = true;
	f.npermanent = 2;
	f.permanent = declared;
	f.permanent_lsn = leader_at;
	return f;
}

static HaSlotHave
permanent_have(const char *name, bool ours, uint64_t restart_lsn)
{
	HaSlotHave	h = have(name, ours, restart_lsn);

	h.made_permanent = ours;
	h.seen_ms = NOW - 2 * TTL;	/* no member: a member's rule would have dropped it */
	return h;
}

static void
test_permanent_slots(void **state)
{
	HaSlotAction a[16];
	HaSlotHave	slots[4];
	HaSlotFacts f;
	int			n;

	(void) state;
	/* the leader creates both, after the member slots */
	f = with_permanent(facts(true, NULL, 0));
	n = plan(&f, a);
	assert_int_equal(n, 4);
	assert_action(&a[2], HA_SLOT_CREATE_PERMANENT, "backup1");
	assert_action(&a[3], HA_SLOT_CREATE_PERMANENT, "backup2");

	/* kept while declared, long past member_slots_ttl; a leader never advances */
	slots[0] = have("node_2", true, 100);
	slots[1] = have("node_3", true, 100);
	slots[2] = permanent_have("backup1", true, 100);
	slots[3] = permanent_have("backup2", false, 100);	/* made by hand: left alone */
	f = with_permanent(facts(true, slots, 4));
	assert_int_equal(plan(&f, a), 0);

	/*
	 * A replica creates copies, and advances its own as far as the
	 * leader's slot (300), though it replayed 450: a backup tool on the
	 * next leader resumes there
	 */
	f = with_permanent(facts(false, slots, 3));
	n = plan(&f, a);
	assert_int_equal(n, 4);
	assert_action(&a[2], HA_SLOT_ADVANCE, "backup1");
	assert_int_equal(a[2].lsn, 300);
	assert_action(&a[3], HA_SLOT_CREATE_PERMANENT, "backup2");
	slots[2].restart_lsn = 300;
	n = plan(&f, a);
	assert_int_equal(n, 3);		/* there already */
	assert_action(&a[2], HA_SLOT_CREATE_PERMANENT, "backup2");
	/* no further than it replayed */
	f.replayed_lsn = 200;
	slots[2].restart_lsn = 100;
	n = plan(&f, a);
	assert_action(&a[2], HA_SLOT_ADVANCE, "backup1");
	assert_int_equal(a[2].lsn, 200);
	/* the leader's position unknown: not advanced */
	f.replayed_lsn = 450;
	f.permanent_lsn = NULL;
	n = plan(&f, a);
	assert_int_equal(n, 3);
	assert_action(&a[2], HA_SLOT_CREATE_PERMANENT, "backup2");
	slots[2].restart_lsn = 450;
	f.permanent_lsn = leader_at;
	n = plan(&f, a);
	assert_int_equal(n, 3);		/* never backwards */

	/* the hand-made one is never advanced; an active one neither */
	slots[2].restart_lsn = 100;
	slots[2].active = true;
	f = with_permanent(facts(false, slots, 4));
	n = plan(&f, a);
	assert_int_equal(n, 2);

	/* invalidated: dropped, made again at the next pass */
	slots[2].active = false;
	slots[2].lost = true;
	slots[2].restart_lsn = 0;
	f = with_permanent(facts(true, slots, 3));
	n = plan(&f, a);
	assert_int_equal(n, 2);
	assert_action(&a[0], HA_SLOT_DROP_LOST, "backup1");
	assert_action(&a[1], HA_SLOT_CREATE_PERMANENT, "backup2");
	slots[2].lost = false;
	slots[2].restart_lsn = 100;

	/* removed from /config: ours is dropped at once, the hand-made one stays */
	f = facts(true, slots, 4);
	f.permanent_known = true;
	n = plan(&f, a);
	assert_int_equal(n, 1);
	assert_action(&a[0], HA_SLOT_DROP, "backup1");
	/* ... but not before /config is read, nor while it is in use */
	f.permanent_known = false;
	assert_int_equal(plan(&f, a), 0);
	f.permanent_known = true;
	slots[2].active = true;
	assert_int_equal(plan(&f, a), 0);
	slots[2].active = false;

	/* nothing is created before /config or the members are read */
	f = with_permanent(facts(true, slots, 2));
	f.permanent_known = false;
	assert_int_equal(plan(&f, a), 0);
	f = with_permanent(facts(true, slots, 2));
	f.members_known = false;
	assert_int_equal(plan(&f, a), 0);

	/* use_slots off, or a nofailover replica: ours dropped, none created */
	f = with_permanent(facts(true, slots, 3));
	f.use_slots = false;
	n = plan(&f, a);
	assert_int_equal(n, 3);
	assert_action(&a[2], HA_SLOT_DROP, "backup1");
	f = with_permanent(facts(false, slots + 2, 2));
	f.nofailover = true;
	n = plan(&f, a);
	assert_int_equal(n, 1);
	assert_action(&a[0], HA_SLOT_DROP, "backup1");
}

static void
test_permanent_member_name(void **state)
{
	static const char names[][SLOT_NAME_LEN] = {"node_2", "n1", "gone"};
	HaSlotAction a[16];
	HaSlotHave	slots[2];
	HaSlotFacts f;
	int			n;

	(void) state;
	/* node_2 is a member's: its one slot, no second create; n1 is this node's own: none */
	f = facts(true, NULL, 0);
	f.permanent_known = true;
	f.npermanent = 3;
	f.permanent = names;
	n = plan(&f, a);
	assert_int_equal(n, 3);
	assert_action(&a[0], HA_SLOT_CREATE, "node_2");
	assert_action(&a[1], HA_SLOT_CREATE, "node_3");
	assert_action(&a[2], HA_SLOT_CREATE_PERMANENT, "gone");

	/* a replica advances node_2's copy as a member's (to node-2's position, 400) */
	slots[0] = have("node_2", true, 100);
	slots[1] = have("n1", true, 100);
	f.primary = false;
	f.nslots = 2;
	f.slots = slots;
	n = plan(&f, a);
	assert_action(&a[0], HA_SLOT_ADVANCE, "node_2");
	assert_int_equal(a[0].lsn, 400);
	assert_action(&a[1], HA_SLOT_DROP, "n1");	/* no slot of its own, declared or not */

	/* a member slot declared permanent is kept when its member is gone */
	slots[0] = have("gone", true, 100);
	slots[0].seen_ms = NOW - 2 * TTL;
	f.primary = true;
	f.nslots = 1;
	n = plan(&f, a);
	assert_int_equal(n, 2);
	assert_action(&a[0], HA_SLOT_CREATE, "node_2");
	assert_action(&a[1], HA_SLOT_CREATE, "node_3");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slot_name),
		cmocka_unit_test(test_leader_creates_slots),
		cmocka_unit_test(test_replica_copies_and_advances),
		cmocka_unit_test(test_gone_member_ttl),
		cmocka_unit_test(test_foreign_slots_untouched),
		cmocka_unit_test(test_lost_slot),
		cmocka_unit_test(test_use_slots_off),
		cmocka_unit_test(test_nofailover_replica),
		cmocka_unit_test(test_members_unknown),
		cmocka_unit_test(test_active_slot),
		cmocka_unit_test(test_permanent_slots),
		cmocka_unit_test(test_permanent_member_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
