/*-------------------------------------------------------------------------
 *
 * ha_worker.c
 *	  The pg_ha agent: a background worker that holds this node's ZooKeeper
 *	  session, registers the member, takes the leader key when it may, and
 *	  serves the HTTP API.
 *
 * One thread does all the work (see ha_zk.c for how ZooKeeper's threads
 * hand over).  Each loop iteration: read the local postgres state from
 * shared memory, handle ZooKeeper events, decide (role.c, a pure function),
 * issue the asynchronous ZooKeeper calls the decision needs, publish the
 * view, and wait on one WaitEventSet for the latch, postmaster death, the
 * ZooKeeper pipe and the HTTP sockets.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#include "access/xlog.h"
#include "access/xlogrecovery.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "postmaster/postmaster.h"
#include "replication/walreceiver.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "addr.h"
#include "ha_api.h"
#include "ha_guc.h"
#include "ha_http.h"
#include "ha_shmem.h"
#include "ha_zk.h"
#include "json_writer.h"
#include "role.h"

PGDLLEXPORT void ha_worker_main(Datum main_arg);

#define NODE_ID_FILE		"pg_ha.node"
#define ZK_BACKOFF_MIN_MS	500
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
	OP_LEADER_DELETE_STALE,
	OP_MEMBERS_LIST,			/* watch /members children */
	OP_MEMBER_GET,				/* read another member */
	OP_NUM_OPS
} ZkOp;

typedef enum MemberState
{
	MEMBER_NONE,
	MEMBER_REGISTERED,
	MEMBER_CONFLICT
} MemberState;

/* Everything the agent knows; the HTTP API reads `view` directly. */
typedef struct Agent
{
	HaView		view;

	/* identity and paths */
	char		node_id[HA_NAME_LEN];
	char		parents[3][ZK_PATH_LEN];
	char		init_path[ZK_PATH_LEN];
	char		leader_path[ZK_PATH_LEN];
	char		members_path[ZK_PATH_LEN];
	char		self_path[ZK_PATH_LEN];

	/* ZooKeeper session */
	int64		zk_next_start_ms;
	int			zk_backoff_ms;
	int64		zk_last_contact_ms;
	int64		zk_session;		/* id of the session we set up */
	int			inflight[OP_NUM_OPS];

	/* progress within the session */
	int			parents_done;	/* count of parents[] known to exist */
	bool		init_known;		/* /initialize read (or created) */
	bool		identity_ok;
	MemberState member_state;
	int64		member_retry_ms;
	int64		next_heartbeat_ms;
	bool		self_changed;	/* publish at once, not at the heartbeat */
	bool		leader_known;
	bool		leader_exists;
	int64		leader_owner;
	int32		leader_version;
	bool		members_stale;	/* re-list the members */

	bool		was_leader;		/* for the role-change log line */
	HaAction	last_action;
	bool		view_dirty;
} Agent;

static Agent agent;

static void
set_error(const char *fmt,...)
pg_attribute_printf(1, 2);

static void
set_error(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(agent.view.last_error, sizeof(agent.view.last_error), fmt, ap);
	va_end(ap);
	agent.view_dirty = true;
}

/* ---------------------------------------------------------------------
 * Identity: the node's name and a random id kept in its data directory.
 * The file also records the name and the data directory's inode: a clone
 * (pg_basebackup copies the file) lives in another directory, sees a
 * different inode, and makes its own id, so two nodes never share one.
 * ---------------------------------------------------------------------
 */
static void
load_node_id(const char *name)
{
	char		path[MAXPGPATH];
	char		tmp[MAXPGPATH];
	char		line[3 * HA_NAME_LEN + 8];
	struct stat st;
	unsigned long long inode = 0;
	FILE	   *f;
	uint64		rnd;

	if (stat(DataDir, &st) == 0)
		inode = (unsigned long long) st.st_ino;

	snprintf(path, sizeof(path), "%s/%s", DataDir, NODE_ID_FILE);
	f = AllocateFile(path, "r");
	if (f)
	{
		char		fname[HA_NAME_LEN];
		char		fid[HA_NAME_LEN];
		unsigned long long finode;

		if (fgets(line, sizeof(line), f) &&
			sscanf(line, "%63s %63s %llu", fname, fid, &finode) == 3 &&
			strcmp(fname, name) == 0 && finode == inode)
		{
			strlcpy(agent.node_id, fid, sizeof(agent.node_id));
			FreeFile(f);
			return;
		}
		FreeFile(f);
	}

	if (!pg_strong_random(&rnd, sizeof(rnd)))
		rnd = (uint64) MyStartTimestamp ^ ((uint64) MyProcPid << 32);
	snprintf(agent.node_id, sizeof(agent.node_id), "%016" INT64_MODIFIER "x", rnd);

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = AllocateFile(tmp, "w");
	if (f == NULL ||
		fprintf(f, "%s %s %llu\n", name, agent.node_id, inode) < 0 ||
		FreeFile(f) != 0 ||
		durable_rename(tmp, path, LOG) != 0)
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("pg_ha: could not write node id file \"%s\": %m", path),
				 errdetail("The node id is kept in memory only; a restart makes a new one.")));
}

