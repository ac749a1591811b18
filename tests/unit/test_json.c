/*-------------------------------------------------------------------------
 *
 * test_json.c
 *	  Unit tests for common/json_writer.c, member_json.c and
 *	  json_reader.c: the bounded writer (commas, escaping, overflow), the
 *	  member body format (exact output, round trip, Patroni-written bodies,
 *	  hostile input), and the lookups by path the supervisor and the router
 *	  read the agent's replies with.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "json_reader.h"
#include "json_writer.h"
#include "member_json.h"

/* ---------------------------------------------------------------- */
/* Writer */

static void
test_writer_structure(void **state)
{
	char		buf[256];
	JsonBuf		jb;

	(void) state;
	json_init(&jb, buf, sizeof(buf));
	assert_string_equal(buf, "");
	json_object_begin(&jb);
	json_key(&jb, "a");
	json_int(&jb, 1);
	json_key(&jb, "b");
	json_string(&jb, "x");
	json_key(&jb, "c");
	json_array_begin(&jb);
	json_int(&jb, 1);
	json_uint(&jb, 2);
	json_object_begin(&jb);
	json_object_end(&jb);
	json_array_begin(&jb);
	json_array_end(&jb);
	json_array_end(&jb);
	json_key(&jb, "d");
	json_null(&jb);
	json_key(&jb, "e");
	json_bool(&jb, true);
	json_key(&jb, "f");
	json_bool(&jb, false);
	json_key(&jb, "g");
	json_raw(&jb, "{\"r\":[]}");
	json_key(&jb, "h");
	json_string(&jb, NULL);
	json_object_end(&jb);
	assert_false(jb.overflow);
	assert_string_equal(buf,
						"{\"a\":1,\"b\":\"x\",\"c\":[1,2,{},[]],\"d\":null,"
						"\"e\":true,\"f\":false,\"g\":{\"r\":[]},\"h\":null}");
	assert_int_equal(jb.len, strlen(buf));

	/* values at the top level of an array of objects */
	json_init(&jb, buf, sizeof(buf));
	json_array_begin(&jb);
	json_object_begin(&jb);
	json_key(&jb, "k");
	json_array_begin(&jb);
	json_array_end(&jb);
	json_object_end(&jb);
	json_object_begin(&jb);
	json_object_end(&jb);
	json_string(&jb, "");
	json_array_end(&jb);
	assert_string_equal(buf, "[{\"k\":[]},{},\"\"]");
}

static void
test_writer_numbers(void **state)
{
	char		buf[128];
	JsonBuf		jb;

	(void) state;
	json_init(&jb, buf, sizeof(buf));
	json_array_begin(&jb);
	json_int(&jb, INT64_MIN);
	json_int(&jb, INT64_MAX);
	json_int(&jb, -1);
	json_int(&jb, 0);
	json_uint(&jb, UINT64_MAX);
	json_array_end(&jb);
	assert_string_equal(buf, "[-9223372036854775808,9223372036854775807,-1,0,"
						"18446744073709551615]");
}

static void
test_writer_escaping(void **state)
{
	char		buf[256];
	JsonBuf		jb;

	(void) state;
	json_init(&jb, buf, sizeof(buf));
	json_string(&jb, "a\"b\\c/d\b\f\n\r\t\x01\x1f\x7f \xc3\xa9");
	assert_string_equal(buf,
						"\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\\u0001\\u001f\x7f \xc3\xa9\"");

	/* keys are escaped too */
	json_init(&jb, buf, sizeof(buf));
	json_object_begin(&jb);
	json_key(&jb, "k\"\n");
	json_int(&jb, 1);
	json_object_end(&jb);
	assert_string_equal(buf, "{\"k\\\"\\n\":1}");
}

