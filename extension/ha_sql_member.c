/*-------------------------------------------------------------------------
 *
 * ha_sql_member.c
 *	  SQL functions that act on one member: ha_restart() and
 *	  ha_reinitialize().  On this node they ask the agent through shared
 *	  memory (the restart and reinit slots); on another member they call
 *	  that member's HTTP API (ha_member_api.c), as patronictl does.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "ha_clock.h"
#include "ha_member_api.h"
#include "ha_shmem.h"
#include "ha_sql.h"
#include "iso_time.h"
#include "json_reader.h"

/*
 * The member the first argument names (an ERROR when it is NULL) and a copy
 * of the agent's view, which says who the members are.
 */
static HaView *
member_arg_and_view(FunctionCallInfo fcinfo, const char *function, char **member)
{
	HaView	   *v;

	ha_sql_require_loaded();
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s() needs a member name", function),
				 errhint("SELECT name, role FROM ha_status() lists the members.")));
	*member = text_to_cstring(PG_GETARG_TEXT_PP(0));
	v = palloc(sizeof(HaView));
	LWLockAcquire(ha_shared->lock, LW_SHARED);
	memcpy(v, &ha_shared->view, sizeof(HaView));
	LWLockRelease(ha_shared->lock);
	return v;
}

#define REINIT_ANSWER_TIMEOUT_MS	10000

/* This node's agent judges the request through the reinit slot; its answer. */
static int
reinit_local(char *message, size_t cap)
{
	HaReinitRequest *req = &ha_shared->reinit;
	Latch	   *agent_latch;
	TimestampTz start = GetCurrentTimestamp();
	uint64		id;

	LWLockAcquire(ha_shared->lock, LW_EXCLUSIVE);
	agent_latch = ha_shared->worker_pid != 0 ? ha_shared->agent_latch : NULL;
	if (agent_latch == NULL || req->id != req->taken_id)
	{
		LWLockRelease(ha_shared->lock);
		ha_sql_slot_unavailable(agent_latch != NULL, "another reinitialize request is being checked on this node");
	}
	id = ++req->id;
	req->force = false;
	req->requester_latch = MyLatch;
	req->status = 0;
	req->message[0] = '\0';
	LWLockRelease(ha_shared->lock);
	SetLatch(agent_latch);

	for (;;)
	{
		int			status = 0;

		LWLockAcquire(ha_shared->lock, LW_SHARED);
		if (req->taken_id == id && req->status != 0)
		{
			status = req->status;
			strlcpy(message, req->message, cap);
		}
		LWLockRelease(ha_shared->lock);
		if (status != 0)
			return status;
		if (TimestampDifferenceMilliseconds(start, GetCurrentTimestamp()) > REINIT_ANSWER_TIMEOUT_MS)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("pg_ha agent did not answer the reinitialize request within %d s",
							REINIT_ANSWER_TIMEOUT_MS / 1000),
					 errhint("Check the server log for the \"pg_ha agent\" background worker.")));
		ha_sql_nap(100);
	}
}

/*
 * ha_reinitialize(member text): re-clones a replica from the leader, as
 * POST /reinitialize (patronictl reinit).  For this node its agent judges
 * the request (the slot POST /reinitialize uses); for another member that
 * member's API is asked.  Returns the member's answer ("reinitialize
 * started") once its supervisor was asked: the clone itself runs with that
 * member's postgres stopped.  An unknown member, the leader, a refusal or
 * an unreachable member is an ERROR.
 */
PG_FUNCTION_INFO_V1(ha_reinitialize);

Datum
ha_reinitialize(PG_FUNCTION_ARGS)
{
	char	   *member;
	HaView	   *v;
	const HaMember *m = NULL;
	bool		is_local;
	char		answer[1024];
	int			status;

	v = member_arg_and_view(fcinfo, "ha_reinitialize", &member);

	is_local = v->self.name[0] && strcmp(member, v->self.name) == 0;
	for (int i = 0; i < v->nmembers && !is_local; i++)
		if (strcmp(v->members[i].name, member) == 0)
			m = &v->members[i];
	if (!is_local && m == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("\"%s\" is not a member of the cluster", member),
				 errdetail("This node's agent sees %d member(s)%s.", v->nmembers,
						   v->zk_reachable ? "" : " (ZooKeeper is unreachable from this node)"),
				 errhint("SELECT name, role FROM ha_status() lists the members.")));
	if ((v->leader[0] && strcmp(v->leader, member) == 0) || (is_local && v->is_leader))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("member \"%s\" is the leader: it cannot be reinitialized", member),
				 errdetail("A reinitialize re-clones a replica from the leader."),
				 errhint("Switch over first (ha_switchover()), then reinitialize it as a replica.")));

	if (is_local)
		status = reinit_local(answer, sizeof(answer));
	else
	{
		status = ha_member_api_post(m->api_url, "/reinitialize", "{\"force\": false}",
									REINIT_ANSWER_TIMEOUT_MS, answer, sizeof(answer));
		if (status < 0)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("member \"%s\" is unreachable", member),
					 errdetail("POST /reinitialize to its API (%s) got no answer within %d s.",
							   m->api_url, REINIT_ANSWER_TIMEOUT_MS / 1000),
					 errhint("Check that its pg_ha agent runs; SELECT * FROM ha_status() shows its state.")));
	}
	if (status != 200)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("member \"%s\" refused to reinitialize: %s", member, answer),
				 errdetail("Its agent answered HTTP %d.", status)));
	ereport(LOG,
			(errmsg("pg_ha: reinitialize of \"%s\" requested by %s", member,
					GetUserNameFromId(GetUserId(), false))));
	if (is_local)
		ereport(NOTICE,
				(errmsg("this node is re-cloned now: its postgres stops and its sessions end")));
	PG_RETURN_TEXT_P(cstring_to_text(answer));
}

