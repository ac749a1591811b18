/*-------------------------------------------------------------------------
 *
 * dyn_config.c
 *	  The /config key (see dyn_config.h): rendered from a node's settings,
 *	  read (strictly: a bad value is refused with its reason) over them.
 *
 * IDENTIFICATION
 *	  common/dyn_config.c
 *
 *-------------------------------------------------------------------------
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dyn_config.h"
#include "json_reader.h"

void
dyn_config_defaults(HaDynConfig *c)
{
	memset(c, 0, sizeof(*c));
	c->ttl = HA_DEFAULT_TTL;
	c->loop_wait = HA_DEFAULT_LOOP_WAIT;
	c->retry_timeout = HA_DEFAULT_RETRY_TIMEOUT;
	c->maximum_lag_on_failover = HA_DEFAULT_MAXIMUM_LAG;
	c->primary_start_timeout = HA_DEFAULT_PRIMARY_START_TIMEOUT;
	c->use_slots = HA_DEFAULT_USE_SLOTS;
	c->member_slots_ttl = HA_DEFAULT_MEMBER_SLOTS_TTL;
}

void
dyn_config_render(const HaDynConfig *c, JsonBuf *jb)
{
	json_object_begin(jb);
	json_key(jb, "ttl");
	json_int(jb, c->ttl);
	json_key(jb, "loop_wait");
	json_int(jb, c->loop_wait);
	json_key(jb, "retry_timeout");
	json_int(jb, c->retry_timeout);
	json_key(jb, "maximum_lag_on_failover");
	json_uint(jb, c->maximum_lag_on_failover);
	json_key(jb, "synchronous_mode");
	json_bool(jb, c->synchronous_mode);
	json_key(jb, "synchronous_mode_strict");
	json_bool(jb, c->synchronous_mode_strict);
	json_key(jb, "primary_start_timeout");
	json_int(jb, c->primary_start_timeout);
	json_key(jb, "member_slots_ttl");
	json_int(jb, c->member_slots_ttl);
	if (c->pause)
	{
		json_key(jb, "pause");
		json_bool(jb, true);
	}
	if (c->nslots > 0)
	{
		json_key(jb, "slots");
		json_object_begin(jb);
		for (int i = 0; i < c->nslots; i++)
		{
			json_key(jb, c->slots[i]);
			json_object_begin(jb);
			json_key(jb, "type");
			json_string(jb, "physical");
			json_object_end(jb);
		}
		json_object_end(jb);
	}
	json_key(jb, "postgresql");
	json_object_begin(jb);
	json_key(jb, "parameters");
	json_object_begin(jb);
	for (int i = 0; i < c->nparams; i++)
	{
		json_key(jb, c->params[i].name);
		json_string(jb, c->params[i].value);
	}
	json_object_end(jb);
	json_key(jb, "use_slots");
	json_bool(jb, c->use_slots);
	json_object_end(jb);
	json_object_end(jb);
}

/*
 * Set by pg_ha itself (the agent's runtime file, the supervisor's
 * pg_ha.conf), or fixed by how a node is laid out: a cluster-wide value
 * would break replication or the agent.
 */
static const char *const managed_parameters[] = {
	"primary_conninfo", "primary_slot_name", "synchronous_standby_names",
	"recovery_target_timeline", "shared_preload_libraries", "port",
	"listen_addresses", "data_directory", "config_file", "hba_file",
	"ident_file", "include", "include_dir", "include_if_exists",
	"hot_standby", "unix_socket_directories", NULL
};

bool
dyn_config_managed_parameter(const char *name)
{
	if (strncmp(name, "pg_ha.", 6) == 0)
		return true;			/* set by the keys above, or node-local */
	for (int i = 0; managed_parameters[i]; i++)
		if (strcmp(name, managed_parameters[i]) == 0)
			return true;
	return false;
}

/* A postgres parameter name: [a-z_][a-z0-9_]* (or a dotted extension one). */
static bool
valid_parameter_name(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '.'))
			return false;
	return true;
}

typedef struct DynParse
{
	HaDynConfig *c;
	char		problem[160];	/* the first reason, with the key */
} DynParse;

static bool
dyn_problem(JsonParser *P, DynParse *d, const char *fmt, const char *key)
{
	if (d->problem[0] == '\0')
		snprintf(d->problem, sizeof(d->problem), fmt, key);
	return jp_error(P, "bad setting");
}

