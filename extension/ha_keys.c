/*-------------------------------------------------------------------------
 *
 * ha_keys.c
 *	  The agent's keys in ZooKeeper (layout in ha_agent.h), below the
 *	  session protocol of ha_session.c: the member list and the members'
 *	  data as read, and /status, /sync and /failover as written and read.
 *	  It records what it read in the agent's state (ha_state.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <zookeeper/zookeeper.h>

#include "ha_agent.h"
#include "ha_guc.h"
#include "cluster_keys.h"
#include "member_json.h"

void
session_issue(ZkOp op, int rc)
{
	if (rc == ZOK)
		agent.inflight[op]++;
	else
		ereport(DEBUG1, (errmsg("pg_ha: ZooKeeper call %d not sent: %s", op, zk_error_name(rc))));
}

/* ---- members ---- */

int
session_member_index(const char *name)
{
	if (name == NULL || name[0] == '\0')
		return -1;
	for (int i = 0; i < agent.view.nmembers; i++)
		if (strcmp(agent.view.members[i].name, name) == 0)
			return i;
	return -1;
}

const HaMember *
session_member(const char *name)
{
	int			i = session_member_index(name);

	return i < 0 ? NULL : &agent.view.members[i];
}

const MemberMeta *
session_member_meta(const char *name)
{
	int			i = session_member_index(name);

	return i < 0 ? NULL : &agent.meta[i];
}

/* A member heard from recently (its znode changed within a few beats). */
bool
session_member_fresh(const char *name, int64 now)
{
	const MemberMeta *meta = session_member_meta(name);

	if (strcmp(name, agent.view.self.name) == 0)
		return true;			/* we know ourselves first-hand */
	return meta && meta->version >= 0 &&
		now - meta->changed_ms <= (int64) ha_loop_wait * 3000 + 1000;
}

typedef struct MemberSlot
{
	HaMember	member;
	MemberMeta	meta;
} MemberSlot;

static int
slot_name_cmp(const void *a, const void *b)
{
	return strcmp(((const MemberSlot *) a)->member.name,
				  ((const MemberSlot *) b)->member.name);
}

void
keys_update_member_list(const ZkEvent *ev, int64 now)
{
	MemberSlot *slots = palloc0(sizeof(MemberSlot) * HA_MAX_MEMBERS);
	int			n = 0;

	for (int i = 0; i < ev->nchildren && n < HA_MAX_MEMBERS; i++)
	{
		const char *name = ev->children[i];
		int			j;

		if (strlen(name) >= HA_NAME_LEN)
			continue;
		j = session_member_index(name);
		if (j >= 0)
		{
			slots[n].member = agent.view.members[j];
			slots[n].meta = agent.meta[j];
		}
		else
		{
			strlcpy(slots[n].member.name, name, HA_NAME_LEN);
			strlcpy(slots[n].member.state, "unknown", HA_STATE_LEN);
			strlcpy(slots[n].member.role, "unknown", HA_ROLE_LEN);
			strlcpy(slots[n].meta.name, name, HA_NAME_LEN);
			slots[n].meta.version = -1;
			slots[n].meta.changed_ms = now;
		}
		n++;
	}
	if (ev->nchildren > HA_MAX_MEMBERS)
		ereport(WARNING,
				(errmsg("pg_ha: %d members registered, only %d are tracked",
						ev->nchildren, HA_MAX_MEMBERS)));
	/* ordered by name, so every node lists the members alike */
	qsort(slots, n, sizeof(MemberSlot), slot_name_cmp);
	for (int i = 0; i < n; i++)
	{
		agent.view.members[i] = slots[i].member;
		agent.meta[i] = slots[i].meta;
	}
	agent.view.nmembers = n;
	pfree(slots);
	agent.view_dirty = true;
}

static bool
same_cluster_settings(const HaMember *a, const HaMember *b)
{
	return a->ttl == b->ttl && a->retry_timeout == b->retry_timeout &&
		a->synchronous_mode == b->synchronous_mode &&
		a->maximum_lag_on_failover == b->maximum_lag_on_failover;
}

/* Warns once when a member's cluster-wide settings first differ from ours. */
static void
warn_setting_mismatch(const HaMember *before, const HaMember *m)
{
	const HaMember *self = &agent.view.self;

	if (same_cluster_settings(m, self) ||
		(before->ttl != 0 && same_cluster_settings(before, m)))
		return;
	ereport(WARNING,
			(errmsg("pg_ha: member \"%s\" has different cluster-wide settings", m->name),
			 errdetail("ttl %d/%d, retry_timeout %d/%d, synchronous_mode %d/%d, maximum_lag_on_failover " UINT64_FORMAT "/" UINT64_FORMAT " (theirs/ours).",
					   m->ttl, self->ttl, m->retry_timeout, self->retry_timeout,
					   m->synchronous_mode, self->synchronous_mode,
					   (uint64) m->maximum_lag_on_failover,
					   (uint64) self->maximum_lag_on_failover),
			 errhint("Set pg_ha.ttl, pg_ha.retry_timeout, pg_ha.synchronous_mode and pg_ha.maximum_lag_on_failover alike on every node.")));
}

