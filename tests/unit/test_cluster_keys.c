/*-------------------------------------------------------------------------
 *
 * test_cluster_keys.c
 *	  Unit tests for common/cluster_keys.c and common/iso_time.c: the
 *	  /status, /sync, /failover and /history keys in Patroni's formats, the
 *	  timeline history file, the history merge rule, ISO 8601 times.
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

#include "cluster_keys.h"

#define RENDER(call) \
	do { json_init(&jb, buf, sizeof(buf)); call; assert_false(jb.overflow); } while (0)

static char buf[8192];
static JsonBuf jb;

static void
test_status(void **state)
{
	HaStatusKey k,
				r;
	const char *s;

	(void) state;
	memset(&k, 0, sizeof(k));
	k.optime = 50331904;
	k.timeline = 3;
	RENDER(status_key_render(&k, &jb));
	assert_string_equal(buf, "{\"optime\":50331904,\"slots\":{},\"timeline\":3}");
	assert_true(status_key_parse(buf, strlen(buf), &r));
	assert_int_equal(r.optime, 50331904);
	assert_int_equal(r.timeline, 3);
	assert_int_equal(r.nslots, 0);
	/* the leader's permanent slots, and back */
	k.nslots = 2;
	strcpy(k.slots[0].name, "backup1");
	k.slots[0].lsn = 4096;
	strcpy(k.slots[1].name, "n_2");
	k.slots[1].lsn = 8192;
	RENDER(status_key_render(&k, &jb));
	assert_string_equal(buf, "{\"optime\":50331904,\"slots\":{\"backup1\":4096,\"n_2\":8192},\"timeline\":3}");
	assert_true(status_key_parse(buf, strlen(buf), &r));
	assert_int_equal(r.nslots, 2);
	assert_string_equal(r.slots[1].name, "n_2");
	assert_int_equal(r.slots[1].lsn, 8192);
	/* Patroni's own: no timeline (unknown); legacy bare optime */
	s = "{\"optime\": 77, \"slots\": {\"a\": 1}}";
	assert_true(status_key_parse(s, strlen(s), &r));
	assert_int_equal(r.optime, 77);
	assert_int_equal(r.timeline, 0);
	assert_int_equal(r.nslots, 1);
	assert_true(status_key_parse("12345", 5, &r));
	assert_int_equal(r.optime, 12345);
	/* an entry that is not a slot's name and a number is skipped */
	s = "{\"optime\": 7, \"slots\": {\"Bad-Name\": 1, \"b\": \"x\", \"c\": 2, \"d\": -1}}";
	assert_true(status_key_parse(s, strlen(s), &r));
	assert_int_equal(r.nslots, 1);
	assert_string_equal(r.slots[0].name, "c");
	/* slots that are not an object: none, the optime stands */
	s = "{\"optime\": 7, \"slots\": [1]}";
	assert_true(status_key_parse(s, strlen(s), &r));
	assert_int_equal(r.optime, 7);
	assert_int_equal(r.nslots, 0);
	/* refused */
	assert_false(status_key_parse(NULL, 0, &r));
	assert_false(status_key_parse("", 0, &r));
	/* pg_ha 1.0's text, for an upgrade */
	assert_true(status_key_parse("3 1234", 6, &r));
	assert_int_equal(r.optime, 1234);
	assert_int_equal(r.timeline, 3);
	assert_false(status_key_parse("3 1234 5", 8, &r));
	assert_false(status_key_parse("3  1234", 7, &r));
	assert_false(status_key_parse("x 1234", 6, &r));
	assert_false(status_key_parse("4294967296 1", 12, &r));
	assert_false(status_key_parse("{\"slots\": {}}", 13, &r));
	assert_false(status_key_parse("{\"optime\": -1}", 14, &r));
	assert_false(status_key_parse("{\"optime\": 1", 12, &r));
	assert_false(status_key_parse("{\"optime\": 1}x", 14, &r));
	assert_false(status_key_parse("99999999999999999999999", 23, &r));
	/* a timeline out of range is unknown, not wrapped */
	assert_true(status_key_parse("{\"optime\":1,\"timeline\":4294967296}", 34, &r));
	assert_int_equal(r.timeline, 0);
}

