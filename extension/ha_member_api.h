/*-------------------------------------------------------------------------
 *
 * ha_member_api.h
 *	  A backend calls another member's HTTP API (ha_reinitialize() on a
 *	  member that is not this node): common/http_client.c, with the
 *	  credentials of pg_ha.api_auth and a query cancel honoured.
 *
 *-------------------------------------------------------------------------
 */
#ifndef HA_MEMBER_API_H
#define HA_MEMBER_API_H

#include "http_client.h"

/*
 * POSTs body (JSON) to path at the host and port of api_url (a member's
 * "http://host:port/patroni") within timeout_ms.  Returns the HTTP status
 * with the answer in answer (NUL-terminated), or HTTP_CLIENT_FAILED;
 * a cancel or termination ends the wait, then raises its ERROR here.
 */
extern int	ha_member_api_post(const char *api_url, const char *path, const char *body,
							   int timeout_ms, char *answer, size_t cap);

#endif							/* HA_MEMBER_API_H */
