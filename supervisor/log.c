/*-------------------------------------------------------------------------
 *
 * log.c
 *	  The supervisor's log lines.  Each line is formatted whole into a
 *	  buffer and written with one write(2), so lines from the supervisor
 *	  and from postgres (which may share stderr) never interleave inside
 *	  a line.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static char log_name[128] = "-";

void
sup_log_set_name(const char *name)
{
	snprintf(log_name, sizeof(log_name), "%s", name && *name ? name : "-");
}

static size_t
log_header(char *buf, size_t cap)
{
	struct timeval tv;
	struct tm	tm;
	char		ts[32];
	char		tz[8];
	int			n;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(tz, sizeof(tz), "%z", &tm);
	n = snprintf(buf, cap, "pg_ha_supervisor[%d] %s.%03d%s %s: ",
				 (int) getpid(), ts, (int) (tv.tv_usec / 1000), tz, log_name);
	if (n < 0)
		return 0;
	return (size_t) n < cap ? (size_t) n : cap - 1;
}

static void
log_write(char *buf, size_t len)
{
	size_t		off = 0;

	buf[len++] = '\n';
	while (off < len)
	{
		ssize_t		w = write(STDERR_FILENO, buf + off, len - off);

		if (w < 0)
		{
			if (errno == EINTR)
				continue;
			return;
		}
		off += (size_t) w;
	}
}

void
sup_log(const char *fmt, ...)
{
	char		buf[4096];
	size_t		len = log_header(buf, sizeof(buf) - 1);
	va_list		ap;
	int			n;
	int			saved = errno;

	va_start(ap, fmt);
	n = vsnprintf(buf + len, sizeof(buf) - 1 - len, fmt, ap);
	va_end(ap);
	if (n > 0)
		len += (size_t) n < sizeof(buf) - 1 - len ? (size_t) n : sizeof(buf) - 2 - len;
	log_write(buf, len);
	errno = saved;
}

void
sup_log_prefixed(const char *prefix, const char *text, size_t len)
{
	char		buf[4096];
	size_t		off = log_header(buf, sizeof(buf) - 1);
	int			n;

	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	n = snprintf(buf + off, sizeof(buf) - 1 - off, "%s: %.*s", prefix,
				 (int) (len > 3000 ? 3000 : len), text);
	if (n > 0)
		off += (size_t) n < sizeof(buf) - 1 - off ? (size_t) n : sizeof(buf) - 2 - off;
	log_write(buf, off);
}
