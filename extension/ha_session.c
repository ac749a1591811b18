/*-------------------------------------------------------------------------
 *
 * ha_session.c
 *	  The agent's ZooKeeper protocol: what it reads, watches and writes, and
 *	  what it learns from each reply (layout in ha_agent.h).
 *
 * Everything is asynchronous: a call is issued, counted in inflight[], and
 * its result comes back as an event on the main loop.  session_advance()
 * brings the session forward one step at a time (parents, identity,
 * registration, watches) and never issues a call that is already in
 * flight, so nothing piles up while ZooKeeper is slow.  Reading and
 * writing the keys themselves (members, /status, /sync, /failover) is
 * ha_keys.c's; this file records what ZooKeeper answered in the agent's
 * state and calls nothing above it: the duties read it on their next pass.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <zookeeper/zookeeper.h>

#include "utils/timestamp.h"

#include "ha_agent.h"
#include "ha_guc.h"
#include "json_writer.h"
#include "member_json.h"

#define ZK_BACKOFF_MIN_MS	500

static int64 next_init_read_ms = 0;

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
	agent.status_known = false;
	agent.sync_known = false;
	agent.failover_known = false;
	agent.history_known = false;
	agent.config_known = false;
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

void
session_start(int64 now)
{
	char		why[128];

	if (zk_started() || now < agent.zk_next_start_ms)
		return;
	if (agent.zk_backoff_ms == 0)
		agent.zk_backoff_ms = ZK_BACKOFF_MIN_MS;
	reset_session_progress();
	mark_unreachable();
	if (!zk_start(ha_zk_hosts, ha_ttl * 1000, why, sizeof(why)))
	{
		ha_set_error("could not start a ZooKeeper session with \"%s\": %s", ha_zk_hosts, why);
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
	ha_set_error("%s", why);
	agent.zk_next_start_ms = now + agent.zk_backoff_ms;
	agent.zk_backoff_ms = Min(agent.zk_backoff_ms * 2, ha_ttl * 1000);
}

static void
handle_session_event(const ZkEvent *ev, int64 now)
{
	if (ev->state == ZOO_CONNECTED_STATE)
	{
		int64		sid = zk_session_id();

		int			granted = zk_negotiated_timeout_ms();

		if (agent.view.zk_state != HA_ZK_CONNECTED)
			ereport(LOG,
					(errmsg("pg_ha: connected to ZooKeeper (session 0x%" INT64_MODIFIER "x, timeout %d ms)",
							sid, granted)));
		if (granted > 0 && granted < ha_ttl * 1000 && granted != agent.zk_granted_ms)
			ereport(WARNING,
					(errmsg("pg_ha: ZooKeeper granted a session timeout of %d ms, less than pg_ha.ttl (%d s)",
							granted, ha_ttl),
					 errdetail("The server bounds session timeouts to 2..20 times its tickTime."),
					 errhint("Lower pg_ha.ttl, or raise the server's tickTime or maxSessionTimeout; until then this node fences itself after %d ms without ZooKeeper instead of pg_ha.retry_timeout.",
							 ha_fence_after_ms(ha_retry_timeout, ha_ttl, granted))));
		agent.zk_granted_ms = granted;
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
			agent.leader_stale = true;
			agent.members_stale = true;
			agent.status_stale = true;
			agent.sync_stale = true;
			agent.failover_stale = true;
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

/*
 * How long without a reply before a primary fences itself; the leader's
 * lease runs out at the same moment.
 */
int64
session_fence_after_ms(void)
{
	return ha_fence_after_ms(ha_retry_timeout, ha_ttl, agent.zk_granted_ms);
}

