/*
 * resolve.c - node addresses.  Numeric addresses are converted at once.
 * Host names are looked up asynchronously (uv_getaddrinfo, off the loop
 * thread) before a node's checks, again at most once per primary check
 * interval: a node whose name does not resolve (a stopped container's name
 * vanishes from Docker's DNS) is simply DOWN until it does, instead of
 * keeping the router from starting or reloading, and a node that comes back
 * with a new address is followed.
 */
#include "router.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ResolveRequest
{
	uv_getaddrinfo_t req;
	Node	   *node;
	bool		for_addr;		/* result applies to node->addr */
	bool		for_check;		/* result applies to node->check_addr */
	ResolveDone done;			/* the caller's, run when the node's last lookup ends */
} ResolveRequest;

bool
resolve_host_is_numeric(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* Numeric host to socket address; false for names. */
bool
resolve_numeric(const ConfigAddr *addr, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (uv_ip4_addr(addr->host, addr->port, (struct sockaddr_in *) out) == 0)
		return true;
	memset(out, 0, sizeof(*out));
	return uv_ip6_addr(addr->host, addr->port, (struct sockaddr_in6 *) out) == 0;
}

bool
resolve_node_has_names(const Node *node)
{
	return !resolve_host_is_numeric(node->cfg.addr.host) ||
		!resolve_host_is_numeric(node->cfg.check_addr.host);
}

bool
resolve_due(const Node *node)
{
	const RouterContext *ctx = node->ctx;

	if (!resolve_node_has_names(node))
		return false;
	if (!node->addr_known || !node->check_addr_known)
		return true;
	return uv_now(ctx->loop) - node->resolved_at_ms >= ctx->cfg->primary_check.interval_ms;
}

static void
set_port(struct sockaddr_storage *addr, uint16_t port)
{
	if (addr->ss_family == AF_INET6)
		((struct sockaddr_in6 *) addr)->sin6_port = htons(port);
	else
		((struct sockaddr_in *) addr)->sin_port = htons(port);
}

static void
addr_text(const struct sockaddr_storage *addr, char *out, size_t outlen)
{
	if (addr->ss_family == AF_INET6)
		uv_ip6_name((const struct sockaddr_in6 *) addr, out, outlen);
	else
		uv_ip4_name((const struct sockaddr_in *) addr, out, outlen);
}

static void
apply_result(Node *node, bool for_check, const struct addrinfo *res)
{
	struct sockaddr_storage *target = for_check ? &node->check_addr : &node->addr;
	bool	   *known = for_check ? &node->check_addr_known : &node->addr_known;
	const ConfigAddr *cfg = for_check ? &node->cfg.check_addr : &node->cfg.addr;
	struct sockaddr_storage fresh;
	char		old_text[64] = "";
	char		new_text[64];

	memset(&fresh, 0, sizeof(fresh));
	memcpy(&fresh, res->ai_addr, res->ai_addrlen);
	set_port(&fresh, cfg->port);
	if (*known)
		addr_text(target, old_text, sizeof(old_text));
	addr_text(&fresh, new_text, sizeof(new_text));
	if (!*known || strcmp(old_text, new_text) != 0)
		log_info(&node->ctx->log, "node %s: %s resolves to %s%s%s", node->cfg.name, cfg->host,
				 new_text, *known ? " (was " : "", *known ? old_text : "");
	if (*known && strcmp(old_text, new_text) != 0 && !for_check)
		log_info(&node->ctx->log, "node %s: live sessions stay on %s, new ones go to %s",
				 node->cfg.name, old_text, new_text);
	*target = fresh;
	*known = true;
}

static void
on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	ResolveRequest *request = container_of(req, ResolveRequest, req);
	Node	   *node = request->node;

	if (!node->retired && !node->ctx->stopping)
	{
		if (status == 0 && res != NULL)
		{
			if (request->for_addr)
				apply_result(node, false, res);
			if (request->for_check)
				apply_result(node, true, res);
			node->resolve_error[0] = '\0';
		}
		else
		{
			const char *host = request->for_addr ? node->cfg.addr.host : node->cfg.check_addr.host;
			char		error[sizeof(node->resolve_error)];

			/* keep a known address: a flaky resolver must not take a node down */
			snprintf(error, sizeof(error), "DNS %.40s: %.40s", host, uv_strerror(status));
			if (strcmp(error, node->resolve_error) != 0)
				log_warn(&node->ctx->log, "node %s: cannot resolve %s: %s", node->cfg.name, host,
						 uv_strerror(status));
			snprintf(node->resolve_error, sizeof(node->resolve_error), "%s", error);
		}
	}
	if (res)
		uv_freeaddrinfo(res);
	node->resolving--;
	if (node->resolving == 0 && !node->retired && !node->ctx->stopping)
	{
		node->resolved_at_ms = uv_now(node->ctx->loop);
		request->done(node);
	}
	free(request);
	node_unref(node);
}

