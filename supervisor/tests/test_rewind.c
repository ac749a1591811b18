/*
 * Unit tests of the WAL arithmetic and the rewind decision (rewind.c).
 * Run by `make -C supervisor check`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "rewind.h"

/* real output of PostgreSQL 15's pg_controldata (LC_ALL=C) after initdb */
static const char *controldata_primary =
	"pg_control version number:            1300\n"
	"Catalog version number:               202209061\n"
	"Database system identifier:           7712355362575503598\n"
	"Database cluster state:               shut down\n"
	"pg_control last modified:             Thu Nov 26 05:57:44 2026\n"
	"Latest checkpoint location:           0/1511A88\n"
	"Latest checkpoint's REDO location:    0/1511A88\n"
	"Latest checkpoint's REDO WAL file:    000000010000000000000001\n"
	"Latest checkpoint's TimeLineID:       1\n"
	"Latest checkpoint's PrevTimeLineID:   1\n"
	"Latest checkpoint's full_page_writes: on\n"
	"Latest checkpoint's NextXID:          0:724\n"
	"Latest checkpoint's NextOID:          13573\n"
	"Latest checkpoint's NextMultiXactId:  1\n"
	"Latest checkpoint's NextMultiOffset:  0\n"
	"Latest checkpoint's oldestXID:        716\n"
	"Latest checkpoint's oldestXID's DB:   1\n"
	"Latest checkpoint's oldestActiveXID:  0\n"
	"Latest checkpoint's oldestMultiXid:   1\n"
	"Latest checkpoint's oldestMulti's DB: 1\n"
	"Latest checkpoint's oldestCommitTsXid:0\n"
	"Latest checkpoint's newestCommitTsXid:0\n"
	"Time of latest checkpoint:            Thu Nov 26 05:57:44 2026\n"
	"Fake LSN counter for unlogged rels:   0/3E8\n"
	"Minimum recovery ending location:     0/0\n"
	"Min recovery ending loc's timeline:   0\n"
	"Backup start location:                0/0\n"
	"Backup end location:                  0/0\n"
	"End-of-backup record required:        no\n"
	"wal_level setting:                    replica\n"
	"wal_log_hints setting:                off\n"
	"max_connections setting:              100\n"
	"max_worker_processes setting:         8\n"
	"max_wal_senders setting:              10\n"
	"max_prepared_xacts setting:           0\n"
	"max_locks_per_xact setting:           64\n"
	"track_commit_timestamp setting:       off\n"
	"Maximum data alignment:               8\n"
	"Database block size:                  8192\n"
	"Blocks per segment of large relation: 131072\n"
	"WAL block size:                       8192\n"
	"Bytes per WAL segment:                16777216\n"
	"Maximum length of identifiers:        64\n"
	"Maximum columns in an index:          32\n"
	"Maximum size of a TOAST chunk:        1996\n"
	"Size of a large-object chunk:         2048\n"
	"Date/time type storage:               64-bit integers\n"
	"Float8 argument passing:              by value\n"
	"Data page checksum version:           0\n"
	"Mock authentication nonce:            c7803e47f8fcc74e8edeec2c2142582b5047bf7cc684c36f9678e0f56572ff51\n"
	;

static char cdbuf[8192];

/* controldata_primary with one line replaced */
static const char *
with_line(const char *label, const char *value)
{
	const char *p = strstr(controldata_primary, label);
	const char *eol;
	size_t		pre;

	assert_non_null(p);
	eol = strchr(p, '\n');
	pre = (size_t) (p - controldata_primary);
	snprintf(cdbuf, sizeof(cdbuf), "%.*s%s: %s%s", (int) pre, controldata_primary, label, value, eol);
	return cdbuf;
}

