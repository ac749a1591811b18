/*-------------------------------------------------------------------------
 *
 * test_http_parse.c
 *	  Unit tests for extension/http_parse.c: well-formed requests, every
 *	  error status, slow clients (INCOMPLETE until complete), hostile bytes,
 *	  query strings and Basic authentication.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http_parse.h"

/* Parses a NUL-terminated request (no NUL bytes inside). */
static HttpParseStatus
parse_str(const char *s, HttpRequest *req)
{
	return http_parse_request(s, strlen(s), req);
}

/* Expects an error with the given status for the whole string. */
static void
expect_error_n(const char *s, size_t n, int status)
{
	HttpRequest req;
	HttpParseStatus st = http_parse_request(s, n, &req);

	if (st != HTTP_PARSE_ERROR || req.error_status != status)
		print_error("input \"%.*s\": status %d/%d, wanted error %d\n",
					(int) (n > 80 ? 80 : n), s, (int) st, req.error_status,
					status);
	assert_int_equal(st, HTTP_PARSE_ERROR);
	assert_int_equal(req.error_status, status);
}

static void
expect_error(const char *s, int status)
{
	expect_error_n(s, strlen(s), status);
}

/*
 * Every proper prefix is INCOMPLETE, and the whole is DONE: what a slow
 * client sending one byte at a time sees.
 */
static void
expect_done_incrementally(const char *s, size_t n, HttpRequest *req)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		HttpParseStatus st = http_parse_request(s, i, req);

		if (st != HTTP_PARSE_INCOMPLETE)
			print_error("prefix of %zu bytes: status %d (%d)\n", i, (int) st,
						req->error_status);
		assert_int_equal(st, HTTP_PARSE_INCOMPLETE);
	}
	assert_int_equal(http_parse_request(s, n, req), HTTP_PARSE_DONE);
	assert_int_equal(req->consumed, n);
}

/* ---------------------------------------------------------------- */

static void
test_haproxy_options(void **state)
{
	const char *s = "OPTIONS / HTTP/1.0\r\n\r\n";
	HttpRequest req;

	(void) state;
	expect_done_incrementally(s, strlen(s), &req);
	assert_int_equal(req.method, HTTP_OPTIONS);
	assert_int_equal(req.version_minor, 0);
	assert_string_equal(req.path, "/");
	assert_string_equal(req.query, "");
	assert_string_equal(req.authorization, "");
	assert_int_equal(req.content_length, 0);
	assert_int_equal(req.body_len, 0);
}

static void
test_get_with_host(void **state)
{
	const char *s = "GET /master HTTP/1.1\r\nHost: x\r\n\r\n";
	HttpRequest req;

	(void) state;
	expect_done_incrementally(s, strlen(s), &req);
	assert_int_equal(req.method, HTTP_GET);
	assert_int_equal(req.version_minor, 1);
	assert_string_equal(req.path, "/master");
	assert_string_equal(req.query, "");
}

static void
test_query_and_bare_lf(void **state)
{
	const char *s = "GET /replica?lag=16MB&tag_nofailover=false HTTP/1.0\n"
		"User-Agent: curl\n\n";
	HttpRequest req;

	(void) state;
	expect_done_incrementally(s, strlen(s), &req);
	assert_string_equal(req.path, "/replica");
	assert_string_equal(req.query, "lag=16MB&tag_nofailover=false");

	/* mixed CRLF and LF, an empty query */
	assert_int_equal(parse_str("HEAD /health? HTTP/1.1\r\nA: b\n\r\n", &req),
					 HTTP_PARSE_DONE);
	assert_int_equal(req.method, HTTP_HEAD);
	assert_string_equal(req.path, "/health");
	assert_string_equal(req.query, "");

	/* only the first '?' splits */
	assert_int_equal(parse_str("GET /a?b?c=d HTTP/1.1\r\n\r\n", &req),
					 HTTP_PARSE_DONE);
	assert_string_equal(req.path, "/a");
	assert_string_equal(req.query, "b?c=d");
}

