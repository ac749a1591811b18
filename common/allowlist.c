/*-------------------------------------------------------------------------
 *
 * allowlist.c
 *	  Parsing and matching of the API's allowlist (see allowlist.h).
 *
 *-------------------------------------------------------------------------
 */
#include "allowlist.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* RFC 1123 host name: labels of letters, digits and '-', dot separated. */
static bool
valid_host_name(const char *s)
{
	size_t		len = strlen(s);
	size_t		label = 0;

	if (len == 0 || len >= ALLOW_NAME_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		unsigned char ch = (unsigned char) s[i];

		if (ch == '.')
		{
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!isalnum(ch) && ch != '-' && ch != '_')
			return false;
		if (label == 0 && ch == '-')
			return false;
		if (++label > 63)
			return false;
	}
	/* "10.0.0.300" is a mistyped address, not a name */
	return s[len - 1] != '-' && strspn(s, "0123456789.") != len;
}

/* One item: "addr", "addr/prefix" or a host name. */
static bool
parse_item(const char *item, AllowEntry *e, char *why, size_t whylen)
{
	char		addr[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(item, '/');
	size_t		addrlen = slash ? (size_t) (slash - item) : strlen(item);
	int			maxbits;

	memset(e, 0, sizeof(*e));
	if (addrlen < sizeof(addr))
	{
		memcpy(addr, item, addrlen);
		addr[addrlen] = '\0';
		if (inet_pton(AF_INET, addr, e->addr) == 1)
			e->family = AF_INET;
		else if (inet_pton(AF_INET6, addr, e->addr) == 1)
			e->family = AF_INET6;
	}
	if (e->family == 0)
	{
		if (slash == NULL && valid_host_name(item))
		{
			strcpy(e->name, item);
			return true;
		}
		snprintf(why, whylen, "\"%.64s\" is neither an address, a CIDR nor a host name", item);
		return false;
	}
	maxbits = e->family == AF_INET ? 32 : 128;
	e->prefix = maxbits;
	if (slash)
	{
		char	   *end;
		long		bits;

		if (!isdigit((unsigned char) slash[1]))
		{
			snprintf(why, whylen, "\"%.64s\": the prefix length must be a number", item);
			return false;
		}
		bits = strtol(slash + 1, &end, 10);
		if (*end != '\0' || bits > maxbits || end - (slash + 1) > 3)
		{
			snprintf(why, whylen, "\"%.64s\": the prefix length must be 0 to %d", item, maxbits);
			return false;
		}
		e->prefix = (int) bits;
	}
	return true;
}

int
allowlist_parse(const char *text, AllowEntry *out, int cap, char *why, size_t whylen)
{
	int			n = 0;
	const char *p = text ? text : "";

	for (;;)
	{
		char		item[ALLOW_NAME_LEN + 8];
		size_t		len = 0;

		while (*p == ',' || isspace((unsigned char) *p))
			p++;
		if (*p == '\0')
			break;
		while (p[len] && p[len] != ',' && !isspace((unsigned char) p[len]))
			len++;
		if (len >= sizeof(item))
		{
			snprintf(why, whylen, "an entry is longer than %d characters", ALLOW_NAME_LEN - 1);
			return -1;
		}
		if (n >= cap)
		{
			snprintf(why, whylen, "more than %d entries", cap);
			return -1;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		p += len;
		if (!parse_item(item, &out[n], why, whylen))
			return -1;
		n++;
	}
	return n;
}

bool
allowlist_entry_from_sockaddr(AllowEntry *e, const void *sockaddr)
{
	const struct sockaddr *sa = sockaddr;

	memset(e, 0, sizeof(*e));
	if (sa->sa_family == AF_INET)
	{
		memcpy(e->addr, &((const struct sockaddr_in *) sa)->sin_addr, 4);
		e->family = AF_INET;
		e->prefix = 32;
		return true;
	}
	if (sa->sa_family == AF_INET6)
	{
		memcpy(e->addr, &((const struct sockaddr_in6 *) sa)->sin6_addr, 16);
		e->family = AF_INET6;
		e->prefix = 128;
		return true;
	}
	return false;
}

/* Do the first bits of a and b agree? */
static bool
prefix_equal(const uint8_t *a, const uint8_t *b, int bits)
{
	int			bytes = bits / 8;
	int			rest = bits % 8;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[bytes] ^ b[bytes]) & (0xff << (8 - rest))) == 0;
}

/* The peer as a family and address; a v4-mapped IPv6 address as IPv4. */
static int
peer_addr(const void *peer, uint8_t *addr)
{
	const struct sockaddr *sa = peer;

	if (sa->sa_family == AF_INET)
	{
		memcpy(addr, &((const struct sockaddr_in *) sa)->sin_addr, 4);
		return AF_INET;
	}
	if (sa->sa_family == AF_INET6)
	{
		const uint8_t *a6 = (const uint8_t *) &((const struct sockaddr_in6 *) sa)->sin6_addr;

		if (memcmp(a6, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0)
		{
			memcpy(addr, a6 + 12, 4);
			return AF_INET;
		}
		memcpy(addr, a6, 16);
		return AF_INET6;
	}
	return 0;
}

bool
allowlist_match(const AllowEntry *entries, int n, const void *peer)
{
	uint8_t		addr[16];
	int			family = peer_addr(peer, addr);

	if (family == 0)
		return false;
	for (int i = 0; i < n; i++)
	{
		if (entries[i].family == family &&
			prefix_equal(entries[i].addr, addr, entries[i].prefix))
			return true;
	}
	return false;
}

bool
allowlist_peer_is_loopback(const void *peer)
{
	static const uint8_t v6_loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	uint8_t		addr[16];
	int			family = peer_addr(peer, addr);

	if (family == AF_INET)
		return addr[0] == 127;
	return family == AF_INET6 && memcmp(addr, v6_loopback, 16) == 0;
}
