/*-------------------------------------------------------------------------
 *
 * ha_allow.c
 *	  Who may call the API's unsafe endpoints (Patroni's restapi.allowlist
 *	  and allowlist_include_members).
 *
 * The setting is parsed by allowlist.c.  Host names (in the setting, and
 * the members' api_url hosts) are looked up with getaddrinfo_a(), which
 * answers in a thread of its own: a lookup is started at start and at each
 * reload (a member's when it first shows up), collected by
 * ha_allow_service() on a later loop turn, and never waited for.  Until a
 * name's lookup is done it matches nothing: the allowlist fails closed.
 * A member given by address matches at once.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "addr.h"
#include "allowlist.h"
#include "ha_allow.h"
#include "ha_guc.h"

#define ADDRS_PER_NAME 8
#define NLOOKUPS (HA_ALLOWLIST_MAX + HA_MAX_MEMBERS)

typedef struct Lookup
{
	bool		used;
	bool		stale;			/* superseded by a reload: result dropped */
	bool		pending;
	bool		member;			/* a member's api_url host, not the setting's */
	struct gaicb cb;
	struct addrinfo hints;
	char		name[ALLOW_NAME_LEN];
	int			naddrs;
	AllowEntry	addrs[ADDRS_PER_NAME];
} Lookup;

static AllowEntry configured[HA_ALLOWLIST_MAX];
static int	nconfigured;
static Lookup lookups[NLOOKUPS];

static bool
restricted(void)
{
	return nconfigured > 0 || ha_api_allowlist_include_members;
}

static void
lookup_start(const char *name, bool member)
{
	Lookup	   *l = NULL;
	struct gaicb *list[1];
	int			rc;

	for (int i = 0; i < NLOOKUPS; i++)
		if (!lookups[i].used && !lookups[i].pending)
		{
			l = &lookups[i];
			break;
		}
	if (l == NULL)
		return;					/* cannot happen: one slot per entry and member */
	memset(l, 0, sizeof(*l));
	l->used = true;
	l->member = member;
	strlcpy(l->name, name, sizeof(l->name));
	l->hints.ai_socktype = SOCK_STREAM;
	l->cb.ar_name = l->name;
	l->cb.ar_request = &l->hints;
	list[0] = &l->cb;
	rc = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
	if (rc != 0)
	{
		ereport(LOG,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("pg_ha: could not start looking up \"%s\" of the HTTP API's allowlist: %s",
						name, gai_strerror(rc)),
				 errdetail("The name matches no address until the next reload.")));
		return;
	}
	l->pending = true;
}

void
ha_allow_reload(void)
{
	char		why[160];
	int			n;

	n = allowlist_parse(ha_api_allowlist, configured, HA_ALLOWLIST_MAX, why, sizeof(why));
	if (n < 0)
		n = 0;					/* the check hook refused it: not reached */
	nconfigured = n;
	for (int i = 0; i < NLOOKUPS; i++)
	{
		if (lookups[i].pending)
			lookups[i].stale = true;	/* its thread still writes into it */
		lookups[i].used = false;
	}
	for (int i = 0; i < nconfigured; i++)
		if (configured[i].family == 0)
			lookup_start(configured[i].name, false);
}

/* The api_url host of a member, without brackets; "" when none. */
static void
member_host(const HaMember *m, char *host, size_t hostlen)
{
	int			port;
	size_t		len;

	addr_split_conn_url(m->api_url, host, hostlen, &port);
	len = strlen(host);
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']')
	{
		memmove(host, host + 1, len - 2);
		host[len - 2] = '\0';
	}
}

static bool
is_numeric(const char *host)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

void
ha_allow_service(const HaView *view)
{
	for (int i = 0; i < NLOOKUPS; i++)
	{
		Lookup	   *l = &lookups[i];
		int			rc;

		if (!l->pending)
			continue;
		rc = gai_error(&l->cb);
		if (rc == EAI_INPROGRESS)
			continue;
		l->pending = false;
		if (l->stale)
		{
			if (rc == 0)
				freeaddrinfo(l->cb.ar_result);
			l->stale = false;
			continue;
		}
		if (rc != 0)
		{
			ereport(LOG,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("pg_ha: could not resolve \"%s\" of the HTTP API's allowlist: %s",
							l->name, gai_strerror(rc)),
					 errdetail("It matches no address until the next reload (pg_reload_conf()).")));
			continue;
		}
		for (struct addrinfo *ai = l->cb.ar_result; ai && l->naddrs < ADDRS_PER_NAME; ai = ai->ai_next)
			if (allowlist_entry_from_sockaddr(&l->addrs[l->naddrs], ai->ai_addr))
				l->naddrs++;
		freeaddrinfo(l->cb.ar_result);
		l->cb.ar_result = NULL;
	}

	if (!ha_api_allowlist_include_members)
		return;
	for (int m = 0; m < view->nmembers; m++)
	{
		char		host[HA_HOST_LEN];
		bool		known = false;

		member_host(&view->members[m], host, sizeof(host));
		if (host[0] == '\0' || is_numeric(host))
			continue;
		for (int i = 0; i < NLOOKUPS && !known; i++)
			known = lookups[i].used && lookups[i].member && strcmp(lookups[i].name, host) == 0;
		if (!known)
			lookup_start(host, true);
	}
}

static bool
member_permits(const HaView *view, const void *peer)
{
	for (int m = 0; m < view->nmembers; m++)
	{
		char		host[HA_HOST_LEN];
		AllowEntry	e[1];
		char		why[160];

		member_host(&view->members[m], host, sizeof(host));
		if (is_numeric(host) && allowlist_parse(host, e, 1, why, sizeof(why)) == 1 &&
			allowlist_match(e, 1, peer))
			return true;
	}
	/* members by name: their lookups */
	for (int i = 0; i < NLOOKUPS; i++)
		if (lookups[i].used && lookups[i].member && !lookups[i].pending &&
			allowlist_match(lookups[i].addrs, lookups[i].naddrs, peer))
			return true;
	return false;
}

bool
ha_allow_permits(const HaView *view, const void *peer)
{
	if (!restricted())
		return true;
	if (allowlist_match(configured, nconfigured, peer))
		return true;
	for (int i = 0; i < NLOOKUPS; i++)
		if (lookups[i].used && !lookups[i].member && !lookups[i].pending &&
			allowlist_match(lookups[i].addrs, lookups[i].naddrs, peer))
			return true;
	return ha_api_allowlist_include_members && member_permits(view, peer);
}