static void
init_identity(void)
{
	HaMember   *self = &agent.view.self;
	char		host[HA_HOST_LEN];
	char		api_host[HA_HOST_LEN];
	int			port,
				api_port;
	char		why[128];

	if (ha_name && ha_name[0])
		strlcpy(self->name, ha_name, sizeof(self->name));
	else if (gethostname(self->name, sizeof(self->name)) != 0 || self->name[0] == '\0')
		strlcpy(self->name, "localhost", sizeof(self->name));
	self->name[HA_NAME_LEN - 1] = '\0';

	/* derive the addresses others use to reach us */
	if (ha_connect_address && ha_connect_address[0])
		addr_parse_host_port(ha_connect_address, host, sizeof(host), &port, why, sizeof(why));
	else
	{
		strlcpy(host, "127.0.0.1", sizeof(host));
		port = PostPortNumber;
	}
	if (ha_api_connect_address && ha_api_connect_address[0])
		addr_parse_host_port(ha_api_connect_address, api_host, sizeof(api_host),
							 &api_port, why, sizeof(why));
	else
	{
		addr_parse_host_port(ha_api_listen, api_host, sizeof(api_host),
							 &api_port, why, sizeof(why));
		if (strcmp(api_host, "*") == 0 || strcmp(api_host, "0.0.0.0") == 0 ||
			strcmp(api_host, "::") == 0)
			strlcpy(api_host, host, sizeof(api_host));
	}
	snprintf(self->conn_url, sizeof(self->conn_url), "postgres://%s:%d/postgres", host, port);
	snprintf(self->api_url, sizeof(self->api_url), "http://%s:%d/patroni", api_host, api_port);

	self->system_id = GetSystemIdentifier();
	load_node_id(self->name);
	strlcpy(self->node_id, agent.node_id, sizeof(self->node_id));

	snprintf(agent.parents[0], ZK_PATH_LEN, "%s", ha_namespace);
	snprintf(agent.parents[1], ZK_PATH_LEN, "%s/%s",
			 strcmp(ha_namespace, "/") == 0 ? "" : ha_namespace, ha_scope);
	snprintf(agent.parents[2], ZK_PATH_LEN, "%s/members", agent.parents[1]);
	snprintf(agent.init_path, ZK_PATH_LEN, "%s/initialize", agent.parents[1]);
	snprintf(agent.leader_path, ZK_PATH_LEN, "%s/leader", agent.parents[1]);
	snprintf(agent.members_path, ZK_PATH_LEN, "%s", agent.parents[2]);
	snprintf(agent.self_path, ZK_PATH_LEN, "%s/%s", agent.members_path, self->name);
}

/* Settings every member publishes so that mismatches can be seen. */
static void
refresh_settings(void)
{
	HaMember   *self = &agent.view.self;

	self->ttl = ha_ttl;
	self->retry_timeout = ha_retry_timeout;
	self->synchronous_mode = ha_synchronous_mode;
	self->maximum_lag_on_failover = ha_maximum_lag_on_failover;
	self->tags.nofailover = ha_nofailover;
	self->tags.noloadbalance = ha_noloadbalance;
	self->tags.nosync = ha_nosync;
	self->tags.clonefrom = ha_clonefrom;
	agent.view.config_problem = ha_config_problem();
	agent.self_changed = true;
}

/* ---------------------------------------------------------------------
 * Local postgres state, from shared memory (no connection needed).
 * ---------------------------------------------------------------------
 */
static void
refresh_local_state(void)
{
	HaMember   *self = &agent.view.self;
	bool		in_recovery = RecoveryInProgress();
	const char *role = in_recovery ? HA_ROLE_REPLICA : HA_ROLE_MASTER;
	const char *state;
	TimeLineID	tli = 0;

	if (!in_recovery)
	{
		self->xlog_location = GetFlushRecPtr(&tli);
		self->replayed_location = 0;
		agent.view.received_location = 0;
		state = "running";
	}
	else
	{
		XLogRecPtr	replay = GetXLogReplayRecPtr(&tli);
		TimeLineID	rtli;
		XLogRecPtr	received = GetWalRcvFlushRecPtr(NULL, &rtli);

		self->replayed_location = replay;
		agent.view.received_location = received;
		self->xlog_location = Max(received, replay);
		agent.view.replayed_timestamp = GetLatestXTime();
		state = HotStandbyActive() ? "running" : "starting";
	}

	if (strcmp(self->role, role) != 0 || strcmp(self->state, state) != 0 ||
		self->timeline != tli)
	{
		strlcpy(self->role, role, sizeof(self->role));
		strlcpy(self->state, state, sizeof(self->state));
		self->timeline = tli;
		agent.self_changed = true;
		agent.view_dirty = true;
	}
}

