/*-------------------------------------------------------------------------
 *
 * ha_api.c
 *	  The agent's HTTP API: Patroni-compatible health checks, status JSON on
 *	  /patroni and /cluster, Prometheus text on /metrics, and /watch, a
 *	  long-poll that answers as soon as this node's primary check changes
 *	  (so a router learns a role change at once, not at its next check).
 *
 * It reads only the agent's view (HaView); POST /switchover asks the
 * duties through the same shared-memory slot as ha_switchover() and waits,
 * parked, for what they report there.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/timestamp.h"

#include "addr.h"
#include "ha_api.h"
#include "ha_gate.h"
#include "ha_guc.h"
#include "ha_http.h"
#include "ha_shmem.h"
#include "health.h"
#include "json_reader.h"
#include "json_writer.h"

#define PG_HA_VERSION "1.1"
#define PG_HA_VERSION_NUM 10100
#define JSON_CAP (64 * 1024)
/* the duties give up on a switchover after 60 s; answer by then, at the latest */
#define SWITCHOVER_PARK_MS	61000

static const HaView *view;

/*
 * The last POST /switchover: its request id in ha_shared->switchover (0:
 * none waits) and the candidate the duties chose.  One at a time: a client
 * that hangs up leaves it set until that switchover is done or failed.
 */
static uint64 sw_request_id;
static char sw_chosen[HA_NAME_LEN];
static bool sw_asked_leader;	/* this node led when it was asked */
static bool sw_cancel;			/* it is a DELETE /switchover */

/* What a parked request waits for. */
enum
{
	PARK_WATCH,					/* /watch: a change of the primary answer */
	PARK_SWITCHOVER,			/* POST /switchover: the candidate leads */
	PARK_CONFIG					/* PATCH/PUT /config: the agent wrote it */
};

/* the agent answers a configuration change within a loop or two */
#define CONFIG_PARK_MS		10000

/* The last PATCH/PUT /config: its request id in ha_shared->config (0: none). */
static uint64 config_request_id;

void
ha_api_init(const HaView *v)
{
	view = v;
}

static const HaMember *
find_member(const char *name)
{
	if (name[0] == '\0')
		return NULL;
	for (int i = 0; i < view->nmembers; i++)
		if (strcmp(view->members[i].name, name) == 0)
			return &view->members[i];
	return NULL;
}

static void
health_input(HaHealthInput *in)
{
	const HaMember *leader = find_member(view->leader);

	memset(in, 0, sizeof(*in));
	in->pg_running = strcmp(view->self.state, "running") == 0;
	in->in_recovery = strcmp(view->self.role, HA_ROLE_REPLICA) == 0;
	/*
	 * A leader that steps down (hand-over, fence, demotion) is about to stop
	 * accepting writes: /primary says so at once, and a parked /watch
	 * answers in this very loop turn, so routers hold new write clients
	 * instead of sending them into the shutdown.
	 */
	in->is_leader = view->is_leader && !view->stepping_down;
	in->has_dcs_view = view->zk_reachable;
	in->is_sync_standby = ha_view_is_sync_standby(view, view->self.name);
	in->loop_alive = true;		/* we are answering from the loop itself */
	in->leader_lsn = (leader && !view->is_leader) ? leader->xlog_location : 0;
	in->replayed_lsn = view->self.replayed_location;
	in->tags = view->self.tags;
}