/* Writes a lot into a buffer of every small size; checks the canary. */
static void
test_writer_overflow(void **state)
{
	char		full[512];
	size_t		fulllen;
	size_t		cap;
	JsonBuf		jb;

	(void) state;
	json_init(&jb, full, sizeof(full));
	json_object_begin(&jb);
	json_key(&jb, "key");
	json_string(&jb, "value with \"quotes\" and \x01 control");
	json_key(&jb, "n");
	json_uint(&jb, UINT64_MAX);
	json_key(&jb, "arr");
	json_array_begin(&jb);
	json_bool(&jb, true);
	json_null(&jb);
	json_array_end(&jb);
	json_object_end(&jb);
	assert_false(jb.overflow);
	fulllen = jb.len;

	for (cap = 0; cap <= fulllen + 1; cap++)
	{
		char		buf[600];

		memset(buf, '#', sizeof(buf));
		json_init(&jb, buf, cap);
		json_object_begin(&jb);
		json_key(&jb, "key");
		json_string(&jb, "value with \"quotes\" and \x01 control");
		json_key(&jb, "n");
		json_uint(&jb, UINT64_MAX);
		json_key(&jb, "arr");
		json_array_begin(&jb);
		json_bool(&jb, true);
		json_null(&jb);
		json_array_end(&jb);
		json_object_end(&jb);

		/* nothing written at or past cap */
		assert_true(buf[cap] == '#');
		assert_true(buf[sizeof(buf) - 1] == '#');
		if (cap == 0)
		{
			assert_true(jb.overflow);
			assert_true(buf[0] == '#');
			continue;
		}
		assert_true(jb.len < cap);
		assert_int_equal(strlen(buf), jb.len);
		/* whatever was written is a prefix of the full output */
		assert_memory_equal(buf, full, jb.len);
		if (cap > fulllen)
		{
			assert_false(jb.overflow);
			assert_string_equal(buf, full);
		}
		else
			assert_true(jb.overflow);
	}

	/* NULL buffer */
	json_init(&jb, NULL, 0);
	json_string(&jb, "x");
	assert_true(jb.overflow);
	assert_int_equal(jb.len, 0);
}

/* ---------------------------------------------------------------- */
/* Member body */

static void
sample_member(HaMember *m)
{
	memset(m, 0, sizeof(*m));
	strcpy(m->name, "pg1");
	strcpy(m->conn_url, "postgres://10.0.0.1:5432/postgres");
	strcpy(m->api_url, "http://10.0.0.1:8008/patroni");
	strcpy(m->role, HA_ROLE_MASTER);
	strcpy(m->state, "running");
	m->timeline = 3;
	m->xlog_location = UINT64_C(50331800);
	m->replayed_location = 0;
	m->system_id = UINT64_C(7300000000000000001);	/* > 2^53 */
	strcpy(m->node_id, "6f1c0d1e");
	m->ttl = 30;
	m->retry_timeout = 10;
	m->synchronous_mode = true;
	m->maximum_lag_on_failover = UINT64_C(1048576);
	m->tags.nofailover = false;
	m->tags.noloadbalance = true;
	m->tags.nosync = false;
	m->tags.clonefrom = true;
}

static void
assert_member_equal(const HaMember *a, const HaMember *b)
{
	assert_string_equal(a->name, b->name);
	assert_string_equal(a->conn_url, b->conn_url);
	assert_string_equal(a->api_url, b->api_url);
	assert_string_equal(a->role, b->role);
	assert_string_equal(a->state, b->state);
	assert_int_equal(a->timeline, b->timeline);
	assert_int_equal(a->xlog_location, b->xlog_location);
	assert_int_equal(a->replayed_location, b->replayed_location);
	assert_int_equal(a->wal_oldest, b->wal_oldest);
	assert_int_equal(a->system_id, b->system_id);
	assert_string_equal(a->node_id, b->node_id);
	assert_int_equal(a->ttl, b->ttl);
	assert_int_equal(a->retry_timeout, b->retry_timeout);
	assert_int_equal(a->synchronous_mode, b->synchronous_mode);
	assert_int_equal(a->maximum_lag_on_failover, b->maximum_lag_on_failover);
	assert_int_equal(a->tags.nofailover, b->tags.nofailover);
	assert_int_equal(a->tags.noloadbalance, b->tags.noloadbalance);
	assert_int_equal(a->tags.nosync, b->tags.nosync);
	assert_int_equal(a->tags.clonefrom, b->tags.clonefrom);
	assert_string_equal(a->scheduled_restart, b->scheduled_restart);
	assert_string_equal(a->scheduled_restart_version, b->scheduled_restart_version);
}