static void
test_lsn(void **state)
{
	uint64_t	v;
	char		buf[32];

	(void) state;
	assert_true(lsn_parse("0/3000148", &v));
	assert_int_equal(v, 0x3000148);
	assert_true(lsn_parse("16/B374D848", &v));
	assert_int_equal(v, 0x16B374D848ULL);
	assert_true(lsn_parse("ffffffff/ffffffff", &v));
	assert_int_equal(v, UINT64_MAX);
	lsn_format(0x16B374D848ULL, buf, sizeof(buf));
	assert_string_equal(buf, "16/B374D848");
	lsn_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "0/0");
	assert_false(lsn_parse("", &v));
	assert_false(lsn_parse("0/", &v));
	assert_false(lsn_parse("/1", &v));
	assert_false(lsn_parse("0/1 ", &v));
	assert_false(lsn_parse("g/1", &v));
	assert_false(lsn_parse("100000000/0", &v));
	assert_false(lsn_parse(NULL, &v));
}

static void
test_controldata(void **state)
{
	ControlData cd;
	char		err[128];

	(void) state;
	assert_true(controldata_parse(controldata_primary, &cd, err, sizeof(err)));
	assert_int_equal(cd.system_id, 7712355362575503598ULL);
	assert_string_equal(cd.state, "shut down");
	assert_int_equal(cd.checkpoint, 0x1511A88);
	assert_int_equal(cd.redo, 0x1511A88);
	assert_int_equal(cd.checkpoint_tli, 1);
	assert_int_equal(cd.min_recovery, 0);
	assert_int_equal(cd.min_recovery_tli, 0);
	assert_int_equal(cd.seg_size, 16777216);
	assert_true(controldata_clean(&cd));

	assert_true(controldata_parse(with_line("Database cluster state", "in production"), &cd, err, sizeof(err)));
	assert_false(controldata_clean(&cd));

	assert_false(controldata_parse(with_line("Latest checkpoint location", "nonsense"), &cd, err, sizeof(err)));
	assert_string_equal(err, "no \"Latest checkpoint location\"");
	assert_false(controldata_parse(with_line("Bytes per WAL segment", "1000"), &cd, err, sizeof(err)));
	assert_false(controldata_parse(with_line("Latest checkpoint's TimeLineID", "0"), &cd, err, sizeof(err)));
	assert_false(controldata_parse("", &cd, err, sizeof(err)));
	assert_false(controldata_parse("Database system identifier: x\n", &cd, err, sizeof(err)));
}

static void
test_checkpoint_end(void **state)
{
	const uint32_t seg = 16 * 1024 * 1024;

	(void) state;
	/* what pg_waldump shows: CHECKPOINT_SHUTDOWN at 0/1511A88, len 114 */
	assert_int_equal(rewind_checkpoint_end(0x1511A88, seg), 0x1511A88 + 114);
	/* ends exactly at a page end: no header */
	assert_int_equal(rewind_checkpoint_end(0x2000 - 114, seg), 0x2000);
	/* crosses a page boundary: a short page header (24) */
	assert_int_equal(rewind_checkpoint_end(0x2000 - 100, seg), 0x2000 + 24 + 14);
	/* crosses into a new segment: a long page header (40) */
	assert_int_equal(rewind_checkpoint_end((uint64_t) seg - 16, seg), (uint64_t) seg + 40 + 98);
	/* a segment size of 0 means the default */
	assert_int_equal(rewind_checkpoint_end(0x1000000 - 16, 0), 0x1000000 + 40 + 98);
	/* other segment sizes */
	assert_int_equal(rewind_checkpoint_end(0x100000 - 8, 1024 * 1024), 0x100000 + 40 + 106);
}

