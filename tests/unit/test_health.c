/*-------------------------------------------------------------------------
 *
 * test_health.c
 *	  Unit tests for extension/health.c: routing, every row of Patroni
 *	  3.0.2's health table for each kind of node, ?lag=, ?tag_*= filters,
 *	  liveness and readiness, and size parsing.
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

#include "health.h"

#define MB		(UINT64_C(1) << 20)

/* ---------------------------------------------------------------- */
/* Node states */

/* running primary holding the leader key */
static HaHealthInput
primary(void)
{
	HaHealthInput in;

	memset(&in, 0, sizeof(in));
	in.pg_running = true;
	in.is_leader = true;
	in.has_dcs_view = true;
	in.loop_alive = true;
	in.leader_lsn = 100 * MB;
	return in;
}

/* running streaming replica, not sync, caught up */
static HaHealthInput
replica(void)
{
	HaHealthInput in;

	memset(&in, 0, sizeof(in));
	in.pg_running = true;
	in.in_recovery = true;
	in.has_dcs_view = true;
	in.loop_alive = true;
	in.leader_lsn = 100 * MB;
	in.replayed_lsn = 100 * MB;
	return in;
}

static HaHealthInput
primary_pg_down(void)
{
	HaHealthInput in = primary();

	in.pg_running = false;
	return in;
}

/* a primary whose ZooKeeper session is gone: fenced at once */
static HaHealthInput
primary_cut(void)
{
	HaHealthInput in = primary();

	in.is_leader = false;
	in.has_dcs_view = false;
	return in;
}

static HaHealthInput
replica_sync(void)
{
	HaHealthInput in = replica();

	in.is_sync_standby = true;
	return in;
}

static HaHealthInput
replica_noloadbalance(void)
{
	HaHealthInput in = replica();

	in.tags.noloadbalance = true;
	return in;
}

static HaHealthInput
replica_no_dcs(void)
{
	HaHealthInput in = replica();

	in.has_dcs_view = false;
	return in;
}

static HaHealthInput
replica_pg_down(void)
{
	HaHealthInput in = replica();

	in.pg_running = false;
	return in;
}

static HaHealthInput
sync_no_dcs(void)
{
	HaHealthInput in = replica_sync();

	in.has_dcs_view = false;
	return in;
}

static int
status_of(const HaHealthInput *in, const char *path, const char *query)
{
	return ha_health_status(in, ha_route_for_path(path), path, query);
}

typedef struct Row
{
	const char *path;
	int			primary;
	int			primary_pg_down;
	int			primary_cut;
	int			replica;
	int			replica_sync;
	int			replica_noloadbalance;
	int			replica_no_dcs;
	int			replica_pg_down;
	int			sync_no_dcs;
} Row;

/*
 * The Patroni table, one row per path, one column per node state.  Paths
 * match by substring except the sync/async family.
 */
