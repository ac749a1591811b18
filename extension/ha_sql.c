/*-------------------------------------------------------------------------
 *
 * ha_sql.c
 *	  SQL functions: ha_status(), ha_switchover() and the other changes of
 *	  leader, ha_history(), ha_config(), ha_set_config().  Those of one
 *	  member (ha_restart(), ha_reinitialize()) are in ha_sql_member.c.
 *
 * They read the agent's view from shared memory and never talk to
 * ZooKeeper themselves, so they answer at once whatever ZooKeeper does.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"

#include "addr.h"
#include "cluster_keys.h"
#include "ha_clock.h"
#include "ha_shmem.h"
#include "ha_sql.h"
#include "iso_time.h"
#include "json_reader.h"
#include "json_writer.h"

PG_FUNCTION_INFO_V1(ha_status);

void
ha_sql_require_loaded(void)
{
	if (ha_shared == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_ha is not loaded"),
				 errhint("Add pg_ha to shared_preload_libraries and restart the server.")));
}

#define HA_STATUS_COLS 14		/* 13 in extension version 1.0: the rest is not used */

static Datum
tags_jsonb(const HaTags *t)
{
	char		buf[256];
	JsonBuf		jb;

	json_init(&jb, buf, sizeof(buf));
	json_object_begin(&jb);
	json_key(&jb, "nofailover");
	json_bool(&jb, t->nofailover);
	json_key(&jb, "noloadbalance");
	json_bool(&jb, t->noloadbalance);
	json_key(&jb, "nosync");
	json_bool(&jb, t->nosync);
	json_key(&jb, "clonefrom");
	json_bool(&jb, t->clonefrom);
	json_object_end(&jb);
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(jb.data));
}

