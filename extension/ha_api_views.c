/*-------------------------------------------------------------------------
 *
 * ha_api_views.c
 *	  The documents the agent's HTTP API answers with, rendered from its
 *	  view (HaView) alone: the status JSON of /patroni and the health
 *	  paths, /cluster, this node's settings for /config, and the
 *	  Prometheus text of /metrics (Patroni's names and pg_ha's own).
 *	  ha_api.c routes the requests and answers them with these.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/timestamp.h"

#include "addr.h"
#include "ha_api_views.h"
#include "ha_http.h"
#include "ha_gate.h"
#include "ha_guc.h"
#include "json_writer.h"

const HaMember *
api_find_member(const HaView *v, const char *name)
{
	if (name[0] == '\0')
		return NULL;
	for (int i = 0; i < v->nmembers; i++)
		if (strcmp(v->members[i].name, name) == 0)
			return &v->members[i];
	return NULL;
}

static void
json_timestamp(JsonBuf *jb, TimestampTz ts)
{
	if (ts == 0)
		json_null(jb);
	else
		json_string(jb, timestamptz_to_str(ts));
}

static void
json_tags(JsonBuf *jb, const HaTags *t)
{
	json_object_begin(jb);
	json_key(jb, "nofailover");
	json_bool(jb, t->nofailover);
	json_key(jb, "noloadbalance");
	json_bool(jb, t->noloadbalance);
	json_key(jb, "nosync");
	json_bool(jb, t->nosync);
	json_key(jb, "clonefrom");
	json_bool(jb, t->clonefrom);
	json_object_end(jb);
}

/* The status JSON of this node (Patroni's field names, plus "pg_ha"). */
/* The members whose cluster-wide settings differ from this node's. */
static void
mismatches_json(const HaView *v, JsonBuf *jb)
{
	json_array_begin(jb);
	for (int i = 0; i < v->nmembers; i++)
	{
		const HaMember *m = &v->members[i];

		if (m->ttl == 0)
			continue;			/* not (yet) read */
		if (m->ttl != ha_ttl || m->retry_timeout != ha_retry_timeout ||
			m->synchronous_mode != ha_synchronous_mode ||
			m->maximum_lag_on_failover != (uint64) ha_maximum_lag_on_failover)
			json_string(jb, m->name);
	}
	json_array_end(jb);
}

void
api_status_json(const HaView *v, JsonBuf *jb)
{
	const HaMember *self = &v->self;
	bool		replica = strcmp(self->role, HA_ROLE_REPLICA) == 0;
	HaGateState gate = ha_gate_state();
	char		sysid[32];

	json_object_begin(jb);
	json_key(jb, "state");
	json_string(jb, self->state);
	json_key(jb, "postmaster_start_time");
	json_timestamp(jb, PgStartTime);
	json_key(jb, "role");
	json_string(jb, self->role);
	json_key(jb, "server_version");
	json_int(jb, PG_VERSION_NUM);
	json_key(jb, "xlog");
	json_object_begin(jb);
	if (replica)
	{
		json_key(jb, "received_location");
		json_uint(jb, v->received_location);
		json_key(jb, "replayed_location");
		json_uint(jb, self->replayed_location);
		json_key(jb, "replayed_timestamp");
		json_timestamp(jb, v->replayed_timestamp);
		json_key(jb, "paused");
		json_bool(jb, false);
	}
	else
	{
		json_key(jb, "location");
		json_uint(jb, self->xlog_location);
	}
	json_object_end(jb);
	json_key(jb, "timeline");
	json_int(jb, self->timeline);
	if (v->zk_reachable && v->leader[0] == '\0')
	{
		json_key(jb, "cluster_unlocked");
		json_bool(jb, true);
	}
	if (v->zk_last_contact != 0)
	{
		json_key(jb, "dcs_last_seen");
		json_int(jb, (int64) timestamptz_to_time_t(v->zk_last_contact));
	}
	if (ha_view_is_sync_standby(v, self->name))
	{
		json_key(jb, "sync_standby");
		json_bool(jb, true);
	}
	if (self->pending_restart)
	{
		json_key(jb, "pending_restart");
		json_bool(jb, true);
	}
	if (v->paused)
	{
		json_key(jb, "pause");
		json_bool(jb, true);
	}
	json_key(jb, "tags");
	json_tags(jb, &self->tags);
	snprintf(sysid, sizeof(sysid), UINT64_FORMAT, (uint64) self->system_id);
	json_key(jb, "database_system_identifier");
	json_string(jb, sysid);
	json_key(jb, "patroni");
	json_object_begin(jb);
	json_key(jb, "version");
	json_string(jb, PG_HA_VERSION);
	json_key(jb, "scope");
	json_string(jb, ha_scope);
	json_object_end(jb);

	json_key(jb, "pg_ha");
	json_object_begin(jb);
	json_key(jb, "name");
	json_string(jb, self->name);
	json_key(jb, "leader");
	if (v->leader[0])
		json_string(jb, v->leader);
	else
		json_null(jb);
	json_key(jb, "is_leader");
	json_bool(jb, v->is_leader);
	json_key(jb, "leader_epoch");
	json_int(jb, v->leader_epoch);
	json_key(jb, "fenced");
	json_bool(jb, gate == HA_GATE_FENCED);
	json_key(jb, "write_gate");
	json_string(jb, ha_gate_state_name(gate));
	json_key(jb, "zookeeper");
	json_object_begin(jb);
	json_key(jb, "state");
	json_string(jb, ha_zk_state_name(v->zk_state));
	json_key(jb, "reachable");
	json_bool(jb, v->zk_reachable);
	json_key(jb, "unreachable_since");
	json_timestamp(jb, v->zk_unreachable_since);
	json_object_end(jb);
	json_key(jb, "decision");
	json_string(jb, v->decision);
	json_key(jb, "setting_mismatches");
	mismatches_json(v, jb);
	json_key(jb, "problem");
	if (v->config_problem)
		json_string(jb, v->config_problem);
	else if (v->last_error[0])
		json_string(jb, v->last_error);
	else
		json_null(jb);
	json_object_end(jb);
	json_object_end(jb);
}