static const Row table[] = {
	/* path                    P    Pdn  Pcut R    RS   RNLB Rnod Rdn  RSnod */
	{"/", 200, 503, 503, 503, 503, 503, 503, 503, 503},
	{"/primary", 200, 503, 503, 503, 503, 503, 503, 503, 503},
	{"/master", 200, 503, 503, 503, 503, 503, 503, 503, 503},
	{"/read-write", 200, 503, 503, 503, 503, 503, 503, 503, 503},
	{"/leader", 200, 200, 503, 503, 503, 503, 503, 503, 503},
	{"/standby_leader", 503, 503, 503, 503, 503, 503, 503, 503, 503},
	{"/standby-leader", 503, 503, 503, 503, 503, 503, 503, 503, 503},
	{"/replica", 503, 503, 503, 200, 200, 503, 200, 503, 200},
	{"/read-only", 200, 503, 503, 200, 200, 503, 200, 503, 200},
	{"/health", 200, 503, 200, 200, 200, 200, 200, 503, 200},
	{"/sync", 503, 503, 503, 503, 200, 503, 503, 503, 503},
	{"/synchronous", 503, 503, 503, 503, 200, 503, 503, 503, 503},
	{"/async", 503, 503, 503, 200, 503, 503, 503, 503, 503},
	{"/asynchronous", 503, 503, 503, 200, 503, 503, 503, 503, 503},
	{"/read-only-sync", 200, 503, 503, 503, 200, 503, 503, 503, 503},
	{"/read-only-synchronous", 200, 503, 503, 503, 200, 503, 503, 503, 503},
	/* unknown paths */
	{"/foo", 503, 503, 503, 503, 503, 503, 503, 503, 503},
	{"/sync/", 503, 503, 503, 503, 503, 503, 503, 503, 503},
	{"/Sync", 503, 503, 503, 503, 503, 503, 503, 503, 503},
	{"/read-only-sync/x", 503, 503, 503, 503, 503, 503, 503, 503, 503},
	{"/PRIMARY", 503, 503, 503, 503, 503, 503, 503, 503, 503},
	/* substring matching and Patroni's precedence */
	{"/x/replica/y", 503, 503, 503, 200, 200, 503, 200, 503, 200},
	{"/primaryish", 200, 503, 503, 503, 503, 503, 503, 503, 503},
	{"/replica-leader", 200, 200, 503, 503, 503, 503, 503, 503, 503},
	{"/replica-master", 200, 503, 503, 503, 503, 503, 503, 503, 503},
	{"/health-replica", 503, 503, 503, 200, 200, 503, 200, 503, 200},
	{"/standby_leader/primary", 503, 503, 503, 503, 503, 503, 503, 503, 503},
	{"/read-only-async", 503, 503, 503, 503, 503, 503, 503, 503, 503},
	{"/healthy", 200, 503, 200, 200, 200, 200, 200, 503, 200},
	/* routed elsewhere on GET; by the table for HEAD/OPTIONS, like Patroni */
	{"/patroni", 503, 503, 503, 503, 503, 503, 503, 503, 503},
	{"/cluster", 503, 503, 503, 503, 503, 503, 503, 503, 503},
};

static void
test_patroni_table(void **state)
{
	HaHealthInput states[9];
	size_t		r;
	int			s;

	(void) state;
	states[0] = primary();
	states[1] = primary_pg_down();
	states[2] = primary_cut();
	states[3] = replica();
	states[4] = replica_sync();
	states[5] = replica_noloadbalance();
	states[6] = replica_no_dcs();
	states[7] = replica_pg_down();
	states[8] = sync_no_dcs();

	for (r = 0; r < sizeof(table) / sizeof(table[0]); r++)
	{
		const int  *want = &table[r].primary;

		for (s = 0; s < 9; s++)
		{
			int			got = status_of(&states[s], table[r].path, "");

			if (got != want[s])
				print_error("path %s, state %d: got %d, want %d\n",
							table[r].path, s, got, want[s]);
			assert_int_equal(got, want[s]);
		}
	}
}

static void
test_null_and_empty(void **state)
{
	HaHealthInput p = primary();

	(void) state;
	/* "" and NULL path are "/", NULL query is "" */
	assert_int_equal(ha_health_status(&p, HA_ROUTE_HEALTH, "", NULL), 200);
	assert_int_equal(ha_health_status(&p, HA_ROUTE_HEALTH, NULL, NULL), 200);
	assert_int_equal(ha_health_status(NULL, HA_ROUTE_HEALTH, "/", ""), 503);
	/* a primary in recovery is inconsistent input: never 200 on /primary */
	p.in_recovery = true;
	assert_int_equal(status_of(&p, "/primary", ""), 503);
}

