/*-------------------------------------------------------------------------
 *
 * ha_duties.c
 *	  Deciding and acting: gathers the facts, asks role.c for the action and
 *	  carries it out; the leader's duties (/status, the synchronous standby,
 *	  handing over for a planned switchover).  The synchronous standby is
 *	  ha_sync.c's, switchover requests from SQL and HTTP ha_switchover.c's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <zookeeper/zookeeper.h>

#include "access/xlog.h"
#include "access/xlogdefs.h"
#include "access/xlogrecovery.h"
#include "replication/walreceiver.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "storage/lwlock.h"

#include "addr.h"
#include "conninfo.h"
#include "ha_agent.h"
#include "ha_gate.h"
#include "ha_guc.h"
#include "ha_http.h"
#include "ha_local.h"
#include "role_change.h"
#include "switchover_rule.h"

/* How long peers have to publish their position after the leader vanished. */
static int64
settle_ms(void)
{
	return (int64) ha_loop_wait * 2000 + 500;
}

/* Only host and port: what goes into a request file (no password). */
static void
address_for(const HaMember *m, char *out, size_t outlen)
{
	char		host[HA_HOST_LEN];
	int			port;

	addr_split_conn_url(m->conn_url, host, sizeof(host), &port);
	if (!conninfo_address(out, outlen, host, port))
		out[0] = '\0';
}

/*
 * primary_conninfo for following member m: its address, our replication
 * user, and our name as application_name (which is what
 * synchronous_standby_names names), the very string the supervisor writes
 * (common/conninfo.c).
 */
static void
conninfo_for(const HaMember *m, char *out, size_t outlen)
{
	address_for(m, out, outlen);
	if (!conninfo_standby(out, outlen, out, ha_replication_user, ha_replication_password,
						  agent.view.self.name))
		out[0] = '\0';
}

/*
 * Every role change of this node is logged here, one LOG line from
 * role_change.c's table with its detail (the reason); errdetail_text and
 * hint, when not NULL, go with it.
 */
static void
log_role_change(HaRoleChange change, const char *detail,
				const char *errdetail_text, const char *hint)
{
	char		line[1024];

	(void) ha_role_change_text(change, agent.view.self.name, detail, line, sizeof(line));
	ereport(LOG,
			(errmsg("pg_ha: role change: %s", line),
			 errdetail_text ? errdetail_internal("%s", errdetail_text) : 0,
			 hint ? errhint("%s", hint) : 0));
}

/* ---------------------------------------------------------------------
 * Election facts for a replica (or a fenced primary) when the leader key
 * is free
 * ---------------------------------------------------------------------
 */
static void
election_facts(HaFacts *f, int64 now)
{
	const HaMember *self = &agent.view.self;
	HaPeer		peers[HA_MAX_MEMBERS];
	HaElection	e;

	f->lag_ok = ha_lag_ok(self->xlog_location, agent.last_leader_lsn,
						  (uint64) ha_maximum_lag_on_failover);
	f->sync_standby_self = agent.sync_confirmed &&
		strcmp(agent.view.sync_standby, self->name) == 0;
	f->sync_leader_self = strcmp(agent.sync_leader, self->name) == 0;

	if (agent.failover_exists && now - agent.failover_seen_ms < HA_FAILOVER_STALE_MS)
	{
		f->switchover_self = strcmp(agent.failover_candidate, self->name) == 0;
		/* only a failover, with no leader named, can be forced */
		f->failover_forced = f->switchover_self && agent.failover_force &&
			agent.failover_leader[0] == '\0';
		f->switchover_other = !f->switchover_self;
	}

	/* the peers' positions, for role.c's election rules */
	for (int i = 0; i < agent.view.nmembers; i++)
	{
		const HaMember *m = &agent.view.members[i];

		peers[i].name = m->name;
		peers[i].lsn = m->xlog_location;
		peers[i].promotable = ha_member_promotable(m, agent.cluster_timeline);
		peers[i].read = agent.meta[i].version >= 0;
		peers[i].changed_ms = agent.meta[i].changed_ms;
	}
	e.self_name = self->name;
	e.self_lsn = self->xlog_location;
	e.self_in_recovery = f->in_recovery;
	e.now_ms = now;
	e.leader_vanished_ms = agent.leader_vanished_ms;
	e.members_listed_ms = agent.members_listed_ms;
	e.settle_ms = settle_ms();
	e.npeers = agent.view.nmembers;
	e.peers = peers;
	ha_election_peers(&e, &f->peers_settled, &f->better_peer);
}

