/*-------------------------------------------------------------------------
 *
 * fuzz_router_health.c
 *	  libFuzzer target for the router's readers of an agent's HTTP replies
 *	  (router/health.c, and decide_watch_outcome of router/decide.c): the
 *	  reply of a check (GET /primary and the like) and of a /watch
 *	  long-poll.
 *
 * The input is one byte of options (what the probe waits for, how the
 * reply arrives) and the reply, read as the router reads it: in chunks into
 * a buffer of the probe's size, asking health_reply_complete after each.
 * Checked, besides memory safety (every buffer is exactly its size):
 *   - the status line and the end of the headers (with Content-Length)
 *     agree with a small independent oracle, for every prefix of the reply;
 *   - health_reply_complete agrees with the oracle, is true once the buffer
 *     is full, and once true stays true as more bytes come;
 *   - stopping where health_reply_complete says loses nothing: the watch
 *     reply and the leader epoch read from the bytes up to there are those
 *     read from the whole reply, when the body's length was given;
 *   - a watch reply accepted has status 200 or 503 agreeing with its
 *     "primary", and decide_watch_outcome classifies consistently;
 *   - a reply built from the input's values (status, primary, epoch,
 *     header order) is read back with exactly those values.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "health.h"
#include "fuzz_check.h"

/* the size of HttpProbe.reply (router/probe.h, which needs libuv) */
#define REPLY_CAP	4096

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "HTTP/1.d ddd" and a blank, CR or LF; code at least 100. */
static int
oracle_status(const char *b, size_t len, int *code)
{
	static const char pattern[] = "HTTP/1.# ###";

	for (size_t i = 0; i < len && i < 13; i++)
	{
		char		p = i < 12 ? pattern[i] : 0;

		if (i == 12 ? !(b[i] == ' ' || b[i] == '\r' || b[i] == '\n') :
			p == '#' ? !is_digit(b[i]) : b[i] != p)
			return -1;
	}
	if (len < 13)
		return 0;
	*code = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
	return *code >= 100 ? 1 : -1;
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

/*
 * The offset after the first empty line ("" or "\r" before a "\n"), 0 when
 * there is none or the very first line is empty.  *cl: the last
 * Content-Length line's digits after blanks, -1 without digits; *big when
 * that value exceeds 10^8 (the reader caps it there, so only its size is
 * checked).
 */
static size_t
oracle_body(const char *b, size_t len, long *cl, bool *big)
{
	size_t		s = 0;

	*cl = -1;
	*big = false;
	while (s < len)
	{
		const char *nl = memchr(b + s, '\n', len - s);
		size_t		e;
		size_t		ll;

		if (nl == NULL)
			return 0;
		e = (size_t) (nl - b);
		ll = e - s;
		if (ll > 0 && b[e - 1] == '\r')
			ll--;
		if (ll == 0)
			return s == 0 ? 0 : e + 1;
		if (ll >= 15)
		{
			const char *name = "content-length:";
			size_t		i;

			for (i = 0; i < 15 && lower(b[s + i]) == name[i]; i++)
				;
			if (i == 15)
			{
				uint64_t	v = 0;
				bool		digits = false;

				while (i < ll && b[s + i] == ' ')
					i++;
				for (; i < ll && is_digit(b[s + i]); i++)
				{
					digits = true;
					if (v <= 1000000000)
						v = v * 10 + (uint64_t) (b[s + i] - '0');
				}
				*cl = digits ? (long) (v > 100000000 ? 100000001 : v) : -1;
				*big = digits && v > 100000000;
			}
		}
		s = e + 1;
	}
	return 0;
}

/* The rule of health.h, stated on the oracles: full, garbage, or what need asks */
static bool
oracle_complete(const char *b, size_t len, ReplyNeed need)
{
	int			code;
	long		cl;
	bool		big;
	int			st = oracle_status(b, len, &code);
	size_t		off = st == 1 ? oracle_body(b, len, &cl, &big) : 0;

	return len >= REPLY_CAP || st == -1 ||
		(off > 0 && (need == REPLY_NEED_HEADERS ||
					 (cl < 0 ? need == REPLY_NEED_BODY_IF_LENGTH :
					  !big && len - off >= (size_t) cl)));
}

/* Status line and headers of the first len bytes against the oracle. */
static void
check_prefix(const char *b, size_t len)
{
	int			st = -7;
	int			ost = -7;
	int			r = health_parse_status_line(b, len, &st);
	long		cl;
	long		ocl;
	bool		big;
	size_t		off = health_find_body(b, len, &cl);
	size_t		ooff = oracle_body(b, len, &ocl, &big);

	CHECK(r == oracle_status(b, len, &ost));
	if (r == 1)
		CHECK(st == ost && st >= 100 && st <= 999);
	CHECK(off == ooff && off <= len);
	if (off > 0)
	{
		CHECK(b[off - 1] == '\n');
		if (big)
			CHECK(cl > 100000000 && cl < 1000000010);
		else
			CHECK(cl == ocl);
	}
}

static bool
same_watch(const WatchReply *a, const WatchReply *b)
{
	return a->status == b->status && a->primary == b->primary &&
		a->has_epoch == b->has_epoch && (!a->has_epoch || a->leader_epoch == b->leader_epoch);
}

/* Everything read from a complete reply of len bytes. */
static void
check_reply(const char *b, size_t len, WatchReply *w, bool *watch_ok,
			bool *epoch_ok, uint64_t *epoch)
{
	WatchReply	w2;
	int			st = 0;
	bool		st_ok = health_parse_status_line(b, len, &st) == 1;
	WatchOutcome o = decide_watch_outcome(true, b, len, &w2);

	*watch_ok = health_parse_watch_reply(b, len, w);
	*epoch = 0;
	*epoch_ok = health_parse_epoch(b, len, epoch);
	if (*watch_ok)
	{
		long		cl;

		CHECK(st_ok && st == w->status);
		CHECK(w->status == 200 || w->status == 503);
		CHECK(w->primary == (w->status == 200));
		CHECK(health_find_body(b, len, &cl) > 0);
		CHECK(w->has_epoch == *epoch_ok);
		if (w->has_epoch)
			CHECK(w->leader_epoch == *epoch);
		CHECK(o == WATCH_OUTCOME_REPLY && same_watch(w, &w2));
	}
	else
	{
		CHECK(w->status == 0 && !w->has_epoch);
		CHECK(o == (len == 0 ? WATCH_OUTCOME_NO_ANSWER :
					(st_ok && (st == 404 || st == 501)) ?
					WATCH_OUTCOME_NOT_FOUND : WATCH_OUTCOME_BAD_REPLY));
	}
	if (*epoch_ok)
		CHECK(health_find_body(b, len, &(long) {0}) > 0);
	CHECK(decide_watch_outcome(false, b, len, &w2) == WATCH_OUTCOME_NO_ANSWER);
	CHECK(decide_watch_outcome(true, b, 0, &w2) == WATCH_OUTCOME_NO_ANSWER);
}

/* The reply arrives in chunks; the reader stops when it is complete. */
static void
read_like_the_probe(const char *b, size_t n, ReplyNeed need, uint8_t seed)
{
	size_t		len = 0;
	size_t		stop = 0;
	bool		was = false;
	uint32_t	rng = seed * 2654435761u + 1;

	while (len < n)
	{
		bool		now;

		rng = rng * 1103515245u + 12345u;
		len += 1 + (rng >> 16) % (seed & 1 ? 7 : 600);
		if (len > n)
			len = n;
		now = health_reply_complete(b, len, REPLY_CAP, need);
		CHECK(now == oracle_complete(b, len, need));
		CHECK(!was || now);
		if (now && !was)
			stop = len;
		was = now;
	}
	if (n == REPLY_CAP)
		CHECK(was);
	if (!was || stop == n)
		return;

	/* stopped early: nothing read from the rest would have changed */
	{
		WatchReply	w_stop,
					w_all;
		bool		ok_stop,
					ok_all,
					e_stop,
					e_all;
		uint64_t	ep_stop,
					ep_all;
		long		cl;
		int			st;

		check_reply(b, stop, &w_stop, &ok_stop, &e_stop, &ep_stop);
		check_reply(b, n, &w_all, &ok_all, &e_all, &ep_all);
		/* garbage (the epoch is read only from a check that passed) */
		if (health_parse_status_line(b, stop, &st) != 1)
			CHECK(!ok_stop && !ok_all);
		else if (health_find_body(b, stop, &cl) > 0 && cl >= 0 && need != REPLY_NEED_HEADERS)
		{
			CHECK(ok_stop == ok_all);
			if (ok_stop)
				CHECK(same_watch(&w_stop, &w_all));
			CHECK(e_stop == e_all);
			if (e_stop)
				CHECK(ep_stop == ep_all);
		}
	}
}

/* A reply built from values, read back: exactly those values. */
static void
check_built(const uint8_t *data, size_t size)
{
	static const int codes[] = {200, 503, 404, 501, 500, 200, 503, 302};
	static const char junk[] = "{\"primary\":true,\"leader_epoch\":1}";
	char		body[128];
	char		reply[512];
	uint64_t	epoch = 0;
	int			code;
	bool		primary;
	bool		with_epoch;
	int			blen;
	int			rlen;
	WatchReply	w;
	uint64_t	got;

	if (size < 10)
		return;
	code = codes[data[0] & 7];
	primary = (data[0] >> 3) & 1;
	with_epoch = (data[0] >> 4) & 1;
	memcpy(&epoch, data + 1, 8);
	if ((data[0] >> 5) & 1)
		blen = snprintf(body, sizeof(body), "{\"leader_epoch\": %llu, \"primary\": %s}",
						(unsigned long long) epoch, primary ? "true" : "false");
	else if (with_epoch)
		blen = snprintf(body, sizeof(body), "{\"primary\":%s,\"role\":\"x\",\"leader_epoch\":%llu}",
						primary ? "true" : "false", (unsigned long long) epoch);
	else
		blen = snprintf(body, sizeof(body), "{\"primary\":%s}", primary ? "true" : "false");
	with_epoch = with_epoch || ((data[0] >> 5) & 1);
	/* a header before and after Content-Length, any case; junk past the body */
	rlen = snprintf(reply, sizeof(reply),
					"HTTP/1.%d %d Whatever\r\nServer: x\r\n%s: %d\r\nConnection: close\r\n\r\n%s%s",
					data[9] & 1, code, (data[9] & 2) ? "content-LENGTH" : "Content-Length",
					blen, body, (data[9] & 4) ? junk : "");
	CHECK(rlen > 0 && (size_t) rlen < sizeof(reply));
	CHECK(health_reply_complete(reply, (size_t) rlen, REPLY_CAP, REPLY_NEED_BODY));
	CHECK(!health_reply_complete(reply, (size_t) rlen - 1 - ((data[9] & 4) ? strlen(junk) : 0),
								 REPLY_CAP, REPLY_NEED_BODY));
	if ((code == 200 || code == 503) && primary == (code == 200))
	{
		CHECK(health_parse_watch_reply(reply, (size_t) rlen, &w));
		CHECK(w.status == code && w.primary == primary && w.has_epoch == with_epoch);
		if (with_epoch)
			CHECK(w.leader_epoch == epoch);
	}
	else
		CHECK(!health_parse_watch_reply(reply, (size_t) rlen, &w));
	CHECK(health_parse_epoch(reply, (size_t) rlen, &got) == with_epoch);
	if (with_epoch)
		CHECK(got == epoch);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *b;
	size_t		n;
	ReplyNeed	need;

	if (size < 1)
		return 0;
	need = (ReplyNeed) (data[0] % 3);
	n = size - 1 > REPLY_CAP ? REPLY_CAP : size - 1;
	/* exactly sized, so a read past the end is an ASan report */
	b = malloc(n ? n : 1);
	CHECK(b != NULL);
	memcpy(b, data + 1, n);

	for (size_t k = 0; k <= n && k <= 16; k++)
		check_prefix(b, k);
	check_prefix(b, n);
	{
		long		cl;
		size_t		off = health_find_body(b, n, &cl);

		/* the headers' end does not move as more bytes come */
		if (off > 0)
		{
			check_prefix(b, off);
			check_prefix(b, off + (n - off) / 2);
		}
	}
	read_like_the_probe(b, n, need, data[0]);
	{
		WatchReply	w;
		bool		ok,
					e;
		uint64_t	ep;

		check_reply(b, n, &w, &ok, &e, &ep);
	}
	check_built(data, size);
	free(b);
	return 0;
}
