/*
 * test_decide.c - unit tests of the router's decisions (decide.c): what a
 * /watch result means and when the next one goes out, when a check result
 * applies at once, and which node is the write target.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "decide.h"

/* the sample configuration: interval 3s, watch timeout 30s, backoff 30s */
static const WatchTiming sample = {3000, 30000, 30000};

static WatchOutcome
outcome_of(bool answered, const char *text)
{
	WatchReply	reply;

	return decide_watch_outcome(answered, text, strlen(text), &reply);
}

static void
test_watch_outcome(void **state)
{
	WatchReply	reply;
	const char *ok = "HTTP/1.0 200 OK\r\nContent-Length: 34\r\n\r\n{\"primary\":true,\"leader_epoch\":42}";

	(void) state;
	assert_int_equal(decide_watch_outcome(true, ok, strlen(ok), &reply), WATCH_OUTCOME_REPLY);
	assert_true(reply.primary);
	assert_int_equal(reply.leader_epoch, 42);
	/* only "the endpoint does not exist" means not supported */
	assert_int_equal(outcome_of(true, "HTTP/1.0 404 Not Found\r\n\r\n"), WATCH_OUTCOME_NOT_FOUND);
	assert_int_equal(outcome_of(true, "HTTP/1.1 501 Not Implemented\r\n\r\n"), WATCH_OUTCOME_NOT_FOUND);
	/* refused, reset, timed out: no answer, whatever bytes arrived */
	assert_int_equal(outcome_of(false, ""), WATCH_OUTCOME_NO_ANSWER);
	assert_int_equal(outcome_of(false, "HTTP/1.0 404 Not Found\r\n\r\n"), WATCH_OUTCOME_NO_ANSWER);
	assert_int_equal(outcome_of(true, ""), WATCH_OUTCOME_NO_ANSWER);
	/* an answer that is not a watch reply: a 503 error, Patroni's status JSON, garbage */
	assert_int_equal(outcome_of(true, "HTTP/1.0 503 Service Unavailable\r\n\r\n{\"error\":\"busy\"}"),
					 WATCH_OUTCOME_BAD_REPLY);
	assert_int_equal(outcome_of(true, "HTTP/1.0 200 OK\r\n\r\n{\"state\":\"running\",\"role\":\"master\"}"),
					 WATCH_OUTCOME_BAD_REPLY);
	assert_int_equal(outcome_of(true, "garbage\r\n\r\n"), WATCH_OUTCOME_BAD_REPLY);
	assert_int_equal(outcome_of(true, "HTTP/1.0 404"), WATCH_OUTCOME_BAD_REPLY);	/* incomplete */
}

/* the defect of issue 9: a first /watch refused must not stop long-polling */
static void
test_watch_refused_before_any_answer_retries_at_interval(void **state)
{
	WatchStep	step;

	(void) state;
	step = decide_watch_step(WATCH_MODE_TRYING, WATCH_OUTCOME_NO_ANSWER, false, 1, &sample);
	assert_int_equal(step.mode, WATCH_MODE_RETRYING);
	assert_int_equal(step.next_ms, 3000);
	assert_false(step.check_now);
	/* and again: still every interval, never the 30 s back-off */
	step = decide_watch_step(WATCH_MODE_RETRYING, WATCH_OUTCOME_NO_ANSWER, false, 5000, &sample);
	assert_int_equal(step.mode, WATCH_MODE_RETRYING);
	assert_int_equal(step.next_ms, 3000);
	assert_false(step.check_now);
	/* a node that once said 404 and is now refused: down, not "unsupported" */
	step = decide_watch_step(WATCH_MODE_UNSUPPORTED, WATCH_OUTCOME_NO_ANSWER, false, 1, &sample);
	assert_int_equal(step.mode, WATCH_MODE_RETRYING);
	assert_int_equal(step.next_ms, 3000);
}

