/*-------------------------------------------------------------------------
 *
 * ha_slots.c
 *	  Member replication slots (Patroni's use_slots, member_slots_ttl):
 *	  gathers the facts for slot_rule.c's plan and carries it out on this
 *	  node's postgres.
 *
 * The agent has no database connection, so it works with the slot
 * functions of the server itself, as slotfuncs.c does for
 * pg_create_physical_replication_slot, pg_drop_replication_slot and
 * pg_replication_slot_advance of a physical slot (all three work on a
 * standby too).  None of them waits: a slot in use is skipped (its
 * walsender moves it), the slot locks are held for moments.  An error
 * (max_replication_slots too small, a full disk) ends only that action:
 * it is logged once, as a WARNING, and tried again at the next pass.
 *
 * Which slots pg_ha made is kept beside the slots (HA_SLOTS_FILE), so that
 * a slot of a member that is gone can be told from one pg_ha did not make,
 * which is never touched; a permanent slot (/config "slots") is marked so,
 * to be dropped once it is no longer declared.  The record lives in
 * pg_replslot/, whose plain files postgres skips, so it shares the slots'
 * fate: pg_basebackup does not copy it, pg_rewind removes it with them, a
 * restart in place keeps both.  When a member was last listed is kept in
 * memory only: after a restart of the agent a gone member's slot gets the
 * whole member_slots_ttl again.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "access/xlogrecovery.h"
#include "replication/slot.h"
#include "storage/fd.h"
#include "storage/lwlock.h"
#include "storage/spin.h"
#include "utils/memutils.h"

#include "ha_agent.h"
#include "ha_guc.h"
#include "ha_local.h"
#include "slot_name.h"
#include "slot_rule.h"

/* the slots pg_ha made, one name a line ("<name> permanent" for a permanent slot) */
#define HA_SLOTS_FILE	"pg_replslot/pg_ha.slots"
/* where earlier builds kept it: read if HA_SLOTS_FILE is absent, removed once that is written */
#define HA_SLOTS_FILE_OLD	"pg_ha.slots"

/* the most slots this looks at: max_replication_slots' own maximum is far more */
#define HA_SLOTS_MAX	(2 * HA_MAX_MEMBERS + 32)

typedef struct OurSlot
{
	char		name[SLOT_NAME_LEN];
	int64		seen_ms;		/* its member was last listed (or we first saw it) */
	bool		permanent;		/* made as a permanent slot (/config "slots") */
} OurSlot;

/* A name and a text: the last error logged for a slot, or a slot that was lost. */
typedef struct SlotNote
{
	char		name[SLOT_NAME_LEN];
	char		text[256];
} SlotNote;

static bool record_loaded = false;
static int	nours = 0;
static OurSlot ours[HA_SLOTS_MAX];
static int	nerrors = 0;
static SlotNote errors[HA_SLOTS_MAX];
static int	nlost = 0;
static SlotNote lost[HA_MAX_MEMBERS];	/* reported until used again */
static int64 next_pass_ms = 0;
static int64 listed_ms = 0;		/* the member list the last pass saw */
static uint32 permanent_gen = 0;	/* the permanent slots the last pass saw */

static SlotNote *
find_note(SlotNote *notes, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(notes[i].name, name) == 0)
			return &notes[i];
	return NULL;
}

/* Sets (text not NULL) or clears a slot's note; false if it was set to text already. */
static bool
set_note(SlotNote *notes, int *n, int cap, const char *name, const char *text)
{
	SlotNote   *e = find_note(notes, *n, name);

	if (text == NULL)
	{
		if (e)
			*e = notes[--*n];
		return e != NULL;
	}
	if (e && strcmp(e->text, text) == 0)
		return false;
	if (e == NULL && *n < cap)
	{
		e = &notes[(*n)++];
		strlcpy(e->name, name, sizeof(e->name));
	}
	if (e)
		strlcpy(e->text, text, sizeof(e->text));
	return true;
}

static OurSlot *
find_ours(const char *name)
{
	for (int i = 0; i < nours; i++)
		if (strcmp(ours[i].name, name) == 0)
			return &ours[i];
	return NULL;
}

static OurSlot *
add_ours(const char *name, int64 now)
{
	OurSlot    *o = find_ours(name);

	if (o == NULL && nours < HA_SLOTS_MAX)
	{
		o = &ours[nours++];
		memset(o, 0, sizeof(*o));
		strlcpy(o->name, name, sizeof(o->name));
		o->seen_ms = now;
	}
	return o;
}

static void
remove_ours(const char *name)
{
	OurSlot    *o = find_ours(name);

	if (o == NULL)
		return;
	*o = ours[--nours];
}