/* ---------------------------------------------------------------------
 * ZooKeeper session
 * ---------------------------------------------------------------------
 */
static void
reset_session_progress(void)
{
	agent.parents_done = 0;
	agent.init_known = false;
	agent.identity_ok = false;
	agent.member_state = MEMBER_NONE;
	agent.leader_known = false;
	agent.leader_exists = false;
	agent.members_stale = true;
	memset(agent.inflight, 0, sizeof(agent.inflight));
	agent.view_dirty = true;
}

static void
mark_unreachable(void)
{
	if (agent.view.zk_unreachable_since == 0)
		agent.view.zk_unreachable_since = GetCurrentTimestamp();
	agent.view_dirty = true;
}

static void
start_session(int64 now)
{
	char		why[128];

	if (zk_started() || now < agent.zk_next_start_ms)
		return;
	reset_session_progress();
	mark_unreachable();
	if (!zk_start(ha_zk_hosts, ha_ttl * 1000, why, sizeof(why)))
	{
		set_error("could not start a ZooKeeper session with \"%s\": %s", ha_zk_hosts, why);
		ereport(LOG,
				(errmsg("pg_ha: could not start a ZooKeeper session with \"%s\": %s",
						ha_zk_hosts, why),
				 errhint("The agent retries in %d ms.", agent.zk_backoff_ms)));
		agent.zk_next_start_ms = now + agent.zk_backoff_ms;
		agent.zk_backoff_ms = Min(agent.zk_backoff_ms * 2, ha_ttl * 1000);
		return;
	}
	agent.view.zk_state = HA_ZK_CONNECTING;
}

static void
end_session(const char *why, int64 now)
{
	zk_stop();
	agent.view.zk_state = HA_ZK_EXPIRED;
	agent.view.is_leader = false;
	reset_session_progress();
	mark_unreachable();
	set_error("%s", why);
	agent.zk_next_start_ms = now + agent.zk_backoff_ms;
	agent.zk_backoff_ms = Min(agent.zk_backoff_ms * 2, ha_ttl * 1000);
}

static void
handle_session_event(const ZkEvent *ev, int64 now)
{
	if (ev->state == ZOO_CONNECTED_STATE)
	{
		int64		sid = zk_session_id();

		if (agent.view.zk_state != HA_ZK_CONNECTED)
			ereport(LOG,
					(errmsg("pg_ha: connected to ZooKeeper (session 0x%" INT64_MODIFIER "x)", sid)));
		agent.view.zk_state = HA_ZK_CONNECTED;
		agent.view.zk_unreachable_since = 0;
		agent.view.last_error[0] = '\0';
		agent.zk_last_contact_ms = now;
		agent.view.zk_last_contact = GetCurrentTimestamp();
		agent.zk_backoff_ms = ZK_BACKOFF_MIN_MS;
		if (sid != agent.zk_session)
		{
			agent.zk_session = sid;
			reset_session_progress();
		}
		else
		{
			/* same session back: re-read what may have changed meanwhile */
			agent.leader_known = false;
			agent.members_stale = true;
		}
		agent.view_dirty = true;
	}
	else if (ev->state == ZOO_CONNECTING_STATE || ev->state == ZOO_ASSOCIATING_STATE)
	{
		if (agent.view.zk_state == HA_ZK_CONNECTED)
			ereport(LOG, (errmsg("pg_ha: lost the connection to ZooKeeper, reconnecting")));
		agent.view.zk_state = HA_ZK_CONNECTING;
		mark_unreachable();
	}
	else if (ev->state == ZOO_EXPIRED_SESSION_STATE)
	{
		ereport(LOG, (errmsg("pg_ha: ZooKeeper session expired, starting a new one")));
		end_session("ZooKeeper session expired", now);
		agent.zk_next_start_ms = now;	/* at once: the server is reachable */
	}
	else if (ev->state == ZOO_AUTH_FAILED_STATE)
	{
		ereport(LOG, (errmsg("pg_ha: ZooKeeper authentication failed")));
		end_session("ZooKeeper authentication failed", now);
	}
}

static bool
zk_reachable(int64 now)
{
	/* /primary goes 503 well before retry_timeout when replies stop */
	int64		stale_ms = Min((int64) ha_retry_timeout * 1000,
							   Max((int64) ha_loop_wait * 3000, 2000));

	return agent.view.zk_state == HA_ZK_CONNECTED &&
		now - agent.zk_last_contact_ms <= stale_ms;
}

