/*-------------------------------------------------------------------------
 *
 * handover.c
 *	  Hand-over (see handover.h and PROTOCOL.md).
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "actions.h"
#include "cluster_keys.h"
#include "handover.h"
#include "http_client.h"
#include "log.h"
#include "pg.h"
#include "proto.h"
#include "run.h"
#include "zk.h"

#define HANDOVER_TIMEOUT_MS		10000

/*
 * GET url (an agent's api_url) within timeout_ms: the HTTP status, or < 0.
 * An agent with TLS publishes an https:// api_url; its port answers plain
 * HTTP reads too, so this client needs no TLS.
 */
static int
get_patroni(const char *url, int timeout_ms, char *body, size_t cap, size_t *len)
{
	char		host[256],
				path[512],
				plain[1024];
	HttpCall	call = {.method = "GET", .user_agent = "pg_ha_supervisor"};

	if (strncmp(url, "https://", 8) == 0)
	{
		snprintf(plain, sizeof(plain), "http://%s", url + 8);
		url = plain;
	}
	if (!url_parse(url, host, sizeof(host), &call.port, path, sizeof(path)))
		return HTTP_CLIENT_FAILED;
	call.host = host;
	call.path = path;
	call.timeout_ms = timeout_ms;
	return http_call(&call, body, cap, len);
}

/*
 * Synchronous mode: only the confirmed synchronous standby named in /sync
 * may take over.  A replica that confirmed the shutdown checkpoint has every
 * WAL record this primary wrote, so it is safe to name it there when /sync
 * names no confirmed standby yet (one that joined a moment ago).
 * The write is conditional on the version read, so it never overwrites
 * what a new leader wrote meanwhile.
 */
static void
handover_name_sync_standby(const NodeConf *c, const char *standby)
{
	char		buf[1024];
	int			len = 0;
	struct Stat st;
	HaSyncKey	k;
	JsonBuf		jb;
	int			rc;

	if (!c->synchronous_mode)
		return;
	rc = zkc_get(zkc_paths()->sync, buf, sizeof(buf) - 1, &len, &st);
	/* a confirmed synchronous standby (this one or another) has every
	 * acknowledged commit: it stays the one that takes over */
	if (rc == ZOK && len > 0 && sync_key_parse(buf, (size_t) len, &k) &&
		k.standby[0] && k.confirmed)
		return;
	memset(&k, 0, sizeof(k));
	snprintf(k.leader, sizeof(k.leader), "%s", c->name);
	snprintf(k.standby, sizeof(k.standby), "%s", standby);
	k.confirmed = true;
	json_init(&jb, buf, sizeof(buf));
	sync_key_render(&k, &jb);
	if (rc == ZOK)
		rc = zkc_set(zkc_paths()->sync, buf, (int) strlen(buf), st.version);
	else if (rc == ZNONODE)
		rc = zkc_create(zkc_paths()->sync, buf, (int) strlen(buf));
	if (rc == ZOK)
		sup_log("handover: named %s the confirmed synchronous standby (it has all our WAL)", standby);
	else
		sup_log("handover: could not name %s the synchronous standby (%s); it may wait for ttl",
				standby, zerror(rc));
}

/*
 * Steps 1-4 of PROTOCOL.md's hand-over: stop, read the shutdown
 * checkpoint, wait for a replica to confirm it (target_api_url, or every
 * running replica member when NULL), release the leader key if it still
 * names us.  Returns whether a replica confirmed.
 */
