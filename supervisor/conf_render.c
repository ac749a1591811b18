/*-------------------------------------------------------------------------
 *
 * conf_render.c
 *	  What the supervisor writes from a parsed node configuration: the
 *	  pg_ha.conf that postgres includes, and values quoted for
 *	  postgresql.conf and for libpq connection strings.  Pure: no I/O, no
 *	  globals (see conf.h).
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "conf.h"

/* "pg_ha" then ", " and each name of the user's list: at most twice its length */
#define SPL_CAP		(2 * CONF_PATH_LEN + 8)

int
conf_quote(const char *value, char *buf, size_t cap)
{
	size_t		o = 0;

	if (cap < 3)
		return -1;
	buf[o++] = '\'';
	for (const char *p = value; *p; p++)
	{
		if (*p == '\'' || *p == '\\')
		{
			if (o + 2 >= cap)
				return -1;
			buf[o++] = *p;
		}
		if (o + 1 >= cap)
			return -1;
		buf[o++] = *p;
	}
	if (o + 2 > cap)
		return -1;
	buf[o++] = '\'';
	buf[o] = '\0';
	return (int) o;
}


/* Appends "name = 'value'\n" (quoted) to buf at *o. */
static bool
emit(char *buf, size_t cap, size_t *o, const char *name, const char *value, bool quote)
{
	char		q[2 * SPL_CAP + 4];
	int			n;

	if (quote)
	{
		if (conf_quote(value, q, sizeof(q)) < 0)
			return false;
		value = q;
	}
	n = snprintf(buf + *o, cap - *o, "%s = %s\n", name, value);
	if (n < 0 || (size_t) n >= cap - *o)
		return false;
	*o += (size_t) n;
	return true;
}

static bool
emit_int(char *buf, size_t cap, size_t *o, const char *name, long long v)
{
	char		num[32];

	snprintf(num, sizeof(num), "%lld", v);
	return emit(buf, cap, o, name, num, false);
}

static const char *
onoff(bool b)
{
	return b ? "on" : "off";
}

const ConfParam *
conf_pg_param(const NodeConf *c, const char *name)
{
	for (int i = 0; i < c->npg; i++)
		if (strcmp(c->pg[i].name, name) == 0)
			return &c->pg[i];
	return NULL;
}

