/*
 * check.c - the I/O side of health checking.
 *
 * Interval checks run one HttpProbe (probe.c) per node and check kind at a
 * time and feed the pure state machine in health.c.  The /watch long-poll uses the same probe with
 * a long deadline.  What its results mean (a node down or restarting, an
 * agent without /watch) and when the next one goes out, and how each check
 * result is applied, are decided in decide.c; this file does the I/O.
 */
#include "router.h"
#include "probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_on_result(HttpProbe *probe);
static void watch_on_result(HttpProbe *probe);
static void watch_start(Node *node);
static bool watch_wanted(const Node *node);
static void check_start_probe(Node *node, CheckKind kind);
static void check_launch_probe(Node *node, CheckKind kind);
static void on_check_timer(uv_timer_t *timer);

bool
check_kind_enabled(const RouterContext *ctx, CheckKind kind)
{
	/* the replica check only matters when there is a read port */
	if (kind == CHECK_PRIMARY)
		return true;
	for (int i = 0; i < ctx->cfg->n_listeners; i++)
	{
		if (ctx->cfg->listeners[i].kind == LISTEN_READ)
			return true;
	}
	return false;
}

static bool
watch_wanted(const Node *node)
{
	return node->ctx->cfg->watch_enabled && node->cfg.watch && !node->retired;
}

static const char *
check_kind_name(CheckKind kind)
{
	return kind == CHECK_PRIMARY ? "primary" : "replica";
}

static const CheckConfig *
check_config(const Node *node, CheckKind kind)
{
	return kind == CHECK_PRIMARY ? &node->ctx->cfg->primary_check : &node->ctx->cfg->replica_check;
}

static void
check_launch_probe(Node *node, CheckKind kind)
{
	NodeCheck  *check = &node->checks[kind];
	const CheckConfig *cfg = check_config(node, kind);

	check->probe = probe_start(node, (int) kind, cfg->method, cfg->path, cfg->timeout_ms,
							   check_on_result);
	if (check->probe)
	{
		check->probe->confirm_watch = check->confirm_watch;
		check->probe->confirm_loss = check->confirm_loss;
	}
	check->confirm_watch = false;
	check->confirm_loss = NULL;
}

/*
 * Starts a check.  When the node's names are due a lookup, it is started
 * too, but the check waits for it only if it has no address yet: a resolver
 * that stalls (a container runtime reloading its DNS) must not hold back
 * the checks -- and so the failover -- of a node whose address is known.
 */
static void
check_start_probe(Node *node, CheckKind kind)
{
	if (resolve_due(node))
	{
		bool		wait = !node->check_addr_known;

		if (wait)
			node->checks[kind].waiting_resolve = true;
		resolve_node_start(node, check_on_resolved);
		if (wait)
			return;
	}
	check_launch_probe(node, kind);
}

static void
on_check_timer(uv_timer_t *timer)
{
	Node	   *node = timer->data;
	CheckKind	kind = timer == &node->checks[CHECK_PRIMARY].timer ? CHECK_PRIMARY : CHECK_REPLICA;

	if (node->retired || node->checks[kind].probe != NULL || node->checks[kind].waiting_resolve)
		return;
	check_start_probe(node, kind);
}