static void
gather_facts(HaFacts *f, int64 now)
{
	const HaMember *self = &agent.view.self;

	memset(f, 0, sizeof(*f));
	f->config_ok = agent.view.config_problem == NULL;
	/* a stranded replica runs; it only serves no reads */
	f->pg_running = strcmp(self->state, "running") == 0 ||
		strcmp(self->state, HA_STATE_STRANDED) == 0;
	f->in_recovery = strcmp(self->role, HA_ROLE_REPLICA) == 0;
	f->promoting = agent.promoting;
	f->fenced = ha_gate_state() == HA_GATE_FENCED;
	f->zk_reachable = session_reachable(now);
	/* a leader proves itself by writes (see zk_last_write_ms), not by reads */
	f->fence_due = agent.zk_last_write_ms != 0 &&
		now - agent.zk_last_write_ms > session_fence_after_ms();
	f->identity_ok = agent.identity_ok && agent.init_known;
	f->registered = agent.member_state == MEMBER_REGISTERED;
	f->leader_known = agent.leader_known && agent.status_known &&
		agent.sync_known && agent.failover_known;
	f->leader_exists = agent.leader_exists;
	f->leader_is_self = agent.leader_exists &&
		strcmp(agent.view.leader, self->name) == 0;
	f->leader_owned = f->leader_is_self && agent.leader_owner == zk_session_id();
	f->timeline = self->timeline;
	f->cluster_timeline = agent.cluster_timeline;
	f->nofailover = ha_nofailover;
	f->sync_mode = ha_synchronous_mode;
	f->paused = agent.view.paused;
	if ((f->in_recovery || f->fenced) && !f->leader_exists)
		election_facts(f, now);
}

/* ---------------------------------------------------------------------
 * The leader's duties
 * ---------------------------------------------------------------------
 */
static void
on_became_leader(void)
{
	session_write_status();
	if (agent.failover_exists && strcmp(agent.failover_candidate, agent.view.self.name) == 0)
		session_delete_failover();
	agent.sync_named_ms = 0;
	agent.sync_confirm_lsn = 0;
	agent.promoting = false;
}

/*
 * From now on /primary answers 503 (see health_input in ha_api.c).  Parked
 * /watch requests get that answer here, before the supervisor is asked to
 * stop postgres: the postmaster's SIGTERM ends this worker at once, so a
 * router would otherwise only see its watch connection close.
 */
static void
announce_step_down(void)
{
	agent.view.stepping_down = true;
	(void) ha_http_service(ha_mono_ms());
}

/* A planned switchover names us as the leader: hand over (switchover_rule.c judges). */
static void
start_handover(int64 now)
{
	const HaMember *cand = session_member(agent.failover_candidate);
	const MemberMeta *meta = session_member_meta(agent.failover_candidate);
	HaHandoverFacts f;
	HaHandover	outcome;
	bool		tell_local;
	const char *why;
	char		addr[256];

	f.now_ms = now;
	f.request_seen_ms = agent.failover_seen_ms;
	f.delete_in_flight = agent.inflight[OP_FAILOVER_DELETE] > 0;
	f.candidate = cand;
	f.candidate_changed_ms = meta ? meta->changed_ms : 0;
	f.position_wait_ms = (int64) ha_loop_wait * 2000 + 1000;
	f.supervised = agent.supervised;
	f.cluster_timeline = agent.cluster_timeline;
	f.self_lsn = agent.view.self.xlog_location;
	f.maximum_lag = (uint64) ha_maximum_lag_on_failover;
	f.local_waiting = agent.sw_from_sql &&
		strcmp(agent.sw_candidate, agent.failover_candidate) == 0 &&
		(agent.sw_state == SW_RUNNING || agent.sw_state == SW_HANDOVER);
	f.local_told = agent.sw_state == SW_HANDOVER;
	f.told_ms = agent.sw_handover_ms;
	f.answered_ms = agent.sw_answered_ms;

	outcome = ha_handover_judge(&f, &tell_local);
	if (tell_local)
	{
		agent.sw_state = SW_HANDOVER;
		agent.sw_handover_ms = now;
	}
	switch (outcome)
	{
		case HA_HO_BUSY:
		case HA_HO_HOLD:
			break;
		case HA_HO_DROP_STALE:
			session_delete_failover();
			break;
		case HA_HO_AWAIT_POSITION:
			if (agent.inflight[OP_MEMBER_GET] == 0 && agent.inflight[OP_MEMBERS_LIST] == 0)
				agent.members_stale = true;
			break;
		case HA_HO_CANCEL_UNSUPERVISED:
		case HA_HO_CANCEL_LAGGING:
		case HA_HO_CANCEL_NOT_REPLICA:
			why = outcome == HA_HO_CANCEL_UNSUPERVISED ? "this leader is not run by pg_ha_supervisor" :
				outcome == HA_HO_CANCEL_LAGGING ? "the candidate lags beyond maximum_lag_on_failover" :
				"the candidate is not a running replica";
			ereport(LOG,
					(errmsg("pg_ha: switchover to \"%s\" cancelled: %s",
							agent.failover_candidate, why)));
			session_delete_failover();
			break;
		case HA_HO_HAND_OVER:
			address_for(cand, addr, sizeof(addr));
			log_role_change(HA_RC_HAND_OVER, cand->name, NULL, NULL);
			announce_step_down();
			ha_request_supervisor("handover", cand->name, addr, cand->api_url,
								  "planned switchover", false);
			break;
	}
}

