/*-------------------------------------------------------------------------
 *
 * fuzz_health.c
 *	  libFuzzer target for extension/health.c.
 *
 * The input is a node state (first bytes) and a "path\0query" pair.  Beyond
 * memory safety it checks the fencing rule the router depends on: no query
 * string makes /primary 200 on a node that is not the running leader, nor
 * /replica 200 on a node that is not a running, load-balanced replica.
 * The query-string reader runs with every small output size, each buffer
 * exactly that size, and /watch's timeout stays within its bound.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "fuzz_check.h"

#define STATE_BYTES 17

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	HaHealthInput in;
	char	   *text;
	const char *path;
	const char *query;
	size_t		tlen;
	size_t		plen;
	uint64_t	bytes;
	int			st;
	uint8_t		f;

	if (size < STATE_BYTES)
		return 0;
	memset(&in, 0, sizeof(in));
	f = data[0];
	in.pg_running = f & 1;
	in.in_recovery = (f >> 1) & 1;
	in.is_leader = (f >> 2) & 1;
	in.has_dcs_view = (f >> 3) & 1;
	in.is_sync_standby = (f >> 4) & 1;
	in.loop_alive = (f >> 5) & 1;
	in.tags.nofailover = (f >> 6) & 1;
	in.tags.noloadbalance = (f >> 7) & 1;
	memcpy(&in.leader_lsn, data + 1, 8);
	memcpy(&in.replayed_lsn, data + 9, 8);
	in.tags.nosync = in.leader_lsn & 1;
	in.tags.clonefrom = in.replayed_lsn & 1;

	/* "path\0query", NUL-terminated in an exactly-sized copy */
	tlen = size - STATE_BYTES;
	text = malloc(tlen + 2);
	CHECK(text != NULL);
	memcpy(text, data + STATE_BYTES, tlen);
	text[tlen] = '\0';
	text[tlen + 1] = '\0';
	path = text;
	plen = strlen(path);
	query = text + plen + 1;

	st = ha_health_status(&in, ha_route_for_path(path), path, query);
	CHECK(st == 200 || st == 503);
	(void) ha_parse_bytes(path, &bytes);
	(void) ha_parse_bytes(query, &bytes);

	st = ha_health_status(&in, HA_ROUTE_HEALTH, "/primary", query);
	if (st == 200)
		CHECK(in.is_leader && in.pg_running && !in.in_recovery);
	st = ha_health_status(&in, HA_ROUTE_HEALTH, "/", path);
	if (st == 200)
		CHECK(in.is_leader && in.pg_running && !in.in_recovery);
	st = ha_health_status(&in, HA_ROUTE_HEALTH, "/replica", query);
	if (st == 200)
		CHECK(in.pg_running && in.in_recovery && !in.tags.noloadbalance);
	st = ha_health_status(&in, HA_ROUTE_HEALTH, "/read-only", query);
	if (st == 200)
		CHECK(in.pg_running && (in.is_leader || !in.tags.noloadbalance));
	st = ha_health_status(&in, HA_ROUTE_LIVENESS, "/liveness", query);
	CHECK(st == (in.loop_alive ? 200 : 503));

	for (size_t cap = 1; cap <= 8; cap++)
	{
		char	   *out = malloc(cap);

		CHECK(out != NULL);
		if (ha_query_value(query, path, out, cap))
			CHECK(strlen(out) < cap);
		if (ha_query_value(query, "primary", out, cap))
			CHECK(strlen(out) < cap);
		free(out);
	}
	CHECK(ha_watch_timeout_secs(query, 30, 60) <= 60);

	free(text);
	return 0;
}
