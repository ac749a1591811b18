/*
 * util.c - string buffer and formatting helpers (see util.h).
 */
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
sb_init(StrBuf *sb)
{
	sb->data = NULL;
	sb->len = 0;
	sb->cap = 0;
	sb->failed = false;
}

void
sb_free(StrBuf *sb)
{
	free(sb->data);
	sb_init(sb);
}

static bool
sb_reserve(StrBuf *sb, size_t extra)
{
	size_t		need;
	size_t		cap;
	char	   *grown;

	if (sb->failed)
		return false;
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return true;
	cap = sb->cap ? sb->cap : 1024;
	while (cap < need)
		cap *= 2;
	grown = realloc(sb->data, cap);
	if (grown == NULL)
	{
		sb->failed = true;
		return false;
	}
	sb->data = grown;
	sb->cap = cap;
	return true;
}

void
sb_append(StrBuf *sb, const char *text, size_t len)
{
	if (!sb_reserve(sb, len))
		return;
	memcpy(sb->data + sb->len, text, len);
	sb->len += len;
	sb->data[sb->len] = '\0';
}

void
sb_puts(StrBuf *sb, const char *text)
{
	sb_append(sb, text, strlen(text));
}

void
sb_printf(StrBuf *sb, const char *fmt, ...)
{
	va_list		args;
	int			needed;

	va_start(args, fmt);
	needed = vsnprintf(NULL, 0, fmt, args);
	va_end(args);
	if (needed < 0 || !sb_reserve(sb, (size_t) needed))
		return;
	va_start(args, fmt);
	vsnprintf(sb->data + sb->len, (size_t) needed + 1, fmt, args);
	va_end(args);
	sb->len += (size_t) needed;
}

void
sb_html(StrBuf *sb, const char *text)
{
	for (; *text; text++)
	{
		switch (*text)
		{
			case '<': sb_puts(sb, "&lt;"); break;
			case '>': sb_puts(sb, "&gt;"); break;
			case '&': sb_puts(sb, "&amp;"); break;
			case '"': sb_puts(sb, "&quot;"); break;
			case '\'': sb_puts(sb, "&#39;"); break;
			default: sb_append(sb, text, 1); break;
		}
	}
}

void
sb_json_string(StrBuf *sb, const char *text)
{
	sb_puts(sb, "\"");
	for (; *text; text++)
	{
		unsigned char c = (unsigned char) *text;

		if (c == '"' || c == '\\')
		{
			sb_append(sb, "\\", 1);
			sb_append(sb, text, 1);
		}
		else if (c < 0x20)
			sb_printf(sb, "\\u%04x", c);
		else
			sb_append(sb, text, 1);
	}
	sb_puts(sb, "\"");
}

const char *
format_duration(uint64_t ms, char *out, size_t outlen)
{
	uint64_t	s = ms / 1000;

	if (ms < 1000)
		snprintf(out, outlen, "%llums", (unsigned long long) ms);
	else if (s < 60)
		snprintf(out, outlen, "%llus", (unsigned long long) s);
	else if (s < 3600)
		snprintf(out, outlen, "%llum%02llus", (unsigned long long) (s / 60),
				 (unsigned long long) (s % 60));
	else if (s < 86400)
		snprintf(out, outlen, "%lluh%02llum", (unsigned long long) (s / 3600),
				 (unsigned long long) (s / 60 % 60));
	else
		snprintf(out, outlen, "%llud%02lluh", (unsigned long long) (s / 86400),
				 (unsigned long long) (s / 3600 % 24));
	return out;
}
