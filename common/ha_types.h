/*-------------------------------------------------------------------------
 *
 * ha_types.h
 *	  Plain data types shared by pg_ha's pure modules (parsers, health
 *	  rules, role decision) and its PostgreSQL-facing code.
 *
 * Nothing here includes PostgreSQL headers: the pure modules are compiled
 * into unit tests and fuzz targets without a server.
 *
 *-------------------------------------------------------------------------
 */
#ifndef HA_TYPES_H
#define HA_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HA_NAME_LEN		64		/* node name, incl. NUL */
#define HA_URL_LEN		256		/* conn_url / api_url, incl. NUL */
#define HA_HOST_LEN		128
#define HA_ROLE_LEN		16
#define HA_STATE_LEN	48
#define HA_MAX_MEMBERS	32
#define HA_HISTORY_JSON_CAP	16384	/* /history as kept in the view (newest rows) */
#define HA_CONFIG_JSON_CAP	8192	/* the largest /config the agent takes */
#define HA_TIME_LEN		40		/* an ISO 8601 time, incl. NUL (= ISO_TIME_LEN) */

/* Member roles as published (Patroni 3.0 spells a primary "master"). */
#define HA_ROLE_MASTER	"master"
#define HA_ROLE_REPLICA "replica"

/*
 * The state of a running replica whose WAL is gone from its leader and the
 * archive (README "Stranded replicas"): it serves no reads (/replica 503)
 * and is re-cloned, or waits for an operator.
 */
#define HA_STATE_STRANDED "stranded"

/*
 * synchronous_standby_names of a standby in synchronous mode.  No standby
 * can have this name (node names have no blanks), so once promoted it
 * acknowledges no commit until its agent has named itself leader in /sync
 * and set the real standby (or none).  Not '*': a replica streaming from it
 * early could acknowledge commits that the last leader /sync names lacks.
 */
#define HA_SYNC_NAMES_NOT_YET "FIRST 1 (\"pg_ha: no standby named yet\")"

/* The write gate's state (ha_gate.h), kept in shared memory. */
typedef enum HaGateState
{
	HA_GATE_OPEN = 0,
	HA_GATE_FENCED,
	HA_GATE_UNPROVEN
} HaGateState;

/* Tags of a member (DESIGN.md, section 3 "Configuration"). */
typedef struct HaTags
{
	bool		nofailover;
	bool		noloadbalance;
	bool		nosync;
	bool		clonefrom;
} HaTags;

/*
 * One member as published in /members/<name> (JSON, Patroni field names
 * plus a few of ours).  Every string is NUL-terminated and bounded.
 */
typedef struct HaMember
{
	char		name[HA_NAME_LEN];
	char		conn_url[HA_URL_LEN];	/* postgres://host:port/postgres */
	char		api_url[HA_URL_LEN];	/* http://host:port/patroni */
	char		role[HA_ROLE_LEN];	/* "master" | "replica" | "unknown" */
	char		state[HA_STATE_LEN];	/* "running", "starting", ... */
	uint32_t	timeline;
	uint64_t	xlog_location;	/* primary: flush LSN; replica: max(receive, replay) */
	uint64_t	replayed_location;	/* replica only, else 0 */
	uint64_t	wal_oldest;		/* primary: start of the oldest WAL segment it keeps; 0 unknown */
	uint64_t	system_id;		/* pg_control system identifier */
	char		node_id[HA_NAME_LEN];	/* random id kept in the data dir */
	int			ttl;			/* settings that must agree cluster-wide */
	int			retry_timeout;
	bool		synchronous_mode;
	uint64_t	maximum_lag_on_failover;
	bool		supervised;		/* run by pg_ha_supervisor (can hand over) */
	bool		pending_restart;	/* a changed setting waits for a restart */
	bool		paused;			/* it sees the cluster paused (Patroni's "pause") */
	/* Patroni's scheduled_restart: its time ("" none) and version condition */
	char		scheduled_restart[HA_TIME_LEN];
	char		scheduled_restart_version[16];
	HaTags		tags;
} HaMember;

#endif							/* HA_TYPES_H */
