/*-------------------------------------------------------------------------
 *
 * ha_api_member.c
 *	  The API's writes that act on this member itself: POST and DELETE
 *	  /restart (ha_restart()) and POST /reinitialize (ha_reinitialize()).
 *	  A scheduled restart waits in the restart slot; an immediate one is
 *	  answered by the supervisor, which gets the client's connection
 *	  (ha_api_hand_off), as this agent stops with postgres.  A reinitialize
 *	  goes through the reinit slot and is answered parked.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"

#include "ha_agent.h"
#include "ha_api.h"
#include "ha_api_member.h"
#include "ha_api_views.h"
#include "ha_local.h"
#include "ha_shmem.h"
#include "iso_time.h"
#include "json_reader.h"
#include "restart_rule.h"

/* The reply_token of the restart whose client goes to the supervisor. */
static uint64 restart_token;

/*
 * POST /restart (Patroni's body: schedule, role, postgres_version,
 * restart_pending, timeout).  With a schedule it waits in the restart slot
 * (202; 409 when one waits already).  Without one it is carried out now by
 * the supervisor, which answers the client once postgres accepts
 * connections again (200) or failed to (503): the connection is handed to
 * it, as this agent stops with postgres.
 */
HttpAnswer
api_handle_restart(const HaView *view, const HttpRequest *req, StringInfo out)
{
	HaRestartRequest r;
	HaRestartFacts f;
	char		err[256];
	int			status;
	const char *mismatch;

	status = ha_restart_parse(req->body, req->body_len, iso_time_now_us(), &r, err, sizeof(err));
	if (status != 0)
	{
		api_reply_message(out, status, err, NULL);
		return HTTP_ANSWER_NOW;
	}
	if (r.scheduled && view->paused)
	{
		api_reply_message(out, 400, "Can't schedule restart in the paused state",
					  "Resume the cluster first (patronictl resume, ha_resume()), or restart now.");
		return HTTP_ANSWER_NOW;
	}
	if (r.scheduled)
	{
		bool		taken;

		LWLockAcquire(ha_shared->lock, LW_EXCLUSIVE);
		taken = ha_shared->restart.active;
		if (!taken)
		{
			ha_shared->restart.req = r;
			ha_shared->restart.active = true;
		}
		LWLockRelease(ha_shared->lock);
		if (taken)
			api_reply_message(out, 409, "Another restart is already scheduled",
						  "DELETE /restart (patronictl flush <scope> restart) drops it.");
		else
			api_reply_message(out, 202, "Restart scheduled", NULL);
		return HTTP_ANSWER_NOW;
	}
	ha_restart_facts(view, &f);
	mismatch = ha_restart_mismatch(&r, &f);
	if (mismatch)
	{
		api_reply_message(out, 503, "restart conditions are not satisfied", mismatch);
		return HTTP_ANSWER_NOW;
	}
	if (!view->self.supervised)
	{
		api_reply_message(out, 503, "restart failed",
					  "Only pg_ha_supervisor can restart postgres; this node runs without it.");
		return HTTP_ANSWER_NOW;
	}
	if (restart_in_progress())
	{
		api_reply_message(out, 503, "restart already in progress", NULL);
		return HTTP_ANSWER_NOW;
	}
	/* what the client gets if the supervisor cannot take it */
	api_reply_message(out, 503, "restart failed", "The supervisor could not be reached; nothing was done.");
	/* unique enough: the supervisor answers only clients of this request */
	restart_token = ((uint64) MyProcPid << 32) | (uint64) (ha_mono_ms() & 0xFFFFFFFF) | 1;
	return HTTP_ANSWER_HAND_OFF;
}

/* DELETE /restart: drops the scheduled restart (Patroni's answers). */
void
api_handle_restart_delete(StringInfo out)
{
	bool		had;

	LWLockAcquire(ha_shared->lock, LW_EXCLUSIVE);
	had = ha_shared->restart.active && ha_shared->restart.req.scheduled;
	if (had)
		ha_shared->restart.active = false;
	LWLockRelease(ha_shared->lock);
	if (had)
		api_reply_message(out, 200, "scheduled restart deleted", NULL);
	else
		api_reply_message(out, 404, "no restarts are scheduled", NULL);
}

