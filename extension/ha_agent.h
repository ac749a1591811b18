/*-------------------------------------------------------------------------
 *
 * ha_agent.h
 *	  The agent's private state, shared by its three parts:
 *	    ha_worker.c   the main loop, identity, local postgres state
 *	    ha_session.c  the ZooKeeper protocol (what is read and written where)
 *	    ha_duties.c   deciding (role.c) and acting on the decision, the
 *	                  hand-over (switchover_rule.c), role-change lines
 *	                  (role_change.c)
 *	    ha_switchover.c  switchover requests (SQL and HTTP, one slot;
 *	                  checked by switchover_rule.c)
 *	    ha_sync.c     the leader's synchronous standby (sync_rule.c)
 *	    ha_history.c  the /history key
 *	    ha_config.c   the /config key
 *	    ha_reinit.c   reinitialize requests (SQL and HTTP, one slot;
 *	                  checked by reinit_rule.c)
 *	    ha_stranded.c a replica stranded without the WAL it needs, and its
 *	                  automatic re-clone (stranded_rule.c)
 *
 * ZooKeeper layout under <namespace>/<scope> (Patroni's, so operators'
 * habits carry over):
 *	  initialize       persistent: the cluster's system identifier
 *	  leader           ephemeral: the leader's name (czxid = the epoch)
 *	  members/<name>   ephemeral: member JSON (member_json.c)
 *	  status           persistent: the last leader's position and timeline
 *	  sync             persistent: the leader and its synchronous standby
 *	  failover         persistent: a switchover (leader, candidate) or failover
 *	  history          persistent: the timeline switches
 *	(the last four in Patroni's JSON: common/cluster_keys.h)
 *	  config           persistent: the dynamic configuration (dyn_config.h)
 *
 *-------------------------------------------------------------------------
 */
#ifndef HA_AGENT_H
#define HA_AGENT_H

#include "cluster_keys.h"
#include "dyn_config.h"
#include "ha_shmem.h"
#include "ha_zk.h"
#include "iso_time.h"
#include "role.h"

#define ZK_PATH_LEN			512
#define MEMBER_JSON_CAP		2048

/* Asynchronous ZooKeeper calls, by what they are for. */
typedef enum ZkOp
{
	OP_PARENT,					/* create the persistent parents */
	OP_INIT_GET,				/* read /initialize */
	OP_INIT_CREATE,
	OP_MEMBER_CREATE,			/* our ephemeral /members/<name> */
	OP_MEMBER_GET_SELF,			/* who holds our name? */
	OP_MEMBER_DELETE_STALE,		/* our own older session's node */
	OP_MEMBER_SET,				/* heartbeat */
	OP_LEADER_EXISTS,			/* watch the leader key */
	OP_LEADER_GET,
	OP_LEADER_CREATE,
	OP_LEADER_REPLACE,			/* take over our own stale key atomically */
	OP_LEADER_DELETE_STALE,
	OP_MEMBERS_LIST,			/* watch /members children */
	OP_MEMBER_GET,				/* read another member */
	OP_STATUS_GET,
	OP_STATUS_SET,
	OP_STATUS_CREATE,
	OP_SYNC_GET,				/* watched */
	OP_SYNC_SET,
	OP_SYNC_CREATE,
	OP_FAILOVER_GET,			/* watched (exists + get) */
	OP_FAILOVER_CREATE,
	OP_FAILOVER_DELETE,
	OP_HISTORY_GET,				/* watched (exists + get) */
	OP_HISTORY_SET,				/* compare-and-set on its version */
	OP_HISTORY_CREATE,
	OP_CONFIG_GET,				/* watched (exists + get) */
	OP_CONFIG_CREATE,
	OP_CONFIG_SET,				/* a change asked for (compare-and-set) */
	OP_NUM_OPS
} ZkOp;

typedef enum MemberState
{
	MEMBER_NONE,
	MEMBER_REGISTERED,
	MEMBER_CONFLICT
} MemberState;

/* What the agent remembers about another member beyond its JSON. */
typedef struct MemberMeta
{
	char		name[HA_NAME_LEN];
	int32		version;		/* znode version last read */
	int64		changed_ms;		/* when we last saw the version change */
} MemberMeta;

