/*-------------------------------------------------------------------------
 *
 * sync_rule.c
 *	  One step of the leader's synchronous standby management (see
 *	  sync_rule.h for the order it keeps).
 *
 *-------------------------------------------------------------------------
 */
#include "sync_rule.h"

static HaSyncStep
step(HaSyncAction action, int64_t named_ms, bool named_now, uint64_t confirm_lsn)
{
	HaSyncStep	s;

	s.action = action;
	s.named_ms = named_ms;
	s.named_now = named_now;
	s.confirm_lsn = confirm_lsn;
	return s;
}

/* The standby /sync names is healthy and does not stall: it stays, and is confirmed in time. */
static HaSyncStep
keep_standby(const HaSyncFacts *f)
{
	bool		named_now = f->named_ms == 0;
	int64_t		named_ms = named_now ? f->now_ms : f->named_ms;

	/* named in this very pass: nothing to confirm against yet */
	if (f->confirmed || f->now_ms == named_ms)
		return step(HA_SYNC_KEEP, named_ms, named_now, f->confirm_lsn);
	/* the walsenders and the checkpointer have had time to reload: take the position */
	if (f->confirm_lsn == 0)
	{
		if (f->now_ms - named_ms >= HA_SYNC_CONFIRM_AFTER_MS)
			return step(HA_SYNC_SET_CONFIRM_POSITION, named_ms, named_now, f->self_lsn);
		return step(HA_SYNC_KEEP, named_ms, named_now, 0);
	}
	if (f->standby_lsn >= f->confirm_lsn)
		return step(HA_SYNC_CONFIRM, named_ms, named_now, f->confirm_lsn);
	return step(HA_SYNC_KEEP, named_ms, named_now, f->confirm_lsn);
}

HaSyncStep
ha_sync_step(const HaSyncFacts *f)
{
	if (f->busy)
		return step(HA_SYNC_NOTHING, f->named_ms, false, f->confirm_lsn);
	if (!f->sync_mode)
		return step(HA_SYNC_APPLY_NAMES, f->named_ms, false, f->confirm_lsn);
	if (f->leads_sync && f->has_standby && f->healthy && !f->stalled)
		return keep_standby(f);
	/* a new standby starts unnamed and unconfirmed */
	if (f->best >= 0)
		return step(HA_SYNC_NAME, 0, false, 0);
	/* a stalled standby with no replacement stays named: a stall never turns it off */
	if (f->stalled)
		return step(HA_SYNC_APPLY_NAMES, f->named_ms, false, f->confirm_lsn);
	if (f->leads_sync && f->has_standby && !f->strict)
		return step(HA_SYNC_CLEAR, f->named_ms, false, f->confirm_lsn);
	if (!f->leads_sync)
		return step(HA_SYNC_CLAIM_EMPTY, f->named_ms, false, f->confirm_lsn);
	return step(HA_SYNC_APPLY_NAMES, f->named_ms, false, f->confirm_lsn);
}

const char *
ha_sync_action_name(HaSyncAction a)
{
	switch (a)
	{
		case HA_SYNC_NOTHING:
			return "nothing";
		case HA_SYNC_APPLY_NAMES:
			return "apply names";
		case HA_SYNC_KEEP:
			return "keep";
		case HA_SYNC_SET_CONFIRM_POSITION:
			return "set confirm position";
		case HA_SYNC_CONFIRM:
			return "confirm";
		case HA_SYNC_NAME:
			return "name";
		case HA_SYNC_CLEAR:
			return "clear";
		case HA_SYNC_CLAIM_EMPTY:
			return "claim empty";
	}
	return "unknown";
}
