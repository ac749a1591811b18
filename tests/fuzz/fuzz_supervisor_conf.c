/*-------------------------------------------------------------------------
 *
 * fuzz_supervisor_conf.c
 *	  libFuzzer target for the supervisor's node configuration parser
 *	  (supervisor/conf.c) and what is written from its result
 *	  (supervisor/conf_render.c).
 *
 * The input is one byte choosing $PGDATA, then the file's text.  Checked,
 * besides memory safety (the text and every output buffer exactly sized):
 *   - a rejected file gets a message naming the file, NUL-terminated in
 *     its buffer, however small;
 *   - an accepted one keeps the documented bounds, and written back as a
 *     node configuration (every key explicit, values quoted) it parses
 *     again to the same NodeConf, byte for byte;
 *   - its pg_ha.conf renders into CONF_PG_HA_CONF_MAX bytes, and read back
 *     as postgres reads postgresql.conf (a small reader of its quoting),
 *     every pg_ha.* setting and every pg.<param> has its value;
 *   - its strings put into a connection string with conninfo_add
 *     come back from libpq's own parser (PQconninfoParse) unchanged;
 *   - conf_quote and conninfo_add, with every small buffer, fail or
 *     stay within it.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "conninfo.h"
#include "conf.h"
#include "fuzz_check.h"
#include "fuzz_out.h"

#define NODE_CONF_CAP	(512 * 1024)

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* key = 'value' in the node configuration's quoting ('' is a quote) */
static void
out_str(FuzzOut *o, const char *key, const char *value)
{
	fuzz_out(o, "%s = '", key);
	for (const char *p = value; *p; p++)
		fuzz_out(o, *p == '\'' ? "''" : "%c", *p);
	fuzz_out(o, "'\n");
}

static const char *
onoff(bool b)
{
	return b ? "on" : "off";
}

static void
write_node_conf(FuzzOut *o, const NodeConf *c)
{
	out_str(o, "name", c->name);
	out_str(o, "scope", c->scope);
	out_str(o, "namespace", c->namespace_);
	out_str(o, "zk_hosts", c->zk_hosts);
	out_str(o, "data_dir", c->data_dir);
	out_str(o, "bin_dir", c->bin_dir);
	out_str(o, "listen_addresses", c->listen_addresses);
	fuzz_out(o, "port = %d\n", c->port);
	out_str(o, "connect_address", c->connect_address);
	out_str(o, "api_listen", c->api_listen);
	out_str(o, "api_connect_address", c->api_connect_address);
	out_str(o, "api_auth", c->api_auth);
	if (c->api_certfile[0])		/* a path key is absolute or absent */
		out_str(o, "api_certfile", c->api_certfile);
	if (c->api_keyfile[0])		/* a path key is absolute or absent */
		out_str(o, "api_keyfile", c->api_keyfile);
	if (c->api_cafile[0])		/* a path key is absolute or absent */
		out_str(o, "api_cafile", c->api_cafile);
	out_str(o, "api_verify_client", c->api_verify_client);
	out_str(o, "api_allowlist", c->api_allowlist);
	fuzz_out(o, "api_allowlist_include_members = %s\n", onoff(c->api_allowlist_include_members));
	out_str(o, "superuser", c->superuser);
	out_str(o, "superuser_password", c->superuser_password);
	out_str(o, "replication_user", c->replication_user);
	out_str(o, "replication_password", c->replication_password);
	fuzz_out(o, "ttl = %ds\nloop_wait = %d\nretry_timeout = %d\n", c->ttl, c->loop_wait, c->retry_timeout);
	fuzz_out(o, "synchronous_mode = %s\nsynchronous_mode_strict = %s\n",
		onoff(c->synchronous_mode), onoff(c->synchronous_mode_strict));
	fuzz_out(o, "maximum_lag_on_failover = %lldB\nprimary_start_timeout = %d\n",
		(long long) c->maximum_lag_on_failover, c->primary_start_timeout);
	fuzz_out(o, "nofailover = %s\nnoloadbalance = %s\nnosync = %s\nclonefrom = %s\nuse_pg_rewind = %s\n",
		onoff(c->nofailover), onoff(c->noloadbalance), onoff(c->nosync),
		onoff(c->clonefrom), onoff(c->use_pg_rewind));
	fuzz_out(o, "basebackup_max_rate = %dk\n", c->basebackup_max_rate);
	fuzz_out(o, "auto_reclone = %s\n", onoff(c->auto_reclone));
	fuzz_out(o, "use_slots = %s\nmember_slots_ttl = %d\n", onoff(c->use_slots), c->member_slots_ttl);
	out_str(o, "log_file", c->log_file);
	out_str(o, "on_start", c->on_start);
	out_str(o, "on_stop", c->on_stop);
	out_str(o, "on_restart", c->on_restart);
	out_str(o, "on_reload", c->on_reload);
	out_str(o, "on_role_change", c->on_role_change);
	fuzz_out(o, "callback_timeout = %d\n", c->callback_timeout);
	for (int i = 0; i < c->npg; i++)
	{
		char		key[CONF_NAME_LEN + 8];

		/* what pg.wal_keep_segments became: written back under its own name */
		if (c->wal_keep_segments >= 0 && strcmp(c->pg[i].name, "wal_keep_size") == 0)
		{
			fuzz_out(o, "pg.wal_keep_segments = %d\n", c->wal_keep_segments);
			continue;
		}
		snprintf(key, sizeof(key), "pg.%s", c->pg[i].name);
		out_str(o, key, c->pg[i].value);
	}
	for (int i = 0; i < c->nhba; i++)
		out_str(o, "hba", c->hba[i]);
}

