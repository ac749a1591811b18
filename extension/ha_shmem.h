/*-------------------------------------------------------------------------
 *
 * ha_shmem.h
 *	  The agent's view, published in shared memory for the SQL functions.
 *
 * The agent (the only writer) copies its whole view under the exclusive
 * lock once per loop iteration when something changed; readers take the
 * lock shared and copy out, so a reader never waits on ZooKeeper.
 *
 *-------------------------------------------------------------------------
 */
#ifndef HA_SHMEM_H
#define HA_SHMEM_H

#include "datatype/timestamp.h"
#include "storage/latch.h"
#include "storage/lwlock.h"

#include "ha_gate.h"
#include "ha_types.h"
#include "iso_time.h"
#include "restart_rule.h"

/* ZooKeeper connection as the agent sees it. */
typedef enum HaZkState
{
	HA_ZK_NOT_STARTED = 0,
	HA_ZK_CONNECTING,			/* no session yet, or reconnecting */
	HA_ZK_CONNECTED,
	HA_ZK_EXPIRED,				/* session lost; a new one is being made */
	HA_ZK_MISCONFIGURED			/* the agent refuses to run (see last_error) */
} HaZkState;

typedef struct HaView
{
	HaZkState	zk_state;
	bool		zk_reachable;	/* connected and heard from recently */
	TimestampTz zk_unreachable_since;	/* 0 while reachable */
	TimestampTz zk_last_contact;
	bool		is_leader;
	bool		stepping_down;	/* fence/demote/handover requested */
	char		leader[HA_NAME_LEN];	/* holder of the leader key, "" if none */
	int64		leader_epoch;	/* czxid of the leader key */
	char		sync_standby[HA_NAME_LEN];	/* named in /sync ... */
	bool		sync_confirmed; /* ... and has caught up: it may be promoted */
	char		last_error[256];
	HaMember	self;			/* this node, as it publishes itself */
	uint64		received_location;	/* replica: WAL received (flushed) */
	TimestampTz replayed_timestamp; /* replica: commit time last replayed */
	bool		replay_paused;	/* replica: WAL replay is paused (pg_wal_replay_pause) */
	const char *config_problem; /* static string, NULL when settings agree */
	char		decision[128];	/* the agent's last decision and its reason */
	char		slots_lost[256];	/* member slots invalidated (wal_status lost), "a, b" */
	char		history_json[HA_HISTORY_JSON_CAP];	/* the /history key ("[]") */
	char		config_json[HA_CONFIG_JSON_CAP];	/* the /config key, "" if none (or unreadable) */
	bool		paused;			/* maintenance mode ("pause": true in /config) */
	int			nmembers;		/* members seen in ZooKeeper */
	HaMember	members[HA_MAX_MEMBERS];
} HaView;

/* A switchover started from this node (SQL or HTTP), as its agent drives it. */
typedef enum SwitchoverState
{
	SW_IDLE,
	SW_CREATING,				/* /failover being written */
	SW_RUNNING,					/* waiting for the candidate to lead */
	SW_HANDOVER,				/* this node is the leader and hands over now */
	SW_SCHEDULED,				/* written with a scheduled_at: carried out at its time */
	SW_DONE,
	SW_FAILED
} SwitchoverState;

/*
 * ha_switchover() in a backend, and POST /switchover in the agent's own
 * HTTP API, ask the agent's duties through this slot: the requester bumps
 * id with its candidate (and sets the agent's latch); the duties take it on
 * their next pass (taken_id = id) and report progress in state (a
 * SwitchoverState).
 */
typedef struct HaSwitchoverRequest
{
	uint64		id;
	uint64		taken_id;
	uint64		returned_id;	/* the backend has its answer (leader: step down now) */
	char		candidate[HA_NAME_LEN];
	char		scheduled_at[ISO_TIME_LEN];	/* "" : now */
	bool		cancel;			/* DELETE /switchover: drop the scheduled one */
	bool		failover;		/* a manual failover (works with no leader) */
	bool		force;			/* ... past the synchronous standby rule */
	bool		answered_at_once;	/* HTTP: answered once accepted, so a
									 * leader hands over without waiting */
	Latch	   *requester_latch;	/* NULL: the agent itself asked */
	int			state;			/* a SwitchoverState, -1 until taken */
	bool		accepted;		/* taken and passed the checks */
	char		chosen[HA_NAME_LEN];
	char		error[256];
	char		hint[256];
} HaSwitchoverRequest;

