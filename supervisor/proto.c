/*-------------------------------------------------------------------------
 *
 * proto.c
 *	  Parsers of the agent's request file, of an api_url and of the
 *	  /patroni field the hand-over waits for (see proto.h).  Pure.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "json_reader.h"
#include "proto.h"
#include "text.h"

const char *
request_action_name(RequestAction a)
{
	switch (a)
	{
		case REQ_NONE:
			return "none";
		case REQ_REJOIN:
			return "rejoin";
		case REQ_HANDOVER:
			return "handover";
		case REQ_RESTART:
			return "restart";
		case REQ_REINIT:
			return "reinit";
	}
	return "?";
}

static bool
copy_field(char *dst, size_t cap, const char *v, const char *key, int lineno,
		   char *err, size_t errlen)
{
	size_t		n = strlen(v);

	if (n >= cap)
		return errbuf_fail(err, errlen, "line %d: the value of \"%s\" is too long", lineno, key);
	memcpy(dst, v, n + 1);
	return true;
}

bool
request_parse(const char *text, size_t len, Request *r, char *err, size_t errlen)
{
	size_t		pos = 0;
	int			lineno = 0;

	memset(r, 0, sizeof(*r));
	while (pos < len)
	{
		char		line[1024];
		char	   *p,
				   *key,
				   *val,
				   *end;
		size_t		start = pos,
					n;

		lineno++;
		while (pos < len && text[pos] != '\n')
			pos++;
		n = pos - start;
		if (pos < len)
			pos++;
		if (n >= sizeof(line))
			return errbuf_fail(err, errlen, "line %d is too long", lineno);
		if (memchr(text + start, '\0', n))
			return errbuf_fail(err, errlen, "line %d holds a NUL byte", lineno);
		memcpy(line, text + start, n);
		line[n] = '\0';

		p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#' || *p == '\r')
			continue;
		key = p;
		while (isalnum((unsigned char) *p) || *p == '_')
			p++;
		end = p;
		while (*p == ' ' || *p == '\t')
			p++;
		if (end == key || *p != '=')
			return errbuf_fail(err, errlen, "line %d: expected \"key = value\"", lineno);
		*end = '\0';
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		val = p;
		end = val + strlen(val);
		while (end > val && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = '\0';
		if (end - val >= 2 && val[0] == '\'' && end[-1] == '\'')
		{
			end[-1] = '\0';
			val++;
		}

		if (strcmp(key, "action") == 0)
		{
			if (strcmp(val, "rejoin") == 0)
				r->action = REQ_REJOIN;
			else if (strcmp(val, "handover") == 0)
				r->action = REQ_HANDOVER;
			else if (strcmp(val, "restart") == 0)
				r->action = REQ_RESTART;
			else if (strcmp(val, "reinit") == 0)
				r->action = REQ_REINIT;
			else
				return errbuf_fail(err, errlen, "line %d: unknown action \"%s\"", lineno, val);
		}
		else if (strcmp(key, "leader") == 0)
		{
			if (!copy_field(r->leader, sizeof(r->leader), val, key, lineno, err, errlen))
				return false;
		}
		else if (strcmp(key, "conninfo") == 0)
		{
			if (!copy_field(r->conninfo, sizeof(r->conninfo), val, key, lineno, err, errlen))
				return false;
		}
		else if (strcmp(key, "api_url") == 0)
		{
			if (!copy_field(r->api_url, sizeof(r->api_url), val, key, lineno, err, errlen))
				return false;
		}
		else if (strcmp(key, "reply_token") == 0)
		{
			char	   *tend;

			errno = 0;
			r->reply_token = strtoull(val, &tend, 10);
			if (errno != 0 || tend == val || *tend != '\0' || val[0] == '-')
				return errbuf_fail(err, errlen, "line %d: reply_token is not a number", lineno);
		}
		else if (strcmp(key, "timeout") == 0)
		{
			char	   *tend;
			long		t = strtol(val, &tend, 10);

			if (tend == val || *tend != '\0' || t <= 0 || t > 86400)
				return errbuf_fail(err, errlen, "line %d: timeout is not a number of seconds", lineno);
			r->timeout_s = (int) t;
		}
		else if (strcmp(key, "reason") == 0)
		{
			/* for the log only: cut rather than refuse */
			snprintf(r->reason, sizeof(r->reason), "%s", val);
		}
		/* other keys: ignored */
	}

	if (r->action == REQ_NONE)
		return errbuf_fail(err, errlen, "no action");
	if ((r->action == REQ_REJOIN || r->action == REQ_HANDOVER || r->action == REQ_REINIT) &&
		(r->leader[0] == '\0' || r->conninfo[0] == '\0'))
		return errbuf_fail(err, errlen, "%s needs leader and conninfo", request_action_name(r->action));
	if (r->action == REQ_HANDOVER && r->api_url[0] == '\0')
		return errbuf_fail(err, errlen, "handover needs api_url");
	return true;
}

bool
url_parse(const char *url, char *host, size_t hostlen, int *port, char *path,
		  size_t pathlen)
{
	const char *p,
			   *hs,
			   *he,
			   *ps;
	long		v = 0;

	if (strncmp(url, "http://", 7) != 0)
		return false;
	p = url + 7;
	if (*p == '[')
	{
		hs = p + 1;
		he = strchr(hs, ']');
		if (he == NULL)
			return false;
		p = he + 1;
	}
	else
	{
		hs = p;
		while (*p && *p != ':' && *p != '/')
			p++;
		he = p;
	}
	if (he == hs || (size_t) (he - hs) >= hostlen || !text_visible_ascii(hs, (size_t) (he - hs)))
		return false;
	memcpy(host, hs, (size_t) (he - hs));
	host[he - hs] = '\0';
	if (*p == ':')
	{
		p++;
		ps = p;
		while (isdigit((unsigned char) *p) && p - ps < 6)
			v = v * 10 + (*p++ - '0');
		if (p == ps || v < 1 || v > 65535)
			return false;
	}
	else
		v = 80;
	if (*p != '\0' && *p != '/')
		return false;
	if (strlen(*p ? p : "/") >= pathlen || !text_visible_ascii(p, strlen(p)))
		return false;
	snprintf(path, pathlen, "%s", *p ? p : "/");
	*port = (int) v;
	return true;
}

/* xlog.received_location, read with common/'s JSON reader */
bool
patroni_received_location(const char *body, size_t len, uint64_t *out)
{
	return json_find_uint(body, len, "xlog.received_location", out);
}