int
ha_api_primary_status(void)
{
	HaHealthInput in;

	health_input(&in);
	return ha_health_status(&in, HA_ROUTE_HEALTH, "/primary", "");
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
mismatches_json(JsonBuf *jb)
{
	json_array_begin(jb);
	for (int i = 0; i < view->nmembers; i++)
	{
		const HaMember *m = &view->members[i];

		if (m->ttl == 0)
			continue;			/* not (yet) read */
		if (m->ttl != ha_ttl || m->retry_timeout != ha_retry_timeout ||
			m->synchronous_mode != ha_synchronous_mode ||
			m->maximum_lag_on_failover != (uint64) ha_maximum_lag_on_failover)
			json_string(jb, m->name);
	}
	json_array_end(jb);
}

static void
status_json(JsonBuf *jb)
{
	const HaMember *self = &view->self;
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
		json_uint(jb, view->received_location);
		json_key(jb, "replayed_location");
		json_uint(jb, self->replayed_location);
		json_key(jb, "replayed_timestamp");
		json_timestamp(jb, view->replayed_timestamp);
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
	if (view->zk_reachable && view->leader[0] == '\0')
	{
		json_key(jb, "cluster_unlocked");
		json_bool(jb, true);
	}
	if (view->zk_last_contact != 0)
	{
		json_key(jb, "dcs_last_seen");
		json_int(jb, (int64) timestamptz_to_time_t(view->zk_last_contact));
	}
	if (ha_view_is_sync_standby(view, self->name))
	{
		json_key(jb, "sync_standby");
		json_bool(jb, true);
	}
	if (self->pending_restart)
	{
		json_key(jb, "pending_restart");
		json_bool(jb, true);
	}
	if (view->paused)
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
	if (view->leader[0])
		json_string(jb, view->leader);
	else
		json_null(jb);
	json_key(jb, "is_leader");
	json_bool(jb, view->is_leader);
	json_key(jb, "leader_epoch");
	json_int(jb, view->leader_epoch);
	json_key(jb, "fenced");
	json_bool(jb, gate == HA_GATE_FENCED);
	json_key(jb, "write_gate");
	json_string(jb, ha_gate_state_name(gate));
	json_key(jb, "zookeeper");
	json_object_begin(jb);
	json_key(jb, "state");
	json_string(jb, ha_zk_state_name(view->zk_state));
	json_key(jb, "reachable");
	json_bool(jb, view->zk_reachable);
	json_key(jb, "unreachable_since");
	json_timestamp(jb, view->zk_unreachable_since);
	json_object_end(jb);
	json_key(jb, "decision");
	json_string(jb, view->decision);
	json_key(jb, "setting_mismatches");
	mismatches_json(jb);
	json_key(jb, "problem");
	if (view->config_problem)
		json_string(jb, view->config_problem);
	else if (view->last_error[0])
		json_string(jb, view->last_error);
	else
		json_null(jb);
	json_object_end(jb);
	json_object_end(jb);
}

static void
cluster_json(JsonBuf *jb)
{
	const HaMember *leader = find_member(view->leader);

	json_object_begin(jb);
	json_key(jb, "members");
	json_array_begin(jb);
	for (int i = 0; i < view->nmembers; i++)
	{
		const HaMember *m = &view->members[i];
		bool		is_leader = strcmp(m->name, view->leader) == 0;
		char		host[HA_HOST_LEN];
		int			port;

		addr_split_conn_url(m->conn_url, host, sizeof(host), &port);
		json_object_begin(jb);
		json_key(jb, "name");
		json_string(jb, m->name);
		json_key(jb, "role");
		json_string(jb, is_leader ? "leader" :
					ha_view_is_sync_standby(view, m->name) ? "sync_standby" :
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
	if (view->paused)
	{
		json_key(jb, "pause");
		json_bool(jb, true);
	}
	json_key(jb, "scope");
	json_string(jb, ha_scope);
	json_key(jb, "zookeeper_reachable");
	json_bool(jb, view->zk_reachable);
	json_object_end(jb);
}

static void
config_json(JsonBuf *jb)
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
	mismatches_json(jb);
	json_object_end(jb);
}

static void
metric(StringInfo s, const char *name, const char *help, double value)
{
	appendStringInfo(s, "# HELP %s %s\n# TYPE %s gauge\n%s{scope=\"%s\",name=\"%s\"} %.17g\n",
					 name, help, name, name, ha_scope, view->self.name, value);
}

static void
metrics_text(StringInfo s)
{
	bool		running = strcmp(view->self.state, "running") == 0;
	bool		replica = strcmp(view->self.role, HA_ROLE_REPLICA) == 0;

	metric(s, "patroni_version", "pg_ha's version, zero-padded like Patroni's (1.1.0: 10100).",
		   PG_HA_VERSION_NUM);
	metric(s, "patroni_postgres_running", "Value is 1 if postgres is running, 0 otherwise.", running);
	metric(s, "patroni_postmaster_start_time", "Epoch seconds since postmaster start.",
		   (double) timestamptz_to_time_t(PgStartTime));
	metric(s, "patroni_master", "Value is 1 if this node is the leader, 0 otherwise.", view->is_leader);
	metric(s, "patroni_primary", "Value is 1 if this node is the leader, 0 otherwise.", view->is_leader);
	metric(s, "patroni_replica", "Value is 1 if this node is a replica, 0 otherwise.", running && replica);
	metric(s, "patroni_xlog_location", "Current WAL location (primary).",
		   replica ? 0 : (double) view->self.xlog_location);
	metric(s, "patroni_xlog_received_location", "WAL received (replica).",
		   replica ? (double) view->received_location : 0);
	metric(s, "patroni_xlog_replayed_location", "WAL replayed (replica).",
		   replica ? (double) view->self.replayed_location : 0);
	metric(s, "patroni_xlog_replayed_timestamp", "Epoch seconds of the last transaction replayed (replica).",
		   replica && view->replayed_timestamp ? (double) timestamptz_to_time_t(view->replayed_timestamp) : 0);
	metric(s, "patroni_xlog_paused", "Value is 1 if WAL replay is paused.",
		   replica && view->replay_paused);
	metric(s, "patroni_sync_standby", "Value is 1 if this node is the synchronous standby.",
		   ha_view_is_sync_standby(view, view->self.name));
	metric(s, "patroni_standby_leader", "Value is 1 if this node leads a standby cluster (never: pg_ha has none).", 0);
	metric(s, "patroni_postgres_server_version", "Version of postgres (PG_VERSION_NUM).", PG_VERSION_NUM);
	metric(s, "patroni_failsafe_mode_is_active", "Value is 1 if failsafe mode is active (never: pg_ha has none).", 0);
	metric(s, "patroni_postgres_timeline", "Postgres timeline.", view->self.timeline);
	metric(s, "patroni_pending_restart", "Value is 1 if a setting waits for a restart.",
		   view->self.pending_restart);
	metric(s, "patroni_is_paused", "Value is 1 if the cluster is in maintenance mode.", view->paused);
	metric(s, "patroni_cluster_unlocked", "Value is 1 if no node holds the leader key.",
		   view->zk_reachable && view->leader[0] == '\0');
	metric(s, "patroni_dcs_last_seen", "Epoch seconds of the last contact with ZooKeeper.",
		   view->zk_last_contact ? (double) timestamptz_to_time_t(view->zk_last_contact) : 0);
	metric(s, "pg_ha_zookeeper_reachable", "Value is 1 if the ZooKeeper session is live.",
		   view->zk_reachable);
	metric(s, "pg_ha_members", "Members registered in ZooKeeper.", view->nmembers);
	metric(s, "pg_ha_fenced", "Value is 1 if this node is fenced: it refuses writes until it leads again.",
		   ha_gate_state() == HA_GATE_FENCED);
	metric(s, "pg_ha_leader_epoch", "czxid of the leader key held by the current leader.",
		   (double) view->leader_epoch);
}

static void
reply_text(StringInfo out, int status, bool head_only, const char *body)
{
	ha_http_reply(out, status, head_only, "application/json", body, strlen(body));
}

static void
reply_json(StringInfo out, int status, bool head_only, void (*build) (JsonBuf *))
{
	char	   *buf = palloc(JSON_CAP);
	JsonBuf		jb;

	json_init(&jb, buf, JSON_CAP);
	build(&jb);
	if (jb.overflow)
	{
		/* cannot happen with HA_MAX_MEMBERS members; answer honestly if it does */
		reply_text(out, 500, head_only, "{\"error\": \"response too large\"}\n");
		return;
	}
	ha_http_reply(out, status, head_only, "application/json", jb.data, jb.len);
}

static void
reply_watch(StringInfo out)
{
	int			status = ha_api_primary_status();
	char		body[256];
	int			n;

	n = snprintf(body, sizeof(body),
				 "{\"role\": \"%s\", \"primary\": %s, \"leader_epoch\": " INT64_FORMAT "}\n",
				 view->self.role, status == 200 ? "true" : "false", view->leader_epoch);
	ha_http_reply(out, status, false, "application/json", body, n);
}

/* POST endpoints: HTTP Basic auth when configured; else loopback only. */
static bool
write_allowed(const HttpRequest *req, StringInfo out)
{
	if (ha_api_auth == NULL || ha_api_auth[0] == '\0')
	{
		if (ha_http_loopback_only())
			return true;
		reply_text(out, 403, false,
				   "{\"error\": \"no pg_ha.api_auth configured and the API is not bound to loopback\"}\n");
		return false;
	}
	if (!http_basic_auth_matches(req->authorization, ha_api_auth))
	{
		const char *body = "{\"error\": \"not authenticated\"}\n";

		resetStringInfo(out);
		appendStringInfo(out,
						 "HTTP/1.0 401 Unauthorized\r\n"
						 "WWW-Authenticate: Basic realm=\"pg_ha\"\r\n"
						 "Content-Type: application/json\r\n"
						 "Content-Length: %zu\r\n"
						 "Connection: close\r\n\r\n%s",
						 strlen(body), body);
		return false;
	}
	return true;
}

static void
reply_message(StringInfo out, int status, const char *message, const char *hint)
{
	char		buf[1024];
	JsonBuf		jb;

	json_init(&jb, buf, sizeof(buf));
	json_object_begin(&jb);
	json_key(&jb, status < 400 ? "message" : "error");
	json_string(&jb, message);
	if (hint && hint[0])
	{
		json_key(&jb, "hint");
		json_string(&jb, hint);
	}
	json_object_end(&jb);
	ha_http_reply(out, status, false, "application/json", jb.data, jb.len);
}

/*
 * POST /switchover {"leader": "...", "candidate": "..."} (Patroni's body;
 * "member" is accepted for "candidate").  Refusals are 412 with the reason;
 * on a replica the answer waits until the candidate leads (200) or the
 * switchover fails (503); on the leader, which steps down, it is 202.
 */
static HttpAnswer ask_switchover_slot(const char *candidate, const char *scheduled, bool cancel,
									  StringInfo out, HttpPark *park);

static HttpAnswer
handle_switchover(const HttpRequest *req, StringInfo out, HttpPark *park)
{
	char		leader[HA_NAME_LEN] = "";
	char		candidate[HA_NAME_LEN] = "";
	char		scheduled[64] = "";
	char		err[256];

	if (req->body_len > 0 &&
		(!json_get_string(req->body, req->body_len, "leader", leader, sizeof(leader), err, sizeof(err)) ||
		 !json_get_string(req->body, req->body_len, "candidate", candidate, sizeof(candidate), err, sizeof(err)) ||
		 (candidate[0] == '\0' &&
		  !json_get_string(req->body, req->body_len, "member", candidate, sizeof(candidate), err, sizeof(err)))))
	{
		reply_message(out, 400, err, "Send a JSON object like {\"leader\": \"node1\", \"candidate\": \"node2\"}.");
		return HTTP_ANSWER_NOW;
	}
	/* a switchover for later: kept in /failover, carried out by the leader then */
	if (req->body_len > 0 &&
		!json_get_string(req->body, req->body_len, "scheduled_at", scheduled, sizeof(scheduled),
						 err, sizeof(err)))
	{
		reply_message(out, 400, err, "scheduled_at is an ISO 8601 time with a zone, such as 2026-12-02T10:00+00:00.");
		return HTTP_ANSWER_NOW;
	}
	if (scheduled[0])
	{
		int64		at;

		if (!iso_time_parse(scheduled, &at) || strlen(scheduled) >= ISO_TIME_LEN)
		{
			reply_message(out, 400, "scheduled_at is not an ISO 8601 time with a zone",
						  "Such as 2026-12-02T10:00+00:00.");
			return HTTP_ANSWER_NOW;
		}
		if (at <= iso_time_now_us())
		{
			reply_message(out, 422, "Cannot schedule switchover in the past", NULL);
			return HTTP_ANSWER_NOW;
		}
		if (view->paused)
		{
			reply_message(out, 400, "Can't schedule switchover in the paused state",
						  "Resume the cluster first (patronictl resume, ha_resume()).");
			return HTTP_ANSWER_NOW;
		}
	}
	if (leader[0] && strcmp(leader, view->leader) != 0)
	{
		snprintf(err, sizeof(err), "leader name does not match: the leader is \"%s\"", view->leader);
		reply_message(out, 412, err, NULL);
		return HTTP_ANSWER_NOW;
	}
	return ask_switchover_slot(candidate, scheduled, false, out, park);
}

/*
 * Puts a request in the switchover slot, the one ha_switchover() uses
 * (the duties take it next pass), and parks to wait for their answer.
 */
static HttpAnswer
ask_switchover_slot(const char *candidate, const char *scheduled, bool cancel,
					StringInfo out, HttpPark *park)
{
	char		err[256];

	LWLockAcquire(ha_shared->lock, LW_EXCLUSIVE);
	if (ha_shared->switchover.id != ha_shared->switchover.taken_id)
	{
		LWLockRelease(ha_shared->lock);
		reply_message(out, 412, "another switchover request is being checked on this node",
					  "Try again in a moment.");
		return HTTP_ANSWER_NOW;
	}
	/* one POST at a time: the slot holds the answer of one request only */
	if (sw_request_id != 0 && ha_shared->switchover.taken_id == sw_request_id &&
		ha_shared->switchover.accepted && ha_shared->switchover.state != SW_DONE &&
		ha_shared->switchover.state != SW_FAILED && ha_shared->switchover.state != SW_SCHEDULED)
	{
		LWLockRelease(ha_shared->lock);
		snprintf(err, sizeof(err), "a switchover to \"%s\" is already in progress", sw_chosen);
		reply_message(out, 412, err, "Wait for it to finish (ha_status() shows the roles).");
		return HTTP_ANSWER_NOW;
	}
	{
		HaSwitchoverRequest *sw = &ha_shared->switchover;

		sw_request_id = ++sw->id;
		strlcpy(sw->candidate, candidate, sizeof(sw->candidate));
		strlcpy(sw->scheduled_at, scheduled, sizeof(sw->scheduled_at));
		sw->cancel = cancel;
		sw->answered_at_once = true;
		sw->requester_latch = NULL;
		sw->state = -1;
		sw->accepted = false;
		sw->error[0] = sw->hint[0] = sw->chosen[0] = '\0';
	}
	LWLockRelease(ha_shared->lock);
	sw_chosen[0] = '\0';
	sw_asked_leader = view->is_leader;
	sw_cancel = cancel;
	park->kind = PARK_SWITCHOVER;
	park->deadline_ms = ha_mono_ms() + SWITCHOVER_PARK_MS;
	return HTTP_ANSWER_PARK;
}

/* DELETE /switchover: cancels a scheduled one (200), or 404 when none is. */
static HttpAnswer
handle_switchover_delete(StringInfo out, HttpPark *park)
{
	return ask_switchover_slot("", "", true, out, park);
}

/* Does the view show name leading, as a running primary? */
static bool
leads_now(const char *name)
{
	const HaMember *m = find_member(name);

	return name[0] && strcmp(view->leader, name) == 0 && m &&
		strcmp(m->role, HA_ROLE_MASTER) == 0 && strcmp(m->state, "running") == 0;
}

/*
 * The parked POST /switchover, from what the duties report in the slot:
 * refused by their checks 412; accepted when asked on the leader, which
 * steps down, 202 at once; otherwise once the candidate leads 200, or the
 * switchover failed 503.
 */
static bool
poll_switchover(bool timed_out, StringInfo out)
{
	HaSwitchoverRequest *sw = &ha_shared->switchover;
	bool		taken;
	int			state = -1;
	bool		accepted = false;
	char		error[256] = "",
				hint[256] = "";
	char		msg[256];

	LWLockAcquire(ha_shared->lock, LW_SHARED);
	taken = sw->taken_id == sw_request_id;
	if (taken)
	{
		state = sw->state;
		accepted = sw->accepted;
		strlcpy(error, sw->error, sizeof(error));
		strlcpy(hint, sw->hint, sizeof(hint));
		if (sw->chosen[0])
			strlcpy(sw_chosen, sw->chosen, sizeof(sw_chosen));
	}
	LWLockRelease(ha_shared->lock);

	if (sw_cancel && taken && (state == SW_DONE || state == SW_FAILED))
	{
		if (state == SW_DONE)
			reply_message(out, 200, "scheduled switchover deleted", NULL);
		else
			reply_message(out, 404, error, NULL);
	}
	else if (taken && state == SW_FAILED && !accepted)
		reply_message(out, 412, error, hint);
	else if (taken && state == SW_SCHEDULED)
	{
		snprintf(msg, sizeof(msg), "Switchover scheduled: to \"%s\"", sw_chosen);
		reply_message(out, 202, msg, NULL);
	}
	else if (taken && accepted && sw_asked_leader)
	{
		snprintf(msg, sizeof(msg), "switchover to \"%s\" started; this leader steps down now",
				 sw_chosen);
		reply_message(out, 202, msg, NULL);
	}
	else if ((taken && state == SW_DONE) || (!taken && leads_now(sw_chosen)))
	{
		/* (not taken: a later request took the slot; the view tells) */
		snprintf(msg, sizeof(msg), "Successfully switched over to \"%s\"", sw_chosen);
		reply_message(out, 200, msg, NULL);
	}
	else if (taken && state == SW_FAILED)
		reply_message(out, 503, error, hint);
	else if (timed_out)
		reply_message(out, 503, "switchover status unknown", "SELECT * FROM ha_status() shows the roles now.");
	else
		return false;
	sw_request_id = 0;
	return true;
}

/*
 * PATCH /config (a JSON merge patch, Patroni's) or PUT /config (the whole
 * configuration): asks the agent through the config request slot, the one
 * ha_set_config() uses, and waits parked for its answer.
 */
static HttpAnswer
handle_config_change(const HttpRequest *req, StringInfo out, HttpPark *park,
					 bool replace)
{
	HaConfigRequest *cr = &ha_shared->config;

	if (req->body_len == 0 || req->body_len >= sizeof(cr->body) ||
		memchr(req->body, '\0', req->body_len) != NULL)
	{
		reply_message(out, 400, "the body must be a JSON object",
					  replace ? "Send the whole configuration, as GET /config shows it." :
					  "Send a JSON merge patch such as {\"ttl\": 30}; null removes a key.");
		return HTTP_ANSWER_NOW;
	}
	LWLockAcquire(ha_shared->lock, LW_EXCLUSIVE);
	if (cr->id != cr->taken_id ||
		(config_request_id != 0 && cr->taken_id == config_request_id &&
		 cr->state == HA_CONFIG_PENDING))
	{
		LWLockRelease(ha_shared->lock);
		reply_message(out, 409, "another configuration change is being made on this node",
					  "Try again in a moment.");
		return HTTP_ANSWER_NOW;
	}
	config_request_id = ++cr->id;
	cr->replace = replace;
	memcpy(cr->body, req->body, req->body_len);
	cr->body[req->body_len] = '\0';
	cr->requester_latch = NULL;
	cr->state = HA_CONFIG_PENDING;
	cr->error[0] = cr->result[0] = '\0';
	LWLockRelease(ha_shared->lock);
	park->kind = PARK_CONFIG;
	park->deadline_ms = ha_mono_ms() + CONFIG_PARK_MS;
	return HTTP_ANSWER_PARK;
}

/* The parked PATCH/PUT /config: Patroni's codes (200, 400, 409, 503). */
static bool
poll_config(bool timed_out, StringInfo out)
{
	HaConfigRequest *cr = &ha_shared->config;
	int			state = HA_CONFIG_PENDING;
	char		error[256] = "";
	char	   *result = palloc(HA_CONFIG_JSON_CAP);

	LWLockAcquire(ha_shared->lock, LW_SHARED);
	if (cr->taken_id == config_request_id)
	{
		state = cr->state;
		strlcpy(error, cr->error, sizeof(error));
		strlcpy(result, cr->result, HA_CONFIG_JSON_CAP);
	}
	LWLockRelease(ha_shared->lock);

	switch (state)
	{
		case HA_CONFIG_DONE:
			reply_text(out, 200, false, result);
			break;
		case HA_CONFIG_REFUSED:
			reply_message(out, 400, error, "Nothing was changed.");
			break;
		case HA_CONFIG_CONFLICT:
			reply_message(out, 409, error, "Read GET /config again and retry.");
			break;
		case HA_CONFIG_FAILED:
			reply_message(out, 503, error, NULL);
			break;
		default:
			if (!timed_out)
				return false;
			reply_message(out, 503, "configuration change status unknown",
						  "GET /config shows the configuration now.");
			break;
	}
	config_request_id = 0;
	return true;
}

HttpAnswer
ha_api_handle(const HttpRequest *req, StringInfo out, HttpPark *park)
{
	HaRoute		route = ha_route_for_path(req->path);
	bool		head_only = req->method == HTTP_HEAD || req->method == HTTP_OPTIONS;
	bool		read_method = req->method == HTTP_GET || head_only;

	if (route == HA_ROUTE_CONFIG && (req->method == HTTP_PATCH || req->method == HTTP_PUT))
	{
		if (write_allowed(req, out))
			return handle_config_change(req, out, park, req->method == HTTP_PUT);
		return HTTP_ANSWER_NOW;
	}
	switch (route)
	{
		case HA_ROUTE_SWITCHOVER:
			if (req->method != HTTP_POST && req->method != HTTP_DELETE)
				break;
			if (write_allowed(req, out))
				return req->method == HTTP_POST ? handle_switchover(req, out, park) :
					handle_switchover_delete(out, park);
			return HTTP_ANSWER_NOW;
		case HA_ROUTE_FAILOVER:
		case HA_ROUTE_RESTART:
		case HA_ROUTE_REINITIALIZE:
			if (req->method != HTTP_POST)
				break;
			if (write_allowed(req, out))
				reply_text(out, 501, false,
						   "{\"error\": \"not implemented in this version\"}\n");
			return HTTP_ANSWER_NOW;
		default:
			if (!read_method)
				break;
			switch (route)
			{
				case HA_ROUTE_PATRONI:
					reply_json(out, 200, head_only, status_json);
					return HTTP_ANSWER_NOW;
				case HA_ROUTE_CLUSTER:
					reply_json(out, 200, head_only, cluster_json);
					return HTTP_ANSWER_NOW;
				case HA_ROUTE_CONFIG:
					/* Patroni's: the /config key; before there is one, this node's settings */
					if (view->config_json[0])
						reply_text(out, 200, head_only, view->config_json);
					else
						reply_json(out, 200, head_only, config_json);
					return HTTP_ANSWER_NOW;
				case HA_ROUTE_HISTORY:
					/* the /history key as this agent read it last */
					reply_text(out, 200, head_only,
							   view->history_json[0] ? view->history_json : "[]");
					return HTTP_ANSWER_NOW;
				case HA_ROUTE_METRICS:
					{
						StringInfoData s;

						initStringInfo(&s);
						metrics_text(&s);
						ha_http_reply(out, 200, head_only,
									  "text/plain; version=0.0.4", s.data, s.len);
						return HTTP_ANSWER_NOW;
					}
				case HA_ROUTE_WATCH:
					{
						char		val[16];
						uint64		secs = ha_watch_timeout_secs(req->query, 30,
																 HTTP_WATCH_MAX_MS / 1000);

						park->kind = PARK_WATCH;
						park->deadline_ms = ha_mono_ms() + (int64) secs * 1000;
						park->watch_value = -1;
						if (ha_query_value(req->query, "primary", val, sizeof(val)))
							park->watch_value = strcmp(val, "1") == 0 || strcmp(val, "true") == 0;
						if (park->watch_value < 0 ||
							park->watch_value != (ha_api_primary_status() == 200))
						{
							reply_watch(out);
							return HTTP_ANSWER_NOW;
						}
						return HTTP_ANSWER_PARK;
					}
				default:
					{
						HaHealthInput in;
						int			status;

						health_input(&in);
						status = ha_health_status(&in, route, req->path, req->query);
						if (route == HA_ROUTE_LIVENESS || route == HA_ROUTE_READINESS)
							ha_http_reply(out, status, true, NULL, NULL, 0);
						else
							reply_json(out, status, head_only, status_json);
						return HTTP_ANSWER_NOW;
					}
			}
	}
	reply_text(out, 405, head_only, "{\"error\": \"method not allowed\"}\n");
	return HTTP_ANSWER_NOW;
}

bool
ha_api_poll(const HttpPark *park, bool timed_out, StringInfo out)
{
	if (park->kind == PARK_SWITCHOVER)
		return poll_switchover(timed_out, out);
	if (park->kind == PARK_CONFIG)
		return poll_config(timed_out, out);
	if (!timed_out && park->watch_value == (ha_api_primary_status() == 200))
		return false;
	reply_watch(out);
	return true;
}