static bool
parse(const char *s, HaMember *m)
{
	char		err[128];
	bool		ok;

	memset(m, 0, sizeof(*m));
	err[0] = '\0';
	ok = member_from_json(s, strlen(s), m, err, sizeof(err));
	if (!ok)
		assert_true(err[0] != '\0');
	return ok;
}

static void
test_member_format(void **state)
{
	HaMember	m;
	char		buf[2048];
	JsonBuf		jb;

	(void) state;
	sample_member(&m);
	json_init(&jb, buf, sizeof(buf));
	member_to_json(&m, &jb);
	assert_false(jb.overflow);
	/* the name is the znode's name, not in the body */
	assert_string_equal(buf,
						"{\"conn_url\":\"postgres://10.0.0.1:5432/postgres\","
						"\"api_url\":\"http://10.0.0.1:8008/patroni\","
						"\"role\":\"master\",\"state\":\"running\","
						"\"timeline\":3,\"xlog_location\":50331800,"
						"\"replayed_location\":0,"
						"\"system_id\":\"7300000000000000001\","
						"\"node_id\":\"6f1c0d1e\",\"ttl\":30,\"retry_timeout\":10,"
						"\"synchronous_mode\":true,"
						"\"maximum_lag_on_failover\":1048576,\"supervised\":false,"
						"\"tags\":{\"nofailover\":false,\"noloadbalance\":true,"
						"\"nosync\":false,\"clonefrom\":true}}");

	/* a primary's oldest WAL, written when known; absent reads as 0 */
	m.wal_oldest = UINT64_C(167772160);
	json_init(&jb, buf, sizeof(buf));
	member_to_json(&m, &jb);
	assert_non_null(strstr(buf, "\"supervised\":false,\"wal_oldest\":167772160,\"tags\""));
	assert_true(member_from_json("{\"role\":\"replica\"}", 18, &m, buf, sizeof(buf)));
	assert_int_equal(m.wal_oldest, 0);
}

static void
test_member_round_trip(void **state)
{
	HaMember	m;
	HaMember	back;
	char		buf[8192];
	char		err[128];
	JsonBuf		jb;

	(void) state;
	sample_member(&m);
	/* strings at full length, with bytes that must be escaped */
	memset(m.conn_url, '\x01', sizeof(m.conn_url) - 1);
	m.conn_url[sizeof(m.conn_url) - 1] = '\0';
	memset(m.api_url, '"', sizeof(m.api_url) - 1);
	m.api_url[sizeof(m.api_url) - 1] = '\0';
	strcpy(m.role, "replica\\\n\t\x7f\xc3\xa9");
	memset(m.state, 'z', sizeof(m.state) - 1);
	m.state[sizeof(m.state) - 1] = '\0';
	memset(m.node_id, '\\', sizeof(m.node_id) - 1);
	m.node_id[sizeof(m.node_id) - 1] = '\0';
	m.timeline = UINT32_MAX;
	m.xlog_location = UINT64_MAX;
	m.replayed_location = UINT64_MAX - 1;
	m.wal_oldest = UINT64_MAX - 2;
	m.system_id = UINT64_MAX;
	m.ttl = INT32_MAX;
	m.retry_timeout = 0;
	m.maximum_lag_on_failover = UINT64_MAX;
	m.tags.nofailover = true;
	m.tags.nosync = true;
	strcpy(m.scheduled_restart, "2026-12-02T10:00:00+00:00");
	strcpy(m.scheduled_restart_version, "15.9");

	json_init(&jb, buf, sizeof(buf));
	member_to_json(&m, &jb);
	assert_false(jb.overflow);

	memset(&back, 0, sizeof(back));
	strcpy(back.name, m.name);
	assert_true(member_from_json(buf, jb.len, &back, err, sizeof(err)));
	assert_member_equal(&m, &back);

	/* and the all-zero member */
	memset(&m, 0, sizeof(m));
	json_init(&jb, buf, sizeof(buf));
	member_to_json(&m, &jb);
	memset(&back, 0x55, sizeof(back));
	back.name[0] = '\0';
	assert_true(member_from_json(buf, jb.len, &back, err, sizeof(err)));
	assert_member_equal(&m, &back);

	/* too small a buffer: overflow, not a write past cap */
	sample_member(&m);
	json_init(&jb, buf, 100);
	buf[100] = '#';
	member_to_json(&m, &jb);
	assert_true(jb.overflow);
	assert_true(buf[100] == '#');
}