static void
test_methods(void **state)
{
	static const struct
	{
		const char *token;
		HttpMethod	method;
	}			cases[] =
	{
		{"GET", HTTP_GET},
		{"HEAD", HTTP_HEAD},
		{"OPTIONS", HTTP_OPTIONS},
		{"POST", HTTP_POST},
		{"PUT", HTTP_PUT},
		{"PATCH", HTTP_PATCH},
		{"DELETE", HTTP_DELETE},
		{"BREW", HTTP_OTHER},
		{"get", HTTP_OTHER},	/* methods are case-sensitive */
		{"GETX", HTTP_OTHER},
		{"M-SEARCH", HTTP_OTHER},
	};
	size_t		i;

	(void) state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char		buf[128];
		HttpRequest req;

		snprintf(buf, sizeof(buf), "%s /x HTTP/1.1\r\n\r\n", cases[i].token);
		assert_int_equal(parse_str(buf, &req), HTTP_PARSE_DONE);
		assert_int_equal(req.method, cases[i].method);
	}
}

static void
test_post_body(void **state)
{
	const char *s = "POST /switchover HTTP/1.1\r\n"
		"Content-Type: application/json\r\n"
		"content-LENGTH: 17\r\n"
		"Authorization:   Basic dXNlcjpwYXNz  \r\n"
		"\r\n"
		"{\"leader\":\"pg1\"}\n";
	HttpRequest req;

	(void) state;
	expect_done_incrementally(s, strlen(s), &req);
	assert_int_equal(req.method, HTTP_POST);
	assert_int_equal(req.content_length, 17);
	assert_int_equal(req.body_len, 17);
	assert_memory_equal(req.body, "{\"leader\":\"pg1\"}\n", 17);
	assert_ptr_equal(req.body, s + strlen(s) - 17);
	/* the value is stored without the optional whitespace around it */
	assert_string_equal(req.authorization, "Basic dXNlcjpwYXNz");
}

