/*-------------------------------------------------------------------------
 *
 * rewind.c
 *	  WAL positions, pg_controldata output and the rewind decision (see
 *	  rewind.h).  Pure functions.
 *
 * The decision follows the rule Patroni uses (patroni/postgresql/rewind.py),
 * written independently: a node can follow a leader without pg_rewind iff
 * all the WAL it has lies on the leader's history, i.e. it is on the
 * leader's timeline and not ahead of it, or its timeline is an ancestor of
 * the leader's and its WAL ends at or before the point where the leader's
 * history left that timeline.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "rewind.h"

static bool
parse_hex32(const char *s, const char **end, uint32_t *out)
{
	uint64_t	v = 0;
	const char *p = s;

	while (isxdigit((unsigned char) *p))
	{
		int			d = isdigit((unsigned char) *p) ? *p - '0' :
			(tolower((unsigned char) *p) - 'a' + 10);

		v = v * 16 + (uint64_t) d;
		if (v > UINT32_MAX || p - s >= 8)
			return false;
		p++;
	}
	if (p == s)
		return false;
	*out = (uint32_t) v;
	*end = p;
	return true;
}

/* Parses "X/Y" at s; *end after it. */
static bool
lsn_scan(const char *s, const char **end, uint64_t *out)
{
	uint32_t	hi,
				lo;
	const char *p;

	if (!parse_hex32(s, &p, &hi) || *p != '/')
		return false;
	if (!parse_hex32(p + 1, &p, &lo))
		return false;
	*out = ((uint64_t) hi << 32) | lo;
	*end = p;
	return true;
}

bool
lsn_parse(const char *s, uint64_t *out)
{
	const char *end;

	if (s == NULL || !lsn_scan(s, &end, out))
		return false;
	return *end == '\0';
}

void
lsn_format(uint64_t lsn, char *buf, size_t cap)
{
	snprintf(buf, cap, "%X/%X", (unsigned) (lsn >> 32), (unsigned) (lsn & 0xFFFFFFFFu));
}

