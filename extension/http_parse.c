/*-------------------------------------------------------------------------
 *
 * http_parse.c
 *	  Bounded, stateless parser for the agent's HTTP/1.x requests.
 *
 * The agent's HTTP server runs inside postgres, where a crash restarts
 * every backend, and anything that reaches the port may talk to it.  So
 * this file trusts no byte: every length is checked before it is used,
 * nothing is allocated, and a hostile request ends as an HTTP error status.
 *
 * The parser keeps no state between calls.  The server appends what it
 * reads to a buffer of at most HTTP_MAX_REQUEST bytes and calls
 * http_parse_request() on the whole buffer again.  A partial line is given
 * only the checks that more bytes cannot undo, so a prefix of a valid
 * request is always INCOMPLETE, while garbage (a TLS hello, a binary probe)
 * is refused at once instead of waiting for the read timeout.
 *
 * IDENTIFICATION
 *	  extension/http_parse.c
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "http_parse.h"

/* Header values we look at while reading the header section. */
typedef struct HeaderState
{
	bool		have_content_length;
	size_t		content_length;
	bool		have_authorization;
} HeaderState;

static HttpParseStatus
parse_fail(HttpRequest *req, int status)
{
	req->error_status = status;
	return HTTP_PARSE_ERROR;
}

/* RFC 9110 token characters (methods, header names). */
static bool
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/*
 * Bytes no line of the header section may hold: C0 controls except HTAB,
 * and DEL.  CR and LF are in this set too: line ends are cut off before
 * this is applied, so a CR or LF left inside a line is a stray one.
 */
static bool
is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static unsigned char
to_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char) (c + ('a' - 'A')) : c;
}

/* Case-insensitive (ASCII) comparison of s[0..n) with a lowercase literal. */
static bool
name_equals(const char *s, size_t n, const char *lit)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		if (lit[i] == '\0' || to_lower((unsigned char) s[i]) != (unsigned char) lit[i])
			return false;
	}
	return lit[n] == '\0';
}

/*
 * Checks that hold for a request line whether or not it is complete: its
 * length, its bytes, the method token and the first byte of the target.
 * Returns 0 or an HTTP status.
 */
static int
check_request_line(const char *s, size_t n)
{
	size_t		i;

	if (n > HTTP_MAX_LINE)
		return 414;
	for (i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];

		/* the request line is plain ASCII separated by single spaces */
		if (is_ctl(c) || c == '\t' || c >= 0x80)
			return 400;
	}
	for (i = 0; i < n && s[i] != ' '; i++)
	{
		if (!is_tchar((unsigned char) s[i]))
			return 400;
	}
	if (i < n)
	{
		if (i == 0)
			return 400;			/* empty method */
		if (i + 1 < n && s[i + 1] != '/')
			return 400;			/* absolute-form, '*', extra space, ... */
	}
	return 0;
}

/* Same idea for a header line; nheaders is how many came before it. */
static int
check_header_line(const char *s, size_t n, int nheaders)
{
	size_t		i;

	if (n == 0)
		return 0;				/* (the start of) the empty line */
	if (nheaders >= HTTP_MAX_HEADERS)
		return 431;
	if (s[0] == ' ' || s[0] == '\t')
		return 400;				/* obsolete line folding */
	for (i = 0; i < n; i++)
	{
		if (is_ctl((unsigned char) s[i]))
			return 400;
	}
	for (i = 0; i < n && s[i] != ':'; i++)
	{
		if (!is_tchar((unsigned char) s[i]))
			return 400;
	}
	return 0;
}

static HttpMethod
method_from_token(const char *s, size_t n)
{
	static const struct
	{
		const char *name;
		HttpMethod	method;
	}			methods[] =
	{
		{"GET", HTTP_GET},
		{"HEAD", HTTP_HEAD},
		{"OPTIONS", HTTP_OPTIONS},
		{"POST", HTTP_POST},
		{"PUT", HTTP_PUT},
		{"PATCH", HTTP_PATCH},
		{"DELETE", HTTP_DELETE},
	};
	size_t		i;

	/* methods are case-sensitive (RFC 9110 9.1) */
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
	{
		if (strlen(methods[i].name) == n && memcmp(methods[i].name, s, n) == 0)
			return methods[i].method;
	}
	return HTTP_OTHER;
}

