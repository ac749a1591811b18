/*-------------------------------------------------------------------------
 *
 * ha_api.c
 *	  The agent's HTTP API: routes each request to its answer.  Patroni-
 *	  compatible health checks, the documents of ha_api_views.c (/patroni,
 *	  /cluster, /config, /metrics), the /history key, and /watch, a
 *	  long-poll that answers as soon as this node's primary check changes
 *	  (so a router learns a role change at once, not at its next check).
 *
 * It reads only the agent's view (HaView).  The writes go through the
 * shared-memory slots the SQL functions use, and wait parked for what the
 * agent reports there: POST and DELETE /switchover (ha_switchover()),
 * PATCH and PUT /config (ha_set_config()).  The writes that act on this
 * member (/restart, /reinitialize) are ha_api_member.c's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"

#include "ha_agent.h"
#include "ha_allow.h"
#include "ha_api.h"
#include "ha_api_member.h"
#include "ha_api_views.h"
#include "ha_guc.h"
#include "ha_http.h"
#include "ha_local.h"
#include "ha_shmem.h"
#include "ha_tls.h"
#include "allowlist.h"
#include "health.h"
#include "iso_time.h"
#include "json_reader.h"
#include "json_writer.h"

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
static bool sw_scheduled;		/* it has a scheduled_at: answered once written */
static bool sw_failover;		/* it is a POST /failover */

/* What a parked request waits for. */
enum
{
	PARK_WATCH,					/* /watch: a change of the primary answer */
	PARK_SWITCHOVER,			/* POST /switchover: the candidate leads */
	PARK_CONFIG,				/* PATCH/PUT /config: the agent wrote it */
	PARK_REINIT					/* POST /reinitialize: the agent judged it */
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
	return api_find_member(view, name);
}

/* The documents (ha_api_views.c), as reply_json builds them. */
static void
status_json(JsonBuf *jb)
{
	api_status_json(view, jb);
}

static void
cluster_json(JsonBuf *jb)
{
	api_cluster_json(view, jb);
}

static void
config_json(JsonBuf *jb)
{
	api_config_json(view, jb);
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

/*
 * POST endpoints: from an address the allowlist has; with TLS configured,
 * over TLS unless from loopback (credentials never cross the network in
 * clear text), with a verified client certificate when
 * pg_ha.api_verify_client asks for one; then HTTP Basic auth when
 * configured, else loopback only.
 */
static bool
write_allowed(const HttpRequest *req, const HttpPeer *peer, StringInfo out)
{
	if (!ha_allow_permits(view, peer->addr))
	{
		api_reply_message(out, 403, "this address is not in pg_ha.api_allowlist", NULL);
		return false;
	}
	if (ha_http_tls() && !peer->tls && !allowlist_peer_is_loopback(peer->addr))
	{
		api_reply_message(out, 403, "unsafe requests need HTTPS on this API",
						  "Plain HTTP is accepted for them from loopback only; use https://.");
		return false;
	}
	if (peer->tls && ha_api_verify_client != HA_TLS_VERIFY_NONE && !peer->client_verified)
	{
		api_reply_message(out, 403, "a client certificate is required", NULL);
		return false;
	}
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

/*
 * POST /switchover {"leader": "...", "candidate": "..."} (Patroni's body;
 * "member" is accepted for "candidate").  Refusals are 412 with the reason;
 * on a replica the answer waits until the candidate leads (200) or the
 * switchover fails (503); on the leader, which steps down, it is 202.
 */
static HttpAnswer ask_switchover_slot(const char *candidate, const char *scheduled, bool cancel,
									  bool failover, bool force, StringInfo out, HttpPark *park);

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
		api_reply_message(out, 400, err, "Send a JSON object like {\"leader\": \"node1\", \"candidate\": \"node2\"}.");
		return HTTP_ANSWER_NOW;
	}
	/* a switchover for later: kept in /failover, carried out by the leader then */
	if (req->body_len > 0 &&
		!json_get_string(req->body, req->body_len, "scheduled_at", scheduled, sizeof(scheduled),
						 err, sizeof(err)))
	{
		api_reply_message(out, 400, err, "scheduled_at is an ISO 8601 time with a zone, such as 2026-12-02T10:00+00:00.");
		return HTTP_ANSWER_NOW;
	}
	if (scheduled[0])
	{
		int64		at;

		if (!iso_time_parse(scheduled, &at) || strlen(scheduled) >= ISO_TIME_LEN)
		{
			api_reply_message(out, 400, "scheduled_at is not an ISO 8601 time with a zone",
						  "Such as 2026-12-02T10:00+00:00.");
			return HTTP_ANSWER_NOW;
		}
		if (at <= iso_time_now_us())
		{
			api_reply_message(out, 422, "Cannot schedule switchover in the past", NULL);
			return HTTP_ANSWER_NOW;
		}
		if (view->paused)
		{
			api_reply_message(out, 400, "Can't schedule switchover in the paused state",
						  "Resume the cluster first (patronictl resume, ha_resume()).");
			return HTTP_ANSWER_NOW;
		}
	}
	if (leader[0] && strcmp(leader, view->leader) != 0)
	{
		snprintf(err, sizeof(err), "leader name does not match: the leader is \"%s\"", view->leader);
		api_reply_message(out, 412, err, NULL);
		return HTTP_ANSWER_NOW;
	}
	return ask_switchover_slot(candidate, scheduled, false, false, false, out, park);
}

