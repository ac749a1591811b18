/*-------------------------------------------------------------------------
 *
 * test_json_merge.c
 *	  Unit tests for common/json_merge.c: RFC 7386's own examples
 *	  (Appendix A), a Patroni /config patch, and refusals.
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

#include "json_merge.h"

static const char *
merged(const char *target, const char *patch)
{
	static char buf[4096];
	char		err[128];
	JsonBuf		jb;

	json_init(&jb, buf, sizeof(buf));
	if (!json_merge_patch(target, strlen(target), patch, strlen(patch), &jb, err, sizeof(err)))
		snprintf(buf, sizeof(buf), "ERROR: %s", err);
	assert_false(jb.overflow);
	return buf;
}

static void
test_rfc7386_examples(void **state)
{
	(void) state;
	assert_string_equal(merged("{\"a\":\"b\"}", "{\"a\":\"c\"}"), "{\"a\":\"c\"}");
	assert_string_equal(merged("{\"a\":\"b\"}", "{\"b\":\"c\"}"), "{\"a\":\"b\",\"b\":\"c\"}");
	assert_string_equal(merged("{\"a\":\"b\"}", "{\"a\":null}"), "{}");
	assert_string_equal(merged("{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}"), "{\"b\":\"c\"}");
	assert_string_equal(merged("{\"a\":[\"b\"]}", "{\"a\":\"c\"}"), "{\"a\":\"c\"}");
	assert_string_equal(merged("{\"a\":\"c\"}", "{\"a\":[\"b\"]}"), "{\"a\":[\"b\"]}");
	assert_string_equal(merged("{\"a\": {\"b\": \"c\"}}", "{\"a\": {\"b\": \"d\", \"c\": null}}"),
						"{\"a\":{\"b\":\"d\"}}");
	assert_string_equal(merged("{\"a\": [{\"b\":\"c\"}]}", "{\"a\": [1]}"), "{\"a\":[1]}");
	assert_string_equal(merged("[\"a\",\"b\"]", "[\"c\",\"d\"]"), "[\"c\",\"d\"]");
	assert_string_equal(merged("{\"a\":\"b\"}", "[\"c\"]"), "[\"c\"]");
	assert_string_equal(merged("{\"a\":\"foo\"}", "null"), "null");
	assert_string_equal(merged("{\"a\":\"foo\"}", "\"bar\""), "\"bar\"");
	assert_string_equal(merged("{\"e\":null}", "{\"a\":1}"), "{\"e\":null,\"a\":1}");
	assert_string_equal(merged("[1,2]", "{\"a\":\"b\",\"c\":null}"), "{\"a\":\"b\"}");
	assert_string_equal(merged("{}", "{\"a\":{\"bb\":{\"ccc\":null}}}"), "{\"a\":{\"bb\":{}}}");
}

static void
test_patroni_patch(void **state)
{
	(void) state;
	/* patronictl pause, then resume, then a parameter */
	assert_string_equal(merged("{\"ttl\":30,\"postgresql\":{\"parameters\":{\"work_mem\":\"4MB\"}}}", "{\"pause\": true}"),
						"{\"ttl\":30,\"postgresql\":{\"parameters\":{\"work_mem\":\"4MB\"}},\"pause\":true}");
	assert_string_equal(merged("{\"ttl\":30,\"pause\":true}", "{\"pause\": null}"), "{\"ttl\":30}");
	assert_string_equal(merged("{\"ttl\":30,\"postgresql\":{\"parameters\":{\"work_mem\":\"4MB\",\"a\":1}}}",
							   "{\"postgresql\":{\"parameters\":{\"work_mem\":\"8MB\",\"a\":null,\"max_parallel_maintenance_workers\":4}}}"),
						"{\"ttl\":30,\"postgresql\":{\"parameters\":{\"work_mem\":\"8MB\",\"max_parallel_maintenance_workers\":4}}}");
}

static void
test_refused(void **state)
{
	char		many[4096];
	size_t		o = 0;

	(void) state;
	assert_string_equal(merged("{}", "{\"a\":"), "ERROR: the patch is not valid JSON");
	assert_string_equal(merged("{\"a\"", "{}"), "ERROR: the document is not valid JSON");
	assert_string_equal(merged("{}", "tru"), "ERROR: the patch is not valid JSON");
	assert_non_null(strstr(merged("{}", "{\"\\u0000a\":1}"), "a key holds a NUL"));
	o += (size_t) snprintf(many + o, sizeof(many) - o, "{");
	for (int i = 0; i < 65; i++)
		o += (size_t) snprintf(many + o, sizeof(many) - o, "%s\"k%d\":1", i ? "," : "", i);
	snprintf(many + o, sizeof(many) - o, "}");
	assert_non_null(strstr(merged("{}", many), "too many members"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7386_examples),
		cmocka_unit_test(test_patroni_patch),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