static void
test_watch_lost_checks_at_once(void **state)
{
	WatchStep	step;
	WatchTiming fast = {200, 30000, 30000};

	(void) state;
	step = decide_watch_step(WATCH_MODE_SUPPORTED, WATCH_OUTCOME_NO_ANSWER, false, 12000, &sample);
	assert_int_equal(step.mode, WATCH_MODE_LOST);
	assert_true(step.check_now);
	assert_int_equal(step.next_ms, WATCH_LOST_RETRY_MS);
	/* still refused while postgres restarts: every second, no more checks at once */
	step = decide_watch_step(WATCH_MODE_LOST, WATCH_OUTCOME_NO_ANSWER, false, 1, &sample);
	assert_int_equal(step.mode, WATCH_MODE_LOST);
	assert_false(step.check_now);
	assert_int_equal(step.next_ms, WATCH_LOST_RETRY_MS);
	/* never later than the check interval */
	step = decide_watch_step(WATCH_MODE_SUPPORTED, WATCH_OUTCOME_NO_ANSWER, false, 1, &fast);
	assert_int_equal(step.next_ms, 200);
	/* answering again: supported */
	step = decide_watch_step(WATCH_MODE_LOST, WATCH_OUTCOME_REPLY, true, 1, &sample);
	assert_int_equal(step.mode, WATCH_MODE_SUPPORTED);
	/* a lost watch that now gets 404: a different server, not supported */
	step = decide_watch_step(WATCH_MODE_LOST, WATCH_OUTCOME_NOT_FOUND, false, 1, &sample);
	assert_int_equal(step.mode, WATCH_MODE_UNSUPPORTED);
	/* or another answer: retried at the interval */
	step = decide_watch_step(WATCH_MODE_LOST, WATCH_OUTCOME_BAD_REPLY, false, 1, &sample);
	assert_int_equal(step.mode, WATCH_MODE_RETRYING);
	assert_int_equal(step.next_ms, 3000);
	/* an answer that is not a watch reply is not a lost node */
	step = decide_watch_step(WATCH_MODE_SUPPORTED, WATCH_OUTCOME_BAD_REPLY, false, 1, &sample);
	assert_int_equal(step.mode, WATCH_MODE_RETRYING);
	assert_false(step.check_now);
	assert_int_equal(step.next_ms, 3000);
}

static void
test_watch_not_found_backs_off(void **state)
{
	WatchStep	step;

	(void) state;
	step = decide_watch_step(WATCH_MODE_TRYING, WATCH_OUTCOME_NOT_FOUND, false, 1, &sample);
	assert_int_equal(step.mode, WATCH_MODE_UNSUPPORTED);
	assert_int_equal(step.next_ms, 30000);
	assert_false(step.check_now);
	step = decide_watch_step(WATCH_MODE_SUPPORTED, WATCH_OUTCOME_NOT_FOUND, false, 1, &sample);
	assert_int_equal(step.mode, WATCH_MODE_UNSUPPORTED);
	assert_false(step.check_now);
}

static void
test_watch_reply_pacing(void **state)
{
	WatchStep	step;

	(void) state;
	/* held for the whole timeout: ask again at once */
	step = decide_watch_step(WATCH_MODE_SUPPORTED, WATCH_OUTCOME_REPLY, false, 30000, &sample);
	assert_int_equal(step.mode, WATCH_MODE_SUPPORTED);
	assert_int_equal(step.next_ms, 0);
	/* reported a change: again almost at once */
	step = decide_watch_step(WATCH_MODE_SUPPORTED, WATCH_OUTCOME_REPLY, true, 3, &sample);
	assert_int_equal(step.next_ms, WATCH_CHANGE_PAUSE_MS);
	/* answered early without a change (not held): at most once a second */
	step = decide_watch_step(WATCH_MODE_SUPPORTED, WATCH_OUTCOME_REPLY, false, 3, &sample);
	assert_int_equal(step.next_ms, WATCH_EARLY_PAUSE_MS);
	/* the first reply after retries makes it supported again */
	step = decide_watch_step(WATCH_MODE_RETRYING, WATCH_OUTCOME_REPLY, true, 3, &sample);
	assert_int_equal(step.mode, WATCH_MODE_SUPPORTED);
	assert_false(step.check_now);
}

