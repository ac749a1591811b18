/*-------------------------------------------------------------------------
 *
 * test_dyn_config.c
 *	  Unit tests for common/dyn_config.c: the /config key (Patroni's
 *	  dynamic configuration) rendered from a node's settings and read over
 *	  them, every bad value refused with its reason and nothing changed.
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

#include "dyn_config.h"

static HaDynConfig defaults = {
	.ttl = 30, .loop_wait = 10, .retry_timeout = 10,
	.maximum_lag_on_failover = 1048576, .primary_start_timeout = 300,
};

static bool
parse(const char *json, HaDynConfig *c, char *err)
{
	*c = defaults;
	return dyn_config_parse(json, strlen(json), c, err, 160);
}

/* Refused with a reason containing want, and the settings left as they were. */
static void
refused(const char *json, const char *want)
{
	HaDynConfig c;
	char		err[160] = "";

	if (parse(json, &c, err))
		fail_msg("accepted: %s", json);
	if (strstr(err, want) == NULL)
		fail_msg("%s: reason \"%s\" lacks \"%s\"", json, err, want);
	assert_memory_equal(&c, &defaults, sizeof(c));
}

static void
test_round_trip(void **state)
{
	HaDynConfig c = defaults;
	HaDynConfig r = {0};
	char		buf[8192];
	char		err[160];
	JsonBuf		jb;

	(void) state;
	c.synchronous_mode = true;
	c.pause = true;
	c.nparams = 2;
	strcpy(c.params[0].name, "work_mem");
	strcpy(c.params[0].value, "8MB");
	strcpy(c.params[1].name, "max_connections");
	strcpy(c.params[1].value, "200");
	json_init(&jb, buf, sizeof(buf));
	dyn_config_render(&c, &jb);
	assert_false(jb.overflow);
	assert_non_null(strstr(buf, "\"ttl\":30,\"loop_wait\":10,\"retry_timeout\":10"));
	assert_non_null(strstr(buf, "\"postgresql\":{\"parameters\":{\"work_mem\":\"8MB\",\"max_connections\":\"200\"},\"use_slots\":false}"));
	assert_true(dyn_config_parse(buf, strlen(buf), &r, err, sizeof(err)));
	assert_memory_equal(&r, &c, sizeof(c));
}

static void
test_patroni_config(void **state)
{
	HaDynConfig c;
	char		err[160];

	(void) state;
	/* what Patroni's bootstrap.dcs writes: unknown keys are ignored */
	assert_true(parse("{\"ttl\": 20, \"loop_wait\": 5, \"retry_timeout\": 5, "
					  "\"maximum_lag_on_failover\": 4096, \"check_timeline\": true, "
					  "\"postgresql\": {\"use_pg_rewind\": true, \"parameters\": "
					  "{\"wal_level\": \"replica\", \"max_wal_senders\": 10, \"hot_standby_feedback\": true, "
					  "\"checkpoint_completion_target\": 0.9}}, \"standby_cluster\": null}", &c, err));
	assert_int_equal(c.ttl, 20);
	assert_int_equal(c.loop_wait, 5);
	assert_int_equal(c.maximum_lag_on_failover, 4096);
	assert_int_equal(c.nparams, 4);
	assert_string_equal(c.params[1].name, "max_wal_senders");
	assert_string_equal(c.params[1].value, "10");
	assert_string_equal(c.params[2].value, "on");
	assert_string_equal(c.params[3].value, "0.9");
	/* what a key leaves out keeps the node's value; null is "not set" */
	assert_true(parse("{\"pause\": true, \"ttl\": null}", &c, err));
	assert_true(c.pause);
	assert_int_equal(c.ttl, 30);
	assert_true(parse("{}", &c, err));
	assert_memory_equal(&c, &defaults, sizeof(c));
	/* a parameter set to null is dropped */
	assert_true(parse("{\"postgresql\": {\"parameters\": {\"work_mem\": null, \"a.b\": \"x\"}}}", &c, err));
	assert_int_equal(c.nparams, 1);
	assert_string_equal(c.params[0].name, "a.b");
}