/*
 * ha_restart(member text, at timestamptz DEFAULT NULL): restarts a member's
 * postgres in place, now or at a time (as patronictl restart).  The leader
 * keeps its leadership.  On this node the request waits in the restart
 * slot for the agent (the caller's own session ends with the restart); on
 * another member it is that member's POST /restart, which answers once
 * postgres is back.
 */
PG_FUNCTION_INFO_V1(ha_restart);

#define RESTART_REMOTE_TIMEOUT_MS	90000

/* Another member's POST /restart: its answer, or an ERROR with its reason. */
static Datum
restart_remote(const HaMember *m, const HaRestartRequest *r)
{
	char		body[128] = "";
	char		answer[1024];
	char		said[512] = "";
	char		msg_err[64];
	int			status;

	if (r->scheduled)
		snprintf(body, sizeof(body), "{\"schedule\": \"%s\"}", r->schedule);
	status = ha_member_api_post(m->api_url, "/restart", body, RESTART_REMOTE_TIMEOUT_MS,
								answer, sizeof(answer));
	if (status == HTTP_CLIENT_FAILED)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not reach the API of \"%s\" at %s", m->name, m->api_url),
				 errhint("Call ha_restart() on that member itself.")));
	if (!json_get_string(answer, strlen(answer), status < 400 ? "message" : "error",
						 said, sizeof(said), msg_err, sizeof(msg_err)) || said[0] == '\0')
		strlcpy(said, answer, sizeof(said));
	if (status != 200 && status != 202)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("restart of \"%s\" refused (HTTP %d): %s", m->name, status, said)));
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("restart of \"%s\": %s", m->name, said)));
}

Datum
ha_restart(PG_FUNCTION_ARGS)
{
	char	   *member;
	bool		scheduled = !PG_ARGISNULL(1);
	HaView	   *v;
	const HaMember *m = NULL;
	HaRestartRequest r;
	char		msg[512];

	v = member_arg_and_view(fcinfo, "ha_restart", &member);
	for (int i = 0; i < v->nmembers && m == NULL; i++)
		if (strcmp(v->members[i].name, member) == 0)
			m = &v->members[i];
	if (m == NULL && strcmp(v->self.name, member) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("no member \"%s\" in the cluster", member),
				 errhint("SELECT name FROM ha_status() lists the members.")));

	memset(&r, 0, sizeof(r));
	if (scheduled)
	{
		TimestampTz at = PG_GETARG_TIMESTAMPTZ(1);

		if (at <= GetCurrentTimestamp())
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot schedule a restart in the past")));
		if (v->paused)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot schedule a restart while the cluster is paused"),
					 errhint("Call ha_resume() first, or restart now.")));
		r.scheduled = true;
		r.at_us = ha_timestamptz_to_unix_us(at);
		iso_time_format(r.at_us, r.schedule, sizeof(r.schedule));
	}

	if (strcmp(v->self.name, member) != 0)
		return restart_remote(m, &r);

	if (!v->self.supervised)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("\"%s\" does not run under pg_ha_supervisor, which restarts postgres", member)));
	LWLockAcquire(ha_shared->lock, LW_EXCLUSIVE);
	if (ha_shared->restart.active)
	{
		LWLockRelease(ha_shared->lock);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("another restart is already waiting on \"%s\"", member),
				 errhint("DELETE /restart (patronictl flush <scope> restart) drops a scheduled one.")));
	}
	ha_shared->restart.req = r;
	ha_shared->restart.active = true;
	if (ha_shared->agent_latch)
		SetLatch(ha_shared->agent_latch);
	LWLockRelease(ha_shared->lock);
	if (scheduled)
		snprintf(msg, sizeof(msg), "restart of \"%s\" scheduled for %s", member, r.schedule);
	else
		snprintf(msg, sizeof(msg), "restart of \"%s\" requested: its agent asks the supervisor now", member);
	PG_RETURN_TEXT_P(cstring_to_text(msg));
}
