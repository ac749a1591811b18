/*-------------------------------------------------------------------------
 *
 * json_writer.c
 *	  Bounded JSON writer, the member znode body format (HaMember to JSON
 *	  and back), and the one JSON reader of the agent, the supervisor and
 *	  the router (request bodies, lookups by path in HTTP replies).
 *
 * Member bodies come from ZooKeeper, where any client with access can
 * write any bytes, and they are read inside postgres.  So the reader is a
 * small strict recursive-descent parser with a depth limit that decodes
 * straight into HaMember's fixed-size fields: a string that does not fit
 * is an error, never a truncation, and nothing is allocated.
 *
 * IDENTIFICATION
 *	  common/json_writer.c
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "json_writer.h"
#include "text.h"

#define JSON_MAX_DEPTH	8

/* ----------------------------------------------------------------
 * Writer
 * ----------------------------------------------------------------
 */

void
json_init(JsonBuf *jb, char *buf, size_t cap)
{
	jb->data = buf;
	jb->len = 0;
	jb->cap = cap;
	jb->need_comma = false;
	/* with no room even for the terminator, everything is overflow */
	jb->overflow = (buf == NULL || cap == 0);
	if (!jb->overflow)
		buf[0] = '\0';
}

/*
 * Appends s[0..n) whole or not at all, so that what is in the buffer is
 * always a prefix made of complete pieces.
 */
static void
jb_put(JsonBuf *jb, const char *s, size_t n)
{
	if (jb->overflow)
		return;
	if (n > jb->cap - 1 - jb->len)
	{
		jb->overflow = true;
		return;
	}
	memcpy(jb->data + jb->len, s, n);
	jb->len += n;
	jb->data[jb->len] = '\0';
}

static void
jb_comma(JsonBuf *jb)
{
	if (jb->need_comma)
		jb_put(jb, ",", 1);
}

void
json_object_begin(JsonBuf *jb)
{
	jb_comma(jb);
	jb_put(jb, "{", 1);
	jb->need_comma = false;
}

void
json_object_end(JsonBuf *jb)
{
	jb_put(jb, "}", 1);
	jb->need_comma = true;
}

void
json_array_begin(JsonBuf *jb)
{
	jb_comma(jb);
	jb_put(jb, "[", 1);
	jb->need_comma = false;
}

void
json_array_end(JsonBuf *jb)
{
	jb_put(jb, "]", 1);
	jb->need_comma = true;
}

/* The body of a string literal: s[0..n) escaped, without the quotes. */
static void
jb_escaped(JsonBuf *jb, const char *s, size_t n)
{
	size_t		run = 0;		/* start of bytes not yet written */
	size_t		i;

	for (i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];
		char		esc[8];
		size_t		elen = 2;

		if (c == '"' || c == '\\')
		{
			esc[0] = '\\';
			esc[1] = (char) c;
		}
		else if (c < 0x20)
		{
			esc[0] = '\\';
			switch (c)
			{
				case '\b':
					esc[1] = 'b';
					break;
				case '\f':
					esc[1] = 'f';
					break;
				case '\n':
					esc[1] = 'n';
					break;
				case '\r':
					esc[1] = 'r';
					break;
				case '\t':
					esc[1] = 't';
					break;
				default:
					snprintf(esc, sizeof(esc), "\\u%04x", (unsigned) c);
					elen = 6;
					break;
			}
		}
		else
			continue;
		jb_put(jb, s + run, i - run);
		jb_put(jb, esc, elen);
		run = i + 1;
	}
	jb_put(jb, s + run, n - run);
}

static void
jb_string_n(JsonBuf *jb, const char *s, size_t n)
{
	jb_put(jb, "\"", 1);
	jb_escaped(jb, s, n);
	jb_put(jb, "\"", 1);
}

void
json_key(JsonBuf *jb, const char *key)
{
	jb_comma(jb);
	jb_string_n(jb, key, strlen(key));
	jb_put(jb, ":", 1);
	jb->need_comma = false;
}