static void
add_row(ReturnSetInfo *rsinfo, const HaView *v, const HaMember *m,
		const HaMember *leader, bool is_local)
{
	Datum		values[HA_STATUS_COLS];
	bool		nulls[HA_STATUS_COLS];
	char		host[HA_HOST_LEN];
	int			port;
	bool		is_leader = v->leader[0] && strcmp(m->name, v->leader) == 0;
	const char *role;

	memset(nulls, 0, sizeof(nulls));
	addr_split_conn_url(m->conn_url, host, sizeof(host), &port);

	/* our own row says what we report now, not the last key holder seen */
	if (is_local)
		is_leader = v->is_leader;
	if (is_leader)
		role = "leader";
	else if (strcmp(m->role, HA_ROLE_MASTER) == 0)
		role = "primary (not leader)";
	else
		role = m->role;

	values[0] = CStringGetTextDatum(m->name);
	values[1] = CStringGetTextDatum(role);
	values[2] = CStringGetTextDatum(m->state);
	values[3] = CStringGetTextDatum(host);
	values[4] = Int32GetDatum(port);
	values[5] = CStringGetTextDatum(m->api_url);
	values[6] = Int32GetDatum((int32) m->timeline);
	nulls[6] = m->timeline == 0;
	values[7] = LSNGetDatum((XLogRecPtr) m->xlog_location);
	nulls[7] = m->xlog_location == 0;
	if (leader && !is_leader && leader->xlog_location >= m->xlog_location &&
		m->xlog_location != 0)
		values[8] = Int64GetDatum((int64) (leader->xlog_location - m->xlog_location));
	else if (is_leader)
		values[8] = Int64GetDatum(0);
	else
		nulls[8] = true;
	values[9] = BoolGetDatum(ha_view_is_sync_standby(v, m->name));
	values[10] = tags_jsonb(&m->tags);
	values[11] = BoolGetDatum(is_local);
	values[12] = CStringGetTextDatum(is_local ? ha_zk_state_name(v->zk_state) :
									 v->zk_reachable ? "connected" : "unknown");
	/* maintenance mode: as this node sees it, or as the member published it */
	values[13] = BoolGetDatum(is_local ? v->paused : m->paused);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * ha_status(): one row per member.  When the agent cannot reach ZooKeeper
 * the rows of other members would be stale: then only the local row is
 * returned, with a WARNING that says since when ZooKeeper is unreachable.
 */
Datum
ha_status(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HaView	   *v;
	pid_t		pid;
	const HaMember *leader = NULL;
	bool		local_seen = false;

	InitMaterializedSRF(fcinfo, 0);

	ha_sql_require_loaded();

	v = palloc(sizeof(HaView));
	LWLockAcquire(ha_shared->lock, LW_SHARED);
	pid = ha_shared->worker_pid;
	memcpy(v, &ha_shared->view, sizeof(HaView));
	LWLockRelease(ha_shared->lock);

	if (pid == 0)
		ereport(WARNING,
				(errmsg("pg_ha agent is not running"),
				 errdetail("The rows show the last state it published, if any."),
				 errhint("Check the server log for the \"pg_ha agent\" background worker.")));
	else if (!v->zk_reachable)
	{
		ereport(WARNING,
				(errmsg("pg_ha: ZooKeeper is unreachable"),
				 errdetail("Unreachable since %s (%s). Only the local member is shown; the others' state is unknown while ZooKeeper cannot be reached.%s%s",
						   v->zk_unreachable_since ? timestamptz_to_str(v->zk_unreachable_since) : "start",
						   ha_zk_state_name(v->zk_state),
						   v->last_error[0] ? " Last error: " : "", v->last_error),
				 errhint("Check pg_ha.zk_hosts and the ZooKeeper servers; the agent keeps retrying.")));
		if (v->self.name[0])
			add_row(rsinfo, v, &v->self, NULL, true);
		return (Datum) 0;
	}

	if (v->slots_lost[0])
		ereport(WARNING,
				(errmsg("pg_ha: replication slot(s) of members invalidated on this node: %s", v->slots_lost),
				 errdetail("Their WAL was removed (max_slot_wal_keep_size): a member that still needs it cannot stream."),
				 errhint("Clone such a member again (patronictl reinit, or ha_reinitialize()).")));

	for (int i = 0; i < v->nmembers; i++)
		if (v->leader[0] && strcmp(v->members[i].name, v->leader) == 0)
			leader = &v->members[i];

	for (int i = 0; i < v->nmembers; i++)
	{
		bool		is_local = strcmp(v->members[i].name, v->self.name) == 0;

		add_row(rsinfo, v, is_local ? &v->self : &v->members[i], leader, is_local);
		local_seen |= is_local;
	}
	/* not registered (yet, or refused): still show ourselves */
	if (!local_seen && v->self.name[0])
		add_row(rsinfo, v, &v->self, leader, true);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(ha_switchover);

#define SWITCHOVER_ACCEPT_TIMEOUT_MS	10000
#define SWITCHOVER_TOTAL_TIMEOUT_MS		70000

void
ha_sql_nap(long ms)
{
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 ms, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
}

/*
 * ha_switchover(candidate text DEFAULT NULL): a planned change of leader,
 * from any node.  The local agent checks the request against the cluster
 * and writes it to ZooKeeper; the leader hands over (its supervisor stops
 * it once the candidate has all its WAL) and the candidate promotes.  Called
 * on a replica it returns the new leader's name once that accepts writes;
 * called on the leader itself, whose sessions end when it steps down, it
 * returns as soon as the hand-over has started.
 */
static Datum request_leader_change(const char *candidate, bool failover, bool force,
									const char *scheduled_at, bool cancel);

Datum
ha_switchover(PG_FUNCTION_ARGS)
{
	return request_leader_change(PG_ARGISNULL(0) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(0)),
								 false, false, "", false);
}

/*
 * ha_failover(candidate text, force boolean DEFAULT false): a manual
 * failover to candidate.  With a leader it is a switchover to it; with none
 * (the cluster is paused, or no member may be promoted by the rules) the
 * candidate is promoted if it is a healthy replica -- in synchronous mode
 * only the confirmed synchronous standby, unless forced (logged as such).
 */
PG_FUNCTION_INFO_V1(ha_failover);

Datum
ha_failover(PG_FUNCTION_ARGS)
{
	return request_leader_change(PG_ARGISNULL(0) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(0)),
								 true, PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1), "", false);
}

/*
 * ha_schedule_switchover(candidate text, at timestamptz): a switchover
 * kept in /failover and carried out by the leader at that time (as POST
 * /switchover with scheduled_at); returns the candidate once written.
 */
