/*-------------------------------------------------------------------------
 *
 * conf.c
 *	  Parser of the node configuration file (what is derived from it:
 *	  conf_render.c).  Pure: no I/O, no globals (see conf.h).
 *
 * Syntax: one "key = value" per line; "#" starts a comment outside
 * quotes; a value may be single-quoted ('' is a quote inside), which it
 * must be to hold "#" or leading/trailing blanks.  Every key but "pg.*"
 * and "hba" may appear once; an unknown key is an error.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "errbuf.h"
#include "conf.h"
#include "text.h"

typedef enum KeyType
{
	K_STR,						/* any string */
	K_NAME,						/* node name / scope: [A-Za-z0-9_.-] */
	K_NAMESPACE,				/* /path */
	K_PATH,						/* absolute file system path */
	K_COMMAND,					/* a program run without a shell: absolute path, or empty */
	K_ZK_HOSTS,
	K_HOST_PORT,				/* host:port (empty allowed when optional) */
	K_AUTH,						/* user:password or empty */
	K_PORT,
	K_SECONDS,					/* int, optional "s" suffix */
	K_BYTES,					/* int, optional kB/MB/GB suffix */
	K_RATE,						/* pg_basebackup's --max-rate: kB/s, optional k or M suffix */
	K_BOOL
} KeyType;

typedef struct KeyDef
{
	const char *key;
	KeyType		type;
	size_t		offset;
	size_t		size;			/* strings: buffer size */
	int			min;			/* ints */
	int			max;
	bool		required;
} KeyDef;

#define S(f, t, req)  { #f, t, offsetof(NodeConf, f), sizeof(((NodeConf *) 0)->f), 0, 0, req }
#define I(f, t, lo, hi) { #f, t, offsetof(NodeConf, f), 0, lo, hi, false }

static const KeyDef key_defs[] = {
	S(name, K_NAME, true),
	S(scope, K_NAME, false),
	{"namespace", K_NAMESPACE, offsetof(NodeConf, namespace_), sizeof(((NodeConf *) 0)->namespace_), 0, 0, false},
	S(zk_hosts, K_ZK_HOSTS, true),
	S(data_dir, K_PATH, false),
	S(bin_dir, K_PATH, false),
	S(listen_addresses, K_STR, false),
	I(port, K_PORT, 1, 65535),
	S(connect_address, K_HOST_PORT, true),
	S(api_listen, K_HOST_PORT, false),
	S(api_connect_address, K_HOST_PORT, false),
	S(api_auth, K_AUTH, false),
	S(api_certfile, K_PATH, false),
	S(api_keyfile, K_PATH, false),
	S(api_cafile, K_PATH, false),
	S(api_verify_client, K_STR, false),
	S(api_allowlist, K_STR, false),
	I(api_allowlist_include_members, K_BOOL, 0, 0),
	S(superuser, K_STR, false),
	S(superuser_password, K_STR, false),
	S(replication_user, K_STR, false),
	S(replication_password, K_STR, false),
	I(ttl, K_SECONDS, 2, 3600),
	I(loop_wait, K_SECONDS, 1, 60),
	I(retry_timeout, K_SECONDS, 1, 3600),
	I(synchronous_mode, K_BOOL, 0, 0),
	I(synchronous_mode_strict, K_BOOL, 0, 0),
	I(maximum_lag_on_failover, K_BYTES, 0, INT_MAX),
	I(primary_start_timeout, K_SECONDS, 0, 3600),
	I(use_slots, K_BOOL, 0, 0),
	I(member_slots_ttl, K_SECONDS, 0, INT_MAX),
	I(nofailover, K_BOOL, 0, 0),
	I(noloadbalance, K_BOOL, 0, 0),
	I(nosync, K_BOOL, 0, 0),
	I(clonefrom, K_BOOL, 0, 0),
	I(use_pg_rewind, K_BOOL, 0, 0),
	I(auto_reclone, K_BOOL, 0, 0),
	I(basebackup_max_rate, K_RATE, 32, 1048576),
	S(log_file, K_STR, false),
	S(on_start, K_COMMAND, false),
	S(on_stop, K_COMMAND, false),
	S(on_restart, K_COMMAND, false),
	S(on_reload, K_COMMAND, false),
	S(on_role_change, K_COMMAND, false),
	I(callback_timeout, K_SECONDS, 1, 3600),
};

