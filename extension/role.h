/*-------------------------------------------------------------------------
 *
 * role.h
 *	  The agent's role decision: a pure function from observed facts (the
 *	  ZooKeeper view and the local postgres state) to one action.  Kept apart
 *	  from all I/O so every case is a unit test.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ROLE_H
#define ROLE_H

#include "ha_types.h"

typedef struct HaFacts
{
	bool		config_ok;		/* settings consistent (ttl > retry_timeout, ...) */
	bool		pg_running;		/* postgres accepts connections */
	bool		in_recovery;	/* postgres is a standby */
	bool		promoting;		/* we asked postgres to promote; not done yet */
	bool		fenced;			/* the write gate is closed (primary: refuses writes) */
	bool		zk_reachable;	/* live session, heard from within the bound */
	bool		fence_due;		/* no reply from ZooKeeper for retry_timeout */
	bool		identity_ok;	/* system id matches /initialize, name not taken */
	bool		registered;		/* our member znode exists and is ours */
	bool		leader_known;	/* the leader key was read in this session */
	bool		leader_exists;
	bool		leader_is_self; /* the key names us */
	bool		leader_owned;	/* ... and our current session owns it */
	uint32_t	timeline;		/* ours */
	uint32_t	cluster_timeline;	/* newest timeline a leader published; 0 unknown */

	bool		paused;			/* maintenance mode ("pause" in /config) */

	/* election (a replica or a fenced primary, no leader) */
	bool		nofailover;		/* our tag */
	bool		sync_mode;
	bool		sync_standby_self;	/* /sync names us and says we caught up */
	bool		sync_leader_self;	/* /sync names us its leader: we were the last
									 * primary, every acknowledged commit is ours */
	bool		switchover_other;	/* a switchover names another candidate */
	bool		switchover_self;	/* a switchover names us */
	bool		failover_forced;	/* ... a manual failover forced past S2/S3 (no leader) */
	bool		lag_ok;			/* within maximum_lag_on_failover of the last leader */
	bool		peers_settled;	/* the others' positions are fresh (or timed out) */
	bool		better_peer;	/* a reachable eligible peer has more WAL */
} HaFacts;

typedef enum HaAction
{
	HA_ACT_WAIT,				/* nothing to do until something changes */
	HA_ACT_ACQUIRE_LEADER,		/* take the free leader key */
	HA_ACT_TAKEOVER_STALE_KEY,	/* key names us, an older session owns it: replace it atomically */
	HA_ACT_RELEASE_STALE_KEY,	/* replica holding a stale key of its own: delete it */
	HA_ACT_LEAD,				/* we hold the key and run as primary */
	HA_ACT_PROMOTE,				/* we hold the key as a replica: promote */
	HA_ACT_FOLLOW,				/* replica: follow the leader (or wait for one) */
	HA_ACT_DEMOTE,				/* primary, another leads: rejoin as its standby */
	HA_ACT_FENCE				/* primary that must stop accepting writes now
								 * (in place: the write gate closes) */
} HaAction;

typedef struct HaDecision
{
	HaAction	action;
	bool		is_leader;		/* what /primary and /leader report */
	const char *reason;			/* one line for the log and the API */
} HaDecision;

extern HaDecision ha_decide(const HaFacts *f);
extern const char *ha_action_name(HaAction a);

/*
 * The write gate's verdict on a transaction that wrote, from what a backend
 * reads in shared memory: the gate's state and the lease (0: none), and its
 * own clock.  Asked twice per commit: before the commit record is written
 * (a refusal is an error, the transaction aborts) and after it is flushed
 * and replicated, before the client is answered (a refusal ends the
 * session without an acknowledgement).
 */
typedef enum HaGateVerdict
{
	HA_GATE_PASS,				/* commit, and acknowledge it */
	HA_GATE_REFUSE_FENCED,		/* the agent fenced this node */
	HA_GATE_REFUSE_UNPROVEN,	/* restarted, its agent does not lead yet */
	HA_GATE_REFUSE_LEASE		/* the leader lease ran out */
} HaGateVerdict;

extern HaGateVerdict ha_gate_verdict(HaGateState state, uint64_t lease_until_ms,
									 int64_t now_ms);