static void
test_routes(void **state)
{
	static const struct
	{
		const char *path;
		HaRoute		route;
	}			cases[] =
	{
		{"/patroni", HA_ROUTE_PATRONI},
		{"/cluster", HA_ROUTE_CLUSTER},
		{"/metrics", HA_ROUTE_METRICS},
		{"/liveness", HA_ROUTE_LIVENESS},
		{"/readiness", HA_ROUTE_READINESS},
		{"/config", HA_ROUTE_CONFIG},
		{"/history", HA_ROUTE_HISTORY},
		{"/watch", HA_ROUTE_WATCH},
		{"/switchover", HA_ROUTE_SWITCHOVER},
		{"/failover", HA_ROUTE_FAILOVER},
		{"/restart", HA_ROUTE_RESTART},
		{"/reinitialize", HA_ROUTE_REINITIALIZE},
		/* first segment, after any number of slashes */
		{"/patroni/", HA_ROUTE_PATRONI},
		{"/patroni/anything", HA_ROUTE_PATRONI},
		{"//patroni", HA_ROUTE_PATRONI},
		{"patroni", HA_ROUTE_PATRONI},
		/* everything else is a health check */
		{"/", HA_ROUTE_HEALTH},
		{"", HA_ROUTE_HEALTH},
		{"//", HA_ROUTE_HEALTH},
		{"/primary", HA_ROUTE_HEALTH},
		{"/replica", HA_ROUTE_HEALTH},
		{"/patronix", HA_ROUTE_HEALTH},
		{"/patron", HA_ROUTE_HEALTH},
		{"/Patroni", HA_ROUTE_HEALTH},
		{"/x/patroni", HA_ROUTE_HEALTH},
		{"/liveness-check", HA_ROUTE_HEALTH},
	};
	size_t		i;

	(void) state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		if (ha_route_for_path(cases[i].path) != cases[i].route)
			print_error("path \"%s\"\n", cases[i].path);
		assert_int_equal(ha_route_for_path(cases[i].path), cases[i].route);
	}
	assert_int_equal(ha_route_for_path(NULL), HA_ROUTE_HEALTH);
}

static void
test_liveness(void **state)
{
	HaHealthInput in = primary();

	(void) state;
	assert_int_equal(status_of(&in, "/liveness", ""), 200);
	in.pg_running = false;
	in.is_leader = false;
	in.has_dcs_view = false;
	/* only the agent's loop matters */
	assert_int_equal(status_of(&in, "/liveness", ""), 200);
	in = primary();
	in.loop_alive = false;
	assert_int_equal(status_of(&in, "/liveness", ""), 503);
	in = replica();
	in.loop_alive = false;
	assert_int_equal(status_of(&in, "/liveness", ""), 503);
}

static void
test_readiness(void **state)
{
	HaHealthInput in;

	(void) state;
	in = primary();
	assert_int_equal(status_of(&in, "/readiness", ""), 200);
	in = primary_pg_down();		/* the leader key decides */
	assert_int_equal(status_of(&in, "/readiness", ""), 200);
	in = primary_cut();
	assert_int_equal(status_of(&in, "/readiness", ""), 503);
	in = replica();
	assert_int_equal(status_of(&in, "/readiness", ""), 200);
	in = replica_noloadbalance();
	assert_int_equal(status_of(&in, "/readiness", ""), 200);
	in = replica_no_dcs();
	assert_int_equal(status_of(&in, "/readiness", ""), 503);
	in = replica_pg_down();
	assert_int_equal(status_of(&in, "/readiness", ""), 503);
	/* the query does not matter */
	in = replica();
	assert_int_equal(status_of(&in, "/readiness", "tag_foo=bar&lag=0"), 200);
}

