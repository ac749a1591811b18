/*-------------------------------------------------------------------------
 *
 * fuzz_allowlist.c
 *	  libFuzzer target for common/allowlist.c.
 *
 * The first 16 bytes are a peer address (IPv4 when byte 0 is even, in the
 * next 4 bytes), the rest is an allowlist.  Checked: parsing never reads
 * past the text, gives -1 or at most cap entries; every numeric entry's
 * prefix fits its family; a match agrees with a bit-by-bit recomputation;
 * a list that parses parses the same when written back and read again.
 *
 *-------------------------------------------------------------------------
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "allowlist.h"
#include "fuzz_check.h"

#define CAP 16

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
slow_match(const AllowEntry *e, int n, int family, const uint8_t *addr)
{
	for (int i = 0; i < n; i++)
	{
		int			b;

		if (e[i].family != family)
			continue;
		for (b = 0; b < e[i].prefix; b++)
			if (((e[i].addr[b / 8] >> (7 - b % 8)) & 1) != ((addr[b / 8] >> (7 - b % 8)) & 1))
				break;
		if (b == e[i].prefix)
			return true;
	}
	return false;
}

/* Writes the entries back as text. */
static void
render(const AllowEntry *e, int n, char *out, size_t cap)
{
	size_t		o = 0;

	out[0] = '\0';
	for (int i = 0; i < n && o < cap; i++)
	{
		char		a[INET6_ADDRSTRLEN];

		if (e[i].family == 0)
			o += snprintf(out + o, cap - o, "%s,", e[i].name);
		else
		{
			inet_ntop(e[i].family, e[i].addr, a, sizeof(a));
			o += snprintf(out + o, cap - o, "%s/%d ", a, e[i].prefix);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static AllowEntry e[CAP],
				again[CAP];
	static char rendered[CAP * (ALLOW_NAME_LEN + 8)];
	char		why[160];
	char	   *text;
	int			n;
	struct sockaddr_storage ss;
	uint8_t		addr[16];
	int			family;

	if (size < 16)
		return 0;
	text = malloc(size - 16 + 1);
	memcpy(text, data + 16, size - 16);
	text[size - 16] = '\0';
	memset(&ss, 0, sizeof(ss));
	if (data[0] % 2 == 0)
	{
		struct sockaddr_in *s4 = (struct sockaddr_in *) &ss;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, data + 1, 4);
		memcpy(addr, data + 1, 4);
		family = AF_INET;
	}
	else
	{
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) &ss;
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, data, 16);
		memcpy(addr, data, 16);
		family = AF_INET6;
		if (memcmp(data, mapped, 12) == 0)
		{
			memmove(addr, data + 12, 4);
			family = AF_INET;
		}
	}

	n = allowlist_parse(text, e, CAP, why, sizeof(why));
	CHECK(n >= -1 && n <= CAP);
	if (n >= 0)
	{
		for (int i = 0; i < n; i++)
		{
			CHECK(e[i].family == 0 || e[i].family == AF_INET || e[i].family == AF_INET6);
			CHECK(e[i].prefix >= 0 && e[i].prefix <= (e[i].family == AF_INET ? 32 : 128));
			CHECK(e[i].family != 0 || strlen(e[i].name) > 0);
		}
		CHECK(allowlist_match(e, n, &ss) == slow_match(e, n, family, addr));
		render(e, n, rendered, sizeof(rendered));
		CHECK(allowlist_parse(rendered, again, CAP, why, sizeof(why)) == n);
		for (int i = 0; i < n; i++)
			CHECK(again[i].family == e[i].family && again[i].prefix == e[i].prefix &&
				  (e[i].family == 0 ? strcmp(again[i].name, e[i].name) == 0 :
				   slow_match(&again[i], 1, e[i].family, e[i].addr)));
	}
	else
		CHECK(strlen(why) > 0);
	free(text);
	return 0;
}
