/*-------------------------------------------------------------------------
 *
 * rewind.h
 *	  Pure WAL arithmetic for rejoining a node: LSNs, pg_controldata's
 *	  output, the end of a shutdown checkpoint record, timeline history
 *	  files, and the decision whether a node must be rewound before it can
 *	  follow a leader.  No I/O; unit-tested in tests/test_rewind.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SUP_REWIND_H
#define SUP_REWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of a PostgreSQL 15 shutdown checkpoint record (header + CheckPoint) */
#define REWIND_CHECKPOINT_RECORD_LEN	114
#define REWIND_XLOG_BLCKSZ				8192
#define REWIND_SHORT_PHD				24	/* MAXALIGN(SizeOfXLogShortPHD) */
#define REWIND_LONG_PHD					40	/* MAXALIGN(SizeOfXLogLongPHD) */

/* "16/B374D848" -> 0x16B374D848; false on anything else */
extern bool lsn_parse(const char *s, uint64_t *out);
extern void lsn_format(uint64_t lsn, char *buf, size_t cap);

/* What the supervisor reads from pg_controldata. */
typedef struct ControlData
{
	uint64_t	system_id;
	char		state[64];		/* "shut down", "in production", ... */
	uint64_t	checkpoint;		/* Latest checkpoint location */
	uint64_t	redo;			/* Latest checkpoint's REDO location */
	uint32_t	checkpoint_tli; /* Latest checkpoint's TimeLineID */
	uint64_t	min_recovery;	/* Minimum recovery ending location */
	uint32_t	min_recovery_tli;
	uint32_t	seg_size;		/* Bytes per WAL segment */
} ControlData;

/* Parses pg_controldata's output (C locale); false with a reason. */
extern bool controldata_parse(const char *text, ControlData *cd, char *err, size_t errlen);

/* Was the cluster shut down cleanly (as a primary or as a standby)? */
extern bool controldata_clean(const ControlData *cd);

/*
 * Where a checkpoint record that starts at lsn ends: lsn + 114, plus the
 * page header of each page boundary it crosses (a long header at the
 * start of a segment).
 */
extern uint64_t rewind_checkpoint_end(uint64_t lsn, uint32_t seg_size);

/*
 * Where this node's WAL ends, for the rewind decision, from a clean
 * shutdown's control data: a primary's ends with its shutdown checkpoint
 * record; a standby's at the later of its minimum recovery point and the
 * end of its last restartpoint's record (also for a standby that crashed,
 * "in archive recovery").  Returns false (with a reason) for a primary
 * that did not shut down cleanly: it needs crash recovery first.
 */
extern bool rewind_local_position(const ControlData *cd, uint32_t *tli, uint64_t *end,
								  char *why, size_t whylen);

/*
 * From the stderr of "pg_waldump --quiet" run from a crashed primary's
 * last checkpoint: where its valid WAL ends (the position at which
 * reading failed, "error in WAL record at A: ... at X/Y ...").  False when
 * the message has no such position.
 */
extern bool rewind_waldump_end(const char *text, uint64_t *end);

typedef enum RewindDecision
{
	REWIND_NOT_NEEDED,			/* follow the leader as is */
	REWIND_NEEDED,				/* run pg_rewind (re-clone if it fails) */
	REWIND_RECLONE				/* pg_rewind cannot help: re-clone */
} RewindDecision;

extern const char *rewind_decision_name(RewindDecision d);

/*
 * Finds where the history leaves timeline tli: the switch point of the
 * line "tli <tab> X/Y ...".  Returns false if tli is not in the history
 * (or a line is malformed: then *malformed is set).
 */
extern bool rewind_history_switchpoint(const char *history, uint32_t tli,
									   uint64_t *switchpoint, bool *malformed);

/*
 * The decision.  history: the leader's timeline history file (TIMELINE_HISTORY
 * of leader_tli; NULL or "" when leader_tli is 1); leader_lsn: the leader's
 * current WAL position (IDENTIFY_SYSTEM's xlogpos); our_tli/our_end: from
 * rewind_local_position.  why gets one line for the log.
 */
extern RewindDecision rewind_decide(const char *history, uint32_t leader_tli,
									uint64_t leader_lsn, uint32_t our_tli,
									uint64_t our_end, char *why, size_t whylen);

/*
 * What rejoin does with the decision: a rewind when pg_rewind is allowed
 * (use_pg_rewind), else a re-clone; the others as they are.
 */
extern RewindDecision rewind_method(RewindDecision d, bool use_pg_rewind);

#endif							/* SUP_REWIND_H */
