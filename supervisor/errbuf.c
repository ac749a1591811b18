/*
 * errbuf.c — bounded message buffers for the pure parsers.
 */
#include <stdarg.h>
#include <stdio.h>

#include "errbuf.h"

static void
errbuf_vset(char *buf, size_t cap, const char *fmt, va_list ap)
{
	if (buf != NULL && cap > 0)
		vsnprintf(buf, cap, fmt, ap);
}

void
errbuf_set(char *buf, size_t cap, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	errbuf_vset(buf, cap, fmt, ap);
	va_end(ap);
}

bool
errbuf_fail(char *buf, size_t cap, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	errbuf_vset(buf, cap, fmt, ap);
	va_end(ap);
	return false;
}