#define NKEYS ((int) (sizeof(key_defs) / sizeof(key_defs[0])))

/* postgres parameters the supervisor sets itself, and what to use instead */
static const struct
{
	const char *param;
	const char *instead;
}			managed_params[] = {
	{"port", "the key \"port\""},
	{"listen_addresses", "the key \"listen_addresses\""},
	{"primary_conninfo", "nothing: pg_ha points replicas at the leader"},
	{"primary_slot_name", "the key \"use_slots\": pg_ha names each replica's slot"},
	{"synchronous_standby_names", "the key \"synchronous_mode\""},
	{"recovery_target_timeline", "nothing: pg_ha always follows the latest timeline"},
	{"include", "nothing: includes are not allowed here"},
	{"include_if_exists", "nothing: includes are not allowed here"},
	{"include_dir", "nothing: includes are not allowed here"},
	{"config_file", "nothing: the supervisor starts postgres with -D data_dir"},
	{"data_directory", "the key \"data_dir\""},
};

bool
conf_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"on", "true", "yes", "1"};
	static const char *const no[] = {"off", "false", "no", "0"};

	for (size_t i = 0; i < 4; i++)
	{
		if (strcasecmp(s, yes[i]) == 0)
		{
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0)
		{
			*out = false;
			return true;
		}
	}
	return false;
}

/* Integer with an optional unit; mult_for_unit gives the multiplier. */
static bool
parse_int_unit(const char *s, bool bytes, int64_t *out)
{
	char	   *end;
	long long	v;
	int64_t		mult = 1;

	if (!isdigit((unsigned char) s[0]))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return false;
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end != '\0')
	{
		if (bytes)
		{
			if (strcmp(end, "B") == 0)
				mult = 1;
			else if (strcmp(end, "kB") == 0)
				mult = 1024;
			else if (strcmp(end, "MB") == 0)
				mult = 1024 * 1024;
			else if (strcmp(end, "GB") == 0)
				mult = 1024LL * 1024 * 1024;
			else
				return false;
		}
		else if (strcmp(end, "s") != 0)
			return false;
	}
	if (v > INT64_MAX / mult)
		return false;
	*out = (int64_t) v * mult;
	return true;
}

/* pg_basebackup's --max-rate: "N" or "Nk" (kB/s), "NM" (MB/s); in kB/s */
static bool
parse_rate(const char *s, int64_t *out)
{
	char	   *end;
	long long	v;

	if (!isdigit((unsigned char) s[0]))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || v > INT_MAX / 1024)
		return false;
	if (strcmp(end, "M") == 0)
		v *= 1024;
	else if (*end != '\0' && strcmp(end, "k") != 0)
		return false;
	*out = v;
	return true;
}

static bool
valid_namespace(const char *s)
{
	size_t		n = strlen(s);

	return s[0] == '/' && !(n > 1 && s[n - 1] == '/') && strstr(s, "//") == NULL &&
		n <= 200;
}

static bool
valid_param_name(const char *s)
{
	if (!isalpha((unsigned char) s[0]))
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char) *s) || *s == '_' || *s == '.'))
			return false;
	return true;
}

static void
set_defaults(NodeConf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->scope, sizeof(c->scope), "pg_ha");
	snprintf(c->namespace_, sizeof(c->namespace_), "/service");
	snprintf(c->bin_dir, sizeof(c->bin_dir), "/usr/lib/postgresql/15/bin");
	snprintf(c->listen_addresses, sizeof(c->listen_addresses), "*");
	c->port = 5432;
	snprintf(c->api_listen, sizeof(c->api_listen), "*:8008");
	snprintf(c->superuser, sizeof(c->superuser), "postgres");
	snprintf(c->replication_user, sizeof(c->replication_user), "replicator");
	c->ttl = 10;
	c->loop_wait = 1;
	c->retry_timeout = 5;
	c->maximum_lag_on_failover = 1048576;
	c->use_pg_rewind = true;
	c->auto_reclone = true;
	c->wal_keep_segments = -1;
	c->use_slots = true;
	c->member_slots_ttl = 1800;
	c->callback_timeout = 30;
}