/* Parses a complete request line s[0..n) (line end removed). */
static int
parse_request_line(const char *s, size_t n, HttpRequest *req)
{
	const char *sp1;
	const char *target;
	const char *sp2;
	const char *version;
	const char *q;
	size_t		mlen;
	size_t		tlen;
	size_t		vlen;
	size_t		plen;
	size_t		qlen;
	int			rc;

	rc = check_request_line(s, n);
	if (rc != 0)
		return rc;

	sp1 = memchr(s, ' ', n);
	if (sp1 == NULL || sp1 == s)
		return 400;
	mlen = (size_t) (sp1 - s);
	target = sp1 + 1;
	sp2 = memchr(target, ' ', n - mlen - 1);
	if (sp2 == NULL)
		return 400;				/* no version: HTTP/0.9 is not served */
	tlen = (size_t) (sp2 - target);
	version = sp2 + 1;
	vlen = (size_t) (s + n - version);

	/* origin-form only: no absolute-form, no '*', no fragment */
	if (tlen == 0 || target[0] != '/' || memchr(target, '#', tlen) != NULL)
		return 400;

	if (vlen != 8 || memcmp(version, "HTTP/", 5) != 0 ||
		!is_digit((unsigned char) version[5]) || version[6] != '.' ||
		!is_digit((unsigned char) version[7]))
		return 400;
	if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
		return 505;

	q = memchr(target, '?', tlen);
	plen = q ? (size_t) (q - target) : tlen;
	qlen = q ? tlen - plen - 1 : 0;
	if (plen >= HTTP_MAX_PATH || qlen >= HTTP_MAX_QUERY)
		return 414;

	req->method = method_from_token(s, mlen);
	req->version_minor = version[7] - '0';
	memcpy(req->path, target, plen);
	req->path[plen] = '\0';
	if (q != NULL)
		memcpy(req->query, q + 1, qlen);
	req->query[qlen] = '\0';
	return 0;
}

/* Content-Length: 1*DIGIT.  Overflow of size_t is malformed, not large. */
static bool
parse_content_length(const char *s, size_t n, size_t *out)
{
	size_t		v = 0;
	size_t		i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (!is_digit(c))
			return false;
		if (v > (((size_t) -1) - (size_t) (c - '0')) / 10)
			return false;
		v = v * 10 + (size_t) (c - '0');
	}
	*out = v;
	return true;
}

