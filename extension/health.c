/*-------------------------------------------------------------------------
 *
 * health.c
 *	  Patroni-compatible health check status codes, computed from the
 *	  agent's in-memory view only (no query per request).
 *
 * HAProxy, Kubernetes probes and pg_ha's own router decide where traffic
 * goes from these codes, so they follow Patroni 3.0.2's api.py do_GET
 * table exactly: substring matching on the path, the same precedence,
 * Patroni's ?lag= and ?tag_<name>= handling (parse_qs: percent-decoded,
 * first value of a key wins, empty values ignored).  The differences are
 * deliberate: is_leader means a live ZooKeeper session holding the leader
 * key (no time lease, no pause mode), there is no standby cluster, and a
 * primary check also needs postgres running.
 *
 * IDENTIFICATION
 *	  extension/health.c
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "health.h"
#include "text.h"

/* Decoded query keys and values longer than this match nothing we know. */
#define QS_ITEM_MAX		64

HaRoute
ha_route_for_path(const char *path)
{
	static const struct
	{
		const char *segment;
		HaRoute		route;
	}			routes[] =
	{
		{"patroni", HA_ROUTE_PATRONI},
		{"cluster", HA_ROUTE_CLUSTER},
		{"metrics", HA_ROUTE_METRICS},
		{"liveness", HA_ROUTE_LIVENESS},
		{"readiness", HA_ROUTE_READINESS},
		{"config", HA_ROUTE_CONFIG},
		{"history", HA_ROUTE_HISTORY},
		{"watch", HA_ROUTE_WATCH},
		{"switchover", HA_ROUTE_SWITCHOVER},
		{"failover", HA_ROUTE_FAILOVER},
		{"restart", HA_ROUTE_RESTART},
		{"reinitialize", HA_ROUTE_REINITIALIZE},
	};
	const char *seg;
	const char *slash;
	size_t		n;
	size_t		i;

	if (path == NULL)
		return HA_ROUTE_HEALTH;

	/* Patroni: path.lstrip('/').split('/')[0] */
	seg = path;
	while (*seg == '/')
		seg++;
	slash = strchr(seg, '/');
	n = slash ? (size_t) (slash - seg) : strlen(seg);

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
	{
		if (strlen(routes[i].segment) == n &&
			memcmp(routes[i].segment, seg, n) == 0)
			return routes[i].route;
	}
	return HA_ROUTE_HEALTH;
}

bool
ha_parse_bytes(const char *s, uint64_t *out)
{
	static const struct
	{
		const char *unit;
		uint64_t	mult;
	}			units[] =
	{
		{"B", 1},
		{"kB", UINT64_C(1) << 10},
		{"MB", UINT64_C(1) << 20},
		{"GB", UINT64_C(1) << 30},
		{"TB", UINT64_C(1) << 40},
	};
	const char *p = s;
	uint64_t	v = 0;
	uint64_t	mult = 1;

	if (s == NULL || out == NULL)
		return false;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
	{
		uint64_t	d = (uint64_t) (*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
		p++;
	}
	/* PostgreSQL allows blanks between the number and its unit */
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0')
	{
		size_t		i;
		bool		found = false;

		/* unit names are case-sensitive, as in PostgreSQL */
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		{
			size_t		ulen = strlen(units[i].unit);

			if (strncmp(p, units[i].unit, ulen) == 0)
			{
				mult = units[i].mult;
				p += ulen;
				found = true;
				break;
			}
		}
		if (!found)
			return false;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '\0')
			return false;
	}
	if (v > UINT64_MAX / mult)
		return false;
	*out = v * mult;
	return true;
}

/* One key or value of a query string, percent-decoded. */
typedef struct QsItem
{
	char		data[QS_ITEM_MAX];	/* the first QS_ITEM_MAX decoded bytes */
	size_t		len;			/* full decoded length, may exceed the above */
} QsItem;