PG_FUNCTION_INFO_V1(ha_schedule_switchover);

Datum
ha_schedule_switchover(PG_FUNCTION_ARGS)
{
	const char *candidate = PG_ARGISNULL(0) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(0));
	TimestampTz at;
	char		iso[ISO_TIME_LEN];

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a scheduled switchover needs a time"),
				 errhint("Call ha_switchover() to switch over now.")));
	at = PG_GETARG_TIMESTAMPTZ(1);
	if (at <= GetCurrentTimestamp())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot schedule a switchover in the past")));
	iso_time_format(ha_timestamptz_to_unix_us(at), iso, sizeof(iso));
	return request_leader_change(candidate, false, false, iso, false);
}

/*
 * ha_cancel_switchover(): cancels the scheduled switchover (as DELETE
 * /switchover); returns the candidate it named, or an ERROR when none is
 * scheduled.
 */
PG_FUNCTION_INFO_V1(ha_cancel_switchover);

Datum
ha_cancel_switchover(PG_FUNCTION_ARGS)
{
	return request_leader_change("", false, false, "", true);
}

/*
 * Asks the agent for a switchover (now or scheduled), a failover, or the
 * cancel of a scheduled one through the slot, and waits for the outcome.
 */
static Datum
request_leader_change(const char *candidate, bool failover, bool force,
					  const char *scheduled_at, bool cancel)
{
	HaSwitchoverRequest *req;
	uint64		id;
	Latch	   *agent_latch;
	TimestampTz start = GetCurrentTimestamp();
	char		chosen[HA_NAME_LEN] = "";
	bool		accepted = false;

	ha_sql_require_loaded();
	if (strlen(candidate) >= HA_NAME_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("candidate name is too long")));

	req = &ha_shared->switchover;
	LWLockAcquire(ha_shared->lock, LW_EXCLUSIVE);
	agent_latch = ha_shared->agent_latch;
	if (ha_shared->worker_pid == 0 || agent_latch == NULL)
	{
		LWLockRelease(ha_shared->lock);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_ha agent is not running"),
				 errhint("Check the server log for the \"pg_ha agent\" background worker.")));
	}
	if (req->id != req->taken_id)
	{
		LWLockRelease(ha_shared->lock);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("another switchover request is being checked on this node"),
				 errhint("Try again in a moment.")));
	}
	id = ++req->id;
	strlcpy(req->candidate, candidate, sizeof(req->candidate));
	strlcpy(req->scheduled_at, scheduled_at, sizeof(req->scheduled_at));	/* "": now */
	req->cancel = cancel;
	req->failover = failover;
	req->force = force;
	req->answered_at_once = false;
	req->requester_latch = MyLatch;
	req->state = -1;
	req->error[0] = req->hint[0] = req->chosen[0] = '\0';
	LWLockRelease(ha_shared->lock);
	SetLatch(agent_latch);

	for (;;)
	{
		long		elapsed = TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());
		int			state;
		char		error[256],
					hint[256];
		bool		done;

		LWLockAcquire(ha_shared->lock, LW_SHARED);
		state = req->taken_id == id ? req->state : -1;
		strlcpy(error, req->error, sizeof(error));
		strlcpy(hint, req->hint, sizeof(hint));
		if (req->taken_id == id)
			strlcpy(chosen, req->chosen, sizeof(chosen));
		/* done: the candidate holds the key and runs as primary */
		done = false;
		if (chosen[0] && strcmp(ha_shared->view.leader, chosen) == 0)
		{
			for (int i = 0; i < ha_shared->view.nmembers; i++)
				if (strcmp(ha_shared->view.members[i].name, chosen) == 0 &&
					strcmp(ha_shared->view.members[i].role, HA_ROLE_MASTER) == 0 &&
					strcmp(ha_shared->view.members[i].state, "running") == 0)
					done = true;
		}
		LWLockRelease(ha_shared->lock);

		/* the candidate leads: the switchover happened, whatever came before */
		if (state >= 0 && (state == SW_DONE || done || state == SW_SCHEDULED))
			PG_RETURN_TEXT_P(cstring_to_text(chosen));
		if (state == SW_FAILED)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("%s %s: %s", cancel ? "cancel" : failover ? "failover" : "switchover",
							accepted ? "failed" : "refused", error),
					 hint[0] ? errhint("%s", hint) : 0));
		if (state == SW_RUNNING || state == SW_HANDOVER)
		{
			if (!accepted)
				ereport(LOG,
						(errmsg("pg_ha: %s to \"%s\" requested by %s", failover ? "failover" : "switchover",
								chosen, GetUserNameFromId(GetUserId(), false))));
			accepted = true;
		}
		if (state == SW_HANDOVER)
		{
			/* this node leads and hands over once our answer is on its way */
			LWLockAcquire(ha_shared->lock, LW_EXCLUSIVE);
			req->returned_id = id;
			LWLockRelease(ha_shared->lock);
			ereport(NOTICE,
					(errmsg("this node is the leader: it steps down now and its sessions end"),
					 errdetail("\"%s\" takes over once it has received all of this node's WAL.", chosen),
					 errhint("Reconnect through the router, or to \"%s\".", chosen)));
			PG_RETURN_TEXT_P(cstring_to_text(chosen));
		}
		if (!accepted && elapsed > SWITCHOVER_ACCEPT_TIMEOUT_MS)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("pg_ha agent did not take the switchover request within %d s",
							SWITCHOVER_ACCEPT_TIMEOUT_MS / 1000),
					 errhint("Check the server log for the \"pg_ha agent\" background worker.")));
		if (elapsed > SWITCHOVER_TOTAL_TIMEOUT_MS)
			ereport(ERROR,
					(errcode(ERRCODE_QUERY_CANCELED),
					 errmsg("switchover to \"%s\" did not complete within %d s",
							chosen, SWITCHOVER_TOTAL_TIMEOUT_MS / 1000),
					 errhint("SELECT * FROM ha_status() shows the roles now.")));
		ha_sql_nap(100);
	}
}