static void
issue(ZkOp op, int rc)
{
	if (rc == ZOK)
		agent.inflight[op]++;
	else
		ereport(DEBUG1, (errmsg("pg_ha: ZooKeeper call %d not sent: %s", op, zk_error_name(rc))));
}

static int
member_json(char *buf, size_t cap)
{
	JsonBuf		jb;

	json_init(&jb, buf, cap);
	member_to_json(&agent.view.self, &jb);
	return jb.overflow ? -1 : (int) jb.len;
}

static void
register_member(void)
{
	char		buf[MEMBER_JSON_CAP];
	int			len = member_json(buf, sizeof(buf));

	if (len >= 0)
		issue(OP_MEMBER_CREATE, zk_create(OP_MEMBER_CREATE, agent.self_path, buf, len, true));
}

static void
heartbeat(void)
{
	char		buf[MEMBER_JSON_CAP];
	int			len = member_json(buf, sizeof(buf));

	if (len >= 0)
		issue(OP_MEMBER_SET, zk_set(OP_MEMBER_SET, agent.self_path, buf, len, -1));
}

/* Index of a member by name, or -1. */
static int
member_index(const char *name)
{
	for (int i = 0; i < agent.view.nmembers; i++)
		if (strcmp(agent.view.members[i].name, name) == 0)
			return i;
	return -1;
}

static int
member_name_cmp(const void *a, const void *b)
{
	return strcmp(((const HaMember *) a)->name, ((const HaMember *) b)->name);
}

static void
update_member_list(const ZkEvent *ev)
{
	HaMember	old[HA_MAX_MEMBERS];
	int			nold = agent.view.nmembers;
	int			n = 0;

	memcpy(old, agent.view.members, sizeof(old));
	for (int i = 0; i < ev->nchildren && n < HA_MAX_MEMBERS; i++)
	{
		const char *name = ev->children[i];
		int			j;

		if (strlen(name) >= HA_NAME_LEN)
			continue;
		for (j = 0; j < nold; j++)
			if (strcmp(old[j].name, name) == 0)
				break;
		if (j < nold)
			agent.view.members[n] = old[j];
		else
		{
			memset(&agent.view.members[n], 0, sizeof(HaMember));
			strlcpy(agent.view.members[n].name, name, HA_NAME_LEN);
			strlcpy(agent.view.members[n].state, "unknown", HA_STATE_LEN);
			strlcpy(agent.view.members[n].role, "unknown", HA_ROLE_LEN);
		}
		n++;
	}
	if (ev->nchildren > HA_MAX_MEMBERS)
		ereport(WARNING,
				(errmsg("pg_ha: %d members registered, only %d are tracked",
						ev->nchildren, HA_MAX_MEMBERS)));
	agent.view.nmembers = n;
	/* ordered by name, so every node lists the members alike */
	qsort(agent.view.members, n, sizeof(HaMember), member_name_cmp);
	agent.view_dirty = true;
}

static bool
same_cluster_settings(const HaMember *a, const HaMember *b)
{
	return a->ttl == b->ttl && a->retry_timeout == b->retry_timeout &&
		a->synchronous_mode == b->synchronous_mode &&
		a->maximum_lag_on_failover == b->maximum_lag_on_failover;
}

/* Warns once when a member's cluster-wide settings first differ from ours. */
static void
warn_setting_mismatch(const HaMember *before, const HaMember *m)
{
	const HaMember *self = &agent.view.self;

	if (same_cluster_settings(m, self) ||
		(before->ttl != 0 && same_cluster_settings(before, m)))
		return;
	ereport(WARNING,
			(errmsg("pg_ha: member \"%s\" has different cluster-wide settings", m->name),
			 errdetail("ttl %d/%d, retry_timeout %d/%d, synchronous_mode %d/%d, maximum_lag_on_failover " UINT64_FORMAT "/" UINT64_FORMAT " (theirs/ours).",
					   m->ttl, self->ttl, m->retry_timeout, self->retry_timeout,
					   m->synchronous_mode, self->synchronous_mode,
					   (uint64) m->maximum_lag_on_failover,
					   (uint64) self->maximum_lag_on_failover),
			 errhint("Set pg_ha.ttl, pg_ha.retry_timeout, pg_ha.synchronous_mode and pg_ha.maximum_lag_on_failover alike on every node.")));
}

/* Reads every other member's data (refreshes their positions). */
static void
read_members(void)
{
	for (int i = 0; i < agent.view.nmembers; i++)
	{
		char		path[ZK_PATH_LEN];

		if (strcmp(agent.view.members[i].name, agent.view.self.name) == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", agent.members_path,
				 agent.view.members[i].name);
		issue(OP_MEMBER_GET, zk_get(OP_MEMBER_GET, path, false));
	}
}