/*
 * A change of the cluster configuration (/config), asked by
 * ha_set_config() in a backend or PATCH/PUT /config in the agent's own
 * API: the requester bumps id with its document; the agent takes it on its
 * next pass (taken_id = id), merges it into /config (or replaces it),
 * checks it, writes it with a compare-and-set on the version it read, and
 * reports the outcome in state with the new document in result.
 */
typedef enum HaConfigRequestState
{
	HA_CONFIG_PENDING = -1,
	HA_CONFIG_DONE,				/* written: result holds the new /config */
	HA_CONFIG_REFUSED,			/* a bad patch or value: error says why */
	HA_CONFIG_CONFLICT,			/* /config changed meanwhile (or if_version did not match) */
	HA_CONFIG_FAILED			/* ZooKeeper did not take it, or there is no /config yet */
} HaConfigRequestState;

typedef struct HaConfigRequest
{
	uint64		id;
	uint64		taken_id;
	bool		replace;		/* PUT: body is the whole configuration */
	char		body[HA_CONFIG_JSON_CAP];
	Latch	   *requester_latch;	/* NULL: the agent's own API asked */
	int			state;			/* an HaConfigRequestState */
	char		error[256];
	char		result[HA_CONFIG_JSON_CAP];
} HaConfigRequest;

/*
 * A restart of this node waiting for the agent (Patroni's scheduled
 * restart, POST /restart with a schedule; ha_restart() from SQL): the
 * agent's duties carry it out when due, if its conditions hold then.
 * Kept in memory only, as Patroni keeps it: postgres' restart forgets it.
 */
typedef struct HaRestartSlot
{
	bool		active;			/* a restart waits here */
	HaRestartRequest req;		/* req.scheduled: at req.at_us; else at once */
} HaRestartSlot;

/*
 * A re-clone of this node from its leader (POST /reinitialize in the
 * agent's own API, ha_reinitialize() in a backend): the requester bumps id
 * (and sets the agent's latch); the agent takes it on its next pass
 * (taken_id = id), judges it (reinit_rule.c), asks its supervisor when
 * accepted, and answers in status (200 or 503, the HTTP answer) and
 * message (Patroni's text).
 */
typedef struct HaReinitRequest
{
	uint64		id;
	uint64		taken_id;
	bool		force;			/* replace another request not yet carried out */
	Latch	   *requester_latch;	/* NULL: the agent's own API asked */
	int			status;			/* 0 until answered */
	char		message[256];
} HaReinitRequest;

typedef struct HaSharedState
{
	LWLock	   *lock;
	pid_t		worker_pid;		/* 0 when the agent is not running */
	Latch	   *agent_latch;
	HaSwitchoverRequest switchover;
	HaConfigRequest config;
	HaRestartSlot restart;
	HaReinitRequest reinit;
	HaWriteGate gate;			/* atomics: read by every committing backend */
	HaView		view;
} HaSharedState;

extern HaSharedState *ha_shared;

/* Is name the synchronous standby (confirmed, so promotable)? */
static inline bool
ha_view_is_sync_standby(const HaView *v, const char *name)
{
	return v->sync_confirmed && v->sync_standby[0] != '\0' &&
		strcmp(v->sync_standby, name) == 0;
}

/* The facts a restart's conditions are checked against, from a view. */
extern void ha_restart_facts(const HaView *v, HaRestartFacts *f);

extern void ha_shmem_request(void);
extern void ha_shmem_startup(void (*init_new) (HaSharedState *shared));
extern const char *ha_zk_state_name(HaZkState s);

#endif							/* HA_SHMEM_H */