typedef struct Agent
{
	HaView		view;			/* the HTTP API reads this directly */

	/* identity and paths */
	bool		supervised;
	char		node_id[HA_NAME_LEN];
	char		parents[3][ZK_PATH_LEN];
	char		init_path[ZK_PATH_LEN];
	char		leader_path[ZK_PATH_LEN];
	char		members_path[ZK_PATH_LEN];
	char		self_path[ZK_PATH_LEN];
	char		status_path[ZK_PATH_LEN];
	char		sync_path[ZK_PATH_LEN];
	char		failover_path[ZK_PATH_LEN];
	char		history_path[ZK_PATH_LEN];
	char		config_path[ZK_PATH_LEN];

	/* ZooKeeper session */
	int64		zk_next_start_ms;
	int			zk_backoff_ms;
	int64		zk_last_contact_ms;
	/*
	 * When the last member write the ensemble committed was sent: the
	 * leader's lease and its fence count from it, not from any reply.  A
	 * follower cut from the ZooKeeper leader goes on answering reads (and
	 * pings) until it notices, syncLimit x tickTime later, while the
	 * ZooKeeper leader expires the session from the touches it was told
	 * of; a write is answered only through that leader.
	 */
	int64		zk_last_write_ms;
	int64		member_write_sent_ms;	/* the member write in flight: when it was sent */
	int64		zk_session;		/* id of the session we set up */
	int			zk_granted_ms;	/* session timeout the server granted; 0 unknown */
	int			inflight[OP_NUM_OPS];

	/* progress within the session */
	int			parents_done;	/* count of parents[] known to exist */
	bool		init_known;		/* /initialize read (or created) */
	bool		identity_ok;
	MemberState member_state;
	int64		member_retry_ms;
	int64		next_heartbeat_ms;
	bool		self_changed;	/* publish at once, not at the heartbeat */
	/* *_known: read in this session; *_stale: changed since, read again */
	bool		leader_known;
	bool		leader_stale;
	bool		leader_exists;
	int64		leader_owner;
	int32		leader_version;
	bool		members_stale;	/* re-list the members */
	int64		members_listed_ms;	/* when the list was last read */
	MemberMeta	meta[HA_MAX_MEMBERS];

	/* cluster state beyond the leader key */
	bool		status_known;
	bool		status_stale;
	char		status_pending[64 + HA_STATUS_MAX_SLOTS * (SLOT_NAME_LEN + 24)];	/* /status data being written */
	uint32		cluster_timeline;	/* from /status */
	uint64		last_leader_lsn;	/* from /status */
	int			nleader_slots;	/* from /status: the leader's permanent slots */
	HaStatusSlot leader_slots[HA_STATUS_MAX_SLOTS];
	int			nown_slots;		/* the leader's: its permanent slots, for /status */
	HaStatusSlot own_slots[HA_STATUS_MAX_SLOTS];
	char		last_leader[HA_NAME_LEN];	/* who led before the key vanished */
	int64		leader_vanished_ms; /* 0 while a leader exists */
	bool		sync_known;
	bool		sync_stale;
	bool		sync_written;	/* our /sync write succeeded: apply the name */
	char		sync_leader[HA_NAME_LEN];
	bool		sync_confirmed;
	char		sync_pending[4 * HA_NAME_LEN];	/* /sync data being written */
	int64		sync_named_ms;	/* when synchronous_standby_names named it */
	int64		sync_nudged_ms; /* last WAL record written for it to reply to */
	uint64		sync_released;	/* what synchronous replication released ... */
	int64		sync_progress_ms;	/* ... and since when (or nothing waited) */
	uint64		sync_confirm_lsn;	/* the standby must reach this */
	bool		failover_known;
	bool		failover_stale;
	bool		failover_exists;	/* /failover holds a request, active now */
	char		failover_leader[HA_NAME_LEN];
	char		failover_candidate[HA_NAME_LEN];	/* "": no request held */
	int64		failover_seen_ms;
	bool		failover_force; /* a manual failover forced past the sync rule */
	int64		failover_due_us;	/* its time, Unix microseconds (0: now) */
	char		failover_scheduled_at[ISO_TIME_LEN];	/* ... as written */
	bool		history_known;
	bool		history_stale;
	bool		config_known;
	bool		config_stale;
	/* the permanent slots /config declares: kept across sessions */
	bool		permanent_slots_known;
	uint32		permanent_slots_gen;	/* changes when the set does */
	int			npermanent_slots;
	char		permanent_slots[HA_DYN_MAX_SLOTS][SLOT_NAME_LEN];

	/* acting */
	bool		promoting;
	bool		stream_nudging; /* a replica woken until it streams (role.h) */
	bool		stranded;		/* its WAL is gone from the leader (ha_stranded.c) */
	bool		wal_gone;		/* ... not judged stranded yet, maybe: no nudging */
	int64		promote_started_ms;
	int64		behind_timeline_ms; /* since when a standby is on an old timeline */
	bool		was_leader;		/* for the role-change log line */
	HaAction	last_action;
	const char *last_reason;
	bool		view_dirty;

	/* switchover driven from this node (SQL or HTTP) */
	SwitchoverState sw_state;
	bool		sw_from_sql;	/* a local ha_switchover() waits for its answer */
	bool		sw_scheduled;	/* ... it is scheduled for later (scheduled_at) */
	bool		sw_failover;	/* ... it is a manual failover */
	int64		sw_answered_ms; /* when that backend had its answer */
	int64		sw_handover_ms; /* when this leader decided to hand over */
	char		sw_candidate[HA_NAME_LEN];
	char		sw_leader[HA_NAME_LEN]; /* who led when it was asked for */
	char		sw_error[256];
	char		sw_hint[256];
	int64		sw_deadline_ms;
	bool		failover_created;	/* our /failover create answered ... */
	int			failover_created_rc;	/* ... with this ZooKeeper code */
} Agent;