int
conf_render_pg_ha_conf(const NodeConf *c, char *buf, size_t cap)
{
	size_t		o = 0;
	char		spl[SPL_CAP];
	const ConfParam *user_spl = conf_pg_param(c, "shared_preload_libraries");
	int			n;
	bool		ok = true;

	if (cap == 0)
		return -1;
	n = snprintf(buf, cap,
				 "# Written by pg_ha_supervisor at every start, from the node configuration.\n"
				 "# Do not edit: change the node configuration and restart (or SIGHUP) the supervisor.\n");
	if (n < 0 || (size_t) n >= cap)
		return -1;
	o = (size_t) n;

	/* pg_ha first, then what the node configuration adds (without a repeat) */
	snprintf(spl, sizeof(spl), "pg_ha");
	if (user_spl)
	{
		char		copy[CONF_PATH_LEN];
		char	   *save = NULL;

		snprintf(copy, sizeof(copy), "%s", user_spl->value);
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		{
			while (*t == ' ' || *t == '\t')
				t++;
			for (size_t l = strlen(t); l > 0 && (t[l - 1] == ' ' || t[l - 1] == '\t'); l--)
				t[l - 1] = '\0';
			if (*t == '\0' || strcmp(t, "pg_ha") == 0)
				continue;
			if (strlen(spl) + strlen(t) + 3 >= sizeof(spl))
				return -1;
			strcat(spl, ", ");
			strcat(spl, t);
		}
	}

	ok = ok && emit_int(buf, cap, &o, "port", c->port);
	ok = ok && emit(buf, cap, &o, "listen_addresses", c->listen_addresses, true);
	ok = ok && emit(buf, cap, &o, "shared_preload_libraries", spl, true);
	if (c->use_pg_rewind && conf_pg_param(c, "wal_log_hints") == NULL)
		ok = ok && emit(buf, cap, &o, "wal_log_hints", "on", false);	/* pg_rewind needs it */
	ok = ok && emit(buf, cap, &o, "pg_ha.name", c->name, true);
	ok = ok && emit(buf, cap, &o, "pg_ha.scope", c->scope, true);
	ok = ok && emit(buf, cap, &o, "pg_ha.namespace", c->namespace_, true);
	ok = ok && emit(buf, cap, &o, "pg_ha.zk_hosts", c->zk_hosts, true);
	ok = ok && emit(buf, cap, &o, "pg_ha.connect_address", c->connect_address, true);
	ok = ok && emit(buf, cap, &o, "pg_ha.api_listen", c->api_listen, true);
	ok = ok && emit(buf, cap, &o, "pg_ha.api_connect_address", c->api_connect_address, true);
	ok = ok && emit(buf, cap, &o, "pg_ha.api_auth", c->api_auth, true);
	ok = ok && emit(buf, cap, &o, "pg_ha.api_certfile", c->api_certfile, true);
	ok = ok && emit(buf, cap, &o, "pg_ha.api_keyfile", c->api_keyfile, true);
	ok = ok && emit(buf, cap, &o, "pg_ha.api_cafile", c->api_cafile, true);
	ok = ok && emit(buf, cap, &o, "pg_ha.api_verify_client",
					c->api_verify_client[0] ? c->api_verify_client : "none", true);
	ok = ok && emit(buf, cap, &o, "pg_ha.api_allowlist", c->api_allowlist, true);
	ok = ok && emit(buf, cap, &o, "pg_ha.api_allowlist_include_members",
					onoff(c->api_allowlist_include_members), false);
	ok = ok && emit_int(buf, cap, &o, "pg_ha.ttl", c->ttl);
	ok = ok && emit_int(buf, cap, &o, "pg_ha.loop_wait", c->loop_wait);
	ok = ok && emit_int(buf, cap, &o, "pg_ha.retry_timeout", c->retry_timeout);
	ok = ok && emit(buf, cap, &o, "pg_ha.synchronous_mode", onoff(c->synchronous_mode), false);
	ok = ok && emit(buf, cap, &o, "pg_ha.synchronous_mode_strict", onoff(c->synchronous_mode_strict), false);
	ok = ok && emit_int(buf, cap, &o, "pg_ha.maximum_lag_on_failover", (long long) c->maximum_lag_on_failover);
	ok = ok && emit_int(buf, cap, &o, "pg_ha.primary_start_timeout", c->primary_start_timeout);
	ok = ok && emit(buf, cap, &o, "pg_ha.use_slots", onoff(c->use_slots), false);
	ok = ok && emit_int(buf, cap, &o, "pg_ha.member_slots_ttl", c->member_slots_ttl);
	ok = ok && emit(buf, cap, &o, "pg_ha.nofailover", onoff(c->nofailover), false);
	ok = ok && emit(buf, cap, &o, "pg_ha.noloadbalance", onoff(c->noloadbalance), false);
	ok = ok && emit(buf, cap, &o, "pg_ha.nosync", onoff(c->nosync), false);
	ok = ok && emit(buf, cap, &o, "pg_ha.clonefrom", onoff(c->clonefrom), false);
	ok = ok && emit(buf, cap, &o, "pg_ha.auto_reclone", onoff(c->auto_reclone), false);
	ok = ok && emit(buf, cap, &o, "pg_ha.replication_user", c->replication_user, true);
	ok = ok && emit(buf, cap, &o, "pg_ha.replication_password", c->replication_password, true);
	for (int i = 0; ok && i < c->npg; i++)
	{
		if (strcmp(c->pg[i].name, "shared_preload_libraries") == 0)
			continue;
		ok = emit(buf, cap, &o, c->pg[i].name, c->pg[i].value, true);
	}
	return ok ? (int) o : -1;
}