/* Decodes s[0..n) like Python's unquote_plus: '+' is a space, %XX a byte. */
static void
qs_decode(const char *s, size_t n, QsItem *item)
{
	size_t		i = 0;

	item->len = 0;
	while (i < n)
	{
		char		c = s[i];

		if (c == '+')
		{
			c = ' ';
			i++;
		}
		else if (c == '%' && i + 2 < n &&
				 text_hex_value(s[i + 1]) >= 0 && text_hex_value(s[i + 2]) >= 0)
		{
			c = (char) (text_hex_value(s[i + 1]) * 16 + text_hex_value(s[i + 2]));
			i += 3;
		}
		else
			i++;
		if (item->len < QS_ITEM_MAX)
			item->data[item->len] = c;
		item->len++;
	}
}

static bool
qs_equals(const QsItem *item, const char *lit)
{
	size_t		n = strlen(lit);

	return item->len == n && n <= QS_ITEM_MAX && memcmp(item->data, lit, n) == 0;
}

static bool
qs_items_equal(const QsItem *a, const QsItem *b)
{
	return a->len == b->len && a->len <= QS_ITEM_MAX &&
		memcmp(a->data, b->data, a->len) == 0;
}

/*
 * Walks "k=v&k2=v2" the way parse_qs does with its defaults: pairs without
 * '=' or with an empty value are skipped.  *pos is the offset to continue
 * from, *start is set to the offset of the pair returned; returns false at
 * the end.
 */
static bool
qs_next(const char *query, size_t *pos, size_t *start, QsItem *key,
		QsItem *value)
{
	while (query[*pos] != '\0')
	{
		const char *p = query + *pos;
		const char *amp = strchr(p, '&');
		size_t		pairlen = amp ? (size_t) (amp - p) : strlen(p);
		const char *eq = memchr(p, '=', pairlen);

		*start = *pos;
		*pos += pairlen + (amp ? 1 : 0);
		if (eq == NULL || eq + 1 == p + pairlen)
			continue;
		qs_decode(p, (size_t) (eq - p), key);
		qs_decode(eq + 1, (size_t) (p + pairlen - eq - 1), value);
		return true;
	}
	return false;
}

/* First non-empty value of key, as parse_qs(query)[key][0]. */
static bool
qs_first(const char *query, const char *key, QsItem *value)
{
	size_t		pos = 0;
	size_t		start;
	QsItem		k;

	while (qs_next(query, &pos, &start, &k, value))
	{
		if (qs_equals(&k, key))
			return true;
	}
	return false;
}

/*
 * The ?tag_<name>=<value> filter: 503 when a named tag is unknown or its
 * value differs.  Our tags are booleans, which Patroni compares as
 * str(value).lower(), so "true" or "false".
 */
static int
tag_filter(const HaTags *tags, const char *query)
{
	static const char prefix[] = "tag_";
	const size_t plen = sizeof(prefix) - 1;
	size_t		pos = 0;
	size_t		start;
	QsItem		key;
	QsItem		value;

	while (qs_next(query, &pos, &start, &key, &value))
	{
		size_t		pos2 = 0;
		size_t		start2;
		QsItem		key2;
		QsItem		value2;
		bool		seen = false;
		const char *name;
		size_t		namelen;
		bool		tag;

		if (key.len < plen || memcmp(key.data, prefix, plen) != 0)
			continue;

		/* parse_qs keeps the first value of a repeated key */
		while (qs_next(query, &pos2, &start2, &key2, &value2) && start2 < start)
		{
			if (qs_items_equal(&key, &key2))
			{
				seen = true;
				break;
			}
		}
		if (seen)
			continue;

		if (key.len > QS_ITEM_MAX)
			return 503;			/* too long to be a tag we have */
		name = key.data + plen;
		namelen = key.len - plen;
		if (namelen == 10 && memcmp(name, "nofailover", 10) == 0)
			tag = tags->nofailover;
		else if (namelen == 13 && memcmp(name, "noloadbalance", 13) == 0)
			tag = tags->noloadbalance;
		else if (namelen == 6 && memcmp(name, "nosync", 6) == 0)
			tag = tags->nosync;
		else if (namelen == 9 && memcmp(name, "clonefrom", 9) == 0)
			tag = tags->clonefrom;
		else
			return 503;
		if (!qs_equals(&value, tag ? "true" : "false"))
			return 503;
	}
	return 200;
}

