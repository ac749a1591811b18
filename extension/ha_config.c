/*-------------------------------------------------------------------------
 *
 * ha_config.c
 *	  The /config key, the cluster's dynamic configuration in Patroni's
 *	  format (common/dyn_config.h): what patronictl show-config reads and
 *	  GET /config answers.  Every agent reads it (watched) into its view;
 *	  the leader creates it from its own settings when the cluster has
 *	  none (a new cluster, or one made by an earlier pg_ha).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <zookeeper/zookeeper.h>

#include "dyn_config.h"
#include "json_reader.h"
#include "ha_agent.h"
#include "ha_guc.h"

static bool config_exists;

/* ZooKeeper answered our read of /config (absent: ZNONODE). */
void
config_handle_read(const ZkEvent *ev)
{
	agent.config_known = true;
	agent.config_stale = false;
	config_exists = ev->rc == ZOK;
	agent.view.config_json[0] = '\0';
	if (ev->rc == ZOK && ev->data && ev->datalen > 0 &&
		(size_t) ev->datalen < sizeof(agent.view.config_json))
	{
		if (json_is_object(ev->data, (size_t) ev->datalen))
			memcpy(agent.view.config_json, ev->data, (size_t) ev->datalen + 1);
		else
			ereport(LOG,
					(errmsg("pg_ha: the /config key is not a JSON object"),
					 errhint("Rewrite it with patronictl edit-config or PUT /config.")));
	}
	agent.view_dirty = true;
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