static void
test_pipelined_and_long_buffer(void **state)
{
	const char *first = "GET /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
	char		buf[HTTP_MAX_REQUEST + 2000];
	HttpRequest req;
	size_t		n = strlen(first);

	(void) state;
	memset(buf, 'Z', sizeof(buf));
	memcpy(buf, first, n);
	/* bytes after the request (even more than HTTP_MAX_REQUEST) are left */
	assert_int_equal(http_parse_request(buf, sizeof(buf), &req), HTTP_PARSE_DONE);
	assert_int_equal(req.consumed, n);
	assert_int_equal(req.body_len, 3);
	assert_memory_equal(req.body, "abc", 3);

	/* duplicate but identical Content-Length is tolerated */
	assert_int_equal(parse_str("POST / HTTP/1.1\r\nContent-Length: 2\r\n"
							   "Content-Length: 2\r\n\r\nok", &req),
					 HTTP_PARSE_DONE);
	assert_int_equal(req.body_len, 2);

	/* Content-Length: 0 and a body of exactly HTTP_MAX_BODY */
	assert_int_equal(parse_str("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &req),
					 HTTP_PARSE_DONE);
	assert_int_equal(req.body_len, 0);
	{
		const char *hdr = "POST / HTTP/1.1\r\nContent-Length: 4096\r\n\r\n";
		size_t		hl = strlen(hdr);

		memset(buf, 'b', sizeof(buf));
		memcpy(buf, hdr, hl);
		assert_int_equal(http_parse_request(buf, hl + HTTP_MAX_BODY - 1, &req),
						 HTTP_PARSE_INCOMPLETE);
		assert_int_equal(http_parse_request(buf, hl + HTTP_MAX_BODY, &req),
						 HTTP_PARSE_DONE);
		assert_int_equal(req.body_len, HTTP_MAX_BODY);
	}
}

static void
test_bad_request_line(void **state)
{
	(void) state;
	expect_error("GET / HTTP/2.0\r\n\r\n", 505);
	expect_error("GET / HTTP/1.2\r\n\r\n", 505);
	expect_error("GET / HTTP/0.9\r\n\r\n", 505);
	expect_error("GET / HTTP/3.0\r\n\r\n", 505);
	expect_error("GET / HTTP/1\r\n\r\n", 400);
	expect_error("GET / HTTP/1.10\r\n\r\n", 400);
	expect_error("GET / http/1.1\r\n\r\n", 400);
	expect_error("GET / HTTP/1.x\r\n\r\n", 400);
	expect_error("GET /\r\n\r\n", 400);	/* HTTP/0.9 */
	expect_error("GET\r\n\r\n", 400);
	expect_error("\r\n\r\n", 400);
	expect_error("\n", 400);
	expect_error(" GET / HTTP/1.1\r\n\r\n", 400);
	expect_error("GET  / HTTP/1.1\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1 \r\n\r\n", 400);
	expect_error("GET / extra HTTP/1.1\r\n\r\n", 400);
	expect_error("GET\t/ HTTP/1.1\r\n\r\n", 400);
	expect_error("GET http://host/ HTTP/1.1\r\n\r\n", 400);
	expect_error("OPTIONS * HTTP/1.1\r\n\r\n", 400);
	expect_error("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400);
	expect_error("GET x HTTP/1.1\r\n\r\n", 400);
	expect_error("GET /a#frag HTTP/1.1\r\n\r\n", 400);
	expect_error("GE(T / HTTP/1.1\r\n\r\n", 400);
	expect_error("GET /\x7f HTTP/1.1\r\n\r\n", 400);
	expect_error("GET /\xc3\xa9 HTTP/1.1\r\n\r\n", 400);
	expect_error("GET /\x01 HTTP/1.1\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\rX\r\n\r\n", 400);	/* bare CR */
}

static void
test_bad_headers(void **state)
{
	(void) state;
	expect_error("GET / HTTP/1.1\r\nHost x\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\n: x\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\n\tX: a\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nX: a\x01 b\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nX(y): a\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nX\xc3\xa9: a\r\n\r\n", 400);

	/* Transfer-Encoding in any spelling: no chunked bodies here */
	expect_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
	expect_error("POST / HTTP/1.1\r\ntransfer-encoding: identity\r\n\r\n", 400);
	expect_error("POST / HTTP/1.1\r\nContent-Length: 5\r\n"
				 "Transfer-Encoding: chunked\r\n\r\nhello", 400);

	/* duplicate Authorization */
	expect_error("GET / HTTP/1.1\r\nAuthorization: Basic a\r\n"
				 "Authorization: Basic a\r\n\r\n", 400);
}

static void
test_bad_content_length(void **state)
{
	(void) state;
	expect_error("POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400);
	expect_error("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400);
	expect_error("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", 400);
	expect_error("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400);
	expect_error("POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", 400);
	expect_error("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", 400);
	expect_error("POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", 400);
	expect_error("POST / HTTP/1.1\r\nContent-Length: "
				 "99999999999999999999999999\r\n\r\n", 400);
	expect_error("POST / HTTP/1.1\r\nContent-Length: "
				 "18446744073709551616\r\n\r\n", 400);
	expect_error("POST / HTTP/1.1\r\nContent-Length: 2\r\n"
				 "Content-Length: 3\r\n\r\nabc", 400);
	/* well-formed but too large */
	expect_error("POST / HTTP/1.1\r\nContent-Length: 4097\r\n\r\n", 413);
	expect_error("POST / HTTP/1.1\r\nContent-Length: "
				 "18446744073709551615\r\n\r\n", 413);
}

/* Builds "GET / HTTP/1.1\r\n" + nheaders headers + "\r\n" into buf. */
static size_t
build_headers(char *buf, size_t cap, int nheaders)
{
	size_t		n = (size_t) snprintf(buf, cap, "GET / HTTP/1.1\r\n");
	int			i;

	for (i = 0; i < nheaders; i++)
		n += (size_t) snprintf(buf + n, cap - n, "X-H%d: v\r\n", i);
	n += (size_t) snprintf(buf + n, cap - n, "\r\n");
	return n;
}

static void
test_header_limits(void **state)
{
	char		buf[HTTP_MAX_REQUEST + 4096];
	HttpRequest req;
	size_t		n;

	(void) state;
	n = build_headers(buf, sizeof(buf), HTTP_MAX_HEADERS);
	assert_int_equal(http_parse_request(buf, n, &req), HTTP_PARSE_DONE);
	n = build_headers(buf, sizeof(buf), HTTP_MAX_HEADERS + 1);
	expect_error_n(buf, n, 431);
	/* refused as soon as a 33rd header starts, not at the end */
	n = build_headers(buf, sizeof(buf), HTTP_MAX_HEADERS);
	assert_int_equal(http_parse_request(buf, n - 1, &req), HTTP_PARSE_INCOMPLETE);
	buf[n - 2] = 'X';
	expect_error_n(buf, n - 1, 431);

	/* a header section that never ends: INCOMPLETE until the cap, then 431 */
	n = (size_t) snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nX-Big: ");
	memset(buf + n, 'a', sizeof(buf) - n);
	assert_int_equal(http_parse_request(buf, HTTP_MAX_REQUEST - 1, &req),
					 HTTP_PARSE_INCOMPLETE);
	expect_error_n(buf, HTTP_MAX_REQUEST, 431);
	expect_error_n(buf, sizeof(buf), 431);

	/* the same with complete lines */
	n = (size_t) snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nX-Big: ");
	memset(buf + n, 'a', HTTP_MAX_REQUEST);
	memcpy(buf + HTTP_MAX_REQUEST + 100, "\r\n\r\n", 4);
	expect_error_n(buf, HTTP_MAX_REQUEST + 104, 431);

	/* a large header section plus a body that together exceed the cap */
	n = (size_t) snprintf(buf, sizeof(buf),
						  "POST / HTTP/1.1\r\nContent-Length: 4000\r\nX-Big: ");
	memset(buf + n, 'a', 5000);
	n += 5000;
	memcpy(buf + n, "\r\n\r\n", 4);
	n += 4;
	expect_error_n(buf, n, 413);

	/* Authorization of HTTP_MAX_AUTH bytes does not fit its field */
	n = (size_t) snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nAuthorization: ");
	memset(buf + n, 'A', HTTP_MAX_AUTH);
	n += HTTP_MAX_AUTH;
	memcpy(buf + n, "\r\n\r\n", 4);
	expect_error_n(buf, n + 4, 431);
	/* one less fits */
	memmove(buf + n - 1, "\r\n\r\n", 4);
	assert_int_equal(http_parse_request(buf, n + 3, &req), HTTP_PARSE_DONE);
	assert_int_equal(strlen(req.authorization), HTTP_MAX_AUTH - 1);
}

static void
test_uri_limits(void **state)
{
	char		buf[HTTP_MAX_REQUEST + 16];
	HttpRequest req;
	size_t		n;

	(void) state;
	/* path of HTTP_MAX_PATH - 1 bytes fits, one more is 414 */
	n = (size_t) snprintf(buf, sizeof(buf), "GET /");
	memset(buf + n, 'p', HTTP_MAX_PATH - 2);
	n += HTTP_MAX_PATH - 2;
	n += (size_t) snprintf(buf + n, sizeof(buf) - n, " HTTP/1.1\r\n\r\n");
	assert_int_equal(http_parse_request(buf, n, &req), HTTP_PARSE_DONE);
	assert_int_equal(strlen(req.path), HTTP_MAX_PATH - 1);

	n = (size_t) snprintf(buf, sizeof(buf), "GET /");
	memset(buf + n, 'p', HTTP_MAX_PATH - 1);
	n += HTTP_MAX_PATH - 1;
	n += (size_t) snprintf(buf + n, sizeof(buf) - n, " HTTP/1.1\r\n\r\n");
	expect_error_n(buf, n, 414);

	/* query of HTTP_MAX_QUERY - 1 fits, HTTP_MAX_QUERY is 414 */
	n = (size_t) snprintf(buf, sizeof(buf), "GET /?");
	memset(buf + n, 'q', HTTP_MAX_QUERY - 1);
	n += HTTP_MAX_QUERY - 1;
	n += (size_t) snprintf(buf + n, sizeof(buf) - n, " HTTP/1.1\r\n\r\n");
	assert_int_equal(http_parse_request(buf, n, &req), HTTP_PARSE_DONE);
	assert_int_equal(strlen(req.query), HTTP_MAX_QUERY - 1);

	n = (size_t) snprintf(buf, sizeof(buf), "GET /?");
	memset(buf + n, 'q', HTTP_MAX_QUERY);
	n += HTTP_MAX_QUERY;
	n += (size_t) snprintf(buf + n, sizeof(buf) - n, " HTTP/1.1\r\n\r\n");
	expect_error_n(buf, n, 414);

	/* a request line over HTTP_MAX_LINE is 414 even before its end */
	n = (size_t) snprintf(buf, sizeof(buf), "GET /");
	memset(buf + n, 'p', sizeof(buf) - n);
	assert_int_equal(http_parse_request(buf, HTTP_MAX_LINE, &req),
					 HTTP_PARSE_INCOMPLETE);
	expect_error_n(buf, HTTP_MAX_LINE + 1, 414);
	expect_error_n(buf, sizeof(buf), 414);
}

static void
test_binary_and_nul(void **state)
{
	static const char tls_hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
	static const char get_nul[] = "GET /\0 HTTP/1.1\r\n\r\n";
	static const char hdr_nul[] = "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n";
	HttpRequest req;

	(void) state;
	/* refused at the first byte, not after a read timeout */
	expect_error_n(tls_hello, 1, 400);
	expect_error_n(tls_hello, sizeof(tls_hello) - 1, 400);
	expect_error_n(get_nul, 6, 400);
	expect_error_n(get_nul, sizeof(get_nul) - 1, 400);
	expect_error_n(hdr_nul, sizeof(hdr_nul) - 1, 400);
	expect_error_n("\0", 1, 400);

	/* empty input and NULL */
	assert_int_equal(http_parse_request("", 0, &req), HTTP_PARSE_INCOMPLETE);
	assert_int_equal(http_parse_request(NULL, 0, &req), HTTP_PARSE_INCOMPLETE);
	expect_error_n(NULL, 5, 400);
}

static void
test_random_bytes(void **state)
{
	uint32_t	seed = 2463534242u;
	char		junk[HTTP_MAX_REQUEST + 64];
	HttpRequest req;
	int			iter;
	size_t		i;

	(void) state;
	for (iter = 0; iter < 2000; iter++)
	{
		size_t		n = (size_t) (iter * 7) % sizeof(junk);
		HttpParseStatus st;

		for (i = 0; i < n; i++)
		{
			/* xorshift32 */
			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			junk[i] = (char) (seed & 0xff);
		}
		st = http_parse_request(junk, n, &req);
		/* random binary is refused early, never a request */
		if (n > 0)
			assert_int_not_equal(st, HTTP_PARSE_DONE);
		if (st == HTTP_PARSE_ERROR)
			assert_string_not_equal(http_reason(req.error_status), "Unknown");
	}
}

static void
test_reason(void **state)
{
	static const int parse_errors[] = {400, 405, 413, 414, 431, 501, 505};
	size_t		i;

	(void) state;
	assert_string_equal(http_reason(200), "OK");
	assert_string_equal(http_reason(401), "Unauthorized");
	assert_string_equal(http_reason(503), "Service Unavailable");
	assert_string_equal(http_reason(431), "Request Header Fields Too Large");
	assert_string_equal(http_reason(505), "HTTP Version Not Supported");
	assert_string_equal(http_reason(999), "Unknown");
	assert_string_equal(http_reason(-1), "Unknown");
	for (i = 0; i < sizeof(parse_errors) / sizeof(parse_errors[0]); i++)
		assert_string_not_equal(http_reason(parse_errors[i]), "Unknown");
}

static void
test_basic_auth(void **state)
{
	char		longhdr[2048];

	(void) state;
	/* "user:pass" */
	assert_true(http_basic_auth_matches("Basic dXNlcjpwYXNz", "user:pass"));
	assert_true(http_basic_auth_matches("basic dXNlcjpwYXNz", "user:pass"));
	assert_true(http_basic_auth_matches("BASIC   dXNlcjpwYXNz  ", "user:pass"));
	assert_false(http_basic_auth_matches("Basic dXNlcjpwYXNz", "user:pasS"));
	assert_false(http_basic_auth_matches("Basic dXNlcjpwYXNz", "user:pas"));
	assert_false(http_basic_auth_matches("Basic dXNlcjpwYXNz", "user:pass1"));
	assert_false(http_basic_auth_matches("Basic dXNlcjpwYXNz", ""));
	assert_false(http_basic_auth_matches("Basic dXNlcjpwYXNz", NULL));
	assert_false(http_basic_auth_matches(NULL, "user:pass"));
	assert_false(http_basic_auth_matches("", "user:pass"));
	assert_false(http_basic_auth_matches("Basic", "user:pass"));
	assert_false(http_basic_auth_matches("Basic ", "user:pass"));
	assert_false(http_basic_auth_matches("Basicx dXNlcjpwYXNz", "user:pass"));
	assert_false(http_basic_auth_matches("Bearer dXNlcjpwYXNz", "user:pass"));
	assert_false(http_basic_auth_matches("Basic dXNlcjpwYXNz x", "user:pass"));
	assert_false(http_basic_auth_matches("Basic dXNlcjp*YXNz", "user:pass"));
	/* "user:pass1": with padding, without, and broken padding */
	assert_true(http_basic_auth_matches("Basic dXNlcjpwYXNzMQ==", "user:pass1"));
	assert_true(http_basic_auth_matches("Basic dXNlcjpwYXNzMQ", "user:pass1"));
	assert_false(http_basic_auth_matches("Basic dXNlcjpwYXNzMQ=", "user:pass1"));
	assert_false(http_basic_auth_matches("Basic dXNlcjpwYXNzMQ===", "user:pass1"));
	assert_false(http_basic_auth_matches("Basic dXNlcjp=wYXNzMQ==", "user:pass1"));
	assert_false(http_basic_auth_matches("Basic dXNlcjpwYXNzM", "user:pass1"));
	/* "user\0pass" does not match "user" */
	assert_false(http_basic_auth_matches("Basic dXNlcgBwYXNz", "user"));
	/* a colon in the password is part of it */
	assert_true(http_basic_auth_matches("Basic YTpiOmM=", "a:b:c"));
	/* a token longer than any header we accept decodes to nothing */
	memcpy(longhdr, "Basic ", 6);
	memset(longhdr + 6, 'A', sizeof(longhdr) - 7);
	longhdr[sizeof(longhdr) - 1] = '\0';
	assert_false(http_basic_auth_matches(longhdr, "user:pass"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_haproxy_options),
		cmocka_unit_test(test_get_with_host),
		cmocka_unit_test(test_query_and_bare_lf),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_post_body),
		cmocka_unit_test(test_pipelined_and_long_buffer),
		cmocka_unit_test(test_bad_request_line),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_bad_content_length),
		cmocka_unit_test(test_header_limits),
		cmocka_unit_test(test_uri_limits),
		cmocka_unit_test(test_binary_and_nul),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_reason),
		cmocka_unit_test(test_basic_auth),
	};

	return cmocka_run_group_tests_name("http_parse", tests, NULL, NULL);
}
