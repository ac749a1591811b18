/*-------------------------------------------------------------------------
 *
 * stranded_rule.c
 *	  Whether a replica is stranded, and whether it is re-cloned (see
 *	  stranded_rule.h).  Pure; unit-tested in tests/unit/test_stranded_rule.c.
 *
 *-------------------------------------------------------------------------
 */
#include "stranded_rule.h"

int64_t
ha_stranded_bound_ms(const HaStrandedFacts *f)
{
	return f->archive ? HA_STRANDED_ARCHIVE_AFTER_MS : HA_STRANDED_AFTER_MS;
}

HaStranded
ha_stranded(const HaStrandedFacts *f)
{
	uint64_t	segment_start;

	if (!f->in_recovery || !f->leader_primary || f->behind_timeline || f->replay_paused)
		return HA_STRANDED_NO;
	if (f->leader_wal_oldest == 0 || f->segment_size == 0)
		return HA_STRANDED_NO;
	/* streaming resumes at the start of the segment that holds the position */
	segment_start = f->resume_lsn - f->resume_lsn % f->segment_size;
	if (segment_start >= f->leader_wal_oldest)
		return HA_STRANDED_NO;
	if (f->still_since_ms == 0 || f->now_ms - f->still_since_ms < ha_stranded_bound_ms(f))
		return HA_STRANDED_WAITING;
	return HA_STRANDED_YES;
}

int64_t
ha_reclone_backoff_s(int attempts)
{
	int64_t		s = HA_RECLONE_BACKOFF_S;

	for (int i = 1; i < attempts && s < HA_RECLONE_BACKOFF_MAX_S; i++)
		s *= 2;
	return s < HA_RECLONE_BACKOFF_MAX_S ? s : HA_RECLONE_BACKOFF_MAX_S;
}

HaReclone
ha_reclone_judge(const HaRecloneFacts *f)
{
	int64_t		elapsed;

	if (!f->stranded)
		return HA_RECLONE_NONE;
	if (!f->enabled)
		return HA_RECLONE_OFF;
	if (f->paused)
		return HA_RECLONE_PAUSED;
	if (!f->supervised)
		return HA_RECLONE_UNSUPERVISED;
	if (f->attempts > 0)
	{
		elapsed = f->now_s - f->last_attempt_s;
		/* a clock set back: wait as if it was just now, but no longer than the longest */
		if (elapsed < 0)
			elapsed = -elapsed > HA_RECLONE_BACKOFF_MAX_S ? HA_RECLONE_BACKOFF_MAX_S : 0;
		if (elapsed < ha_reclone_backoff_s(f->attempts))
			return HA_RECLONE_BACKOFF;
	}
	return HA_RECLONE_ASK;
}
