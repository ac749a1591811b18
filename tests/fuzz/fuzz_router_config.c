/*-------------------------------------------------------------------------
 *
 * fuzz_router_config.c
 *	  libFuzzer target for the router's configuration file parser
 *	  (router/config.c, the values: router/config_value.c).
 *
 * The input is the file's text.  Checked, besides memory safety (the text
 * is an exactly sized copy):
 *   - a rejected file gets a message, NUL-terminated in its buffer, naming
 *     a line of the file (or none);
 *   - an accepted one keeps the documented bounds (counts, ranges, unique
 *     names and addresses, a client listener, low water below high), and
 *     written back as a configuration file (every setting explicit) it
 *     parses again to the same configuration;
 *   - the value parsers, on the first word of the input: what they accept
 *     is in range and, written back, reads the same.
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_check.h"
#include "fuzz_out.h"

#define MAX_DURATION_MS ((uint64_t) 49 * 86400 * 1000)
#define OUT_CAP		(256 * 1024)

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* HOST:PORT as the parser reads it: brackets around an IPv6 host */
static const char *
addr_text(const ConfigAddr *a, char *buf, size_t cap)
{
	snprintf(buf, cap, strchr(a->host, ':') ? "[%s]:%u" : "%s:%u", a->host, (unsigned) a->port);
	return buf;
}

static void
write_check(FuzzOut *o, const char *which, const CheckConfig *c)
{
	fuzz_out(o, "check %s path %s method %s interval %" PRIu64 "ms timeout %" PRIu64 "ms fall %d rise %d\n",
		which, c->path, config_check_method_name(c->method), c->interval_ms,
		c->timeout_ms, c->fall, c->rise);
}

static void
write_config(FuzzOut *o, const RouterConfig *cfg)
{
	static const char *const levels[] = {"debug", "info", "warn", "error"};
	char		a1[CONFIG_HOST_MAX + 16];
	char		a2[CONFIG_HOST_MAX + 16];

	for (int i = 0; i < cfg->n_listeners; i++)
		fuzz_out(o, "listen %s %s\n", config_listen_kind_name(cfg->listeners[i].kind),
			addr_text(&cfg->listeners[i].addr, a1, sizeof(a1)));
	for (int i = 0; i < cfg->n_nodes; i++)
	{
		const NodeConfig *n = &cfg->nodes[i];

		fuzz_out(o, "node %s %s check %s maxconn %d watch %s\n", n->name,
			addr_text(&n->addr, a1, sizeof(a1)), addr_text(&n->check_addr, a2, sizeof(a2)),
			n->maxconn, n->watch ? "on" : "off");
	}
	write_check(o, "primary", &cfg->primary_check);
	write_check(o, "replica", &cfg->replica_check);
	fuzz_out(o, "watch %s timeout %" PRIu64 "ms backoff %" PRIu64 "\n",
		cfg->watch_enabled ? "on" : "off", cfg->watch_timeout_ms, cfg->watch_backoff_ms);
	fuzz_out(o, "maxconn %d\nretries %d\n", cfg->maxconn, cfg->retries);
	if (cfg->threads > 0)
		fuzz_out(o, "threads %d\n", cfg->threads);
	fuzz_out(o, "timeout connect %" PRIu64 "\ntimeout client %" PRIu64 "ms\n",
		cfg->connect_timeout_ms, cfg->client_timeout_ms);
	fuzz_out(o, "timeout server %" PRIu64 "ms\ntimeout drain %" PRIu64 "ms\n",
		cfg->server_timeout_ms, cfg->drain_timeout_ms);
	fuzz_out(o, "hold timeout %" PRIu64 "ms max %d\n", cfg->hold_timeout_ms, cfg->hold_max);
	fuzz_out(o, "read-fallback %s\n", cfg->read_fallback == READ_FALLBACK_NONE ? "none" : "primary");
	fuzz_out(o, "balance %s\n", cfg->balance == BALANCE_LEASTCONN ? "leastconn" : "roundrobin");
	fuzz_out(o, "backpressure high %zu low %zu\n", cfg->high_water, cfg->low_water);
	fuzz_out(o, "log-level %s\n", levels[cfg->log_level]);
}

static bool
same_addr(const ConfigAddr *a, const ConfigAddr *b)
{
	return config_same_addr(a, b);
}