static void
test_sync(void **state)
{
	HaSyncKey	k = {"node1", "node2", true};
	HaSyncKey	r;

	(void) state;
	/* confirmed: Patroni's sync_standby (patronictl shows "Sync Standby") */
	RENDER(sync_key_render(&k, &jb));
	assert_string_equal(buf, "{\"leader\":\"node1\",\"sync_standby\":\"node2\"}");
	assert_true(sync_key_parse(buf, strlen(buf), &r));
	assert_string_equal(r.leader, "node1");
	assert_string_equal(r.standby, "node2");
	assert_true(r.confirmed);

	/* named, not caught up yet: not promotable, so not Patroni's sync_standby */
	k.confirmed = false;
	RENDER(sync_key_render(&k, &jb));
	assert_string_equal(buf, "{\"leader\":\"node1\",\"sync_standby\":null,\"named\":\"node2\"}");
	assert_true(sync_key_parse(buf, strlen(buf), &r));
	assert_string_equal(r.standby, "node2");
	assert_false(r.confirmed);

	/* none */
	k.standby[0] = '\0';
	RENDER(sync_key_render(&k, &jb));
	assert_string_equal(buf, "{\"leader\":\"node1\",\"sync_standby\":null}");
	assert_true(sync_key_parse(buf, strlen(buf), &r));
	assert_string_equal(r.leader, "node1");
	assert_string_equal(r.standby, "");
	assert_false(r.confirmed);

	/* Patroni's comma list: the first */
	assert_true(sync_key_parse("{\"leader\":\"a\",\"sync_standby\":\"b, c\"}", 36, &r));
	assert_string_equal(r.standby, "b");
	assert_true(r.confirmed);

	/* pg_ha 1.0's text, for an upgrade */
	assert_true(sync_key_parse("node1 node2 1", 13, &r));
	assert_string_equal(r.leader, "node1");
	assert_string_equal(r.standby, "node2");
	assert_true(r.confirmed);
	assert_true(sync_key_parse("node1 node2 0", 13, &r));
	assert_false(r.confirmed);
	assert_true(sync_key_parse("node1 - 0", 9, &r));
	assert_string_equal(r.standby, "");
	assert_false(r.confirmed);

	/* refused: all empty */
	assert_false(sync_key_parse("node1 node2 2", 13, &r));
	assert_string_equal(r.leader, "");
	assert_false(sync_key_parse("node1 node2", 11, &r));
	assert_false(sync_key_parse("node1 node2 1 ", 14, &r));
	assert_false(sync_key_parse("{\"leader\":1}", 12, &r));
	assert_false(sync_key_parse("{\"leader\":\"a\",\"sync_standby\":[\"b\"]}", 34, &r));
	assert_string_equal(r.leader, "");
	assert_false(sync_key_parse(NULL, 0, &r));
}

