/*-------------------------------------------------------------------------
 *
 * ha_sync.c
 *	  The leader's synchronous standby (README "Synchronous mode"): names
 *	  one in /sync, then in synchronous_standby_names (never the reverse),
 *	  confirms it once it has caught up, replaces a stalled or unhealthy
 *	  one, and clears it when none is left and the mode is not strict.  The
 *	  choice is role.c's (ha_sync_eligible, ha_sync_choose), each step
 *	  sync_rule.c's (ha_sync_step).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "access/xlogdefs.h"
#include "replication/message.h"
#include "replication/syncrep.h"
#include "replication/walsender.h"
#include "replication/walsender_private.h"
#include "storage/lwlock.h"

#include "ha_agent.h"
#include "ha_guc.h"
#include "ha_local.h"
#include "sync_rule.h"

static char *
quoted_standby(const char *name)
{
	/* names may hold "-" or ".": quote them for synchronous_standby_names */
	return psprintf("FIRST 1 (\"%s\")", name);
}

/* synchronous_standby_names for what /sync says now (non-strict/strict). */
static void
apply_sync_names(void)
{
	const char *standby = agent.view.sync_standby;

	if (!ha_synchronous_mode)
		ha_write_runtime_conf("", "", "");
	else if (standby[0] && strcmp(agent.sync_leader, agent.view.self.name) == 0)
		ha_write_runtime_conf("", "", quoted_standby(standby));
	else
		ha_write_runtime_conf("", "", ha_synchronous_mode_strict ? "*" : "");
}

/* Our /sync write succeeded (ha_session.c recorded it): apply the name. */
void
sync_apply_written(void)
{
	if (!agent.sync_written)
		return;
	agent.sync_written = false;
	/*
	 * /sync first, then synchronous_standby_names, never the reverse
	 * (DESIGN.md, section 3 "Synchronous mode")
	 */
	if (agent.view.sync_standby[0])
		agent.sync_named_ms = 0;	/* set when the name takes effect below */
	apply_sync_names();
}

/* What synchronous replication has released: commits up to it are acknowledged. */
XLogRecPtr
sync_released_lsn(void)
{
	XLogRecPtr	released;

	LWLockAcquire(SyncRepLock, LW_SHARED);
	released = WalSndCtl->lsn[SYNC_REP_WAIT_FLUSH];
	LWLockRelease(SyncRepLock);
	return released;
}

/*
 * The most WAL a streaming standby that synchronous replication does not
 * wait for has flushed (0 if none).
 */
static XLogRecPtr
other_standbys_flushed(void)
{
	XLogRecPtr	best = InvalidXLogRecPtr;

	for (int i = 0; i < max_wal_senders; i++)
	{
		WalSnd	   *w = &WalSndCtl->walsnds[i];
		XLogRecPtr	flush;
		bool		counts;

		SpinLockAcquire(&w->mutex);
		counts = w->pid != 0 && w->state == WALSNDSTATE_STREAMING &&
			w->sync_standby_priority == 0;
		flush = w->flush;
		SpinLockRelease(&w->mutex);
		if (counts && flush > best)
			best = flush;
	}
	return best;
}

/*
 * Does the named synchronous standby hold commits back (see
 * ha_sync_standby_stalled)?  The clock starts when it was named, and again
 * whenever the released position moves or nothing waits.
 */
static bool
sync_standby_stalled(int64 now)
{
	XLogRecPtr	released = sync_released_lsn();
	XLogRecPtr	flushed = GetFlushRecPtr(NULL);

	if (agent.sync_named_ms == 0)
		return false;
	if (released != agent.sync_released || released >= flushed ||
		agent.sync_progress_ms < agent.sync_named_ms)
	{
		agent.sync_released = released;
		agent.sync_progress_ms = Max(now, agent.sync_named_ms);
	}
	if (now - agent.sync_progress_ms < HA_SYNC_STALL_MS)
		return false;			/* spare the walsender scan */
	return ha_sync_standby_stalled(released, flushed, now - agent.sync_progress_ms,
								   other_standbys_flushed());
}

/*
 * Gives the synchronous standby just named something to flush and reply to
 * (see ha_sync_nudge in role.h): a non-transactional logical message, which
 * recovery replays as a no-op and logical decoding skips (it belongs to no
 * database).
 */