/*
 * After a commit that synchronous replication had to wait for: did the
 * standby confirm it?  The wait ends without it when it is cancelled (a
 * cancel request, statement_timeout): postgres then reports success with
 * only a warning, though a failover would lose the commit.  wait_expected:
 * the commit waited (synchronous commit requested, WAL written before the
 * commit record); standbys_defined: synchronous standbys are configured now
 * (when they are dropped, waiters are released without a position);
 * released_lsn: how far synchronous replication has released commits.
 */
extern bool ha_commit_replicated(bool wait_expected, bool standbys_defined,
								 uint64_t commit_lsn, uint64_t released_lsn);

/*
 * Is a replica's position good enough to be promoted in asynchronous
 * mode?  last_leader_lsn 0 means unknown (then only peers can tell).
 */
extern bool ha_lag_ok(uint64_t my_lsn, uint64_t last_leader_lsn,
					  uint64_t maximum_lag);

/*
 * Among peers with positions, is there a better candidate than us?  A peer
 * is better with more WAL, or the same WAL and a smaller name (a stable
 * tie-break, so exactly one of equals races).
 */
extern bool ha_peer_is_better(uint64_t my_lsn, const char *my_name,
							  uint64_t peer_lsn, const char *peer_name);

/*
 * How long a primary may go without hearing from ZooKeeper before it fences
 * itself: retry_timeout, unless the server granted a session timeout shorter
 * than ttl; then the same fraction of the granted timeout, so the fence still
 * comes before the session (and the leader key) can expire.
 *
 * Never more than 3/4 of the session timeout: the delay counts from when
 * the last committed member write was sent, while the ZooKeeper leader
 * (in an ensemble) may count the session from a touch a heartbeat older
 * (the heartbeat is at most a third of this delay, so delay + heartbeat
 * stays within the session timeout).
 */
extern int	ha_fence_after_ms(int retry_timeout_s, int ttl_s, int granted_ms);

/*
 * While a promotion is in progress, the agent wakes PostgreSQL's startup
 * process (WakeupRecovery) every HA_PROMOTE_NUDGE_EVERY_MS.  Having seen
 * the promote request while it waited for streamed WAL, the startup
 * process stops the WAL receiver and then sleeps out what is left of
 * wal_retrieve_retry_interval since the last WAL-source failure
 * (xlogrecovery.c, WaitForWALToBecomeAvailable).  A WAL receiver that
 * exits sets the latch that ends that sleep; one that was only "starting"
 * (no process yet: the receiver had just failed and its successor was
 * requested) sets nothing, and the promotion waited up to 5 s.  Nudge
 * while asked to promote and still in recovery, for at most
 * HA_PROMOTE_NUDGE_FOR_MS after the request.
 */
#define HA_PROMOTE_NUDGE_EVERY_MS	20
#define HA_PROMOTE_NUDGE_FOR_MS		60000

extern bool ha_promote_nudge(bool promoting, bool in_recovery,
							 int64_t since_request_ms);

/*
 * The same sleep delays a replica whose leader went away for a moment
 * (restarted in place: POST /restart): its WAL receiver failed, and the
 * startup process tries streaming again only once wal_retrieve_retry_interval
 * (5 s) has passed; in synchronous mode the leader's commits wait for it.
 * While a replica has no WAL receiver and its leader's member key says it
 * runs as primary, wake it every HA_STREAM_NUDGE_EVERY_MS (a connection
 * attempt each, refused at once while the leader is down).
 */
#define HA_STREAM_NUDGE_EVERY_MS	200

extern bool ha_stream_nudge(bool in_recovery, bool receiver_active,
							bool leader_runs_as_primary);

/*
 * What a planned switchover this node asked for has come to, from the
 * view it has now.  The /failover request is deleted by the candidate once
 * it leads, or by the leader when it cancels: which one it was shows only
 * in who holds the leader key, so nothing is concluded from a view in
 * which the leader key has changed but not been read again
 * (views_fresh false) -- nor while the key is free: the old leader has
 * released it and the candidate is about to take it.
 */
typedef enum HaSwitchoverOutcome
{
	HA_SW_PENDING,				/* not decided yet (the caller's deadline bounds it) */
	HA_SW_HAPPENED,				/* the candidate leads and runs as primary */
	HA_SW_NOT_DONE				/* the request is gone and another member leads */
} HaSwitchoverOutcome;

extern HaSwitchoverOutcome ha_switchover_outcome(bool views_fresh,
												 bool request_exists,
												 const char *leader,
												 const char *candidate,
												 bool candidate_primary);

