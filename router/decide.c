/*
 * decide.c - the router's decisions from observed facts (see decide.h).
 */
#include "decide.h"

WatchOutcome
decide_watch_outcome(bool answered, const char *buf, size_t len, WatchReply *reply)
{
	int			status = 0;

	if (!answered || len == 0)
		return WATCH_OUTCOME_NO_ANSWER;
	if (health_parse_watch_reply(buf, len, reply))
		return WATCH_OUTCOME_REPLY;
	if (health_parse_status_line(buf, len, &status) == 1 && (status == 404 || status == 501))
		return WATCH_OUTCOME_NOT_FOUND;
	return WATCH_OUTCOME_BAD_REPLY;
}

WatchStep
decide_watch_step(WatchMode before, WatchOutcome outcome, bool reply_changed,
				  uint64_t elapsed_ms, const WatchTiming *timing)
{
	WatchStep	step = {WATCH_MODE_RETRYING, false, timing->check_interval_ms};

	switch (outcome)
	{
		case WATCH_OUTCOME_REPLY:
			step.mode = WATCH_MODE_SUPPORTED;
			if (reply_changed)
				step.next_ms = WATCH_CHANGE_PAUSE_MS;
			else if (elapsed_ms * 2 < timing->timeout_ms)
				step.next_ms = WATCH_EARLY_PAUSE_MS;
			else
				step.next_ms = 0;
			break;
		case WATCH_OUTCOME_NOT_FOUND:
			step.mode = WATCH_MODE_UNSUPPORTED;
			step.next_ms = timing->backoff_ms;
			break;
		case WATCH_OUTCOME_NO_ANSWER:
			if (before == WATCH_MODE_SUPPORTED || before == WATCH_MODE_LOST)
			{
				/* it answered watches and went away: postgres is down, hung or
				 * restarting; the first time, check at once */
				step.mode = WATCH_MODE_LOST;
				step.check_now = before == WATCH_MODE_SUPPORTED;
				if (step.next_ms > WATCH_LOST_RETRY_MS)
					step.next_ms = WATCH_LOST_RETRY_MS;
			}
			break;
		case WATCH_OUTCOME_BAD_REPLY:
			break;
	}
	return step;
}

bool
decide_watch_retry_on_check(WatchMode mode, bool check_answered)
{
	return (mode == WATCH_MODE_RETRYING || mode == WATCH_MODE_LOST) && check_answered;
}

const char *
decide_watch_mode_name(WatchMode mode)
{
	switch (mode)
	{
		case WATCH_MODE_TRYING: return "trying";
		case WATCH_MODE_SUPPORTED: return "supported";
		case WATCH_MODE_RETRYING: return "retrying";
		case WATCH_MODE_LOST: return "lost";
		case WATCH_MODE_UNSUPPORTED: return "unsupported";
	}
	return "?";
}

CheckVerdict
decide_check(HealthStatus status, const CheckFacts *facts)
{
	if (facts->passed && facts->primary_check && status != HEALTH_UP)
	{
		bool		said_not_primary;
		bool		newer_epoch;

		if (facts->watch_says_primary)
			return CHECK_UP_WATCH;
		said_not_primary = facts->previous_http_status != 0 && facts->previous_http_status != 200;
		newer_epoch = facts->has_epoch && facts->newest_known && facts->epoch > facts->newest_epoch;
		if (status == HEALTH_DOWN && (said_not_primary || newer_epoch))
			return CHECK_UP_PROMOTED;
	}
	if (!facts->passed && facts->loss_witness && status == HEALTH_UP)
		return CHECK_DOWN_LOST;
	return CHECK_COUNTS;
}

HealthTransition
decide_apply_check(HealthState *state, CheckVerdict verdict, bool passed)
{
	switch (verdict)
	{
		case CHECK_UP_WATCH:
		case CHECK_UP_PROMOTED:
			state->ok_streak++;
			state->fail_streak = 0;
			return health_force(state, HEALTH_UP);
		case CHECK_DOWN_LOST:
			state->fail_streak++;
			state->ok_streak = 0;
			return health_force(state, HEALTH_DOWN);
		case CHECK_COUNTS:
			break;
	}
	return health_record(state, passed);
}

int
decide_write_target(const WriterCandidate *candidates, int n, int *up_count)
{
	int			best = -1;
	int			count = 0;
	bool		all_have_epoch = true;
	bool		tie = false;

	for (int i = 0; i < n; i++)
	{
		const WriterCandidate *c = &candidates[i];

		if (!c->up)
			continue;
		count++;
		if (!c->has_epoch)
			all_have_epoch = false;
		if (best < 0)
			best = i;
		else if (c->has_epoch && candidates[best].has_epoch)
		{
			if (c->epoch == candidates[best].epoch)
				tie = true;
			else if (c->epoch > candidates[best].epoch)
			{
				best = i;
				tie = false;
			}
		}
	}
	if (up_count)
		*up_count = count;
	if (count > 1 && (!all_have_epoch || tie))
		return -1;
	return best;
}