/* A body as Patroni 3.0 writes it, with its own tags and extra keys. */
static void
test_member_patroni_body(void **state)
{
	HaMember	m;

	(void) state;
	assert_true(parse("{\"conn_url\": \"postgres://10.0.0.2:5432/postgres\", "
					  "\"api_url\": \"http://10.0.0.2:8008/patroni\", "
					  "\"state\": \"running\", \"role\": \"replica\", "
					  "\"version\": \"3.0.2\", \"xlog_location\": 67108864, "
					  "\"timeline\": 2, \"pending_restart\": true, "
					  "\"scheduled_restart\": {\"schedule\": \"2026-12-02T10:00:00+00:00\", \"x\": 1}, "
					  "\"tags\": {\"nofailover\": true, \"region\": \"eu\", "
					  "\"weight\": -1.5e3, \"list\": [1, {\"a\": null}, []]}, "
					  "\"extra\": {\"deep\": [[[\"x\"]]]}}", &m));
	assert_string_equal(m.conn_url, "postgres://10.0.0.2:5432/postgres");
	assert_string_equal(m.api_url, "http://10.0.0.2:8008/patroni");
	assert_string_equal(m.state, "running");
	assert_string_equal(m.role, "replica");
	assert_int_equal(m.xlog_location, 67108864);
	assert_int_equal(m.timeline, 2);
	assert_true(m.tags.nofailover);
	assert_false(m.tags.noloadbalance);
	assert_string_equal(m.scheduled_restart, "2026-12-02T10:00:00+00:00");
	assert_string_equal(m.scheduled_restart_version, "");
	/* absent keys keep the caller's defaults */
	assert_int_equal(m.ttl, 0);
	assert_int_equal(m.system_id, 0);
	assert_string_equal(m.node_id, "");
}