bool
session_reachable(int64 now)
{
	/* /primary goes 503 well before retry_timeout when replies stop */
	int64		stale_ms = Min((int64) ha_retry_timeout * 1000,
							   Max((int64) ha_loop_wait * 3000, 2000));

	return agent.view.zk_state == HA_ZK_CONNECTED &&
		now - agent.zk_last_contact_ms <= stale_ms;
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
write_member(ZkOp op, int64 now)
{
	char		buf[MEMBER_JSON_CAP];
	int			len = member_json(buf, sizeof(buf));

	if (len < 0)
		return;
	agent.member_write_sent_ms = now;
	if (op == OP_MEMBER_CREATE)
		session_issue(op, zk_create(op, agent.self_path, buf, len, true));
	else
		session_issue(op, zk_set(op, agent.self_path, buf, len, -1));
}

/* ---- results ---- */

/* Is this a reply from the server (as opposed to a lost connection)? */
static bool
is_server_reply(int rc)
{
	return rc != ZCONNECTIONLOSS && rc != ZOPERATIONTIMEOUT &&
		rc != ZSESSIONEXPIRED && rc != ZCLOSING && rc != ZINVALIDSTATE &&
		rc != ZSYSTEMERROR;
}

static void
leader_gone(int64 now)
{
	if (agent.leader_exists || agent.leader_vanished_ms == 0)
	{
		if (agent.leader_exists)
			strlcpy(agent.last_leader, agent.view.leader, HA_NAME_LEN);
		agent.leader_vanished_ms = now;
		/* tell the others our position at once: they may be deciding */
		agent.self_changed = true;
		agent.members_stale = true;
	}
	agent.leader_known = true;
	agent.leader_stale = false;
	agent.leader_exists = false;
	agent.view.leader[0] = '\0';
	agent.view.leader_epoch = 0;
}

static void
leader_seen(const ZkEvent *ev, const char *name)
{
	agent.leader_known = true;
	agent.leader_stale = false;
	agent.leader_exists = true;
	agent.leader_vanished_ms = 0;
	agent.leader_owner = ev->ephemeral_owner;
	agent.leader_version = ev->version;
	agent.view.leader_epoch = ev->czxid;
	strlcpy(agent.view.leader, name, HA_NAME_LEN);
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

				if (cluster_id == 0)
				{
					/* a supervisor is bootstrapping the cluster: ask again later */
					break;
				}
				agent.init_known = true;
				agent.identity_ok = cluster_id == self->system_id;
				if (!agent.identity_ok)
				{
					ha_set_error("data directory belongs to another cluster: system identifier " UINT64_FORMAT ", cluster's is " UINT64_FORMAT,
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
					session_issue(OP_INIT_CREATE, zk_create(OP_INIT_CREATE, agent.init_path, buf,
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
				agent.zk_last_write_ms = Max(agent.zk_last_write_ms, agent.member_write_sent_ms);
				agent.member_state = MEMBER_REGISTERED;
				agent.self_changed = false;
				agent.members_stale = true;
				ereport(LOG, (errmsg("pg_ha: registered member \"%s\" in cluster \"%s\" as %s",
									 self->name, ha_scope, self->role)));
			}
			else if (ev->rc == ZNODEEXISTS)
				session_issue(OP_MEMBER_GET_SELF, zk_get(OP_MEMBER_GET_SELF, agent.self_path, false));
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
					session_issue(OP_MEMBER_DELETE_STALE,
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
					ha_set_error("another node is already registered as \"%s\"", self->name);
					agent.member_state = MEMBER_CONFLICT;
					agent.member_retry_ms = now + (int64) ha_ttl * 1000;
				}
			}
			/* ZNONODE: it vanished meanwhile; the next step registers */
			break;

		case OP_MEMBER_DELETE_STALE:
			break;				/* the next step registers again */

		case OP_MEMBER_SET:
			if (ev->rc == ZOK)
				agent.zk_last_write_ms = Max(agent.zk_last_write_ms, agent.member_write_sent_ms);
			if (ev->rc == ZNONODE)
				agent.member_state = MEMBER_NONE;	/* deleted under us: register again */
			break;

		case OP_LEADER_EXISTS:
			if (ev->rc == ZOK && ev->has_stat)
			{
				agent.leader_owner = ev->ephemeral_owner;
				session_issue(OP_LEADER_GET, zk_get(OP_LEADER_GET, agent.leader_path, false));
			}
			else if (ev->rc == ZNONODE)
				leader_gone(now);
			break;

		case OP_LEADER_GET:
			if (ev->rc == ZOK)
				leader_seen(ev, ev->data ? ev->data : "");
			else if (ev->rc == ZNONODE)
				leader_gone(now);
			break;

		case OP_LEADER_CREATE:
			if (ev->rc == ZOK && ev->has_stat)
			{
				leader_seen(ev, self->name);
				ereport(LOG,
						(errmsg("pg_ha: \"%s\" acquired the leader key of cluster \"%s\" (epoch " INT64_FORMAT ")",
								self->name, ha_scope, (int64) ev->czxid)));
			}
			else if (is_server_reply(ev->rc))
				agent.leader_stale = true;	/* lost the race: re-read */
			break;

		case OP_LEADER_REPLACE:
		case OP_LEADER_DELETE_STALE:
			if (ev->rc == ZOK && ev->op == OP_LEADER_REPLACE)
			{
				ereport(LOG,
						(errmsg("pg_ha: \"%s\" took over its leader key from an earlier session",
								self->name)));
				agent.leader_owner = zk_session_id();
			}
			agent.leader_stale = true;
			break;

		case OP_MEMBERS_LIST:
			if (ev->rc == ZOK)
			{
				keys_update_member_list(ev, now);
				agent.members_stale = false;
				agent.members_listed_ms = now;
				keys_read_members();
			}
			break;

		case OP_MEMBER_GET:
			if (ev->rc == ZOK && ev->path)
				keys_handle_member_data(ev, now);
			break;

		case OP_STATUS_GET:
			if (ev->rc == ZOK || ev->rc == ZNONODE)
			{
				agent.status_known = true;
				agent.status_stale = false;
				if (ev->rc == ZOK)
					keys_parse_status(ev->data, ev->datalen);
			}
			break;

		case OP_STATUS_SET:
			if (ev->rc == ZNONODE)
				session_create_status();
			break;

		case OP_STATUS_CREATE:
			break;

		case OP_SYNC_GET:
			if (ev->rc == ZOK)
				keys_parse_sync(ev->data, ev->datalen);
			else if (ev->rc == ZNONODE)
				keys_parse_sync(NULL, 0);
			break;

		case OP_SYNC_SET:
			if (ev->rc == ZNONODE)
				session_issue(OP_SYNC_CREATE,
							  zk_create(OP_SYNC_CREATE, agent.sync_path, agent.sync_pending,
										strlen(agent.sync_pending), false));
			else
			{
				if (ev->rc == ZOK)
				{
					keys_parse_sync(agent.sync_pending, strlen(agent.sync_pending));
					agent.sync_written = true;
				}
			}
			break;

		case OP_SYNC_CREATE:
			if (ev->rc == ZOK)
			{
				keys_parse_sync(agent.sync_pending, strlen(agent.sync_pending));
				agent.sync_written = true;
			}
			else if (ev->rc == ZNODEEXISTS)
				agent.sync_stale = true;	/* someone else wrote it: re-read */
			break;

		case OP_FAILOVER_GET:
			if (ev->rc == ZOK || ev->rc == ZNONODE)
				keys_parse_failover(ev, now);
			break;

		case OP_FAILOVER_CREATE:
			agent.failover_created = true;
			agent.failover_created_rc = ev->rc;
			agent.failover_stale = true;
			break;

		case OP_FAILOVER_DELETE:
			if (ev->rc == ZOK || ev->rc == ZNONODE)
			{
				agent.failover_exists = false;
				agent.failover_candidate[0] = agent.failover_leader[0] = '\0';
			}
			agent.failover_stale = true;
			break;

		case OP_HISTORY_GET:
			if (ev->rc == ZOK || ev->rc == ZNONODE)
				history_handle_read(ev);
			break;

		case OP_HISTORY_SET:
		case OP_HISTORY_CREATE:
			history_handle_written(ev);
			break;

		case OP_CONFIG_GET:
			if (ev->rc == ZOK || ev->rc == ZNONODE)
				config_handle_read(ev);
			break;

		case OP_CONFIG_CREATE:
			config_handle_created(ev);
			break;

		case OP_CONFIG_SET:
			config_handle_set(ev);
			break;

		case OP_NUM_OPS:
			break;
	}
}

void
session_handle_events(int64 now)
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
						agent.leader_stale = true;
					else if (ev->path && strcmp(ev->path, agent.members_path) == 0)
						agent.members_stale = true;
					else if (ev->path && strcmp(ev->path, agent.sync_path) == 0)
						agent.sync_stale = true;
					else if (ev->path && strcmp(ev->path, agent.failover_path) == 0)
						agent.failover_stale = true;
					else if (ev->path && strcmp(ev->path, agent.history_path) == 0)
						agent.history_stale = true;
					else if (ev->path && strcmp(ev->path, agent.config_path) == 0)
						agent.config_stale = true;
					break;
				case ZKEV_RESULT:
					handle_result(ev, now);
					break;
			}
		}
		zk_free_event(ev);
	}
}

