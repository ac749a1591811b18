/*-------------------------------------------------------------------------
 *
 * ha_api_views.h
 *	  The HTTP API's documents, rendered from the agent's view.
 *
 *-------------------------------------------------------------------------
 */
#ifndef HA_API_VIEWS_H
#define HA_API_VIEWS_H

#include "lib/stringinfo.h"

#include "ha_shmem.h"
#include "json_writer.h"

#define PG_HA_VERSION "1.1"
#define PG_HA_VERSION_NUM 10100

extern const HaMember *api_find_member(const HaView *v, const char *name);
extern void api_status_json(const HaView *v, JsonBuf *jb);	/* /patroni */
extern void api_cluster_json(const HaView *v, JsonBuf *jb); /* /cluster */
extern void api_config_json(const HaView *v, JsonBuf *jb);	/* this node's settings */
extern void api_metrics_text(const HaView *v, StringInfo s);	/* /metrics */
/* A write's answer: {"message"} below 400, else {"error"}, with a hint. */
extern void api_reply_message(StringInfo out, int status, const char *message, const char *hint);

#endif							/* HA_API_VIEWS_H */