static void
test_refused(void **state)
{
	(void) state;
	refused("[]", "expected an object");
	refused("{\"ttl\": 30", "unterminated");
	refused("{\"ttl\": \"30\"}", "\"ttl\" must be a whole number");
	refused("{\"ttl\": 30.5}", "\"ttl\" must be a whole number");
	refused("{\"ttl\": -1}", "\"ttl\" must be a whole number");
	refused("{\"ttl\": 1}", "\"ttl\" must be between 2 and 3600");
	refused("{\"loop_wait\": 61}", "\"loop_wait\" must be between 1 and 60");
	refused("{\"retry_timeout\": 0}", "\"retry_timeout\" must be between 1 and 3600");
	refused("{\"maximum_lag_on_failover\": 99999999999}", "\"maximum_lag_on_failover\" must be between");
	refused("{\"primary_start_timeout\": 3601}", "\"primary_start_timeout\" must be between 0 and 3600");
	refused("{\"synchronous_mode\": \"on\"}", "\"synchronous_mode\" must be true or false");
	refused("{\"pause\": 1}", "\"pause\" must be true or false");
	/* contradictions (the agent's own rule) */
	refused("{\"ttl\": 10}", "loop_wait (10) must be less than ttl (10)");
	refused("{\"ttl\": 11, \"loop_wait\": 1, \"retry_timeout\": 11}", "retry_timeout (11) must be less than ttl (11)");
	/* parameters */
	refused("{\"postgresql\": []}", "\"postgresql\" must be an object");
	refused("{\"postgresql\": {\"parameters\": 1}}", "\"postgresql.parameters\" must be an object");
	refused("{\"postgresql\": {\"parameters\": {\"Work_Mem\": \"1MB\"}}}", "\"Work_Mem\" is not a parameter name");
	refused("{\"postgresql\": {\"parameters\": {\"a b\": \"1MB\"}}}", "is not a parameter name");
	refused("{\"postgresql\": {\"parameters\": {\"work\\u0000x\": \"1MB\"}}}", "is not a parameter name");
	refused("{\"postgresql\": {\"parameters\": {\"\": \"1MB\"}}}", "empty or too long");
	refused("{\"postgresql\": {\"parameters\": {\"primary_conninfo\": \"host=x\"}}}", "set by pg_ha itself");
	refused("{\"postgresql\": {\"parameters\": {\"pg_ha.ttl\": 5}}}", "set by pg_ha itself");
	refused("{\"postgresql\": {\"parameters\": {\"shared_preload_libraries\": \"\"}}}", "set by pg_ha itself");
	refused("{\"postgresql\": {\"parameters\": {\"work_mem\": [1]}}}", "must be a string, a number or a boolean");
	refused("{\"postgresql\": {\"parameters\": {\"work_mem\": {\"a\": 1}}}}", "must be a string, a number or a boolean");
}

/* Patroni's postgresql.use_slots and member_slots_ttl (seconds or "30min") */
static void
test_slots(void **state)
{
	HaDynConfig c;
	char		err[160];
	char		buf[8192];
	JsonBuf		jb;

	(void) state;
	dyn_config_defaults(&c);
	assert_true(c.use_slots);
	assert_int_equal(c.member_slots_ttl, 1800);
	json_init(&jb, buf, sizeof(buf));
	dyn_config_render(&c, &jb);
	assert_non_null(strstr(buf, "\"member_slots_ttl\":1800"));
	assert_non_null(strstr(buf, "\"use_slots\":true"));
	assert_true(parse("{\"member_slots_ttl\": \"30min\", \"postgresql\": {\"use_slots\": false}}", &c, err));
	assert_int_equal(c.member_slots_ttl, 1800);
	assert_false(c.use_slots);
	assert_true(parse("{\"member_slots_ttl\": 0}", &c, err));
	assert_int_equal(c.member_slots_ttl, 0);
	assert_true(parse("{\"member_slots_ttl\": \"2h\"}", &c, err));
	assert_int_equal(c.member_slots_ttl, 7200);
	assert_true(parse("{\"member_slots_ttl\": \"90s\"}", &c, err));
	assert_int_equal(c.member_slots_ttl, 90);
	assert_true(parse("{\"member_slots_ttl\": \"1d\"}", &c, err));
	assert_int_equal(c.member_slots_ttl, 86400);
	refused("{\"member_slots_ttl\": \"30 minutes\"}", "\"member_slots_ttl\" must be seconds");
	refused("{\"member_slots_ttl\": \"-1min\"}", "\"member_slots_ttl\" must be seconds");
	refused("{\"member_slots_ttl\": \"99999999999d\"}", "\"member_slots_ttl\" is too long");
	refused("{\"member_slots_ttl\": -5}", "\"member_slots_ttl\" must be a whole number");
	refused("{\"postgresql\": {\"use_slots\": \"yes\"}}", "\"postgresql.use_slots\" must be true or false");
}

