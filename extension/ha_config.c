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

#include "dyn_config.h"
#include "json_reader.h"
#include "ha_agent.h"
#include "ha_guc.h"
#include "ha_local.h"

static bool config_exists;
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

/* ZooKeeper answered our read of /config (absent: ZNONODE). */
void
config_handle_read(const ZkEvent *ev)
{
	HaDynConfig *c;
	char		err[192];

	agent.config_known = true;
	agent.config_stale = false;
	config_exists = ev->rc == ZOK;
	agent.view.config_json[0] = '\0';
	agent.view_dirty = true;
	if (ev->rc != ZOK || ev->data == NULL || ev->datalen <= 0)
		return;					/* none yet: the leader seeds it */
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
		apply_dynamic(c, "the cluster's /config");
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
	json_init(&jb, buf, sizeof(buf));
	dyn_config_render(&c, &jb);
	Assert(!jb.overflow);
	session_issue(OP_CONFIG_CREATE,
				  zk_create(OP_CONFIG_CREATE, agent.config_path, buf, strlen(buf), false));
}