/* Stores one "key = value"; where is "file:line" for messages. */
static bool
set_key(NodeConf *c, const KeyDef *k, const char *value, const char *where,
		char *err, size_t errlen)
{
	char	   *dst = (char *) c + k->offset;
	char		why[128];
	int64_t		v;
	bool		b;

	switch (k->type)
	{
		case K_STR:
		case K_NAME:
		case K_NAMESPACE:
		case K_PATH:
		case K_COMMAND:
		case K_ZK_HOSTS:
		case K_HOST_PORT:
		case K_AUTH:
			if (strlen(value) >= k->size)
				return errbuf_fail(err, errlen, "%s: the value of \"%s\" is too long (at most %zu bytes)",
							where, k->key, k->size - 1);
			if (k->type == K_NAME && !text_valid_name(value, 0))
				return errbuf_fail(err, errlen, "%s: invalid %s \"%s\": use letters, digits, \"_\", \"-\" and \".\" only",
							where, k->key, value);
			if (k->type == K_NAME && strlen(value) >= 64)
				return errbuf_fail(err, errlen, "%s: %s is longer than 63 characters", where, k->key);
			if (k->type == K_NAMESPACE && !valid_namespace(value))
				return errbuf_fail(err, errlen, "%s: invalid namespace \"%s\": use a ZooKeeper path like \"/service\"",
							where, value);
			if (k->type == K_PATH && value[0] != '/')
				return errbuf_fail(err, errlen, "%s: %s must be an absolute path, not \"%s\"",
							where, k->key, value);
			if (k->type == K_COMMAND && value[0] != '\0' && value[0] != '/')
				return errbuf_fail(err, errlen, "%s: %s must be the absolute path of a program (it runs without a shell, with the arguments action, role and scope), not \"%s\"",
							where, k->key, value);
			if (k->type == K_ZK_HOSTS && !addr_valid_zk_hosts(value, why, sizeof(why)))
				return errbuf_fail(err, errlen, "%s: invalid zk_hosts \"%s\": %s (use host:port[,host:port...][/chroot])",
							where, value, why);
			if (k->type == K_HOST_PORT && value[0] != '\0' &&
				!addr_parse_host_port(value, NULL, 0, NULL, why, sizeof(why)))
				return errbuf_fail(err, errlen, "%s: invalid %s \"%s\": %s (use host:port)",
							where, k->key, value, why);
			if (k->type == K_AUTH && value[0] != '\0' && strchr(value, ':') == NULL)
				return errbuf_fail(err, errlen, "%s: api_auth must have the form user:password",
							where);
			memcpy(dst, value, strlen(value) + 1);
			return true;

		case K_PORT:
		case K_SECONDS:
		case K_BYTES:
			if (!parse_int_unit(value, k->type == K_BYTES, &v))
				return errbuf_fail(err, errlen, "%s: invalid value for %s: \"%s\" (%s)", where, k->key, value,
							k->type == K_BYTES ? "bytes, optionally with kB, MB or GB" :
							k->type == K_SECONDS ? "whole seconds" : "a port number");
			if (v < k->min || v > k->max)
				return errbuf_fail(err, errlen, "%s: %s = %lld is out of range (%d .. %d)",
							where, k->key, (long long) v, k->min, k->max);
			if (k->type == K_BYTES)
				*(int64_t *) (void *) dst = v;
			else
				*(int *) (void *) dst = (int) v;
			return true;

		case K_RATE:
			if (!parse_rate(value, &v))
				return errbuf_fail(err, errlen, "%s: invalid value for %s: \"%s\" (kB per second, optionally with k or M, as pg_basebackup's --max-rate)",
							where, k->key, value);
			if (v != 0 && (v < k->min || v > k->max))
				return errbuf_fail(err, errlen, "%s: %s = %lldk is out of range (0 for no limit, or %dk .. %dk, pg_basebackup's bounds)",
							where, k->key, (long long) v, k->min, k->max);
			*(int *) (void *) dst = (int) v;
			return true;

		case K_BOOL:
			if (!conf_parse_bool(value, &b))
				return errbuf_fail(err, errlen, "%s: invalid value for %s: \"%s\" (use on or off)",
							where, k->key, value);
			*(bool *) (void *) dst = b;
			return true;
	}
	return false;
}