static void
test_member_lenient_parts(void **state)
{
	HaMember	m;
	char		err[64];

	(void) state;
	/* whitespace everywhere, escapes, surrogate pairs */
	assert_true(parse(" \t\r\n{ \"role\" : \"a\\/b\\u00e9\\ud83d\\ude00\\\"\" ,"
					  "\"state\":\"\\b\\f\\n\\r\\t\\u0001\\\\\" } \n", &m));
	assert_string_equal(m.role, "a/b\xc3\xa9\xf0\x9f\x98\x80\"");
	assert_string_equal(m.state, "\b\f\n\r\t\x01\\");
	/* raw UTF-8 passes */
	assert_true(parse("{\"state\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}", &m));
	assert_string_equal(m.state, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	/* system_id as a string or a number */
	assert_true(parse("{\"system_id\":\"18446744073709551615\"}", &m));
	assert_int_equal(m.system_id, UINT64_MAX);
	assert_true(parse("{\"system_id\":7300000000000000001}", &m));
	assert_int_equal(m.system_id, UINT64_C(7300000000000000001));
	/* null leaves the default */
	memset(&m, 0, sizeof(m));
	m.ttl = 7;
	strcpy(m.role, "keep");
	{
		const char *js = "{\"ttl\":null,\"role\":null,\"tags\":null,\"system_id\":null}";

		assert_true(member_from_json(js, strlen(js), &m, err, sizeof(err)));
	}
	assert_int_equal(m.ttl, 7);
	assert_string_equal(m.role, "keep");
	/* a repeated key: the last wins, with no leftovers of the first */
	assert_true(parse("{\"role\":\"replica\",\"role\":\"x\"}", &m));
	assert_string_equal(m.role, "x");
	assert_memory_equal(m.role, "x\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", HA_ROLE_LEN);
	/* limits that fit */
	assert_true(parse("{\"ttl\":2147483647,\"timeline\":4294967295,"
					  "\"xlog_location\":18446744073709551615,\"retry_timeout\":0}", &m));
	assert_int_equal(m.ttl, 2147483647);
	assert_int_equal(m.timeline, UINT32_MAX);
	assert_int_equal(m.xlog_location, UINT64_MAX);
	/* string of exactly HA_ROLE_LEN - 1 bytes, one made by escapes */
	assert_true(parse("{\"role\":\"123456789012345\"}", &m));
	assert_true(parse("{\"role\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9x\"}", &m));
	assert_int_equal(strlen(m.role), 15);
	/* keys we do not know may be long, odd or hold NUL */
	assert_true(parse("{\"a_very_long_key_name_that_is_not_ours_at_all_really\":1,"
					  "\"\\u0000\":\"\\u0000\",\"\":[],\"role\":\"r\"}", &m));
	assert_string_equal(m.role, "r");
	assert_true(parse("{}", &m));
	/* unknown values of every type and number shape */
	assert_true(parse("{\"a\":-0,\"b\":0.5,\"c\":1E+2,\"d\":-1e-2,\"e\":true,"
					  "\"f\":false,\"g\":null,\"h\":\"s\",\"i\":[],\"j\":{}}", &m));
	/* err may be NULL */
	assert_false(member_from_json("x", 1, &m, NULL, 0));
}

typedef struct Bad
{
	const char *json;
	const char *why;
} Bad;

static void
test_member_hostile(void **state)
{
	static const Bad bad[] = {
		{"", "empty"},
		{"   ", "blank"},
		{"[]", "not an object"},
		{"\"s\"", "not an object"},
		{"null", "not an object"},
		{"{", "truncated"},
		{"{\"role\"", "truncated"},
		{"{\"role\":", "truncated"},
		{"{\"role\":\"x", "truncated"},
		{"{\"role\":\"x\"", "truncated"},
		{"{\"role\":\"x\",", "truncated"},
		{"{\"ttl\":1", "truncated"},
		{"{} x", "trailing garbage"},
		{"{}{}", "trailing garbage"},
		{"{},", "trailing garbage"},
		{"{,}", "syntax"},
		{"{\"a\":1,}", "trailing comma"},
		{"{\"a\" 1}", "missing colon"},
		{"{\"a\":1 \"b\":2}", "missing comma"},
		{"{'a':1}", "single quotes"},
		{"{a:1}", "bare key"},
		{"{\"a\":[1,]}", "trailing comma in array"},
		{"{\"a\":[1 2]}", "missing comma in array"},
		{"{\"a\":tru}", "bad literal"},
		{"{\"a\":truex}", "bad literal"},
		{"{\"a\":nul}", "bad literal"},
		{"{\"a\":True}", "bad literal"},
		{"{\"a\":undefined}", "bad literal"},
		{"{\"a\":-}", "bad number"},
		{"{\"a\":1.}", "bad number"},
		{"{\"a\":.5}", "bad number"},
		{"{\"a\":+1}", "bad number"},
		{"{\"a\":01}", "bad number"},
		{"{\"a\":1e}", "bad number"},
		{"{\"a\":0x10}", "bad number"},
		{"{\"a\":NaN}", "bad number"},
		/* strings */
		{"{\"a\":\"\x01\"}", "raw control character"},
		{"{\"a\":\"\n\"}", "raw newline"},
		{"{\"a\":\"\\x41\"}", "bad escape"},
		{"{\"a\":\"\\u12\"}", "short \\u"},
		{"{\"a\":\"\\u12g4\"}", "bad hex"},
		{"{\"a\":\"\\ud83d\"}", "lone high surrogate"},
		{"{\"a\":\"\\ud83dx\"}", "lone high surrogate"},
		{"{\"a\":\"\\ud83d\\u0041\"}", "bad pair"},
		{"{\"a\":\"\\ude00\"}", "lone low surrogate"},
		{"{\"a\":\"\xff\"}", "invalid UTF-8"},
		{"{\"a\":\"\xc0\xaf\"}", "overlong UTF-8"},
		{"{\"a\":\"\xe0\x80\xaf\"}", "overlong UTF-8"},
		{"{\"a\":\"\xed\xa0\x80\"}", "UTF-8 surrogate"},
		{"{\"a\":\"\xf4\x90\x80\x80\"}", "above U+10FFFF"},
		{"{\"a\":\"\xe2\x82\"}", "truncated UTF-8"},
		{"{\"a\":\"\x80\"}", "lone continuation byte"},
		/* known fields */
		{"{\"role\":\"1234567890123456\"}", "role too long"},
		{"{\"role\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}",
		"role too long after decoding"},
		{"{\"role\":\"a\\u0000b\"}", "NUL in a field"},
		{"{\"role\":1}", "role not a string"},
		{"{\"role\":[\"x\"]}", "role not a string"},
		{"{\"ttl\":-1}", "negative"},
		{"{\"ttl\":1.5}", "fraction"},
		{"{\"ttl\":1e3}", "exponent"},
		{"{\"ttl\":2147483648}", "int overflow"},
		{"{\"ttl\":\"30\"}", "string for a number"},
		{"{\"ttl\":true}", "bool for a number"},
		{"{\"ttl\":01}", "leading zero"},
		{"{\"timeline\":4294967296}", "uint32 overflow"},
		{"{\"xlog_location\":18446744073709551616}", "uint64 overflow"},
		{"{\"xlog_location\":99999999999999999999999}", "uint64 overflow"},
		{"{\"maximum_lag_on_failover\":-5}", "negative"},
		{"{\"system_id\":\"abc\"}", "bad system_id"},
		{"{\"system_id\":\"\"}", "empty system_id"},
		{"{\"system_id\":\"18446744073709551616\"}", "system_id overflow"},
		{"{\"system_id\":\"1 \"}", "system_id with a space"},
		{"{\"system_id\":\"123456789012345678901234567890\"}", "system_id too long"},
		{"{\"synchronous_mode\":1}", "number for a bool"},
		{"{\"synchronous_mode\":\"true\"}", "string for a bool"},
		{"{\"tags\":[]}", "tags not an object"},
		{"{\"tags\":true}", "tags not an object"},
		{"{\"tags\":{\"nofailover\":\"true\"}}", "tag not a bool"},
		{"{\"tags\":{\"nosync\":1}}", "tag not a bool"},
	};
	size_t		i;

	(void) state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		HaMember	m;
		char		err[128];

		memset(&m, 0, sizeof(m));
		memset(err, 0, sizeof(err));
		if (member_from_json(bad[i].json, strlen(bad[i].json), &m, err, sizeof(err)))
			print_error("accepted (%s): %s\n", bad[i].why, bad[i].json);
		assert_false(member_from_json(bad[i].json, strlen(bad[i].json), &m,
									  err, sizeof(err)));
		assert_true(err[0] != '\0');
		assert_true(memchr(err, '\0', sizeof(err)) != NULL);
	}
}

