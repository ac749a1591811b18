/*
 * stats_render.c - the stats documents: an HTML page laid out like
 * HAProxy's (one table per service, one row per node), the same data as
 * JSON, and Prometheus text metrics.  Read-only views of the context.
 */
#include "router.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *
service_status(const Node *node, ServiceKind kind)
{
	return health_status_name(node->checks[kind == SERVICE_WRITE ? CHECK_PRIMARY : CHECK_REPLICA].health.status);
}

static const NodeCheck *
service_check(const Node *node, ServiceKind kind)
{
	return &node->checks[kind == SERVICE_WRITE ? CHECK_PRIMARY : CHECK_REPLICA];
}

static bool
service_in_use(const RouterContext *ctx, ServiceKind kind)
{
	for (int i = 0; i < ctx->cfg->n_listeners; i++)
	{
		if ((kind == SERVICE_WRITE && ctx->cfg->listeners[i].kind == LISTEN_WRITE) ||
			(kind == SERVICE_READ && ctx->cfg->listeners[i].kind == LISTEN_READ))
			return true;
	}
	return false;
}

static void
listener_list(const RouterContext *ctx, ServiceKind kind, StrBuf *out, bool json)
{
	bool		first = true;
	ListenKind	wanted = kind == SERVICE_WRITE ? LISTEN_WRITE : LISTEN_READ;

	for (int i = 0; i < ctx->cfg->n_listeners; i++)
	{
		char		addr[CONFIG_HOST_MAX + 8];

		if (ctx->cfg->listeners[i].kind != wanted)
			continue;
		snprintf(addr, sizeof(addr), "%s:%u", ctx->cfg->listeners[i].addr.host,
				 ctx->cfg->listeners[i].addr.port);
		if (!first)
			sb_puts(out, json ? "," : " ");
		if (json)
			sb_json_string(out, addr);
		else
			sb_html(out, addr);
		first = false;
	}
}

static void
html_counters(StrBuf *out, const TrafficStats *t)
{
	sb_printf(out, "<td class=\"cur\">%llu</td><td>%llu</td><td class=\"total\">%llu</td>"
			  "<td>%llu</td><td>%llu</td><td>%llu</td>",
			  (unsigned long long) t->cur_sessions, (unsigned long long) t->max_sessions,
			  (unsigned long long) t->total_sessions, (unsigned long long) t->bytes_in,
			  (unsigned long long) t->bytes_out, (unsigned long long) t->errors);
}