#define WAL_KEEP_BOTH "%s: \"pg.wal_keep_segments\" (its name before PostgreSQL 13) and \"pg.wal_keep_size\" are both set: keep only pg.wal_keep_size (PostgreSQL 15 has no wal_keep_segments)"
#define WAL_SEGMENT_MB 16

/*
 * pg.wal_keep_segments (PostgreSQL 12 and older; Patroni files still
 * carry it, and Patroni translates it) would stop
 * PostgreSQL 15 from starting: it becomes wal_keep_size = N x 16 MB, the
 * default WAL segment size (that of every cluster initdb makes without
 * --wal-segsize, as the supervisor's bootstrap does).  The parsed value
 * stays in wal_keep_segments, for the supervisor's log line.
 */
static bool
set_wal_keep_segments(NodeConf *c, const char *value, const char *where,
					  char *err, size_t errlen)
{
	char	   *end;
	long long	v;

	if (c->wal_keep_segments >= 0)
		return errbuf_fail(err, errlen, "%s: \"pg.wal_keep_segments\" is set twice", where);
	for (int i = 0; i < c->npg; i++)
		if (strcmp(c->pg[i].name, "wal_keep_size") == 0)
			return errbuf_fail(err, errlen, WAL_KEEP_BOTH, where);
	errno = 0;
	v = isdigit((unsigned char) value[0]) ? strtoll(value, &end, 10) : -1;
	if (v < 0 || errno != 0 || *end != '\0')
		return errbuf_fail(err, errlen, "%s: invalid value for pg.wal_keep_segments: \"%s\" (a number of WAL segments)",
					where, value);
	if (v > INT_MAX / WAL_SEGMENT_MB)
		return errbuf_fail(err, errlen, "%s: pg.wal_keep_segments = %lld is out of range (0 .. %d)",
					where, v, INT_MAX / WAL_SEGMENT_MB);
	if (c->npg >= CONF_MAX_PG)
		return errbuf_fail(err, errlen, "%s: too many pg.* parameters (at most %d)", where, CONF_MAX_PG);
	snprintf(c->pg[c->npg].name, sizeof(c->pg[0].name), "wal_keep_size");
	snprintf(c->pg[c->npg].value, sizeof(c->pg[0].value), "%lldMB", v * WAL_SEGMENT_MB);
	c->npg++;
	c->wal_keep_segments = (int) v;
	return true;
}

static bool
set_pg_param(NodeConf *c, const char *param, const char *value, const char *where,
			 char *err, size_t errlen)
{
	char		lower[CONF_NAME_LEN];
	size_t		n = strlen(param);

	if (n == 0 || n >= sizeof(lower) || !valid_param_name(param))
		return errbuf_fail(err, errlen, "%s: invalid postgres parameter name \"pg.%s\"", where, param);
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char) tolower((unsigned char) param[i]);
	if (strncmp(lower, "pg_ha.", 6) == 0)
		return errbuf_fail(err, errlen, "%s: set \"%s\" with the key \"%s\", not through pg.",
					where, lower, lower + 6);
	for (size_t i = 0; i < sizeof(managed_params) / sizeof(managed_params[0]); i++)
		if (strcmp(lower, managed_params[i].param) == 0)
			return errbuf_fail(err, errlen, "%s: \"pg.%s\" is managed by pg_ha_supervisor: use %s",
						where, lower, managed_params[i].instead);
	if (strcmp(lower, "wal_keep_segments") == 0)
		return set_wal_keep_segments(c, value, where, err, errlen);
	if (strcmp(lower, "wal_keep_size") == 0 && c->wal_keep_segments >= 0)
		return errbuf_fail(err, errlen, WAL_KEEP_BOTH, where);
	for (int i = 0; i < c->npg; i++)
		if (strcmp(c->pg[i].name, lower) == 0)
			return errbuf_fail(err, errlen, "%s: \"pg.%s\" is set twice", where, lower);
	if (c->npg >= CONF_MAX_PG)
		return errbuf_fail(err, errlen, "%s: too many pg.* parameters (at most %d)", where, CONF_MAX_PG);
	if (strlen(value) >= sizeof(c->pg[0].value))
		return errbuf_fail(err, errlen, "%s: the value of \"pg.%s\" is too long", where, lower);
	memcpy(c->pg[c->npg].name, lower, n + 1);
	memcpy(c->pg[c->npg].value, value, strlen(value) + 1);
	c->npg++;
	return true;
}

