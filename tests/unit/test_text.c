/*-------------------------------------------------------------------------
 *
 * test_text.c
 *	  Unit tests for common/text.c: hex digits, the name syntax shared by
 *	  the supervisor's and the router's configuration, plain numbers.
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

#include "text.h"

static void
test_hex_value(void **state)
{
	(void) state;
	assert_int_equal(text_hex_value('0'), 0);
	assert_int_equal(text_hex_value('9'), 9);
	assert_int_equal(text_hex_value('a'), 10);
	assert_int_equal(text_hex_value('F'), 15);
	assert_int_equal(text_hex_value('g'), -1);
	assert_int_equal(text_hex_value('G'), -1);
	assert_int_equal(text_hex_value('/'), -1);
	assert_int_equal(text_hex_value(':'), -1);
	assert_int_equal(text_hex_value('\0'), -1);
	assert_int_equal(text_hex_value(0xE9), -1);
	assert_int_equal(text_hex_value(-1), -1);
}

static void
test_valid_name(void **state)
{
	char		name[70];

	(void) state;
	assert_true(text_valid_name("alpha", 0));
	assert_true(text_valid_name("node-1.dc_2", 0));
	assert_false(text_valid_name("", 0));
	assert_false(text_valid_name(NULL, 0));
	assert_false(text_valid_name("a b", 0));
	assert_false(text_valid_name("a/b", 0));
	assert_false(text_valid_name("caf\xc3\xa9", 0));
	/* cap: the name and its NUL fit cap bytes */
	memset(name, 'n', sizeof(name));
	name[63] = '\0';
	assert_true(text_valid_name(name, 64));
	assert_true(text_valid_name(name, 0));
	name[63] = 'n';
	name[64] = '\0';
	assert_false(text_valid_name(name, 64));
	assert_true(text_valid_name(name, 65));
	assert_true(text_valid_name(name, 0));
}

static void
test_parse_uint(void **state)
{
	uint64_t	v = 7;

	(void) state;
	assert_true(text_parse_uint("0", 10, &v));
	assert_int_equal(v, 0);
	assert_true(text_parse_uint("30", 60, &v));
	assert_int_equal(v, 30);
	assert_true(text_parse_uint("60", 60, &v));
	assert_false(text_parse_uint("61", 60, &v));
	assert_false(text_parse_uint("600", 60, &v));
	assert_int_equal(v, 60);		/* untouched on failure */
	assert_true(text_parse_uint("18446744073709551615", UINT64_MAX, &v));
	assert_true(v == UINT64_MAX);
	assert_false(text_parse_uint("18446744073709551616", UINT64_MAX, &v));
	assert_false(text_parse_uint("99999999999999999999999", UINT64_MAX, &v));
	assert_false(text_parse_uint("9", 5, &v));
	assert_false(text_parse_uint("30kB", UINT64_MAX, &v));
	assert_false(text_parse_uint("30s", UINT64_MAX, &v));
	assert_false(text_parse_uint(" 30", UINT64_MAX, &v));
	assert_false(text_parse_uint("30 ", UINT64_MAX, &v));
	assert_false(text_parse_uint("-1", UINT64_MAX, &v));
	assert_false(text_parse_uint("+1", UINT64_MAX, &v));
	assert_false(text_parse_uint("", UINT64_MAX, &v));
	assert_false(text_parse_uint(NULL, UINT64_MAX, &v));
}

static void
test_visible_ascii(void **state)
{
	(void) state;
	assert_true(text_visible_ascii("/patroni?x=1&y=%20", 18));
	assert_true(text_visible_ascii("", 0));
	assert_true(text_visible_ascii("a b", 1));	/* only the first n bytes */
	assert_false(text_visible_ascii("a b", 3));
	assert_false(text_visible_ascii("a\rb", 3));
	assert_false(text_visible_ascii("a\tb", 3));
	assert_false(text_visible_ascii("\x7f", 1));
	assert_false(text_visible_ascii("caf\xc3\xa9", 5));
	assert_false(text_visible_ascii("a\0b", 3));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_value),
		cmocka_unit_test(test_valid_name),
		cmocka_unit_test(test_parse_uint),
		cmocka_unit_test(test_visible_ascii),
	};

	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