void
stats_render_html(const RouterContext *ctx, StrBuf *out)
{
	uint64_t	now = uv_now(ctx->loop);
	char		uptime[32];
	const Node *target = ctx->services[SERVICE_WRITE].target;

	sb_puts(out,
			"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
			"<title>pg_ha_router statistics</title><style>"
			"body{font-family:Arial,Helvetica,sans-serif;font-size:13px;margin:12px}"
			"h1{font-size:18px;color:#fff;background:#20507a;padding:6px}"
			"h2{font-size:15px;margin:18px 0 4px 0}"
			"table{border-collapse:collapse;margin-bottom:8px}"
			"th,td{border:1px solid #999;padding:2px 6px;text-align:right}"
			"th{background:#bfcfdf}td.name,th.name{text-align:left}"
			"tr.frontend td{background:#e8f0e8;font-weight:bold}"
			"tr.UP td{background:#c0ffc0}tr.DOWN td{background:#ff9090}"
			"tr.UNKNOWN td{background:#e0e0e0}td.status{font-weight:bold;text-align:center}"
			"</style></head><body>\n<h1>pg_ha_router statistics</h1>\n");
	sb_printf(out, "<p id=\"general\">version %s, pid %d, uptime %s, %d client session%s (maxconn %d), "
			  "write target: <b id=\"write-target\">", ROUTER_VERSION, (int) getpid(),
			  format_duration(now - ctx->started_ms, uptime, sizeof(uptime)), ctx->session_count,
			  ctx->session_count == 1 ? "" : "s", ctx->cfg->maxconn);
	sb_html(out, target ? target->cfg.name : "none");
	sb_printf(out, "</b>, nodes passing the primary check: %d, reloads: %llu%s</p>\n",
			  ctx->primaries_seen, (unsigned long long) ctx->reloads,
			  ctx->draining ? ", <b>draining</b>" : "");

	for (int k = 0; k < SERVICE_COUNT; k++)
	{
		const Service *service = &ctx->services[k];
		ListLink   *pos;

		if (!service_in_use(ctx, (ServiceKind) k))
			continue;
		sb_printf(out, "<h2>%s (", service->name);
		listener_list(ctx, (ServiceKind) k, out, false);
		sb_printf(out, ") &mdash; %s check %s</h2>\n<table class=\"service\" id=\"service-%s\">\n",
				  k == SERVICE_WRITE ? "primary" : "replica",
				  k == SERVICE_WRITE ? ctx->cfg->primary_check.path : ctx->cfg->replica_check.path,
				  service->name);
		sb_puts(out, "<tr><th class=\"name\">Name</th><th>Address</th><th>Status</th>"
				"<th>Last check</th><th>Check time</th><th>Last change</th>"
				"<th>Cur</th><th>Max</th><th>Total</th><th>Bytes in</th><th>Bytes out</th>"
				"<th>Errors</th><th>Limit</th><th>Held</th><th>Refused</th></tr>\n");
		sb_printf(out, "<tr class=\"frontend\"><td class=\"name\">FRONTEND</td><td></td>"
				  "<td class=\"status\">%s</td><td></td><td></td><td></td>",
				  ctx->draining ? "DRAIN" : "OPEN");
		html_counters(out, &service->traffic);
		sb_printf(out, "<td>%d</td><td>%d (%llu total, %llu timed out)</td><td>%llu</td></tr>\n",
				  ctx->cfg->maxconn, service->held_count,
				  (unsigned long long) service->held_total,
				  (unsigned long long) service->hold_timeouts,
				  (unsigned long long) service->refused);
		for (pos = ctx->nodes.next; pos != &ctx->nodes; pos = pos->next)
		{
			const Node *node = container_of(pos, Node, link);
			const NodeCheck *check = service_check(node, (ServiceKind) k);
			const char *status = service_status(node, (ServiceKind) k);
			char		changed[32];

			sb_printf(out, "<tr class=\"node %s\" data-service=\"%s\" data-node=\"", status, service->name);
			sb_html(out, node->cfg.name);
			sb_printf(out, "\" data-status=\"%s\"><td class=\"name\">", status);
			sb_html(out, node->cfg.name);
			if (k == SERVICE_WRITE && node == target)
				sb_puts(out, " (primary)");
			sb_printf(out, "</td><td>%s:%u</td><td class=\"status\">%s</td><td>", node->cfg.addr.host,
					  node->cfg.addr.port, status);
			sb_html(out, check->last_result[0] ? check->last_result : "pending");
			sb_printf(out, "</td><td>%llums</td><td>%s ago</td>",
					  (unsigned long long) check->last_duration_ms,
					  format_duration(now - check->last_change_ms, changed, sizeof(changed)));
			html_counters(out, &node->traffic[k]);
			if (node->cfg.maxconn > 0)
				sb_printf(out, "<td>%d</td>", node->cfg.maxconn);
			else
				sb_puts(out, "<td>-</td>");
			sb_puts(out, "<td></td><td></td></tr>\n");
		}
		sb_puts(out, "</table>\n");
	}
	sb_puts(out, "<p>Also: <a href=\"/stats.json\">/stats.json</a>, <a href=\"/metrics\">/metrics</a></p>\n"
			"</body></html>\n");
}

static void
json_counters(StrBuf *out, const TrafficStats *t)
{
	sb_printf(out, "\"cur_sessions\":%llu,\"max_sessions\":%llu,\"total_sessions\":%llu,"
			  "\"bytes_in\":%llu,\"bytes_out\":%llu,\"errors\":%llu",
			  (unsigned long long) t->cur_sessions, (unsigned long long) t->max_sessions,
			  (unsigned long long) t->total_sessions, (unsigned long long) t->bytes_in,
			  (unsigned long long) t->bytes_out, (unsigned long long) t->errors);
}

