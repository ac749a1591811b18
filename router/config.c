/*
 * config.c - parser of the router's line-based configuration file (the
 * values on a line: config_value.c).
 *
 * One directive per line, words separated by blanks, '#' starts a comment.
 * Parsing is pure (text in, struct out); validation of the whole file runs
 * at the end so that order of lines does not matter.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 32

typedef struct LineWords
{
	char	   *word[MAX_WORDS];
	int			count;
} LineWords;

static bool
fail(ConfigError *err, int line, const char *fmt, ...) PRINTF_LIKE(3, 4);

static bool
fail(ConfigError *err, int line, const char *fmt, ...)
{
	va_list		args;

	err->line = line;
	va_start(args, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, args);
	va_end(args);
	return false;
}

static void
check_defaults(CheckConfig *check, const char *path)
{
	snprintf(check->path, sizeof(check->path), "%s", path);
	check->method = CHECK_METHOD_GET;
	check->interval_ms = 3000;
	check->timeout_ms = 5000;
	check->rise = 2;
	check->fall = 3;
}

void
config_defaults(RouterConfig *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	check_defaults(&cfg->primary_check, "/master");
	check_defaults(&cfg->replica_check, "/replica");
	cfg->watch_enabled = true;
	cfg->watch_timeout_ms = 30000;
	cfg->watch_backoff_ms = 30000;
	cfg->maxconn = 1000;
	cfg->connect_timeout_ms = 4000;
	cfg->client_timeout_ms = 30 * 60 * 1000;
	cfg->server_timeout_ms = 30 * 60 * 1000;
	cfg->drain_timeout_ms = 30000;
	cfg->retries = 3;
	cfg->hold_timeout_ms = 10000;
	cfg->hold_max = 100;
	cfg->read_fallback = READ_FALLBACK_PRIMARY;
	cfg->balance = BALANCE_ROUNDROBIN;
	cfg->high_water = 256 * 1024;
	cfg->low_water = 64 * 1024;
	cfg->log_level = LOG_INFO;
}

/* Splits line in place; returns false if it has too many words. */
static bool
split_words(char *line, LineWords *words)
{
	char	   *p = line;
	char	   *hash = strchr(line, '#');

	if (hash != NULL)
		*hash = '\0';
	words->count = 0;
	for (;;)
	{
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (*p == '\0')
			return true;
		if (words->count == MAX_WORDS)
			return false;
		words->word[words->count++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
}

static bool
parse_listen(RouterConfig *cfg, LineWords *w, int line, ConfigError *err)
{
	ListenerConfig *listener;

	if (w->count != 3)
		return fail(err, line, "usage: listen write|read|stats HOST:PORT");
	if (cfg->n_listeners == CONFIG_MAX_LISTENERS)
		return fail(err, line, "too many listen lines (at most %d)", CONFIG_MAX_LISTENERS);
	listener = &cfg->listeners[cfg->n_listeners];
	if (strcmp(w->word[1], "write") == 0)
		listener->kind = LISTEN_WRITE;
	else if (strcmp(w->word[1], "read") == 0)
		listener->kind = LISTEN_READ;
	else if (strcmp(w->word[1], "stats") == 0)
		listener->kind = LISTEN_STATS;
	else
		return fail(err, line, "listen: unknown kind '%s' (expected write, read or stats)", w->word[1]);
	if (!config_parse_addr(w->word[2], &listener->addr))
		return fail(err, line, "listen: invalid address '%s' (expected HOST:PORT)", w->word[2]);
	for (int i = 0; i < cfg->n_listeners; i++)
	{
		if (strcmp(cfg->listeners[i].addr.host, listener->addr.host) == 0 &&
			cfg->listeners[i].addr.port == listener->addr.port)
			return fail(err, line, "listen: address '%s' is already used", w->word[2]);
	}
	cfg->n_listeners++;
	return true;
}

/* A file name of a TLS setting (CONFIG_PATH_MAX bytes at dst). */
static bool
set_file(char *dst, const char *value, const char *what, int line, ConfigError *err)
{
	if (strlen(value) >= CONFIG_PATH_MAX)
		return fail(err, line, "%s: file name too long (at most %d)", what, CONFIG_PATH_MAX - 1);
	snprintf(dst, CONFIG_PATH_MAX, "%s", value);
	return true;
}

static bool
parse_node(RouterConfig *cfg, LineWords *w, int line, ConfigError *err)
{
	NodeConfig *node;
	bool		check_given = false;

	if (w->count < 3)
		return fail(err, line, "usage: node NAME HOST:PORT [check HOST:PORT] [maxconn N] [watch on|off] [ssl on|off] [verify required|none] [ca FILE] [crt FILE]");
	if (cfg->n_nodes == CONFIG_MAX_NODES)
		return fail(err, line, "too many nodes (at most %d)", CONFIG_MAX_NODES);
	node = &cfg->nodes[cfg->n_nodes];
	memset(node, 0, sizeof(*node));
	node->watch = true;
	node->line = line;
	if (!config_valid_name(w->word[1]))
		return fail(err, line, "node: invalid name '%s' (letters, digits, '-', '_', '.'; at most %d)",
					w->word[1], CONFIG_NAME_MAX - 1);
	snprintf(node->name, sizeof(node->name), "%s", w->word[1]);
	for (int i = 0; i < cfg->n_nodes; i++)
	{
		if (strcmp(cfg->nodes[i].name, node->name) == 0)
			return fail(err, line, "node: name '%s' is already used on line %d",
						node->name, cfg->nodes[i].line);
	}
	if (!config_parse_addr(w->word[2], &node->addr))
		return fail(err, line, "node %s: invalid address '%s' (expected HOST:PORT)", node->name, w->word[2]);
	for (int i = 3; i < w->count; i += 2)
	{
		const char *key = w->word[i];
		const char *value = i + 1 < w->count ? w->word[i + 1] : NULL;

		if (value == NULL)
			return fail(err, line, "node %s: '%s' needs a value", node->name, key);
		if (strcmp(key, "check") == 0)
		{
			if (!config_parse_addr(value, &node->check_addr))
				return fail(err, line, "node %s: invalid check address '%s' (expected HOST:PORT)", node->name, value);
			check_given = true;
		}
		else if (strcmp(key, "maxconn") == 0)
		{
			if (!config_parse_int_range(value, 0, 1000000, &node->maxconn))
				return fail(err, line, "node %s: invalid maxconn '%s'", node->name, value);
		}
		else if (strcmp(key, "watch") == 0)
		{
			if (!config_parse_on_off(value, &node->watch))
				return fail(err, line, "node %s: watch must be on or off", node->name);
		}
		else if (strcmp(key, "ssl") == 0)
		{
			if (!config_parse_on_off(value, &node->tls.ssl))
				return fail(err, line, "node %s: ssl must be on or off", node->name);
			node->tls_ssl_given = true;
		}
		else if (strcmp(key, "verify") == 0)
		{
			if (!config_parse_verify(value, &node->tls.verify))
				return fail(err, line, "node %s: verify must be required or none", node->name);
			node->tls_verify_given = true;
		}
		else if (strcmp(key, "ca") == 0)
		{
			if (!set_file(node->tls.ca, value, "node: ca", line, err))
				return false;
			node->tls_ca_given = true;
		}
		else if (strcmp(key, "crt") == 0)
		{
			if (!set_file(node->tls.crt, value, "node: crt", line, err))
				return false;
			node->tls_crt_given = true;
		}
		else
			return fail(err, line, "node %s: unknown option '%s'", node->name, key);
	}
	if (!check_given)
	{
		/* Patroni's and the agent's default API port */
		node->check_addr = node->addr;
		node->check_addr.port = 8008;
	}
	cfg->n_nodes++;
	return true;
}

static bool
parse_check(RouterConfig *cfg, LineWords *w, int line, ConfigError *err)
{
	CheckConfig *check = &cfg->primary_check;
	const char *which = "primary";
	int			i = 1;

	if (w->count > 1 && strcmp(w->word[1], "primary") == 0)
		i = 2;
	else if (w->count > 1 && strcmp(w->word[1], "replica") == 0)
	{
		check = &cfg->replica_check;
		which = "replica";
		i = 2;
	}
	if (i >= w->count)
		return fail(err, line, "usage: check [primary|replica] [path P] [method GET|HEAD|OPTIONS] [interval D] [timeout D] [fall N] [rise N]");
	for (; i < w->count; i += 2)
	{
		const char *key = w->word[i];
		const char *value = i + 1 < w->count ? w->word[i + 1] : NULL;

		if (value == NULL)
			return fail(err, line, "check %s: '%s' needs a value", which, key);
		if (strcmp(key, "path") == 0)
		{
			if (!config_valid_http_path(value))
				return fail(err, line, "check %s: invalid path '%s' (must start with '/', no blanks)", which, value);
			snprintf(check->path, sizeof(check->path), "%s", value);
		}
		else if (strcmp(key, "method") == 0)
		{
			if (strcmp(value, "GET") == 0)
				check->method = CHECK_METHOD_GET;
			else if (strcmp(value, "HEAD") == 0)
				check->method = CHECK_METHOD_HEAD;
			else if (strcmp(value, "OPTIONS") == 0)
				check->method = CHECK_METHOD_OPTIONS;
			else
				return fail(err, line, "check %s: method must be GET, HEAD or OPTIONS", which);
		}
		else if (strcmp(key, "interval") == 0 || strcmp(key, "inter") == 0)
		{
			if (!config_parse_duration(value, &check->interval_ms) || check->interval_ms == 0)
				return fail(err, line, "check %s: invalid interval '%s'", which, value);
		}
		else if (strcmp(key, "timeout") == 0)
		{
			if (!config_parse_duration(value, &check->timeout_ms) || check->timeout_ms == 0)
				return fail(err, line, "check %s: invalid timeout '%s'", which, value);
		}
		else if (strcmp(key, "fall") == 0)
		{
			if (!config_parse_int_range(value, 1, 1000, &check->fall))
				return fail(err, line, "check %s: fall must be 1..1000", which);
		}
		else if (strcmp(key, "rise") == 0)
		{
			if (!config_parse_int_range(value, 1, 1000, &check->rise))
				return fail(err, line, "check %s: rise must be 1..1000", which);
		}
		else
			return fail(err, line, "check %s: unknown option '%s'", which, key);
	}
	return true;
}

static bool
parse_timeout(RouterConfig *cfg, LineWords *w, int line, ConfigError *err)
{
	uint64_t	ms;

	if (w->count != 3)
		return fail(err, line, "usage: timeout connect|client|server|check|drain DURATION");
	if (!config_parse_duration(w->word[2], &ms) || ms == 0)
		return fail(err, line, "timeout %s: invalid duration '%s' (e.g. 500ms, 4s, 30m)", w->word[1], w->word[2]);
	if (strcmp(w->word[1], "connect") == 0)
		cfg->connect_timeout_ms = ms;
	else if (strcmp(w->word[1], "client") == 0)
		cfg->client_timeout_ms = ms;
	else if (strcmp(w->word[1], "server") == 0)
		cfg->server_timeout_ms = ms;
	else if (strcmp(w->word[1], "check") == 0)
	{
		/* HAProxy's "timeout check": both checks */
		cfg->primary_check.timeout_ms = ms;
		cfg->replica_check.timeout_ms = ms;
	}
	else if (strcmp(w->word[1], "drain") == 0)
		cfg->drain_timeout_ms = ms;
	else
		return fail(err, line, "timeout: unknown kind '%s' (expected connect, client, server, check or drain)", w->word[1]);
	return true;
}

static bool
parse_hold(RouterConfig *cfg, LineWords *w, int line, ConfigError *err)
{
	if (w->count == 2 && strcmp(w->word[1], "off") == 0)
	{
		cfg->hold_max = 0;
		return true;
	}
	if (w->count < 3 || (w->count - 1) % 2 != 0)
		return fail(err, line, "usage: hold [timeout DURATION] [max N] | hold off");
	for (int i = 1; i < w->count; i += 2)
	{
		if (strcmp(w->word[i], "timeout") == 0)
		{
			if (!config_parse_duration(w->word[i + 1], &cfg->hold_timeout_ms) || cfg->hold_timeout_ms == 0)
				return fail(err, line, "hold: invalid timeout '%s'", w->word[i + 1]);
		}
		else if (strcmp(w->word[i], "max") == 0)
		{
			if (!config_parse_int_range(w->word[i + 1], 0, 1000000, &cfg->hold_max))
				return fail(err, line, "hold: invalid max '%s'", w->word[i + 1]);
		}
		else
			return fail(err, line, "hold: unknown option '%s'", w->word[i]);
	}
	return true;
}

static bool
parse_watch(RouterConfig *cfg, LineWords *w, int line, ConfigError *err)
{
	int			i = 1;

	if (w->count < 2)
		return fail(err, line, "usage: watch on|off [timeout DURATION] [backoff DURATION]");
	if (config_parse_on_off(w->word[1], &cfg->watch_enabled))
		i = 2;
	if ((w->count - i) % 2 != 0)
		return fail(err, line, "watch: '%s' needs a value", w->word[w->count - 1]);
	for (; i < w->count; i += 2)
	{
		uint64_t   *target;

		if (strcmp(w->word[i], "timeout") == 0)
			target = &cfg->watch_timeout_ms;
		else if (strcmp(w->word[i], "backoff") == 0)
			target = &cfg->watch_backoff_ms;
		else
			return fail(err, line, "watch: unknown option '%s'", w->word[i]);
		if (!config_parse_duration(w->word[i + 1], target) || *target == 0)
			return fail(err, line, "watch: invalid duration '%s'", w->word[i + 1]);
	}
	if (cfg->watch_timeout_ms < 1000)
		return fail(err, line, "watch: timeout must be at least 1s (the agent takes whole seconds)");
	return true;
}

static bool
parse_backpressure(RouterConfig *cfg, LineWords *w, int line, ConfigError *err)
{
	if (w->count != 5)
		return fail(err, line, "usage: backpressure high SIZE low SIZE");
	for (int i = 1; i < w->count; i += 2)
	{
		size_t	   *target;

		if (strcmp(w->word[i], "high") == 0)
			target = &cfg->high_water;
		else if (strcmp(w->word[i], "low") == 0)
			target = &cfg->low_water;
		else
			return fail(err, line, "backpressure: unknown option '%s'", w->word[i]);
		if (!config_parse_size(w->word[i + 1], target))
			return fail(err, line, "backpressure: invalid size '%s' (e.g. 65536, 64k, 1m)", w->word[i + 1]);
	}
	return true;
}

static bool
parse_line(RouterConfig *cfg, LineWords *w, int line, ConfigError *err)
{
	const char *directive = w->word[0];

	if (strcmp(directive, "listen") == 0)
		return parse_listen(cfg, w, line, err);
	if (strcmp(directive, "node") == 0)
		return parse_node(cfg, w, line, err);
	if (strcmp(directive, "check") == 0)
		return parse_check(cfg, w, line, err);
	if (strcmp(directive, "timeout") == 0)
		return parse_timeout(cfg, w, line, err);
	if (strcmp(directive, "hold") == 0)
		return parse_hold(cfg, w, line, err);
	if (strcmp(directive, "watch") == 0)
		return parse_watch(cfg, w, line, err);
	if (strcmp(directive, "check-ssl") == 0)
	{
		if (w->count != 2 || !config_parse_on_off(w->word[1], &cfg->check_tls.ssl))
			return fail(err, line, "usage: check-ssl on|off");
		return true;
	}
	if (strcmp(directive, "check-verify") == 0)
	{
		if (w->count != 2 || !config_parse_verify(w->word[1], &cfg->check_tls.verify))
			return fail(err, line, "usage: check-verify required|none");
		return true;
	}
	if (strcmp(directive, "check-ca") == 0)
	{
		if (w->count != 2)
			return fail(err, line, "usage: check-ca FILE (CA certificates, PEM)");
		return set_file(cfg->check_tls.ca, w->word[1], directive, line, err);
	}
	if (strcmp(directive, "check-crt") == 0)
	{
		if (w->count != 2)
			return fail(err, line, "usage: check-crt FILE (client certificate and key, PEM)");
		return set_file(cfg->check_tls.crt, w->word[1], directive, line, err);
	}
	if (strcmp(directive, "backpressure") == 0)
		return parse_backpressure(cfg, w, line, err);
	if (strcmp(directive, "maxconn") == 0)
	{
		if (w->count != 2 || !config_parse_int_range(w->word[1], 1, 1000000, &cfg->maxconn))
			return fail(err, line, "usage: maxconn N (1..1000000)");
		return true;
	}
	if (strcmp(directive, "threads") == 0)
	{
		if (w->count != 2 || !config_parse_int_range(w->word[1], 1, CONFIG_MAX_THREADS, &cfg->threads))
			return fail(err, line, "usage: threads N (1..%d)", CONFIG_MAX_THREADS);
		return true;
	}
	if (strcmp(directive, "retries") == 0)
	{
		if (w->count != 2 || !config_parse_int_range(w->word[1], 0, 100, &cfg->retries))
			return fail(err, line, "usage: retries N (0..100)");
		return true;
	}
	if (strcmp(directive, "read-fallback") == 0)
	{
		if (w->count == 2 && strcmp(w->word[1], "primary") == 0)
			cfg->read_fallback = READ_FALLBACK_PRIMARY;
		else if (w->count == 2 && strcmp(w->word[1], "none") == 0)
			cfg->read_fallback = READ_FALLBACK_NONE;
		else
			return fail(err, line, "usage: read-fallback primary|none");
		return true;
	}
	if (strcmp(directive, "balance") == 0)
	{
		if (w->count == 2 && strcmp(w->word[1], "roundrobin") == 0)
			cfg->balance = BALANCE_ROUNDROBIN;
		else if (w->count == 2 && strcmp(w->word[1], "leastconn") == 0)
			cfg->balance = BALANCE_LEASTCONN;
		else
			return fail(err, line, "usage: balance roundrobin|leastconn");
		return true;
	}
	if (strcmp(directive, "log-level") == 0)
	{
		if (w->count != 2 || !log_level_parse(w->word[1], &cfg->log_level))
			return fail(err, line, "usage: log-level debug|info|warn|error");
		return true;
	}
	return fail(err, line, "unknown directive '%s'", directive);
}

/* Checks that need the whole file; a node's TLS takes the defaults it did not set. */
static bool
validate(RouterConfig *cfg, ConfigError *err)
{
	bool		has_client_listener = false;

	for (int i = 0; i < cfg->n_nodes; i++)
	{
		NodeConfig *node = &cfg->nodes[i];

		if (!node->tls_ssl_given)
			node->tls.ssl = cfg->check_tls.ssl;
		if (!node->tls_verify_given)
			node->tls.verify = cfg->check_tls.verify;
		if (!node->tls_ca_given)
			snprintf(node->tls.ca, sizeof(node->tls.ca), "%s", cfg->check_tls.ca);
		if (!node->tls_crt_given)
			snprintf(node->tls.crt, sizeof(node->tls.crt), "%s", cfg->check_tls.crt);
		/* HAProxy's rule too: verifying needs a CA to verify against */
		if (node->tls.ssl && node->tls.verify == CHECK_VERIFY_REQUIRED && node->tls.ca[0] == '\0')
			return fail(err, node->line,
						"node %s: TLS checks with verify required need a CA file (check-ca FILE, or ca FILE on the node; or verify none)",
						node->name);
	}

	for (int i = 0; i < cfg->n_listeners; i++)
	{
		if (cfg->listeners[i].kind != LISTEN_STATS)
			has_client_listener = true;
	}
	if (!has_client_listener)
		return fail(err, 0, "no 'listen write' or 'listen read' line: nothing to route");
	if (cfg->n_nodes == 0)
		return fail(err, 0, "no 'node' line: nowhere to route");
	if (cfg->low_water >= cfg->high_water)
		return fail(err, 0, "backpressure: low (%zu) must be below high (%zu)",
					cfg->low_water, cfg->high_water);
	return true;
}

bool
config_parse(const char *text, size_t len, RouterConfig *cfg, ConfigError *err)
{
	char		line_buf[CONFIG_MAX_LINE + 1];
	size_t		pos = 0;
	int			line = 0;

	config_defaults(cfg);
	err->line = 0;
	err->message[0] = '\0';
	while (pos < len)
	{
		const char *start = text + pos;
		const char *newline = memchr(start, '\n', len - pos);
		size_t		line_len = newline ? (size_t) (newline - start) : len - pos;
		LineWords	words;

		line++;
		pos += line_len + (newline ? 1 : 0);
		if (line_len > CONFIG_MAX_LINE)
			return fail(err, line, "line too long (at most %d characters)", CONFIG_MAX_LINE);
		if (memchr(start, '\0', line_len) != NULL)
			return fail(err, line, "NUL byte in configuration");
		memcpy(line_buf, start, line_len);
		line_buf[line_len] = '\0';
		if (!split_words(line_buf, &words))
			return fail(err, line, "too many words (at most %d)", MAX_WORDS);
		if (words.count == 0)
			continue;
		if (!parse_line(cfg, &words, line, err))
			return false;
	}
	return validate(cfg, err);
}

bool
config_load_file(const char *path, RouterConfig *cfg, char *errbuf, size_t errlen)
{
	FILE	   *file;
	char	   *text;
	long		size;
	size_t		got;
	ConfigError err;
	bool		ok;

	file = fopen(path, "rb");
	if (file == NULL)
	{
		snprintf(errbuf, errlen, "%s: cannot open: %s", path, strerror(errno));
		return false;
	}
	if (fseek(file, 0, SEEK_END) != 0 || (size = ftell(file)) < 0 || fseek(file, 0, SEEK_SET) != 0)
	{
		snprintf(errbuf, errlen, "%s: cannot read: %s", path, strerror(errno));
		fclose(file);
		return false;
	}
	if (size > 1024 * 1024)
	{
		snprintf(errbuf, errlen, "%s: file too large (at most 1 MB)", path);
		fclose(file);
		return false;
	}
	text = malloc((size_t) size + 1);
	if (text == NULL)
	{
		snprintf(errbuf, errlen, "%s: out of memory", path);
		fclose(file);
		return false;
	}
	got = fread(text, 1, (size_t) size, file);
	fclose(file);
	ok = config_parse(text, got, cfg, &err);
	free(text);
	if (!ok)
	{
		if (err.line > 0)
			snprintf(errbuf, errlen, "%s:%d: %s", path, err.line, err.message);
		else
			snprintf(errbuf, errlen, "%s: %s", path, err.message);
	}
	return ok;
}
