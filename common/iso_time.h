/*-------------------------------------------------------------------------
 *
 * iso_time.h
 *	  ISO 8601 timestamps as Patroni writes and reads them ("2026-12-02T
 *	  09:10:11.123456+00:00"): the /history key's timestamps and the
 *	  scheduled_at of a switchover or restart.  Pure C, UTC arithmetic only
 *	  (no TZ database, no locale).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ISO_TIME_H
#define ISO_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ISO_TIME_LEN	40		/* enough for any timestamp we write or accept */

/* Now, in microseconds since the Unix epoch (the wall clock times are written in). */
extern int64_t iso_time_now_us(void);

/* Microseconds since the Unix epoch -> "YYYY-MM-DDTHH:MM:SS.ffffff+00:00". */
extern void iso_time_format(int64_t unix_us, char *out, size_t outlen);

/*
 * "YYYY-MM-DD[T ]HH:MM[:SS[.fraction]]" followed by "Z" or an offset
 * ("+HH:MM", "+HHMM", "+HH"), as microseconds since the Unix epoch.  A
 * timestamp without a zone is refused (which zone the writer meant is
 * unknowable), as are out-of-range fields and trailing text.
 */
extern bool iso_time_parse(const char *s, int64_t *unix_us);

#endif							/* ISO_TIME_H */
