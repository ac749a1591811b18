/*
 * fuzz_out.h
 *	  A text the fuzz targets write back (a configuration, a request) to
 *	  parse it again: appended with printf formats into a caller's buffer;
 *	  running out of room fails the check (the buffers are sized for the
 *	  largest text a target writes).
 */
#ifndef FUZZ_OUT_H
#define FUZZ_OUT_H

#include <stdarg.h>
#include <stdio.h>

#include "fuzz_check.h"

typedef struct FuzzOut
{
	char	   *buf;
	size_t		cap;
	size_t		len;
} FuzzOut;

static void fuzz_out(FuzzOut *o, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static void
fuzz_out(FuzzOut *o, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	CHECK(n >= 0 && (size_t) n < o->cap - o->len);
	o->len += (size_t) n;
}

#endif							/* FUZZ_OUT_H */