static void
test_watch_retry_on_check(void **state)
{
	(void) state;
	assert_true(decide_watch_retry_on_check(WATCH_MODE_RETRYING, true));
	assert_true(decide_watch_retry_on_check(WATCH_MODE_LOST, true));
	assert_false(decide_watch_retry_on_check(WATCH_MODE_LOST, false));
	assert_false(decide_watch_retry_on_check(WATCH_MODE_RETRYING, false));
	/* a watch that works or is in its first attempt is left alone */
	assert_false(decide_watch_retry_on_check(WATCH_MODE_SUPPORTED, true));
	assert_false(decide_watch_retry_on_check(WATCH_MODE_TRYING, true));
	/* 404: the back-off stands */
	assert_false(decide_watch_retry_on_check(WATCH_MODE_UNSUPPORTED, true));
	assert_string_equal(decide_watch_mode_name(WATCH_MODE_RETRYING), "retrying");
	assert_string_equal(decide_watch_mode_name(WATCH_MODE_UNSUPPORTED), "unsupported");
}

static CheckFacts
pass_of_primary_check(void)
{
	CheckFacts	f;

	memset(&f, 0, sizeof(f));
	f.primary_check = true;
	f.passed = true;
	return f;
}

static void
test_check_watch_confirms(void **state)
{
	CheckFacts	f = pass_of_primary_check();

	(void) state;
	f.watch_says_primary = true;
	f.previous_http_status = 0;
	assert_int_equal(decide_check(HEALTH_DOWN, &f), CHECK_UP_WATCH);
	assert_int_equal(decide_check(HEALTH_UNKNOWN, &f), CHECK_UP_WATCH);
	assert_int_equal(decide_check(HEALTH_UP, &f), CHECK_COUNTS);
	/* not for the replica check */
	f.primary_check = false;
	assert_int_equal(decide_check(HEALTH_DOWN, &f), CHECK_COUNTS);
}

static void
test_check_promoted_replica_up_at_once(void **state)
{
	CheckFacts	f = pass_of_primary_check();
	HealthState h;

	(void) state;
	/* it answered "not primary" (503) and now passes: a promotion */
	f.previous_http_status = 503;
	assert_int_equal(decide_check(HEALTH_DOWN, &f), CHECK_UP_PROMOTED);
	health_init(&h, 2, 3);
	health_record(&h, false);
	assert_int_equal(decide_apply_check(&h, decide_check(h.status, &f), true), HEALTH_WENT_UP);
	assert_int_equal(h.status, HEALTH_UP);
	/* the same with a high rise */
	health_init(&h, 10, 3);
	health_record(&h, false);
	assert_int_equal(decide_apply_check(&h, decide_check(h.status, &f), true), HEALTH_WENT_UP);
}

static void
test_check_newer_epoch_up_at_once(void **state)
{
	CheckFacts	f = pass_of_primary_check();

	(void) state;
	/* unreachable before (no HTTP answer), but a newer leader than any seen */
	f.previous_http_status = 0;
	f.has_epoch = true;
	f.epoch = 200;
	f.newest_known = true;
	f.newest_epoch = 100;
	assert_int_equal(decide_check(HEALTH_DOWN, &f), CHECK_UP_PROMOTED);
	/* the leader the router already knew, back from unreachable: rise applies */
	f.epoch = 100;
	assert_int_equal(decide_check(HEALTH_DOWN, &f), CHECK_COUNTS);
	/* an older leader: rise applies (and topology prefers the newer one) */
	f.epoch = 50;
	assert_int_equal(decide_check(HEALTH_DOWN, &f), CHECK_COUNTS);
	/* no epoch seen on any primary yet: nothing to be newer than */
	f.epoch = 200;
	f.newest_known = false;
	assert_int_equal(decide_check(HEALTH_DOWN, &f), CHECK_COUNTS);
	/* a reply without an epoch after an unreachable spell */
	f.newest_known = true;
	f.has_epoch = false;
	assert_int_equal(decide_check(HEALTH_DOWN, &f), CHECK_COUNTS);
}