static const char *
path_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Is this a reply from the server (as opposed to a lost connection)? */
static bool
is_server_reply(int rc)
{
	return rc != ZCONNECTIONLOSS && rc != ZOPERATIONTIMEOUT &&
		rc != ZSESSIONEXPIRED && rc != ZCLOSING && rc != ZINVALIDSTATE &&
		rc != ZSYSTEMERROR;
}

static void
handle_result(const ZkEvent *ev, int64 now)
{
	HaMember   *self = &agent.view.self;

	if (ev->op >= 0 && ev->op < OP_NUM_OPS && agent.inflight[ev->op] > 0)
		agent.inflight[ev->op]--;
	if (is_server_reply(ev->rc))
	{
		agent.zk_last_contact_ms = now;
		agent.view.zk_last_contact = GetCurrentTimestamp();
	}
	agent.view_dirty = true;

	switch ((ZkOp) ev->op)
	{
		case OP_PARENT:
			if (ev->rc == ZOK || ev->rc == ZNODEEXISTS)
				agent.parents_done++;
			break;

		case OP_INIT_GET:
			if (ev->rc == ZOK)
			{
				uint64		cluster_id = ev->data ? strtou64(ev->data, NULL, 10) : 0;

				agent.init_known = true;
				agent.identity_ok = cluster_id == self->system_id;
				if (!agent.identity_ok)
				{
					set_error("data directory belongs to another cluster: system identifier " UINT64_FORMAT ", cluster's is " UINT64_FORMAT,
							  (uint64) self->system_id, cluster_id);
					ereport(LOG,
							(errmsg("pg_ha: refusing to join cluster \"%s\": this data directory belongs to another cluster",
									ha_scope),
							 errdetail("The system identifier is " UINT64_FORMAT "; the cluster's (in %s) is " UINT64_FORMAT ".",
									   (uint64) self->system_id, agent.init_path, cluster_id),
							 errhint("Point pg_ha.scope at this data directory's cluster, or re-clone this node from the cluster's leader.")));
				}
			}
			else if (ev->rc == ZNONODE)
			{
				/*
				 * Nobody initialized the cluster yet.  A primary claims it
				 * with its system identifier; a replica (a clone, so the
				 * same identifier) goes on without.
				 */
				agent.identity_ok = true;
				if (strcmp(self->role, HA_ROLE_MASTER) != 0)
					agent.init_known = true;
				else
				{
					char		buf[32];

					snprintf(buf, sizeof(buf), UINT64_FORMAT, (uint64) self->system_id);
					issue(OP_INIT_CREATE, zk_create(OP_INIT_CREATE, agent.init_path, buf,
													strlen(buf), false));
				}
			}
			break;

		case OP_INIT_CREATE:
			/* either way (created, or someone else did), read it back */
			if (is_server_reply(ev->rc))
				agent.init_known = false;
			break;

		case OP_MEMBER_CREATE:
			if (ev->rc == ZOK)
			{
				agent.member_state = MEMBER_REGISTERED;
				agent.self_changed = false;
				agent.members_stale = true;
				ereport(LOG, (errmsg("pg_ha: registered member \"%s\" in cluster \"%s\" as %s",
									 self->name, ha_scope, self->role)));
			}
			else if (ev->rc == ZNODEEXISTS)
				issue(OP_MEMBER_GET_SELF, zk_get(OP_MEMBER_GET_SELF, agent.self_path, false));
			break;

		case OP_MEMBER_GET_SELF:
			if (ev->rc == ZOK)
			{
				HaMember	other;
				char		err[128];

				memset(&other, 0, sizeof(other));
				if (ev->has_stat && ev->ephemeral_owner == zk_session_id())
				{
					/* our own create went through before a lost reply */
					agent.member_state = MEMBER_REGISTERED;
				}
				else if (ev->data && member_from_json(ev->data, ev->datalen, &other, err, sizeof(err)) &&
						 strcmp(other.node_id, agent.node_id) == 0)
				{
					/* left by an earlier session of this very node: replace it */
					issue(OP_MEMBER_DELETE_STALE,
						  zk_delete(OP_MEMBER_DELETE_STALE, agent.self_path, ev->version));
				}
				else
				{
					if (agent.member_state != MEMBER_CONFLICT)
						ereport(LOG,
								(errmsg("pg_ha: refusing to register: another node is already registered as \"%s\"",
										self->name),
								 errdetail("Its node id is \"%s\"; ours is \"%s\".",
										   other.node_id, agent.node_id),
								 errhint("Give every node its own pg_ha.name.")));
					set_error("another node is already registered as \"%s\"", self->name);
					agent.member_state = MEMBER_CONFLICT;
					agent.member_retry_ms = now + (int64) ha_ttl * 1000;
				}
			}
			/* ZNONODE: it vanished meanwhile; the next tick registers */
			break;

		case OP_MEMBER_DELETE_STALE:
			break;				/* the next tick registers again */

		case OP_MEMBER_SET:
			if (ev->rc == ZNONODE)
			{
				/* someone deleted our member node: register again */
				agent.member_state = MEMBER_NONE;
			}
			break;

		case OP_LEADER_EXISTS:
			if (ev->rc == ZOK && ev->has_stat)
			{
				agent.leader_exists = true;
				agent.leader_owner = ev->ephemeral_owner;
				agent.leader_version = ev->version;
				agent.view.leader_epoch = ev->czxid;
				issue(OP_LEADER_GET, zk_get(OP_LEADER_GET, agent.leader_path, false));
			}
			else if (ev->rc == ZNONODE)
			{
				agent.leader_known = true;
				agent.leader_exists = false;
				agent.view.leader[0] = '\0';
				agent.view.leader_epoch = 0;
			}
			break;

		case OP_LEADER_GET:
			if (ev->rc == ZOK)
			{
				agent.leader_known = true;
				agent.leader_exists = true;
				agent.leader_owner = ev->ephemeral_owner;
				agent.leader_version = ev->version;
				agent.view.leader_epoch = ev->czxid;
				strlcpy(agent.view.leader, ev->data ? ev->data : "", HA_NAME_LEN);
			}
			else if (ev->rc == ZNONODE)
			{
				agent.leader_known = true;
				agent.leader_exists = false;
				agent.view.leader[0] = '\0';
			}
			break;

		case OP_LEADER_CREATE:
			if (ev->rc == ZOK && ev->has_stat)
			{
				agent.leader_known = true;
				agent.leader_exists = true;
				agent.leader_owner = ev->ephemeral_owner;
				agent.leader_version = ev->version;
				agent.view.leader_epoch = ev->czxid;
				strlcpy(agent.view.leader, self->name, HA_NAME_LEN);
			}
			else if (is_server_reply(ev->rc))
				agent.leader_known = false; /* lost the race: re-read */
			break;

		case OP_LEADER_DELETE_STALE:
			agent.leader_known = false;
			break;

		case OP_MEMBERS_LIST:
			if (ev->rc == ZOK)
			{
				update_member_list(ev);
				agent.members_stale = false;
				read_members();
			}
			break;

		case OP_MEMBER_GET:
			if (ev->rc == ZOK && ev->path)
			{
				int			idx = member_index(path_basename(ev->path));
				HaMember	m;
				char		err[128];

				if (idx < 0)
					break;
				memset(&m, 0, sizeof(m));
				strlcpy(m.name, agent.view.members[idx].name, HA_NAME_LEN);
				if (ev->data && member_from_json(ev->data, ev->datalen, &m, err, sizeof(err)))
				{
					warn_setting_mismatch(&agent.view.members[idx], &m);
					agent.view.members[idx] = m;
				}
				else
				{
					strlcpy(agent.view.members[idx].state, "unreadable", HA_STATE_LEN);
					ereport(DEBUG1,
							(errmsg("pg_ha: member \"%s\" has unreadable data: %s",
									m.name, ev->data ? err : "empty")));
				}
			}
			break;

		case OP_NUM_OPS:
			break;
	}
}

