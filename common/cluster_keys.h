/*-------------------------------------------------------------------------
 *
 * cluster_keys.h
 *	  The cluster's small persistent ZooKeeper keys in Patroni's JSON
 *	  formats, so Patroni's own tools (patronictl) read and write a pg_ha
 *	  cluster: /status, /sync, /failover and /history.  pg_ha's extra facts
 *	  go in extra fields, never in place of Patroni's.  Pure C: the keys are
 *	  written by any client with access to ZooKeeper, and read inside
 *	  postgres, so every parser is bounded and fuzzed.
 *
 *	  /status    {"optime": <lsn>, "slots": {"<name>": <lsn>}, "timeline": <tli>}
 *	             (the leader's permanent slots and how far each has come)
 *	  /sync      {"leader": "a", "sync_standby": "b"}: b has caught up and
 *	             may be promoted; while a standby is named but not yet
 *	             confirmed, "sync_standby" is null and "named" holds it
 *	  /failover  {"leader": "a", "member": "b", "scheduled_at": "..."}
 *	             (pg_ha's extra "force": true: a forced manual failover)
 *	  /history   [[timeline, lsn, reason, timestamp, new_leader], ...]
 *
 *	  pg_ha 1.0's plain-text keys ("<timeline> <lsn>", "<leader> <standby|->
 *	  <0|1>", "<leader> <candidate>") are read as well, for an upgrade.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLUSTER_KEYS_H
#define CLUSTER_KEYS_H

#include "ha_types.h"
#include "iso_time.h"
#include "json_writer.h"
#include "slot_name.h"

/* ---- /status ---- */
#define HA_STATUS_MAX_SLOTS	32	/* as many as /config may declare */

typedef struct HaStatusSlot
{
	char		name[SLOT_NAME_LEN];
	uint64_t	lsn;			/* the slot's restart_lsn on the leader */
} HaStatusSlot;

typedef struct HaStatusKey
{
	uint64_t	optime;
	uint32_t	timeline;		/* 0: unknown (Patroni's own /status has none) */
	int			nslots;
	HaStatusSlot slots[HA_STATUS_MAX_SLOTS];
} HaStatusKey;

extern void status_key_render(const HaStatusKey *k, JsonBuf *jb);

/*
 * False when the key is not a status object with an optime.  A bare number
 * (Patroni before 2.1 kept the optime alone) is read as the optime, the
 * timeline then 0 (unknown).  Of "slots", the first HA_STATUS_MAX_SLOTS
 * entries with a slot's name and a whole number are kept, other entries
 * skipped; a number with a fraction or an exponent loses them all.
 */
extern bool status_key_parse(const char *data, size_t len, HaStatusKey *k);

/* ---- /sync ---- */
typedef struct HaSyncKey
{
	char		leader[HA_NAME_LEN];	/* "" if none */
	char		standby[HA_NAME_LEN];	/* "" if none */
	bool		confirmed;		/* standby has caught up: promotable */
} HaSyncKey;

extern void sync_key_render(const HaSyncKey *k, JsonBuf *jb);

/*
 * False (and k empty) when the key is not a sync object.  Of a
 * comma-separated sync_standby (Patroni's synchronous_node_count > 1) the
 * first name is taken.
 */
extern bool sync_key_parse(const char *data, size_t len, HaSyncKey *k);

/* ---- /failover ---- */
typedef struct HaFailoverKey
{
	char		leader[HA_NAME_LEN];	/* "" : a failover, for when no one leads */
	char		member[HA_NAME_LEN];	/* the candidate; "" : the best one */
	char		scheduled_at[ISO_TIME_LEN]; /* "" : now */
	bool		force;			/* pg_ha's extra: a failover forced past the sync rule */
} HaFailoverKey;

extern void failover_key_render(const HaFailoverKey *k, JsonBuf *jb);

/*
 * False when the key names neither a leader nor a member.  Patroni's
 * legacy "leader:member" text is read too.
 */
extern bool failover_key_parse(const char *data, size_t len, HaFailoverKey *k);

/* ---- /history ---- */
#define HA_HISTORY_MAX		100 /* rows kept (the oldest are dropped) */
#define HA_HISTORY_REASON_LEN 128

typedef struct HaHistoryRow
{
	uint32_t	timeline;		/* the timeline that ended */
	uint64_t	lsn;			/* where it ended (the switch point) */
	char		reason[HA_HISTORY_REASON_LEN];
	char		timestamp[ISO_TIME_LEN];	/* when the next one began; "" unknown */
	char		new_leader[HA_NAME_LEN];	/* who began it; "" unknown */
} HaHistoryRow;

/*
 * A timeline history file as postgres writes it (pg_wal/<TLI>.history:
 * "<parent tli>\t<X/Y>\t<reason>" lines, '#' comments): its rows, at most
 * max (the newest), without timestamps.  Returns the count, or -1 when a
 * line is malformed.
 */
extern int	history_file_parse(const char *text, size_t len, HaHistoryRow *rows,
							   int max);

/* The /history key's rows (at most max, the newest); -1 when malformed. */
extern int	history_key_parse(const char *data, size_t len, HaHistoryRow *rows,
							  int max, char *err, size_t errlen);

extern void history_key_render(const HaHistoryRow *rows, int n, JsonBuf *jb);

/*
 * Must the leader on primary_timeline rewrite /history (rows: what it holds
 * now)?  On timeline 1 only to empty it; otherwise unless its last row is
 * the switch to primary_timeline, complete with timestamp and new leader.
 */
extern bool history_needs_update(const HaHistoryRow *rows, int n,
								 uint32_t primary_timeline);

/*
 * The rows the leader writes: the history file's (file, nfile), each with
 * the timestamp and new leader the key already has for the same switch
 * (same timeline and position), the switch to primary_timeline stamped
 * now_ts and self when the key has none for it.  Returns the count in out
 * (at most HA_HISTORY_MAX).
 */
extern int	history_merge(const HaHistoryRow *file, int nfile,
						  const HaHistoryRow *key, int nkey,
						  uint32_t primary_timeline, const char *now_ts,
						  const char *self, HaHistoryRow *out);

#endif							/* CLUSTER_KEYS_H */