void
json_string(JsonBuf *jb, const char *s)
{
	if (s == NULL)
	{
		json_null(jb);
		return;
	}
	jb_comma(jb);
	jb_string_n(jb, s, strlen(s));
	jb->need_comma = true;
}

void
json_int(JsonBuf *jb, int64_t v)
{
	char		tmp[24];
	int			n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);

	jb_comma(jb);
	jb_put(jb, tmp, (size_t) n);
	jb->need_comma = true;
}

void
json_uint(JsonBuf *jb, uint64_t v)
{
	char		tmp[24];
	int			n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);

	jb_comma(jb);
	jb_put(jb, tmp, (size_t) n);
	jb->need_comma = true;
}

void
json_bool(JsonBuf *jb, bool v)
{
	json_raw(jb, v ? "true" : "false");
}

void
json_null(JsonBuf *jb)
{
	json_raw(jb, "null");
}

void
json_raw(JsonBuf *jb, const char *raw)
{
	jb_comma(jb);
	jb_put(jb, raw, strlen(raw));
	jb->need_comma = true;
}

/* ----------------------------------------------------------------
 * Member body
 * ----------------------------------------------------------------
 */

/* Length of a field that should be NUL-terminated but may not be. */
static size_t
field_len(const char *s, size_t cap)
{
	size_t		n = 0;

	while (n < cap && s[n] != '\0')
		n++;
	return n;
}

#define FIELD_STRING(jb, m, f) \
	do { \
		json_key((jb), #f); \
		jb_string_n((jb), (m)->f, field_len((m)->f, sizeof((m)->f))); \
		(jb)->need_comma = true; \
	} while (0)

void
member_to_json(const HaMember *m, JsonBuf *jb)
{
	char		sysid[24];

	json_object_begin(jb);
	FIELD_STRING(jb, m, conn_url);
	FIELD_STRING(jb, m, api_url);
	FIELD_STRING(jb, m, role);
	FIELD_STRING(jb, m, state);
	json_key(jb, "timeline");
	json_uint(jb, m->timeline);
	json_key(jb, "xlog_location");
	json_uint(jb, m->xlog_location);
	json_key(jb, "replayed_location");
	json_uint(jb, m->replayed_location);
	/* a string: a uint64 does not survive a reader that uses doubles */
	snprintf(sysid, sizeof(sysid), "%" PRIu64, m->system_id);
	json_key(jb, "system_id");
	json_string(jb, sysid);
	FIELD_STRING(jb, m, node_id);
	json_key(jb, "ttl");
	json_int(jb, m->ttl);
	json_key(jb, "retry_timeout");
	json_int(jb, m->retry_timeout);
	json_key(jb, "synchronous_mode");
	json_bool(jb, m->synchronous_mode);
	json_key(jb, "maximum_lag_on_failover");
	json_uint(jb, m->maximum_lag_on_failover);
	json_key(jb, "supervised");
	json_bool(jb, m->supervised);
	json_key(jb, "tags");
	json_object_begin(jb);
	json_key(jb, "nofailover");
	json_bool(jb, m->tags.nofailover);
	json_key(jb, "noloadbalance");
	json_bool(jb, m->tags.noloadbalance);
	json_key(jb, "nosync");
	json_bool(jb, m->tags.nosync);
	json_key(jb, "clonefrom");
	json_bool(jb, m->tags.clonefrom);
	json_object_end(jb);
	json_object_end(jb);
}

/* ----------------------------------------------------------------
 * Reader
 * ----------------------------------------------------------------
 */

typedef struct JsonParser
{
	const unsigned char *start;
	const unsigned char *p;
	const unsigned char *end;
	const char *error;			/* first error, a static string */
	size_t		error_at;
} JsonParser;

/* Callback for each member of an object: must consume the value. */
typedef bool (*MemberFn) (JsonParser *P, const char *key, size_t keylen,
						  int depth, void *arg);

static bool
json_error(JsonParser *P, const char *msg)
{
	if (P->error == NULL)
	{
		P->error = msg;
		P->error_at = (size_t) (P->p - P->start);
	}
	return false;
}

static void
skip_ws(JsonParser *P)
{
	while (P->p < P->end &&
		   (*P->p == ' ' || *P->p == '\t' || *P->p == '\n' || *P->p == '\r'))
		P->p++;
}

static bool
match_literal(JsonParser *P, const char *lit)
{
	size_t		n = strlen(lit);

	if ((size_t) (P->end - P->p) < n || memcmp(P->p, lit, n) != 0)
		return false;
	P->p += n;
	return true;
}

/* Reads the XXXX of \uXXXX at P->p. */
static bool
read_hex4(JsonParser *P, uint32_t *cp)
{
	int			i;

	*cp = 0;
	if (P->end - P->p < 4)
		return json_error(P, "truncated \\u escape");
	for (i = 0; i < 4; i++)
	{
		int			d = text_hex_value(P->p[i]);

		if (d < 0)
			return json_error(P, "bad \\u escape");
		*cp = (*cp << 4) | (uint32_t) d;
	}
	P->p += 4;
	return true;
}

/* Length of the valid UTF-8 sequence at p (< end), or 0 if invalid. */
static size_t
utf8_seq_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];
	unsigned char lo = 0x80;
	unsigned char hi = 0xBF;
	size_t		n;
	size_t		i;

	if (c < 0x80)
		return 1;
	else if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
	{
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;			/* overlong */
		else if (c == 0xED)
			hi = 0x9F;			/* UTF-16 surrogates */
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		n = 4;
		if (c == 0xF0)
			lo = 0x90;			/* overlong */
		else if (c == 0xF4)
			hi = 0x8F;			/* above U+10FFFF */
	}
	else
		return 0;

	if ((size_t) (end - p) < n)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
	{
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	}
	return n;
}