bool
handover_release(const NodeConf *c, const char *target_name, const char *target_api_url)
{
	HaMember   *members = calloc(HA_MAX_MEMBERS, sizeof(HaMember));
	int			n = 0;
	ControlData cd = {0};
	uint64_t	end;
	char		lsn[24];
	char		confirmed_by[HA_NAME_LEN] = "";
	uint64_t	confirmed_at = 0;
	char		last_answer[HA_NAME_LEN + 64] = "none asked";	/* for the log */
	long long	deadline;
	char	   *body = malloc(16384);

	if (members == NULL || body == NULL)
	{
		free(members);
		free(body);
		return false;
	}
	if (target_api_url == NULL && zk_ready())
		n = zkc_members(members, HA_MAX_MEMBERS, c->name);

	if (pg_running())
		pg_stop(SIGINT, STOP_TIMEOUT_MS, "handover");
	if (!pgd_controldata(c, &cd) || strcmp(cd.state, "shut down") != 0)
	{
		sup_log("handover: postgres is not a cleanly stopped primary (state \"%s\"); leaving the leader key to expire",
				cd.state);
		free(members);
		free(body);
		return false;
	}
	end = rewind_checkpoint_end(cd.checkpoint, cd.seg_size);
	fmt_lsn(end, lsn, sizeof(lsn));
	if (target_api_url == NULL)
	{
		bool		any = false;

		for (int i = 0; i < n; i++)
			if (strcmp(members[i].role, "replica") == 0)
				any = true;
		if (!any)
		{
			sup_log("handover: shut down at %s; no replica is registered, so nobody can take over: leaving the leader key to expire",
					lsn);
			free(members);
			free(body);
			return false;
		}
	}
	sup_log("handover: shut down at %s; waiting up to %d s for %s to confirm it",
			lsn, HANDOVER_TIMEOUT_MS / 1000, target_name ? target_name : "a replica");

	deadline = now_ms() + HANDOVER_TIMEOUT_MS;
	while (confirmed_by[0] == '\0' && now_ms() < deadline)
	{
		long long	round = now_ms();
		int			count = target_api_url ? 1 : n;

		for (int i = 0; i < count && confirmed_by[0] == '\0'; i++)
		{
			const char *url = target_api_url ? target_api_url : members[i].api_url;
			const char *name = target_api_url ? target_name : members[i].name;
			size_t		len = 0;
			uint64_t	got = 0;
			long long	left = deadline - now_ms();
			int			status;

			if (!target_api_url && (strcmp(members[i].role, "replica") != 0 ||
									strcmp(members[i].state, "running") != 0))
				continue;
			if (left <= 0)
				break;
			status = get_patroni(url, left < 1000 ? (int) left : 1000, body, 16384, &len);
			if (status == 200 && patroni_received_location(body, len, &got))
			{
				char		at[24];

				fmt_lsn(got, at, sizeof(at));
				snprintf(last_answer, sizeof(last_answer), "%s had received %s", name, at);
				if (got >= end)
				{
					snprintf(confirmed_by, sizeof(confirmed_by), "%s", name);
					confirmed_at = got;
				}
			}
			else
				snprintf(last_answer, sizeof(last_answer), "%s answered %d%s", name, status,
						 status == 200 ? " without received_location" : "");
		}
		if (confirmed_by[0] == '\0')
		{
			long long	spent = now_ms() - round;

			sup_wait(spent < 50 ? (int) (50 - spent) : 1);
			/* a replica that registers meanwhile counts too */
			if (!target_api_url && now_ms() - round > 1000 && zkc_connected())
				n = zkc_members(members, HA_MAX_MEMBERS, c->name);
		}
	}
	free(members);
	free(body);

	if (confirmed_by[0] == '\0')
	{
		sup_log("handover: no replica confirmed %s within %d s (last: %s); leaving the leader key to expire after ttl (%d s)",
				lsn, HANDOVER_TIMEOUT_MS / 1000, last_answer, c->ttl);
		return false;
	}
	{
		char		got[24];
		char		leader[HA_NAME_LEN];
		struct Stat st;
		int			rc = zk_ready() ? zkc_leader(leader, sizeof(leader), &st) : ZCONNECTIONLOSS;

		fmt_lsn(confirmed_at, got, sizeof(got));
		if (rc == ZOK && strcmp(leader, c->name) == 0)
		{
			handover_name_sync_standby(c, confirmed_by);
			rc = zkc_delete(zkc_paths()->leader, st.version);
			if (rc == ZOK)
				sup_log("handover: %s confirmed %s, releasing the leader key", confirmed_by, got);
			else
				sup_log("handover: %s confirmed %s, but deleting the leader key failed (%s); it expires after ttl",
						confirmed_by, got, zerror(rc));
		}
		else if (rc == ZOK || rc == ZNONODE)
			sup_log("handover: %s confirmed %s; the leader key is %s%s%s, nothing to release",
					confirmed_by, got, rc == ZNONODE ? "gone" : "held by \"",
					rc == ZNONODE ? "" : leader, rc == ZNONODE ? "" : "\"");
		else
			sup_log("handover: %s confirmed %s, but ZooKeeper is unreachable (%s); the key expires after ttl",
					confirmed_by, got, zerror(rc));
	}
	return true;
}
