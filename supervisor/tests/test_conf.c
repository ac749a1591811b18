/*
 * Unit tests of the node configuration parser and of pg_ha.conf rendering
 * (conf.c).  Run by `make -C supervisor check`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conf.h"
#include "conninfo.h"

static NodeConf conf;
static char err[1024];

#define MIN_CONF "name = node1\nzk_hosts = 127.0.0.1:2181\nconnect_address = 10.0.0.1:5432\n"

static bool
parse(const char *text)
{
	err[0] = '\0';
	return conf_parse(text, strlen(text), "node.conf", "/var/lib/pg/data", &conf, err, sizeof(err));
}

static void
assert_fails_with(const char *text, const char *msg)
{
	if (parse(text))
		fail_msg("accepted: %s", text);
	if (strstr(err, msg) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err, msg);
}

static void
test_defaults(void **state)
{
	(void) state;
	assert_true(parse(MIN_CONF));
	assert_string_equal(conf.name, "node1");
	assert_string_equal(conf.scope, "pg_ha");
	assert_string_equal(conf.namespace_, "/service");
	assert_string_equal(conf.data_dir, "/var/lib/pg/data");
	assert_string_equal(conf.bin_dir, "/usr/lib/postgresql/15/bin");
	assert_string_equal(conf.listen_addresses, "*");
	assert_int_equal(conf.port, 5432);
	assert_string_equal(conf.connect_host, "10.0.0.1");
	assert_string_equal(conf.api_listen, "*:8008");
	assert_string_equal(conf.superuser, "postgres");
	assert_string_equal(conf.replication_user, "replicator");
	assert_int_equal(conf.ttl, 10);
	assert_int_equal(conf.loop_wait, 1);
	assert_int_equal(conf.retry_timeout, 5);
	assert_false(conf.synchronous_mode);
	assert_int_equal(conf.maximum_lag_on_failover, 1048576);
	assert_int_equal(conf.primary_start_timeout, 0);
	assert_true(conf.use_pg_rewind);
	assert_true(conf.auto_reclone);
	assert_true(conf.use_slots);
	assert_int_equal(conf.member_slots_ttl, 1800);
	assert_false(conf.clonefrom);
	assert_string_equal(conf.log_file, "");
	assert_int_equal(conf.npg, 0);
	assert_int_equal(conf.nhba, 0);
}

static void
test_values_quotes_comments(void **state)
{
	(void) state;
	assert_true(parse("# a comment\n"
					  "\n"
					  "   name=node-2.a_b   # trailing comment\n"
					  "scope = 'my_cluster'\n"
					  "zk_hosts = zk1:2181,zk2:2181/pg\r\n"
					  "connect_address = '[::1]:5433'\n"
					  "superuser_password = 'it''s # not a comment '\n"
					  "replication_password=plain\n"
					  "ttl = 30s\n"
					  "loop_wait = 10\n"
					  "retry_timeout = 10\n"
					  "maximum_lag_on_failover = 10MB\n"
					  "synchronous_mode = TRUE\n"
					  "nofailover = yes\n"
					  "use_pg_rewind = off\n"
					  "auto_reclone = off\n"
					  "data_dir = /data/pg/\n"
					  "pg.wal_level = replica\n"
					  "pg.Hot_Standby = 'on'\n"
					  "hba = host replication replicator 0.0.0.0/0 md5\n"
					  "hba = 'host all all 0.0.0.0/0 md5'\n"
					  "api_auth = admin:secret\n"));
	assert_string_equal(conf.name, "node-2.a_b");
	assert_string_equal(conf.scope, "my_cluster");
	assert_string_equal(conf.zk_hosts, "zk1:2181,zk2:2181/pg");
	assert_string_equal(conf.connect_host, "::1");
	assert_string_equal(conf.superuser_password, "it's # not a comment ");
	assert_string_equal(conf.replication_password, "plain");
	assert_int_equal(conf.ttl, 30);
	assert_int_equal(conf.loop_wait, 10);
	assert_int_equal(conf.maximum_lag_on_failover, 10485760);
	assert_true(conf.synchronous_mode);
	assert_true(conf.nofailover);
	assert_false(conf.use_pg_rewind);
	assert_false(conf.auto_reclone);
	assert_string_equal(conf.data_dir, "/data/pg");
	assert_int_equal(conf.npg, 2);
	assert_string_equal(conf.pg[0].name, "wal_level");
	assert_string_equal(conf.pg[0].value, "replica");
	assert_string_equal(conf.pg[1].name, "hot_standby");
	assert_int_equal(conf.nhba, 2);
	assert_string_equal(conf.hba[1], "host all all 0.0.0.0/0 md5");
	assert_string_equal(conf.api_auth, "admin:secret");
}

static void
test_errors_name_file_and_line(void **state)
{
	(void) state;
	assert_fails_with(MIN_CONF "\nbogus = 1\n", "node.conf:5: unknown key \"bogus\"");
	assert_fails_with(MIN_CONF "ttl 10\n", "node.conf:4: expected \"=\" after \"ttl\"");
	assert_fails_with(MIN_CONF "scope = 'abc\n", "node.conf:4: unterminated quoted value");
	assert_fails_with(MIN_CONF "scope = 'abc' x\n", "node.conf:4: unexpected text after the quoted value");
	assert_fails_with(MIN_CONF "scope = a'b\n", "node.conf:4: stray quote");
	assert_fails_with(MIN_CONF "= x\n", "node.conf:4: expected a key");
	assert_fails_with(MIN_CONF "synchronous_mode = maybe\n", "node.conf:4: invalid value for synchronous_mode");
	assert_fails_with(MIN_CONF "ttl = ten\n", "node.conf:4: invalid value for ttl");
	assert_fails_with(MIN_CONF "ttl = 1\n", "node.conf:4: ttl = 1 is out of range (2 .. 3600)");
	assert_fails_with(MIN_CONF "port = 70000\n", "out of range");
	assert_fails_with(MIN_CONF "maximum_lag_on_failover = 5TB\n", "invalid value for maximum_lag_on_failover");
	assert_fails_with(MIN_CONF "maximum_lag_on_failover = 3GB\n", "out of range");
	assert_fails_with(MIN_CONF "name = again\n", "node.conf:4: \"name\" is set twice (first on line 1)");
	assert_fails_with(MIN_CONF "scope = a/b\n", "invalid scope");
	assert_fails_with(MIN_CONF "namespace = service\n", "invalid namespace");
	assert_fails_with(MIN_CONF "namespace = /service/\n", "invalid namespace");
	assert_fails_with(MIN_CONF "bin_dir = bin\n", "bin_dir must be an absolute path");
	assert_fails_with(MIN_CONF "api_listen = nowhere\n", "invalid api_listen");
	assert_fails_with(MIN_CONF "api_auth = nocolon\n", "user:password");
	assert_fails_with(MIN_CONF "api_verify_client = sometimes\n", "none, optional or required");
	assert_fails_with(MIN_CONF "api_verify_client = required\n", "needs api_cafile");
	assert_fails_with(MIN_CONF "api_certfile = relative.crt\n", "absolute");
	assert_fails_with("name = n\nzk_hosts = ,\nconnect_address = h:1\n", "node.conf:2: invalid zk_hosts");
	assert_fails_with(MIN_CONF "hba = ''\n", "empty hba line");
	assert_false(conf_parse("name = a\0b\n", 11, "node.conf", "/d", &conf, err, sizeof(err)));
	assert_non_null(strstr(err, "node.conf:1: NUL byte in line"));
}

/* Patroni's postgresql.callbacks: programs run without a shell */
static void
test_callbacks(void **state)
{
	(void) state;
	assert_true(parse(MIN_CONF));
	assert_string_equal(conf.on_start, "");
	assert_string_equal(conf.on_role_change, "");
	assert_int_equal(conf.callback_timeout, 30);
	assert_true(parse(MIN_CONF "on_start = /etc/pg_ha/cb.sh\non_stop = /bin/true\non_restart = /x\n"
					  "on_reload = '/path with blanks/cb'\non_role_change = /etc/pg_ha/role.sh\n"
					  "callback_timeout = 5s\n"));
	assert_string_equal(conf.on_start, "/etc/pg_ha/cb.sh");
	assert_string_equal(conf.on_stop, "/bin/true");
	assert_string_equal(conf.on_restart, "/x");
	assert_string_equal(conf.on_reload, "/path with blanks/cb");
	assert_string_equal(conf.on_role_change, "/etc/pg_ha/role.sh");
	assert_int_equal(conf.callback_timeout, 5);
	assert_true(parse(MIN_CONF "on_stop =\n"));	/* empty: none */
	assert_string_equal(conf.on_stop, "");
	assert_fails_with(MIN_CONF "on_role_change = cb.sh\n",
					  "node.conf:4: on_role_change must be the absolute path of a program");
	assert_fails_with(MIN_CONF "on_start = 'sh -c x'\n", "node.conf:4: on_start must be the absolute path");
	assert_fails_with(MIN_CONF "callback_timeout = 0\n", "node.conf:4: callback_timeout = 0 is out of range (1 .. 3600)");
	assert_fails_with(MIN_CONF "callback_timeout = soon\n", "node.conf:4: invalid value for callback_timeout");
	assert_true(parse(MIN_CONF "use_slots = off\nmember_slots_ttl = 0\n"));
	assert_false(conf.use_slots);
	assert_int_equal(conf.member_slots_ttl, 0);
	assert_fails_with(MIN_CONF "member_slots_ttl = 30min\n", "node.conf:4: invalid value for member_slots_ttl");
	assert_fails_with(MIN_CONF "on_reload = /a\non_reload = /b\n", "node.conf:5: \"on_reload\" is set twice");
}

