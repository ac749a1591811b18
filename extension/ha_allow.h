/*-------------------------------------------------------------------------
 *
 * ha_allow.h
 *	  The agent's allowlist for the API's unsafe endpoints:
 *	  pg_ha.api_allowlist and pg_ha.api_allowlist_include_members, with
 *	  host names resolved in the background (never in the request path).
 *
 *-------------------------------------------------------------------------
 */
#ifndef HA_ALLOW_H
#define HA_ALLOW_H

#include "ha_shmem.h"

/* At start and after each reload: parse the setting, look its names up anew. */
extern void ha_allow_reload(void);

/* Each loop turn: collects finished lookups, starts members' ones. */
extern void ha_allow_service(const HaView *view);

/* May this peer (a struct sockaddr) call an unsafe endpoint? */
extern bool ha_allow_permits(const HaView *view, const void *peer);

#endif							/* HA_ALLOW_H */