/* Reads every other member's data (refreshes their positions). */
void
keys_read_members(void)
{
	for (int i = 0; i < agent.view.nmembers; i++)
	{
		char		path[ZK_PATH_LEN];

		if (strcmp(agent.view.members[i].name, agent.view.self.name) == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", agent.members_path,
				 agent.view.members[i].name);
		session_issue(OP_MEMBER_GET, zk_get(OP_MEMBER_GET, path, false));
	}
}

void
keys_handle_member_data(const ZkEvent *ev, int64 now)
{
	const char *slash = strrchr(ev->path, '/');
	int			idx = session_member_index(slash ? slash + 1 : ev->path);
	HaMember	m;
	char		err[128];

	if (idx < 0)
		return;
	if (ev->has_stat && ev->version != agent.meta[idx].version)
	{
		agent.meta[idx].version = ev->version;
		agent.meta[idx].changed_ms = now;
	}
	memset(&m, 0, sizeof(m));
	strlcpy(m.name, agent.view.members[idx].name, HA_NAME_LEN);
	if (ev->data && member_from_json(ev->data, ev->datalen, &m, err, sizeof(err)))
	{
		warn_setting_mismatch(&agent.view.members[idx], &m);
		agent.view.members[idx] = m;
	}
	else
	{
		strlcpy(agent.view.members[idx].state, "unreadable", HA_STATE_LEN);
		ereport(DEBUG1,
				(errmsg("pg_ha: member \"%s\" has unreadable data: %s",
						m.name, ev->data ? err : "empty")));
	}
}

/* ---- small persistent keys: /status, /sync, /failover (cluster_keys.c) ---- */

/* /status as the leader writes it now (into agent.status_pending). */
static void
render_status(void)
{
	JsonBuf		jb;
	HaStatusKey k;

	k.optime = agent.view.self.xlog_location;
	k.timeline = agent.view.self.timeline;
	k.nslots = agent.nown_slots;
	memcpy(k.slots, agent.own_slots, sizeof(k.slots));
	json_init(&jb, agent.status_pending, sizeof(agent.status_pending));
	status_key_render(&k, &jb);
	Assert(!jb.overflow);
}

void
session_write_status(void)
{
	if (agent.inflight[OP_STATUS_SET] == 0 && agent.inflight[OP_STATUS_CREATE] == 0)
	{
		render_status();
		session_issue(OP_STATUS_SET, zk_set(OP_STATUS_SET, agent.status_path, agent.status_pending,
											strlen(agent.status_pending), -1));
	}
	agent.cluster_timeline = Max(agent.cluster_timeline, agent.view.self.timeline);
	agent.last_leader_lsn = agent.view.self.xlog_location;
}

/* /status did not exist when we set it: create it. */
void
session_create_status(void)
{
	session_issue(OP_STATUS_CREATE,
				  zk_create(OP_STATUS_CREATE, agent.status_path, agent.status_pending,
							strlen(agent.status_pending), false));
}

void
keys_parse_status(const char *data, int len)
{
	HaStatusKey k;

	if (data && len >= 0 && status_key_parse(data, (size_t) len, &k))
	{
		/* Patroni's own /status has no timeline: then keep what we know */
		if (k.timeline != 0)
			agent.cluster_timeline = k.timeline;
		agent.last_leader_lsn = k.optime;
		agent.nleader_slots = k.nslots;
		memcpy(agent.leader_slots, k.slots, sizeof(agent.leader_slots));
	}
}

void
session_write_sync(const char *leader, const char *standby, bool confirmed)
{
	HaSyncKey	k;
	JsonBuf		jb;

	memset(&k, 0, sizeof(k));
	strlcpy(k.leader, leader, sizeof(k.leader));
	strlcpy(k.standby, standby, sizeof(k.standby));
	k.confirmed = confirmed && standby[0];
	json_init(&jb, agent.sync_pending, sizeof(agent.sync_pending));
	sync_key_render(&k, &jb);
	Assert(!jb.overflow);
	session_issue(OP_SYNC_SET, zk_set(OP_SYNC_SET, agent.sync_path, agent.sync_pending,
									  strlen(agent.sync_pending), -1));
}

