/*-------------------------------------------------------------------------
 *
 * addr.c
 *	  Syntax checks for "host:port" and ZooKeeper connect strings.
 *
 *-------------------------------------------------------------------------
 */
#include "addr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
set_why(char *why, size_t whylen, const char *msg)
{
	if (why && whylen > 0)
		snprintf(why, whylen, "%s", msg);
	return false;
}

static bool
valid_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

/* Parses a decimal port from [s, end); 1..65535. */
static bool
parse_port(const char *s, const char *end, int *port)
{
	long		v = 0;

	if (s == end || end - s > 5)
		return false;
	for (; s < end; s++)
	{
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*port = (int) v;
	return true;
}

/* Parses one "host:port" held in [s, end). */
static bool
parse_host_port_range(const char *s, const char *end, char *host,
					  size_t hostlen, int *port, char *why, size_t whylen)
{
	const char *hstart,
			   *hend,
			   *colon;
	size_t		n;

	if (s == end)
		return set_why(why, whylen, "empty address");
	if (*s == '[')
	{
		/* bracketed IPv6 literal */
		hstart = s + 1;
		hend = memchr(hstart, ']', end - hstart);
		if (hend == NULL)
			return set_why(why, whylen, "missing \"]\" after IPv6 address");
		if (hend + 1 >= end || hend[1] != ':')
			return set_why(why, whylen, "missing \":port\" after \"]\"");
		colon = hend + 1;
		for (const char *p = hstart; p < hend; p++)
			if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
				  (*p >= 'A' && *p <= 'F') || *p == ':' || *p == '.'))
				return set_why(why, whylen, "invalid character in IPv6 address");
	}
	else
	{
		hstart = s;
		colon = NULL;
		for (const char *p = s; p < end; p++)
			if (*p == ':')
				colon = p;
		if (colon == NULL)
			return set_why(why, whylen, "missing \":port\"");
		hend = colon;
		if (!(hend - hstart == 1 && *hstart == '*'))
			for (const char *p = hstart; p < hend; p++)
				if (!valid_host_char(*p))
					return set_why(why, whylen, "invalid character in host name");
	}
	n = (size_t) (hend - hstart);
	if (n == 0)
		return set_why(why, whylen, "empty host");
	if (n >= hostlen)
		return set_why(why, whylen, "host name too long");
	if (!parse_port(colon + 1, end, port))
		return set_why(why, whylen, "port must be a number from 1 to 65535");
	if (host)
	{
		memcpy(host, hstart, n);
		host[n] = '\0';
	}
	return true;
}

bool
addr_parse_host_port(const char *s, char *host, size_t hostlen, int *port,
					 char *why, size_t whylen)
{
	char		dummy_host[HA_HOST_LEN];
	int			dummy_port;

	if (s == NULL)
		return set_why(why, whylen, "empty address");
	if (host == NULL)
	{
		host = dummy_host;
		hostlen = sizeof(dummy_host);
	}
	return parse_host_port_range(s, s + strlen(s), host, hostlen,
								 port ? port : &dummy_port, why, whylen);
}

bool
addr_valid_zk_hosts(const char *s, char *why, size_t whylen)
{
	const char *end,
			   *chroot,
			   *p;
	int			port;

	if (s == NULL || *s == '\0')
		return set_why(why, whylen, "no ZooKeeper host given");
	end = s + strlen(s);

	/* optional chroot: from the first '/' to the end */
	chroot = strchr(s, '/');
	if (chroot)
	{
		if (chroot[1] == '\0' || end[-1] == '/')
			return set_why(why, whylen, "chroot must be a path like \"/pg_ha\" without a trailing \"/\"");
		for (p = chroot; p < end; p++)
			if (!(valid_host_char(*p) || *p == '/') || (p[0] == '/' && p[1] == '/'))
				return set_why(why, whylen, "invalid character in chroot path");
		end = chroot;
	}

	p = s;
	for (;;)
	{
		const char *comma = memchr(p, ',', end - p);
		const char *item_end = comma ? comma : end;

		if (!parse_host_port_range(p, item_end, NULL, HA_HOST_LEN, &port,
								   why, whylen))
			return false;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return true;
}

void
addr_split_conn_url(const char *url, char *host, size_t hostlen, int *port)
{
	const char *p = strstr(url, "://");
	const char *end;
	const char *colon = NULL;

	host[0] = '\0';
	*port = 0;
	if (p == NULL)
		return;
	p += 3;
	end = strchr(p, '/');
	if (end == NULL)
		end = p + strlen(p);
	for (const char *q = p; q < end; q++)
		if (*q == ':')
			colon = q;
	if (colon == NULL || (size_t) (colon - p) >= hostlen)
		return;
	memcpy(host, p, colon - p);
	host[colon - p] = '\0';
	*port = atoi(colon + 1);
}