bool
ha_api_hand_off(pgsocket sock, const HttpPark *park, StringInfo out)
{
	(void) park;
	if (sock == PGINVALID_SOCKET)
	{
		/* over TLS: the session stays here, so the answer is given now */
		if (restart_ask("restart requested through the API", 0))
		{
			ereport(LOG,
					(errmsg("pg_ha: restart requested through the API (HTTPS); the supervisor restarts postgres")));
			api_reply_message(out, 202, "restart requested",
							  "The supervisor restarts postgres now; GET /patroni shows when it is back.");
		}
		return false;
	}
	if (!ha_hand_client_to_supervisor(sock, restart_token))
		return false;
	if (!restart_ask("restart requested through the API", restart_token))
		return false;			/* the supervisor's copy gets a 503 when it expires */
	ereport(LOG,
			(errmsg("pg_ha: restart requested through the API; the supervisor restarts postgres and answers the client")));
	return true;
}

/* the agent answers a reinitialize within a loop turn */
#define REINIT_PARK_MS		10000

/* The last POST /reinitialize: its request id in ha_shared->reinit (0: none). */
static uint64 reinit_request_id;

/* Patroni answers /reinitialize in plain text; patronictl reads the text. */
static void
reply_plain(StringInfo out, int status, const char *text)
{
	ha_http_reply(out, status, false, "text/plain; charset=utf-8", text, strlen(text));
}

/*
 * POST /reinitialize, optional body {"force": true|false} (Patroni's):
 * asks the agent through the reinit slot, the one ha_reinitialize() uses,
 * and waits parked for its verdict.  200 "reinitialize started" once the
 * supervisor was asked (it then stops this postgres for the clone), 503
 * with the reason when refused, 400 for a bad body.
 */
HttpAnswer
api_handle_reinitialize(const HttpRequest *req, StringInfo out, HttpPark *park, int park_kind)
{
	HaReinitRequest *rr = &ha_shared->reinit;
	bool		force = false;
	char		val[8];
	char		err[256];

	if (req->body_len > 0 && !json_is_object(req->body, req->body_len))
	{
		reply_plain(out, 400, "the body must be a JSON object such as {\"force\": true}");
		return HTTP_ANSWER_NOW;
	}
	/* force: a JSON boolean, or absent or null (false) */
	if (req->body_len > 0 && !json_find_bool(req->body, req->body_len, "force", &force) &&
		(!json_get_string(req->body, req->body_len, "force", val, sizeof(val), err, sizeof(err)) ||
		 val[0] != '\0'))
	{
		reply_plain(out, 400, "\"force\" must be true or false");
		return HTTP_ANSWER_NOW;
	}
	LWLockAcquire(ha_shared->lock, LW_EXCLUSIVE);
	if (rr->id != rr->taken_id)
	{
		LWLockRelease(ha_shared->lock);
		reply_plain(out, 503, "another reinitialize request is being checked on this node");
		return HTTP_ANSWER_NOW;
	}
	reinit_request_id = ++rr->id;
	rr->force = force;
	rr->requester_latch = NULL;
	rr->status = 0;
	rr->message[0] = '\0';
	LWLockRelease(ha_shared->lock);
	SetLatch(MyLatch);			/* the agent is this process: take it this turn */
	park->kind = park_kind;
	park->deadline_ms = ha_mono_ms() + REINIT_PARK_MS;
	return HTTP_ANSWER_PARK;
}

/* The parked POST /reinitialize: the agent's status and text. */
bool
api_poll_reinit(bool timed_out, StringInfo out)
{
	HaReinitRequest *rr = &ha_shared->reinit;
	int			status = 0;
	char		message[256] = "";

	LWLockAcquire(ha_shared->lock, LW_SHARED);
	if (rr->taken_id == reinit_request_id)
	{
		status = rr->status;
		strlcpy(message, rr->message, sizeof(message));
	}
	LWLockRelease(ha_shared->lock);
	if (status != 0)
		reply_plain(out, status, message);
	else if (timed_out)
		reply_plain(out, 503, "reinitialize status unknown");
	else
		return false;
	reinit_request_id = 0;
	return true;
}