void
stats_render_json(const RouterContext *ctx, StrBuf *out)
{
	uint64_t	now = uv_now(ctx->loop);
	const Node *target = ctx->services[SERVICE_WRITE].target;
	ListLink   *pos;
	bool		first_service = true;

	sb_printf(out, "{\"version\":\"%s\",\"pid\":%d,\"uptime_ms\":%llu,\"sessions\":%d,\"maxconn\":%d,"
			  "\"draining\":%s,\"reloads\":%llu,\"reload_failures\":%llu,\"primaries_seen\":%d,"
			  "\"stats_connections\":%d,\"stats_accepted\":%llu,\"stats_evicted\":%llu,\"write_target\":",
			  ROUTER_VERSION, (int) getpid(), (unsigned long long) (now - ctx->started_ms),
			  ctx->session_count, ctx->cfg->maxconn, ctx->draining ? "true" : "false",
			  (unsigned long long) ctx->reloads, (unsigned long long) ctx->reload_failures,
			  ctx->primaries_seen, ctx->stats_conn_count,
			  (unsigned long long) ctx->stats_accepted, (unsigned long long) ctx->stats_evicted);
	if (target)
		sb_json_string(out, target->cfg.name);
	else
		sb_puts(out, "null");
	sb_puts(out, ",\"services\":[");
	for (int k = 0; k < SERVICE_COUNT; k++)
	{
		const Service *service = &ctx->services[k];
		bool		first_node = true;

		if (!service_in_use(ctx, (ServiceKind) k))
			continue;
		if (!first_service)
			sb_puts(out, ",");
		first_service = false;
		sb_printf(out, "{\"name\":\"%s\",\"listeners\":[", service->name);
		listener_list(ctx, (ServiceKind) k, out, true);
		sb_puts(out, "],");
		json_counters(out, &service->traffic);
		sb_printf(out, ",\"refused\":%llu,\"held\":%d,\"held_total\":%llu,\"held_served\":%llu,"
				  "\"hold_timeouts\":%llu,\"nodes\":[",
				  (unsigned long long) service->refused, service->held_count,
				  (unsigned long long) service->held_total,
				  (unsigned long long) service->held_served,
				  (unsigned long long) service->hold_timeouts);
		for (pos = ctx->nodes.next; pos != &ctx->nodes; pos = pos->next)
		{
			const Node *node = container_of(pos, Node, link);
			const NodeCheck *check = service_check(node, (ServiceKind) k);

			if (!first_node)
				sb_puts(out, ",");
			first_node = false;
			sb_puts(out, "{\"name\":");
			sb_json_string(out, node->cfg.name);
			sb_printf(out, ",\"address\":\"%s:%u\",\"status\":\"%s\",\"check_result\":",
					  node->cfg.addr.host, node->cfg.addr.port, service_status(node, (ServiceKind) k));
			sb_json_string(out, check->last_result);
			sb_printf(out, ",\"check_http_status\":%d,\"check_duration_ms\":%llu,\"last_change_ms_ago\":%llu,"
					  "\"maxconn\":%d,",
					  check->last_http_status, (unsigned long long) check->last_duration_ms,
					  (unsigned long long) (now - check->last_change_ms), node->cfg.maxconn);
			json_counters(out, &node->traffic[k]);
			sb_puts(out, "}");
		}
		sb_puts(out, "]}");
	}
	sb_puts(out, "],\"nodes\":[");
	for (pos = ctx->nodes.next; pos != &ctx->nodes; pos = pos->next)
	{
		const Node *node = container_of(pos, Node, link);

		if (pos != ctx->nodes.next)
			sb_puts(out, ",");
		sb_puts(out, "{\"name\":");
		sb_json_string(out, node->cfg.name);
		sb_printf(out, ",\"check_address\":\"%s:%u\",\"primary\":\"%s\",\"replica\":\"%s\",\"watch\":\"%s\","
				  "\"watch_result\":",
				  node->cfg.check_addr.host, node->cfg.check_addr.port,
				  health_status_name(node->checks[CHECK_PRIMARY].health.status),
				  health_status_name(node->checks[CHECK_REPLICA].health.status),
				  node->watch.state == WATCH_IDLE ? "off" : decide_watch_mode_name(node->watch.mode));
		sb_json_string(out, node->watch.last_result);
		if (node->has_epoch)
			sb_printf(out, ",\"leader_epoch\":%llu", (unsigned long long) node->leader_epoch);
		sb_puts(out, "}");
	}
	sb_puts(out, "]}\n");
}

static void
metric_header(StrBuf *out, const char *name, const char *type, const char *help)
{
	sb_printf(out, "# HELP pg_ha_router_%s %s\n# TYPE pg_ha_router_%s %s\n", name, help, name, type);
}

typedef enum NodeMetric
{
	NM_UP, NM_CUR, NM_TOTAL, NM_IN, NM_OUT, NM_ERRORS, NM_CHECK_SECONDS
} NodeMetric;

static void
node_metric(const RouterContext *ctx, StrBuf *out, const char *name, const char *type,
			const char *help, NodeMetric which)
{
	ListLink   *pos;

	metric_header(out, name, type, help);
	for (int k = 0; k < SERVICE_COUNT; k++)
	{
		if (!service_in_use(ctx, (ServiceKind) k))
			continue;
		for (pos = ctx->nodes.next; pos != &ctx->nodes; pos = pos->next)
		{
			const Node *node = container_of(pos, Node, link);
			const TrafficStats *t = &node->traffic[k];
			const NodeCheck *check = service_check(node, (ServiceKind) k);

			sb_printf(out, "pg_ha_router_%s{service=\"%s\",node=\"%s\"} ", name,
					  ctx->services[k].name, node->cfg.name);
			switch (which)
			{
				case NM_UP: sb_printf(out, "%d\n", check->health.status == HEALTH_UP); break;
				case NM_CUR: sb_printf(out, "%llu\n", (unsigned long long) t->cur_sessions); break;
				case NM_TOTAL: sb_printf(out, "%llu\n", (unsigned long long) t->total_sessions); break;
				case NM_IN: sb_printf(out, "%llu\n", (unsigned long long) t->bytes_in); break;
				case NM_OUT: sb_printf(out, "%llu\n", (unsigned long long) t->bytes_out); break;
				case NM_ERRORS: sb_printf(out, "%llu\n", (unsigned long long) t->errors); break;
				case NM_CHECK_SECONDS:
					sb_printf(out, "%.3f\n", (double) check->last_duration_ms / 1000.0);
					break;
			}
		}
	}
}