static void
test_member_binary(void **state)
{
	static const char nul_inside[] = "{\"role\":\"x\"}\0";
	static const char nul_ws[] = "{\0}";
	HaMember	m;
	char		err[8];

	(void) state;
	/* len counts the NUL: it is trailing garbage, not an end */
	assert_false(member_from_json(nul_inside, sizeof(nul_inside) - 1, &m, err, sizeof(err)));
	assert_false(member_from_json(nul_ws, sizeof(nul_ws) - 1, &m, err, sizeof(err)));
	/* a short error buffer is still terminated */
	assert_true(strlen(err) < sizeof(err));
	/* len shorter than the string: only len bytes are read */
	assert_false(member_from_json("{\"role\":\"x\"}", 5, &m, err, sizeof(err)));
	assert_true(member_from_json("{}GARBAGE", 2, &m, err, sizeof(err)));
	/* NULL data */
	assert_false(member_from_json(NULL, 0, &m, err, sizeof(err)));
}

/* Every proper prefix of a valid body fails; the whole succeeds. */
static void
test_member_truncations(void **state)
{
	HaMember	m;
	char		buf[2048];
	char		err[128];
	JsonBuf		jb;
	size_t		i;

	(void) state;
	sample_member(&m);
	json_init(&jb, buf, sizeof(buf));
	member_to_json(&m, &jb);
	for (i = 0; i < jb.len; i++)
	{
		HaMember	t;

		memset(&t, 0, sizeof(t));
		assert_false(member_from_json(buf, i, &t, err, sizeof(err)));
	}
	assert_true(member_from_json(buf, jb.len, &m, err, sizeof(err)));
}