/*
 * ha_history(): the /history key as the agent read it last, one row per
 * timeline switch, oldest first.  A timestamp that is not ISO 8601 with a
 * zone (not one Patroni or pg_ha wrote) is NULL.
 */
PG_FUNCTION_INFO_V1(ha_history);

#define HA_HISTORY_COLS 5

Datum
ha_history(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *json;
	HaHistoryRow *rows;
	char		err[128];
	int			n;

	InitMaterializedSRF(fcinfo, 0);
	ha_sql_require_loaded();

	json = palloc(HA_HISTORY_JSON_CAP);
	LWLockAcquire(ha_shared->lock, LW_SHARED);
	memcpy(json, ha_shared->view.history_json, HA_HISTORY_JSON_CAP);
	LWLockRelease(ha_shared->lock);
	json[HA_HISTORY_JSON_CAP - 1] = '\0';

	rows = palloc(sizeof(HaHistoryRow) * HA_HISTORY_MAX);
	n = json[0] ? history_key_parse(json, strlen(json), rows, HA_HISTORY_MAX, err, sizeof(err)) : 0;
	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("pg_ha: the cluster history the agent holds is not readable: %s", err)));

	for (int i = 0; i < n; i++)
	{
		Datum		values[HA_HISTORY_COLS];
		bool		nulls[HA_HISTORY_COLS] = {false};
		int64		unix_us;

		values[0] = Int32GetDatum((int32) rows[i].timeline);
		values[1] = LSNGetDatum((XLogRecPtr) rows[i].lsn);
		values[2] = CStringGetTextDatum(rows[i].reason);
		if (rows[i].timestamp[0] && iso_time_parse(rows[i].timestamp, &unix_us))
			values[3] = TimestampTzGetDatum(ha_unix_us_to_timestamptz(unix_us));
		else
			nulls[3] = true;
		if (rows[i].new_leader[0])
			values[4] = CStringGetTextDatum(rows[i].new_leader);
		else
			nulls[4] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * ha_config(): the cluster configuration (/config) as this node's agent
 * read it last; NULL before the cluster has one.
 */
PG_FUNCTION_INFO_V1(ha_config);

Datum
ha_config(PG_FUNCTION_ARGS)
{
	char	   *json = palloc(HA_CONFIG_JSON_CAP);

	ha_sql_require_loaded();
	LWLockAcquire(ha_shared->lock, LW_SHARED);
	memcpy(json, ha_shared->view.config_json, HA_CONFIG_JSON_CAP);
	LWLockRelease(ha_shared->lock);
	json[HA_CONFIG_JSON_CAP - 1] = '\0';
	if (json[0] == '\0')
		PG_RETURN_NULL();
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

#define CONFIG_TIMEOUT_MS	10000

/* ERROR for a request slot: the agent is not running, or busy says what holds it. */
void
ha_sql_slot_unavailable(bool agent_running, const char *busy)
{
	ereport(ERROR,
			(errcode(agent_running ? ERRCODE_OBJECT_IN_USE : ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("%s", agent_running ? busy : "pg_ha agent is not running"),
			 errhint(agent_running ? "Try again in a moment." :
					 "Check the server log for the \"pg_ha agent\" background worker.")));
}

/*
 * ha_set_config(change jsonb, replace boolean DEFAULT false): changes the
 * cluster configuration, as PATCH /config (a JSON merge patch: null
 * removes a key) or, with replace, PUT /config.  The local agent merges,
 * checks and writes it with a compare-and-set; returns the new
 * configuration, which every agent applies.  A bad value, a conflicting
 * change made meanwhile, or an unreachable ZooKeeper is an ERROR and
 * changes nothing.
 */
PG_FUNCTION_INFO_V1(ha_set_config);

Datum
ha_set_config(PG_FUNCTION_ARGS)
{
	char	   *change = DatumGetCString(DirectFunctionCall1(jsonb_out, PG_GETARG_DATUM(0)));
	bool		replace = PG_GETARG_BOOL(1);
	HaConfigRequest *req;
	Latch	   *agent_latch;
	TimestampTz start = GetCurrentTimestamp();
	uint64		id;

	ha_sql_require_loaded();
	if (strlen(change) >= sizeof(ha_shared->config.body))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the configuration change is longer than %zu bytes",
						sizeof(ha_shared->config.body) - 1)));
	req = &ha_shared->config;
	LWLockAcquire(ha_shared->lock, LW_EXCLUSIVE);
	agent_latch = ha_shared->worker_pid != 0 ? ha_shared->agent_latch : NULL;
	if (agent_latch == NULL || req->id != req->taken_id ||
		(req->taken_id != 0 && req->state == HA_CONFIG_PENDING))
	{
		LWLockRelease(ha_shared->lock);
		ha_sql_slot_unavailable(agent_latch != NULL, "another configuration change is being made on this node");
	}
	id = ++req->id;
	req->replace = replace;
	strlcpy(req->body, change, sizeof(req->body));
	req->requester_latch = MyLatch;
	req->state = HA_CONFIG_PENDING;
	req->error[0] = req->result[0] = '\0';
	LWLockRelease(ha_shared->lock);
	SetLatch(agent_latch);

	for (;;)
	{
		int			state = HA_CONFIG_PENDING;
		char		error[256];
		char	   *result = palloc(HA_CONFIG_JSON_CAP);

		LWLockAcquire(ha_shared->lock, LW_SHARED);
		if (req->taken_id == id)
		{
			state = req->state;
			strlcpy(error, req->error, sizeof(error));
			strlcpy(result, req->result, HA_CONFIG_JSON_CAP);
		}
		LWLockRelease(ha_shared->lock);
		if (state == HA_CONFIG_DONE)
			PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(result)));
		if (state == HA_CONFIG_REFUSED)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("configuration change refused: %s", error),
					 errdetail("Nothing was changed.")));
		if (state == HA_CONFIG_CONFLICT)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("configuration change refused: %s", error),
					 errhint("Call ha_config() again and retry.")));
		if (state == HA_CONFIG_FAILED)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("configuration change failed: %s", error)));
		if (TimestampDifferenceMilliseconds(start, GetCurrentTimestamp()) > CONFIG_TIMEOUT_MS)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("pg_ha agent did not answer the configuration change within %d s",
							CONFIG_TIMEOUT_MS / 1000),
					 errhint("SELECT ha_config() shows the configuration now.")));
		pfree(result);
		ha_sql_nap(100);
	}
}