/*
 * Parses a string literal at P->p (which is at '"').  The decoded bytes go
 * to out (cap bytes including the NUL) unless out is NULL; *len is the full
 * decoded length and *toolong says it did not fit.
 */
static bool
parse_string(JsonParser *P, char *out, size_t cap, size_t *len, bool *toolong)
{
	*len = 0;
	*toolong = false;
	P->p++;						/* opening quote */

	for (;;)
	{
		unsigned char buf[4];
		const unsigned char *src = buf;
		size_t		n;

		if (P->p >= P->end)
			return json_error(P, "unterminated string");

		if (*P->p == '"')
		{
			P->p++;
			break;
		}
		else if (*P->p == '\\')
		{
			uint32_t	cp;

			P->p++;
			if (P->p >= P->end)
				return json_error(P, "unterminated string");
			n = 1;
			switch (*P->p++)
			{
				case '"':
					buf[0] = '"';
					break;
				case '\\':
					buf[0] = '\\';
					break;
				case '/':
					buf[0] = '/';
					break;
				case 'b':
					buf[0] = '\b';
					break;
				case 'f':
					buf[0] = '\f';
					break;
				case 'n':
					buf[0] = '\n';
					break;
				case 'r':
					buf[0] = '\r';
					break;
				case 't':
					buf[0] = '\t';
					break;
				case 'u':
					if (!read_hex4(P, &cp))
						return false;
					if (cp >= 0xDC00 && cp <= 0xDFFF)
						return json_error(P, "lone low surrogate");
					if (cp >= 0xD800 && cp <= 0xDBFF)
					{
						uint32_t	lo;

						if (!match_literal(P, "\\u"))
							return json_error(P, "lone high surrogate");
						if (!read_hex4(P, &lo))
							return false;
						if (lo < 0xDC00 || lo > 0xDFFF)
							return json_error(P, "bad surrogate pair");
						cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					}
					/* to UTF-8 */
					if (cp < 0x80)
						buf[0] = (unsigned char) cp;
					else if (cp < 0x800)
					{
						buf[0] = (unsigned char) (0xC0 | (cp >> 6));
						buf[1] = (unsigned char) (0x80 | (cp & 0x3F));
						n = 2;
					}
					else if (cp < 0x10000)
					{
						buf[0] = (unsigned char) (0xE0 | (cp >> 12));
						buf[1] = (unsigned char) (0x80 | ((cp >> 6) & 0x3F));
						buf[2] = (unsigned char) (0x80 | (cp & 0x3F));
						n = 3;
					}
					else
					{
						buf[0] = (unsigned char) (0xF0 | (cp >> 18));
						buf[1] = (unsigned char) (0x80 | ((cp >> 12) & 0x3F));
						buf[2] = (unsigned char) (0x80 | ((cp >> 6) & 0x3F));
						buf[3] = (unsigned char) (0x80 | (cp & 0x3F));
						n = 4;
					}
					break;
				default:
					P->p--;
					return json_error(P, "bad escape");
			}
		}
		else if (*P->p < 0x20)
			return json_error(P, "control character in string");
		else
		{
			/* raw bytes: pass through, but only valid UTF-8 */
			n = utf8_seq_len(P->p, P->end);
			if (n == 0)
				return json_error(P, "invalid UTF-8 in string");
			src = P->p;
			P->p += n;
		}

		if (out != NULL && !*toolong)
		{
			if (n > cap - 1 - *len)
				*toolong = true;
			else
				memcpy(out + *len, src, n);
		}
		*len += n;
	}

	if (out != NULL)
		out[*toolong ? 0 : *len] = '\0';
	return true;
}

