/*-------------------------------------------------------------------------
 *
 * json_reader.c
 *	  The one JSON reader of the agent, the supervisor and the router: a
 *	  small strict recursive-descent parser (the building blocks a format
 *	  reader such as member_json.c is made of) and the lookups on top of it
 *	  (a string field of a request body, a scalar by path in an HTTP reply).
 *
 * What it reads is untrusted: member bodies come from ZooKeeper, where any
 * client with access can write any bytes, and they are read inside
 * postgres.  So the parser has a depth limit and decodes straight into
 * the caller's fixed-size fields: a string that does not fit is an error,
 * never a truncation, and nothing is allocated.
 *
 * Why one file of over 700 lines (about 710): it is one parser.  The
 * lookups are a few lines each on the same building blocks, and split off
 * they would need those blocks public only for them; json_rows.c and
 * member_json.c, the formats, are already apart.
 *
 * IDENTIFICATION
 *	  common/json_reader.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "json_reader.h"
#include "text.h"

#define JSON_MAX_DEPTH	8

/* ----------------------------------------------------------------
 * Parser
 * ----------------------------------------------------------------
 */

bool
jp_error(JsonParser *P, const char *msg)
{
	if (P->error == NULL)
	{
		P->error = msg;
		P->error_at = (size_t) (P->p - P->start);
	}
	return false;
}

void
jp_skip_ws(JsonParser *P)
{
	while (P->p < P->end &&
		   (*P->p == ' ' || *P->p == '\t' || *P->p == '\n' || *P->p == '\r'))
		P->p++;
}

/* A parser at the start of data (len bytes; NULL reads as empty). */
void
jp_init(JsonParser *P, const char *data, size_t len)
{
	P->start = P->p = (const unsigned char *) (data ? data : "");
	P->end = P->start + (data ? len : 0);
	P->error = NULL;
	P->error_at = 0;
}

/*
 * A document read (ok) must end there, but for blanks; on an error, its
 * reason and offset go to err.
 */
