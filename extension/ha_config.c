/*-------------------------------------------------------------------------
 *
 * ha_config.c
 *	  The /config key, the cluster's dynamic configuration in Patroni's
 *	  format (common/dyn_config.h): what patronictl show-config reads and
 *	  GET /config answers.  Every agent reads it (watched) into its view;
 *	  the leader creates it from its own settings when the cluster has
 *	  none (a new cluster, or one made by an earlier pg_ha).  Every agent
 *	  applies it: the cluster-wide pg_ha.* settings and
 *	  postgresql.parameters go to pg_ha.dynamic.conf, which overrides the
 *	  node file's pg_ha.conf, and postgres reloads.  A key that does not
 *	  parse, or holds a bad value, changes nothing (logged).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <zookeeper/zookeeper.h>

#include "storage/latch.h"
#include "storage/lwlock.h"
#include "utils/memutils.h"

#include "dyn_config.h"
#include "json_merge.h"
#include "json_reader.h"
#include "ha_agent.h"
#include "ha_guc.h"
#include "ha_local.h"

static bool config_exists;
static int32 config_version = -1;	/* of the /config last read */
static uint64 writing_id;		/* the request whose write is under way (0: none) */
static char *writing_text;		/* ... and what it writes, in TopMemoryContext */
static int32 writing_version;	/* ... over this version of /config (-1: create) */
static int64 writing_at_ms;		/* ... from then on (0: sent) */
static char applied_text[8192];	/* the settings last applied, for the log */

/* The cluster's settings as postgresql.conf lines (pg_ha.dynamic.conf). */
static void
apply_dynamic(const HaDynConfig *c, const char *source)
{
	StringInfoData s;
	char		num[32];

	initStringInfo(&s);
	appendStringInfo(&s, "# Written by the pg_ha agent from %s. Do not edit:\n"
					 "# change /config (patronictl edit-config, PATCH /config).\n", source);
	snprintf(num, sizeof(num), "%d", c->ttl);
	ha_append_conf_setting(&s, "pg_ha.ttl", num);
	snprintf(num, sizeof(num), "%d", c->loop_wait);
	ha_append_conf_setting(&s, "pg_ha.loop_wait", num);
	snprintf(num, sizeof(num), "%d", c->retry_timeout);
	ha_append_conf_setting(&s, "pg_ha.retry_timeout", num);
	snprintf(num, sizeof(num), UINT64_FORMAT, (uint64) c->maximum_lag_on_failover);
	ha_append_conf_setting(&s, "pg_ha.maximum_lag_on_failover", num);
	ha_append_conf_setting(&s, "pg_ha.synchronous_mode", c->synchronous_mode ? "on" : "off");
	ha_append_conf_setting(&s, "pg_ha.synchronous_mode_strict",
						   c->synchronous_mode_strict ? "on" : "off");
	snprintf(num, sizeof(num), "%d", c->primary_start_timeout);
	ha_append_conf_setting(&s, "pg_ha.primary_start_timeout", num);
	ha_append_conf_setting(&s, "pg_ha.use_slots", c->use_slots ? "on" : "off");
	snprintf(num, sizeof(num), "%d", c->member_slots_ttl);
	ha_append_conf_setting(&s, "pg_ha.member_slots_ttl", num);
	for (int i = 0; i < c->nparams; i++)
		ha_append_conf_setting(&s, c->params[i].name, c->params[i].value);
	if (ha_write_dynamic_conf(s.data) && strcmp(applied_text, s.data) != 0)
	{
		ereport(LOG,
				(errmsg("pg_ha: applied the cluster configuration (/config): ttl %d, loop_wait %d, retry_timeout %d, %d parameter(s)",
						c->ttl, c->loop_wait, c->retry_timeout, c->nparams),
				 errdetail("Written to %s; postgres reloads it (a parameter that needs a restart shows as pending_restart).",
						   HA_DYNAMIC_CONF)));
		strlcpy(applied_text, s.data, sizeof(applied_text));
	}
	pfree(s.data);
}

/* The permanent slots /config declares, for ha_slots.c. */
static void
set_permanent_slots(const HaDynConfig *c)
{
	if (agent.permanent_slots_known && agent.npermanent_slots == c->nslots &&
		memcmp(agent.permanent_slots, c->slots, sizeof(c->slots[0]) * c->nslots) == 0)
		return;
	agent.permanent_slots_known = true;
	agent.npermanent_slots = c->nslots;
	memcpy(agent.permanent_slots, c->slots, sizeof(c->slots));
	agent.permanent_slots_gen++;
}

