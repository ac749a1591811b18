/*-------------------------------------------------------------------------
 *
 * ha_worker.c
 *	  The pg_ha agent: a background worker that holds this node's ZooKeeper
 *	  session, registers the member, elects the leader, promotes, follows,
 *	  fences, and serves the HTTP API.
 *
 * One thread does all the work (see ha_zk.c for how ZooKeeper's threads
 * hand over).  Each loop iteration: read the local postgres state from
 * shared memory, handle ZooKeeper events (ha_session.c), decide and act
 * (ha_duties.c, around role.c's pure decision), publish the view, and wait
 * on one WaitEventSet for the latch, postmaster death, the ZooKeeper pipe
 * and the HTTP sockets.  This file holds the loop, the node's identity and
 * the local state.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

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
#include "utils/guc_tables.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "addr.h"
#include "ha_agent.h"
#include "ha_allow.h"
#include "ha_tls.h"
#include "ha_api.h"
#include "ha_guc.h"
#include "ha_http.h"
#include "ha_local.h"

PGDLLEXPORT void ha_worker_main(Datum main_arg);

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

	snprintf(path, sizeof(path), "%s/%s", DataDir, HA_NODE_ID_FILE);
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
	/* https: what patronictl uses to reach us (its POSTs need TLS off loopback) */
	snprintf(self->api_url, sizeof(self->api_url), "%s://%s:%d/patroni",
			 ha_tls_configured() ? "https" : "http", api_host, api_port);

	self->system_id = GetSystemIdentifier();
	self->supervised = agent.supervised;
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
	snprintf(agent.status_path, ZK_PATH_LEN, "%s/status", agent.parents[1]);
	snprintf(agent.sync_path, ZK_PATH_LEN, "%s/sync", agent.parents[1]);
	snprintf(agent.failover_path, ZK_PATH_LEN, "%s/failover", agent.parents[1]);
	snprintf(agent.history_path, ZK_PATH_LEN, "%s/history", agent.parents[1]);
	snprintf(agent.config_path, ZK_PATH_LEN, "%s/config", agent.parents[1]);
}

/* Settings every member publishes so that mismatches can be seen. */
/* Does a setting changed in the files wait for a restart (pg_settings.pending_restart)? */
static bool
settings_pending_restart(void)
{
	struct config_generic **vars = get_guc_variables();
	int			n = GetNumConfigOptions();

	for (int i = 0; i < n; i++)
		if (vars[i]->status & GUC_PENDING_RESTART)
			return true;
	return false;
}

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
	self->pending_restart = settings_pending_restart();
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
		/* for the replicas: is the WAL they need still here */
		self->wal_oldest = stranded_wal_oldest();
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
		self->wal_oldest = 0;
		agent.view.replayed_timestamp = GetLatestXTime();
		agent.view.replay_paused = GetRecoveryPauseState() != RECOVERY_NOT_PAUSED;
		state = agent.stranded ? HA_STATE_STRANDED : HotStandbyActive() ? "running" : "starting";
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

/* Copies the view to shared memory, where ha_status() reads it. */
static void
publish_view(void)
{
	HaView	   *v = &agent.view;
	int			idx = session_member_index(v->self.name);

	/* keep our own member row fresh in the list */
	if (idx >= 0)
		v->members[idx] = v->self;

	LWLockAcquire(ha_shared->lock, LW_EXCLUSIVE);
	memcpy(&ha_shared->view, v, sizeof(HaView));
	LWLockRelease(ha_shared->lock);
	agent.view_dirty = false;
}

/*
 * Whether to close the ZooKeeper session when this process exits.  Closing
 * makes our ephemeral nodes (member, leader key) vanish at once, so a
 * replica can take over immediately.  Two exceptions keep the leader key:
 * a supervised leader that is being stopped (the supervisor releases the key
 * only after a replica has the shutdown checkpoint: DESIGN.md, section 3
 * "Graceful hand-over"), and a leader whose postmaster died when primary_start_timeout
 * asks for a restart in place.
 */
