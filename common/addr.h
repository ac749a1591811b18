/*-------------------------------------------------------------------------
 *
 * addr.h
 *	  Syntax of the addresses in pg_ha's settings: "host:port" (host may be
 *	  a name, an IPv4 address, "[v6]" or "*") and ZooKeeper's host list
 *	  "h1:p1,h2:p2[/chroot]".  Pure C, shared by the GUC check hooks and the
 *	  unit tests.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ADDR_H
#define ADDR_H

#include "ha_types.h"

/*
 * Splits "host:port".  Returns false with a reason in why on any error:
 * empty host, missing/zero/non-numeric/out-of-range port, bad brackets.
 * "[::1]:8008" gives host "::1".  "*" is kept as "*" (any address).
 */
extern bool addr_parse_host_port(const char *s, char *host, size_t hostlen,
								 int *port, char *why, size_t whylen);

/* Validates a ZooKeeper connect string; false with a reason in why. */
extern bool addr_valid_zk_hosts(const char *s, char *why, size_t whylen);

/*
 * Host and port out of "postgres://host:port/db" (a member's conn_url).
 * On a malformed URL host is "" and port 0.
 */
extern void addr_split_conn_url(const char *url, char *host, size_t hostlen,
								int *port);

#endif							/* ADDR_H */