/*
 * The lease backends check at commit: leadership is proven until the
 * moment this node would fence itself for want of replies.
 */
static void
renew_lease_and_open_gate(void)
{
	HaGateState was = ha_gate_state();

	ha_gate_set_lease(agent.zk_last_write_ms + session_fence_after_ms());
	if (was == HA_GATE_OPEN)
		return;
	ha_gate_open();
	ereport(LOG,
			(errmsg(was == HA_GATE_FENCED ?
					"pg_ha: \"%s\" accepts writes again: it leads, the fence is lifted" :
					"pg_ha: \"%s\" accepts writes: it leads",
					agent.view.self.name)));
}

/*
 * Fencing in place: the write gate closes (commits are refused in every
 * backend, sessions in the middle of a write end) and postgres goes on
 * serving reads; it is restarted only if another node turns out to lead
 * (DEMOTE: the supervisor rejoins it as a standby).
 */
static void
fence(const char *why)
{
	int			ended = ha_gate_close(why);
	char		detail[256];

	if (ended < 0)
		return;
	snprintf(detail, sizeof(detail),
			 "Commits are refused until it leads again; %d session(s) in the middle of a write were ended; reads go on.",
			 ended);
	log_role_change(HA_RC_FENCE, why, detail, NULL);
}

static void
leader_duties(int64 now)
{
	static int64 next_status_ms = 0;

	if (now >= next_status_ms)
	{
		session_write_status();
		next_status_ms = now + (int64) ha_loop_wait * 1000;
	}
	sync_manage_standby(now);
	history_update(now);
	config_update();
	/* a switchover planned for another leader is moot: it no longer leads */
	if ((agent.failover_exists || keys_failover_scheduled()) && agent.failover_leader[0] &&
		strcmp(agent.failover_leader, agent.view.self.name) != 0 &&
		strcmp(agent.failover_candidate, agent.view.self.name) != 0 &&
		agent.inflight[OP_FAILOVER_DELETE] == 0)
	{
		ereport(LOG,
				(errmsg("pg_ha: dropping the switchover from \"%s\" to \"%s\": \"%s\" leads now",
						agent.failover_leader, agent.failover_candidate, agent.view.self.name)));
		session_delete_failover();
	}
	if (agent.failover_exists && strcmp(agent.failover_leader, agent.view.self.name) == 0 &&
		!agent.view.stepping_down)
		start_handover(now);
}

/* ---------------------------------------------------------------------
 * Decide and act
 * ---------------------------------------------------------------------
 */
static void
log_decision(const HaDecision *d)
{
	char		detail[256];

	if (d->is_leader && !agent.was_leader)
	{
		snprintf(detail, sizeof(detail), "cluster \"%s\" (epoch " INT64_FORMAT ", timeline %u)",
				 ha_scope, agent.view.leader_epoch, agent.view.self.timeline);
		log_role_change(HA_RC_LEAD, detail, NULL, NULL);
	}
	else if (!d->is_leader && agent.was_leader)
		log_role_change(HA_RC_UNLEAD, d->reason, NULL, NULL);
	else if (d->action != agent.last_action || d->reason != agent.last_reason)
		ereport(DEBUG1, (errmsg("pg_ha: %s: %s", ha_action_name(d->action), d->reason)));
	if (d->reason != agent.last_reason)
	{
		snprintf(agent.view.decision, sizeof(agent.view.decision), "%s: %s",
				 ha_action_name(d->action), d->reason);
		agent.view_dirty = true;
	}
	agent.last_action = d->action;
	agent.last_reason = d->reason;
}