/* The value after "label:" on the line that starts with label, or NULL. */
static const char *
cd_value(const char *text, const char *label, char *buf, size_t cap)
{
	size_t		ll = strlen(label);
	const char *p = text;

	while (p && *p)
	{
		if (strncmp(p, label, ll) == 0 && p[ll] == ':')
		{
			const char *v = p + ll + 1;
			size_t		n = 0;

			while (*v == ' ' || *v == '\t')
				v++;
			while (v[n] && v[n] != '\n')
				n++;
			while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\r'))
				n--;
			if (n >= cap)
				return NULL;
			memcpy(buf, v, n);
			buf[n] = '\0';
			return buf;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static bool
cd_uint(const char *text, const char *label, uint64_t *out)
{
	char		buf[64];
	char	   *end;

	if (!cd_value(text, label, buf, sizeof(buf)) || !isdigit((unsigned char) buf[0]))
		return false;
	errno = 0;
	*out = strtoull(buf, &end, 10);
	return errno == 0 && *end == '\0';
}

static bool
cd_lsn(const char *text, const char *label, uint64_t *out)
{
	char		buf[64];

	return cd_value(text, label, buf, sizeof(buf)) && lsn_parse(buf, out);
}

bool
controldata_parse(const char *text, ControlData *cd, char *err, size_t errlen)
{
	uint64_t	v;

	memset(cd, 0, sizeof(*cd));
	if (!cd_uint(text, "Database system identifier", &cd->system_id))
		return errbuf_set(err, errlen, "no \"Database system identifier\""), false;
	if (!cd_value(text, "Database cluster state", cd->state, sizeof(cd->state)))
		return errbuf_set(err, errlen, "no \"Database cluster state\""), false;
	if (!cd_lsn(text, "Latest checkpoint location", &cd->checkpoint))
		return errbuf_set(err, errlen, "no \"Latest checkpoint location\""), false;
	if (!cd_lsn(text, "Latest checkpoint's REDO location", &cd->redo))
		return errbuf_set(err, errlen, "no \"Latest checkpoint's REDO location\""), false;
	if (!cd_uint(text, "Latest checkpoint's TimeLineID", &v) || v == 0 || v > UINT32_MAX)
		return errbuf_set(err, errlen, "no \"Latest checkpoint's TimeLineID\""), false;
	cd->checkpoint_tli = (uint32_t) v;
	if (!cd_lsn(text, "Minimum recovery ending location", &cd->min_recovery))
		return errbuf_set(err, errlen, "no \"Minimum recovery ending location\""), false;
	if (!cd_uint(text, "Min recovery ending loc's timeline", &v) || v > UINT32_MAX)
		return errbuf_set(err, errlen, "no \"Min recovery ending loc's timeline\""), false;
	cd->min_recovery_tli = (uint32_t) v;
	if (!cd_uint(text, "Bytes per WAL segment", &v) || v == 0 || v > (1u << 30) ||
		(v & (v - 1)) != 0)
		return errbuf_set(err, errlen, "no valid \"Bytes per WAL segment\""), false;
	cd->seg_size = (uint32_t) v;
	return true;
}

bool
controldata_clean(const ControlData *cd)
{
	return strcmp(cd->state, "shut down") == 0 ||
		strcmp(cd->state, "shut down in recovery") == 0;
}

uint64_t
rewind_checkpoint_end(uint64_t lsn, uint32_t seg_size)
{
	uint64_t	pos = lsn;
	uint64_t	left = REWIND_CHECKPOINT_RECORD_LEN;

	if (seg_size == 0)
		seg_size = 16 * 1024 * 1024;
	while (left > 0)
	{
		uint64_t	room = REWIND_XLOG_BLCKSZ - pos % REWIND_XLOG_BLCKSZ;

		if (room >= left)
		{
			pos += left;
			break;
		}
		left -= room;
		pos += room;			/* at a page boundary: skip its header */
		pos += (pos % seg_size == 0) ? REWIND_LONG_PHD : REWIND_SHORT_PHD;
	}
	return pos;
}

bool
rewind_local_position(const ControlData *cd, uint32_t *tli, uint64_t *end,
					  char *why, size_t whylen)
{
	uint64_t	ckpt_end = rewind_checkpoint_end(cd->checkpoint, cd->seg_size);

	if (strcmp(cd->state, "shut down") == 0)
	{
		*tli = cd->checkpoint_tli;
		*end = ckpt_end;
		return true;
	}
	if (strcmp(cd->state, "shut down in recovery") == 0 ||
		strcmp(cd->state, "in archive recovery") == 0)
	{
		/* a standby (a crashed one included): how far it may have replayed */
		*tli = cd->checkpoint_tli;
		*end = ckpt_end;
		if (cd->min_recovery_tli != 0 && cd->min_recovery > ckpt_end)
		{
			*tli = cd->min_recovery_tli;
			*end = cd->min_recovery;
		}
		return true;
	}
	errbuf_set(why, whylen, "the cluster state is \"%s\", not a clean shutdown", cd->state);
	return false;
}

bool
rewind_waldump_end(const char *text, uint64_t *end)
{
	const char *p = strstr(text, "error in WAL record at ");
	const char *q;
	const char *eol;
	uint64_t	last;

	if (p == NULL)
		return false;
	p += strlen("error in WAL record at ");
	if (!lsn_scan(p, &q, &last))
		return false;
	eol = strchr(q, '\n');
	if (eol == NULL)
		eol = q + strlen(q);
	/* the first " at X/Y" after it, on that line, is where reading stopped */
	for (p = q; (p = strstr(p, " at ")) != NULL && p < eol; p += 4)
	{
		const char *e;
		uint64_t	v;

		if (lsn_scan(p + 4, &e, &v))
		{
			if (v <= last)
				return false;
			*end = v;
			return true;
		}
	}
	return false;
}

const char *
rewind_decision_name(RewindDecision d)
{
	switch (d)
	{
		case REWIND_NOT_NEEDED:
			return "no rewind needed";
		case REWIND_NEEDED:
			return "rewind needed";
		case REWIND_RECLONE:
			return "re-clone needed";
	}
	return "?";
}

bool
rewind_history_switchpoint(const char *history, uint32_t tli, uint64_t *switchpoint,
						   bool *malformed)
{
	const char *p = history;

	*malformed = false;
	while (p && *p)
	{
		const char *q = p;
		unsigned long parent;
		char	   *end;
		uint64_t	lsn;
		const char *lend;

		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == '#' || *q == '\n' || *q == '\r' || *q == '\0')
			goto next;
		if (!isdigit((unsigned char) *q))
		{
			*malformed = true;
			return false;
		}
		errno = 0;
		parent = strtoul(q, &end, 10);
		if (errno != 0 || parent == 0 || parent > UINT32_MAX)
		{
			*malformed = true;
			return false;
		}
		q = end;
		while (*q == ' ' || *q == '\t')
			q++;
		if (!lsn_scan(q, &lend, &lsn))
		{
			*malformed = true;
			return false;
		}
		if ((uint32_t) parent == tli)
		{
			*switchpoint = lsn;
			return true;
		}
next:
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

RewindDecision
rewind_decide(const char *history, uint32_t leader_tli, uint64_t leader_lsn,
			  uint32_t our_tli, uint64_t our_end, char *why, size_t whylen)
{
	char		a[24],
				b[24];
	uint64_t	sp;
	bool		malformed;

	lsn_format(our_end, a, sizeof(a));
	if (our_tli == leader_tli)
	{
		lsn_format(leader_lsn, b, sizeof(b));
		if (our_end <= leader_lsn)
		{
			errbuf_set(why, whylen, "same timeline %u, our WAL ends at %s, the leader is at %s",
				our_tli, a, b);
			return REWIND_NOT_NEEDED;
		}
		errbuf_set(why, whylen, "same timeline %u but our WAL ends at %s, ahead of the leader at %s",
			our_tli, a, b);
		return REWIND_RECLONE;
	}
	if (our_tli > leader_tli)
	{
		errbuf_set(why, whylen, "our timeline %u is newer than the leader's %u", our_tli, leader_tli);
		return REWIND_NEEDED;
	}
	if (!rewind_history_switchpoint(history ? history : "", our_tli, &sp, &malformed))
	{
		errbuf_set(why, whylen, malformed ? "the leader's timeline history is malformed" :
			"our timeline %u is not in the leader's history (timeline %u)", our_tli, leader_tli);
		return REWIND_NEEDED;
	}
	lsn_format(sp, b, sizeof(b));
	if (our_end <= sp)
	{
		errbuf_set(why, whylen, "the leader left our timeline %u at %s, our WAL ends at %s",
			our_tli, b, a);
		return REWIND_NOT_NEEDED;
	}
	errbuf_set(why, whylen, "the leader left our timeline %u at %s but our WAL goes on to %s",
		our_tli, b, a);
	return REWIND_NEEDED;
}

RewindDecision
rewind_method(RewindDecision d, bool use_pg_rewind)
{
	return d == REWIND_NEEDED && !use_pg_rewind ? REWIND_RECLONE : d;
}
