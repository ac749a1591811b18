/*-------------------------------------------------------------------------
 *
 * fuzz_member_json.c
 *	  libFuzzer target for the member body format (common/member_json.c)
 *	  and the JSON reader and writer it is made of.
 *
 * Any bytes may sit in a member znode.  Whatever member_from_json accepts
 * must survive a round trip: written back with member_to_json (which must
 * fit a buffer the size of the largest possible body), parsed again, it
 * gives the same member and the same bytes.  The writer is also run on the
 * raw input with small buffers, each exactly its capacity, so a write past
 * cap is an ASan report.  The lookups by path (json_find_*, what the
 * supervisor and the router read replies with) run on a copy of the input
 * of exactly its size, and on the written body they must find what the
 * member holds.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_reader.h"
#include "json_writer.h"
#include "member_json.h"
#include "fuzz_check.h"

/* Larger than any body member_to_json can write (6 bytes per escaped byte). */
#define OUT_CAP		16384

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
member_equal(const HaMember *a, const HaMember *b)
{
	return strcmp(a->name, b->name) == 0 &&
		strcmp(a->conn_url, b->conn_url) == 0 &&
		strcmp(a->api_url, b->api_url) == 0 &&
		strcmp(a->role, b->role) == 0 &&
		strcmp(a->state, b->state) == 0 &&
		a->timeline == b->timeline &&
		a->xlog_location == b->xlog_location &&
		a->replayed_location == b->replayed_location &&
		a->wal_oldest == b->wal_oldest &&
		a->system_id == b->system_id &&
		strcmp(a->node_id, b->node_id) == 0 &&
		a->ttl == b->ttl &&
		a->retry_timeout == b->retry_timeout &&
		a->synchronous_mode == b->synchronous_mode &&
		a->maximum_lag_on_failover == b->maximum_lag_on_failover &&
		a->tags.nofailover == b->tags.nofailover &&
		a->tags.noloadbalance == b->tags.noloadbalance &&
		a->tags.nosync == b->tags.nosync &&
		a->tags.clonefrom == b->tags.clonefrom;
}

/* The writer alone: raw input as a string, into an exactly-sized buffer. */
static void
exercise_writer(const uint8_t *data, size_t size)
{
	size_t		cap = size % 97;
	char	   *buf = malloc(cap ? cap : 1);
	char	   *str = malloc(size + 1);
	JsonBuf		jb;

	CHECK(buf != NULL && str != NULL);
	memcpy(str, data, size);
	str[size] = '\0';

	json_init(&jb, cap ? buf : NULL, cap);
	json_array_begin(&jb);
	json_string(&jb, str);
	json_key(&jb, str);
	json_uint(&jb, size);
	json_int(&jb, -(int64_t) size);
	json_bool(&jb, size & 1);
	json_null(&jb);
	json_array_end(&jb);
	if (cap == 0)
		CHECK(jb.overflow && jb.len == 0);
	else
	{
		CHECK(jb.len < cap);
		CHECK(buf[jb.len] == '\0');
	}
	free(buf);
	free(str);
}

/* Lookups by path on the raw input, copied so that a read past it is seen. */
static void
exercise_find(const uint8_t *data, size_t size)
{
	char	   *copy = malloc(size ? size : 1);
	uint64_t	u;
	bool		b;

	CHECK(copy != NULL);
	memcpy(copy, data, size);
	(void) json_find_uint(copy, size, "xlog.received_location", &u);
	(void) json_find_uint(copy, size, "leader_epoch", &u);
	(void) json_find_uint(copy, size, "pg_ha.leader_epoch", &u);
	(void) json_find_bool(copy, size, "primary", &b);
	(void) json_find_bool(copy, size, "tags.nofailover", &b);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out1[OUT_CAP];
	static char out2[OUT_CAP];
	HaMember	m1;
	HaMember	m2;
	char		err[128];
	JsonBuf		jb1;
	JsonBuf		jb2;

	uint64_t	u;
	bool		b;

	exercise_writer(data, size);
	exercise_find(data, size);

	memset(&m1, 0, sizeof(m1));
	memset(err, 'E', sizeof(err));
	if (!member_from_json((const char *) data, size, &m1, err, sizeof(err)))
	{
		CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		CHECK(err[0] != '\0');
		return 0;
	}
	/* every string field is terminated within its bounds */
	CHECK(memchr(m1.conn_url, '\0', sizeof(m1.conn_url)) != NULL);
	CHECK(memchr(m1.api_url, '\0', sizeof(m1.api_url)) != NULL);
	CHECK(memchr(m1.role, '\0', sizeof(m1.role)) != NULL);
	CHECK(memchr(m1.state, '\0', sizeof(m1.state)) != NULL);
	CHECK(memchr(m1.node_id, '\0', sizeof(m1.node_id)) != NULL);
	CHECK(m1.ttl >= 0 && m1.retry_timeout >= 0);

	json_init(&jb1, out1, sizeof(out1));
	member_to_json(&m1, &jb1);
	CHECK(!jb1.overflow);

	memset(&m2, 0, sizeof(m2));
	if (!member_from_json(out1, jb1.len, &m2, err, sizeof(err)))
	{
		fprintf(stderr, "re-parse failed: %s\n%s\n", err, out1);
		abort();
	}
	CHECK(member_equal(&m1, &m2));

	/* the lookups by path see what the writer wrote */
	CHECK(json_find_uint(out1, jb1.len, "xlog_location", &u) && u == m1.xlog_location);
	CHECK(json_find_uint(out1, jb1.len, "timeline", &u) && u == m1.timeline);
	CHECK(json_find_bool(out1, jb1.len, "tags.nosync", &b) && b == m1.tags.nosync);
	CHECK(!json_find_uint(out1, jb1.len, "system_id", &u));	/* a string */
	CHECK(!json_find_bool(out1, jb1.len, "tags.nosync.x", &b));

	json_init(&jb2, out2, sizeof(out2));
	member_to_json(&m2, &jb2);
	CHECK(!jb2.overflow);
	CHECK(jb1.len == jb2.len && memcmp(out1, out2, jb1.len) == 0);
	return 0;
}
