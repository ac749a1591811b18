/*-------------------------------------------------------------------------
 *
 * conninfo.h
 *	  libpq connection strings, built in one place for the agent and the
 *	  supervisor.  A standby's primary_conninfo above all: the supervisor
 *	  writes it when it prepares a standby, the agent when it follows a
 *	  leader, and postgres restarts its WAL receiver whenever the text
 *	  changes, so both must write the very same string.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CONNINFO_H
#define CONNINFO_H

#include <stdbool.h>
#include <stddef.h>

/* a standby gives up connecting to its leader after this long (then retries) */
#define CONNINFO_CONNECT_TIMEOUT_S	2

/*
 * Appends " key=value" to the connection string in buf ("key=value" when
 * buf is empty), quoting the value when libpq needs it (empty, blanks,
 * quote or backslash).  False if cap is too small.
 */
extern bool conninfo_add(char *buf, size_t cap, const char *key, const char *value);

/* "host=H port=P": where a member's postgres listens; false if it has no address */
extern bool conninfo_address(char *buf, size_t cap, const char *host, int port);

/*
 * A standby's primary_conninfo: the leader's address (conninfo_address),
 * the replication user and password (none if NULL or ""), this node's name
 * as application_name (what synchronous_standby_names names) and a
 * connect timeout.  address may be buf itself.
 */
extern bool conninfo_standby(char *buf, size_t cap, const char *address, const char *user,
							 const char *password, const char *application_name);

#endif							/* CONNINFO_H */
