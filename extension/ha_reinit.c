/*-------------------------------------------------------------------------
 *
 * ha_reinit.c
 *	  Reinitialize requests (POST /reinitialize, ha_reinitialize() on this
 *	  node), one slot in shared memory: the agent takes a request, gathers
 *	  the facts reinit_rule.c judges, and when it is accepted asks its
 *	  supervisor to re-clone this node from the leader (PROTOCOL.md, action
 *	  "reinit").  The answer comes at once, as Patroni's does: the
 *	  supervisor stops this postgres for the clone, so nothing here waits
 *	  for it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/fd.h"

#include "addr.h"
#include "ha_agent.h"
#include "ha_local.h"
#include "reinit_rule.h"

/*
 * The supervisor stops postgres within seconds of a request; one asked for
 * longer ago than this, with postgres still running, was dropped (the
 * supervisor was stopping, say) and does not block another.
 */
#define REINIT_STOP_WAIT_MS		60000

static int64 reinit_asked_ms;	/* when this postgres asked (0: never) */

/*
 * Is a request file waiting for the supervisor?  Its action into action
 * ("request" when the file names none).
 */
static bool
pending_request(char *action, size_t cap)
{
	FILE	   *f = AllocateFile(HA_REQUEST_FILE, "r");
	char		line[512];

	if (f == NULL)
		return false;
	strlcpy(action, "request", cap);
	while (fgets(line, sizeof(line), f) != NULL)
	{
		char		word[64];

		if (sscanf(line, " action = %63s", word) == 1)
		{
			strlcpy(action, word, cap);
			break;
		}
	}
	FreeFile(f);
	return true;
}

/*
 * Judges a request and acts on it; the HTTP status, and the text in msg.
 * reason goes to the supervisor (NULL: an operator's request).
 */
static int
reinit_answer(int64 now, bool force, const char *reason, char *msg, size_t cap)
{
	const HaMember *leader = agent.view.leader[0] ? session_member(agent.view.leader) : NULL;
	char		host[HA_HOST_LEN] = "";
	int			port = 0;
	char		pending[64];
	char		conninfo[HA_HOST_LEN + 32];
	HaReinitFacts f;
	HaReinitVerdict v;

	if (leader)
		addr_split_conn_url(leader->conn_url, host, sizeof(host), &port);
	memset(&f, 0, sizeof(f));
	f.self = agent.view.self.name;
	f.leader = agent.view.leader;
	f.is_leader = agent.view.is_leader;
	f.supervised = agent.supervised;
	f.leader_addressable = host[0] != '\0' && port > 0;
	f.reinit_requested = reinit_asked_ms != 0 && now - reinit_asked_ms < REINIT_STOP_WAIT_MS;
	f.pending_action = pending_request(pending, sizeof(pending)) ? pending : NULL;
	f.force = force;

	v = ha_reinit_check(&f);
	ha_reinit_message(v, f.pending_action, msg, cap);
	if (v != HA_RIV_OK)
	{
		ereport(LOG,
				(errmsg("pg_ha: reinitialize refused: %s", msg)));
		return 503;
	}
	snprintf(conninfo, sizeof(conninfo), "host=%s port=%d", host, port);
	if (reason == NULL)
		reason = force ? "reinitialize requested (forced)" : "reinitialize requested";
	if (!ha_request_supervisor("reinit", leader->name, conninfo, NULL, reason, false))
	{
		strlcpy(msg, "could not write the request for the supervisor, can not reinitialize", cap);
		return 503;
	}
	ereport(LOG,
			(errmsg("pg_ha: reinitialize: asked the supervisor to re-clone this node from \"%s\"",
					leader->name),
			 errdetail("It stops postgres, moves the data directory aside, runs pg_basebackup and starts the copy as a standby; the old directory is removed once the copy runs.%s",
					   f.pending_action ? " It replaces the pending request for the supervisor (forced)." : "")));
	reinit_asked_ms = now;
	return 200;
}

int
reinit_ask(int64 now, const char *reason, char *msg, size_t cap)
{
	return reinit_answer(now, false, reason, msg, cap);
}

void
reinit_poll_request(int64 now)
{
	HaReinitRequest *req = &ha_shared->reinit;
	uint64		id;
	bool		force;
	Latch	   *requester;
	char		msg[256];
	int			status;

	LWLockAcquire(ha_shared->lock, LW_EXCLUSIVE);
	id = req->id;
	if (id == req->taken_id)
	{
		LWLockRelease(ha_shared->lock);
		return;
	}
	req->taken_id = id;
	req->status = 0;
	force = req->force;
	LWLockRelease(ha_shared->lock);

	status = reinit_answer(now, force, NULL, msg, sizeof(msg));

	LWLockAcquire(ha_shared->lock, LW_EXCLUSIVE);
	requester = NULL;
	if (req->taken_id == id)
	{
		req->status = status;
		strlcpy(req->message, msg, sizeof(req->message));
		requester = req->requester_latch;
	}
	LWLockRelease(ha_shared->lock);
	if (requester)
		SetLatch(requester);
}