/* Stops postgres for the supervisor to rejoin it as the leader's standby. */
static void
step_down(const char *why)
{
	const HaMember *leader = session_member(agent.view.leader);
	char		addr[256] = "";

	if (agent.view.stepping_down)
		return;
	announce_step_down();
	if (leader)
		address_for(leader, addr, sizeof(addr));
	log_role_change(strcmp(agent.view.self.role, HA_ROLE_REPLICA) == 0 ?
					HA_RC_REJOIN_STANDBY : HA_RC_REJOIN_PRIMARY, why, NULL,
					agent.supervised ? NULL :
					"This node is not run by pg_ha_supervisor: postgres shuts down; rejoin it as a standby by hand (pg_rewind).");
	ha_request_supervisor("rejoin", leader ? leader->name : NULL,
						  addr[0] ? addr : NULL, leader ? leader->api_url : NULL,
						  why, true);
}

/*
 * A replica points its WAL receiver at the leader.  A standby still on an
 * older timeline than the leader's a while after that cannot follow it (its
 * WAL forked: a fenced or crashed old primary): it asks the supervisor to
 * rejoin, which rewinds it (S4: a forked timeline never serves).
 */
static void
follow_leader(int64 now)
{
	const HaMember *leader = session_member(agent.view.leader);
	char		conninfo[1024];

	if (!agent.leader_exists || leader == NULL || leader->conn_url[0] == '\0')
		return;
	conninfo_for(leader, conninfo, sizeof(conninfo));
	/*
	 * In synchronous mode a standby keeps a name no standby has: once
	 * promoted it acknowledges no commit until its /sync names it leader
	 * (ha_sync.c), so the old leader /sync still names can never
	 * miss an acknowledged one.
	 */
	ha_write_runtime_conf(conninfo, slots_primary_slot_name(),
						  ha_synchronous_mode ? HA_SYNC_NAMES_NOT_YET : "");

	/*
	 * the leader was away a moment (a restart): stream again now (see
	 * role.h); not a replica whose WAL the leader no longer has: it refuses
	 * every try
	 */
	agent.stream_nudging = !agent.wal_gone && ha_stream_nudge(RecoveryInProgress(), WalRcvStreaming(),
										   strcmp(leader->role, HA_ROLE_MASTER) == 0 &&
										   strcmp(leader->state, "running") == 0);
	if (agent.stream_nudging)
		WakeupRecovery();

	if (agent.cluster_timeline <= agent.view.self.timeline)
	{
		agent.behind_timeline_ms = 0;
		return;
	}
	if (agent.behind_timeline_ms == 0)
		agent.behind_timeline_ms = now;
	else if (now - agent.behind_timeline_ms > 3000 && agent.view.paused)
		return;					/* maintenance mode: no rejoin */
	else if (now - agent.behind_timeline_ms > 3000 && agent.supervised)
		step_down("this standby is on an older timeline than the leader's and cannot follow it");
	else if (now - agent.behind_timeline_ms > 3000 && !agent.view.stepping_down)
	{
		ereport(WARNING,
				(errmsg("pg_ha: this standby is on timeline %u, the leader on %u: it cannot follow",
						agent.view.self.timeline, agent.cluster_timeline),
				 errhint("Rewind it with pg_rewind against \"%s\", or run it with pg_ha_supervisor, which does so.",
						 leader->name)));
		agent.view.stepping_down = true; /* warn once */
	}
}

/* One line saying why this replica races: its position and the others'. */
static void
log_race(void)
{
	StringInfoData peers;

	initStringInfo(&peers);
	for (int i = 0; i < agent.view.nmembers; i++)
	{
		const HaMember *m = &agent.view.members[i];

		if (strcmp(m->name, agent.view.self.name) == 0)
			continue;
		appendStringInfo(&peers, "%s%s %s/%s tl %u at %X/%X", peers.len ? ", " : "",
						 m->name, m->role, m->state, m->timeline,
						 LSN_FORMAT_ARGS((XLogRecPtr) m->xlog_location));
	}
	ereport(LOG,
			(errmsg("pg_ha: \"%s\" races for the leader key (timeline %u at %X/%X; last leader \"%s\" at %X/%X)",
					agent.view.self.name, agent.view.self.timeline,
					LSN_FORMAT_ARGS((XLogRecPtr) agent.view.self.xlog_location),
					agent.last_leader, LSN_FORMAT_ARGS((XLogRecPtr) agent.last_leader_lsn)),
			 errdetail("Other members: %s.", peers.len ? peers.data : "none")));
	pfree(peers.data);
}

