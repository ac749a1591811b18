/*-------------------------------------------------------------------------
 *
 * stranded_rule.h
 *	  Whether a replica is stranded (the WAL it needs next is gone from its
 *	  leader, and from the archive if it has one), and whether its agent
 *	  asks its supervisor to re-clone it (README "Stranded replicas"), as
 *	  pure functions of facts ha_stranded.c gathers.
 *
 * The leader publishes in its member key the oldest WAL it still has
 * (wal_oldest: the start of the segment after the last one its checkpoints
 * removed).  A replica resumes streaming at the start of the segment that
 * holds its position (the end of what it received or replayed); if that is
 * older than the leader's wal_oldest, the leader can never send it.  Only
 * an archive (restore_command) can still help, and a replica whose position
 * advances is not stranded.  So: position before the leader's wal_oldest,
 * and no progress for HA_STRANDED_AFTER_MS (HA_STRANDED_ARCHIVE_AFTER_MS
 * with a restore_command, the archive's time to deliver).
 *
 * Not the WAL receiver's state: it is restarted every
 * wal_retrieve_retry_interval and reports "streaming" while it tries, so
 * "not streaming for N seconds" never holds; no progress does.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STRANDED_RULE_H
#define STRANDED_RULE_H

#include <stdbool.h>
#include <stdint.h>

/* No progress this long, the WAL needed gone from the leader: stranded. */
#define HA_STRANDED_AFTER_MS			10000
/* ... with a restore_command: the archive's time to deliver the WAL. */
#define HA_STRANDED_ARCHIVE_AFTER_MS	60000
/* Between automatic re-clones of one data directory: the first waits this, doubling ... */
#define HA_RECLONE_BACKOFF_S			60
/* ... up to this. */
#define HA_RECLONE_BACKOFF_MAX_S		3600

typedef enum HaStranded
{
	HA_STRANDED_NO,				/* streams, or can: the leader has its WAL */
	HA_STRANDED_WAITING,		/* the leader lacks its WAL; the bound not reached */
	HA_STRANDED_YES				/* stranded: only a re-clone brings it back */
} HaStranded;

typedef struct HaStrandedFacts
{
	bool		in_recovery;	/* this node is a standby */
	bool		leader_primary; /* another node leads and runs as primary */
	bool		behind_timeline;	/* older timeline than the leader's: a rejoin's case */
	bool		replay_paused;	/* an operator holds replay: nothing to judge */
	bool		archive;		/* restore_command is set */
	uint64_t	leader_wal_oldest;	/* the leader's wal_oldest; 0 unknown */
	uint64_t	resume_lsn;		/* max(received, replayed) */
	uint32_t	segment_size;	/* wal_segment_size */
	int64_t		now_ms;
	int64_t		still_since_ms; /* since when resume_lsn has not advanced */
} HaStrandedFacts;

extern HaStranded ha_stranded(const HaStrandedFacts *f);

/* How long f waits before HA_STRANDED_YES (the bound in use). */
extern int64_t ha_stranded_bound_ms(const HaStrandedFacts *f);

/* The first that applies, in this order. */
typedef enum HaReclone
{
	HA_RECLONE_NONE,			/* not stranded */
	HA_RECLONE_OFF,				/* pg_ha.auto_reclone = off: report only */
	HA_RECLONE_PAUSED,			/* maintenance mode: no automatic action */
	HA_RECLONE_UNSUPERVISED,	/* no pg_ha_supervisor: nobody can re-clone */
	HA_RECLONE_BACKOFF,			/* re-cloned automatically not long ago */
	HA_RECLONE_ASK				/* ask the supervisor (action reinit) */
} HaReclone;

typedef struct HaRecloneFacts
{
	bool		stranded;		/* ha_stranded() said HA_STRANDED_YES */
	bool		enabled;		/* pg_ha.auto_reclone */
	bool		paused;
	bool		supervised;
	int			attempts;		/* automatic re-clones asked for in this data directory */
	int64_t		last_attempt_s; /* when the last was (Unix seconds) */
	int64_t		now_s;			/* Unix seconds */
} HaRecloneFacts;

extern HaReclone ha_reclone_judge(const HaRecloneFacts *f);

/* Seconds after the last of attempts automatic re-clones before another. */
extern int64_t ha_reclone_backoff_s(int attempts);

#endif							/* STRANDED_RULE_H */