static void
test_member_depth(void **state)
{
	char		buf[200000];
	HaMember	m;
	char		err[128];
	int			depth;

	(void) state;

	/*
	 * The member object is level 1; a value may add up to 7 more levels, the
	 * 8th more is refused.
	 */
	for (depth = 1; depth <= 12; depth++)
	{
		size_t		n = 0;
		int			i;
		bool		ok;

		n += (size_t) sprintf(buf + n, "{\"x\":");
		for (i = 0; i < depth - 1; i++)
			buf[n++] = '[';
		buf[n++] = '1';
		for (i = 0; i < depth - 1; i++)
			buf[n++] = ']';
		buf[n++] = '}';
		ok = member_from_json(buf, n, &m, err, sizeof(err));
		if (ok != (depth <= 8))
			print_error("depth %d: %d\n", depth, ok);
		assert_int_equal(ok, depth <= 8);
	}

	/* objects count the same way, also inside tags: 8 levels, then 9 */
	assert_true(parse("{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{}}}}}}}}", &m));
	assert_false(parse("{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{}}}}}}}}}", &m));
	assert_true(parse("{\"tags\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":[]}}}}}}}", &m));
	assert_false(parse("{\"tags\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":[[]]}}}}}}}", &m));

	/* very deep input is refused without deep recursion */
	memset(buf, '[', sizeof(buf));
	memcpy(buf, "{\"x\":", 5);
	assert_false(member_from_json(buf, sizeof(buf), &m, err, sizeof(err)));
	memset(buf, '{', sizeof(buf));
	assert_false(member_from_json(buf, sizeof(buf), &m, err, sizeof(err)));
}

/* ---------------------------------------------------------------- */
/* Lookups by path (json_find_*) */

static bool
find_uint(const char *doc, const char *path, uint64_t *out)
{
	return json_find_uint(doc, strlen(doc), path, out);
}

static bool
find_bool(const char *doc, const char *path, bool *out)
{
	return json_find_bool(doc, strlen(doc), path, out);
}

static void
test_find_paths(void **state)
{
	const char *doc =
		"{\"note\": \"received_location\", \"pg_ha\": {\"received_location\": 1, "
		"\"leader_epoch\": 9, \"zk\": {\"up\": true}}, \"list\": [{\"primary\": true}], "
		"\"xlog\" : { \"replayed_location\": 5 , \"received_location\" :\n 77 }, "
		"\"primary\": false, \"lag\": 0.5}";
	uint64_t	u = 0;
	bool		b = true;

	(void) state;
	assert_true(find_uint(doc, "xlog.received_location", &u));
	assert_int_equal(u, 77);
	assert_true(find_uint(doc, "pg_ha.received_location", &u));
	assert_int_equal(u, 1);
	assert_true(find_uint(doc, "pg_ha.leader_epoch", &u));
	assert_int_equal(u, 9);
	assert_true(find_bool(doc, "pg_ha.zk.up", &b));
	assert_true(b);
	/* top level only: the "primary" inside the array is not on the path */
	assert_true(find_bool(doc, "primary", &b));
	assert_false(b);
	/* absent, or on the path but not an object */
	assert_false(find_uint(doc, "leader_epoch", &u));
	assert_false(find_uint(doc, "received_location", &u));
	assert_false(find_uint(doc, "note.x", &u));
	assert_false(find_uint(doc, "xlog.received_location.x", &u));
	/* of another type */
	assert_false(find_uint(doc, "note", &u));
	assert_false(find_uint(doc, "primary", &u));
	assert_false(find_uint(doc, "lag", &u));
	assert_false(find_bool(doc, "xlog.received_location", &b));
	assert_false(find_uint(doc, "xlog", &u));
}