static bool keep_session_on_exit = false;

static void
agent_exit(int code, Datum arg)
{
	if (keep_session_on_exit)
		ereport(LOG,
				(errmsg("pg_ha: leaving the leader key of \"%s\" in place for %s",
						agent.view.self.name,
						agent.supervised ? "the supervisor's hand-over" : "a restart in place")));
	else
		zk_stop();
	ha_http_stop();
	if (ha_shared)
	{
		LWLockAcquire(ha_shared->lock, LW_EXCLUSIVE);
		ha_shared->worker_pid = 0;
		ha_shared->agent_latch = NULL;
		ha_shared->view.zk_state = HA_ZK_NOT_STARTED;
		ha_shared->view.is_leader = false;
		LWLockRelease(ha_shared->lock);
	}
}

/* SIGTERM: like die(), but first decide whether the leader key stays. */
static void
agent_sigterm(SIGNAL_ARGS)
{
	if (agent.view.is_leader && agent.supervised)
		keep_session_on_exit = true;
	die(postgres_signal_arg);
}

void
ha_worker_main(Datum main_arg)
{
	MemoryContext loop_cxt;
	int64		next_publish_ms = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, agent_sigterm);
	BackgroundWorkerUnblockSignals();

	memset(&agent, 0, sizeof(agent));
	agent.last_action = HA_ACT_WAIT;
	agent.supervised = ha_supervisor_pid() != 0;

	LWLockAcquire(ha_shared->lock, LW_EXCLUSIVE);
	ha_shared->worker_pid = MyProcPid;
	ha_shared->agent_latch = MyLatch;
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
	ha_allow_reload();
	ha_http_start(ha_api_listen, ha_api_max_connections, ha_api_handle, ha_api_poll,
				  ha_api_hand_off);

	ereport(LOG,
			(errmsg("pg_ha: agent started for node \"%s\" in cluster \"%s\" (ZooKeeper \"%s\", API \"%s\"%s)",
					agent.view.self.name, ha_scope, ha_zk_hosts, ha_api_listen,
					agent.supervised ? ", supervised" : "")));

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
		long		duty_timeout;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			refresh_settings();
			ha_allow_reload();
			agent.view_dirty = true;
		}

		old = MemoryContextSwitchTo(loop_cxt);

		refresh_local_state();
		if (agent.view.config_problem == NULL)
			session_start(now);
		session_handle_events(now);
		session_advance(now);
		switchover_note_created();
		duties_decide_and_act(now);
		switchover_poll_request(now);
		config_poll_request(now, session_reachable(now));
		restart_tick();
		reinit_poll_request(now);	/* before the HTTP answer it waits for */
		ha_allow_service(&agent.view);
		http_timeout = ha_http_service(now);

		if (agent.view_dirty || now >= next_publish_ms)
		{
			publish_view();
			next_publish_ms = now + 1000;
		}

		/* wake for the heartbeat, an HTTP deadline, a session restart or a duty */
		timeout = Min((long) ha_loop_wait * 1000, 250);
		if (!zk_started() && agent.view.config_problem == NULL)
			timeout = Max(Min(timeout, agent.zk_next_start_ms - now), 0);
		if (http_timeout >= 0)
			timeout = Min(timeout, http_timeout);
		duty_timeout = duties_wake_within_ms(now);
		if (duty_timeout >= 0)
			timeout = Min(timeout, duty_timeout);

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
				/*
				 * Close the session first, so a replica can take over at
				 * once -- unless a restart in place was asked for.
				 */
				keep_session_on_exit = agent.view.is_leader && ha_primary_start_timeout > 0;
				proc_exit(1);
			}
			if (ev->events & WL_LATCH_SET)
				ResetLatch(MyLatch);
			else if (ev->fd == zk_event_fd())
				;				/* drained by session_handle_events */
			else if (ev->events & (WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE))
				ha_http_handle_event(ev);
		}
		FreeWaitEventSet(set);
		MemoryContextSwitchTo(old);
		MemoryContextReset(loop_cxt);
	}
}