static void
test_local_position(void **state)
{
	ControlData cd;
	char		err[128];
	uint32_t	tli;
	uint64_t	end;

	(void) state;
	assert_true(controldata_parse(controldata_primary, &cd, err, sizeof(err)));
	assert_true(rewind_local_position(&cd, &tli, &end, err, sizeof(err)));
	assert_int_equal(tli, 1);
	assert_int_equal(end, 0x1511A88 + 114);

	/* a standby: the later of its minimum recovery point and its restartpoint's end */
	cd.min_recovery = 0x3000000;
	cd.min_recovery_tli = 2;
	snprintf(cd.state, sizeof(cd.state), "shut down in recovery");
	assert_true(rewind_local_position(&cd, &tli, &end, err, sizeof(err)));
	assert_int_equal(tli, 2);
	assert_int_equal(end, 0x3000000);
	cd.min_recovery = 0x1000;
	assert_true(rewind_local_position(&cd, &tli, &end, err, sizeof(err)));
	assert_int_equal(tli, 1);
	assert_int_equal(end, 0x1511A88 + 114);
	/* a fenced primary, stopped as a standby before any restartpoint */
	cd.min_recovery = 0;
	cd.min_recovery_tli = 0;
	assert_true(rewind_local_position(&cd, &tli, &end, err, sizeof(err)));
	assert_int_equal(end, 0x1511A88 + 114);
	/* a crashed standby */
	snprintf(cd.state, sizeof(cd.state), "in archive recovery");
	cd.min_recovery = 0x5000000;
	cd.min_recovery_tli = 1;
	assert_true(rewind_local_position(&cd, &tli, &end, err, sizeof(err)));
	assert_int_equal(end, 0x5000000);

	/* a crashed primary needs crash recovery first */
	snprintf(cd.state, sizeof(cd.state), "in production");
	assert_false(rewind_local_position(&cd, &tli, &end, err, sizeof(err)));
	assert_string_equal(err, "the cluster state is \"in production\", not a clean shutdown");
}

static const char *history3 =
	"1\t0/3000148\tno recovery target specified\n"
	"\n"
	"2\t0/5000D20\tno recovery target specified\n";

static void
test_history(void **state)
{
	uint64_t	sp = 0;
	bool		bad;

	(void) state;
	assert_true(rewind_history_switchpoint(history3, 1, &sp, &bad));
	assert_int_equal(sp, 0x3000148);
	assert_true(rewind_history_switchpoint(history3, 2, &sp, &bad));
	assert_int_equal(sp, 0x5000D20);
	assert_false(rewind_history_switchpoint(history3, 3, &sp, &bad));
	assert_false(bad);
	assert_true(rewind_history_switchpoint("# comment\n  1 \t 0/10\treason", 1, &sp, &bad));
	assert_int_equal(sp, 0x10);
	assert_false(rewind_history_switchpoint("1\tnot-an-lsn\n", 1, &sp, &bad));
	assert_true(bad);
	assert_false(rewind_history_switchpoint("x\t0/1\n", 1, &sp, &bad));
	assert_true(bad);
	assert_false(rewind_history_switchpoint("", 1, &sp, &bad));
	assert_false(bad);
}

