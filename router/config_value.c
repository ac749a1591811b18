/*
 * config_value.c - the values a configuration line holds: numbers with
 * units (durations, sizes), ranges, host:port addresses, names, HTTP paths,
 * on/off, and the names of the enums.  Pure; used by config.c.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "text.h"

/* Unsigned decimal with an optional unit suffix; suffix returned in *rest. */
static bool
parse_number(const char *text, uint64_t *value, const char **rest)
{
	uint64_t	v = 0;
	const char *p = text;

	if (!isdigit((unsigned char) *p))
		return false;
	for (; isdigit((unsigned char) *p); p++)
	{
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t) (*p - '0');
	}
	*value = v;
	*rest = p;
	return true;
}

bool
config_parse_duration(const char *text, uint64_t *ms)
{
	uint64_t	v;
	uint64_t	unit;
	const char *suffix;

	if (!parse_number(text, &v, &suffix))
		return false;
	if (*suffix == '\0' || strcmp(suffix, "ms") == 0)
		unit = 1;				/* a bare number is milliseconds, as in HAProxy */
	else if (strcmp(suffix, "s") == 0)
		unit = 1000;
	else if (strcmp(suffix, "m") == 0)
		unit = 60 * 1000;
	else if (strcmp(suffix, "h") == 0)
		unit = 3600 * 1000;
	else if (strcmp(suffix, "d") == 0)
		unit = 86400 * 1000;
	else
		return false;
	/* 49 days keeps every sum of a duration and a uv_now() far from overflow */
	if (v > (uint64_t) 49 * 86400 * 1000 / unit)
		return false;
	*ms = v * unit;
	return true;
}

bool
config_parse_size(const char *text, size_t *bytes)
{
	uint64_t	v;
	uint64_t	unit;
	const char *suffix;

	if (!parse_number(text, &v, &suffix))
		return false;
	if (*suffix == '\0')
		unit = 1;
	else if (strcmp(suffix, "k") == 0 || strcmp(suffix, "kB") == 0)
		unit = 1024;
	else if (strcmp(suffix, "m") == 0 || strcmp(suffix, "MB") == 0)
		unit = 1024 * 1024;
	else
		return false;
	if (v > (uint64_t) 1024 * 1024 * 1024 / unit)
		return false;
	*bytes = (size_t) (v * unit);
	return true;
}

bool
config_parse_int_range(const char *text, int min, int max, int *out)
{
	uint64_t	v;
	const char *rest;

	if (!parse_number(text, &v, &rest) || *rest != '\0')
		return false;
	if (v < (uint64_t) min || v > (uint64_t) max)
		return false;
	*out = (int) v;
	return true;
}

bool
config_parse_addr(const char *text, ConfigAddr *addr)
{
	const char *colon;
	size_t		host_len;
	int			port;
	const char *host = text;

	if (text[0] == '[')
	{
		/* [IPv6]:port */
		const char *close = strchr(text, ']');

		if (close == NULL || close[1] != ':')
			return false;
		host = text + 1;
		host_len = (size_t) (close - host);
		colon = close + 1;
	}
	else
	{
		colon = strrchr(text, ':');
		if (colon == NULL || memchr(text, ':', (size_t) (colon - text)) != NULL)
			return false;
		host_len = (size_t) (colon - text);
	}
	if (host_len == 0 || host_len >= sizeof(addr->host))
		return false;
	for (size_t i = 0; i < host_len; i++)
	{
		unsigned char c = (unsigned char) host[i];

		if (!(isalnum(c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '*'))
			return false;
	}
	if (!config_parse_int_range(colon + 1, 1, 65535, &port))
		return false;
	memcpy(addr->host, host, host_len);
	addr->host[host_len] = '\0';
	if (strcmp(addr->host, "*") == 0)
		snprintf(addr->host, sizeof(addr->host), "0.0.0.0");
	addr->port = (uint16_t) port;
	return true;
}

/* the name syntax the agent and the supervisor use (common/text.c) */
bool
config_valid_name(const char *name)
{
	return text_valid_name(name, CONFIG_NAME_MAX);
}

bool
config_valid_http_path(const char *path)
{
	size_t		len = strlen(path);

	return len > 0 && len < CONFIG_PATH_MAX && path[0] == '/' && text_visible_ascii(path, len);
}

bool
config_parse_verify(const char *text, CheckVerify *out)
{
	if (strcmp(text, "required") == 0)
		*out = CHECK_VERIFY_REQUIRED;
	else if (strcmp(text, "none") == 0)
		*out = CHECK_VERIFY_NONE;
	else
		return false;
	return true;
}

bool
config_parse_on_off(const char *text, bool *out)
{
	if (strcmp(text, "on") == 0)
		*out = true;
	else if (strcmp(text, "off") == 0)
		*out = false;
	else
		return false;
	return true;
}

const char *
config_listen_kind_name(ListenKind kind)
{
	switch (kind)
	{
		case LISTEN_WRITE: return "write";
		case LISTEN_READ: return "read";
		case LISTEN_STATS: return "stats";
	}
	return "?";
}

const char *
config_check_method_name(CheckMethod method)
{
	switch (method)
	{
		case CHECK_METHOD_GET: return "GET";
		case CHECK_METHOD_HEAD: return "HEAD";
		case CHECK_METHOD_OPTIONS: return "OPTIONS";
	}
	return "?";
}