static void
test_required_and_cross_checks(void **state)
{
	(void) state;
	assert_fails_with("zk_hosts = a:1\nconnect_address = h:1\n", "node.conf: missing required key \"name\"");
	assert_fails_with("name = n\nconnect_address = h:1\n", "missing required key \"zk_hosts\"");
	assert_fails_with("name = n\nzk_hosts = a:1\n", "missing required key \"connect_address\"");
	assert_fails_with("name = ''\nzk_hosts = a:1\nconnect_address = h:1\n", "invalid name");
	assert_fails_with(MIN_CONF "retry_timeout = 10\n", "retry_timeout (10) must be less than ttl (10)");
	assert_fails_with(MIN_CONF "ttl = 5\nloop_wait = 5\nretry_timeout = 2\n", "loop_wait (5) must be less than ttl (5)");
	assert_fails_with("name = n\nzk_hosts = a:1\nconnect_address = *:5432\n", "connect_address must name a host");
	assert_fails_with(MIN_CONF "data_dir = /\n", "must not be \"/\"");

	/* data_dir: $PGDATA when not set, an error when neither */
	assert_false(conf_parse(MIN_CONF, strlen(MIN_CONF), "n.conf", NULL, &conf, err, sizeof(err)));
	assert_non_null(strstr(err, "n.conf: data_dir is not set and PGDATA is not in the environment"));
	assert_false(conf_parse(MIN_CONF, strlen(MIN_CONF), "n.conf", "rel/dir", &conf, err, sizeof(err)));
	assert_non_null(strstr(err, "not an absolute path"));
	assert_true(conf_parse(MIN_CONF "data_dir = /x\n", strlen(MIN_CONF "data_dir = /x\n"), "n.conf", NULL,
						   &conf, err, sizeof(err)));
	assert_string_equal(conf.data_dir, "/x");
}