/*
 * Commits that waited for a synchronous standby that went away are released
 * only when the standby named in its place replies, and one that already
 * has all the WAL replies only every wal_receiver_status_interval (10 s).
 * For HA_SYNC_NUDGE_FOR_MS after naming a standby, while commits may still
 * wait (released_lsn, what synchronous replication has released, is behind
 * flushed_lsn, what this primary has flushed), the leader writes one tiny
 * WAL record every HA_SYNC_NUDGE_EVERY_MS: the standby flushes it and
 * replies at once.
 */
#define HA_SYNC_NUDGE_EVERY_MS		50
#define HA_SYNC_NUDGE_FOR_MS		3000

extern bool ha_sync_nudge(int64_t since_named_ms, int64_t since_last_nudge_ms,
						  uint64_t released_lsn, uint64_t flushed_lsn);

/*
 * A synchronous standby that has let commits wait for HA_SYNC_STALL_MS
 * (what synchronous replication released, released_lsn, is behind what
 * this primary flushed, and has not moved for since_progress_ms) while
 * another streaming standby has flushed more (other_flushed_lsn beyond
 * released_lsn) is taken as gone, and replaced when that one can take its
 * place: a frozen standby keeps its connection and its ZooKeeper session,
 * and would otherwise hold every commit until its member entry goes stale
 * (loop_wait * 3 + 1 s).  A standby that is merely slow, with the others no
 * further (a bulk load), is not; alone, it stays named (a stall never turns
 * synchronous replication off).
 */
#define HA_SYNC_STALL_MS			500

extern bool ha_sync_standby_stalled(uint64_t released_lsn, uint64_t flushed_lsn,
									int64_t since_progress_ms,
									uint64_t other_flushed_lsn);

/*
 * The election's facts about the other members once the leader key is
 * free (HaFacts.peers_settled, .better_peer).  A peer counts only if it is
 * a candidate (promotable: a running replica, not nofailover, on the
 * current timeline); the old leader's lingering znode and this node itself
 * are skipped.  It must have published its position since the leader
 * vanished (its znode read and changed since then) or have had settle_ms
 * to do so: until then the peers are not settled; after that, one that did
 * not publish is taken as unreachable.  The member list itself must have
 * been read since the leader vanished, or settle_ms passed.  A peer that
 * published is better with more WAL, on a tie with the smaller name; a
 * fenced primary (self_in_recovery false) yields only to more WAL, as it
 * would need no promotion.
 */
typedef struct HaPeer
{
	const char *name;
	uint64_t	lsn;			/* its published WAL position */
	bool		promotable;
	bool		read;			/* its znode has been read in this session */
	int64_t		changed_ms;		/* when we saw its znode change last */
} HaPeer;

typedef struct HaElection
{
	const char *self_name;
	uint64_t	self_lsn;
	bool		self_in_recovery;
	int64_t		now_ms;
	int64_t		leader_vanished_ms;
	int64_t		members_listed_ms;	/* when the member list was read last */
	int64_t		settle_ms;
	int			npeers;
	const HaPeer *peers;
} HaElection;

extern void ha_election_peers(const HaElection *e, bool *settled, bool *better);

/* A member that runs as a replica, by its own published facts. */
extern bool ha_member_running_replica(const HaMember *m);

/*
 * A member that could be promoted, by its own published facts: a running
 * replica, not tagged nofailover, not on a timeline older than the
 * cluster's (cluster_timeline 0: unknown).
 */
extern bool ha_member_promotable(const HaMember *m, uint32_t cluster_timeline);

/*
 * Synchronous standby: a member may be (or stay) the synchronous standby
 * if it runs as a replica, is not tagged nosync, was heard from recently
 * (fresh) and is on the leader's timeline (one still on an older, forked
 * timeline cannot stream from it).
 */
extern bool ha_sync_eligible(const HaMember *m, bool fresh, uint32_t leader_timeline);

/*
 * The standby to name: of the eligible members other than the leader
 * (self_name) and exclude (a stalled standby; NULL for none), the one with
 * the most WAL, the first listed on a tie.  fresh[i] is members[i]'s.
 * Returns its index, or -1 if there is none.
 */
extern int	ha_sync_choose(const HaMember *members, const bool *fresh, int n,
						   const char *self_name, uint32_t leader_timeline,
						   const char *exclude);

#endif							/* ROLE_H */