void
stats_render_metrics(const RouterContext *ctx, StrBuf *out)
{
	uint64_t	now = uv_now(ctx->loop);

	metric_header(out, "uptime_seconds", "gauge", "Seconds since the router started.");
	sb_printf(out, "pg_ha_router_uptime_seconds %.3f\n", (double) (now - ctx->started_ms) / 1000.0);
	metric_header(out, "sessions", "gauge", "Client sessions counted against maxconn.");
	sb_printf(out, "pg_ha_router_sessions %d\n", ctx->session_count);
	metric_header(out, "maxconn", "gauge", "Global limit on client sessions.");
	sb_printf(out, "pg_ha_router_maxconn %d\n", ctx->cfg->maxconn);
	metric_header(out, "primaries_seen", "gauge", "Nodes whose primary check passes (more than 1 means writes are held).");
	sb_printf(out, "pg_ha_router_primaries_seen %d\n", ctx->primaries_seen);
	metric_header(out, "draining", "gauge", "1 while the router drains after SIGTERM.");
	sb_printf(out, "pg_ha_router_draining %d\n", ctx->draining);
	metric_header(out, "reloads_total", "counter", "Configuration reloads applied.");
	sb_printf(out, "pg_ha_router_reloads_total %llu\n", (unsigned long long) ctx->reloads);
	metric_header(out, "reload_failures_total", "counter", "Configuration reloads rejected.");
	sb_printf(out, "pg_ha_router_reload_failures_total %llu\n", (unsigned long long) ctx->reload_failures);
	metric_header(out, "stats_evicted_total", "counter", "Stats connections closed at the cap to make room for a new one.");
	sb_printf(out, "pg_ha_router_stats_evicted_total %llu\n", (unsigned long long) ctx->stats_evicted);

#define SERVICE_METRIC(metric, type, help, expr) \
	do { \
		metric_header(out, metric, type, help); \
		for (int k = 0; k < SERVICE_COUNT; k++) \
		{ \
			const Service *s = &ctx->services[k]; \
			if (service_in_use(ctx, (ServiceKind) k)) \
				sb_printf(out, "pg_ha_router_" metric "{service=\"%s\"} %llu\n", s->name, \
						  (unsigned long long) (expr)); \
		} \
	} while (0)
	SERVICE_METRIC("service_sessions", "gauge", "Current client sessions of the service.", s->traffic.cur_sessions);
	SERVICE_METRIC("service_sessions_total", "counter", "Client connections accepted by the service.", s->traffic.total_sessions);
	SERVICE_METRIC("service_bytes_in_total", "counter", "Bytes from clients.", s->traffic.bytes_in);
	SERVICE_METRIC("service_bytes_out_total", "counter", "Bytes to clients.", s->traffic.bytes_out);
	SERVICE_METRIC("service_errors_total", "counter", "Connect failures, I/O errors and timeouts.", s->traffic.errors);
	SERVICE_METRIC("service_refused_total", "counter", "Clients answered with an error instead of routed.", s->refused);
	SERVICE_METRIC("service_held", "gauge", "Write clients waiting for a primary.", s->held_count);
	SERVICE_METRIC("service_held_total", "counter", "Write clients that had to wait for a primary.", s->held_total);
	SERVICE_METRIC("service_hold_timeouts_total", "counter", "Held clients refused after hold timeout.", s->hold_timeouts);
#undef SERVICE_METRIC

	node_metric(ctx, out, "node_up", "gauge", "1 if the node passes the service's check.", NM_UP);
	node_metric(ctx, out, "node_sessions", "gauge", "Current sessions on the node.", NM_CUR);
	node_metric(ctx, out, "node_sessions_total", "counter", "Sessions sent to the node.", NM_TOTAL);
	node_metric(ctx, out, "node_bytes_in_total", "counter", "Bytes from clients to the node.", NM_IN);
	node_metric(ctx, out, "node_bytes_out_total", "counter", "Bytes from the node to clients.", NM_OUT);
	node_metric(ctx, out, "node_errors_total", "counter", "Errors on sessions to the node.", NM_ERRORS);
	node_metric(ctx, out, "node_check_duration_seconds", "gauge", "Duration of the last check.", NM_CHECK_SECONDS);
}