void
api_cluster_json(const HaView *v, JsonBuf *jb)
{
	const HaMember *leader = api_find_member(v, v->leader);

	json_object_begin(jb);
	json_key(jb, "members");
	json_array_begin(jb);
	for (int i = 0; i < v->nmembers; i++)
	{
		const HaMember *m = &v->members[i];
		bool		is_leader = strcmp(m->name, v->leader) == 0;
		char		host[HA_HOST_LEN];
		int			port;

		addr_split_conn_url(m->conn_url, host, sizeof(host), &port);
		json_object_begin(jb);
		json_key(jb, "name");
		json_string(jb, m->name);
		json_key(jb, "role");
		json_string(jb, is_leader ? "leader" :
					ha_view_is_sync_standby(v, m->name) ? "sync_standby" :
					strcmp(m->role, HA_ROLE_MASTER) == 0 ? "master" : "replica");
		json_key(jb, "state");
		json_string(jb, m->state);
		json_key(jb, "api_url");
		json_string(jb, m->api_url);
		json_key(jb, "host");
		json_string(jb, host);
		json_key(jb, "port");
		json_int(jb, port);
		json_key(jb, "timeline");
		json_int(jb, m->timeline);
		json_key(jb, "tags");
		json_tags(jb, &m->tags);
		if (m->pending_restart)
		{
			json_key(jb, "pending_restart");
			json_bool(jb, true);
		}
		if (!is_leader)
		{
			json_key(jb, "lag");
			if (leader && leader->xlog_location >= m->xlog_location)
				json_uint(jb, leader->xlog_location - m->xlog_location);
			else
				json_string(jb, "unknown");
		}
		json_object_end(jb);
	}
	json_array_end(jb);
	if (v->paused)
	{
		json_key(jb, "pause");
		json_bool(jb, true);
	}
	json_key(jb, "scope");
	json_string(jb, ha_scope);
	json_key(jb, "zookeeper_reachable");
	json_bool(jb, v->zk_reachable);
	json_object_end(jb);
}

void
api_config_json(const HaView *v, JsonBuf *jb)
{
	json_object_begin(jb);
	json_key(jb, "ttl");
	json_int(jb, ha_ttl);
	json_key(jb, "loop_wait");
	json_int(jb, ha_loop_wait);
	json_key(jb, "retry_timeout");
	json_int(jb, ha_retry_timeout);
	json_key(jb, "synchronous_mode");
	json_bool(jb, ha_synchronous_mode);
	json_key(jb, "synchronous_mode_strict");
	json_bool(jb, ha_synchronous_mode_strict);
	json_key(jb, "maximum_lag_on_failover");
	json_int(jb, ha_maximum_lag_on_failover);
	json_key(jb, "primary_start_timeout");
	json_int(jb, ha_primary_start_timeout);
	json_key(jb, "mismatches");
	mismatches_json(v, jb);
	json_object_end(jb);
}