static void
handle_zk_events(int64 now)
{
	ZkEvent    *ev;

	while ((ev = zk_next_event()) != NULL)
	{
		if (ev->generation == zk_generation() && zk_started())
		{
			switch (ev->kind)
			{
				case ZKEV_SESSION:
					handle_session_event(ev, now);
					break;
				case ZKEV_WATCH:
					if (ev->path && strcmp(ev->path, agent.leader_path) == 0)
						agent.leader_known = false;
					else if (ev->path && strcmp(ev->path, agent.members_path) == 0)
						agent.members_stale = true;
					break;
				case ZKEV_RESULT:
					handle_result(ev, now);
					break;
			}
		}
		zk_free_event(ev);
	}
}

/* ---------------------------------------------------------------------
 * Decide and act
 * ---------------------------------------------------------------------
 */

/* Brings the session's setup forward one step at a time. */
static void
advance_session(int64 now)
{
	if (agent.view.zk_state != HA_ZK_CONNECTED)
		return;

	if (agent.parents_done < (int) lengthof(agent.parents))
	{
		/* created in order; each waits for the one above it */
		if (agent.inflight[OP_PARENT] == 0)
			issue(OP_PARENT, zk_create(OP_PARENT, agent.parents[agent.parents_done],
									   "", 0, false));
		return;
	}

	if (!agent.init_known && agent.inflight[OP_INIT_GET] == 0 &&
		agent.inflight[OP_INIT_CREATE] == 0)
		issue(OP_INIT_GET, zk_get(OP_INIT_GET, agent.init_path, false));

	if (!agent.leader_known && agent.inflight[OP_LEADER_EXISTS] == 0 &&
		agent.inflight[OP_LEADER_GET] == 0 && agent.inflight[OP_LEADER_CREATE] == 0 &&
		agent.inflight[OP_LEADER_DELETE_STALE] == 0)
		issue(OP_LEADER_EXISTS, zk_exists(OP_LEADER_EXISTS, agent.leader_path, true));

	if (agent.members_stale && agent.inflight[OP_MEMBERS_LIST] == 0)
		issue(OP_MEMBERS_LIST, zk_get_children(OP_MEMBERS_LIST, agent.members_path, true));

	if (!agent.identity_ok)
		return;

	switch (agent.member_state)
	{
		case MEMBER_NONE:
			if (agent.inflight[OP_MEMBER_CREATE] == 0 &&
				agent.inflight[OP_MEMBER_GET_SELF] == 0 &&
				agent.inflight[OP_MEMBER_DELETE_STALE] == 0)
				register_member();
			break;
		case MEMBER_CONFLICT:
			if (now >= agent.member_retry_ms)
				agent.member_state = MEMBER_NONE;
			break;
		case MEMBER_REGISTERED:
			if ((agent.self_changed || now >= agent.next_heartbeat_ms) &&
				agent.inflight[OP_MEMBER_SET] == 0)
			{
				heartbeat();
				agent.self_changed = false;
				agent.next_heartbeat_ms = now + (int64) ha_loop_wait * 1000;
				/* the same cadence refreshes the others' positions */
				if (agent.inflight[OP_MEMBER_GET] == 0)
					read_members();
			}
			break;
	}
}