int
ha_health_status(const HaHealthInput *in, HaRoute route, const char *path,
				 const char *query)
{
	char		lagval[QS_ITEM_MAX];
	bool		is_lagging = false;
	int			replica_code;
	int			leader_code;
	int			primary_code;
	int			standby_leader_code;
	int			status = 503;
	bool		ignore_tags = false;

	if (in == NULL)
		return 503;
	if (path == NULL || path[0] == '\0')
		path = "/";
	if (query == NULL)
		query = "";

	if (route == HA_ROUTE_LIVENESS)
		return in->loop_alive ? 200 : 503;
	if (route == HA_ROUTE_READINESS)
	{
		if (in->is_leader)
			return 200;
		return (in->pg_running && in->has_dcs_view) ? 200 : 503;
	}

	/* every other route answers HEAD/OPTIONS like Patroni: by the table */
	if (strcmp(path, "/") == 0)
		path = "/primary";

	/*
	 * ?lag=: a value ha_parse_bytes refuses means no limit, as Patroni's
	 * parse_int returning None does.  Written to avoid overflowing
	 * replayed_lsn + lag.
	 */
	if (ha_query_value(query, "lag", lagval, sizeof(lagval)))
	{
		uint64_t	lag;

		if (ha_parse_bytes(lagval, &lag))
			is_lagging = in->leader_lsn != 0 &&
				in->leader_lsn > in->replayed_lsn &&
				in->leader_lsn - in->replayed_lsn > lag;
	}

	replica_code = (in->pg_running && in->in_recovery &&
					!in->tags.noloadbalance && !is_lagging) ? 200 : 503;
	leader_code = in->is_leader ? 200 : 503;
	primary_code = (in->is_leader && in->pg_running && !in->in_recovery) ? 200 : 503;
	standby_leader_code = 503;	/* we have no standby cluster */

	/* same precedence as Patroni's if/elif chain */
	if (strstr(path, "standby_leader") || strstr(path, "standby-leader"))
	{
		status = standby_leader_code;
		ignore_tags = true;
	}
	else if (strstr(path, "leader"))
	{
		status = leader_code;
		ignore_tags = true;
	}
	else if (strstr(path, "master") || strstr(path, "primary") ||
			 strstr(path, "read-write"))
	{
		status = primary_code;
		ignore_tags = true;
	}
	else if (strstr(path, "replica"))
		status = replica_code;
	else if (strstr(path, "read-only") && !strstr(path, "sync"))
		status = (primary_code == 200 || standby_leader_code == 200) ? 200 : replica_code;
	else if (strstr(path, "health"))
		status = in->pg_running ? 200 : 503;
	else if (in->has_dcs_view)
	{
		if ((strcmp(path, "/sync") == 0 || strcmp(path, "/synchronous") == 0) &&
			in->is_sync_standby)
			status = replica_code;
		else if ((strcmp(path, "/async") == 0 || strcmp(path, "/asynchronous") == 0) &&
				 !in->is_sync_standby)
			status = replica_code;
		else if (strcmp(path, "/read-only-sync") == 0 ||
				 strcmp(path, "/read-only-synchronous") == 0)
		{
			if (primary_code == 200 || standby_leader_code == 200)
				status = 200;
			else if (in->is_sync_standby)
				status = replica_code;
		}
	}

	if (!ignore_tags && status == 200)
		status = tag_filter(&in->tags, query);
	return status;
}

bool
ha_query_value(const char *query, const char *key, char *out, size_t cap)
{
	QsItem		value;

	if (query == NULL || key == NULL || out == NULL || cap == 0 ||
		!qs_first(query, key, &value) || value.len >= cap ||
		value.len > QS_ITEM_MAX || memchr(value.data, '\0', value.len) != NULL)
		return false;
	memcpy(out, value.data, value.len);
	out[value.len] = '\0';
	return true;
}

uint64_t
ha_watch_timeout_secs(const char *query, uint64_t dflt, uint64_t max)
{
	char		value[QS_ITEM_MAX];
	uint64_t	secs = dflt;

	if (ha_query_value(query, "timeout", value, sizeof(value)) &&
		!text_parse_uint(value, UINT64_MAX, &secs))
		secs = dflt;
	return secs < max ? secs : max;
}