static void
metric(const HaView *v, StringInfo s, const char *name, const char *help, double value)
{
	appendStringInfo(s, "# HELP %s %s\n# TYPE %s gauge\n%s{scope=\"%s\",name=\"%s\"} %.17g\n",
					 name, help, name, name, ha_scope, v->self.name, value);
}

void
api_metrics_text(const HaView *v, StringInfo s)
{
	bool		running = strcmp(v->self.state, "running") == 0;
	bool		replica = strcmp(v->self.role, HA_ROLE_REPLICA) == 0;

	metric(v, s, "patroni_version", "pg_ha's version, zero-padded like Patroni's (1.1.0: 10100).",
		   PG_HA_VERSION_NUM);
	metric(v, s, "patroni_postgres_running", "Value is 1 if postgres is running, 0 otherwise.", running);
	metric(v, s, "patroni_postmaster_start_time", "Epoch seconds since postmaster start.",
		   (double) timestamptz_to_time_t(PgStartTime));
	metric(v, s, "patroni_master", "Value is 1 if this node is the leader, 0 otherwise.", v->is_leader);
	metric(v, s, "patroni_primary", "Value is 1 if this node is the leader, 0 otherwise.", v->is_leader);
	metric(v, s, "patroni_replica", "Value is 1 if this node is a replica, 0 otherwise.", running && replica);
	metric(v, s, "patroni_xlog_location", "Current WAL location (primary).",
		   replica ? 0 : (double) v->self.xlog_location);
	metric(v, s, "patroni_xlog_received_location", "WAL received (replica).",
		   replica ? (double) v->received_location : 0);
	metric(v, s, "patroni_xlog_replayed_location", "WAL replayed (replica).",
		   replica ? (double) v->self.replayed_location : 0);
	metric(v, s, "patroni_xlog_replayed_timestamp", "Epoch seconds of the last transaction replayed (replica).",
		   replica && v->replayed_timestamp ? (double) timestamptz_to_time_t(v->replayed_timestamp) : 0);
	metric(v, s, "patroni_xlog_paused", "Value is 1 if WAL replay is paused.",
		   replica && v->replay_paused);
	metric(v, s, "patroni_sync_standby", "Value is 1 if this node is the synchronous standby.",
		   ha_view_is_sync_standby(v, v->self.name));
	metric(v, s, "patroni_standby_leader", "Value is 1 if this node leads a standby cluster (never: pg_ha has none).", 0);
	metric(v, s, "patroni_postgres_server_version", "Version of postgres (PG_VERSION_NUM).", PG_VERSION_NUM);
	metric(v, s, "patroni_failsafe_mode_is_active", "Value is 1 if failsafe mode is active (never: pg_ha has none).", 0);
	metric(v, s, "patroni_postgres_timeline", "Postgres timeline.", v->self.timeline);
	metric(v, s, "patroni_pending_restart", "Value is 1 if a setting waits for a restart.",
		   v->self.pending_restart);
	metric(v, s, "patroni_is_paused", "Value is 1 if the cluster is in maintenance mode.", v->paused);
	metric(v, s, "patroni_cluster_unlocked", "Value is 1 if no node holds the leader key.",
		   v->zk_reachable && v->leader[0] == '\0');
	metric(v, s, "patroni_dcs_last_seen", "Epoch seconds of the last contact with ZooKeeper.",
		   v->zk_last_contact ? (double) timestamptz_to_time_t(v->zk_last_contact) : 0);
	metric(v, s, "pg_ha_zookeeper_reachable", "Value is 1 if the ZooKeeper session is live.",
		   v->zk_reachable);
	metric(v, s, "pg_ha_members", "Members registered in ZooKeeper.", v->nmembers);
	metric(v, s, "pg_ha_fenced", "Value is 1 if this node is fenced: it refuses writes until it leads again.",
		   ha_gate_state() == HA_GATE_FENCED);
	metric(v, s, "pg_ha_leader_epoch", "czxid of the leader key held by the current leader.",
		   (double) v->leader_epoch);
}

void
api_reply_message(StringInfo out, int status, const char *message, const char *hint)
{
	char		buf[1024];
	JsonBuf		jb;

	json_init(&jb, buf, sizeof(buf));
	json_answer(&jb, status >= 400, message, hint);
	ha_http_reply(out, status, false, "application/json", jb.data, jb.len);
}