/* Applies one check result (from a probe, or a failed DNS lookup). */
static void
check_record(Node *node, CheckKind kind, bool passed, const char *result, int http_status,
			 uint64_t duration_ms, bool confirm_watch, const char *confirm_loss,
			 bool has_epoch, uint64_t epoch)
{
	RouterContext *ctx = node->ctx;
	NodeCheck  *check = &node->checks[kind];
	const CheckConfig *cfg = check_config(node, kind);
	uint64_t	now = uv_now(ctx->loop);
	HealthStatus before = check->health.status;
	HealthTransition transition;
	CheckFacts	facts;
	CheckVerdict verdict;

	facts.primary_check = kind == CHECK_PRIMARY;
	facts.passed = passed;
	facts.previous_http_status = check->last_http_status;
	/* a pass right after the agent's watch reported the same change is two
	 * witnesses; a failure right after another witness said the node is
	 * gone (its watch broke, a client could not connect) is two as well */
	facts.watch_says_primary = confirm_watch && node->watch.agent_known && node->watch.agent_primary;
	facts.loss_witness = confirm_loss != NULL;
	facts.has_epoch = has_epoch;
	facts.epoch = epoch;
	facts.newest_known = ctx->newest_epoch_known;
	facts.newest_epoch = ctx->newest_epoch;
	verdict = decide_check(before, &facts);
	transition = decide_apply_check(&check->health, verdict, passed);

	check->checks_total++;
	check->last_duration_ms = duration_ms;
	check->last_http_status = http_status;
	if (kind == CHECK_PRIMARY && check->health.status == HEALTH_UP && has_epoch &&
		(!ctx->newest_epoch_known || epoch > ctx->newest_epoch))
	{
		ctx->newest_epoch_known = true;
		ctx->newest_epoch = epoch;
	}

	if (transition != HEALTH_NO_CHANGE)
	{
		check->last_change_ms = now;
		log_info(&ctx->log, "node %s %s check: %s -> %s (%s, %llu ms)%s%s", node->cfg.name,
				 check_kind_name(kind), health_status_name(before),
				 health_status_name(check->health.status), result,
				 (unsigned long long) duration_ms,
				 verdict == CHECK_UP_WATCH ? ", confirmed by the agent's watch"
				 : verdict == CHECK_UP_PROMOTED ? ", newly promoted (rise not waited for)"
				 : verdict == CHECK_DOWN_LOST ? ", confirming: " : "",
				 verdict == CHECK_DOWN_LOST ? confirm_loss : "");
	}
	else if (strcmp(result, check->last_result) != 0)
		log_write(&ctx->log, passed ? LOG_DEBUG : LOG_INFO, "node %s %s check: %s (%s, %d/%d)",
				  node->cfg.name, check_kind_name(kind), result,
				  health_status_name(check->health.status),
				  passed ? check->health.ok_streak : check->health.fail_streak,
				  passed ? check->health.rise : check->health.fall);
	snprintf(check->last_result, sizeof(check->last_result), "%s", result);

	if (!ctx->stopping)
	{
		if (check->rerun)
		{
			check->rerun = false;
			check_start_probe(node, kind);
		}
		else
		{
			/* HAProxy's inter: from the start of one check to the next */
			uv_timer_start(&check->timer, on_check_timer,
						   duration_ms < cfg->interval_ms ? cfg->interval_ms - duration_ms : 0, 0);
		}
		/* the node's API answers again: its watch need not wait its turn */
		if (decide_watch_retry_on_check(node->watch.mode, http_status != 0) &&
			node->watch.state == WATCH_PAUSED && watch_wanted(node))
		{
			uv_timer_stop(&node->watch.timer);
			watch_start(node);
		}
	}
	node->ctx->on_health_change(node, kind, transition);
}

static void
check_on_result(HttpProbe *probe)
{
	Node	   *node = probe->node;
	CheckKind	kind = (CheckKind) probe->purpose;
	char		result[sizeof(node->checks[kind].last_result)];
	int			http_status;
	bool		passed;
	uint64_t	epoch = 0;
	bool		has_epoch = false;

	node->checks[kind].probe = NULL;
	passed = probe_describe(probe, result, sizeof(result), &http_status);
	if (passed && kind == CHECK_PRIMARY &&
		health_parse_epoch(probe->reply, probe->reply_len, &epoch))
	{
		has_epoch = true;
		node->has_epoch = true;
		node->leader_epoch = epoch;
	}
	check_record(node, kind, passed, result, http_status,
				 uv_now(node->ctx->loop) - probe->started_ms, probe->confirm_watch,
				 probe->confirm_loss, has_epoch, epoch);
}

void
check_on_resolved(Node *node)
{
	for (int k = 0; k < CHECK_KIND_COUNT; k++)
	{
		NodeCheck  *check = &node->checks[k];

		if (!check->waiting_resolve)
			continue;
		check->waiting_resolve = false;
		if (node->check_addr_known)
			check_launch_probe(node, (CheckKind) k);
		else
		{
			bool		confirm = check->confirm_watch;
			const char *loss = check->confirm_loss;

			check->confirm_watch = false;
			check->confirm_loss = NULL;
			check_record(node, (CheckKind) k, false, node->resolve_error, 0, 0, confirm, loss, false, 0);
		}
	}
}

void
check_request_now(Node *node, CheckKind kind, bool confirm_watch, const char *confirm_loss)
{
	NodeCheck  *check = &node->checks[kind];

	if (node->retired || node->ctx->stopping || !check_kind_enabled(node->ctx, kind))
		return;
	check->confirm_watch |= confirm_watch;
	if (confirm_loss)
		check->confirm_loss = confirm_loss;
	if (check->waiting_resolve)
		return;					/* starts when the lookup ends */
	if (check->probe != NULL)
	{
		/* the one in flight may predate the change: run another after it */
		check->rerun = true;
		return;
	}
	uv_timer_stop(&check->timer);
	check_start_probe(node, kind);
}

/* ---- /watch long-poll ---- */

static void
on_watch_timer(uv_timer_t *timer)
{
	Node	   *node = timer->data;

	if (!watch_wanted(node) || node->ctx->stopping)
	{
		node->watch.state = WATCH_IDLE;
		return;
	}
	watch_start(node);
}