/* ---- bringing the session forward ---- */

/*
 * Our member is rewritten every loop_wait, and each reply renews the
 * leader's lease: at least three renewals fit in the fence delay, so a
 * loop_wait as long as retry_timeout (Patroni's defaults: 10 and 10) does
 * not let the lease lapse between two beats.
 */
static int64
heartbeat_ms(void)
{
	return Min((int64) ha_loop_wait * 1000, session_fence_after_ms() / 3);
}

static bool
idle(ZkOp op)
{
	return agent.inflight[op] == 0;
}

void
session_advance(int64 now)
{
	if (agent.view.zk_state != HA_ZK_CONNECTED)
		return;

	if (agent.parents_done < (int) lengthof(agent.parents))
	{
		/* created in order; each waits for the one above it */
		if (idle(OP_PARENT))
			session_issue(OP_PARENT, zk_create(OP_PARENT, agent.parents[agent.parents_done],
											   "", 0, false));
		return;
	}

	if (!agent.init_known && idle(OP_INIT_GET) && idle(OP_INIT_CREATE) &&
		now >= next_init_read_ms)
	{
		session_issue(OP_INIT_GET, zk_get(OP_INIT_GET, agent.init_path, false));
		/* an empty key (bootstrap under way) is read again a beat later */
		next_init_read_ms = now + (int64) ha_loop_wait * 1000;
	}

	if ((!agent.leader_known || agent.leader_stale) && idle(OP_LEADER_EXISTS) && idle(OP_LEADER_GET) &&
		idle(OP_LEADER_CREATE) && idle(OP_LEADER_REPLACE) && idle(OP_LEADER_DELETE_STALE))
		session_issue(OP_LEADER_EXISTS, zk_exists(OP_LEADER_EXISTS, agent.leader_path, true));

	if (agent.members_stale && idle(OP_MEMBERS_LIST))
		session_issue(OP_MEMBERS_LIST, zk_get_children(OP_MEMBERS_LIST, agent.members_path, true));

	if ((!agent.status_known || agent.status_stale) && idle(OP_STATUS_GET))
		session_issue(OP_STATUS_GET, zk_get(OP_STATUS_GET, agent.status_path, false));

	if ((!agent.sync_known || agent.sync_stale) && idle(OP_SYNC_GET) && idle(OP_SYNC_SET) && idle(OP_SYNC_CREATE))
	{
		/* watched even while absent (exists), then read */
		session_issue(OP_SYNC_GET, zk_get(OP_SYNC_GET, agent.sync_path, true));
		if (agent.inflight[OP_SYNC_GET] > 0)
			(void) zk_exists(-1, agent.sync_path, true);
	}

	if ((!agent.failover_known || agent.failover_stale) && idle(OP_FAILOVER_GET) && idle(OP_FAILOVER_CREATE) &&
		idle(OP_FAILOVER_DELETE))
	{
		session_issue(OP_FAILOVER_GET, zk_get(OP_FAILOVER_GET, agent.failover_path, true));
		if (agent.inflight[OP_FAILOVER_GET] > 0)
			(void) zk_exists(-1, agent.failover_path, true);
	}

	if ((!agent.config_known || agent.config_stale) && idle(OP_CONFIG_GET) && idle(OP_CONFIG_CREATE) &&
		idle(OP_CONFIG_SET))
	{
		session_issue(OP_CONFIG_GET, zk_get(OP_CONFIG_GET, agent.config_path, true));
		if (agent.inflight[OP_CONFIG_GET] > 0)
			(void) zk_exists(-1, agent.config_path, true);
	}

	if ((!agent.history_known || agent.history_stale) && idle(OP_HISTORY_GET) &&
		idle(OP_HISTORY_SET) && idle(OP_HISTORY_CREATE))
	{
		session_issue(OP_HISTORY_GET, zk_get(OP_HISTORY_GET, agent.history_path, true));
		if (agent.inflight[OP_HISTORY_GET] > 0)
			(void) zk_exists(-1, agent.history_path, true);
	}

	if (!agent.identity_ok)
		return;

	switch (agent.member_state)
	{
		case MEMBER_NONE:
			if (idle(OP_MEMBER_CREATE) && idle(OP_MEMBER_GET_SELF) && idle(OP_MEMBER_DELETE_STALE))
				write_member(OP_MEMBER_CREATE, now);
			break;
		case MEMBER_CONFLICT:
			if (now >= agent.member_retry_ms)
				agent.member_state = MEMBER_NONE;
			break;
		case MEMBER_REGISTERED:
			if ((agent.self_changed || now >= agent.next_heartbeat_ms) && idle(OP_MEMBER_SET))
			{
				write_member(OP_MEMBER_SET, now);
				agent.self_changed = false;
				/*
				 * While a synchronous standby is being confirmed, its position
				 * matters every moment: beat faster on both sides.
				 */
				agent.next_heartbeat_ms = now +
					(agent.view.sync_standby[0] && !agent.sync_confirmed ? 200 :
					 heartbeat_ms());
				/* the same cadence refreshes the others' positions and /status */
				if (idle(OP_MEMBER_GET))
					keys_read_members();
				if (!agent.view.is_leader && idle(OP_STATUS_GET))
					session_issue(OP_STATUS_GET, zk_get(OP_STATUS_GET, agent.status_path, false));
			}
			break;
	}
}