static void
test_pg_params(void **state)
{
	(void) state;
	assert_fails_with(MIN_CONF "pg.port = 5433\n", "\"pg.port\" is managed by pg_ha_supervisor: use the key \"port\"");
	assert_fails_with(MIN_CONF "pg.primary_conninfo = x\n", "managed by pg_ha_supervisor");
	assert_fails_with(MIN_CONF "pg.primary_slot_name = x\n", "managed by pg_ha_supervisor: use the key \"use_slots\"");
	assert_fails_with(MIN_CONF "pg.SYNCHRONOUS_STANDBY_NAMES = x\n", "managed by pg_ha_supervisor");
	assert_fails_with(MIN_CONF "pg.include = x\n", "includes are not allowed");
	assert_fails_with(MIN_CONF "pg.pg_ha.ttl = 3\n", "set \"pg_ha.ttl\" with the key \"ttl\"");
	assert_fails_with(MIN_CONF "pg.wal_level = a\npg.WAL_LEVEL = b\n", "node.conf:5: \"pg.wal_level\" is set twice");
	assert_fails_with(MIN_CONF "pg.9x = 1\n", "invalid postgres parameter name");
	assert_fails_with(MIN_CONF "pg. = 1\n", "invalid postgres parameter name");
	assert_true(parse(MIN_CONF "pg.auto_explain.log_min_duration = 10s\n"));
	assert_string_equal(conf.pg[0].name, "auto_explain.log_min_duration");
}