static bool
same_check(const CheckConfig *a, const CheckConfig *b)
{
	return strcmp(a->path, b->path) == 0 && a->method == b->method &&
		a->interval_ms == b->interval_ms && a->timeout_ms == b->timeout_ms &&
		a->rise == b->rise && a->fall == b->fall;
}

static bool
same_config(const RouterConfig *a, const RouterConfig *b)
{
	if (a->n_listeners != b->n_listeners || a->n_nodes != b->n_nodes)
		return false;
	for (int i = 0; i < a->n_listeners; i++)
		if (a->listeners[i].kind != b->listeners[i].kind ||
			!same_addr(&a->listeners[i].addr, &b->listeners[i].addr))
			return false;
	for (int i = 0; i < a->n_nodes; i++)
	{
		const NodeConfig *x = &a->nodes[i];
		const NodeConfig *y = &b->nodes[i];

		if (strcmp(x->name, y->name) != 0 || !same_addr(&x->addr, &y->addr) ||
			!same_addr(&x->check_addr, &y->check_addr) || x->maxconn != y->maxconn ||
			x->watch != y->watch)
			return false;
	}
	return same_check(&a->primary_check, &b->primary_check) &&
		same_check(&a->replica_check, &b->replica_check) &&
		a->watch_enabled == b->watch_enabled && a->watch_timeout_ms == b->watch_timeout_ms &&
		a->watch_backoff_ms == b->watch_backoff_ms && a->maxconn == b->maxconn &&
		a->connect_timeout_ms == b->connect_timeout_ms &&
		a->client_timeout_ms == b->client_timeout_ms &&
		a->server_timeout_ms == b->server_timeout_ms &&
		a->drain_timeout_ms == b->drain_timeout_ms && a->retries == b->retries &&
		a->threads == b->threads &&
		a->hold_timeout_ms == b->hold_timeout_ms && a->hold_max == b->hold_max &&
		a->read_fallback == b->read_fallback && a->balance == b->balance &&
		a->high_water == b->high_water && a->low_water == b->low_water &&
		a->log_level == b->log_level;
}

static bool
valid_duration(uint64_t ms)
{
	return ms > 0 && ms <= MAX_DURATION_MS;
}

static void
check_addr_ok(const ConfigAddr *a)
{
	size_t		n = strnlen(a->host, sizeof(a->host));

	CHECK(n > 0 && n < sizeof(a->host) && a->port >= 1);
}

static void
check_check_ok(const CheckConfig *c)
{
	CHECK(config_valid_http_path(c->path));
	CHECK(valid_duration(c->interval_ms) && valid_duration(c->timeout_ms));
	CHECK(c->rise >= 1 && c->rise <= 1000 && c->fall >= 1 && c->fall <= 1000);
}

/* The documented bounds of an accepted configuration. */
static void
check_bounds(const RouterConfig *cfg, int lines)
{
	bool		client = false;

	CHECK(cfg->n_listeners >= 1 && cfg->n_listeners <= CONFIG_MAX_LISTENERS);
	CHECK(cfg->n_nodes >= 1 && cfg->n_nodes <= CONFIG_MAX_NODES);
	for (int i = 0; i < cfg->n_listeners; i++)
	{
		check_addr_ok(&cfg->listeners[i].addr);
		client = client || cfg->listeners[i].kind != LISTEN_STATS;
		for (int j = 0; j < i; j++)
			CHECK(!config_same_addr(&cfg->listeners[i].addr, &cfg->listeners[j].addr));
	}
	CHECK(client);
	for (int i = 0; i < cfg->n_nodes; i++)
	{
		const NodeConfig *n = &cfg->nodes[i];

		CHECK(config_valid_name(n->name));
		check_addr_ok(&n->addr);
		check_addr_ok(&n->check_addr);
		CHECK(n->maxconn >= 0 && n->maxconn <= 1000000);
		CHECK(n->line >= 1 && n->line <= lines);
		for (int j = 0; j < i; j++)
			CHECK(strcmp(n->name, cfg->nodes[j].name) != 0);
	}
	check_check_ok(&cfg->primary_check);
	check_check_ok(&cfg->replica_check);
	CHECK(cfg->watch_timeout_ms >= 1000 && valid_duration(cfg->watch_timeout_ms));
	CHECK(valid_duration(cfg->watch_backoff_ms));
	CHECK(cfg->maxconn >= 1 && cfg->maxconn <= 1000000);
	CHECK(cfg->retries >= 0 && cfg->retries <= 100);
	CHECK(cfg->threads >= 0 && cfg->threads <= CONFIG_MAX_THREADS);
	CHECK(valid_duration(cfg->connect_timeout_ms) && valid_duration(cfg->client_timeout_ms));
	CHECK(valid_duration(cfg->server_timeout_ms) && valid_duration(cfg->drain_timeout_ms));
	CHECK(valid_duration(cfg->hold_timeout_ms));
	CHECK(cfg->hold_max >= 0 && cfg->hold_max <= 1000000);
	CHECK(cfg->low_water < cfg->high_water && cfg->high_water <= 1024 * 1024 * 1024);
	CHECK(cfg->log_level >= LOG_DEBUG && cfg->log_level <= LOG_ERROR);
}