static void
test_find_bad_values(void **state)
{
	uint64_t	u = 42;
	bool		b = true;

	(void) state;
	assert_false(find_uint("{\"a\": \"1\"}", "a", &u));
	assert_false(find_uint("{\"a\": -1}", "a", &u));
	assert_false(find_uint("{\"a\": null}", "a", &u));
	assert_false(find_uint("{\"a\": 1.5}", "a", &u));
	assert_false(find_uint("{\"a\": 1e3}", "a", &u));
	assert_false(find_uint("{\"a\": 01}", "a", &u));
	assert_false(find_uint("{\"a\": 99999999999999999999999}", "a", &u));
	assert_true(find_uint("{\"a\": 18446744073709551615}", "a", &u));
	assert_true(u == UINT64_MAX);
	assert_false(find_bool("{\"a\": \"true\"}", "a", &b));
	assert_false(find_bool("{\"a\": 1}", "a", &b));
	assert_false(find_bool("{\"a\": nul}", "a", &b));
	/* the first member on the path counts, not a later duplicate */
	assert_false(find_uint("{\"a\": \"x\", \"a\": 3}", "a", &u));
	assert_true(find_uint("{\"a\": 3, \"a\": \"x\"}", "a", &u));
	assert_int_equal(u, 3);
	/* an out-of-range number elsewhere is skipped */
	assert_true(find_bool("{\"e\": 99999999999999999999999, \"p\": true}", "p", &b));
	assert_true(b);
}

static void
test_find_documents(void **state)
{
	const char *full = "{\"x\": {\"y\": 7}, \"z\": [1, 2]}";
	uint64_t	u = 0;
	bool		b;

	(void) state;
	/* not an object, empty, garbage before the member */
	assert_false(find_uint("", "x", &u));
	assert_false(json_find_uint(NULL, 0, "x", &u));
	assert_false(find_uint("[{\"x\": 1}]", "x", &u));
	assert_false(find_uint("\"x\": 1", "x", &u));
	assert_false(find_uint("{\"a\": tru, \"x\": 1}", "x", &u));
	assert_false(find_uint("{\"a\" 1, \"x\": 1}", "x", &u));
	/* cut short before the member: false; after it: what came before counts */
	for (size_t len = 0; len <= strlen("{\"x\": {\"y\": 7"); len++)
		assert_false(json_find_uint(full, len, "x.y", &u));
	assert_true(json_find_uint(full, strlen("{\"x\": {\"y\": 7}"), "x.y", &u));
	assert_int_equal(u, 7);
	u = 0;
	assert_true(json_find_uint(full, strlen("{\"x\": {\"y\": 7}, \"z\": [1,"), "x.y", &u));
	assert_int_equal(u, 7);
	/* a number or literal cut short at the end is not read as another one */
	assert_false(json_find_uint("{\"y\": 77}", 7, "y", &u));
	assert_false(json_find_uint("{\"y\": 77}", 8, "y", &u));
	assert_true(json_find_uint("{\"y\": 77}", 9, "y", &u));
	assert_int_equal(u, 77);
	assert_false(json_find_bool("{\"y\": true}", 10, "y", &b));
	assert_true(json_find_bool("{\"y\": true }", 11, "y", &b));
	/* absent from a complete document, and from one cut short */
	assert_false(find_bool(full, "b", &b));
	assert_false(json_find_bool(full, strlen(full) - 1, "b", &b));
	/* nesting deeper than the reader's limit is an error, not a crash */
	assert_false(find_uint("{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":1}}}}}}}}}",
						   "a.a.a.a.a.a.a.a.a", &u));
	assert_true(find_uint("{\"a\":{\"a\":{\"b\":1}}}", "a.a.b", &u));
	assert_int_equal(u, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writer_structure),
		cmocka_unit_test(test_writer_numbers),
		cmocka_unit_test(test_writer_escaping),
		cmocka_unit_test(test_writer_overflow),
		cmocka_unit_test(test_member_format),
		cmocka_unit_test(test_member_round_trip),
		cmocka_unit_test(test_member_patroni_body),
		cmocka_unit_test(test_member_lenient_parts),
		cmocka_unit_test(test_member_hostile),
		cmocka_unit_test(test_member_binary),
		cmocka_unit_test(test_member_truncations),
		cmocka_unit_test(test_member_depth),
		cmocka_unit_test(test_find_paths),
		cmocka_unit_test(test_find_bad_values),
		cmocka_unit_test(test_find_documents),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
