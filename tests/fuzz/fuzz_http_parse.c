/*-------------------------------------------------------------------------
 *
 * fuzz_http_parse.c
 *	  libFuzzer target for extension/http_parse.c.
 *
 * Besides "no crash, no out-of-bounds access", it checks the properties the
 * server relies on: the fields of a parsed request are within their
 * bounds, and re-parsing a growing buffer is consistent (a prefix that is
 * DONE stays DONE with the same length, an ERROR stays an ERROR, and the
 * parser never says INCOMPLETE once HTTP_MAX_REQUEST bytes are there).
 * Each prefix is parsed from its own exactly-sized copy, so a read past
 * the prefix is an ASan report.  The Basic auth helper is run on what was
 * parsed, and the base64 decoder against an encoder.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"
#include "fuzz_check.h"

/* Prefixes tried per input: all of them for small inputs, a sample else. */
#define MAX_PREFIXES	512

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
clean_string(const char *s, size_t cap)
{
	size_t		i;

	for (i = 0; i < cap && s[i] != '\0'; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c < 0x20 && c != '\t')
			return false;
		if (c == 0x7f)
			return false;
	}
	return i < cap;
}

/* Invariants of one parse result for buf[0..len). */
static void
check_result(const char *buf, size_t len, HttpParseStatus st,
			 const HttpRequest *req)
{
	switch (st)
	{
		case HTTP_PARSE_INCOMPLETE:
			CHECK(len < HTTP_MAX_REQUEST);
			break;
		case HTTP_PARSE_ERROR:
			CHECK(req->error_status == 400 || req->error_status == 413 ||
				  req->error_status == 414 || req->error_status == 431 ||
				  req->error_status == 505);
			CHECK(strcmp(http_reason(req->error_status), "Unknown") != 0);
			break;
		case HTTP_PARSE_DONE:
			CHECK(req->consumed <= len);
			CHECK(req->consumed <= HTTP_MAX_REQUEST);
			CHECK(req->method >= HTTP_GET && req->method <= HTTP_OTHER);
			CHECK(req->version_minor == 0 || req->version_minor == 1);
			CHECK(req->path[0] == '/');
			CHECK(clean_string(req->path, sizeof(req->path)));
			CHECK(clean_string(req->query, sizeof(req->query)));
			CHECK(clean_string(req->authorization, sizeof(req->authorization)));
			CHECK(strchr(req->path, ' ') == NULL && strchr(req->path, '?') == NULL);
			CHECK(strchr(req->query, ' ') == NULL);
			CHECK(req->body_len == req->content_length);
			CHECK(req->body_len <= HTTP_MAX_BODY);
			CHECK(req->body == buf + req->consumed - req->body_len);
			break;
		default:
			CHECK(!"unknown parse status");
	}
}

static const char b64chars[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t
b64_encode(const unsigned char *in, size_t n, char *out, bool pad)
{
	size_t		o = 0;
	size_t		i;

	for (i = 0; i + 2 < n; i += 3)
	{
		uint32_t	v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8) | in[i + 2];

		out[o++] = b64chars[(v >> 18) & 63];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = b64chars[(v >> 6) & 63];
		out[o++] = b64chars[v & 63];
	}
	if (n - i == 1)
	{
		uint32_t	v = (uint32_t) in[i] << 16;

		out[o++] = b64chars[(v >> 18) & 63];
		out[o++] = b64chars[(v >> 12) & 63];
		if (pad)
		{
			out[o++] = '=';
			out[o++] = '=';
		}
	}
	else if (n - i == 2)
	{
		uint32_t	v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8);

		out[o++] = b64chars[(v >> 18) & 63];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = b64chars[(v >> 6) & 63];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

/* The helpers, on the parsed fields and on raw input. */
static void
exercise_helpers(const uint8_t *data, size_t size, const HttpRequest *req)
{
	char		key[16];
	size_t		klen = size < sizeof(key) - 1 ? size : sizeof(key) - 1;
	char		cred[300];
	char		hdr[16 + 4 * sizeof(cred) / 3 + 8];
	size_t		clen;

	/* a credential taken from the input, and the one of the tests */
	memcpy(key, data, klen);
	key[klen] = '\0';

	(void) http_basic_auth_matches(req->authorization, "user:pass");
	(void) http_basic_auth_matches(req->authorization, key);

	/* encoder oracle: "Basic " + base64(cred) matches cred and only it */
	clen = size < sizeof(cred) - 2 ? size : sizeof(cred) - 2;
	memcpy(cred, data, clen);
	cred[clen] = '\0';
	clen = strlen(cred);
	if (clen > 0)
	{
		memcpy(hdr, "Basic ", 6);
		b64_encode((const unsigned char *) cred, clen, hdr + 6, (size & 1) != 0);
		CHECK(http_basic_auth_matches(hdr, cred));
		cred[clen] = 'x';
		cred[clen + 1] = '\0';
		CHECK(!http_basic_auth_matches(hdr, cred));
		cred[clen - 1] = '\0';
		if (clen > 1)
			CHECK(!http_basic_auth_matches(hdr, cred));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *) data;
	HttpRequest req;
	HttpRequest first_done = {0};
	HttpParseStatus full;
	HttpParseStatus prev = HTTP_PARSE_INCOMPLETE;
	size_t		step;
	size_t		i;

	full = http_parse_request(buf, size, &req);
	check_result(buf, size, full, &req);

	/*
	 * Prefixes, each from its own heap copy.  The boundary around the
	 * request's end is always included.
	 */
	step = size <= MAX_PREFIXES ? 1 : size / MAX_PREFIXES;
	for (i = 0;; i += step)
	{
		char	   *copy;
		HttpRequest preq;
		HttpParseStatus st;

		if (i > size)
			i = size;
		copy = malloc(i ? i : 1);
		CHECK(copy != NULL);
		memcpy(copy, buf, i);
		st = http_parse_request(copy, i, &preq);
		check_result(copy, i, st, &preq);

		if (prev == HTTP_PARSE_DONE)
		{
			CHECK(st == HTTP_PARSE_DONE);
			CHECK(preq.consumed == first_done.consumed);
			CHECK(preq.method == first_done.method);
			CHECK(strcmp(preq.path, first_done.path) == 0);
			CHECK(strcmp(preq.query, first_done.query) == 0);
			CHECK(strcmp(preq.authorization, first_done.authorization) == 0);
		}
		else if (prev == HTTP_PARSE_ERROR)
			CHECK(st == HTTP_PARSE_ERROR);
		if (st == HTTP_PARSE_DONE && prev != HTTP_PARSE_DONE)
			first_done = preq;
		prev = st;
		free(copy);
		if (i == size)
			break;
	}
	/* the last prefix is the whole input */
	CHECK(prev == full);
	if (full == HTTP_PARSE_DONE)
	{
		CHECK(req.consumed == first_done.consumed);
		/* and exactly consumed bytes are enough */
		CHECK(http_parse_request(buf, req.consumed, &first_done) == HTTP_PARSE_DONE);
		if (req.consumed > 0)
			CHECK(http_parse_request(buf, req.consumed - 1, &first_done) == HTTP_PARSE_INCOMPLETE);
	}

	exercise_helpers(data, size, &req);
	return 0;
}