/* Patroni's permanent slots: "slots": {"name": {"type": "physical"}} */
static void
test_permanent_slots(void **state)
{
	HaDynConfig c;
	HaDynConfig r;
	char		buf[8192];
	char		err[160];
	char		longname[80];
	char		json[160];
	JsonBuf		jb;

	(void) state;
	assert_true(parse("{\"slots\": {\"backup1\": {\"type\": \"physical\"}, \"b_2\": {}}}", &c, err));
	assert_int_equal(c.nslots, 2);
	assert_string_equal(c.slots[0], "backup1");
	assert_string_equal(c.slots[1], "b_2");
	/* rendered and read again: the same set */
	json_init(&jb, buf, sizeof(buf));
	dyn_config_render(&c, &jb);
	assert_non_null(strstr(buf, "\"slots\":{\"backup1\":{\"type\":\"physical\"},\"b_2\":{\"type\":\"physical\"}}"));
	r = defaults;
	assert_true(dyn_config_parse(buf, jb.len, &r, err, sizeof(err)));
	assert_memory_equal(&c, &r, sizeof(c));
	/* none declared: no "slots" key */
	assert_true(parse("{}", &c, err));
	assert_int_equal(c.nslots, 0);
	json_init(&jb, buf, sizeof(buf));
	dyn_config_render(&c, &jb);
	assert_null(strstr(buf, "\"slots\""));
	/* null: not declared; a repeated name counts once; Patroni's extra keys ignored */
	assert_true(parse("{\"slots\": {\"a\": {\"type\": \"physical\"}, \"b\": null, \"a\": {\"x\": [1]}}}", &c, err));
	assert_int_equal(c.nslots, 1);
	assert_string_equal(c.slots[0], "a");
	assert_true(parse("{\"slots\": {\"a\": {}, \"a\": null}}", &c, err));
	assert_int_equal(c.nslots, 0);
	assert_true(parse("{\"slots\": null}", &c, err));
	assert_int_equal(c.nslots, 0);
	/* a name taken out leaves no bytes behind: rendered and read again, equal (fuzz_config) */
	assert_true(parse("{\"slots\": {\"backup1\": {}, \"b_2\": {}, \"backup1\": null}, "
					  "\"slots\": {\"b_2\": {}}}", &c, err));
	json_init(&jb, buf, sizeof(buf));
	dyn_config_render(&c, &jb);
	r = defaults;
	assert_true(dyn_config_parse(buf, jb.len, &r, err, sizeof(err)));
	assert_memory_equal(&c, &r, sizeof(c));
	/* refused, nothing changed */
	refused("{\"slots\": {\"l1\": {\"type\": \"logical\", \"database\": \"db\", \"plugin\": \"pgoutput\"}}}",
			"slot \"l1\" is logical: pg_ha keeps physical permanent slots only");
	refused("{\"slots\": {\"l2\": {\"database\": \"db\", \"plugin\": \"test_decoding\"}}}",
			"slot \"l2\" is logical");
	refused("{\"slots\": {\"s\": {\"type\": \"other\"}}}", "the type of slot \"s\" must be \"physical\"");
	refused("{\"slots\": {\"s\": {\"type\": 1}}}", "the type of slot \"s\" must be \"physical\"");
	refused("{\"slots\": {\"Backup\": {}}}", "a permanent slot name must be 1 to 63 characters of [a-z0-9_]");
	refused("{\"slots\": {\"a-b\": {}}}", "a permanent slot name must be");
	refused("{\"slots\": {\"\": {}}}", "a permanent slot name must be");
	memset(longname, 'a', 64);
	longname[64] = '\0';
	snprintf(json, sizeof(json), "{\"slots\": {\"%s\": {}}}", longname);
	refused(json, "a permanent slot name must be");
	longname[63] = '\0';
	snprintf(json, sizeof(json), "{\"slots\": {\"%s\": {}}}", longname);
	assert_true(parse(json, &c, err));
	assert_int_equal(c.nslots, 1);
	refused("{\"slots\": {\"s\": \"physical\"}}", "slot \"s\" must be an object");
	refused("{\"slots\": [\"s\"]}", "\"slots\" must be an object");
	refused("{\"ttl\": 30, \"slots\": {\"ok\": {}, \"bad\": {\"type\": \"logical\"}}}", "slot \"bad\" is logical");
}

static void
test_managed(void **state)
{
	(void) state;
	assert_true(dyn_config_managed_parameter("synchronous_standby_names"));
	assert_true(dyn_config_managed_parameter("pg_ha.scope"));
	assert_false(dyn_config_managed_parameter("work_mem"));
	assert_false(dyn_config_managed_parameter("max_connections"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_patroni_config),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_permanent_slots),
		cmocka_unit_test(test_managed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
