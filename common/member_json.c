/*-------------------------------------------------------------------------
 *
 * member_json.c
 *	  The member znode body (/members/<name>): HaMember to JSON and back,
 *	  in Patroni's format with pg_ha's extra fields.  Every node writes its
 *	  own and reads everyone's, so the reader takes any bytes: it is made
 *	  of json_reader.c's strict parser and fills HaMember's fixed-size
 *	  fields without truncating or allocating.
 *
 * IDENTIFICATION
 *	  common/member_json.c
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "json_reader.h"
#include "member_json.h"

/* Length of a field that should be NUL-terminated but may not be. */
static size_t
field_len(const char *s, size_t cap)
{
	size_t		n = 0;

	while (n < cap && s[n] != '\0')
		n++;
	return n;
}

#define FIELD_STRING(jb, m, f) \
	do { \
		json_key((jb), #f); \
		json_string_n((jb), (m)->f, field_len((m)->f, sizeof((m)->f))); \
	} while (0)

void
member_to_json(const HaMember *m, JsonBuf *jb)
{
	char		sysid[24];

	json_object_begin(jb);
	FIELD_STRING(jb, m, conn_url);
	FIELD_STRING(jb, m, api_url);
	FIELD_STRING(jb, m, role);
	FIELD_STRING(jb, m, state);
	json_key(jb, "timeline");
	json_uint(jb, m->timeline);
	json_key(jb, "xlog_location");
	json_uint(jb, m->xlog_location);
	json_key(jb, "replayed_location");
	json_uint(jb, m->replayed_location);
	/* a string: a uint64 does not survive a reader that uses doubles */
	snprintf(sysid, sizeof(sysid), "%" PRIu64, m->system_id);
	json_key(jb, "system_id");
	json_string(jb, sysid);
	FIELD_STRING(jb, m, node_id);
	json_key(jb, "ttl");
	json_int(jb, m->ttl);
	json_key(jb, "retry_timeout");
	json_int(jb, m->retry_timeout);
	json_key(jb, "synchronous_mode");
	json_bool(jb, m->synchronous_mode);
	json_key(jb, "maximum_lag_on_failover");
	json_uint(jb, m->maximum_lag_on_failover);
	json_key(jb, "supervised");
	json_bool(jb, m->supervised);
	/* a primary's: replicas judge from it whether they are stranded */
	if (m->wal_oldest)
	{
		json_key(jb, "wal_oldest");
		json_uint(jb, m->wal_oldest);
	}
	/* Patroni writes these only when true */
	if (m->pending_restart)
	{
		json_key(jb, "pending_restart");
		json_bool(jb, true);
	}
	if (m->paused)
	{
		json_key(jb, "pause");
		json_bool(jb, true);
	}
	if (m->scheduled_restart[0])
	{
		json_key(jb, "scheduled_restart");
		json_object_begin(jb);
		json_key(jb, "schedule");
		json_string(jb, m->scheduled_restart);
		if (m->scheduled_restart_version[0])
		{
			json_key(jb, "postgres_version");
			json_string(jb, m->scheduled_restart_version);
		}
		json_object_end(jb);
	}
	json_key(jb, "tags");
	json_object_begin(jb);
	json_key(jb, "nofailover");
	json_bool(jb, m->tags.nofailover);
	json_key(jb, "noloadbalance");
	json_bool(jb, m->tags.noloadbalance);
	json_key(jb, "nosync");
	json_bool(jb, m->tags.nosync);
	json_key(jb, "clonefrom");
	json_bool(jb, m->tags.clonefrom);
	json_object_end(jb);
	json_object_end(jb);
}

/* system_id: a string of decimal digits as we write it, or a plain number. */
static bool
get_system_id(JsonParser *P, uint64_t *out)
{
	char		digits[24];
	JsonParser	sub;

	if (P->p < P->end && *P->p == '"')
	{
		if (!jp_get_string(P, digits, sizeof(digits)))
			return false;
		sub = *P;
		sub.start = sub.p = (const unsigned char *) digits;
		sub.end = sub.p + strlen(digits);
		if (!jp_parse_uint(&sub, UINT64_MAX, out) || sub.p != sub.end)
			return jp_error(P, "bad system_id");
		return true;
	}
	return jp_get_uint(P, UINT64_MAX, out);
}

static bool
tags_member(JsonParser *P, const char *key, size_t keylen, int depth,
			void *arg)
{
	HaTags	   *tags = (HaTags *) arg;

	if (jp_key_is(key, keylen, "nofailover"))
		return jp_get_bool(P, &tags->nofailover);
	if (jp_key_is(key, keylen, "noloadbalance"))
		return jp_get_bool(P, &tags->noloadbalance);
	if (jp_key_is(key, keylen, "nosync"))
		return jp_get_bool(P, &tags->nosync);
	if (jp_key_is(key, keylen, "clonefrom"))
		return jp_get_bool(P, &tags->clonefrom);
	/* Patroni allows tags of the user's own, of any type */
	return jp_skip_value(P, depth);
}

/* Patroni's {"schedule": ..., "postgres_version": ...}; the rest it may hold is skipped */
static bool
scheduled_restart_member(JsonParser *P, const char *key, size_t keylen, int depth,
						 void *arg)
{
	HaMember   *m = (HaMember *) arg;

	if (jp_key_is(key, keylen, "schedule"))
		return jp_get_string(P, m->scheduled_restart, sizeof(m->scheduled_restart));
	if (jp_key_is(key, keylen, "postgres_version"))
		return jp_get_string(P, m->scheduled_restart_version, sizeof(m->scheduled_restart_version));
	return jp_skip_value(P, depth);
}

static bool
member_member(JsonParser *P, const char *key, size_t keylen, int depth,
			  void *arg)
{
	HaMember   *m = (HaMember *) arg;
	uint64_t	v;

	if (jp_key_is(key, keylen, "conn_url"))
		return jp_get_string(P, m->conn_url, sizeof(m->conn_url));
	if (jp_key_is(key, keylen, "api_url"))
		return jp_get_string(P, m->api_url, sizeof(m->api_url));
	if (jp_key_is(key, keylen, "role"))
		return jp_get_string(P, m->role, sizeof(m->role));
	if (jp_key_is(key, keylen, "state"))
		return jp_get_string(P, m->state, sizeof(m->state));
	if (jp_key_is(key, keylen, "node_id"))
		return jp_get_string(P, m->node_id, sizeof(m->node_id));
	if (jp_key_is(key, keylen, "timeline"))
	{
		v = m->timeline;
		if (!jp_get_uint(P, UINT32_MAX, &v))
			return false;
		m->timeline = (uint32_t) v;
		return true;
	}
	if (jp_key_is(key, keylen, "xlog_location"))
		return jp_get_uint(P, UINT64_MAX, &m->xlog_location);
	if (jp_key_is(key, keylen, "replayed_location"))
		return jp_get_uint(P, UINT64_MAX, &m->replayed_location);
	if (jp_key_is(key, keylen, "wal_oldest"))
		return jp_get_uint(P, UINT64_MAX, &m->wal_oldest);
	if (jp_key_is(key, keylen, "system_id"))
		return get_system_id(P, &m->system_id);
	if (jp_key_is(key, keylen, "ttl") || jp_key_is(key, keylen, "retry_timeout"))
	{
		int		   *field = jp_key_is(key, keylen, "ttl") ? &m->ttl : &m->retry_timeout;

		v = (uint64_t) *field;
		if (!jp_get_uint(P, INT_MAX, &v))
			return false;
		*field = (int) v;
		return true;
	}
	if (jp_key_is(key, keylen, "synchronous_mode"))
		return jp_get_bool(P, &m->synchronous_mode);
	if (jp_key_is(key, keylen, "supervised"))
		return jp_get_bool(P, &m->supervised);
	if (jp_key_is(key, keylen, "pending_restart"))
		return jp_get_bool(P, &m->pending_restart);
	if (jp_key_is(key, keylen, "pause"))
		return jp_get_bool(P, &m->paused);
	if (jp_key_is(key, keylen, "maximum_lag_on_failover"))
		return jp_get_uint(P, UINT64_MAX, &m->maximum_lag_on_failover);
	if (jp_key_is(key, keylen, "scheduled_restart"))
	{
		if (jp_take_null(P))
			return true;
		if (P->p >= P->end || *P->p != '{')
			return jp_error(P, "scheduled_restart is not an object");
		return jp_parse_object(P, depth + 1, scheduled_restart_member, m);
	}
	if (jp_key_is(key, keylen, "tags"))
	{
		if (jp_take_null(P))
			return true;
		if (P->p >= P->end || *P->p != '{')
			return jp_error(P, "tags is not an object");
		return jp_parse_object(P, depth + 1, tags_member, &m->tags);
	}
	return jp_skip_value(P, depth);
}

bool
member_from_json(const char *data, size_t len, HaMember *m,
				 char *err, size_t errlen)
{
	/* written only while one is scheduled: absent means none */
	m->scheduled_restart[0] = m->scheduled_restart_version[0] = '\0';
	m->wal_oldest = 0;			/* written by a primary only */
	return jp_parse_document(data, len, member_member, m, err, errlen);
}