void
keys_parse_sync(const char *data, int len)
{
	HaSyncKey	k;

	/* absent or unreadable: no standby may be promoted on its word */
	(void) sync_key_parse(data, data && len > 0 ? (size_t) len : 0, &k);
	agent.sync_known = true;
	agent.sync_stale = false;
	strlcpy(agent.sync_leader, k.leader, HA_NAME_LEN);
	strlcpy(agent.view.sync_standby, k.standby, HA_NAME_LEN);
	agent.sync_confirmed = k.confirmed;
	agent.view.sync_confirmed = agent.sync_confirmed;
	agent.view_dirty = true;
}

void
session_create_failover_request(const char *leader, const char *candidate,
								const char *scheduled_at, bool force)
{
	HaFailoverKey k;
	JsonBuf		jb;
	char		buf[512];

	memset(&k, 0, sizeof(k));
	strlcpy(k.leader, leader, sizeof(k.leader));
	strlcpy(k.member, candidate, sizeof(k.member));
	strlcpy(k.scheduled_at, scheduled_at ? scheduled_at : "", sizeof(k.scheduled_at));
	k.force = force;
	json_init(&jb, buf, sizeof(buf));
	failover_key_render(&k, &jb);
	Assert(!jb.overflow);
	session_issue(OP_FAILOVER_CREATE,
				  zk_create(OP_FAILOVER_CREATE, agent.failover_path, buf, strlen(buf), false));
}

void
session_delete_failover(void)
{
	if (agent.inflight[OP_FAILOVER_DELETE] == 0)
		session_issue(OP_FAILOVER_DELETE, zk_delete(OP_FAILOVER_DELETE, agent.failover_path, -1));
}

static void failover_activate(int64 now);

void
keys_parse_failover(const ZkEvent *ev, int64 now)
{
	HaFailoverKey k;
	int64		due = 0;
	bool		ok;

	agent.failover_known = true;
	agent.failover_stale = false;
	ok = ev->rc == ZOK && ev->data && ev->datalen >= 0 &&
		failover_key_parse(ev->data, (size_t) ev->datalen, &k) && k.member[0];
	/* a time that does not parse: not a request anyone can carry out */
	if (ok && k.scheduled_at[0] && !iso_time_parse(k.scheduled_at, &due))
	{
		ereport(LOG,
				(errmsg("pg_ha: ignoring the switchover request in /failover: scheduled_at \"%s\" is not an ISO 8601 time with a zone",
						k.scheduled_at)));
		ok = false;
	}
	if (ok)
	{
		bool		changed = !(agent.failover_exists || keys_failover_scheduled()) ||
			strcmp(agent.failover_candidate, k.member) != 0 || agent.failover_due_us != due;

		strlcpy(agent.failover_leader, k.leader, HA_NAME_LEN);
		strlcpy(agent.failover_candidate, k.member, HA_NAME_LEN);
		strlcpy(agent.failover_scheduled_at, k.scheduled_at, ISO_TIME_LEN);
		agent.failover_due_us = due;
		agent.failover_force = k.force;
		if (changed)
		{
			/* one for later stays inactive until due (keys_failover_tick) */
			agent.failover_exists = false;
			if (due == 0)
				failover_activate(now);	/* active at once */
		}
	}
	else
	{
		agent.failover_exists = false;
		agent.failover_due_us = 0;
		agent.failover_force = false;
		agent.failover_leader[0] = '\0';
		agent.failover_candidate[0] = '\0';
		agent.failover_scheduled_at[0] = '\0';
	}
}

/*
 * The request read becomes one: seen now (the stale bound counts from
 * then); the candidate publishes its position at once, the leader reads it.
 */
static void
failover_activate(int64 now)
{
	agent.failover_exists = true;
	agent.failover_seen_ms = now;
	if (strcmp(agent.failover_candidate, agent.view.self.name) == 0)
		agent.self_changed = true;
	else if (strcmp(agent.failover_leader, agent.view.self.name) == 0)
		agent.members_stale = true;
}

/*
 * /failover holds a request for later that is not active yet: one is held
 * (a candidate), it has a time, and it has not become one (failover_exists).
 */
bool
keys_failover_scheduled(void)
{
	return agent.failover_candidate[0] != '\0' && agent.failover_due_us != 0 &&
		!agent.failover_exists;
}

/*
 * A switchover scheduled for later is no request before its time: no one
 * hands over, and an election is not held back by it.  At its time it
 * becomes one.
 */
void
keys_failover_tick(int64 now)
{
	if (!keys_failover_scheduled() || iso_time_now_us() < agent.failover_due_us)
		return;
	ereport(LOG,
			(errmsg("pg_ha: the switchover from \"%s\" to \"%s\" scheduled at %s is due",
					agent.failover_leader, agent.failover_candidate, agent.failover_scheduled_at)));
	failover_activate(now);
}