static void
log_role_change(const HaDecision *d)
{
	if (d->is_leader && !agent.was_leader)
		ereport(LOG,
				(errmsg("pg_ha: role change: \"%s\" is now the leader of cluster \"%s\" (epoch " INT64_FORMAT ")",
						agent.view.self.name, ha_scope, agent.view.leader_epoch)));
	else if (!d->is_leader && agent.was_leader)
		ereport(LOG,
				(errmsg("pg_ha: role change: \"%s\" is no longer the leader: %s",
						agent.view.self.name, d->reason)));
	else if (d->action != agent.last_action &&
			 d->action == HA_ACT_PRIMARY_NOT_LEADER)
		ereport(WARNING,
				(errmsg("pg_ha: this node is a primary but \"%s\" holds the leader key",
						agent.view.leader),
				 errdetail("It reports itself as not the leader; /primary answers 503.")));
	agent.was_leader = d->is_leader;
	agent.last_action = d->action;
}

static void
decide_and_act(int64 now)
{
	HaFacts		f;
	HaDecision	d;

	memset(&f, 0, sizeof(f));
	f.config_ok = agent.view.config_problem == NULL;
	f.pg_running = strcmp(agent.view.self.state, "running") == 0;
	f.in_recovery = strcmp(agent.view.self.role, HA_ROLE_REPLICA) == 0;
	f.zk_reachable = zk_reachable(now);
	f.identity_ok = agent.identity_ok && agent.init_known;
	f.registered = agent.member_state == MEMBER_REGISTERED;
	f.leader_known = agent.leader_known;
	f.leader_exists = agent.leader_exists;
	f.leader_is_self = agent.leader_exists &&
		strcmp(agent.view.leader, agent.view.self.name) == 0;
	f.leader_owned = f.leader_is_self && agent.leader_owner == zk_session_id();

	d = ha_decide(&f);

	switch (d.action)
	{
		case HA_ACT_ACQUIRE_LEADER:
			if (agent.inflight[OP_LEADER_CREATE] == 0)
				issue(OP_LEADER_CREATE,
					  zk_create(OP_LEADER_CREATE, agent.leader_path, agent.view.self.name,
								strlen(agent.view.self.name), true));
			break;
		case HA_ACT_RELEASE_STALE_KEY:
			if (agent.inflight[OP_LEADER_DELETE_STALE] == 0)
				issue(OP_LEADER_DELETE_STALE,
					  zk_delete(OP_LEADER_DELETE_STALE, agent.leader_path,
								agent.leader_version));
			break;
		default:
			break;
	}

	log_role_change(&d);
	if (agent.view.is_leader != d.is_leader ||
		agent.view.zk_reachable != f.zk_reachable)
		agent.view_dirty = true;
	agent.view.is_leader = d.is_leader;
	agent.view.zk_reachable = f.zk_reachable;
}