/* Reads HA_SLOTS_FILE once (it may be absent: no slot made yet). */
static void
load_record(int64 now)
{
	FILE	   *f;
	char		line[SLOT_NAME_LEN + 16];
	char	   *blank;
	OurSlot    *o;

	record_loaded = true;
	f = AllocateFile(HA_SLOTS_FILE, "r");
	if (f == NULL && errno == ENOENT)
		f = AllocateFile(HA_SLOTS_FILE_OLD, "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f))
	{
		line[strcspn(line, "\r\n")] = '\0';
		blank = strchr(line, ' ');
		if (blank)
			*blank++ = '\0';
		if (line[0] && ReplicationSlotValidateName(line, DEBUG1) &&
			(o = add_ours(line, now)) != NULL)
			o->permanent = blank && strcmp(blank, "permanent") == 0;
	}
	FreeFile(f);
}

/* Writes HA_SLOTS_FILE when the set of our slots changed. */
static void
save_record(void)
{
	StringInfoData s;

	initStringInfo(&s);
	for (int i = 0; i < nours; i++)
		appendStringInfo(&s, "%s%s\n", ours[i].name, ours[i].permanent ? " permanent" : "");
	if (ha_write_file_durably(HA_SLOTS_FILE, s.data))
		(void) unlink(HA_SLOTS_FILE_OLD);
	pfree(s.data);
}

/* The slots of this postgres, as pg_replication_slots shows them. */
static int
read_slots(HaSlotHave *have, int cap)
{
	int			n = 0;

	LWLockAcquire(ReplicationSlotControlLock, LW_SHARED);
	for (int i = 0; i < max_replication_slots && n < cap; i++)
	{
		ReplicationSlot *s = &ReplicationSlotCtl->replication_slots[i];
		HaSlotHave *h = &have[n];
		XLogRecPtr	invalidated_at;

		if (!s->in_use)
			continue;
		memset(h, 0, sizeof(*h));
		SpinLockAcquire(&s->mutex);
		strlcpy(h->name, NameStr(s->data.name), sizeof(h->name));
		/* a temporary slot is a session's: never a member's */
		h->physical = s->data.database == InvalidOid &&
			s->data.persistency == RS_PERSISTENT;
		h->active = s->active_pid != 0;
		h->restart_lsn = s->data.restart_lsn;
		invalidated_at = s->data.invalidated_at;
		SpinLockRelease(&s->mutex);
		h->lost = h->restart_lsn == InvalidXLogRecPtr && invalidated_at != InvalidXLogRecPtr;
		n++;
	}
	LWLockRelease(ReplicationSlotControlLock);
	return n;
}

/* What the slot functions do for a physical slot, without a transaction. */
static void
create_slot(const char *name)
{
	CheckSlotRequirements();
	ReplicationSlotCreate(name, false, RS_PERSISTENT, false);
	ReplicationSlotReserveWal();
	ReplicationSlotMarkDirty();
	ReplicationSlotSave();
	ReplicationSlotRelease();
	ReplicationSlotsComputeRequiredLSN();
}

static void
advance_slot(const char *name, XLogRecPtr lsn)
{
	ReplicationSlotAcquire(name, true);
	if (MyReplicationSlot->data.restart_lsn != InvalidXLogRecPtr &&
		MyReplicationSlot->data.restart_lsn < lsn)
	{
		SpinLockAcquire(&MyReplicationSlot->mutex);
		MyReplicationSlot->data.restart_lsn = lsn;
		SpinLockRelease(&MyReplicationSlot->mutex);
		/* saved at the next checkpoint or restartpoint, as the SQL function does */
		ReplicationSlotMarkDirty();
	}
	ReplicationSlotRelease();
	ReplicationSlotsComputeRequiredLSN();
}

/*
 * Carries out one action.  An error is caught here: the slot is released,
 * the slot locks too, and the message is logged once as a WARNING (again
 * only when it changes); false then.
 */
static bool
do_action(const HaSlotAction *a)
{
	MemoryContext cxt = CurrentMemoryContext;
	ErrorData  *volatile edata = NULL;

	PG_TRY();
	{
		switch (a->op)
		{
			case HA_SLOT_LOST:
				break;
			case HA_SLOT_CREATE:
			case HA_SLOT_CREATE_PERMANENT:
				create_slot(a->name);
				break;
			case HA_SLOT_DROP:
			case HA_SLOT_DROP_LOST:
				ReplicationSlotDrop(a->name, true);
				break;
			case HA_SLOT_ADVANCE:
				advance_slot(a->name, (XLogRecPtr) a->lsn);
				break;
			case HA_SLOT_ADOPT:
				break;
		}
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		/* the slot locks first: releasing the slot takes ProcArrayLock */
		LWLockReleaseAll();
		if (MyReplicationSlot != NULL)
			ReplicationSlotRelease();
	}
	PG_END_TRY();

	if (edata == NULL)
	{
		if (set_note(errors, &nerrors, lengthof(errors), a->name, NULL))
			ereport(LOG,
					(errmsg("pg_ha: replication slot \"%s\": %s succeeded after an error",
							a->name, ha_slot_op_name(a->op))));
		return true;
	}
	if (set_note(errors, &nerrors, lengthof(errors), a->name, edata->message))
		ereport(WARNING,
				(errmsg("pg_ha: could not %s replication slot \"%s\"",
						ha_slot_op_name(a->op), a->name),
				 errdetail_internal("%s", edata->message),
				 errhint("%s", edata->hint ? edata->hint :
						 "The agent tries again every few seconds; check max_replication_slots and the server log.")));
	FreeErrorData(edata);
	return false;
}

/* The slots that were invalidated, for ha_status(): "a, b" */
static void
publish_lost(void)
{
	char		text[sizeof(agent.view.slots_lost)] = "";

	for (int i = 0; i < nlost; i++)
	{
		if (text[0])
			strlcat(text, ", ", sizeof(text));
		strlcat(text, lost[i].name, sizeof(text));
	}
	if (strcmp(text, agent.view.slots_lost) != 0)
	{
		strlcpy(agent.view.slots_lost, text, sizeof(agent.view.slots_lost));
		agent.view_dirty = true;
	}
}

/*
 * The member list is current and this node is in it (a list read before
 * our own member key was made is not).  A row whose data is not read yet
 * has its name, which is all a slot needs; its position is 0 until then.
 */
static bool
members_known(int64 now)
{
	if (!session_reachable(now) || agent.members_listed_ms == 0 || agent.members_stale)
		return false;
	return session_member_index(agent.view.self.name) >= 0;
}

const char *
slots_primary_slot_name(void)
{
	static char name[SLOT_NAME_LEN];

	if (!ha_use_slots || !slot_name_for_member(agent.view.self.name, name, sizeof(name)))
		return "";
	return name;
}

/*
 * Where the permanent slots are: the leader's own go into /status (for
 * the replicas), a replica takes the leader's from /status.
 */
static void
permanent_positions(const HaSlotFacts *f, uint64_t *lsn)
{
	agent.nown_slots = 0;
	for (int i = 0; i < f->npermanent; i++)
	{
		lsn[i] = 0;
		if (f->primary)
		{
			for (int j = 0; j < f->nslots; j++)
				if (f->slots[j].physical && f->slots[j].restart_lsn != 0 &&
					strcmp(f->slots[j].name, f->permanent[i]) == 0 &&
					agent.nown_slots < HA_STATUS_MAX_SLOTS)
				{
					HaStatusSlot *o = &agent.own_slots[agent.nown_slots++];

					strlcpy(o->name, f->permanent[i], sizeof(o->name));
					o->lsn = f->slots[j].restart_lsn;
				}
			continue;
		}
		for (int j = 0; j < agent.nleader_slots; j++)
			if (strcmp(agent.leader_slots[j].name, f->permanent[i]) == 0)
				lsn[i] = agent.leader_slots[j].lsn;
	}
}

void
slots_manage(int64 now)
{
	HaSlotMember members[HA_MAX_MEMBERS];
	HaSlotHave	have[HA_SLOTS_MAX];
	HaSlotAction actions[HA_SLOT_MAX_ACTIONS(HA_SLOTS_MAX, HA_MAX_MEMBERS, HA_DYN_MAX_SLOTS)];
	uint64_t	permanent_lsn[HA_DYN_MAX_SLOTS];
	HaSlotFacts f;
	int			nactions;
	bool		changed = false;
	bool		known = members_known(now);

	/*
	 * Not before the startup process has restored the slots from disk
	 * (replay begins only after that): the record would be pruned of every
	 * slot, and a permanent one would look made by hand.
	 */
	if (RecoveryInProgress() && GetXLogReplayRecPtr(NULL) == InvalidXLogRecPtr)
		return;
	/* a new member list (a new replica waits for its slot), new permanent slots: at once */
	if (now < next_pass_ms && agent.members_listed_ms == listed_ms &&
		agent.permanent_slots_gen == permanent_gen)
		return;
	listed_ms = agent.members_listed_ms;
	permanent_gen = agent.permanent_slots_gen;
	next_pass_ms = now + Max(ha_loop_wait, 1) * 1000;
	if (!record_loaded)
		load_record(now);

	memset(&f, 0, sizeof(f));
	f.use_slots = ha_use_slots;
	f.members_known = known;
	f.primary = !RecoveryInProgress();
	f.nofailover = ha_nofailover;
	f.self_name = agent.view.self.name;
	f.replayed_lsn = f.primary ? 0 : GetXLogReplayRecPtr(NULL);
	f.now_ms = now;
	f.ttl_ms = (int64) ha_member_slots_ttl * 1000;
	for (int i = 0; i < agent.view.nmembers; i++)
	{
		members[i].name = agent.view.members[i].name;
		members[i].lsn = agent.view.members[i].xlog_location;
	}
	f.nmembers = agent.view.nmembers;
	f.members = members;
	f.nslots = read_slots(have, lengthof(have));
	f.slots = have;
	f.permanent_known = agent.permanent_slots_known;
	f.npermanent = agent.npermanent_slots;
	f.permanent = (const char (*)[SLOT_NAME_LEN]) agent.permanent_slots;
	f.permanent_lsn = permanent_lsn;
	permanent_positions(&f, permanent_lsn);

	/* ours: what the record says and still exists; a listed member's is seen now */
	for (int i = nours - 1; i >= 0; i--)
	{
		bool		exists = false;

		for (int j = 0; j < f.nslots; j++)
			if (strcmp(have[j].name, ours[i].name) == 0)
				exists = true;
		if (!exists)
		{
			remove_ours(ours[i].name);
			changed = true;
		}
	}
	for (int j = 0; j < f.nslots; j++)
	{
		OurSlot    *o = find_ours(have[j].name);
		char		s[SLOT_NAME_LEN];

		if (o == NULL)
			continue;
		have[j].ours = true;
		have[j].made_permanent = o->permanent;
		for (int i = 0; known && i < f.nmembers; i++)
			if (slot_name_for_member(members[i].name, s, sizeof(s)) && strcmp(s, o->name) == 0)
				o->seen_ms = now;
		have[j].seen_ms = o->seen_ms;
		if (have[j].active && set_note(lost, &nlost, lengthof(lost), o->name, NULL))
			ereport(LOG,
					(errmsg("pg_ha: replication slot \"%s\" is in use again", o->name)));
	}

	nactions = ha_slot_plan(&f, actions, lengthof(actions));
	for (int i = 0; i < nactions; i++)
	{
		const HaSlotAction *a = &actions[i];
		OurSlot    *o;

		if ((a->op == HA_SLOT_DROP_LOST || a->op == HA_SLOT_LOST) &&
			set_note(lost, &nlost, lengthof(lost), a->name, "lost"))
			ereport(WARNING,
					(errmsg("pg_ha: the replication slot \"%s\" was invalidated: the WAL its member needs is gone",
							a->name),
					 errdetail(a->op == HA_SLOT_LOST ?
							   "It held more than max_slot_wal_keep_size (%d MB); its member is gone, the slot is kept for member_slots_ttl." :
							   "It held more than max_slot_wal_keep_size (%d MB); the slot is dropped and made again.",
							   max_slot_wal_keep_size_mb),
					 errhint("If that member cannot find its WAL, clone it again (patronictl reinit, or ha_reinitialize()).")));
		if (!do_action(a))
			continue;
		switch (a->op)
		{
			case HA_SLOT_CREATE:
				ereport(LOG, (errmsg("pg_ha: created replication slot \"%s\"%s", a->name,
									 f.primary ? "" : " (a copy, for when this replica leads)")));
				(void) add_ours(a->name, now);
				changed = true;
				break;
			case HA_SLOT_CREATE_PERMANENT:
				ereport(LOG, (errmsg("pg_ha: created permanent replication slot \"%s\"%s", a->name,
									 f.primary ? "" : " (a copy, for when this replica leads)"),
							  errdetail("It is declared in /config \"slots\"; it is kept while it is declared.")));
				if ((o = add_ours(a->name, now)) != NULL)
					o->permanent = true;
				changed = true;
				break;
			case HA_SLOT_ADOPT:
				(void) add_ours(a->name, now);
				ereport(LOG, (errmsg("pg_ha: replication slot \"%s\" has a member's name: pg_ha manages it from now on",
									 a->name)));
				changed = true;
				break;
			case HA_SLOT_DROP:
				o = find_ours(a->name);
				if (o && o->permanent)
					ereport(LOG, (errmsg("pg_ha: dropped permanent replication slot \"%s\"", a->name),
								  errdetail("It is no longer declared in /config \"slots\", use_slots is off, or this node needs no copy of it.")));
				else
					ereport(LOG, (errmsg("pg_ha: dropped replication slot \"%s\"", a->name),
								  errdetail("Its member is gone (member_slots_ttl %d s), use_slots is off, or this node needs no copy of it.",
											ha_member_slots_ttl)));
				remove_ours(a->name);
				(void) set_note(lost, &nlost, lengthof(lost), a->name, NULL);
				changed = true;
				break;
			case HA_SLOT_DROP_LOST:
				/* made again at the next pass; reported until its member uses it */
				remove_ours(a->name);
				changed = true;
				break;
			case HA_SLOT_ADVANCE:
			case HA_SLOT_LOST:
				break;
		}
	}
	if (changed)
		save_record();
	publish_lost();
}
