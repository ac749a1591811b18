/*-------------------------------------------------------------------------
 *
 * json_writer.c
 *	  Bounded JSON writer into a caller-owned buffer: what the agent's HTTP
 *	  API answers and what a member znode holds (member_json.c) are written
 *	  with it.  Nothing is allocated; output that does not fit is dropped
 *	  whole and marks the buffer overflowed.
 *
 * IDENTIFICATION
 *	  common/json_writer.c
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json_writer.h"

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
json_string_n(JsonBuf *jb, const char *s, size_t n)
{
	jb_comma(jb);
	jb_string_n(jb, s, n);
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
	json_raw_n(jb, raw, strlen(raw));
}

void
json_raw_n(JsonBuf *jb, const char *raw, size_t n)
{
	jb_comma(jb);
	jb_put(jb, raw, n);
	jb->need_comma = true;
}

void
json_answer(JsonBuf *jb, bool error, const char *message, const char *hint)
{
	json_object_begin(jb);
	json_key(jb, error ? "error" : "message");
	json_string(jb, message);
	if (hint && hint[0])
	{
		json_key(jb, "hint");
		json_string(jb, hint);
	}
	json_object_end(jb);
}
