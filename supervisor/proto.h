/*-------------------------------------------------------------------------
 *
 * proto.h
 *	  Pure parsers for what the supervisor reads from the agent: the
 *	  request file (PROTOCOL.md), an api_url, and the one field of the
 *	  agent's /patroni JSON the hand-over needs.  Unit-tested in
 *	  tests/test_proto.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SUP_PROTO_H
#define SUP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum RequestAction
{
	REQ_NONE,
	REQ_REJOIN,
	REQ_HANDOVER,
	REQ_RESTART,
	REQ_REINIT
} RequestAction;

typedef struct Request
{
	RequestAction action;
	char		leader[64];
	char		conninfo[512];
	char		api_url[256];
	char		reason[256];
	uint64_t	reply_token;	/* restart: the clients handed over with it (0: none) */
	int			timeout_s;		/* restart: how long postgres may take to start (0: default) */
} Request;

extern const char *request_action_name(RequestAction a);

/*
 * Parses pg_ha.request ("key = value" lines, "#" comments, values
 * optionally single-quoted).  Unknown keys are ignored (a newer agent may
 * add some); a missing or unknown action, or a rejoin/handover/reinit
 * without leader and conninfo, or a handover without api_url, is an error.
 */
extern bool request_parse(const char *text, size_t len, Request *r,
						  char *err, size_t errlen);

/*
 * "http://host:port/path" -> parts (path defaults to "/"); false if bad,
 * which includes any byte but visible ASCII (host and path go into the
 * request line and the Host header of the hand-over's GET).
 */
extern bool url_parse(const char *url, char *host, size_t hostlen, int *port,
					  char *path, size_t pathlen);

/*
 * From the agent's GET /patroni body: xlog.received_location (a replica).
 * Returns false when the body has no such number.
 */
extern bool patroni_received_location(const char *body, size_t len, uint64_t *out);

#endif							/* SUP_PROTO_H */
