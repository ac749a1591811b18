/*-------------------------------------------------------------------------
 *
 * conninfo.c
 *	  libpq connection strings built once for the agent and the supervisor
 *	  (see conninfo.h).  Pure C.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "conninfo.h"

bool
conninfo_add(char *buf, size_t cap, const char *key, const char *value)
{
	size_t		o = strlen(buf);
	/* libpq ends an unquoted value at any isspace() byte, \r \v \f too */
	bool		quote = value[0] == '\0' || strpbrk(value, " \t\n\r\v\f'\\") != NULL;
	int			n;

	n = snprintf(buf + o, cap - o, "%s%s=%s", o > 0 ? " " : "", key, quote ? "'" : "");
	if (n < 0 || (size_t) n >= cap - o)
		return false;
	o += (size_t) n;
	for (const char *p = value; *p; p++)
	{
		if (quote && (*p == '\'' || *p == '\\'))
		{
			if (o + 1 >= cap)
				return false;
			buf[o++] = '\\';
		}
		if (o + 1 >= cap)
			return false;
		buf[o++] = *p;
	}
	if (quote)
	{
		if (o + 1 >= cap)
			return false;
		buf[o++] = '\'';
	}
	buf[o] = '\0';
	return true;
}

bool
conninfo_address(char *buf, size_t cap, const char *host, int port)
{
	size_t		o;

	if (host[0] == '\0' || port <= 0 || cap == 0)
		return false;
	buf[0] = '\0';
	if (!conninfo_add(buf, cap, "host", host))
		return false;
	o = strlen(buf);
	return snprintf(buf + o, cap - o, " port=%d", port) < (int) (cap - o);
}

bool
conninfo_standby(char *buf, size_t cap, const char *address, const char *user,
				 const char *password, const char *application_name)
{
	size_t		o;

	if (strlen(address) >= cap)
		return false;
	memmove(buf, address, strlen(address) + 1);
	if (!conninfo_add(buf, cap, "user", user) ||
		(password && password[0] && !conninfo_add(buf, cap, "password", password)) ||
		!conninfo_add(buf, cap, "application_name", application_name))
		return false;
	o = strlen(buf);
	return snprintf(buf + o, cap - o, " connect_timeout=%d", CONNINFO_CONNECT_TIMEOUT_S) < (int) (cap - o);
}