static bool
terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static void
check_bounds(const NodeConf *c)
{
	size_t		dl = strlen(c->data_dir);

	CHECK(terminated(c->name, sizeof(c->name)) && c->name[0] != '\0');
	CHECK(c->basebackup_max_rate == 0 || (c->basebackup_max_rate >= 32 && c->basebackup_max_rate <= 1048576));
	CHECK(c->wal_keep_segments >= -1 && c->wal_keep_segments <= INT_MAX / 16);
	CHECK(terminated(c->zk_hosts, sizeof(c->zk_hosts)) && c->zk_hosts[0] != '\0');
	CHECK(terminated(c->connect_address, sizeof(c->connect_address)) && c->connect_address[0] != '\0');
	CHECK(terminated(c->connect_host, sizeof(c->connect_host)) && c->connect_host[0] != '\0');
	CHECK(strcmp(c->connect_host, "*") != 0);
	CHECK(c->data_dir[0] == '/' && dl > 1 && c->data_dir[dl - 1] != '/');
	CHECK(c->port >= 1 && c->port <= 65535);
	CHECK(c->ttl >= 2 && c->ttl <= 3600);
	CHECK(c->loop_wait >= 1 && c->loop_wait < c->ttl);
	CHECK(c->retry_timeout >= 1 && c->retry_timeout < c->ttl);
	CHECK(c->maximum_lag_on_failover >= 0 && c->maximum_lag_on_failover <= INT32_MAX);
	CHECK(c->primary_start_timeout >= 0 && c->primary_start_timeout <= 3600);
	CHECK(c->api_listen[0] != '\0' && c->superuser[0] != '\0' && c->replication_user[0] != '\0');
	CHECK(c->npg >= 0 && c->npg <= CONF_MAX_PG && c->nhba >= 0 && c->nhba <= CONF_MAX_HBA);
	for (int i = 0; i < c->npg; i++)
	{
		CHECK(terminated(c->pg[i].name, sizeof(c->pg[i].name)));
		CHECK(terminated(c->pg[i].value, sizeof(c->pg[i].value)));
		CHECK(strncmp(c->pg[i].name, "pg_ha.", 6) != 0);
		for (const char *p = c->pg[i].name; *p; p++)
			CHECK(!(*p >= 'A' && *p <= 'Z'));
		for (int j = 0; j < i; j++)
			CHECK(strcmp(c->pg[i].name, c->pg[j].name) != 0);
	}
	for (int i = 0; i < c->nhba; i++)
		CHECK(terminated(c->hba[i], sizeof(c->hba[i])) && c->hba[i][0] != '\0');
}

/*
 * One "name = value" line of postgresql.conf, as the server's scanner reads
 * it (guc-file.l): a quoted value takes '' and backslash escapes.  Returns
 * the next line, NULL at the end; fails the check on anything else.
 */
