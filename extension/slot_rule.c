/*-------------------------------------------------------------------------
 *
 * slot_rule.c
 *	  Which member slots to create, drop and advance (see slot_rule.h).
 *	  Pure C, unit-tested in tests/unit/test_slot_rule.c.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "slot_rule.h"

const char *
ha_slot_op_name(HaSlotOp op)
{
	switch (op)
	{
		case HA_SLOT_CREATE:
			return "create";
		case HA_SLOT_CREATE_PERMANENT:
			return "create permanent";
		case HA_SLOT_DROP:
			return "drop";
		case HA_SLOT_DROP_LOST:
			return "drop lost";
		case HA_SLOT_LOST:
			return "report lost";
		case HA_SLOT_ADVANCE:
			return "advance";
		case HA_SLOT_ADOPT:
			return "adopt";
	}
	return "?";
}

/* The member (index) whose slot name is slot, other than this node; -1 none. */
static int
member_of_slot(const HaSlotFacts *f, const char *slot, const char *self_slot)
{
	char		s[SLOT_NAME_LEN];

	for (int i = 0; i < f->nmembers; i++)
	{
		if (!slot_name_for_member(f->members[i].name, s, sizeof(s)) ||
			strcmp(s, self_slot) == 0)
			continue;
		if (strcmp(s, slot) == 0)
			return i;
	}
	return -1;
}

/* Does this node want slots of the other members at all? */
static bool
wants_slots(const HaSlotFacts *f)
{
	/* a replica that never leads needs no copies: no one will stream from it */
	return f->use_slots && (f->primary || !f->nofailover);
}

static const HaSlotHave *
have_slot(const HaSlotFacts *f, const char *name)
{
	for (int i = 0; i < f->nslots; i++)
		if (strcmp(f->slots[i].name, name) == 0)
			return &f->slots[i];
	return NULL;
}

static bool
is_permanent(const HaSlotFacts *f, const char *name)
{
	for (int i = 0; i < f->npermanent; i++)
		if (strcmp(f->permanent[i], name) == 0)
			return true;
	return false;
}

/* How far the leader's permanent slot name has come; 0: unknown. */
static uint64_t
permanent_lsn(const HaSlotFacts *f, const char *name)
{
	for (int i = 0; f->permanent_lsn && i < f->npermanent; i++)
		if (strcmp(f->permanent[i], name) == 0)
			return f->permanent_lsn[i];
	return 0;
}

/* A name the member rule decides: a listed member's slot, or this node's own. */
static bool
member_rule_slot(const HaSlotFacts *f, const char *name, const char *self_slot)
{
	return strcmp(name, self_slot) == 0 || member_of_slot(f, name, self_slot) >= 0;
}

static int
add(HaSlotAction *out, int cap, int n, HaSlotOp op, const char *name, uint64_t lsn)
{
	if (n >= cap)
		return n;
	out[n].op = op;
	strncpy(out[n].name, name, SLOT_NAME_LEN - 1);
	out[n].name[SLOT_NAME_LEN - 1] = '\0';
	out[n].lsn = lsn;
	return n + 1;
}

/* One existing slot: keep it, adopt, advance or drop. */
static int
plan_existing(const HaSlotFacts *f, const HaSlotHave *s, const char *self_slot,
			  HaSlotAction *out, int cap, int n)
{
	int			m;
	uint64_t	target;

	if (!s->physical)
		return n;				/* a logical slot is never a member's */
	m = member_of_slot(f, s->name, self_slot);
	if (m >= 0 && wants_slots(f))
	{
		if (!s->ours)
			return add(out, cap, n, HA_SLOT_ADOPT, s->name, 0);
		if (s->active)
			return n;			/* its walsender keeps it moving */
		if (s->lost)
			return add(out, cap, n, HA_SLOT_DROP_LOST, s->name, 0);
		if (f->primary || s->restart_lsn == 0 || f->members[m].lsn == 0)
			return n;
		/* a copy: no further than the member has, nor than we have replayed */
		target = f->members[m].lsn < f->replayed_lsn ? f->members[m].lsn : f->replayed_lsn;
		if (target > s->restart_lsn)
			return add(out, cap, n, HA_SLOT_ADVANCE, s->name, target);
		return n;
	}
	if (wants_slots(f) && is_permanent(f, s->name) && !member_rule_slot(f, s->name, self_slot))
	{
		/* a permanent slot: kept; one made by hand is left alone */
		if (!s->ours || s->active)
			return n;
		if (s->lost)
			return add(out, cap, n, HA_SLOT_DROP_LOST, s->name, 0);
		/* a copy: no further than the leader's slot, nor than we have replayed */
		target = permanent_lsn(f, s->name);
		if (target > f->replayed_lsn)
			target = f->replayed_lsn;
		if (!f->primary && s->restart_lsn != 0 && target > s->restart_lsn)
			return add(out, cap, n, HA_SLOT_ADVANCE, s->name, target);
		return n;
	}
	if (!s->ours || s->active)
		return n;
	/* a permanent slot no longer declared (or use_slots off): dropped */
	if (s->made_permanent && m < 0)
		return f->permanent_known ? add(out, cap, n, HA_SLOT_DROP, s->name, 0) : n;
	if (!f->members_known)
		return n;
	/* a member that is gone keeps its slot member_slots_ttl long */
	if (m < 0 && wants_slots(f) && strcmp(s->name, self_slot) != 0 &&
		(s->seen_ms == 0 || f->now_ms - s->seen_ms < f->ttl_ms))
		return s->lost ? add(out, cap, n, HA_SLOT_LOST, s->name, 0) : n;
	return add(out, cap, n, HA_SLOT_DROP, s->name, 0);
}

int
ha_slot_plan(const HaSlotFacts *f, HaSlotAction *out, int cap)
{
	char		self_slot[SLOT_NAME_LEN] = "";
	char		s[SLOT_NAME_LEN];
	int			n = 0;

	(void) slot_name_for_member(f->self_name, self_slot, sizeof(self_slot));
	for (int i = 0; i < f->nslots; i++)
		n = plan_existing(f, &f->slots[i], self_slot, out, cap, n);
	if (!wants_slots(f) || !f->members_known)
		return n;
	for (int i = 0; i < f->nmembers; i++)
	{
		bool		dup = false;

		if (!slot_name_for_member(f->members[i].name, s, sizeof(s)) ||
			strcmp(s, self_slot) == 0 || have_slot(f, s) != NULL)
			continue;
		/* two members whose names map to one slot: one slot */
		for (int j = 0; j < n; j++)
			if (out[j].op == HA_SLOT_CREATE && strcmp(out[j].name, s) == 0)
				dup = true;
		if (!dup)
			n = add(out, cap, n, HA_SLOT_CREATE, s, 0);
	}
	for (int i = 0; f->permanent_known && i < f->npermanent; i++)
	{
		const char *p = f->permanent[i];

		if (!member_rule_slot(f, p, self_slot) && have_slot(f, p) == NULL)
			n = add(out, cap, n, HA_SLOT_CREATE_PERMANENT, p, 0);
	}
	return n;
}