static void
test_decide(void **state)
{
	char		why[256];

	(void) state;
	/* graceful hand-over: the replica got our shutdown checkpoint, promoted at its end */
	assert_int_equal(rewind_decide("1\t0/3000148\tno recovery target specified\n", 2, 0x3000200,
								   1, 0x3000148, why, sizeof(why)), REWIND_NOT_NEEDED);
	assert_string_equal(why, "the leader left our timeline 1 at 0/3000148, our WAL ends at 0/3000148");
	/* behind the switch point (a replica that lagged) */
	assert_int_equal(rewind_decide(history3, 3, 0x6000000, 1, 0x2000000, why, sizeof(why)),
					 REWIND_NOT_NEEDED);
	/* the old primary wrote past the switch point: forked */
	assert_int_equal(rewind_decide("1\t0/3000148\tx\n", 2, 0x4000000, 1, 0x3000150, why, sizeof(why)),
					 REWIND_NEEDED);
	assert_string_equal(why, "the leader left our timeline 1 at 0/3000148 but our WAL goes on to 0/3000150");
	/* our timeline is an ancestor two steps back */
	assert_int_equal(rewind_decide(history3, 3, 0x6000000, 2, 0x5000D20, why, sizeof(why)),
					 REWIND_NOT_NEEDED);
	assert_int_equal(rewind_decide(history3, 3, 0x6000000, 2, 0x5000D21, why, sizeof(why)),
					 REWIND_NEEDED);
	/* same timeline: fine when not ahead of the leader, a re-clone when ahead */
	assert_int_equal(rewind_decide(NULL, 1, 0x5000000, 1, 0x4000000, why, sizeof(why)), REWIND_NOT_NEEDED);
	assert_int_equal(rewind_decide(NULL, 1, 0x5000000, 1, 0x5000000, why, sizeof(why)), REWIND_NOT_NEEDED);
	assert_int_equal(rewind_decide(NULL, 1, 0x5000000, 1, 0x5000001, why, sizeof(why)), REWIND_RECLONE);
	assert_string_equal(why, "same timeline 1 but our WAL ends at 0/5000001, ahead of the leader at 0/5000000");
	/* a timeline that is not in the leader's history (a sibling fork) */
	assert_int_equal(rewind_decide("1\t0/3000148\tx\n", 3, 0x6000000, 2, 0x4000000, why, sizeof(why)),
					 REWIND_NEEDED);
	assert_string_equal(why, "our timeline 2 is not in the leader's history (timeline 3)");
	/* newer than the leader */
	assert_int_equal(rewind_decide("", 1, 0x6000000, 2, 0x4000000, why, sizeof(why)), REWIND_NEEDED);
	/* malformed history: rewind (pg_rewind will judge) */
	assert_int_equal(rewind_decide("garbage", 2, 0x6000000, 1, 0x4000000, why, sizeof(why)), REWIND_NEEDED);
	assert_string_equal(why, "the leader's timeline history is malformed");
	assert_string_equal(rewind_decision_name(REWIND_RECLONE), "re-clone needed");
}

/* use_pg_rewind off turns a rewind into a re-clone, and nothing else */
static void
test_method(void **state)
{
	(void) state;
	assert_int_equal(rewind_method(REWIND_NEEDED, true), REWIND_NEEDED);
	assert_int_equal(rewind_method(REWIND_NEEDED, false), REWIND_RECLONE);
	assert_int_equal(rewind_method(REWIND_NOT_NEEDED, false), REWIND_NOT_NEEDED);
	assert_int_equal(rewind_method(REWIND_NOT_NEEDED, true), REWIND_NOT_NEEDED);
	assert_int_equal(rewind_method(REWIND_RECLONE, true), REWIND_RECLONE);
	assert_int_equal(rewind_method(REWIND_RECLONE, false), REWIND_RECLONE);
}

static void
test_waldump_end(void **state)
{
	uint64_t	end = 0;

	(void) state;
	assert_true(rewind_waldump_end("pg_waldump: error: error in WAL record at 0/1511A88: invalid record length at 0/1511B00: wanted 24, got 0\n", &end));
	assert_int_equal(end, 0x1511B00);
	assert_true(rewind_waldump_end("pg_waldump: error: error in WAL record at 0/301A3B0: record with incorrect prev-link 0/0 at 0/301A428\n", &end));
	assert_int_equal(end, 0x301A428);
	/* no position, or one that is not after the last record */
	assert_false(rewind_waldump_end("pg_waldump: error: error in WAL record at 0/3000000: invalid magic number 0000 in log segment 000000010000000000000003, offset 0\nnext at 0/5000000\n", &end));
	assert_false(rewind_waldump_end("pg_waldump: error: error in WAL record at 0/3000000: bad at 0/2000000\n", &end));
	assert_false(rewind_waldump_end("pg_waldump: error: could not find file \"x\"\n", &end));
	assert_false(rewind_waldump_end("", &end));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lsn),
		cmocka_unit_test(test_controldata),
		cmocka_unit_test(test_checkpoint_end),
		cmocka_unit_test(test_local_position),
		cmocka_unit_test(test_history),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_waldump_end),
		cmocka_unit_test(test_method),
	};

	return cmocka_run_group_tests_name("supervisor rewind", tests, NULL, NULL);
}
