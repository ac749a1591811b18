/*
 * Unit tests of the node's state changes (state.c).
 * Run by `make -C supervisor check`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "state.h"

#define NSTATES (NODE_FAILED + 1)

/* every state has its own name */
static void
test_names(void **state)
{
	(void) state;
	for (int i = 0; i < NSTATES; i++)
	{
		assert_string_not_equal(node_state_name((NodeState) i), "?");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(node_state_name((NodeState) i), node_state_name((NodeState) j));
	}
}

/* no change to the same state (it would log a line that says nothing) */
static void
test_not_to_itself(void **state)
{
	(void) state;
	for (int i = 0; i < NSTATES; i++)
		assert_false(node_state_allows((NodeState) i, (NodeState) i));
}

/* failed is final; stopping leads only to failed */
static void
test_final_states(void **state)
{
	(void) state;
	for (int i = 0; i < NSTATES; i++)
	{
		assert_false(node_state_allows(NODE_FAILED, (NodeState) i));
		if (i != NODE_FAILED)
			assert_false(node_state_allows(NODE_STOPPING, (NodeState) i));
	}
	assert_true(node_state_allows(NODE_STOPPING, NODE_FAILED));
}

/* the others may go anywhere else: the supervisor's steps follow the agent */
static void
test_others_free(void **state)
{
	(void) state;
	for (int i = 0; i < NSTATES; i++)
	{
		if (i == NODE_STOPPING || i == NODE_FAILED)
			continue;
		for (int j = 0; j < NSTATES; j++)
			if (j != i)
				assert_true(node_state_allows((NodeState) i, (NodeState) j));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_not_to_itself),
		cmocka_unit_test(test_final_states),
		cmocka_unit_test(test_others_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