static void
lookup(Node *node, const ConfigAddr *addr, bool for_addr, bool for_check, ResolveDone done)
{
	ResolveRequest *request = calloc(1, sizeof(*request));
	struct addrinfo hints;
	char		port[8];

	if (request == NULL)
		return;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", addr->port);
	request->node = node;
	request->for_addr = for_addr;
	request->for_check = for_check;
	request->done = done;
	node_ref(node);
	node->resolving++;
	if (uv_getaddrinfo(node->ctx->loop, &request->req, on_resolved, addr->host, port, &hints) < 0)
	{
		node->resolving--;
		node_unref(node);
		free(request);
	}
}

void
resolve_node_start(Node *node, ResolveDone done)
{
	bool		addr_is_name = !resolve_host_is_numeric(node->cfg.addr.host);
	bool		check_is_name = !resolve_host_is_numeric(node->cfg.check_addr.host);
	bool		same_host = strcmp(node->cfg.addr.host, node->cfg.check_addr.host) == 0;

	if (node->resolving > 0)
		return;
	if (addr_is_name)
		lookup(node, &node->cfg.addr, true, check_is_name && same_host, done);
	if (check_is_name && !(addr_is_name && same_host))
		lookup(node, &node->cfg.check_addr, false, true, done);
	if (node->resolving == 0)
	{
		/* nothing could be started (out of memory): report as a failure */
		snprintf(node->resolve_error, sizeof(node->resolve_error), "DNS lookup not started");
		done(node);
	}
}

/* (Re)computes what can be known without a lookup, after a config change. */
void
resolve_node_configured(Node *node, const NodeConfig *old_cfg)
{
	if (resolve_numeric(&node->cfg.addr, &node->addr))
		node->addr_known = true;
	else if (old_cfg == NULL || strcmp(old_cfg->addr.host, node->cfg.addr.host) != 0)
		node->addr_known = false;
	else
		set_port(&node->addr, node->cfg.addr.port);

	if (resolve_numeric(&node->cfg.check_addr, &node->check_addr))
		node->check_addr_known = true;
	else if (old_cfg == NULL || strcmp(old_cfg->check_addr.host, node->cfg.check_addr.host) != 0)
		node->check_addr_known = false;
	else
		set_port(&node->check_addr, node->cfg.check_addr.port);
}

/*
 * A listener's address, looked up at once: blocking, so only at startup and
 * reload, never per connection (node addresses go through resolve_node_start).
 */
bool
resolve_addr(const ConfigAddr *addr, bool passive, struct sockaddr_storage *out,
			 char *errbuf, size_t errlen)
{
	struct addrinfo hints;
	struct addrinfo *result = NULL;
	char		port[8];
	int			rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	snprintf(port, sizeof(port), "%u", addr->port);
	/* blocking, but only at startup and reload, never per connection */
	rc = getaddrinfo(addr->host, port, &hints, &result);
	if (rc != 0 || result == NULL)
	{
		snprintf(errbuf, errlen, "cannot resolve '%s': %s", addr->host,
				 rc != 0 ? gai_strerror(rc) : "no address");
		if (result)
			freeaddrinfo(result);
		return false;
	}
	memset(out, 0, sizeof(*out));
	memcpy(out, result->ai_addr, result->ai_addrlen);
	freeaddrinfo(result);
	return true;
}