static void
watch_pause(Node *node, uint64_t delay_ms)
{
	node->watch.state = WATCH_PAUSED;
	uv_timer_start(&node->watch.timer, on_watch_timer, delay_ms, 0);
}

static void
watch_start(Node *node)
{
	NodeWatch  *watch = &node->watch;
	const RouterConfig *cfg = node->ctx->cfg;
	char		path[96];

	if (!node->check_addr_known)
	{
		/* the checks look the name up; try again after one interval */
		watch_pause(node, cfg->primary_check.interval_ms);
		return;
	}

	/*
	 * Ask about the agent's own last answer, or the agent would answer at
	 * once every time the router's view lags behind it.  Not knowing it (a
	 * first watch, or one after a failure), ask without primary=: the agent
	 * answers at once, so the router knows at once that the watch works and
	 * what the agent says, and the next request is held.
	 */
	if (watch->agent_known)
		snprintf(path, sizeof(path), "/watch?primary=%d&timeout=%llu", watch->agent_primary ? 1 : 0,
				 (unsigned long long) (cfg->watch_timeout_ms / 1000));
	else
		snprintf(path, sizeof(path), "/watch?timeout=%llu",
				 (unsigned long long) (cfg->watch_timeout_ms / 1000));
	watch->probe = probe_start(node, PROBE_WATCH, CHECK_METHOD_GET, path,
							   cfg->watch_timeout_ms + cfg->primary_check.timeout_ms,
							   watch_on_result);
	if (watch->probe == NULL)
	{
		watch_pause(node, cfg->watch_backoff_ms);
		return;
	}
	watch->probe->sent_known = watch->agent_known;
	watch->probe->sent_primary = watch->agent_primary;
	watch->state = WATCH_POLLING;
}

/* Why a watch gave no usable reply, for the log and the stats page. */
static void
describe_watch_failure(const HttpProbe *probe, WatchOutcome outcome, char *out, size_t outlen)
{
	int			status = 0;

	if (outcome != WATCH_OUTCOME_NO_ANSWER &&
		health_parse_status_line(probe->reply, probe->reply_len, &status) == 1)
		snprintf(out, outlen, "HTTP %d, not a watch reply", status);
	else
		probe_describe(probe, out, outlen, &status);
}

static void
watch_on_result(HttpProbe *probe)
{
	Node	   *node = probe->node;
	RouterContext *ctx = node->ctx;
	const RouterConfig *cfg = ctx->cfg;
	NodeWatch  *watch = &node->watch;
	NodeCheck  *primary = &node->checks[CHECK_PRIMARY];
	uint64_t	now = uv_now(ctx->loop);
	WatchTiming timing = {cfg->primary_check.interval_ms, cfg->watch_timeout_ms, cfg->watch_backoff_ms};
	WatchMode	before = watch->mode;
	WatchOutcome outcome;
	WatchStep	step;
	WatchReply	reply;
	char		delay[32];

	watch->probe = NULL;
	if (ctx->stopping || !watch_wanted(node))
	{
		watch->state = WATCH_IDLE;
		return;
	}
	outcome = decide_watch_outcome(probe->outcome == PROBE_REPLY, probe->reply, probe->reply_len, &reply);
	step = decide_watch_step(before, outcome,
							 outcome == WATCH_OUTCOME_REPLY &&
							 (!probe->sent_known || reply.primary != probe->sent_primary),
							 now - probe->started_ms, &timing);
	watch->mode = step.mode;

	if (outcome != WATCH_OUTCOME_REPLY)
	{
		char		why[64];

		describe_watch_failure(probe, outcome, why, sizeof(why));
		watch->agent_known = false;
		if (step.check_now)
		{
			/*
			 * The agent answered watches and now its connection failed: it
			 * runs inside postgres, so postgres is most likely down or hung.
			 * Check at once; a failed check marks the node DOWN without
			 * waiting for `fall`.  A restarted agent answers watches at once.
			 */
			log_info(&ctx->log, "node %s: /watch lost (%s): checking at once", node->cfg.name, why);
			snprintf(watch->last_result, sizeof(watch->last_result), "lost: %s", why);
			check_request_now(node, CHECK_PRIMARY, false, "the agent's watch broke");
			check_request_now(node, CHECK_REPLICA, false, "the agent's watch broke");
			if (node->retired)
				return;
		}
		else
		{
			if (step.mode != before)
			{
				format_duration(step.next_ms, delay, sizeof(delay));
				if (step.mode == WATCH_MODE_UNSUPPORTED)
					log_info(&ctx->log, "node %s: /watch not available (%s); interval checks only, next try in %s",
							 node->cfg.name, why, delay);
				else
					log_info(&ctx->log, "node %s: /watch not answered (%s); retrying every %s, and as soon as a check is answered",
							 node->cfg.name, why, delay);
			}
			snprintf(watch->last_result, sizeof(watch->last_result), "%s: %s",
					 decide_watch_mode_name(step.mode), why);
		}
		watch_pause(node, step.next_ms);
		return;
	}

	if (before != WATCH_MODE_SUPPORTED)
		log_info(&ctx->log, "node %s: /watch supported, role changes are learned at once", node->cfg.name);
	watch->replies++;
	snprintf(watch->last_result, sizeof(watch->last_result), "HTTP %d primary=%s", reply.status,
			 reply.primary ? "true" : "false");
	if (reply.has_epoch)
	{
		node->has_epoch = true;
		node->leader_epoch = reply.leader_epoch;
	}
	watch->agent_known = true;
	watch->agent_primary = reply.primary;

	if (reply.primary != (primary->health.status == HEALTH_UP))
	{
		watch->changes++;
		log_info(&ctx->log, "node %s: agent reports %s (router has %s): checking at once",
				 node->cfg.name, reply.primary ? "primary" : "not primary",
				 health_status_name(primary->health.status));
		if (!reply.primary && primary->health.status == HEALTH_UP)
		{
			/* losing the primary role needs no confirmation: stop writes now */
			HealthTransition t = health_force(&primary->health, HEALTH_DOWN);

			primary->last_change_ms = now;
			snprintf(primary->last_result, sizeof(primary->last_result), "watch: not primary");
			log_info(&ctx->log, "node %s primary check: UP -> DOWN (agent's watch)", node->cfg.name);
			node->ctx->on_health_change(node, CHECK_PRIMARY, t);
			if (node->retired)
				return;
		}
		check_request_now(node, CHECK_PRIMARY, reply.primary, NULL);
		check_request_now(node, CHECK_REPLICA, false, NULL);
	}
	watch_pause(node, step.next_ms);
}