/* Parses a complete header line s[0..n) (n > 0, line end removed). */
static int
parse_header_line(const char *s, size_t n, int nheaders, HttpRequest *req,
				  HeaderState *hs)
{
	const char *colon;
	const char *value;
	size_t		namelen;
	size_t		vlen;
	int			rc;

	rc = check_header_line(s, n, nheaders);
	if (rc != 0)
		return rc;

	colon = memchr(s, ':', n);
	if (colon == NULL || colon == s)
		return 400;
	namelen = (size_t) (colon - s);

	/* value without leading and trailing optional whitespace */
	value = colon + 1;
	vlen = n - namelen - 1;
	while (vlen > 0 && (value[0] == ' ' || value[0] == '\t'))
	{
		value++;
		vlen--;
	}
	while (vlen > 0 && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
		vlen--;

	if (name_equals(s, namelen, "content-length"))
	{
		size_t		cl;

		if (!parse_content_length(value, vlen, &cl))
			return 400;
		/* repeated identical values are tolerated (RFC 9112 6.3) */
		if (hs->have_content_length && hs->content_length != cl)
			return 400;
		hs->have_content_length = true;
		hs->content_length = cl;
	}
	else if (name_equals(s, namelen, "transfer-encoding"))
	{
		/*
		 * No chunked bodies: rather than guess where a body ends (request
		 * smuggling), refuse.
		 */
		return 400;
	}
	else if (name_equals(s, namelen, "authorization"))
	{
		if (hs->have_authorization)
			return 400;
		if (vlen >= HTTP_MAX_AUTH)
			return 431;
		hs->have_authorization = true;
		memcpy(req->authorization, value, vlen);
		req->authorization[vlen] = '\0';
	}
	return 0;
}

HttpParseStatus
http_parse_request(const char *buf, size_t len, HttpRequest *req)
{
	size_t		limit = len < HTTP_MAX_REQUEST ? len : HTTP_MAX_REQUEST;
	size_t		pos = 0;
	size_t		hdr_end;
	size_t		cl;
	int			nheaders = 0;
	bool		first = true;
	HeaderState hs;

	memset(req, 0, sizeof(*req));
	memset(&hs, 0, sizeof(hs));

	if (buf == NULL)
		return len == 0 ? HTTP_PARSE_INCOMPLETE : parse_fail(req, 400);

	/* request line and header lines, each ended by LF or CRLF */
	for (;;)
	{
		const char *line = buf + pos;
		size_t		avail = limit - pos;
		const char *lf = avail > 0 ? memchr(line, '\n', avail) : NULL;
		size_t		n;
		int			rc;

		if (lf == NULL)
		{
			/* a partial line; a CR at its end may be half of a CRLF */
			n = avail;
			if (n > 0 && line[n - 1] == '\r')
				n--;
			rc = first ? check_request_line(line, n)
				: check_header_line(line, n, nheaders);
			if (rc != 0)
				return parse_fail(req, rc);
			if (len >= HTTP_MAX_REQUEST)
				return parse_fail(req, 431);
			return HTTP_PARSE_INCOMPLETE;
		}

		n = (size_t) (lf - line);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		pos = (size_t) (lf - buf) + 1;

		if (first)
		{
			rc = parse_request_line(line, n, req);
			first = false;
		}
		else if (n == 0)
			break;				/* end of the header section */
		else
		{
			rc = parse_header_line(line, n, nheaders, req, &hs);
			nheaders++;
		}
		if (rc != 0)
			return parse_fail(req, rc);
	}
	hdr_end = pos;

	cl = hs.have_content_length ? hs.content_length : 0;
	if (cl > HTTP_MAX_BODY || cl > HTTP_MAX_REQUEST - hdr_end)
		return parse_fail(req, 413);
	if (len - hdr_end < cl)
		return HTTP_PARSE_INCOMPLETE;

	req->content_length = cl;
	req->body = buf + hdr_end;
	req->body_len = cl;
	req->consumed = hdr_end + cl;
	return HTTP_PARSE_DONE;
}

const char *
http_reason(int status)
{
	switch (status)
	{
		case 200:
			return "OK";
		case 201:
			return "Created";
		case 202:
			return "Accepted";
		case 204:
			return "No Content";
		case 301:
			return "Moved Permanently";
		case 302:
			return "Found";
		case 304:
			return "Not Modified";
		case 400:
			return "Bad Request";
		case 401:
			return "Unauthorized";
		case 403:
			return "Forbidden";
		case 404:
			return "Not Found";
		case 405:
			return "Method Not Allowed";
		case 408:
			return "Request Timeout";
		case 409:
			return "Conflict";
		case 411:
			return "Length Required";
		case 412:
			return "Precondition Failed";
		case 413:
			return "Payload Too Large";
		case 414:
			return "URI Too Long";
		case 415:
			return "Unsupported Media Type";
		case 429:
			return "Too Many Requests";
		case 431:
			return "Request Header Fields Too Large";
		case 500:
			return "Internal Server Error";
		case 501:
			return "Not Implemented";
		case 502:
			return "Bad Gateway";
		case 503:
			return "Service Unavailable";
		case 504:
			return "Gateway Timeout";
		case 505:
			return "HTTP Version Not Supported";
		default:
			return "Unknown";
	}
}

/* Value of a base64 (RFC 4648, standard alphabet) digit, or -1. */
static int
base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decodes s[0..n) into out (at most outcap bytes).  Padding is optional but,
 * when present, must complete the last quantum.
 */
static bool
base64_decode(const char *s, size_t n, unsigned char *out, size_t outcap,
			  size_t *outlen)
{
	uint32_t	acc = 0;
	int			bits = 0;
	size_t		o = 0;
	size_t		pad = 0;
	size_t		i;

	while (n > 0 && s[n - 1] == '=' && pad < 2)
	{
		n--;
		pad++;
	}
	if (n % 4 == 1 || (pad > 0 && (n + pad) % 4 != 0))
		return false;

	for (i = 0; i < n; i++)
	{
		int			v = base64_value((unsigned char) s[i]);

		if (v < 0)
			return false;
		acc = (acc << 6) | (uint32_t) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			if (o >= outcap)
				return false;
			out[o++] = (unsigned char) (acc >> bits);
			acc &= (1U << bits) - 1;
		}
	}
	*outlen = o;
	return true;
}

bool
http_basic_auth_matches(const char *authorization,
						const char *user_colon_password)
{
	unsigned char decoded[HTTP_MAX_AUTH];
	const char *p;
	const char *tok;
	size_t		toklen;
	size_t		dlen;
	size_t		elen;
	size_t		i;
	volatile unsigned char diff;

	if (authorization == NULL || user_colon_password == NULL ||
		user_colon_password[0] == '\0')
		return false;

	p = authorization;
	while (*p == ' ' || *p == '\t')
		p++;
	/* the scheme name is case-insensitive (RFC 9110 11.1) */
	if (!name_equals(p, 5, "basic") || (p[5] != ' ' && p[5] != '\t'))
		return false;
	p += 5;
	while (*p == ' ' || *p == '\t')
		p++;
	tok = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	toklen = (size_t) (p - tok);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0' || toklen == 0)
		return false;

	if (!base64_decode(tok, toklen, decoded, sizeof(decoded), &dlen))
		return false;

	/*
	 * Compare without an early exit, so the time taken does not say how
	 * many leading bytes of a guess were right.
	 */
	elen = strlen(user_colon_password);
	diff = (unsigned char) (dlen != elen);
	for (i = 0; i < elen; i++)
	{
		unsigned char d = i < dlen ? decoded[i] : 0;

		diff |= (unsigned char) (d ^ (unsigned char) user_colon_password[i]);
	}
	return diff == 0;
}