/* ZooKeeper answered our read of /config (absent: ZNONODE). */
void
config_handle_read(const ZkEvent *ev)
{
	HaDynConfig *c;
	char		err[192];

	agent.config_known = true;
	agent.config_stale = false;
	config_exists = ev->rc == ZOK;
	config_version = ev->rc == ZOK && ev->has_stat ? ev->version : -1;
	agent.view.config_json[0] = '\0';
	agent.view_dirty = true;
	if (ev->rc != ZOK || ev->data == NULL || ev->datalen <= 0)
	{
		agent.view.paused = agent.view.self.paused = false;	/* no /config: not paused */
		if (ev->rc == ZNONODE)
		{
			c = palloc(sizeof(HaDynConfig));
			dyn_config_defaults(c);
			set_permanent_slots(c); /* none declared */
			pfree(c);
		}
		return;					/* none yet: the leader seeds it */
	}
	if ((size_t) ev->datalen >= sizeof(agent.view.config_json) ||
		!json_is_object(ev->data, (size_t) ev->datalen))
	{
		ereport(LOG,
				(errmsg("pg_ha: the /config key is not a JSON object (of at most %zu bytes); the settings in use stay",
						sizeof(agent.view.config_json) - 1),
				 errhint("Rewrite it with patronictl edit-config.")));
		return;
	}
	memcpy(agent.view.config_json, ev->data, (size_t) ev->datalen + 1);

	/* what /config leaves out is pg_ha's default, not this node's file */
	c = palloc(sizeof(HaDynConfig));
	dyn_config_defaults(c);
	if (dyn_config_parse(ev->data, (size_t) ev->datalen, c, err, sizeof(err)))
	{
		apply_dynamic(c, "the cluster's /config");
		set_permanent_slots(c);
		if (c->pause != agent.view.paused)
			ereport(LOG,
					(errmsg(c->pause ? "pg_ha: the cluster is paused (maintenance mode): no automatic failover, no rejoin, no restart" :
							"pg_ha: the cluster is resumed: automatic failover is on again")));
		agent.view.paused = c->pause;
		agent.view.self.paused = c->pause;
		agent.self_changed = true;
	}
	else
		ereport(LOG,
				(errmsg("pg_ha: the cluster configuration (/config) is refused: %s", err),
				 errdetail("The settings in use stay as they are."),
				 errhint("Correct it with patronictl edit-config.")));
	pfree(c);
}

/* Our create of /config was answered: read it again either way. */
void
config_handle_created(const ZkEvent *ev)
{
	if (ev->rc == ZOK)
		ereport(LOG,
				(errmsg("pg_ha: created the cluster configuration (/config) from this node's settings")));
	agent.config_stale = true;
}

/* The leader's duty: the cluster has a /config. */
void
config_update(void)
{
	HaDynConfig c;
	JsonBuf		jb;
	char		buf[1024];

	if (!agent.config_known || agent.config_stale || config_exists ||
		agent.inflight[OP_CONFIG_GET] > 0 || agent.inflight[OP_CONFIG_CREATE] > 0)
		return;
	memset(&c, 0, sizeof(c));
	c.ttl = ha_ttl;
	c.loop_wait = ha_loop_wait;
	c.retry_timeout = ha_retry_timeout;
	c.maximum_lag_on_failover = (uint64) ha_maximum_lag_on_failover;
	c.synchronous_mode = ha_synchronous_mode;
	c.synchronous_mode_strict = ha_synchronous_mode_strict;
	c.primary_start_timeout = ha_primary_start_timeout;
	c.use_slots = ha_use_slots;
	c.member_slots_ttl = ha_member_slots_ttl;
	json_init(&jb, buf, sizeof(buf));
	dyn_config_render(&c, &jb);
	Assert(!jb.overflow);
	session_issue(OP_CONFIG_CREATE,
				  zk_create(OP_CONFIG_CREATE, agent.config_path, buf, strlen(buf), false));
}

/* Reports the outcome of request id in the slot and wakes its requester. */
static void
answer_request(uint64 id, HaConfigRequestState state, const char *error,
			   const char *result)
{
	HaConfigRequest *req = &ha_shared->config;
	Latch	   *latch;

	LWLockAcquire(ha_shared->lock, LW_EXCLUSIVE);
	if (req->taken_id != id)
	{
		LWLockRelease(ha_shared->lock);
		return;
	}
	req->state = (int) state;
	strlcpy(req->error, error ? error : "", sizeof(req->error));
	strlcpy(req->result, result ? result : "", sizeof(req->result));
	latch = req->requester_latch;
	LWLockRelease(ha_shared->lock);
	if (state != HA_CONFIG_DONE)
		ereport(LOG, (errmsg("pg_ha: cluster configuration change refused: %s", error)));
	if (latch)
		SetLatch(latch);
}

/*
 * A change asked in the slot: merged into (or replacing) the /config this
 * agent read, checked like every agent checks it, then written with a
 * compare-and-set on that read's version, so a change made meanwhile by
 * anyone else (patronictl edit-config writes /config itself) is never
 * overwritten: the writer gets a conflict and tries again.
 */