static void
nudge_sync_standby(int64 now)
{
	static const char note[] = "synchronous standby named";
	XLogRecPtr	released;
	XLogRecPtr	lsn;

	if (agent.sync_named_ms == 0 || RecoveryInProgress())
		return;
	released = sync_released_lsn();
	if (!ha_sync_nudge(now - agent.sync_named_ms, now - agent.sync_nudged_ms,
					   released, GetFlushRecPtr(NULL)))
		return;
	lsn = LogLogicalMessage("pg_ha", note, sizeof(note), false);
	XLogFlush(lsn);
	agent.sync_nudged_ms = now;
}

/*
 * Keeps one healthy replica as the synchronous standby: gathers the facts
 * of this pass for sync_rule.c's step and carries out its action.  Order
 * matters for S2 (see sync_rule.h): a standby is recorded in /sync
 * (unconfirmed) before it is named in synchronous_standby_names (once our
 * write is answered: sync_apply_written), and confirmed (promotable) only
 * once it has everything written before it was named; a standby is
 * removed from /sync before it is dropped from synchronous_standby_names.
 */
void
sync_manage_standby(int64 now)
{
	const HaMember *self = &agent.view.self;
	bool		leads = strcmp(agent.sync_leader, self->name) == 0;
	const char *current = leads ? agent.view.sync_standby : "";
	const HaMember *cur = session_member(current);
	const HaMember *best = NULL;
	bool		fresh[HA_MAX_MEMBERS];
	HaSyncFacts f;
	HaSyncStep	st;

	memset(&f, 0, sizeof(f));
	f.busy = agent.inflight[OP_SYNC_SET] > 0 || agent.inflight[OP_SYNC_CREATE] > 0 ||
		!agent.sync_known;
	f.sync_mode = ha_synchronous_mode;
	f.strict = ha_synchronous_mode_strict;
	f.leads_sync = leads;
	f.has_standby = current[0] != '\0';
	f.confirmed = agent.sync_confirmed;
	f.best = -1;
	f.now_ms = now;
	f.named_ms = agent.sync_named_ms;
	f.confirm_lsn = agent.sync_confirm_lsn;
	f.standby_lsn = cur ? cur->xlog_location : 0;
	f.self_lsn = self->xlog_location;
	/* the stall clock and the choice only when they can matter */
	if (!f.busy && f.sync_mode)
	{
		f.healthy = cur && ha_sync_eligible(cur, session_member_fresh(current, now), self->timeline);
		f.stalled = f.healthy && sync_standby_stalled(now);
		if (!f.healthy || f.stalled)
		{
			for (int i = 0; i < agent.view.nmembers; i++)
				fresh[i] = session_member_fresh(agent.view.members[i].name, now);
			f.best = ha_sync_choose(agent.view.members, fresh, agent.view.nmembers, self->name,
									self->timeline, f.stalled ? current : NULL);
			best = f.best < 0 ? NULL : &agent.view.members[f.best];
		}
	}

	st = ha_sync_step(&f);
	agent.sync_named_ms = st.named_ms;
	agent.sync_confirm_lsn = st.confirm_lsn;
	if (st.named_now)
		agent.sync_nudged_ms = 0;

	switch (st.action)
	{
		case HA_SYNC_NOTHING:
			break;
		case HA_SYNC_APPLY_NAMES:
			apply_sync_names();
			break;
		case HA_SYNC_KEEP:
		case HA_SYNC_SET_CONFIRM_POSITION:
		case HA_SYNC_CONFIRM:
			apply_sync_names();
			nudge_sync_standby(now);
			if (st.action != HA_SYNC_CONFIRM)
				break;
			ereport(LOG,
					(errmsg("pg_ha: \"%s\" is now the synchronous standby (confirmed at %X/%X)",
							current, LSN_FORMAT_ARGS(agent.sync_confirm_lsn))));
			session_write_sync(self->name, current, true);
			break;
		case HA_SYNC_NAME:
			ereport(LOG,
					(errmsg("pg_ha: choosing \"%s\" as synchronous standby%s%s", best->name,
							current[0] ? " instead of " : "", current),
					 f.stalled ? errdetail("\"%s\" has let commits wait for " INT64_FORMAT " ms without acknowledging any, while another standby has flushed them.",
										   current, now - agent.sync_progress_ms) : 0));
			session_write_sync(self->name, best->name, false);
			break;
		case HA_SYNC_CLEAR:
			ereport(LOG,
					(errmsg("pg_ha: no healthy synchronous standby: commits no longer wait for \"%s\"",
							current),
					 errdetail("synchronous_mode_strict is off, so writes go on without a synchronous standby.")));
			session_write_sync(self->name, "", false);
			break;
		case HA_SYNC_CLAIM_EMPTY:
			session_write_sync(self->name, "", false);
			break;
	}
}
