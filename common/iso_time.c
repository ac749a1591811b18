/*-------------------------------------------------------------------------
 *
 * iso_time.c
 *	  ISO 8601 timestamps, formatted and parsed without the C library's
 *	  time zone machinery (days from civil dates, proleptic Gregorian).
 *
 * IDENTIFICATION
 *	  common/iso_time.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <time.h>

#include "iso_time.h"

#define US_PER_SEC	INT64_C(1000000)
#define SEC_PER_DAY INT64_C(86400)

/* Days since 1970-01-01 of a civil date (month 1..12). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t		era;
	int64_t		yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t		era,
				doe,
				yoe,
				doy,
				mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int64_t y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

int64_t
iso_time_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * US_PER_SEC + ts.tv_nsec / 1000;
}

void
iso_time_format(int64_t unix_us, char *out, size_t outlen)
{
	int64_t		secs = unix_us / US_PER_SEC;
	int64_t		us = unix_us % US_PER_SEC;
	int64_t		days,
				rem,
				y;
	int			m,
				d;

	if (us < 0)
	{
		us += US_PER_SEC;
		secs--;
	}
	days = secs / SEC_PER_DAY;
	rem = secs % SEC_PER_DAY;
	if (rem < 0)
	{
		rem += SEC_PER_DAY;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	snprintf(out, outlen, "%04lld-%02d-%02dT%02d:%02d:%02d.%06lld+00:00",
			 (long long) y, m, d, (int) (rem / 3600), (int) (rem / 60 % 60),
			 (int) (rem % 60), (long long) us);
}

/* Exactly n decimal digits at *p, advancing it. */
static bool
digits(const char **p, int n, int *out)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		char		c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

bool
iso_time_parse(const char *s, int64_t *unix_us)
{
	const char *p = s;
	int			y,
				mo,
				d,
				h,
				mi,
				sec = 0,
				oh = 0,
				om = 0;
	int64_t		frac = 0;
	int64_t		offset_s;
	int			sign;

	if (s == NULL)
		return false;
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) ||
		*p++ != '-' || !digits(&p, 2, &d))
		return false;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return false;
	p++;
	if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
		return false;
	if (*p == ':')
	{
		p++;
		if (!digits(&p, 2, &sec))
			return false;
		if (*p == '.' || *p == ',')
		{
			int64_t		scale = 100000;
			int			n = 0;

			p++;
			while (*p >= '0' && *p <= '9')
			{
				if (n++ < 6)
				{
					frac += (*p - '0') * scale;
					scale /= 10;
				}
				p++;
			}
			if (n == 0)
				return false;
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
		h > 23 || mi > 59 || sec > 59)
		return false;

	if (*p == 'Z' || *p == 'z')
	{
		sign = 0;
		p++;
	}
	else if (*p == '+' || *p == '-')
	{
		sign = *p++ == '-' ? -1 : 1;
		if (!digits(&p, 2, &oh))
			return false;
		if (*p == ':')
			p++;
		if (*p >= '0' && *p <= '9' && !digits(&p, 2, &om))
			return false;
		if (oh > 23 || om > 59)
			return false;
	}
	else
		return false;			/* no zone */
	if (*p != '\0')
		return false;

	offset_s = sign * ((int64_t) oh * 3600 + om * 60);
	*unix_us = ((days_from_civil(y, mo, d) * SEC_PER_DAY + h * 3600 + mi * 60 + sec -
				 offset_s) * US_PER_SEC) + frac;
	return true;
}