/* Skips a number, checking the JSON grammar. */
static bool
skip_number(JsonParser *P)
{
	if (P->p < P->end && *P->p == '-')
		P->p++;
	if (P->p >= P->end || *P->p < '0' || *P->p > '9')
		return json_error(P, "bad number");
	if (*P->p == '0')
		P->p++;
	else
		while (P->p < P->end && *P->p >= '0' && *P->p <= '9')
			P->p++;
	if (P->p < P->end && *P->p == '.')
	{
		P->p++;
		if (P->p >= P->end || *P->p < '0' || *P->p > '9')
			return json_error(P, "bad number");
		while (P->p < P->end && *P->p >= '0' && *P->p <= '9')
			P->p++;
	}
	if (P->p < P->end && (*P->p == 'e' || *P->p == 'E'))
	{
		P->p++;
		if (P->p < P->end && (*P->p == '+' || *P->p == '-'))
			P->p++;
		if (P->p >= P->end || *P->p < '0' || *P->p > '9')
			return json_error(P, "bad number");
		while (P->p < P->end && *P->p >= '0' && *P->p <= '9')
			P->p++;
	}
	return true;
}

/* A non-negative integer without fraction or exponent, up to max. */
static bool
parse_uint(JsonParser *P, uint64_t max, uint64_t *out)
{
	const unsigned char *begin = P->p;
	uint64_t	v = 0;

	if (P->p >= P->end || *P->p < '0' || *P->p > '9')
	{
		if (P->p < P->end && *P->p == '-')
			return json_error(P, "negative number");
		return json_error(P, "expected a number");
	}
	while (P->p < P->end && *P->p >= '0' && *P->p <= '9')
	{
		uint64_t	d = (uint64_t) (*P->p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return json_error(P, "number out of range");
		v = v * 10 + d;
		P->p++;
	}
	if (P->p - begin > 1 && *begin == '0')
	{
		P->p = begin;
		return json_error(P, "leading zero in number");
	}
	if (P->p < P->end && (*P->p == '.' || *P->p == 'e' || *P->p == 'E'))
		return json_error(P, "expected an integer");
	if (v > max)
	{
		P->p = begin;
		return json_error(P, "number out of range");
	}
	*out = v;
	return true;
}

static bool parse_object(JsonParser *P, int depth, MemberFn fn, void *arg);

/* Skips any value; depth is that of the container holding it. */
static bool
skip_value(JsonParser *P, int depth)
{
	size_t		len;
	bool		toolong;

	if (P->p >= P->end)
		return json_error(P, "unexpected end of input");
	switch (*P->p)
	{
		case '{':
			return parse_object(P, depth + 1, NULL, NULL);
		case '[':
			if (depth + 1 > JSON_MAX_DEPTH)
				return json_error(P, "nesting too deep");
			P->p++;
			skip_ws(P);
			if (P->p < P->end && *P->p == ']')
			{
				P->p++;
				return true;
			}
			for (;;)
			{
				skip_ws(P);
				if (!skip_value(P, depth + 1))
					return false;
				skip_ws(P);
				if (P->p >= P->end)
					return json_error(P, "unterminated array");
				if (*P->p == ']')
				{
					P->p++;
					return true;
				}
				if (*P->p != ',')
					return json_error(P, "expected ',' or ']'");
				P->p++;
			}
		case '"':
			return parse_string(P, NULL, 0, &len, &toolong);
		case 't':
			return match_literal(P, "true") || json_error(P, "bad literal");
		case 'f':
			return match_literal(P, "false") || json_error(P, "bad literal");
		case 'n':
			return match_literal(P, "null") || json_error(P, "bad literal");
		default:
			if (*P->p == '-' || (*P->p >= '0' && *P->p <= '9'))
				return skip_number(P);
			return json_error(P, "unexpected character");
	}
}

/*
 * Parses an object at P->p, calling fn for each member (fn NULL: skip the
 * values).  Keys longer than any we know are passed as "" with keylen 0.
 */
static bool
parse_object(JsonParser *P, int depth, MemberFn fn, void *arg)
{
	if (depth > JSON_MAX_DEPTH)
		return json_error(P, "nesting too deep");
	if (P->p >= P->end || *P->p != '{')
		return json_error(P, "expected an object");
	P->p++;
	skip_ws(P);
	if (P->p < P->end && *P->p == '}')
	{
		P->p++;
		return true;
	}
	for (;;)
	{
		char		key[32];
		size_t		keylen;
		bool		toolong;

		skip_ws(P);
		if (P->p >= P->end || *P->p != '"')
			return json_error(P, "expected a key");
		if (!parse_string(P, key, sizeof(key), &keylen, &toolong))
			return false;
		if (toolong)
			keylen = 0;			/* "": matches no known key */
		skip_ws(P);
		if (P->p >= P->end || *P->p != ':')
			return json_error(P, "expected ':'");
		P->p++;
		skip_ws(P);
		if (fn != NULL)
		{
			if (!fn(P, key, keylen, depth, arg))
				return false;
		}
		else if (!skip_value(P, depth))
			return false;
		skip_ws(P);
		if (P->p >= P->end)
			return json_error(P, "unterminated object");
		if (*P->p == '}')
		{
			P->p++;
			return true;
		}
		if (*P->p != ',')
			return json_error(P, "expected ',' or '}'");
		P->p++;
	}
}

static bool
key_is(const char *key, size_t keylen, const char *name)
{
	return strlen(name) == keylen && memcmp(key, name, keylen) == 0;
}

/* JSON null for a known key leaves the field at its default. */
static bool
take_null(JsonParser *P)
{
	return match_literal(P, "null");
}

static bool
get_string(JsonParser *P, char *field, size_t cap)
{
	size_t		len;
	bool		toolong;

	if (take_null(P))
		return true;
	if (P->p >= P->end || *P->p != '"')
		return json_error(P, "expected a string");
	if (!parse_string(P, field, cap, &len, &toolong))
		return false;
	if (toolong)
		return json_error(P, "string too long for its field");
	if (strlen(field) != len)
		return json_error(P, "NUL in string");
	/* no leftovers of an earlier value of a repeated key */
	memset(field + len, 0, cap - len);
	return true;
}

static bool
get_uint(JsonParser *P, uint64_t max, uint64_t *out)
{
	if (take_null(P))
		return true;
	return parse_uint(P, max, out);
}

static bool
get_bool(JsonParser *P, bool *out)
{
	if (take_null(P))
		return true;
	if (match_literal(P, "true"))
		*out = true;
	else if (match_literal(P, "false"))
		*out = false;
	else
		return json_error(P, "expected true or false");
	return true;
}

/* system_id: a string of decimal digits as we write it, or a plain number. */
static bool
get_system_id(JsonParser *P, uint64_t *out)
{
	char		digits[24];
	JsonParser	sub;

	if (P->p < P->end && *P->p == '"')
	{
		if (!get_string(P, digits, sizeof(digits)))
			return false;
		sub = *P;
		sub.start = sub.p = (const unsigned char *) digits;
		sub.end = sub.p + strlen(digits);
		if (!parse_uint(&sub, UINT64_MAX, out) || sub.p != sub.end)
			return json_error(P, "bad system_id");
		return true;
	}
	return get_uint(P, UINT64_MAX, out);
}

static bool
tags_member(JsonParser *P, const char *key, size_t keylen, int depth,
			void *arg)
{
	HaTags	   *tags = (HaTags *) arg;

	if (key_is(key, keylen, "nofailover"))
		return get_bool(P, &tags->nofailover);
	if (key_is(key, keylen, "noloadbalance"))
		return get_bool(P, &tags->noloadbalance);
	if (key_is(key, keylen, "nosync"))
		return get_bool(P, &tags->nosync);
	if (key_is(key, keylen, "clonefrom"))
		return get_bool(P, &tags->clonefrom);
	/* Patroni allows tags of the user's own, of any type */
	return skip_value(P, depth);
}

static bool
member_member(JsonParser *P, const char *key, size_t keylen, int depth,
			  void *arg)
{
	HaMember   *m = (HaMember *) arg;
	uint64_t	v;

	if (key_is(key, keylen, "conn_url"))
		return get_string(P, m->conn_url, sizeof(m->conn_url));
	if (key_is(key, keylen, "api_url"))
		return get_string(P, m->api_url, sizeof(m->api_url));
	if (key_is(key, keylen, "role"))
		return get_string(P, m->role, sizeof(m->role));
	if (key_is(key, keylen, "state"))
		return get_string(P, m->state, sizeof(m->state));
	if (key_is(key, keylen, "node_id"))
		return get_string(P, m->node_id, sizeof(m->node_id));
	if (key_is(key, keylen, "timeline"))
	{
		v = m->timeline;
		if (!get_uint(P, UINT32_MAX, &v))
			return false;
		m->timeline = (uint32_t) v;
		return true;
	}
	if (key_is(key, keylen, "xlog_location"))
		return get_uint(P, UINT64_MAX, &m->xlog_location);
	if (key_is(key, keylen, "replayed_location"))
		return get_uint(P, UINT64_MAX, &m->replayed_location);
	if (key_is(key, keylen, "system_id"))
		return get_system_id(P, &m->system_id);
	if (key_is(key, keylen, "ttl") || key_is(key, keylen, "retry_timeout"))
	{
		int		   *field = key_is(key, keylen, "ttl") ? &m->ttl : &m->retry_timeout;

		v = (uint64_t) *field;
		if (!get_uint(P, INT_MAX, &v))
			return false;
		*field = (int) v;
		return true;
	}
	if (key_is(key, keylen, "synchronous_mode"))
		return get_bool(P, &m->synchronous_mode);
	if (key_is(key, keylen, "supervised"))
		return get_bool(P, &m->supervised);
	if (key_is(key, keylen, "maximum_lag_on_failover"))
		return get_uint(P, UINT64_MAX, &m->maximum_lag_on_failover);
	if (key_is(key, keylen, "tags"))
	{
		if (take_null(P))
			return true;
		if (P->p >= P->end || *P->p != '{')
			return json_error(P, "tags is not an object");
		return parse_object(P, depth + 1, tags_member, &m->tags);
	}
	return skip_value(P, depth);
}

/* Runs parse_object over a whole document; false with err on any error. */
static bool
parse_document(const char *data, size_t len, MemberFn fn, void *arg,
			   char *err, size_t errlen)
{
	JsonParser	P;
	bool		ok;

	P.start = P.p = (const unsigned char *) (data ? data : "");
	P.end = P.start + (data ? len : 0);
	P.error = NULL;
	P.error_at = 0;

	skip_ws(&P);
	ok = parse_object(&P, 1, fn, arg);
	if (ok)
	{
		skip_ws(&P);
		if (P.p != P.end)
			ok = json_error(&P, "trailing garbage");
	}
	if (!ok && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s at offset %zu",
				 P.error ? P.error : "invalid JSON", P.error_at);
	return ok;
}

bool
json_is_object(const char *data, size_t len)
{
	return parse_document(data, len, NULL, NULL, NULL, 0);
}

bool
member_from_json(const char *data, size_t len, HaMember *m,
				 char *err, size_t errlen)
{
	return parse_document(data, len, member_member, m, err, errlen);
}

typedef struct StringField
{
	const char *key;
	char	   *out;
	size_t		cap;
} StringField;

static bool
string_field_member(JsonParser *P, const char *key, size_t keylen, int depth,
					void *arg)
{
	StringField *f = (StringField *) arg;

	if (key_is(key, keylen, f->key))
		return get_string(P, f->out, f->cap);
	return skip_value(P, depth);
}

bool
json_get_string(const char *data, size_t len, const char *key, char *out,
				size_t cap, char *err, size_t errlen)
{
	StringField f = {key, out, cap};

	if (cap > 0)
		out[0] = '\0';
	return parse_document(data, len, string_field_member, &f, err, errlen);
}

/*
 * json_find_*: the member at path, read as kind; reading stops there (the
 * callback returns false with done set and no error).
 */
typedef enum FindKind
{
	FIND_UINT,
	FIND_BOOL
} FindKind;

typedef struct FindField
{
	const char *path;			/* what is left of the path at this depth */
	FindKind	kind;
	uint64_t	uint_value;
	bool		bool_value;
	bool		done;			/* the first member on the path was reached */
	bool		found;			/* ... and had a value of the asked kind */
} FindField;

static bool
find_member(JsonParser *P, const char *key, size_t keylen, int depth,
			void *arg)
{
	FindField  *f = (FindField *) arg;
	const char *dot = strchr(f->path, '.');
	size_t		seglen = dot ? (size_t) (dot - f->path) : strlen(f->path);
	const char *path = f->path;
	bool		ok;

	if (keylen == 0 || keylen != seglen || memcmp(key, f->path, seglen) != 0)
		return skip_value(P, depth);
	if (dot != NULL)
	{
		/* an inner key: look inside when it is an object */
		if (P->p >= P->end || *P->p != '{')
			return skip_value(P, depth);
		f->path = dot + 1;
		ok = parse_object(P, depth + 1, find_member, f);
		f->path = path;
		return ok;
	}
	/*
	 * A value is complete only with something after it (a valid document
	 * closes its object): a number cut short at the end is not read as a
	 * smaller one.
	 */
	f->done = true;
	if (f->kind == FIND_UINT)
		f->found = P->p < P->end && *P->p >= '0' && *P->p <= '9' &&
			parse_uint(P, UINT64_MAX, &f->uint_value);
	else if (match_literal(P, "true"))
		f->found = f->bool_value = true;
	else if (match_literal(P, "false"))
	{
		f->bool_value = false;
		f->found = true;
	}
	if (P->p >= P->end)
		f->found = false;
	return false;
}

static bool
find_value(const char *data, size_t len, const char *path, FindField *f)
{
	JsonParser	P;

	P.start = P.p = (const unsigned char *) (data ? data : "");
	P.end = P.start + (data ? len : 0);
	P.error = NULL;
	P.error_at = 0;
	f->path = path;
	f->done = f->found = false;
	skip_ws(&P);
	(void) parse_object(&P, 1, find_member, f);
	return f->done && f->found;
}

bool
json_find_uint(const char *data, size_t len, const char *path, uint64_t *out)
{
	FindField	f = {.kind = FIND_UINT};

	if (!find_value(data, len, path, &f))
		return false;
	*out = f.uint_value;
	return true;
}

bool
json_find_bool(const char *data, size_t len, const char *path, bool *out)
{
	FindField	f = {.kind = FIND_BOOL};

	if (!find_value(data, len, path, &f))
		return false;
	*out = f.bool_value;
	return true;
}

/*
 * json_read_rows: an array of arrays of scalars, each row handed to the
 * caller as cells.
 */
static bool
read_cell(JsonParser *P, JsonCell *c)
{
	size_t		len;
	bool		toolong;

	memset(c, 0, sizeof(*c));
	if (P->p >= P->end)
		return json_error(P, "unexpected end of input");
	if (*P->p == '"')
	{
		c->kind = JSON_CELL_STRING;
		if (!parse_string(P, c->text, sizeof(c->text), &len, &toolong))
			return false;
		if (toolong)
			return json_error(P, "string too long for its field");
		if (strlen(c->text) != len)
			return json_error(P, "NUL in string");
		return true;
	}
	if (*P->p >= '0' && *P->p <= '9')
	{
		c->kind = JSON_CELL_UINT;
		return parse_uint(P, UINT64_MAX, &c->uint_value);
	}
	if (match_literal(P, "null"))
	{
		c->kind = JSON_CELL_NULL;
		return true;
	}
	/* any other value: checked, kept as "other" */
	c->kind = JSON_CELL_OTHER;
	return skip_value(P, 2);
}

/* One row at P->p ('['): its cells, then fn. */
static bool
read_row(JsonParser *P, int maxcells, JsonCell *cells, JsonRowFn fn, void *arg)
{
	int			n = 0;

	P->p++;
	skip_ws(P);
	if (P->p < P->end && *P->p == ']')
	{
		P->p++;
		return fn(arg, cells, 0) || json_error(P, "row refused");
	}
	for (;;)
	{
		skip_ws(P);
		if (n >= maxcells)
			return json_error(P, "too many cells in a row");
		if (!read_cell(P, &cells[n++]))
			return false;
		skip_ws(P);
		if (P->p >= P->end)
			return json_error(P, "unterminated array");
		if (*P->p == ']')
		{
			P->p++;
			return fn(arg, cells, n) || json_error(P, "row refused");
		}
		if (*P->p != ',')
			return json_error(P, "expected ',' or ']'");
		P->p++;
	}
}

bool
json_read_rows(const char *data, size_t len, int maxcells, JsonCell *cells,
			   JsonRowFn fn, void *arg, char *err, size_t errlen)
{
	JsonParser	P;
	bool		ok = true;

	P.start = P.p = (const unsigned char *) (data ? data : "");
	P.end = P.start + (data ? len : 0);
	P.error = NULL;
	P.error_at = 0;

	skip_ws(&P);
	if (P.p >= P.end || *P.p != '[')
		ok = json_error(&P, "expected an array");
	else
	{
		P.p++;
		skip_ws(&P);
		if (P.p < P.end && *P.p == ']')
			P.p++;
		else
			for (;;)
			{
				skip_ws(&P);
				if (P.p >= P.end || *P.p != '[')
				{
					ok = json_error(&P, "expected a row (an array)");
					break;
				}
				if (!(ok = read_row(&P, maxcells, cells, fn, arg)))
					break;
				skip_ws(&P);
				if (P.p < P.end && *P.p == ']')
				{
					P.p++;
					break;
				}
				if (P.p >= P.end || *P.p != ',')
				{
					ok = json_error(&P, "expected ',' or ']'");
					break;
				}
				P.p++;
			}
	}
	if (ok)
	{
		skip_ws(&P);
		if (P.p != P.end)
			ok = json_error(&P, "trailing garbage");
	}
	if (!ok && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s at offset %zu",
				 P.error ? P.error : "invalid JSON", P.error_at);
	return ok;
}
