/*-------------------------------------------------------------------------
 *
 * test_role_change.c
 *	  Unit tests for extension/role_change.c: the table of role changes
 *	  and the lines they log.
 *
 * README rule (section "Failover") and the tests that cover it:
 *	  "Every role change is one LOG line (pg_ha: role change: ...)"
 *	    every change has a row, in order, with a line     test_every_change_has_a_row
 *	    the lines, to the letter (TAP 014 matches the fence's,
 *	    the router test "is now the leader")              test_lines
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "role_change.h"

static void
test_every_change_has_a_row(void **state)
{
	(void) state;
	for (int c = 0; c < HA_RC_COUNT; c++)
	{
		const HaRoleTransition *t = ha_role_transition((HaRoleChange) c);
		const char *first;

		assert_non_null(t);
		assert_int_equal(t->change, c);
		assert_non_null(t->from);
		assert_non_null(t->to);
		assert_string_not_equal(t->from, t->to);
		/* exactly two conversions, both %s: the name, then the detail */
		first = strchr(t->text, '%');
		assert_non_null(first);
		assert_int_equal(first[1], 's');
		assert_non_null(strchr(first + 2, '%'));
		assert_int_equal(strchr(first + 2, '%')[1], 's');
		assert_null(strchr(strchr(first + 2, '%') + 2, '%'));
	}
	assert_null(ha_role_transition(HA_RC_COUNT));
	assert_null(ha_role_transition((HaRoleChange) -1));
}

static void
assert_line(HaRoleChange c, const char *detail, const char *expected)
{
	char		buf[512];
	int			n = ha_role_change_text(c, "n1", detail, buf, sizeof(buf));

	assert_string_equal(buf, expected);
	assert_int_equal(n, (int) strlen(expected));
}

static void
test_lines(void **state)
{
	char		small[8];

	(void) state;
	assert_line(HA_RC_LEAD, "cluster \"c\" (epoch 7, timeline 2)",
				"\"n1\" is now the leader of cluster \"c\" (epoch 7, timeline 2)");
	assert_line(HA_RC_UNLEAD, "ZooKeeper is unreachable",
				"\"n1\" is no longer the leader: ZooKeeper is unreachable");
	assert_line(HA_RC_PROMOTE, "it holds the leader key, epoch 7",
				"promoting \"n1\" (it holds the leader key, epoch 7)");
	assert_line(HA_RC_HAND_OVER, "n2",
				"switchover: handing the leadership of \"n1\" over to \"n2\"");
	assert_line(HA_RC_FENCE, "primary out of touch with ZooKeeper for retry_timeout",
				"\"n1\" stops accepting writes (fence): primary out of touch with ZooKeeper for retry_timeout");
	assert_line(HA_RC_REJOIN_PRIMARY, "another leads",
				"\"n1\" stops accepting writes (rejoin): another leads");
	assert_line(HA_RC_REJOIN_STANDBY, "forked",
				"\"n1\" stops to be rewound (rejoin): forked");
	/* no detail */
	assert_line(HA_RC_UNLEAD, NULL, "\"n1\" is no longer the leader: ");
	/* cut to the buffer, and the length it needed reported */
	assert_int_equal(ha_role_change_text(HA_RC_FENCE, "n1", "x", small, sizeof(small)),
					 (int) strlen("\"n1\" stops accepting writes (fence): x"));
	assert_string_equal(small, "\"n1\" st");
	assert_int_equal(ha_role_change_text(HA_RC_COUNT, "n1", "x", small, sizeof(small)), -1);
	assert_string_equal(small, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_change_has_a_row),
		cmocka_unit_test(test_lines),
	};

	return cmocka_run_group_tests_name("role_change", tests, NULL, NULL);
}