static void
test_lag(void **state)
{
	HaHealthInput in = replica();

	(void) state;
	in.leader_lsn = 100 * MB;
	in.replayed_lsn = 80 * MB;	/* 20 MB behind */

	assert_int_equal(status_of(&in, "/replica", ""), 200);
	assert_int_equal(status_of(&in, "/replica", "lag=16MB"), 503);
	assert_int_equal(status_of(&in, "/replica", "lag=32MB"), 200);
	/* lagging means strictly more than lag behind */
	assert_int_equal(status_of(&in, "/replica", "lag=20MB"), 200);
	assert_int_equal(status_of(&in, "/replica", "lag=20971520"), 200);
	assert_int_equal(status_of(&in, "/replica", "lag=20971519"), 503);
	assert_int_equal(status_of(&in, "/replica", "lag=20480kB"), 200);
	assert_int_equal(status_of(&in, "/replica", "lag=20479kB"), 503);
	assert_int_equal(status_of(&in, "/replica", "lag=1GB"), 200);
	assert_int_equal(status_of(&in, "/replica", "lag=0"), 503);
	assert_int_equal(status_of(&in, "/replica", "foo=1&lag=1MB&bar=2"), 503);
	/* values parse_int refuses mean no limit, as in Patroni */
	assert_int_equal(status_of(&in, "/replica", "lag=abc"), 200);
	assert_int_equal(status_of(&in, "/replica", "lag=16mb"), 200);
	assert_int_equal(status_of(&in, "/replica", "lag=99999999999999999999"), 200);
	assert_int_equal(status_of(&in, "/replica", "lag="), 200);
	assert_int_equal(status_of(&in, "/replica", "lag"), 200);
	assert_int_equal(status_of(&in, "/replica", "lag=1MB%00"), 200);
	/* parse_qs: percent-decoding, '+', first non-empty value wins */
	assert_int_equal(status_of(&in, "/replica", "lag=16%20MB"), 503);
	assert_int_equal(status_of(&in, "/replica", "lag=16+MB"), 503);
	assert_int_equal(status_of(&in, "/replica", "l%61g=16MB"), 503);
	assert_int_equal(status_of(&in, "/replica", "lag=&lag=16MB"), 503);
	assert_int_equal(status_of(&in, "/replica", "lag=16MB&lag=1GB"), 503);
	assert_int_equal(status_of(&in, "/replica", "lag=1GB&lag=16MB"), 200);
	/* lag applies to every endpoint using the replica code */
	assert_int_equal(status_of(&in, "/read-only", "lag=16MB"), 503);
	assert_int_equal(status_of(&in, "/async", "lag=16MB"), 503);
	assert_int_equal(status_of(&in, "/async", "lag=32MB"), 200);
	assert_int_equal(status_of(&in, "/health", "lag=16MB"), 200);
	in.is_sync_standby = true;
	assert_int_equal(status_of(&in, "/sync", "lag=16MB"), 503);
	assert_int_equal(status_of(&in, "/read-only-sync", "lag=16MB"), 503);
	assert_int_equal(status_of(&in, "/sync", "lag=32MB"), 200);

	/* unknown leader position (0): never lagging */
	in = replica();
	in.leader_lsn = 0;
	in.replayed_lsn = 80 * MB;
	assert_int_equal(status_of(&in, "/replica", "lag=0"), 200);
	/* ahead of the published leader position: not lagging */
	in.leader_lsn = 50 * MB;
	assert_int_equal(status_of(&in, "/replica", "lag=0"), 200);
	/* no overflow of replayed + lag */
	in.leader_lsn = UINT64_MAX;
	in.replayed_lsn = UINT64_MAX - 5;
	assert_int_equal(status_of(&in, "/replica", "lag=1GB"), 200);
	assert_int_equal(status_of(&in, "/replica", "lag=4"), 503);
	in.replayed_lsn = 0;
	assert_int_equal(status_of(&in, "/replica", "lag=18446744073709551615"), 200);
	assert_int_equal(status_of(&in, "/replica", "lag=18446744073709551614"), 503);

	/* the primary's /read-only does not look at lag */
	in = primary();
	assert_int_equal(status_of(&in, "/read-only", "lag=0"), 200);
}