/* Sends the checked change (when its time has come). */
static void
send_write(int64 now)
{
	if (writing_id == 0 || writing_at_ms == 0 || now < writing_at_ms)
		return;
	writing_at_ms = 0;
	if (writing_version >= 0)
		session_issue(OP_CONFIG_SET, zk_set(OP_CONFIG_SET, agent.config_path, writing_text,
											strlen(writing_text), writing_version));
	else
		session_issue(OP_CONFIG_SET, zk_create(OP_CONFIG_SET, agent.config_path, writing_text,
											   strlen(writing_text), false));
	if (agent.inflight[OP_CONFIG_SET] == 0)
	{
		answer_request(writing_id, HA_CONFIG_FAILED, "could not send the write to ZooKeeper", NULL);
		pfree(writing_text);
		writing_text = NULL;
		writing_id = 0;
	}
}

void
config_poll_request(int64 now, bool zk_reachable)
{
	HaConfigRequest *req = &ha_shared->config;
	uint64		id;
	bool		replace;
	char	   *body;
	char	   *merged;
	char		err[256];
	HaDynConfig *c;
	JsonBuf		jb;
	bool		ok;

	send_write(now);
	if (writing_id != 0 || !agent.config_known || agent.config_stale ||
		agent.inflight[OP_CONFIG_GET] > 0 || agent.inflight[OP_CONFIG_CREATE] > 0)
		return;					/* one at a time, on a fresh read */
	LWLockAcquire(ha_shared->lock, LW_EXCLUSIVE);
	id = req->id;
	if (id == req->taken_id)
	{
		LWLockRelease(ha_shared->lock);
		return;
	}
	req->taken_id = id;
	req->state = HA_CONFIG_PENDING;
	replace = req->replace;
	body = pstrdup(req->body);
	LWLockRelease(ha_shared->lock);

	if (!zk_reachable)
	{
		answer_request(id, HA_CONFIG_FAILED, "ZooKeeper is unreachable from this node", NULL);
		return;
	}
	if (!config_exists && !replace)
	{
		answer_request(id, HA_CONFIG_FAILED,
					   "the cluster has no configuration (/config) yet: its leader creates it", NULL);
		return;
	}
	merged = palloc(HA_CONFIG_JSON_CAP);
	json_init(&jb, merged, HA_CONFIG_JSON_CAP);
	if (replace)
	{
		ok = json_is_object(body, strlen(body));
		if (ok)
			json_raw(&jb, body);
		else
			strlcpy(err, "the configuration is not a JSON object", sizeof(err));
	}
	else
		ok = json_merge_patch(agent.view.config_json, strlen(agent.view.config_json),
							  body, strlen(body), &jb, err, sizeof(err));
	if (ok && jb.overflow)
	{
		snprintf(err, sizeof(err), "the configuration would be longer than %d bytes",
				 HA_CONFIG_JSON_CAP - 1);
		ok = false;
	}
	if (ok && !json_is_object(merged, jb.len))
	{
		strlcpy(err, "the configuration must stay a JSON object", sizeof(err));
		ok = false;
	}
	c = palloc(sizeof(HaDynConfig));
	dyn_config_defaults(c);
	if (ok && !dyn_config_parse(merged, jb.len, c, err, sizeof(err)))
		ok = false;
	pfree(c);
	if (!ok)
	{
		answer_request(id, HA_CONFIG_REFUSED, err, NULL);
		return;
	}
	writing_id = id;
	writing_text = MemoryContextStrdup(TopMemoryContext, merged);
	writing_version = config_exists ? config_version : -1;
	writing_at_ms = now + ha_test_config_write_delay_ms;
	if (ha_test_config_write_delay_ms > 0)
		ereport(LOG,
				(errmsg("pg_ha: cluster configuration change checked, writing it in %d ms (pg_ha.test_config_write_delay_ms)",
						ha_test_config_write_delay_ms)));
	send_write(now);
}

/* ZooKeeper answered a change's write (set, or create for a PUT). */
void
config_handle_set(const ZkEvent *ev)
{
	char		err[256];

	if (writing_id == 0)
		return;
	if (ev->rc == ZOK)
	{
		ereport(LOG, (errmsg("pg_ha: cluster configuration (/config) changed: %s", writing_text)));
		answer_request(writing_id, HA_CONFIG_DONE, NULL, writing_text);
	}
	else if (ev->rc == ZBADVERSION || ev->rc == ZNODEEXISTS)
		answer_request(writing_id, HA_CONFIG_CONFLICT,
					   "the configuration changed meanwhile (compare-and-set on its version failed)", NULL);
	else
	{
		snprintf(err, sizeof(err), "ZooKeeper did not take the write: %s", zk_error_name(ev->rc));
		answer_request(writing_id, HA_CONFIG_FAILED, err, NULL);
	}
	pfree(writing_text);
	writing_text = NULL;
	writing_id = 0;
	agent.config_stale = true;	/* read what is there now */
}