void
duties_decide_and_act(int64 now)
{
	HaFacts		f;
	HaDecision	d;

	/* what ZooKeeper answered to our own /sync write since the last pass */
	sync_apply_written();
	keys_failover_tick(now);	/* a scheduled switchover that is due now */

	gather_facts(&f, now);
	d = ha_decide(&f);
	log_decision(&d);

	switch (d.action)
	{
		case HA_ACT_ACQUIRE_LEADER:
			if (agent.inflight[OP_LEADER_CREATE] == 0 && f.in_recovery)
				log_race();
			if (agent.inflight[OP_LEADER_CREATE] == 0 && f.failover_forced)
				ereport(WARNING,
						(errmsg("pg_ha: forced failover to \"%s\": it races for the leader key although it is %s",
								agent.view.self.name, f.sync_mode ? "not the confirmed synchronous standby" :
								"maybe beyond maximum_lag_on_failover"),
						 errdetail("An operator forced it (ha_failover(..., force => true) or POST /failover with \"force\": true); commits only the last leader or its synchronous standby had may be lost.")));
			if (agent.inflight[OP_LEADER_CREATE] == 0)
				session_issue(OP_LEADER_CREATE,
							  zk_create(OP_LEADER_CREATE, agent.leader_path, agent.view.self.name,
										strlen(agent.view.self.name), true));
			break;
		case HA_ACT_TAKEOVER_STALE_KEY:
			if (agent.inflight[OP_LEADER_REPLACE] == 0)
				session_issue(OP_LEADER_REPLACE,
							  zk_replace_ephemeral(OP_LEADER_REPLACE, agent.leader_path,
												   agent.leader_version, agent.view.self.name,
												   strlen(agent.view.self.name)));
			break;
		case HA_ACT_RELEASE_STALE_KEY:
			if (agent.inflight[OP_LEADER_DELETE_STALE] == 0)
				session_issue(OP_LEADER_DELETE_STALE,
							  zk_delete(OP_LEADER_DELETE_STALE, agent.leader_path,
										agent.leader_version));
			break;
		case HA_ACT_PROMOTE:
			if (!agent.promoting)
			{
				char		detail[128];

				snprintf(detail, sizeof(detail), "it holds the leader key, epoch " INT64_FORMAT,
						 agent.view.leader_epoch);
				log_role_change(HA_RC_PROMOTE, detail, NULL, NULL);
				agent.promoting = ha_promote();
				agent.promote_started_ms = now;
			}
			else if (ha_promote_nudge(true, f.in_recovery, now - agent.promote_started_ms))
				WakeupRecovery();	/* see ha_promote_nudge in role.h */
			break;
		case HA_ACT_LEAD:
			renew_lease_and_open_gate();
			if (!agent.was_leader)
				on_became_leader();
			leader_duties(now);
			break;
		case HA_ACT_FOLLOW:
			follow_leader(now);
			break;
		case HA_ACT_DEMOTE:
			(void) ha_gate_close(d.reason);
			step_down(d.reason);
			break;
		case HA_ACT_FENCE:
			fence(d.reason);
			break;
		case HA_ACT_WAIT:
			break;
	}

	/* the member slots: the leader's for its replicas, a replica's copies */
	if (d.action == HA_ACT_LEAD || d.action == HA_ACT_FOLLOW)
		slots_manage(now);
	stranded_check(now, d.action == HA_ACT_FOLLOW);

	if (agent.view.is_leader != d.is_leader ||
		agent.view.zk_reachable != f.zk_reachable)
		agent.view_dirty = true;
	agent.was_leader = d.is_leader;
	agent.view.is_leader = d.is_leader;
	agent.view.zk_reachable = f.zk_reachable;
}

/*
 * How soon the main loop must run again for the duties (-1: no hurry): a
 * promotion in progress is nudged every few tens of milliseconds, and so is
 * the synchronous standby while commits wait for it.
 */
long
duties_wake_within_ms(int64 now)
{
	if (ha_promote_nudge(agent.promoting, RecoveryInProgress(),
						 now - agent.promote_started_ms))
		return HA_PROMOTE_NUDGE_EVERY_MS;
	if (agent.stream_nudging && RecoveryInProgress())
		return HA_STREAM_NUDGE_EVERY_MS;
	/* commits wait for the synchronous standby: nudge it, or see it stall, in time */
	if (agent.view.is_leader && ha_synchronous_mode && agent.sync_named_ms != 0 &&
		!RecoveryInProgress() && sync_released_lsn() < GetFlushRecPtr(NULL))
		return HA_SYNC_NUDGE_EVERY_MS;
	return -1;
}