/*
 * Puts a request in the switchover slot, the one ha_switchover() uses
 * (the duties take it next pass), and parks to wait for their answer.
 */
static HttpAnswer
ask_switchover_slot(const char *candidate, const char *scheduled, bool cancel,
					bool failover, bool force, StringInfo out, HttpPark *park)
{
	char		err[256];

	LWLockAcquire(ha_shared->lock, LW_EXCLUSIVE);
	if (ha_shared->switchover.id != ha_shared->switchover.taken_id)
	{
		LWLockRelease(ha_shared->lock);
		api_reply_message(out, 412, "another switchover request is being checked on this node",
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
		api_reply_message(out, 412, err, "Wait for it to finish (ha_status() shows the roles).");
		return HTTP_ANSWER_NOW;
	}
	{
		HaSwitchoverRequest *sw = &ha_shared->switchover;

		sw_request_id = ++sw->id;
		strlcpy(sw->candidate, candidate, sizeof(sw->candidate));
		strlcpy(sw->scheduled_at, scheduled, sizeof(sw->scheduled_at));
		sw->cancel = cancel;
		sw->failover = failover;
		sw->force = force;
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
	sw_scheduled = scheduled[0] != '\0';
	sw_failover = failover;
	park->kind = PARK_SWITCHOVER;
	park->deadline_ms = ha_mono_ms() + SWITCHOVER_PARK_MS;
	return HTTP_ANSWER_PARK;
}

/*
 * POST /failover {"candidate": "...", "leader": "..."} (Patroni's): a
 * switchover to the candidate when there is a leader, else the candidate
 * is promoted; pg_ha's extra "force": true lets a candidate that is not the
 * confirmed synchronous standby take over.
 */
static HttpAnswer
handle_failover(const HttpRequest *req, StringInfo out, HttpPark *park)
{
	char		leader[HA_NAME_LEN] = "";
	char		candidate[HA_NAME_LEN] = "";
	char		err[256] = "a failover needs a candidate";
	bool		force = false;

	if (req->body_len == 0 ||
		!json_get_string(req->body, req->body_len, "candidate", candidate, sizeof(candidate), err, sizeof(err)) ||
		!json_get_string(req->body, req->body_len, "leader", leader, sizeof(leader), err, sizeof(err)) ||
		candidate[0] == '\0')
	{
		api_reply_message(out, 400, err, "Send a JSON object like {\"candidate\": \"node2\"}.");
		return HTTP_ANSWER_NOW;
	}
	if (!json_find_bool(req->body, req->body_len, "force", &force))
		force = false;
	if (leader[0] && strcmp(leader, view->leader) != 0)
	{
		snprintf(err, sizeof(err), "leader name does not match: the leader is \"%s\"", view->leader);
		api_reply_message(out, 412, err, NULL);
		return HTTP_ANSWER_NOW;
	}
	return ask_switchover_slot(candidate, "", false, true, force, out, park);
}

/* DELETE /switchover: cancels a scheduled one (200), or 404 when none is. */
static HttpAnswer
handle_switchover_delete(StringInfo out, HttpPark *park)
{
	return ask_switchover_slot("", "", true, false, false, out, park);
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
			api_reply_message(out, 200, "scheduled switchover deleted", NULL);
		else
			api_reply_message(out, 404, error, NULL);
	}
	else if (taken && state == SW_FAILED && !accepted)
		api_reply_message(out, 412, error, hint);
	else if (taken && state == SW_SCHEDULED)
	{
		snprintf(msg, sizeof(msg), "Switchover scheduled: to \"%s\"", sw_chosen);
		api_reply_message(out, 202, msg, NULL);
	}
	else if (taken && accepted && sw_asked_leader && !sw_scheduled)
	{
		snprintf(msg, sizeof(msg), "switchover to \"%s\" started; this leader steps down now",
				 sw_chosen);
		api_reply_message(out, 202, msg, NULL);
	}
	else if ((taken && state == SW_DONE) || (!taken && leads_now(sw_chosen)))
	{
		/* (not taken: a later request took the slot; the view tells) */
		snprintf(msg, sizeof(msg), "Successfully %s to \"%s\"",
				 sw_failover ? "failed over" : "switched over", sw_chosen);
		api_reply_message(out, 200, msg, NULL);
	}
	else if (taken && state == SW_FAILED)
		api_reply_message(out, 503, error, hint);
	else if (timed_out)
		api_reply_message(out, 503, "switchover status unknown", "SELECT * FROM ha_status() shows the roles now.");
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
		api_reply_message(out, 400, "the body must be a JSON object",
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
		api_reply_message(out, 409, "another configuration change is being made on this node",
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
			api_reply_message(out, 400, error, "Nothing was changed.");
			break;
		case HA_CONFIG_CONFLICT:
			api_reply_message(out, 409, error, "Read GET /config again and retry.");
			break;
		case HA_CONFIG_FAILED:
			api_reply_message(out, 503, error, NULL);
			break;
		default:
			if (!timed_out)
				return false;
			api_reply_message(out, 503, "configuration change status unknown",
						  "GET /config shows the configuration now.");
			break;
	}
	config_request_id = 0;
	return true;
}

HttpAnswer
ha_api_handle(const HttpRequest *req, const HttpPeer *peer, StringInfo out, HttpPark *park)
{
	HaRoute		route = ha_route_for_path(req->path);
	bool		head_only = req->method == HTTP_HEAD || req->method == HTTP_OPTIONS;
	bool		read_method = req->method == HTTP_GET || head_only;

	/* Patroni's verify_client required: a certificate for every call */
	if (ha_http_tls() && ha_api_verify_client == HA_TLS_VERIFY_REQUIRED && !peer->tls &&
		!allowlist_peer_is_loopback(peer->addr))
	{
		api_reply_message(out, 403, "this API needs HTTPS with a client certificate", NULL);
		return HTTP_ANSWER_NOW;
	}

	if (route == HA_ROUTE_CONFIG && (req->method == HTTP_PATCH || req->method == HTTP_PUT))
	{
		if (write_allowed(req, peer, out))
			return handle_config_change(req, out, park, req->method == HTTP_PUT);
		return HTTP_ANSWER_NOW;
	}
	switch (route)
	{
		case HA_ROUTE_SWITCHOVER:
			if (req->method != HTTP_POST && req->method != HTTP_DELETE)
				break;
			if (write_allowed(req, peer, out))
				return req->method == HTTP_POST ? handle_switchover(req, out, park) :
					handle_switchover_delete(out, park);
			return HTTP_ANSWER_NOW;
		case HA_ROUTE_FAILOVER:
			if (req->method != HTTP_POST)
				break;
			if (write_allowed(req, peer, out))
				return handle_failover(req, out, park);
			return HTTP_ANSWER_NOW;
		case HA_ROUTE_RESTART:
			if (req->method != HTTP_POST && req->method != HTTP_DELETE)
				break;
			if (!write_allowed(req, peer, out))
				return HTTP_ANSWER_NOW;
			if (req->method == HTTP_DELETE)
			{
				api_handle_restart_delete(out);
				return HTTP_ANSWER_NOW;
			}
			return api_handle_restart(view, req, out);
		case HA_ROUTE_REINITIALIZE:
			if (req->method != HTTP_POST)
				break;
			if (write_allowed(req, peer, out))
				return api_handle_reinitialize(req, out, park, PARK_REINIT);
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
						api_metrics_text(view, &s);
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
	if (park->kind == PARK_REINIT)
		return api_poll_reinit(timed_out, out);
	if (!timed_out && park->watch_value == (ha_api_primary_status() == 200))
		return false;
	reply_watch(out);
	return true;
}