static const char *
read_guc_line(const char *p, char *name, size_t namecap, char *value, size_t valcap)
{
	size_t		n = 0;
	size_t		v = 0;

	while (*p == '#')
	{
		p = strchr(p, '\n');
		CHECK(p != NULL);
		p++;
	}
	if (*p == '\0')
		return NULL;
	while (*p != ' ' && *p != '\n' && *p != '\0')
	{
		CHECK(n + 1 < namecap);
		name[n++] = *p++;
	}
	name[n] = '\0';
	CHECK(n > 0 && strncmp(p, " = ", 3) == 0);
	p += 3;
	if (*p == '\'')
	{
		for (p++;; p++)
		{
			char		ch = *p;

			CHECK(ch != '\0' && ch != '\n');
			if (ch == '\'')
			{
				if (p[1] != '\'')
					break;
				p++;
			}
			else if (ch == '\\')
			{
				p++;
				switch (*p)
				{
					case 'b': ch = '\b'; break;
					case 'f': ch = '\f'; break;
					case 'n': ch = '\n'; break;
					case 'r': ch = '\r'; break;
					case 't': ch = '\t'; break;
					default:
						CHECK(!(*p >= '0' && *p <= '7'));	/* never written */
						CHECK(*p != '\0' && *p != '\n');
						ch = *p;
				}
			}
			CHECK(v + 1 < valcap);
			value[v++] = ch;
		}
		p++;
	}
	else
	{
		while (*p != '\n' && *p != '\0')
		{
			CHECK(*p != ' ' && *p != '\'' && *p != '#');
			CHECK(v + 1 < valcap);
			value[v++] = *p++;
		}
	}
	value[v] = '\0';
	CHECK(*p == '\n');
	return p + 1;
}

/* The value pg_ha.conf gives name, or NULL; each name at most once. */
static const char *
guc_value(const char *conf, const char *want, char *value, size_t valcap)
{
	static char name[256];
	static char v[8192];
	const char *p = conf;
	bool		found = false;

	while ((p = read_guc_line(p, name, sizeof(name), v, sizeof(v))) != NULL)
	{
		if (strcmp(name, want) == 0)
		{
			CHECK(!found);
			found = true;
			CHECK(strlen(v) < valcap);
			memcpy(value, v, strlen(v) + 1);
		}
	}
	return found ? value : NULL;
}

static void
check_guc(const char *conf, const char *name, const char *expected)
{
	static char v[8192];

	CHECK(guc_value(conf, name, v, sizeof(v)) != NULL);
	CHECK(strcmp(v, expected) == 0);
}

static void
check_pg_ha_conf(const NodeConf *c)
{
	static char conf[CONF_PG_HA_CONF_MAX];
	static char v[8192];
	char		num[32];
	int			n = conf_render_pg_ha_conf(c, conf, sizeof(conf));

	CHECK(n > 0 && (size_t) n == strlen(conf));
	snprintf(num, sizeof(num), "%d", c->port);
	check_guc(conf, "port", num);
	check_guc(conf, "listen_addresses", c->listen_addresses);
	check_guc(conf, "pg_ha.name", c->name);
	check_guc(conf, "pg_ha.scope", c->scope);
	check_guc(conf, "pg_ha.namespace", c->namespace_);
	check_guc(conf, "pg_ha.zk_hosts", c->zk_hosts);
	check_guc(conf, "pg_ha.connect_address", c->connect_address);
	check_guc(conf, "pg_ha.api_auth", c->api_auth);
	check_guc(conf, "pg_ha.api_certfile", c->api_certfile);
	check_guc(conf, "pg_ha.api_allowlist", c->api_allowlist);
	check_guc(conf, "pg_ha.replication_user", c->replication_user);
	check_guc(conf, "pg_ha.replication_password", c->replication_password);
	check_guc(conf, "pg_ha.nosync", onoff(c->nosync));
	snprintf(num, sizeof(num), "%lld", (long long) c->maximum_lag_on_failover);
	check_guc(conf, "pg_ha.maximum_lag_on_failover", num);
	CHECK(guc_value(conf, "shared_preload_libraries", v, sizeof(v)) != NULL);
	CHECK(strncmp(v, "pg_ha", 5) == 0 && (v[5] == '\0' || v[5] == ','));
	for (int i = 0; i < c->npg; i++)
		if (strcmp(c->pg[i].name, "shared_preload_libraries") != 0)
			check_guc(conf, c->pg[i].name, c->pg[i].value);

	/* any smaller buffer: -1, or the same text */
	{
		size_t		cap = (size_t) n + 1 - (size_t) (c->npg % 3);
		char	   *small = malloc(cap);

		CHECK(small != NULL);
		n = conf_render_pg_ha_conf(c, small, cap);
		CHECK(n == -1 || ((size_t) n < cap && strcmp(small, conf) == 0));
		free(small);
	}
}