static void
test_tag_filters(void **state)
{
	HaHealthInput in = replica();

	(void) state;
	assert_int_equal(status_of(&in, "/replica", "tag_nofailover=false"), 200);
	assert_int_equal(status_of(&in, "/replica", "tag_nofailover=true"), 503);
	assert_int_equal(status_of(&in, "/replica", "tag_nofailover=False"), 503);
	assert_int_equal(status_of(&in, "/replica", "tag_nofailover=0"), 503);
	assert_int_equal(status_of(&in, "/replica", "tag_nosync=false&tag_clonefrom=false"), 200);
	assert_int_equal(status_of(&in, "/replica", "tag_nosync=false&tag_clonefrom=true"), 503);
	assert_int_equal(status_of(&in, "/replica", "tag_noloadbalance=false"), 200);
	/* unknown tags: 503 */
	assert_int_equal(status_of(&in, "/replica", "tag_foo=bar"), 503);
	assert_int_equal(status_of(&in, "/replica", "tag_=false"), 503);
	assert_int_equal(status_of(&in, "/replica", "tag_NOFAILOVER=false"), 503);
	assert_int_equal(status_of(&in, "/replica", "tag_nofailover%00=false"), 503);
	assert_int_equal(status_of(&in, "/replica",
							   "tag_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1"),
					 503);
	/* other keys, empty values and keys without '=' are ignored */
	assert_int_equal(status_of(&in, "/replica", "foo=bar&tag=1&tags=2"), 200);
	assert_int_equal(status_of(&in, "/replica", "tag_nofailover="), 200);
	assert_int_equal(status_of(&in, "/replica", "tag_nofailover"), 200);
	assert_int_equal(status_of(&in, "/replica", "tag_foo="), 200);
	/* first value of a repeated key */
	assert_int_equal(status_of(&in, "/replica", "tag_nofailover=false&tag_nofailover=true"), 200);
	assert_int_equal(status_of(&in, "/replica", "tag_nofailover=true&tag_nofailover=false"), 503);
	assert_int_equal(status_of(&in, "/replica", "tag_nofailover=&tag_nofailover=true"), 503);
	/* decoded like parse_qs */
	assert_int_equal(status_of(&in, "/replica", "tag%5Fnofailover=false"), 200);
	assert_int_equal(status_of(&in, "/replica", "tag%5Fnofailover=true"), 503);
	assert_int_equal(status_of(&in, "/replica", "tag_nofailover=fal%73e"), 200);
	assert_int_equal(status_of(&in, "/replica", "tag_nofailover=false%00"), 503);
	assert_int_equal(status_of(&in, "/replica", "tag_nofailover=false%"), 503);

	/* tags set on the node */
	in.tags.nofailover = true;
	in.tags.clonefrom = true;
	assert_int_equal(status_of(&in, "/replica", "tag_nofailover=true&tag_clonefrom=true"), 200);
	assert_int_equal(status_of(&in, "/replica", "tag_nofailover=false"), 503);
	assert_int_equal(status_of(&in, "/health", "tag_nofailover=true"), 200);
	assert_int_equal(status_of(&in, "/health", "tag_nofailover=false"), 503);
	assert_int_equal(status_of(&in, "/read-only", "tag_nofailover=false"), 503);
	assert_int_equal(status_of(&in, "/async", "tag_nofailover=false"), 503);
	assert_int_equal(status_of(&in, "/async", "tag_nofailover=true"), 200);

	/* noloadbalance: replica is 503 already, /health still filters */
	in = replica_noloadbalance();
	assert_int_equal(status_of(&in, "/replica", "tag_noloadbalance=true"), 503);
	assert_int_equal(status_of(&in, "/health", "tag_noloadbalance=true"), 200);
	assert_int_equal(status_of(&in, "/health", "tag_noloadbalance=false"), 503);

	/* leader endpoints ignore tags */
	in = primary();
	assert_int_equal(status_of(&in, "/primary", "tag_nofailover=true"), 200);
	assert_int_equal(status_of(&in, "/", "tag_foo=bar"), 200);
	assert_int_equal(status_of(&in, "/master", "tag_foo=bar"), 200);
	assert_int_equal(status_of(&in, "/read-write", "tag_foo=bar"), 200);
	assert_int_equal(status_of(&in, "/leader", "tag_foo=bar"), 200);
	/* ... but the primary's /read-only and /read-only-sync do not */
	assert_int_equal(status_of(&in, "/read-only", "tag_foo=bar"), 503);
	assert_int_equal(status_of(&in, "/read-only", "tag_nosync=false"), 200);
	assert_int_equal(status_of(&in, "/read-only-sync", "tag_nosync=true"), 503);
	assert_int_equal(status_of(&in, "/health", "tag_nosync=true"), 503);

	/* lag and tags together */
	in = replica();
	in.replayed_lsn = 90 * MB;
	assert_int_equal(status_of(&in, "/replica", "lag=16MB&tag_nofailover=false"), 200);
	assert_int_equal(status_of(&in, "/replica", "lag=1MB&tag_nofailover=false"), 503);
	assert_int_equal(status_of(&in, "/replica", "lag=16MB&tag_nofailover=true"), 503);
}

