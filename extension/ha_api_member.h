/*-------------------------------------------------------------------------
 *
 * ha_api_member.h
 *	  The API's writes that act on this member: /restart, /reinitialize.
 *
 *-------------------------------------------------------------------------
 */
#ifndef HA_API_MEMBER_H
#define HA_API_MEMBER_H

#include "ha_http.h"
#include "ha_shmem.h"

extern HttpAnswer api_handle_restart(const HaView *view, const HttpRequest *req, StringInfo out);
extern void api_handle_restart_delete(StringInfo out);
/* parks with park_kind until the agent judged it (api_poll_reinit) */
extern HttpAnswer api_handle_reinitialize(const HttpRequest *req, StringInfo out, HttpPark *park,
										  int park_kind);
extern bool api_poll_reinit(bool timed_out, StringInfo out);

#endif							/* HA_API_MEMBER_H */