/* Copies the view to shared memory, where ha_status() reads it. */
static void
publish_view(void)
{
	HaView	   *v = &agent.view;

	/* keep our own member row fresh in the list */
	int			idx = member_index(v->self.name);

	if (idx >= 0)
		v->members[idx] = v->self;

	LWLockAcquire(ha_shared->lock, LW_EXCLUSIVE);
	memcpy(&ha_shared->view, v, sizeof(HaView));
	LWLockRelease(ha_shared->lock);
	agent.view_dirty = false;
}

/* ---------------------------------------------------------------------
 * Main loop
 * ---------------------------------------------------------------------
 */
static void
agent_exit(int code, Datum arg)
{
	/* close the session: our ephemeral nodes vanish at once */
	zk_stop();
	ha_http_stop();
	if (ha_shared)
	{
		LWLockAcquire(ha_shared->lock, LW_EXCLUSIVE);
		ha_shared->worker_pid = 0;
		ha_shared->view.zk_state = HA_ZK_NOT_STARTED;
		ha_shared->view.is_leader = false;
		LWLockRelease(ha_shared->lock);
	}
}

void
ha_worker_main(Datum main_arg)
{
	MemoryContext loop_cxt;
	int64		next_publish_ms = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	memset(&agent, 0, sizeof(agent));
	agent.zk_backoff_ms = ZK_BACKOFF_MIN_MS;
	agent.last_action = HA_ACT_WAIT;

	LWLockAcquire(ha_shared->lock, LW_EXCLUSIVE);
	ha_shared->worker_pid = MyProcPid;
	LWLockRelease(ha_shared->lock);
	before_shmem_exit(agent_exit, (Datum) 0);

	init_identity();
	refresh_settings();
	refresh_local_state();
	if (agent.view.config_problem)
		ereport(LOG,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pg_ha: the agent will not act: %s", agent.view.config_problem),
				 errhint("Fix the setting and reload; the HTTP API reports the node as not leader meanwhile.")));

	ha_api_init(&agent.view);
	ha_http_start(ha_api_listen, ha_api_max_connections, ha_api_handle, ha_api_poll);

	ereport(LOG,
			(errmsg("pg_ha: agent started for node \"%s\" in cluster \"%s\" (ZooKeeper \"%s\", API \"%s\")",
					agent.view.self.name, ha_scope, ha_zk_hosts, ha_api_listen)));

	loop_cxt = AllocSetContextCreate(TopMemoryContext, "pg_ha loop",
									 ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		MemoryContext old;
		WaitEventSet *set;
		WaitEvent	events[16];
		int			nevents;
		int64		now = ha_mono_ms();
		long		timeout;
		long		http_timeout;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			refresh_settings();
			agent.view_dirty = true;
		}

		refresh_local_state();
		if (agent.view.config_problem == NULL)
			start_session(now);
		handle_zk_events(now);
		advance_session(now);
		decide_and_act(now);
		http_timeout = ha_http_service(now);

		if (agent.view_dirty || now >= next_publish_ms)
		{
			publish_view();
			next_publish_ms = now + 1000;
		}

		/* wake for the heartbeat, an HTTP deadline or a session restart */
		timeout = (long) ha_loop_wait * 1000;
		if (agent.view.zk_state == HA_ZK_CONNECTED && agent.member_state == MEMBER_REGISTERED)
			timeout = Max(Min(timeout, agent.next_heartbeat_ms - now), 0);
		if (!zk_started() && agent.view.config_problem == NULL)
			timeout = Max(Min(timeout, agent.zk_next_start_ms - now), 0);
		if (http_timeout >= 0)
			timeout = Min(timeout, http_timeout);

		old = MemoryContextSwitchTo(loop_cxt);
		set = CreateWaitEventSet(loop_cxt, 3 + ha_http_wait_events());
		AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
		AddWaitEventToSet(set, WL_POSTMASTER_DEATH, PGINVALID_SOCKET, NULL, NULL);
		AddWaitEventToSet(set, WL_SOCKET_READABLE, zk_event_fd(), NULL, NULL);
		ha_http_add_events(set);
		nevents = WaitEventSetWait(set, timeout, events, lengthof(events),
								   PG_WAIT_EXTENSION);
		for (int i = 0; i < nevents; i++)
		{
			WaitEvent  *ev = &events[i];

			if (ev->events & WL_POSTMASTER_DEATH)
			{
				/* close the session first, so a replica can take over at once */
				zk_stop();
				proc_exit(1);
			}
			if (ev->events & WL_LATCH_SET)
				ResetLatch(MyLatch);
			else if (ev->fd == zk_event_fd())
				;				/* drained by handle_zk_events */
			else if (ev->events & (WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE))
				ha_http_handle_event(ev);
		}
		FreeWaitEventSet(set);
		MemoryContextSwitchTo(old);
		MemoryContextReset(loop_cxt);
	}
}