static void
test_render(void **state)
{
	char		buf[16384];
	int			n;

	(void) state;
	assert_true(parse(MIN_CONF "scope = my_cluster\nport = 5433\nlisten_addresses = '127.0.0.1, ::1'\n"
					  "pg.shared_preload_libraries = 'pg_stat_statements,pg_ha, auto_explain'\n"
					  "pg.archive_command = 'cp %p /arch/%f'\n"
					  "pg.archive_mode = always\n"
					  "pg.restore_command = 'cp /arch/%f %p'\n"
					  "replication_password = 'a''b\\c'\n"
					  "synchronous_mode = on\nmaximum_lag_on_failover = 10MB\n"));
	n = conf_render_pg_ha_conf(&conf, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal((size_t) n, strlen(buf));
	assert_non_null(strstr(buf, "\nport = 5433\n"));
	assert_non_null(strstr(buf, "\nlisten_addresses = '127.0.0.1, ::1'\n"));
	assert_non_null(strstr(buf, "\nshared_preload_libraries = 'pg_ha, pg_stat_statements, auto_explain'\n"));
	assert_non_null(strstr(buf, "\nwal_log_hints = on\n"));
	assert_non_null(strstr(buf, "\npg_ha.name = 'node1'\n"));
	assert_non_null(strstr(buf, "\npg_ha.scope = 'my_cluster'\n"));
	assert_non_null(strstr(buf, "\npg_ha.namespace = '/service'\n"));
	assert_non_null(strstr(buf, "\npg_ha.zk_hosts = '127.0.0.1:2181'\n"));
	assert_non_null(strstr(buf, "\npg_ha.connect_address = '10.0.0.1:5432'\n"));
	assert_non_null(strstr(buf, "\npg_ha.api_listen = '*:8008'\n"));
	assert_non_null(strstr(buf, "\npg_ha.api_connect_address = ''\n"));
	assert_non_null(strstr(buf, "\npg_ha.api_certfile = ''\n"));	/* no TLS */
	assert_non_null(strstr(buf, "\npg_ha.api_verify_client = 'none'\n"));
	assert_non_null(strstr(buf, "\npg_ha.api_allowlist_include_members = off\n"));
	assert_non_null(strstr(buf, "\npg_ha.ttl = 10\n"));
	assert_non_null(strstr(buf, "\npg_ha.synchronous_mode = on\n"));
	assert_non_null(strstr(buf, "\npg_ha.synchronous_mode_strict = off\n"));
	assert_non_null(strstr(buf, "\npg_ha.maximum_lag_on_failover = 10485760\n"));
	assert_non_null(strstr(buf, "\npg_ha.primary_start_timeout = 0\n"));
	assert_non_null(strstr(buf, "\npg_ha.use_slots = on\n"));	/* Patroni's default */
	assert_non_null(strstr(buf, "\npg_ha.member_slots_ttl = 1800\n"));
	assert_non_null(strstr(buf, "\npg_ha.clonefrom = off\n"));
	assert_non_null(strstr(buf, "\npg_ha.auto_reclone = on\n"));
	assert_non_null(strstr(buf, "\npg_ha.replication_user = 'replicator'\n"));
	assert_non_null(strstr(buf, "\npg_ha.replication_password = 'a''b\\\\c'\n"));
	assert_non_null(strstr(buf, "\narchive_command = 'cp %p /arch/%f'\n"));
	/* the archive is the user's: given as is, never set by the supervisor */
	assert_non_null(strstr(buf, "\narchive_mode = 'always'\n"));
	assert_non_null(strstr(buf, "\nrestore_command = 'cp /arch/%f %p'\n"));
	/* the user's shared_preload_libraries is merged, not repeated */
	assert_null(strstr(buf, "pg_stat_statements,pg_ha"));

	/* no wal_log_hints line when the user sets it or does not rewind */
	assert_true(parse(MIN_CONF "use_pg_rewind = off\n"));
	assert_true(conf_render_pg_ha_conf(&conf, buf, sizeof(buf)) > 0);
	assert_null(strstr(buf, "wal_log_hints"));
	assert_true(parse(MIN_CONF "pg.wal_log_hints = off\n"));
	assert_true(conf_render_pg_ha_conf(&conf, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\nwal_log_hints = 'off'\n"));

	/* too small a buffer is an error, never an overflow */
	assert_int_equal(conf_render_pg_ha_conf(&conf, buf, 100), -1);
	assert_int_equal(conf_render_pg_ha_conf(&conf, buf, 0), -1);
}

/* The largest configurations render into CONF_PG_HA_CONF_MAX bytes. */
static void
test_render_largest(void **state)
{
	static char text[512 * 1024];
	static char buf[CONF_PG_HA_CONF_MAX];
	size_t		o;
	int			n;

	(void) state;
	/* a list of one-letter names: rendered "pg_ha, a, a, ..." is twice as long */
	o = (size_t) snprintf(text, sizeof(text), MIN_CONF "pg.shared_preload_libraries = 'a");
	for (int i = 0; i < (CONF_PATH_LEN - 2) / 2; i++)
		o += (size_t) snprintf(text + o, sizeof(text) - o, ",a");
	o += (size_t) snprintf(text + o, sizeof(text) - o, "'\n");
	assert_true(parse(text));
	n = conf_render_pg_ha_conf(&conf, buf, sizeof(buf));
	assert_true(n > 0);
	assert_non_null(strstr(buf, "\nshared_preload_libraries = 'pg_ha, a, a, a, "));

	/* every pg.* parameter, every value as long as it may be, all escaped */
	o = (size_t) snprintf(text, sizeof(text), MIN_CONF);
	for (int i = 0; i < CONF_MAX_PG; i++)
	{
		o += (size_t) snprintf(text + o, sizeof(text) - o, "pg.p%0*d = '", CONF_NAME_LEN - 3, i);
		for (int j = 0; j < CONF_PATH_LEN - 1; j++)
			o += (size_t) snprintf(text + o, sizeof(text) - o, "\\");
		o += (size_t) snprintf(text + o, sizeof(text) - o, "'\n");
	}
	assert_true(o < sizeof(text) - 1);
	assert_true(parse(text));
	assert_int_equal(conf.npg, CONF_MAX_PG);
	n = conf_render_pg_ha_conf(&conf, buf, sizeof(buf));
	assert_true(n > 256 * 1024);
	assert_int_equal((size_t) n, strlen(buf));
}

static void
test_quote(void **state)
{
	char		buf[64];

	(void) state;
	assert_int_equal(conf_quote("plain", buf, sizeof(buf)), 7);
	assert_string_equal(buf, "'plain'");
	assert_true(conf_quote("it's a \\ test", buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "'it''s a \\\\ test'");
	assert_true(conf_quote("", buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "''");
	assert_int_equal(conf_quote("abc", buf, 6), 5);
	assert_int_equal(conf_quote("abc", buf, 5), -1);
	assert_int_equal(conf_quote("abcd", buf, 5), -1);
	assert_int_equal(conf_quote("''", buf, 6), -1);
	assert_int_equal(conf_quote("x", buf, 2), -1);
}

static void
test_conninfo(void **state)
{
	char		buf[128] = "";

	(void) state;
	assert_true(conninfo_add(buf, sizeof(buf), "host", "10.0.0.2"));
	assert_true(conninfo_add(buf, sizeof(buf), "password", "a b'c\\d"));
	assert_true(conninfo_add(buf, sizeof(buf), "user", ""));
	assert_string_equal(buf, "host=10.0.0.2 password='a b\\'c\\\\d' user=''");
	/* libpq's blanks include \r \v \f: unquoted, "a\rb" would read as "a" */
	buf[0] = '\0';
	assert_true(conninfo_add(buf, sizeof(buf), "password", "a\rb"));
	assert_true(conninfo_add(buf, sizeof(buf), "user", "c\vd\fe"));
	assert_string_equal(buf, "password='a\rb' user='c\vd\fe'");
	{
		char		small[16] = "host=x";

		assert_false(conninfo_add(small, sizeof(small), "password", "0123456789"));
	}
	/* a standby's primary_conninfo: the one string the agent writes too */
	assert_true(conninfo_address(buf, sizeof(buf), "10.0.0.2", 5432));
	assert_true(conninfo_standby(buf, sizeof(buf), buf, "replicator", "s3 cret", "node2"));
	assert_string_equal(buf, "host=10.0.0.2 port=5432 user=replicator password='s3 cret' "
						"application_name=node2 connect_timeout=2");
	assert_true(conninfo_standby(buf, sizeof(buf), "host=h port=1", "u", "", "n"));
	assert_string_equal(buf, "host=h port=1 user=u application_name=n connect_timeout=2");
	assert_true(conninfo_standby(buf, sizeof(buf), "host=h port=1", "u", NULL, "n"));
	assert_false(conninfo_address(buf, sizeof(buf), "", 5432));
	assert_false(conninfo_address(buf, sizeof(buf), "h", 0));
	{
		char		small[40];

		assert_false(conninfo_standby(small, sizeof(small), "host=h port=1", "u", "p", "a-long-node-name"));
	}
}

static void
test_bool(void **state)
{
	bool		b;

	(void) state;
	assert_true(conf_parse_bool("On", &b) && b);
	assert_true(conf_parse_bool("0", &b) && !b);
	assert_true(conf_parse_bool("FALSE", &b) && !b);
	assert_false(conf_parse_bool("", &b));
	assert_false(conf_parse_bool("onn", &b));
}

/* The shipped sample must stay valid. */
/* PostgreSQL 12's wal_keep_segments: wal_keep_size = N x 16 MB, or an error with wal_keep_size */
static void
test_wal_keep_segments(void **state)
{
	char		buf[16384];

	(void) state;
	assert_true(parse(MIN_CONF "pg.wal_level = replica\npg.wal_keep_segments = 8\n"));
	assert_int_equal(conf.wal_keep_segments, 8);
	assert_int_equal(conf.npg, 2);
	assert_string_equal(conf.pg[1].name, "wal_keep_size");
	assert_string_equal(conf.pg[1].value, "128MB");
	assert_true(conf_render_pg_ha_conf(&conf, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\nwal_keep_size = '128MB'\n"));
	assert_null(strstr(buf, "wal_keep_segments"));
	assert_true(parse(MIN_CONF "pg.WAL_KEEP_SEGMENTS = 0\n"));
	assert_string_equal(conf.pg[0].value, "0MB");
	assert_true(parse(MIN_CONF "pg.wal_keep_segments = 134217727\n"));
	assert_string_equal(conf.pg[0].value, "2147483632MB");
	/* not given: nothing recorded */
	assert_true(parse(MIN_CONF "pg.wal_keep_size = 1GB\n"));
	assert_int_equal(conf.wal_keep_segments, -1);

	/* both names, in either order: refused */
	assert_fails_with(MIN_CONF "pg.wal_keep_size = 1GB\npg.wal_keep_segments = 8\n",
					  "node.conf:5: \"pg.wal_keep_segments\" (its name before PostgreSQL 13) and \"pg.wal_keep_size\" are both set");
	assert_fails_with(MIN_CONF "pg.wal_keep_segments = 8\npg.wal_keep_size = 1GB\n",
					  "node.conf:5: \"pg.wal_keep_segments\" (its name before PostgreSQL 13) and \"pg.wal_keep_size\" are both set");
	assert_fails_with(MIN_CONF "pg.wal_keep_segments = 8\npg.wal_keep_segments = 9\n",
					  "node.conf:5: \"pg.wal_keep_segments\" is set twice");
	assert_fails_with(MIN_CONF "pg.wal_keep_segments = 8MB\n", "invalid value for pg.wal_keep_segments: \"8MB\"");
	assert_fails_with(MIN_CONF "pg.wal_keep_segments = -1\n", "invalid value for pg.wal_keep_segments");
	assert_fails_with(MIN_CONF "pg.wal_keep_segments = ''\n", "invalid value for pg.wal_keep_segments");
	assert_fails_with(MIN_CONF "pg.wal_keep_segments = 134217728\n", "out of range (0 .. 134217727)");
	assert_fails_with(MIN_CONF "pg.wal_keep_segments = 99999999999999999999\n", "invalid value");
}

/* basebackup_max_rate: pg_basebackup's --max-rate, in kB/s */
static void
test_basebackup_max_rate(void **state)
{
	(void) state;
	assert_true(parse(MIN_CONF));
	assert_int_equal(conf.basebackup_max_rate, 0);
	assert_true(parse(MIN_CONF "basebackup_max_rate = 32k\n"));
	assert_int_equal(conf.basebackup_max_rate, 32);
	assert_true(parse(MIN_CONF "basebackup_max_rate = 100M\n"));
	assert_int_equal(conf.basebackup_max_rate, 102400);
	assert_true(parse(MIN_CONF "basebackup_max_rate = 500\n"));
	assert_int_equal(conf.basebackup_max_rate, 500);
	assert_true(parse(MIN_CONF "basebackup_max_rate = 0\n"));
	assert_int_equal(conf.basebackup_max_rate, 0);
	assert_fails_with(MIN_CONF "basebackup_max_rate = 31k\n", "basebackup_max_rate = 31k is out of range");
	assert_fails_with(MIN_CONF "basebackup_max_rate = 1025M\n", "out of range");
	assert_fails_with(MIN_CONF "basebackup_max_rate = 10MB\n", "invalid value for basebackup_max_rate: \"10MB\"");
	assert_fails_with(MIN_CONF "basebackup_max_rate = fast\n", "invalid value for basebackup_max_rate");
	assert_fails_with(MIN_CONF "basebackup_max_rate = 99999999999M\n", "invalid value");
}

static void
test_sample_file(void **state)
{
	const char *path = getenv("SUP_SAMPLE") ? getenv("SUP_SAMPLE") : "node.conf.sample";
	FILE	   *f = fopen(path, "r");
	static char text[65536];
	size_t		n;

	(void) state;
	if (f == NULL)
		fail_msg("cannot open %s (run from supervisor/)", path);
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	if (!conf_parse(text, n, path, NULL, &conf, err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(conf.scope, "my_cluster");
	assert_int_equal(conf.ttl, 30);
	assert_int_equal(conf.loop_wait, 10);
	assert_int_equal(conf.retry_timeout, 10);
	assert_int_equal(conf.maximum_lag_on_failover, 10485760);
	assert_int_equal(conf.primary_start_timeout, 300);
	assert_true(conf.synchronous_mode);
	assert_true(conf.use_pg_rewind);
	assert_int_equal(conf.nhba, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values_quotes_comments),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_callbacks),
		cmocka_unit_test(test_required_and_cross_checks),
		cmocka_unit_test(test_pg_params),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_render_largest),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_conninfo),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_wal_keep_segments),
		cmocka_unit_test(test_basebackup_max_rate),
		cmocka_unit_test(test_sample_file),
	};

	return cmocka_run_group_tests_name("supervisor conf", tests, NULL, NULL);
}