static void
test_parse_bytes(void **state)
{
	static const struct
	{
		const char *s;
		bool		ok;
		uint64_t	v;
	}			cases[] =
	{
		{"0", true, 0},
		{"1048576", true, 1048576},
		{"16MB", true, 16 * MB},
		{"512kB", true, 512 * 1024},
		{"1GB", true, UINT64_C(1) << 30},
		{"2TB", true, UINT64_C(2) << 40},
		{"7B", true, 7},
		{" 16 MB ", true, 16 * MB},
		{"16\tMB", true, 16 * MB},
		{"007", true, 7},
		{"18446744073709551615", true, UINT64_MAX},
		{"16777215TB", true, UINT64_C(16777215) << 40},
		/* garbage */
		{"", false, 0},
		{" ", false, 0},
		{"MB", false, 0},
		{"16mb", false, 0},
		{"16 kb", false, 0},
		{"16KB", false, 0},
		{"16Mb", false, 0},
		{"16 M B", false, 0},
		{"16MBx", false, 0},
		{"16MB 1", false, 0},
		{"1 6", false, 0},
		{"-1", false, 0},
		{"+1", false, 0},
		{"1.5MB", false, 0},
		{"0x10", false, 0},
		{"16PB", false, 0},
		/* overflow */
		{"18446744073709551616", false, 0},
		{"99999999999999999999999", false, 0},
		{"16777216TB", false, 0},
		{"17179869184GB", false, 0},
	};
	size_t		i;

	(void) state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		uint64_t	v = 12345;
		bool		ok = ha_parse_bytes(cases[i].s, &v);

		if (ok != cases[i].ok)
			print_error("\"%s\"\n", cases[i].s);
		assert_int_equal(ok, cases[i].ok);
		if (ok)
			assert_int_equal(v, cases[i].v);
		else
			assert_int_equal(v, 12345);	/* untouched on failure */
	}
	assert_false(ha_parse_bytes(NULL, NULL));
}