bool
jp_document_end(JsonParser *P, bool ok, char *err, size_t errlen)
{
	if (ok)
	{
		jp_skip_ws(P);
		if (P->p != P->end)
			ok = jp_error(P, "trailing garbage");
	}
	if (!ok && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s at offset %zu",
				 P->error ? P->error : "invalid JSON", P->error_at);
	return ok;
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
		return jp_error(P, "truncated \\u escape");
	for (i = 0; i < 4; i++)
	{
		int			d = text_hex_value(P->p[i]);

		if (d < 0)
			return jp_error(P, "bad \\u escape");
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
			return jp_error(P, "unterminated string");

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
				return jp_error(P, "unterminated string");
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
						return jp_error(P, "lone low surrogate");
					if (cp >= 0xD800 && cp <= 0xDBFF)
					{
						uint32_t	lo;

						if (!match_literal(P, "\\u"))
							return jp_error(P, "lone high surrogate");
						if (!read_hex4(P, &lo))
							return false;
						if (lo < 0xDC00 || lo > 0xDFFF)
							return jp_error(P, "bad surrogate pair");
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
					return jp_error(P, "bad escape");
			}
		}
		else if (*P->p < 0x20)
			return jp_error(P, "control character in string");
		else
		{
			/* raw bytes: pass through, but only valid UTF-8 */
			n = utf8_seq_len(P->p, P->end);
			if (n == 0)
				return jp_error(P, "invalid UTF-8 in string");
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
		return jp_error(P, "bad number");
	if (*P->p == '0')
		P->p++;
	else
		while (P->p < P->end && *P->p >= '0' && *P->p <= '9')
			P->p++;
	if (P->p < P->end && *P->p == '.')
	{
		P->p++;
		if (P->p >= P->end || *P->p < '0' || *P->p > '9')
			return jp_error(P, "bad number");
		while (P->p < P->end && *P->p >= '0' && *P->p <= '9')
			P->p++;
	}
	if (P->p < P->end && (*P->p == 'e' || *P->p == 'E'))
	{
		P->p++;
		if (P->p < P->end && (*P->p == '+' || *P->p == '-'))
			P->p++;
		if (P->p >= P->end || *P->p < '0' || *P->p > '9')
			return jp_error(P, "bad number");
		while (P->p < P->end && *P->p >= '0' && *P->p <= '9')
			P->p++;
	}
	return true;
}

/* A non-negative integer without fraction or exponent, up to max. */
bool
jp_parse_uint(JsonParser *P, uint64_t max, uint64_t *out)
{
	const unsigned char *begin = P->p;
	uint64_t	v = 0;

	if (P->p >= P->end || *P->p < '0' || *P->p > '9')
	{
		if (P->p < P->end && *P->p == '-')
			return jp_error(P, "negative number");
		return jp_error(P, "expected a number");
	}
	while (P->p < P->end && *P->p >= '0' && *P->p <= '9')
	{
		uint64_t	d = (uint64_t) (*P->p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return jp_error(P, "number out of range");
		v = v * 10 + d;
		P->p++;
	}
	if (P->p - begin > 1 && *begin == '0')
	{
		P->p = begin;
		return jp_error(P, "leading zero in number");
	}
	if (P->p < P->end && (*P->p == '.' || *P->p == 'e' || *P->p == 'E'))
		return jp_error(P, "expected an integer");
	if (v > max)
	{
		P->p = begin;
		return jp_error(P, "number out of range");
	}
	*out = v;
	return true;
}

/* Skips any value; depth is that of the container holding it. */
bool
jp_skip_value(JsonParser *P, int depth)
{
	size_t		len;
	bool		toolong;

	if (P->p >= P->end)
		return jp_error(P, "unexpected end of input");
	switch (*P->p)
	{
		case '{':
			return jp_parse_object(P, depth + 1, NULL, NULL);
		case '[':
			return jp_parse_array(P, depth + 1, NULL, NULL);
		case '"':
			return parse_string(P, NULL, 0, &len, &toolong);
		case 't':
			return match_literal(P, "true") || jp_error(P, "bad literal");
		case 'f':
			return match_literal(P, "false") || jp_error(P, "bad literal");
		case 'n':
			return match_literal(P, "null") || jp_error(P, "bad literal");
		default:
			if (*P->p == '-' || (*P->p >= '0' && *P->p <= '9'))
				return skip_number(P);
			return jp_error(P, "unexpected character");
	}
}

/*
 * Parses an array at P->p, calling fn for each element (fn NULL: skip
 * them).
 */
bool
jp_parse_array(JsonParser *P, int depth, JsonElementFn fn, void *arg)
{
	if (depth > JSON_MAX_DEPTH)
		return jp_error(P, "nesting too deep");
	if (P->p >= P->end || *P->p != '[')
		return jp_error(P, "expected an array");
	P->p++;
	jp_skip_ws(P);
	if (P->p < P->end && *P->p == ']')
	{
		P->p++;
		return true;
	}
	for (int i = 0;; i++)
	{
		jp_skip_ws(P);
		if (fn != NULL)
		{
			if (!fn(P, i, depth, arg))
				return false;
		}
		else if (!jp_skip_value(P, depth))
			return false;
		jp_skip_ws(P);
		if (P->p >= P->end)
			return jp_error(P, "unterminated array");
		if (*P->p == ']')
		{
			P->p++;
			return true;
		}
		if (*P->p != ',')
			return jp_error(P, "expected ',' or ']'");
		P->p++;
	}
}

/*
 * Parses an object at P->p, calling fn for each member (fn NULL: skip the
 * values).  Keys longer than any we know are passed as "" with keylen 0.
 */
bool
jp_parse_object(JsonParser *P, int depth, JsonMemberFn fn, void *arg)
{
	if (depth > JSON_MAX_DEPTH)
		return jp_error(P, "nesting too deep");
	if (P->p >= P->end || *P->p != '{')
		return jp_error(P, "expected an object");
	P->p++;
	jp_skip_ws(P);
	if (P->p < P->end && *P->p == '}')
	{
		P->p++;
		return true;
	}
	for (;;)
	{
		char		key[JSON_KEY_CAP];
		size_t		keylen;
		bool		toolong;

		jp_skip_ws(P);
		if (P->p >= P->end || *P->p != '"')
			return jp_error(P, "expected a key");
		if (!parse_string(P, key, sizeof(key), &keylen, &toolong))
			return false;
		if (toolong)
			keylen = 0;			/* "": matches no known key */
		jp_skip_ws(P);
		if (P->p >= P->end || *P->p != ':')
			return jp_error(P, "expected ':'");
		P->p++;
		jp_skip_ws(P);
		if (fn != NULL)
		{
			if (!fn(P, key, keylen, depth, arg))
				return false;
		}
		else if (!jp_skip_value(P, depth))
			return false;
		jp_skip_ws(P);
		if (P->p >= P->end)
			return jp_error(P, "unterminated object");
		if (*P->p == '}')
		{
			P->p++;
			return true;
		}
		if (*P->p != ',')
			return jp_error(P, "expected ',' or '}'");
		P->p++;
	}
}

bool
jp_key_is(const char *key, size_t keylen, const char *name)
{
	return strlen(name) == keylen && memcmp(key, name, keylen) == 0;
}

/* JSON null for a known key leaves the field at its default. */
bool
jp_take_null(JsonParser *P)
{
	return match_literal(P, "null");
}

bool
jp_get_string(JsonParser *P, char *field, size_t cap)
{
	size_t		len;
	bool		toolong;

	if (jp_take_null(P))
		return true;
	if (P->p >= P->end || *P->p != '"')
		return jp_error(P, "expected a string");
	if (!parse_string(P, field, cap, &len, &toolong))
		return false;
	if (toolong)
		return jp_error(P, "string too long for its field");
	if (strlen(field) != len)
		return jp_error(P, "NUL in string");
	/* no leftovers of an earlier value of a repeated key */
	memset(field + len, 0, cap - len);
	return true;
}

bool
jp_get_uint(JsonParser *P, uint64_t max, uint64_t *out)
{
	if (jp_take_null(P))
		return true;
	return jp_parse_uint(P, max, out);
}

bool
jp_get_bool(JsonParser *P, bool *out)
{
	if (jp_take_null(P))
		return true;
	if (match_literal(P, "true"))
		*out = true;
	else if (match_literal(P, "false"))
		*out = false;
	else
		return jp_error(P, "expected true or false");
	return true;
}

/* Runs jp_parse_object over a whole document; false with err on any error. */
bool
jp_parse_document(const char *data, size_t len, JsonMemberFn fn, void *arg,
				  char *err, size_t errlen)
{
	JsonParser	P;
	bool		ok;

	jp_init(&P, data, len);

	jp_skip_ws(&P);
	ok = jp_parse_object(&P, 1, fn, arg);
	return jp_document_end(&P, ok, err, errlen);
}

/* ----------------------------------------------------------------
 * Lookups
 * ----------------------------------------------------------------
 */

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

	if (jp_key_is(key, keylen, f->key))
		return jp_get_string(P, f->out, f->cap);
	return jp_skip_value(P, depth);
}

bool
json_get_string(const char *data, size_t len, const char *key, char *out,
				size_t cap, char *err, size_t errlen)
{
	StringField f = {key, out, cap};

	if (cap > 0)
		out[0] = '\0';
	return jp_parse_document(data, len, string_field_member, &f, err, errlen);
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
		return jp_skip_value(P, depth);
	if (dot != NULL)
	{
		/* an inner key: look inside when it is an object */
		if (P->p >= P->end || *P->p != '{')
			return jp_skip_value(P, depth);
		f->path = dot + 1;
		ok = jp_parse_object(P, depth + 1, find_member, f);
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
			jp_parse_uint(P, UINT64_MAX, &f->uint_value);
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

	jp_init(&P, data, len);
	f->path = path;
	f->done = f->found = false;
	jp_skip_ws(&P);
	(void) jp_parse_object(&P, 1, find_member, f);
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

bool
json_is_object(const char *data, size_t len)
{
	return jp_parse_document(data, len, NULL, NULL, NULL, 0);
}

bool
json_is_value(const char *data, size_t len)
{
	JsonParser	P;

	jp_init(&P, data, len);
	jp_skip_ws(&P);
	return jp_document_end(&P, jp_skip_value(&P, 0), NULL, 0);
}