/*
 * Splits one line (NUL-terminated, no newline) into key and value.
 * Returns 0 for a blank/comment line, 1 for a setting, -1 on error.
 */
static int
split_line(char *line, char **key, char *value, size_t valcap, const char *where,
		   char *err, size_t errlen)
{
	char	   *p = line;
	char	   *k;
	size_t		vlen = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	k = p;
	while (isalnum((unsigned char) *p) || *p == '_' || *p == '.' || *p == '-')
		p++;
	if (p == k)
	{
		errbuf_fail(err, errlen, "%s: expected a key, found \"%c\"", where, *p);
		return -1;
	}
	if (*p != '=' && *p != ' ' && *p != '\t')
	{
		errbuf_fail(err, errlen, "%s: invalid character \"%c\" in key", where, *p);
		return -1;
	}
	while (*p == ' ' || *p == '\t')
	{
		*p = '\0';
		p++;
	}
	if (*p != '=')
	{
		errbuf_fail(err, errlen, "%s: expected \"=\" after \"%s\"", where, k);
		return -1;
	}
	*p++ = '\0';
	*key = k;
	while (*p == ' ' || *p == '\t')
		p++;

	if (*p == '\'')
	{
		p++;
		for (;;)
		{
			if (*p == '\0')
			{
				errbuf_fail(err, errlen, "%s: unterminated quoted value of \"%s\"", where, k);
				return -1;
			}
			if (*p == '\'')
			{
				if (p[1] != '\'')
					break;
				p++;			/* '' is a quote */
			}
			if (vlen + 1 >= valcap)
			{
				errbuf_fail(err, errlen, "%s: the value of \"%s\" is too long", where, k);
				return -1;
			}
			value[vlen++] = *p++;
		}
		p++;					/* closing quote */
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '\0' && *p != '#')
		{
			errbuf_fail(err, errlen, "%s: unexpected text after the quoted value of \"%s\"", where, k);
			return -1;
		}
	}
	else
	{
		char	   *end = p;

		while (*end != '\0' && *end != '#')
			end++;
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		vlen = (size_t) (end - p);
		if (vlen >= valcap)
		{
			errbuf_fail(err, errlen, "%s: the value of \"%s\" is too long", where, k);
			return -1;
		}
		for (size_t i = 0; i < vlen; i++)
			if (p[i] == '\'')
			{
				errbuf_fail(err, errlen, "%s: stray quote in the value of \"%s\" (quote the whole value: 'it''s')",
					 where, k);
				return -1;
			}
		memcpy(value, p, vlen);
	}
	value[vlen] = '\0';
	return 1;
}