/* the one query-string reader: parse_qs's first non-empty value, decoded */
static void
test_query_value(void **state)
{
	char		out[8];

	(void) state;
	assert_true(ha_query_value("a=1&b=22", "b", out, sizeof(out)));
	assert_string_equal(out, "22");
	assert_true(ha_query_value("a=1&b=22", "a", out, sizeof(out)));
	assert_string_equal(out, "1");
	assert_false(ha_query_value("a=1&b=22", "c", out, sizeof(out)));
	assert_false(ha_query_value("ab=1", "a", out, sizeof(out)));
	assert_false(ha_query_value("a=1", "ab", out, sizeof(out)));
	assert_false(ha_query_value("", "a", out, sizeof(out)));
	assert_false(ha_query_value("b=a", "a", out, sizeof(out)));
	/* no '=' or an empty value: skipped, as parse_qs does */
	assert_false(ha_query_value("x&a", "a", out, sizeof(out)));
	assert_false(ha_query_value("a=&b=2", "a", out, sizeof(out)));
	assert_true(ha_query_value("a=&a=3", "a", out, sizeof(out)));
	assert_string_equal(out, "3");
	/* first occurrence wins; keys and values are decoded */
	assert_true(ha_query_value("k=1&k=2", "k", out, sizeof(out)));
	assert_string_equal(out, "1");
	assert_true(ha_query_value("k=a%20b+c", "k", out, sizeof(out)));
	assert_string_equal(out, "a b c");
	assert_true(ha_query_value("%6b=v", "k", out, sizeof(out)));
	assert_string_equal(out, "v");
	assert_true(ha_query_value("&&k=v=w&", "k", out, sizeof(out)));
	assert_string_equal(out, "v=w");
	/* a NUL in the value is refused */
	assert_false(ha_query_value("k=a%00b", "k", out, sizeof(out)));
	/* exact fit (7 + NUL) and one over, also counted after decoding */
	assert_true(ha_query_value("k=1234567", "k", out, sizeof(out)));
	assert_string_equal(out, "1234567");
	assert_false(ha_query_value("k=12345678", "k", out, sizeof(out)));
	assert_true(ha_query_value("k=%31%32%33%34%35%36%37", "k", out, sizeof(out)));
	assert_string_equal(out, "1234567");
	assert_false(ha_query_value("k=1", "k", out, 0));
	assert_false(ha_query_value(NULL, "k", out, sizeof(out)));
	assert_false(ha_query_value("k=1", NULL, out, sizeof(out)));
}

/* GET /watch?timeout=: seconds as a plain number, never a size */
static void
test_watch_timeout(void **state)
{
	(void) state;
	assert_int_equal(ha_watch_timeout_secs("", 30, 60), 30);
	assert_int_equal(ha_watch_timeout_secs("primary=1", 30, 60), 30);
	assert_int_equal(ha_watch_timeout_secs("primary=1&timeout=5", 30, 60), 5);
	assert_int_equal(ha_watch_timeout_secs("timeout=0", 30, 60), 0);
	assert_int_equal(ha_watch_timeout_secs("timeout=%31%30", 30, 60), 10);
	/* at most max, also for the default */
	assert_int_equal(ha_watch_timeout_secs("timeout=3600", 30, 60), 60);
	assert_int_equal(ha_watch_timeout_secs("timeout=99999999999999999999999", 30, 60), 30);
	assert_int_equal(ha_watch_timeout_secs("", 90, 60), 60);
	/* a size, a sign, blanks, a fraction, empty: the default */
	assert_int_equal(ha_watch_timeout_secs("timeout=30kB", 30, 60), 30);
	assert_int_equal(ha_watch_timeout_secs("timeout=5kB", 30, 60), 30);
	assert_int_equal(ha_watch_timeout_secs("timeout=5B", 30, 60), 30);
	assert_int_equal(ha_watch_timeout_secs("timeout=-5", 30, 60), 30);
	assert_int_equal(ha_watch_timeout_secs("timeout=+5", 30, 60), 30);
	assert_int_equal(ha_watch_timeout_secs("timeout=%205", 30, 60), 30);
	assert_int_equal(ha_watch_timeout_secs("timeout=1.5", 30, 60), 30);
	assert_int_equal(ha_watch_timeout_secs("timeout=5%00", 30, 60), 30);
	assert_int_equal(ha_watch_timeout_secs("timeout=", 30, 60), 30);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patroni_table),
		cmocka_unit_test(test_null_and_empty),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_liveness),
		cmocka_unit_test(test_readiness),
		cmocka_unit_test(test_lag),
		cmocka_unit_test(test_tag_filters),
		cmocka_unit_test(test_parse_bytes),
		cmocka_unit_test(test_query_value),
		cmocka_unit_test(test_watch_timeout),
	};

	return cmocka_run_group_tests_name("health", tests, NULL, NULL);
}