static void
test_failover(void **state)
{
	HaFailoverKey k;
	HaFailoverKey r;

	(void) state;
	memset(&k, 0, sizeof(k));
	strcpy(k.leader, "node1");
	strcpy(k.member, "node2");
	RENDER(failover_key_render(&k, &jb));
	assert_string_equal(buf, "{\"leader\":\"node1\",\"member\":\"node2\"}");
	assert_true(failover_key_parse(buf, strlen(buf), &r));
	assert_string_equal(r.leader, "node1");
	assert_string_equal(r.member, "node2");
	assert_string_equal(r.scheduled_at, "");

	strcpy(k.scheduled_at, "2026-12-02T10:00:00+00:00");
	RENDER(failover_key_render(&k, &jb));
	assert_true(failover_key_parse(buf, strlen(buf), &r));
	assert_string_equal(r.scheduled_at, "2026-12-02T10:00:00+00:00");

	/* a failover: no leader */
	assert_true(failover_key_parse("{\"member\": \"node3\"}", 19, &r));
	assert_string_equal(r.leader, "");
	assert_string_equal(r.member, "node3");
	assert_false(r.force);
	/* forced (pg_ha's extra field) */
	memset(&k, 0, sizeof(k));
	strcpy(k.member, "node3");
	k.force = true;
	RENDER(failover_key_render(&k, &jb));
	assert_string_equal(buf, "{\"member\":\"node3\",\"force\":true}");
	assert_true(failover_key_parse(buf, strlen(buf), &r));
	assert_true(r.force);
	assert_true(failover_key_parse("{\"member\": \"n\", \"force\": 1}", 27, &r));
	assert_false(r.force);
	/* pg_ha 1.0's text */
	assert_true(failover_key_parse("node1 node2", 11, &r));
	assert_string_equal(r.leader, "node1");
	assert_string_equal(r.member, "node2");
	/* Patroni's legacy text */
	assert_true(failover_key_parse("node1:node2", 11, &r));
	assert_string_equal(r.leader, "node1");
	assert_string_equal(r.member, "node2");
	assert_true(failover_key_parse(":node2", 6, &r));
	assert_string_equal(r.leader, "");
	assert_string_equal(r.member, "node2");

	/* refused */
	assert_false(failover_key_parse("{}", 2, &r));
	assert_false(failover_key_parse("null", 4, &r));
	assert_false(failover_key_parse("12", 2, &r));
	assert_false(failover_key_parse("\"a:b\"", 5, &r));
	assert_false(failover_key_parse("{\"member\": 3}", 13, &r));
	assert_false(failover_key_parse(":", 1, &r));
	assert_false(failover_key_parse("a\0b:c", 5, &r));
	/* legacy text names nodes only (found by fuzz_cluster_keys: a byte that is not UTF-8) */
	assert_false(failover_key_parse("n\xe6:n2", 6, &r));
	assert_false(failover_key_parse("a b:c", 5, &r));
	assert_string_equal(r.member, "");
}

static const char history_file[] =
"1\t0/3000148\tno recovery target specified\n"
"\n"
"# a comment\n"
"2\t0/5000000\tno recovery target specified\n";

static void
test_history_file(void **state)
{
	HaHistoryRow rows[4];
	char		longreason[400];

	(void) state;
	assert_int_equal(history_file_parse(history_file, strlen(history_file), rows, 4), 2);
	assert_int_equal(rows[0].timeline, 1);
	assert_int_equal(rows[0].lsn, 0x3000148);
	assert_string_equal(rows[0].reason, "no recovery target specified");
	assert_int_equal(rows[1].timeline, 2);
	assert_int_equal(rows[1].lsn, 0x5000000);
	assert_string_equal(rows[1].timestamp, "");
	/* only the newest max */
	assert_int_equal(history_file_parse(history_file, strlen(history_file), rows, 1), 1);
	assert_int_equal(rows[0].timeline, 2);
	/* high part of the LSN */
	assert_int_equal(history_file_parse("7\tA/B\tx", 7, rows, 4), 1);
	assert_int_equal(rows[0].lsn, ((uint64_t) 0xA << 32) | 0xB);
	/* malformed */
	assert_int_equal(history_file_parse("1 0/1 x\n", 8, rows, 4), -1);
	assert_int_equal(history_file_parse("x\t0/1\ty", 7, rows, 4), -1);
	assert_int_equal(history_file_parse("1\t01\ty", 6, rows, 4), -1);
	assert_int_equal(history_file_parse("1\t0/123456789\ty", 15, rows, 4), -1);
	assert_int_equal(history_file_parse("1\t/1\ty", 6, rows, 4), -1);
	assert_int_equal(history_file_parse("4294967296\t0/1\ty", 16, rows, 4), -1);
	/* a long reason is cut, not refused */
	memset(longreason, 'r', sizeof(longreason));
	memcpy(longreason, "1\t0/1\t", 6);
	assert_int_equal(history_file_parse(longreason, sizeof(longreason), rows, 4), 1);
	assert_int_equal(strlen(rows[0].reason), HA_HISTORY_REASON_LEN - 1);
	assert_int_equal(history_file_parse("", 0, rows, 4), 0);
}