static bool
dyn_int(JsonParser *P, DynParse *d, const char *key, int min, int max, int *field)
{
	uint64_t	v;

	if (jp_take_null(P))
		return true;
	if (!jp_parse_uint(P, UINT64_MAX, &v))
	{
		P->error = NULL;		/* the setting's reason, not the parser's */
		return dyn_problem(P, d, "\"%s\" must be a whole number", key);
	}
	if (v < (uint64_t) min || v > (uint64_t) max)
	{
		char		fmt[96];

		snprintf(fmt, sizeof(fmt), "\"%%s\" must be between %d and %d", min, max);
		return dyn_problem(P, d, fmt, key);
	}
	*field = (int) v;
	return true;
}

static bool
dyn_bool(JsonParser *P, DynParse *d, const char *key, bool *field)
{
	if (jp_take_null(P))
		return true;
	if (!jp_get_bool(P, field))
	{
		P->error = NULL;
		return dyn_problem(P, d, "\"%s\" must be true or false", key);
	}
	return true;
}

/*
 * Seconds, as a whole number or a string with a unit (Patroni's
 * member_slots_ttl: "30min"); no more than INT_MAX seconds.
 */
static bool
dyn_duration(JsonParser *P, DynParse *d, const char *key, int *field)
{
	static const struct
	{
		const char *unit;
		int64_t		seconds;
	}			units[] = {{"", 1}, {"s", 1}, {"min", 60}, {"h", 3600}, {"d", 86400}};
	char		text[32];
	char	   *end;
	long long	v;

	if (jp_take_null(P))
		return true;
	if (P->p >= P->end || *P->p != '"')
		return dyn_int(P, d, key, 0, INT_MAX, field);
	if (!jp_get_string(P, text, sizeof(text)))
	{
		P->error = NULL;
		return dyn_problem(P, d, "\"%s\" must be seconds, or a string like \"30min\"", key);
	}
	if (text[0] < '0' || text[0] > '9')
		return dyn_problem(P, d, "\"%s\" must be seconds, or a string like \"30min\"", key);
	v = strtoll(text, &end, 10);
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].unit) == 0)
		{
			if (v > INT_MAX / units[i].seconds)
				return dyn_problem(P, d, "\"%s\" is too long", key);
			*field = (int) (v * units[i].seconds);
			return true;
		}
	return dyn_problem(P, d, "\"%s\" must be seconds, or a string like \"30min\" (units s, min, h, d)", key);
}

/* A parameter value: string, number (its text) or boolean (on/off). */
static bool
param_member(JsonParser *P, const char *key, size_t keylen, int depth, void *arg)
{
	DynParse   *d = (DynParse *) arg;
	HaDynConfig *c = d->c;
	HaDynParam	p;
	const unsigned char *start;
	bool		b;

	(void) depth;
	memset(&p, 0, sizeof(p));
	if (keylen == 0 || keylen >= sizeof(p.name))
		return dyn_problem(P, d, "a parameter name is empty or too long%s", "");
	memcpy(p.name, key, keylen);
	if (strlen(p.name) != keylen || !valid_parameter_name(p.name))	/* a NUL: fuzz_config */
		return dyn_problem(P, d, "\"%s\" is not a parameter name", p.name);
	if (dyn_config_managed_parameter(p.name))
		return dyn_problem(P, d, "\"%s\" is set by pg_ha itself, not in postgresql.parameters", p.name);
	if (jp_take_null(P))
		return true;			/* null: not set */
	if (P->p < P->end && *P->p == '"')
	{
		if (!jp_get_string(P, p.value, sizeof(p.value)))
		{
			P->error = NULL;
			return dyn_problem(P, d, "the value of \"%s\" is too long or not a valid string", p.name);
		}
	}
	else if (P->p < P->end && (*P->p == 't' || *P->p == 'f'))
	{
		if (!jp_get_bool(P, &b))
			return false;
		strcpy(p.value, b ? "on" : "off");
	}
	else
	{
		start = P->p;
		if (!jp_skip_value(P, depth) || (*start != '-' && (*start < '0' || *start > '9')))
		{
			P->error = NULL;
			return dyn_problem(P, d, "the value of \"%s\" must be a string, a number or a boolean", p.name);
		}
		if ((size_t) (P->p - start) >= sizeof(p.value))
			return dyn_problem(P, d, "the value of \"%s\" is too long", p.name);
		memcpy(p.value, start, (size_t) (P->p - start));
	}
	for (int i = 0; i < c->nparams; i++)
		if (strcmp(c->params[i].name, p.name) == 0)
		{
			c->params[i] = p;	/* a repeated key: the last one counts */
			return true;
		}
	if (c->nparams == HA_DYN_MAX_PARAMS)
		return dyn_problem(P, d, "more than 64 parameters%s", "");
	c->params[c->nparams++] = p;
	return true;
}

