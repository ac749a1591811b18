/*-------------------------------------------------------------------------
 *
 * ha_api.h
 *	  What the agent's HTTP API answers (Patroni-compatible), built from the
 *	  agent's in-memory view; never a query per request.
 *
 *-------------------------------------------------------------------------
 */
#ifndef HA_API_H
#define HA_API_H

#include "ha_http.h"
#include "ha_shmem.h"

/* view: the agent's live view (not the shared-memory copy). */
extern void ha_api_init(const HaView *view);
extern HttpAnswer ha_api_handle(const HttpRequest *req, const HttpPeer *peer,
								StringInfo out, HttpPark *park);
extern bool ha_api_poll(const HttpPark *park, bool timed_out, StringInfo out);
/* An immediate POST /restart: the client goes to the supervisor, which answers it. */
extern bool ha_api_hand_off(pgsocket sock, const HttpPark *park, StringInfo out);

/* The primary-check answer (200/503) now: what /primary and /watch report. */
extern int	ha_api_primary_status(void);

#endif							/* HA_API_H */