static void
test_check_back_from_unreachable_needs_rise(void **state)
{
	CheckFacts	f = pass_of_primary_check();
	HealthState h;

	(void) state;
	health_init(&h, 2, 3);
	health_record(&h, false);	/* L4CON: DOWN */
	f.previous_http_status = 0;
	assert_int_equal(decide_apply_check(&h, decide_check(h.status, &f), true), HEALTH_NO_CHANGE);
	/* the second pass in a row: previous 200, still by rise */
	f.previous_http_status = 200;
	assert_int_equal(decide_check(h.status, &f), CHECK_COUNTS);
	assert_int_equal(decide_apply_check(&h, decide_check(h.status, &f), true), HEALTH_WENT_UP);
	/* the first result of a fresh router decides at once anyway */
	health_init(&h, 2, 3);
	assert_int_equal(decide_apply_check(&h, decide_check(h.status, &f), true), HEALTH_WENT_UP);
}

static void
test_check_loss_witness(void **state)
{
	CheckFacts	f;
	HealthState h;

	(void) state;
	memset(&f, 0, sizeof(f));
	f.primary_check = true;
	f.passed = false;
	f.loss_witness = true;
	assert_int_equal(decide_check(HEALTH_UP, &f), CHECK_DOWN_LOST);
	assert_int_equal(decide_check(HEALTH_DOWN, &f), CHECK_COUNTS);
	f.primary_check = false;
	assert_int_equal(decide_check(HEALTH_UP, &f), CHECK_DOWN_LOST);
	health_init(&h, 2, 3);
	health_record(&h, true);
	assert_int_equal(decide_apply_check(&h, CHECK_DOWN_LOST, false), HEALTH_WENT_DOWN);
	/* without a witness a failure waits for fall */
	f.loss_witness = false;
	assert_int_equal(decide_check(HEALTH_UP, &f), CHECK_COUNTS);
	/* a failed check never promotes, whatever came before */
	f.primary_check = true;
	f.previous_http_status = 503;
	f.has_epoch = true;
	f.epoch = 9;
	f.newest_known = true;
	assert_int_equal(decide_check(HEALTH_DOWN, &f), CHECK_COUNTS);
}

static void
test_write_target(void **state)
{
	WriterCandidate c[3];
	int			up;

	(void) state;
	memset(c, 0, sizeof(c));
	assert_int_equal(decide_write_target(c, 3, &up), -1);
	assert_int_equal(up, 0);
	/* one passing: it, with or without an epoch */
	c[1].up = true;
	assert_int_equal(decide_write_target(c, 3, &up), 1);
	assert_int_equal(up, 1);
	/* two passing, both with epochs: the newer leader; an older leader never wins */
	c[1] = (WriterCandidate) {true, true, 100};
	c[2] = (WriterCandidate) {true, true, 200};
	assert_int_equal(decide_write_target(c, 3, &up), 2);
	assert_int_equal(up, 2);
	c[0] = (WriterCandidate) {true, true, 150};
	assert_int_equal(decide_write_target(c, 3, NULL), 2);
	/* a tie on the highest epoch: nobody */
	c[0].epoch = 200;
	assert_int_equal(decide_write_target(c, 3, NULL), -1);
	/* a tie below the highest does not matter */
	c[0].epoch = 100;
	assert_int_equal(decide_write_target(c, 3, NULL), 2);
	/* one of them without an epoch: nobody (hold) */
	c[0].has_epoch = false;
	assert_int_equal(decide_write_target(c, 3, NULL), -1);
	assert_int_equal(decide_write_target(c, 0, &up), -1);
	assert_int_equal(up, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watch_outcome),
		cmocka_unit_test(test_watch_refused_before_any_answer_retries_at_interval),
		cmocka_unit_test(test_watch_lost_checks_at_once),
		cmocka_unit_test(test_watch_not_found_backs_off),
		cmocka_unit_test(test_watch_reply_pacing),
		cmocka_unit_test(test_watch_retry_on_check),
		cmocka_unit_test(test_check_watch_confirms),
		cmocka_unit_test(test_check_promoted_replica_up_at_once),
		cmocka_unit_test(test_check_newer_epoch_up_at_once),
		cmocka_unit_test(test_check_back_from_unreachable_needs_rise),
		cmocka_unit_test(test_check_loss_witness),
		cmocka_unit_test(test_write_target),
	};

	return cmocka_run_group_tests_name("decide", tests, NULL, NULL);
}
