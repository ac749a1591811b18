/*-------------------------------------------------------------------------
 *
 * allowlist.h
 *	  Who may call the API's unsafe endpoints (POST, PATCH, PUT, DELETE):
 *	  Patroni's restapi.allowlist.  A list of CIDRs (IPv4 and IPv6), single
 *	  addresses and host names, comma or space separated.  Parsing and
 *	  matching are pure functions, no I/O: host names are kept as names
 *	  here, and the agent resolves them away from the request path
 *	  (extension/ha_allow.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ALLOWLIST_H
#define ALLOWLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ALLOW_NAME_LEN 256

typedef struct AllowEntry
{
	int			family;			/* AF_INET, AF_INET6; 0: a host name */
	int			prefix;			/* bits that must match */
	uint8_t		addr[16];		/* network order; IPv4 in the first 4 */
	char		name[ALLOW_NAME_LEN];	/* family 0 only */
} AllowEntry;

/*
 * Parses text into out[0..cap).  Returns the number of entries, or -1 with
 * a reason in why: a bad address or prefix ("10.0.0.0/33"), a bad name, or
 * more than cap entries.  An empty list gives 0 (no restriction).
 */
extern int	allowlist_parse(const char *text, AllowEntry *out, int cap,
							char *why, size_t whylen);

/* Fills e with one address (a resolved name), as a /32 or /128. */
extern bool allowlist_entry_from_sockaddr(AllowEntry *e, const void *sockaddr);

/*
 * Does the peer (a struct sockaddr, AF_INET or AF_INET6) match one of the
 * numeric entries?  Names (family 0) never match: their addresses come as
 * entries of their own.  An IPv4-mapped IPv6 peer (::ffff:a.b.c.d) matches
 * IPv4 entries.
 */
extern bool allowlist_match(const AllowEntry *entries, int n, const void *peer);

/* Is the peer a loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104)? */
extern bool allowlist_peer_is_loopback(const void *peer);

#endif							/* ALLOWLIST_H */