bool
conf_parse(const char *text, size_t len, const char *filename, const char *pgdata,
		   NodeConf *c, char *err, size_t errlen)
{
	int			set_at[NKEYS];
	size_t		pos = 0;
	int			lineno = 0;
	char		why[128];
	int			port;

	if (filename == NULL)
		filename = "(configuration)";
	set_defaults(c);
	memset(set_at, 0, sizeof(set_at));

	while (pos < len)
	{
		char		line[4096];
		char		value[4096];
		char		where[CONF_PATH_LEN + 16];
		char	   *key = NULL;
		size_t		start = pos;
		size_t		n;
		int			kind;

		lineno++;
		while (pos < len && text[pos] != '\n')
			pos++;
		n = pos - start;
		if (pos < len)
			pos++;				/* the newline */
		if (n > 0 && text[start + n - 1] == '\r')
			n--;
		snprintf(where, sizeof(where), "%s:%d", filename, lineno);
		if (n >= sizeof(line))
			return errbuf_fail(err, errlen, "%s: line too long (at most %zu bytes)", where,
						sizeof(line) - 1);
		if (memchr(text + start, '\0', n) != NULL)
			return errbuf_fail(err, errlen, "%s: NUL byte in line", where);
		memcpy(line, text + start, n);
		line[n] = '\0';

		kind = split_line(line, &key, value, sizeof(value), where, err, errlen);
		if (kind < 0)
			return false;
		if (kind == 0)
			continue;

		if (strncmp(key, "pg.", 3) == 0)
		{
			if (!set_pg_param(c, key + 3, value, where, err, errlen))
				return false;
			continue;
		}
		if (strcmp(key, "hba") == 0)
		{
			if (value[0] == '\0')
				return errbuf_fail(err, errlen, "%s: empty hba line", where);
			if (c->nhba >= CONF_MAX_HBA)
				return errbuf_fail(err, errlen, "%s: too many hba lines (at most %d)", where, CONF_MAX_HBA);
			if (strlen(value) >= CONF_HBA_LEN)
				return errbuf_fail(err, errlen, "%s: hba line too long", where);
			memcpy(c->hba[c->nhba++], value, strlen(value) + 1);
			continue;
		}

		{
			int			i;

			for (i = 0; i < NKEYS; i++)
				if (strcmp(key, key_defs[i].key) == 0)
					break;
			if (i == NKEYS)
				return errbuf_fail(err, errlen, "%s: unknown key \"%s\"", where, key);
			if (set_at[i])
				return errbuf_fail(err, errlen, "%s: \"%s\" is set twice (first on line %d)",
							where, key, set_at[i]);
			if (!set_key(c, &key_defs[i], value, where, err, errlen))
				return false;
			set_at[i] = lineno;
		}
	}

	/* required keys and what needs more than one key */
	for (int i = 0; i < NKEYS; i++)
	{
		const char *v = (const char *) c + key_defs[i].offset;

		if (key_defs[i].required && (!set_at[i] || v[0] == '\0'))
			return errbuf_fail(err, errlen, "%s: missing required key \"%s\"", filename, key_defs[i].key);
	}
	if (c->data_dir[0] == '\0')
	{
		if (pgdata == NULL || pgdata[0] == '\0')
			return errbuf_fail(err, errlen, "%s: data_dir is not set and PGDATA is not in the environment",
						filename);
		if (pgdata[0] != '/' || strlen(pgdata) >= sizeof(c->data_dir))
			return errbuf_fail(err, errlen, "%s: data_dir is not set and PGDATA (\"%s\") is not an absolute path",
						filename, pgdata);
		memcpy(c->data_dir, pgdata, strlen(pgdata) + 1);
	}
	/* "/x/" and "/x" name the same directory; siblings are made by suffix */
	{
		size_t		dl = strlen(c->data_dir);

		while (dl > 1 && c->data_dir[dl - 1] == '/')
			c->data_dir[--dl] = '\0';
		if (dl <= 1)
			return errbuf_fail(err, errlen, "%s: data_dir must not be \"/\"", filename);
	}
	if (c->retry_timeout >= c->ttl)
		return errbuf_fail(err, errlen, "%s: retry_timeout (%d) must be less than ttl (%d)",
					filename, c->retry_timeout, c->ttl);
	if (c->loop_wait >= c->ttl)
		return errbuf_fail(err, errlen, "%s: loop_wait (%d) must be less than ttl (%d)",
					filename, c->loop_wait, c->ttl);
	if (c->api_listen[0] == '\0')
		return errbuf_fail(err, errlen, "%s: api_listen must not be empty", filename);
	if (c->api_verify_client[0] != '\0' && strcmp(c->api_verify_client, "none") != 0 &&
		strcmp(c->api_verify_client, "optional") != 0 && strcmp(c->api_verify_client, "required") != 0)
		return errbuf_fail(err, errlen, "%s: api_verify_client must be none, optional or required", filename);
	if (c->api_verify_client[0] != '\0' && strcmp(c->api_verify_client, "none") != 0 &&
		c->api_cafile[0] == '\0')
		return errbuf_fail(err, errlen, "%s: api_verify_client = %s needs api_cafile (the CA of the client certificates)",
					filename, c->api_verify_client);
	if (c->superuser[0] == '\0' || c->replication_user[0] == '\0')
		return errbuf_fail(err, errlen, "%s: superuser and replication_user must not be empty", filename);
	if (!addr_parse_host_port(c->connect_address, c->connect_host, sizeof(c->connect_host),
							  &port, why, sizeof(why)))
		return errbuf_fail(err, errlen, "%s: invalid connect_address: %s", filename, why);
	if (strcmp(c->connect_host, "*") == 0)
		return errbuf_fail(err, errlen, "%s: connect_address must name a host others can reach, not \"*\"",
					filename);
	return true;
}
