/*
 * errbuf.h — writing a message into a caller's bounded buffer, the way
 * the pure parsers (conf.c, proto.c, rewind.c) report what they found.
 */
#ifndef ERRBUF_H
#define ERRBUF_H

#include <stdbool.h>
#include <stddef.h>

/* Formats into buf (when buf and cap are set). */
void		errbuf_set(char *buf, size_t cap, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* Same, and returns false: `return errbuf_fail(err, errlen, "...")`. */
bool		errbuf_fail(char *buf, size_t cap, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

#endif
