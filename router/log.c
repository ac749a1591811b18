/*
 * log.c - one line per event on stderr: UTC time, level, message.
 */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const level_names[] = {"debug", "info", "warn", "error"};

const char *
log_level_name(LogLevel level)
{
	return level_names[level];
}

bool
log_level_parse(const char *name, LogLevel *out)
{
	for (int i = 0; i <= LOG_ERROR; i++)
	{
		if (strcmp(name, level_names[i]) == 0)
		{
			*out = (LogLevel) i;
			return true;
		}
	}
	return false;
}

void
log_write(const Logger *logger, LogLevel level, const char *fmt, ...)
{
	struct timespec now;
	struct tm	utc;
	char		stamp[32];
	char		line[1024];
	va_list		args;

	if (logger != NULL && level < logger->min_level)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &utc);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &utc);
	va_start(args, fmt);
	vsnprintf(line, sizeof(line), fmt, args);
	va_end(args);
	/* one fprintf per line, so lines from a busy loop never interleave */
	fprintf(stderr, "%s.%03ldZ pg_ha_router %s: %s\n", stamp,
			now.tv_nsec / 1000000, level_names[level], line);
}
