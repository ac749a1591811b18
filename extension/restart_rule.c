/*-------------------------------------------------------------------------
 *
 * restart_rule.c
 *	  Pure rules of a requested restart (see restart_rule.h).  Unit-tested
 *	  in tests/unit/test_restart_rule.c.
 *
 * The messages are Patroni's (api.py do_POST_restart, ha.py
 * restart_matches), so that patronictl prints what its users know.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_reader.h"
#include "restart_rule.h"

int
ha_pg_version_to_int(const char *text)
{
	long		parts[3];
	int			n = 0;
	const char *p = text;

	if (text == NULL)
		return -1;
	for (;;)
	{
		char	   *end;

		if (*p < '0' || *p > '9' || n == 3)
			return -1;
		parts[n] = strtol(p, &end, 10);
		if (parts[n] > 99 || end - p > 2)
			return -1;
		n++;
		p = end;
		if (*p == '\0')
			break;
		if (*p++ != '.')
			return -1;
	}
	/* X.Y.Z before 10, X.Y from 10 on (10.1 is 10.0.1) */
	if (n < 2 || (n == 2 && parts[0] < 10))
		return -1;
	if (n == 2)
		return (int) (parts[0] * 10000 + parts[1]);
	return (int) (parts[0] * 10000 + parts[1] * 100 + parts[2]);
}

typedef struct RestartParse
{
	HaRestartRequest *r;
	int64_t		now_us;
	int			status;			/* 0, or the refusal */
	char	   *err;
	size_t		errlen;
} RestartParse;

static bool
refuse(RestartParse *rp, int status, const char *msg, const char *arg)
{
	rp->status = status;
	snprintf(rp->err, rp->errlen, msg, arg);
	return false;
}

/* Patroni's parse_int(value, 's'): a number, or digits with an "s" */
static bool
parse_timeout(JsonParser *P, RestartParse *rp)
{
	char		text[16] = "";
	uint64_t	n = 0;
	char	   *end;

	if (P->p < P->end && *P->p == '"')
	{
		if (!jp_get_string(P, text, sizeof(text)))
			return refuse(rp, 400, "%s", "Timeout should be a positive number of seconds");
		n = strtoull(text, &end, 10);
		if (end == text || (strcmp(end, "") != 0 && strcmp(end, "s") != 0))
			n = 0;
	}
	else if (!jp_get_uint(P, 86400, &n))
		return refuse(rp, 400, "%s", "Timeout should be a positive number of seconds");
	if (n == 0 || n > 86400)
		return refuse(rp, 400, "%s", "Timeout should be a positive number of seconds");
	rp->r->timeout_s = (int) n;
	return true;
}

static bool
restart_member(JsonParser *P, const char *key, size_t keylen, int depth, void *arg)
{
	RestartParse *rp = (RestartParse *) arg;
	HaRestartRequest *r = rp->r;

	(void) depth;
	if (jp_key_is(key, keylen, "schedule"))
	{
		if (!jp_get_string(P, r->schedule, sizeof(r->schedule)) ||
			!iso_time_parse(r->schedule, &r->at_us))
			return refuse(rp, 422, "%s",
						  "Unable to parse scheduled timestamp. It should be in an unambiguous format, e.g. ISO 8601");
		if (r->at_us < rp->now_us)
			return refuse(rp, 422, "%s", "Cannot schedule restart in the past");
		r->scheduled = true;
		return true;
	}
	if (jp_key_is(key, keylen, "role"))
	{
		if (!jp_get_string(P, r->role, sizeof(r->role)) ||
			(strcmp(r->role, "master") != 0 && strcmp(r->role, "primary") != 0 &&
			 strcmp(r->role, "replica") != 0))
			return refuse(rp, 400, "%s", "PostgreSQL role should be either primary or replica");
		if (strcmp(r->role, "primary") == 0)
			strcpy(r->role, "master");
		return true;
	}
	if (jp_key_is(key, keylen, "postgres_version"))
	{
		if (!jp_get_string(P, r->postgres_version_text, sizeof(r->postgres_version_text)) ||
			(r->postgres_version = ha_pg_version_to_int(r->postgres_version_text)) < 0)
			return refuse(rp, 400, "Invalid PostgreSQL version: %s", r->postgres_version_text);
		return true;
	}
	if (jp_key_is(key, keylen, "timeout"))
		return parse_timeout(P, rp);
	if (jp_key_is(key, keylen, "restart_pending"))
	{
		if (!jp_get_bool(P, &r->restart_pending))
			return refuse(rp, 400, "%s", "restart_pending should be true or false");
		return true;
	}
	if (keylen >= JSON_KEY_CAP)
		return refuse(rp, 400, "%s", "Unknown filter for the scheduled restart");
	{
		char		name[JSON_KEY_CAP];

		memcpy(name, key, keylen);
		name[keylen] = '\0';
		return refuse(rp, 400, "Unknown filter for the scheduled restart: %s", name);
	}
}

int
ha_restart_parse(const char *body, size_t len, int64_t now_us,
				 HaRestartRequest *r, char *err, size_t errlen)
{
	RestartParse rp = {.r = r, .now_us = now_us, .status = 0, .err = err, .errlen = errlen};
	char		jerr[128];
	size_t		i;

	memset(r, 0, sizeof(*r));
	err[0] = '\0';
	for (i = 0; i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'); i++)
		;
	if (i == len)
		return 0;				/* no body: restart now, whatever the node */
	if (!jp_parse_document(body, len, restart_member, &rp, jerr, sizeof(jerr)))
	{
		if (rp.status == 0)
		{
			rp.status = 400;
			snprintf(err, errlen, "the body is not a JSON object: %s", jerr);
		}
		memset(r, 0, sizeof(*r));
		return rp.status;
	}
	return 0;
}

const char *
ha_restart_mismatch(const HaRestartRequest *r, const HaRestartFacts *f)
{
	if (r->role[0] && strcmp(r->role, f->is_primary ? "master" : "replica") != 0)
		return "host role mismatch";
	if (r->postgres_version > 0 && r->postgres_version <= f->server_version_num)
		return "postgres version mismatch";
	if (r->restart_pending && !f->pending_restart)
		return "pending restart flag is not set";
	return NULL;
}
