/*
 * health.c - health state machine and HTTP reply parsing (see health.h).
 */
#include "health.h"
#include "json_reader.h"

#include <ctype.h>
#include <string.h>

void
health_init(HealthState *state, int rise, int fall)
{
	state->status = HEALTH_UNKNOWN;
	state->ok_streak = 0;
	state->fail_streak = 0;
	health_set_thresholds(state, rise, fall);
}

void
health_set_thresholds(HealthState *state, int rise, int fall)
{
	state->rise = rise > 0 ? rise : 1;
	state->fall = fall > 0 ? fall : 1;
}

HealthTransition
health_record(HealthState *state, bool passed)
{
	if (passed)
	{
		state->ok_streak++;
		state->fail_streak = 0;
	}
	else
	{
		state->fail_streak++;
		state->ok_streak = 0;
	}

	switch (state->status)
	{
		case HEALTH_UNKNOWN:
			return health_force(state, passed ? HEALTH_UP : HEALTH_DOWN);
		case HEALTH_UP:
			if (state->fail_streak >= state->fall)
				return health_force(state, HEALTH_DOWN);
			break;
		case HEALTH_DOWN:
			if (state->ok_streak >= state->rise)
				return health_force(state, HEALTH_UP);
			break;
	}
	return HEALTH_NO_CHANGE;
}

HealthTransition
health_force(HealthState *state, HealthStatus status)
{
	HealthStatus old = state->status;

	state->status = status;
	if (old == status || status == HEALTH_UNKNOWN)
		return HEALTH_NO_CHANGE;
	return status == HEALTH_UP ? HEALTH_WENT_UP : HEALTH_WENT_DOWN;
}

const char *
health_status_name(HealthStatus status)
{
	switch (status)
	{
		case HEALTH_UNKNOWN: return "UNKNOWN";
		case HEALTH_UP: return "UP";
		case HEALTH_DOWN: return "DOWN";
	}
	return "?";
}

int
health_parse_status_line(const char *buf, size_t len, int *status)
{
	static const char prefix[] = "HTTP/1.";
	const size_t prefix_len = sizeof(prefix) - 1;
	size_t		i;
	int			code = 0;

	/* "HTTP/1.x NNN" then a blank, CR or LF */
	for (i = 0; i < len && i < prefix_len; i++)
	{
		if (buf[i] != prefix[i])
			return -1;
	}
	if (len <= prefix_len)
		return 0;
	if (!isdigit((unsigned char) buf[prefix_len]))
		return -1;
	if (len <= prefix_len + 1)
		return 0;
	if (buf[prefix_len + 1] != ' ')
		return -1;
	for (i = prefix_len + 2; i < prefix_len + 5; i++)
	{
		if (i >= len)
			return 0;
		if (!isdigit((unsigned char) buf[i]))
			return -1;
		code = code * 10 + (buf[i] - '0');
	}
	if (i >= len)
		return 0;
	if (buf[i] != ' ' && buf[i] != '\r' && buf[i] != '\n')
		return -1;
	if (code < 100)
		return -1;
	*status = code;
	return 1;
}

/* Case-insensitive match of a header name at the start of line. */
static bool
header_is(const char *line, size_t line_len, const char *name)
{
	size_t		name_len = strlen(name);

	if (line_len <= name_len || line[name_len] != ':')
		return false;
	for (size_t i = 0; i < name_len; i++)
	{
		if (tolower((unsigned char) line[i]) != tolower((unsigned char) name[i]))
			return false;
	}
	return true;
}

size_t
health_find_body(const char *buf, size_t len, long *content_length)
{
	size_t		pos = 0;

	*content_length = -1;
	/* walk lines; an empty line ("\r\n" or "\n") ends the headers */
	while (pos < len)
	{
		const char *line = buf + pos;
		const char *newline = memchr(line, '\n', len - pos);
		size_t		line_len;

		if (newline == NULL)
			return 0;
		line_len = (size_t) (newline - line);
		if (line_len > 0 && line[line_len - 1] == '\r')
			line_len--;
		pos = (size_t) (newline - buf) + 1;
		if (line_len == 0)
			return line == buf ? 0 : pos;	/* a reply never starts empty */
		if (header_is(line, line_len, "Content-Length"))
		{
			long		value = 0;
			size_t		i = strlen("Content-Length") + 1;
			bool		digits = false;

			while (i < line_len && line[i] == ' ')
				i++;
			for (; i < line_len && isdigit((unsigned char) line[i]); i++)
			{
				digits = true;
				if (value > 100000000)
					break;
				value = value * 10 + (line[i] - '0');
			}
			*content_length = digits ? value : -1;
		}
	}
	return 0;
}

bool
health_reply_complete(const char *buf, size_t len, size_t cap, ReplyNeed need)
{
	int			status;
	size_t		body_at;
	long		content_length;

	if (len >= cap)
		return true;
	switch (health_parse_status_line(buf, len, &status))
	{
		case -1: return true;	/* garbage: no need to read more */
		case 0: return false;
		default: break;
	}
	body_at = health_find_body(buf, len, &content_length);
	if (body_at == 0)
		return false;
	if (need == REPLY_NEED_HEADERS || (need == REPLY_NEED_BODY_IF_LENGTH && content_length < 0))
		return true;
	return content_length >= 0 && len - body_at >= (size_t) content_length;
}

/*
 * pg_ha's leader epoch in a JSON body: top-level in a /watch reply, under
 * "pg_ha" in a check's /patroni-style body; false when absent or absurd.
 */
static bool
body_epoch(const char *body, size_t body_len, uint64_t *out)
{
	return json_find_uint(body, body_len, "leader_epoch", out) ||
		json_find_uint(body, body_len, "pg_ha.leader_epoch", out);
}

/* A complete reply's body, bounded by Content-Length; false without one. */
static bool
reply_body(const char *buf, size_t len, const char **body, size_t *body_len)
{
	long		content_length;
	size_t		body_at = health_find_body(buf, len, &content_length);

	if (body_at == 0)
		return false;
	*body = buf + body_at;
	*body_len = len - body_at;
	if (content_length >= 0 && (size_t) content_length < *body_len)
		*body_len = (size_t) content_length;
	return true;
}

bool
health_parse_watch_reply(const char *buf, size_t len, WatchReply *out)
{
	int			status;
	const char *body;
	size_t		body_len;

	memset(out, 0, sizeof(*out));
	if (health_parse_status_line(buf, len, &status) != 1)
		return false;
	if (status != 200 && status != 503)
		return false;
	if (!reply_body(buf, len, &body, &body_len))
		return false;
	if (!json_find_bool(body, body_len, "primary", &out->primary))
		return false;
	if (out->primary != (status == 200))
		return false;
	out->status = status;

	out->has_epoch = body_epoch(body, body_len, &out->leader_epoch);
	return true;
}

bool
health_parse_epoch(const char *buf, size_t len, uint64_t *epoch)
{
	const char *body;
	size_t		body_len;

	return reply_body(buf, len, &body, &body_len) && body_epoch(body, body_len, epoch);
}