/* A permanent slot's name: [a-z0-9_], 1 to 63 bytes (what postgres allows). */
static bool
valid_slot_name(const char *s, size_t len)
{
	if (len == 0 || len >= SLOT_NAME_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/* One permanent slot's attributes: only "type" is read. */
typedef struct SlotParse
{
	DynParse   *d;
	const char *name;
	bool		logical;
} SlotParse;

static bool
slot_attr(JsonParser *P, const char *key, size_t keylen, int depth, void *arg)
{
	SlotParse  *sp = (SlotParse *) arg;
	char		type[16];

	if (jp_key_is(key, keylen, "database") || jp_key_is(key, keylen, "plugin"))
		sp->logical = true;		/* Patroni's logical slot, whatever its type */
	if (!jp_key_is(key, keylen, "type"))
		return jp_skip_value(P, depth);
	if (jp_take_null(P))
		return true;
	if (!jp_get_string(P, type, sizeof(type)))
	{
		P->error = NULL;
		return dyn_problem(P, sp->d, "the type of slot \"%s\" must be \"physical\"", sp->name);
	}
	if (strcmp(type, "logical") == 0)
		sp->logical = true;
	else if (strcmp(type, "physical") != 0)
		return dyn_problem(P, sp->d, "the type of slot \"%s\" must be \"physical\"", sp->name);
	return true;
}

/* "slots": {"name": {"type": "physical"}, ...} */
static bool
slot_member(JsonParser *P, const char *key, size_t keylen, int depth, void *arg)
{
	DynParse   *d = (DynParse *) arg;
	HaDynConfig *c = d->c;
	char		name[SLOT_NAME_LEN];
	SlotParse	sp;
	int			i;

	if (!valid_slot_name(key, keylen))
		return dyn_problem(P, d, "a permanent slot name must be 1 to 63 characters of [a-z0-9_]%s", "");
	memset(name, 0, sizeof(name));
	memcpy(name, key, keylen);
	for (i = 0; i < c->nslots; i++)
		if (strcmp(c->slots[i], name) == 0)
			break;
	if (jp_take_null(P))
	{
		/* null: not declared (a repeated key: the last one counts) */
		if (i < c->nslots)
		{
			memmove(c->slots[i], c->slots[i + 1], (size_t) (c->nslots - i - 1) * SLOT_NAME_LEN);
			c->nslots--;
			memset(c->slots[c->nslots], 0, SLOT_NAME_LEN);	/* equal sets: equal bytes */
		}
		return true;
	}
	if (P->p >= P->end || *P->p != '{')
		return dyn_problem(P, d, "slot \"%s\" must be an object like {\"type\": \"physical\"}", name);
	sp.d = d;
	sp.name = name;
	sp.logical = false;
	if (!jp_parse_object(P, depth + 1, slot_attr, &sp))
		return false;
	if (sp.logical)
		return dyn_problem(P, d, "slot \"%s\" is logical: pg_ha keeps physical permanent slots only", name);
	if (i < c->nslots)
		return true;
	if (c->nslots == HA_DYN_MAX_SLOTS)
		return dyn_problem(P, d, "more than 32 permanent slots%s", "");
	memcpy(c->slots[c->nslots++], name, sizeof(name));	/* zero-filled: equal sets, equal bytes */
	return true;
}

static bool
postgresql_member(JsonParser *P, const char *key, size_t keylen, int depth, void *arg)
{
	DynParse   *d = (DynParse *) arg;

	if (jp_key_is(key, keylen, "use_slots"))
		return dyn_bool(P, d, "postgresql.use_slots", &d->c->use_slots);
	if (!jp_key_is(key, keylen, "parameters"))
		return jp_skip_value(P, depth);
	if (jp_take_null(P))
		return true;
	if (P->p >= P->end || *P->p != '{')
		return dyn_problem(P, d, "\"%s\" must be an object", "postgresql.parameters");
	/* the key holds the whole set: nothing of an earlier one stays behind */
	d->c->nparams = 0;
	memset(d->c->params, 0, sizeof(d->c->params));
	return jp_parse_object(P, depth + 1, param_member, d);
}

static bool
config_member(JsonParser *P, const char *key, size_t keylen, int depth, void *arg)
{
	DynParse   *d = (DynParse *) arg;
	HaDynConfig *c = d->c;
	int			lag;

	if (jp_key_is(key, keylen, "ttl"))
		return dyn_int(P, d, "ttl", 2, 3600, &c->ttl);
	if (jp_key_is(key, keylen, "loop_wait"))
		return dyn_int(P, d, "loop_wait", 1, 60, &c->loop_wait);
	if (jp_key_is(key, keylen, "retry_timeout"))
		return dyn_int(P, d, "retry_timeout", 1, 3600, &c->retry_timeout);
	if (jp_key_is(key, keylen, "primary_start_timeout"))
		return dyn_int(P, d, "primary_start_timeout", 0, 3600, &c->primary_start_timeout);
	if (jp_key_is(key, keylen, "member_slots_ttl"))
		return dyn_duration(P, d, "member_slots_ttl", &c->member_slots_ttl);
	if (jp_key_is(key, keylen, "maximum_lag_on_failover"))
	{
		lag = (int) (c->maximum_lag_on_failover > INT_MAX ? INT_MAX : c->maximum_lag_on_failover);
		if (!dyn_int(P, d, "maximum_lag_on_failover", 0, INT_MAX, &lag))
			return false;
		c->maximum_lag_on_failover = (uint64_t) lag;
		return true;
	}
	if (jp_key_is(key, keylen, "synchronous_mode"))
		return dyn_bool(P, d, "synchronous_mode", &c->synchronous_mode);
	if (jp_key_is(key, keylen, "synchronous_mode_strict"))
		return dyn_bool(P, d, "synchronous_mode_strict", &c->synchronous_mode_strict);
	if (jp_key_is(key, keylen, "pause"))
		return dyn_bool(P, d, "pause", &c->pause);
	if (jp_key_is(key, keylen, "slots"))
	{
		if (jp_take_null(P))
		{
			c->nslots = 0;
			memset(c->slots, 0, sizeof(c->slots));
			return true;
		}
		if (P->p >= P->end || *P->p != '{')
			return dyn_problem(P, d, "\"%s\" must be an object", "slots");
		c->nslots = 0;			/* the key holds the whole set */
		memset(c->slots, 0, sizeof(c->slots));
		return jp_parse_object(P, depth + 1, slot_member, d);
	}
	if (jp_key_is(key, keylen, "postgresql"))
	{
		if (jp_take_null(P))
			return true;
		if (P->p >= P->end || *P->p != '{')
			return dyn_problem(P, d, "\"%s\" must be an object", "postgresql");
		return jp_parse_object(P, depth + 1, postgresql_member, d);
	}
	return jp_skip_value(P, depth);
}

bool
dyn_config_parse(const char *data, size_t len, HaDynConfig *c, char *err,
				 size_t errlen)
{
	HaDynConfig work = *c;		/* c changes only if all is well */
	DynParse	d;
	char		jerr[96];

	d.c = &work;
	d.problem[0] = '\0';
	if (!jp_parse_document(data, len, config_member, &d, jerr, sizeof(jerr)))
	{
		snprintf(err, errlen, "%s", d.problem[0] ? d.problem : jerr);
		return false;
	}
	if (work.loop_wait >= work.ttl)
	{
		snprintf(err, errlen, "loop_wait (%d) must be less than ttl (%d)",
				 work.loop_wait, work.ttl);
		return false;
	}
	if (work.retry_timeout >= work.ttl)
	{
		snprintf(err, errlen, "retry_timeout (%d) must be less than ttl (%d)",
				 work.retry_timeout, work.ttl);
		return false;
	}
	*c = work;
	return true;
}
