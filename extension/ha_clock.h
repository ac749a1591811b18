/*-------------------------------------------------------------------------
 *
 * ha_clock.h
 *	  PostgreSQL's timestamps (microseconds since 2000-01-01) and the Unix
 *	  microseconds of common/iso_time.h, both ways.
 *
 *-------------------------------------------------------------------------
 */
#ifndef HA_CLOCK_H
#define HA_CLOCK_H

#include "datatype/timestamp.h"

#define HA_UNIX_TO_PG_EPOCH_US \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * USECS_PER_SEC)

static inline int64
ha_timestamptz_to_unix_us(TimestampTz t)
{
	return t + HA_UNIX_TO_PG_EPOCH_US;
}

static inline TimestampTz
ha_unix_us_to_timestamptz(int64 unix_us)
{
	return unix_us - HA_UNIX_TO_PG_EPOCH_US;
}

#endif							/* HA_CLOCK_H */