/* conninfo_add, read back with libpq's parser */
static void
check_conninfo(const char *user, const char *password, const char *appname)
{
	char		ci[4 * CONF_PATH_LEN];
	PQconninfoOption *opts;
	char	   *errmsg = NULL;
	int			found = 0;

	ci[0] = '\0';
	CHECK(conninfo_add(ci, sizeof(ci), "user", user));
	CHECK(conninfo_add(ci, sizeof(ci), "password", password));
	CHECK(conninfo_add(ci, sizeof(ci), "application_name", appname));
	opts = PQconninfoParse(ci, &errmsg);
	if (opts == NULL)
	{
		fprintf(stderr, "libpq rejects [%s]: %s\n", ci, errmsg ? errmsg : "out of memory");
		CHECK(!"libpq reads what conninfo_add writes");
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
	{
		const char *want = strcmp(o->keyword, "user") == 0 ? user :
			strcmp(o->keyword, "password") == 0 ? password :
			strcmp(o->keyword, "application_name") == 0 ? appname : NULL;

		if (want == NULL)
			continue;
		found++;
		if (o->val == NULL || strcmp(o->val, want) != 0)
			fprintf(stderr, "[%s]: %s is [%s], not [%s]\n", ci, o->keyword,
					o->val ? o->val : "(null)", want);
		CHECK(o->val != NULL && strcmp(o->val, want) == 0);
	}
	CHECK(found == 3);
	PQconninfoFree(opts);
}

/* conf_quote and conninfo_add with every small buffer */
static void
check_small_buffers(const char *value)
{
	for (size_t cap = 1; cap <= 12; cap++)
	{
		char	   *b = malloc(cap);
		int			n;

		CHECK(b != NULL);
		n = conf_quote(value, b, cap);
		CHECK(n == -1 || ((size_t) n < cap && strlen(b) == (size_t) n));
		b[0] = '\0';
		if (conninfo_add(b, cap, "k", value))
			CHECK(strlen(b) < cap);
		free(b);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const pgdatas[] = {NULL, "", "/var/lib/postgresql/15/main//", "relative", "/"};
	static NodeConf c,
				again;
	static char node_conf[NODE_CONF_CAP];
	const char *pgdata;
	char	   *text;
	char	   *err;
	size_t		errlen;
	FuzzOut		o = {node_conf, sizeof(node_conf), 0};
	bool		ok;

	if (size < 1)
		return 0;
	pgdata = pgdatas[data[0] % 5];
	errlen = data[0] >= 0xf0 ? (size_t) (data[0] & 0x0f) + 1 : 256;
	data++;
	size--;
	/* exactly sized, so a read past the end is an ASan report */
	text = malloc(size ? size : 1);
	err = malloc(errlen);
	CHECK(text != NULL && err != NULL);
	memcpy(text, data, size);
	err[0] = '\0';

	ok = conf_parse(text, size, "node.conf", pgdata, &c, err, errlen);
	free(text);
	if (!ok)
	{
		CHECK(terminated(err, errlen));
		/* as much of "node.conf" as fits */
		CHECK(strncmp(err, "node.conf", errlen - 1 < 9 ? errlen - 1 : 9) == 0);
		free(err);
		return 0;
	}
	free(err);
	check_bounds(&c);

	write_node_conf(&o, &c);
	{
		char		err2[512];

		if (!conf_parse(o.buf, o.len, "again", NULL, &again, err2, sizeof(err2)))
		{
			fprintf(stderr, "written back:\n%s\nrejected: %s\n", o.buf, err2);
			CHECK(!"the written-back configuration parses");
		}
	}
	CHECK(memcmp(&c, &again, sizeof(c)) == 0);

	check_pg_ha_conf(&c);
	check_conninfo(c.replication_user, c.replication_password, c.name);
	check_conninfo(c.superuser, c.superuser_password, c.listen_addresses);
	check_small_buffers(c.replication_password);
	return 0;
}