/* ---- per-node lifecycle ---- */

static void
on_node_timer_closed(uv_handle_t *handle)
{
	node_unref(handle->data);
}

void
check_node_start(Node *node)
{
	RouterContext *ctx = node->ctx;

	for (int k = 0; k < CHECK_KIND_COUNT; k++)
	{
		NodeCheck  *check = &node->checks[k];
		const CheckConfig *cfg = check_config(node, (CheckKind) k);

		health_init(&check->health, cfg->rise, cfg->fall);
		check->last_change_ms = uv_now(ctx->loop);
		uv_timer_init(ctx->loop, &check->timer);
		check->timer.data = node;
		node_ref(node);
		if (check_kind_enabled(ctx, (CheckKind) k))
			check_start_probe(node, (CheckKind) k);
	}
	uv_timer_init(ctx->loop, &node->watch.timer);
	node->watch.timer.data = node;
	node_ref(node);
	node->watch.state = WATCH_IDLE;
	node->watch.mode = WATCH_MODE_TRYING;
	if (watch_wanted(node))
		watch_start(node);
}

void
check_node_stop(Node *node)
{
	for (int k = 0; k < CHECK_KIND_COUNT; k++)
	{
		probe_abandon(&node->checks[k].probe);
		uv_close((uv_handle_t *) &node->checks[k].timer, on_node_timer_closed);
	}
	probe_abandon(&node->watch.probe);
	node->watch.state = WATCH_IDLE;
	uv_close((uv_handle_t *) &node->watch.timer, on_node_timer_closed);
}

void
check_node_reconfigure(Node *node, bool reset_health)
{
	RouterContext *ctx = node->ctx;

	for (int k = 0; k < CHECK_KIND_COUNT; k++)
	{
		NodeCheck  *check = &node->checks[k];
		const CheckConfig *cfg = check_config(node, (CheckKind) k);
		bool		enabled = check_kind_enabled(ctx, (CheckKind) k);

		health_set_thresholds(&check->health, cfg->rise, cfg->fall);
		if (reset_health || !enabled)
		{
			probe_abandon(&check->probe);
			uv_timer_stop(&check->timer);
			if (check->health.status != HEALTH_UNKNOWN)
				check->last_change_ms = uv_now(ctx->loop);
			health_init(&check->health, cfg->rise, cfg->fall);
			check->last_result[0] = '\0';
		}
		if (enabled && check->probe == NULL && !check->waiting_resolve &&
			!uv_is_active((uv_handle_t *) &check->timer))
			check_start_probe(node, (CheckKind) k);
	}
	if (reset_health || !watch_wanted(node))
	{
		probe_abandon(&node->watch.probe);
		uv_timer_stop(&node->watch.timer);
		node->watch.state = WATCH_IDLE;
		node->watch.mode = WATCH_MODE_TRYING;
		node->watch.agent_known = false;
		node->has_epoch = false;
	}
	if (watch_wanted(node) && node->watch.state == WATCH_IDLE)
		watch_start(node);
}