/* The value parsers on one word: in range, and read back the same. */
static void
check_values(const char *word)
{
	uint64_t	ms,
				ms2;
	size_t		sz,
				sz2;
	int			v,
				v2;
	bool		b;
	ConfigAddr	a,
				a2;
	char		buf[CONFIG_HOST_MAX + 32];

	if (config_parse_duration(word, &ms))
	{
		CHECK(ms <= MAX_DURATION_MS);
		snprintf(buf, sizeof(buf), "%" PRIu64 "ms", ms);
		CHECK(config_parse_duration(buf, &ms2) && ms2 == ms);
	}
	if (config_parse_size(word, &sz))
	{
		CHECK(sz <= 1024 * 1024 * 1024);
		snprintf(buf, sizeof(buf), "%zu", sz);
		CHECK(config_parse_size(buf, &sz2) && sz2 == sz);
	}
	if (config_parse_int_range(word, 3, 1000, &v))
	{
		CHECK(v >= 3 && v <= 1000);
		snprintf(buf, sizeof(buf), "%d", v);
		CHECK(config_parse_int_range(buf, 3, 1000, &v2) && v2 == v);
	}
	if (config_parse_on_off(word, &b))
		CHECK(strcmp(word, b ? "on" : "off") == 0);
	if (config_parse_addr(word, &a))
	{
		check_addr_ok(&a);
		CHECK(config_parse_addr(addr_text(&a, buf, sizeof(buf)), &a2) && config_same_addr(&a, &a2));
	}
	if (config_valid_name(word))
		CHECK(strlen(word) < CONFIG_NAME_MAX);
	if (config_valid_http_path(word))
		CHECK(word[0] == '/' && strlen(word) < CONFIG_PATH_MAX);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static RouterConfig cfg,
				again;
	static char outbuf[OUT_CAP];
	char	   *text;
	ConfigError err;
	int			lines = 1;
	FuzzOut		o = {outbuf, sizeof(outbuf), 0};
	char		word[48];
	size_t		wl = 0;

	/* exactly sized, so a read past the end is an ASan report */
	text = malloc(size ? size : 1);
	CHECK(text != NULL);
	memcpy(text, data, size);
	for (size_t i = 0; i < size; i++)
		lines += text[i] == '\n';

	/* the first word, up to a blank, as a value */
	while (wl < size && wl < sizeof(word) - 1 && data[wl] != ' ' && data[wl] != '\n' && data[wl] != '\0')
	{
		word[wl] = (char) data[wl];
		wl++;
	}
	word[wl] = '\0';
	check_values(word);

	if (!config_parse(text, size, &cfg, &err))
	{
		CHECK(memchr(err.message, '\0', sizeof(err.message)) != NULL);
		CHECK(err.message[0] != '\0');
		CHECK(err.line >= 0 && err.line <= lines);
		free(text);
		return 0;
	}
	check_bounds(&cfg, lines);

	write_config(&o, &cfg);
	if (!config_parse(o.buf, o.len, &again, &err))
	{
		fprintf(stderr, "written back:\n%s\nrejected at line %d: %s\n", o.buf, err.line, err.message);
		CHECK(!"the written-back configuration parses");
	}
	CHECK(same_config(&cfg, &again));
	free(text);
	return 0;
}