extern Agent agent;

/* ha_state.c */
extern void ha_set_error(const char *fmt,...) pg_attribute_printf(1, 2);

/* ha_session.c */
extern void session_start(int64 now);
extern void session_handle_events(int64 now);
extern void session_advance(int64 now);
extern bool session_reachable(int64 now);
extern int64 session_fence_after_ms(void);

/* ha_keys.c: the keys the session reads and writes (for ha_session.c: keys_*) */
extern void session_issue(ZkOp op, int rc);
extern int	session_member_index(const char *name);
extern const HaMember *session_member(const char *name);
extern const MemberMeta *session_member_meta(const char *name);
extern bool session_member_fresh(const char *name, int64 now);
extern void session_write_status(void);
extern void session_create_status(void);
extern void session_write_sync(const char *leader, const char *standby, bool confirmed);
extern void session_delete_failover(void);
extern void keys_update_member_list(const ZkEvent *ev, int64 now);
extern void keys_read_members(void);
extern void keys_handle_member_data(const ZkEvent *ev, int64 now);
extern void keys_parse_status(const char *data, int len);
extern void keys_parse_sync(const char *data, int len);
extern void keys_parse_failover(const ZkEvent *ev, int64 now);
extern void keys_failover_tick(int64 now);
extern bool keys_failover_scheduled(void);
extern void session_create_failover_request(const char *leader, const char *candidate,
											const char *scheduled_at, bool force);

/* ha_history.c: the /history key */
extern void history_handle_read(const ZkEvent *ev);
extern void history_handle_written(const ZkEvent *ev);
extern void history_update(int64 now);

/* ha_config.c: the /config key */
extern void config_handle_read(const ZkEvent *ev);
extern void config_handle_created(const ZkEvent *ev);
extern void config_update(void);
extern void config_poll_request(int64 now, bool zk_reachable);
extern void config_handle_set(const ZkEvent *ev);

/* ha_duties.c */
extern void duties_decide_and_act(int64 now);
extern long duties_wake_within_ms(int64 now);

/* ha_restart.c: a restart waiting in the restart slot */
extern void restart_tick(void);
extern bool restart_in_progress(void);
/* asks the supervisor to restart postgres, once; false if asked already or it failed */
extern bool restart_ask(const char *reason, uint64 reply_token);

/* ha_sync.c */
extern void sync_manage_standby(int64 now);
extern void sync_apply_written(void);
extern uint64 sync_released_lsn(void);

/* ha_slots.c: member replication slots (use_slots) */
extern void slots_manage(int64 now);
/* this replica's primary_slot_name: its slot on the leader, "" with use_slots off */
extern const char *slots_primary_slot_name(void);

/* ha_reinit.c: reinitialize requests (SQL and HTTP, one slot) */
extern void reinit_poll_request(int64 now);
/* the same checks and request for the agent's own (ha_stranded.c); 200 if asked */
extern int	reinit_ask(int64 now, const char *reason, char *msg, size_t cap);

/* ha_stranded.c: a replica whose WAL is gone from the leader (stranded_rule.c) */
extern void stranded_check(int64 now, bool following);
/* a primary's wal_oldest: the start of the oldest WAL segment it keeps (0 unknown) */
extern uint64 stranded_wal_oldest(void);

/* ha_switchover.c */
extern void switchover_note_created(void);
extern void switchover_poll_request(int64 now);

#endif							/* HA_AGENT_H */