static void
test_history_key(void **state)
{
	HaHistoryRow rows[4];
	const char *patroni = "[[1,50331976,\"no recovery target specified\",\"2026-12-02T09:10:11.5+01:00\",\"node2\"],"
	"[2, 83886080, \"no recovery target specified\"]]";
	const char *deep8 = "[[1,2,\"x\",[[[[[[1]]]]]]]]";
	const char *deep9 = "[[1,2,\"x\",[[[[[[[1]]]]]]]]]";
	char		err[64];

	(void) state;
	assert_int_equal(history_key_parse(patroni, strlen(patroni), rows, 4, err, sizeof(err)), 2);
	assert_int_equal(rows[0].timeline, 1);
	assert_int_equal(rows[0].lsn, 50331976);
	assert_string_equal(rows[0].timestamp, "2026-12-02T09:10:11.5+01:00");
	assert_string_equal(rows[0].new_leader, "node2");
	assert_string_equal(rows[1].timestamp, "");
	/* round trip */
	RENDER(history_key_render(rows, 2, &jb));
	assert_string_equal(buf, "[[1,50331976,\"no recovery target specified\",\"2026-12-02T09:10:11.5+01:00\",\"node2\"],"
						"[2,83886080,\"no recovery target specified\"]]");
	assert_int_equal(history_key_parse("[]", 2, rows, 4, err, sizeof(err)), 0);
	/* the newest max */
	assert_int_equal(history_key_parse(patroni, strlen(patroni), rows, 1, err, sizeof(err)), 1);
	assert_int_equal(rows[0].timeline, 2);
	/* malformed */
	assert_int_equal(history_key_parse("{}", 2, rows, 4, err, sizeof(err)), -1);
	assert_int_equal(history_key_parse("[1]", 3, rows, 4, err, sizeof(err)), -1);
	assert_int_equal(history_key_parse("[[1,2]]", 7, rows, 4, err, sizeof(err)), -1);
	assert_int_equal(history_key_parse("[[\"1\",2,\"x\"]]", 13, rows, 4, err, sizeof(err)), -1);
	assert_int_equal(history_key_parse("[[1,2,\"x\"]", 10, rows, 4, err, sizeof(err)), -1);
	assert_int_equal(history_key_parse("[[1,2,\"x\"]] x", 13, rows, 4, err, sizeof(err)), -1);
	assert_int_equal(history_key_parse("[[-1,2,\"x\"]]", 12, rows, 4, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "offset"));
	/* the reasons of the array reader (jp_parse_array), where they arise */
	assert_int_equal(history_key_parse("[1]", 3, rows, 4, err, sizeof(err)), -1);
	assert_string_equal(err, "expected a row (an array) at offset 1");
	assert_int_equal(history_key_parse("[[1,2,\"x\"]", 10, rows, 4, err, sizeof(err)), -1);
	assert_string_equal(err, "unterminated array at offset 10");
	assert_int_equal(history_key_parse("[[1 2]]", 7, rows, 4, err, sizeof(err)), -1);
	assert_string_equal(err, "expected ',' or ']' at offset 4");
	assert_int_equal(history_key_parse("[[1,2,3,4,5,6,7,8,9]]", 21, rows, 4, err, sizeof(err)), -1);
	assert_string_equal(err, "too many cells in a row at offset 18");
	/* 8 levels deep is the reader's limit: a cell of 6 nested arrays in a row */
	assert_int_equal(history_key_parse(deep8, strlen(deep8), rows, 4, err, sizeof(err)), 1);
	assert_int_equal(history_key_parse(deep9, strlen(deep9), rows, 4, err, sizeof(err)), -1);
	assert_string_equal(err, "nesting too deep at offset 16");
	/* a timestamp of another type is unknown, the row kept */
	assert_int_equal(history_key_parse("[[1,2,\"x\",3,{\"a\":[1]}]]", 23, rows, 4, err, sizeof(err)), 1);
	assert_string_equal(rows[0].timestamp, "");
}

