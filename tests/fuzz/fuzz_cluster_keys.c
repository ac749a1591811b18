/*-------------------------------------------------------------------------
 *
 * fuzz_cluster_keys.c
 *	  libFuzzer target for the cluster keys in Patroni's formats
 *	  (common/cluster_keys.c): /status, /sync, /failover, /history, the
 *	  timeline history file, and ISO 8601 times (common/iso_time.c).
 *
 * Any client with access to ZooKeeper can write any bytes into these keys,
 * and the agent reads them inside postgres.  The first input byte picks
 * the parser, the rest is its input (in a buffer of exactly its size, so
 * a read past the end is an ASan report).  Whatever a parser accepts must
 * survive a round trip: rendered, parsed again, it gives the same value.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_keys.h"
#include "fuzz_check.h"

#define OUT_CAP		65536

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char out[OUT_CAP];

static void
render_ok(JsonBuf *jb)
{
	CHECK(!jb->overflow);
	CHECK(strlen(out) == jb->len);
}

static void
fuzz_status(const char *s, size_t n)
{
	HaStatusKey k,
				k2;
	JsonBuf		jb;

	if (!status_key_parse(s, n, &k))
		return;
	CHECK(k.nslots >= 0 && k.nslots <= HA_STATUS_MAX_SLOTS);
	json_init(&jb, out, sizeof(out));
	status_key_render(&k, &jb);
	render_ok(&jb);
	CHECK(status_key_parse(out, jb.len, &k2));
	CHECK(k.optime == k2.optime && k.timeline == k2.timeline && k.nslots == k2.nslots);
	for (int i = 0; i < k.nslots; i++)
		CHECK(strcmp(k.slots[i].name, k2.slots[i].name) == 0 && k.slots[i].lsn == k2.slots[i].lsn);
}

static void
fuzz_sync(const char *s, size_t n)
{
	HaSyncKey	k,
				k2;
	JsonBuf		jb;

	if (!sync_key_parse(s, n, &k))
	{
		CHECK(k.leader[0] == '\0' && k.standby[0] == '\0' && !k.confirmed);
		return;
	}
	CHECK(!k.confirmed || k.standby[0]);
	json_init(&jb, out, sizeof(out));
	sync_key_render(&k, &jb);
	render_ok(&jb);
	CHECK(sync_key_parse(out, jb.len, &k2));
	CHECK(strcmp(k.leader, k2.leader) == 0 && strcmp(k.standby, k2.standby) == 0 &&
		  k.confirmed == k2.confirmed);
}

static void
fuzz_failover(const char *s, size_t n)
{
	HaFailoverKey k,
				k2;
	JsonBuf		jb;

	if (!failover_key_parse(s, n, &k))
		return;
	CHECK(k.leader[0] || k.member[0]);
	json_init(&jb, out, sizeof(out));
	failover_key_render(&k, &jb);
	render_ok(&jb);
	CHECK(failover_key_parse(out, jb.len, &k2));
	CHECK(memcmp(&k, &k2, sizeof(k)) == 0 ||
		  (strcmp(k.leader, k2.leader) == 0 && strcmp(k.member, k2.member) == 0 &&
		   strcmp(k.scheduled_at, k2.scheduled_at) == 0));
}

static bool
rows_equal(const HaHistoryRow *a, const HaHistoryRow *b)
{
	return a->timeline == b->timeline && a->lsn == b->lsn &&
		strcmp(a->reason, b->reason) == 0 &&
		strcmp(a->timestamp, b->timestamp) == 0 &&
		strcmp(a->new_leader, b->new_leader) == 0;
}

static HaHistoryRow rows[HA_HISTORY_MAX];
static HaHistoryRow rows2[HA_HISTORY_MAX];
static HaHistoryRow merged[HA_HISTORY_MAX];

static void
check_prose(const HaHistoryRow *r)
{
	for (const char *p = r->reason; *p; p++)
		CHECK(*p >= 0x20 && *p < 0x7F);
}

static void
fuzz_history_key(const char *s, size_t n)
{
	char		err[128];
	int			nrows = history_key_parse(s, n, rows, HA_HISTORY_MAX, err, sizeof(err));
	int			n2;
	JsonBuf		jb;

	if (nrows < 0)
	{
		CHECK(strstr(err, "offset") != NULL);
		return;
	}
	CHECK(nrows <= HA_HISTORY_MAX);
	for (int i = 0; i < nrows; i++)
		check_prose(&rows[i]);
	json_init(&jb, out, sizeof(out));
	history_key_render(rows, nrows, &jb);
	render_ok(&jb);
	n2 = history_key_parse(out, jb.len, rows2, HA_HISTORY_MAX, err, sizeof(err));
	CHECK(n2 == nrows);
	for (int i = 0; i < nrows; i++)
		CHECK(rows_equal(&rows[i], &rows2[i]) ||
			  /* a timestamp without a leader is written without it too */
			  (rows[i].timestamp[0] == '\0' && rows2[i].timestamp[0] == '\0'));
	/* the leader's rewrite from these rows, as if they were its file */
	n2 = history_merge(rows, nrows, rows2, nrows, nrows ? rows[nrows - 1].timeline + 1 : 2,
					   "2026-12-02T09:10:11.000000+00:00", "n1", merged);
	CHECK(n2 >= 0 && n2 <= HA_HISTORY_MAX);
	if (n2 > 0 && rows[nrows - 1].timeline < UINT32_MAX)
		CHECK(!history_needs_update(merged, n2, rows[nrows - 1].timeline + 1));
}

static void
fuzz_history_file(const char *s, size_t n)
{
	int			nrows = history_file_parse(s, n, rows, 8);

	CHECK(nrows >= -1 && nrows <= 8);
	for (int i = 0; i < nrows; i++)
	{
		check_prose(&rows[i]);
		CHECK(rows[i].timestamp[0] == '\0' && rows[i].new_leader[0] == '\0');
	}
}

static void
fuzz_iso_time(const char *s, size_t n)
{
	char		z[ISO_TIME_LEN + 8];
	char		f[ISO_TIME_LEN];
	int64_t		us,
				us2;

	if (n >= sizeof(z))
		return;
	memcpy(z, s, n);
	z[n] = '\0';
	if (!iso_time_parse(z, &us))
		return;
	/* what we format (years 0000-9999 UTC) we parse back to the same instant */
	if (us < INT64_C(-62167219200000000) || us >= INT64_C(253402300800000000))
		return;
	iso_time_format(us, f, sizeof(f));
	CHECK(iso_time_parse(f, &us2));
	CHECK(us == us2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t		n = 0;
	char	   *s = fuzz_tail(data, size, &n);

	if (s == NULL)
		return 0;
	switch (data[0] % 6)
	{
		case 0:
			fuzz_status(s, n);
			break;
		case 1:
			fuzz_sync(s, n);
			break;
		case 2:
			fuzz_failover(s, n);
			break;
		case 3:
			fuzz_history_key(s, n);
			break;
		case 4:
			fuzz_history_file(s, n);
			break;
		case 5:
			fuzz_iso_time(s, n);
			break;
	}
	free(s);
	return 0;
}