static void
test_history_rules(void **state)
{
	HaHistoryRow file[2];
	HaHistoryRow key[2];
	HaHistoryRow out[HA_HISTORY_MAX];
	int			n;

	(void) state;
	assert_int_equal(history_file_parse(history_file, strlen(history_file), file, 2), 2);

	/* timeline 1: only an old history to clear */
	assert_false(history_needs_update(NULL, 0, 1));
	assert_true(history_needs_update(file, 1, 1));
	assert_int_equal(history_merge(file, 2, NULL, 0, 1, "now", "n1", out), 0);

	/* first switch: the key is empty, the new leader stamps it */
	assert_true(history_needs_update(NULL, 0, 2));
	n = history_merge(file, 1, NULL, 0, 2, "T2", "node2", out);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].timestamp, "T2");
	assert_string_equal(out[0].new_leader, "node2");
	assert_false(history_needs_update(out, n, 2));

	/* next switch: the earlier stamp is kept, the new one added */
	memcpy(key, out, sizeof(HaHistoryRow));
	assert_true(history_needs_update(key, 1, 3));
	n = history_merge(file, 2, key, 1, 3, "T3", "node3", out);
	assert_int_equal(n, 2);
	assert_string_equal(out[0].timestamp, "T2");
	assert_string_equal(out[0].new_leader, "node2");
	assert_string_equal(out[1].timestamp, "T3");
	assert_string_equal(out[1].new_leader, "node3");
	assert_false(history_needs_update(out, n, 3));

	/* a key row for another switch point (a forked timeline) is not taken */
	key[0].lsn++;
	n = history_merge(file, 2, key, 1, 3, "T3", "node3", out);
	assert_string_equal(out[0].timestamp, "");
	assert_string_equal(out[1].new_leader, "node3");

	/* the last row incomplete (Patroni's 3-cell rows) is rewritten */
	memset(key[0].new_leader, 0, sizeof(key[0].new_leader));
	key[0].timeline = 1;
	assert_true(history_needs_update(key, 1, 2));
}

static void
test_iso_time(void **state)
{
	char		s[ISO_TIME_LEN];
	int64_t		us;

	(void) state;
	iso_time_format(0, s, sizeof(s));
	assert_string_equal(s, "1970-01-01T00:00:00.000000+00:00");
	iso_time_format(INT64_C(1796202611123456), s, sizeof(s));
	assert_string_equal(s, "2026-12-02T09:10:11.123456+00:00");
	assert_true(iso_time_parse(s, &us));
	assert_int_equal(us, INT64_C(1796202611123456));
	iso_time_format(INT64_C(951782400000000), s, sizeof(s));
	assert_string_equal(s, "2000-02-29T00:00:00.000000+00:00");
	iso_time_format(-1, s, sizeof(s));
	assert_string_equal(s, "1969-12-31T23:59:59.999999+00:00");

	/* zones and shapes patronictl and people write */
	assert_true(iso_time_parse("2026-12-02T10:10:11+01:00", &us));
	assert_int_equal(us, INT64_C(1796202611000000));
	assert_true(iso_time_parse("2026-12-02T04:10:11-0500", &us));
	assert_int_equal(us, INT64_C(1796202611000000));
	assert_true(iso_time_parse("2026-12-02 09:10:11Z", &us));
	assert_int_equal(us, INT64_C(1796202611000000));
	assert_true(iso_time_parse("2026-12-02T11:10+02", &us));
	assert_int_equal(us, INT64_C(1796202600000000));
	assert_true(iso_time_parse("2026-12-02T09:10:11.1234567Z", &us));
	assert_int_equal(us, INT64_C(1796202611123456));

	/* refused */
	assert_false(iso_time_parse("2026-12-02T09:10:11", &us));	/* no zone */
	assert_false(iso_time_parse("2026-02-29T00:00:00Z", &us));
	assert_false(iso_time_parse("2026-13-01T00:00:00Z", &us));
	assert_false(iso_time_parse("2026-12-02T24:00:00Z", &us));
	assert_false(iso_time_parse("2026-12-02T09:60:00Z", &us));
	assert_false(iso_time_parse("2026-12-02T09:10:11.Z", &us));
	assert_false(iso_time_parse("2026-12-02T09:10:11Z ", &us));
	assert_false(iso_time_parse("2026-12-02T09:10:11+24:00", &us));
	assert_false(iso_time_parse("2026-12-2T09:10:11Z", &us));
	assert_false(iso_time_parse("", &us));
	assert_false(iso_time_parse(NULL, &us));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_sync),
		cmocka_unit_test(test_failover),
		cmocka_unit_test(test_history_file),
		cmocka_unit_test(test_history_key),
		cmocka_unit_test(test_history_rules),
		cmocka_unit_test(test_iso_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
