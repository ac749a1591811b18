/*-------------------------------------------------------------------------
 *
 * ha_tls.h
 *	  TLS for the agent's HTTP API (OpenSSL), non-blocking: every call
 *	  returns at once and says what the socket must become ready for, so
 *	  ha_http.c drives the handshake and the I/O from its WaitEventSet
 *	  loop.  Patroni's restapi.certfile / keyfile / cafile / verify_client.
 *
 *-------------------------------------------------------------------------
 */
#ifndef HA_TLS_H
#define HA_TLS_H

#include "postgres.h"

typedef enum HaTlsVerify
{
	HA_TLS_VERIFY_NONE,			/* client certificates are not asked for */
	HA_TLS_VERIFY_OPTIONAL,		/* asked for; unsafe endpoints need one */
	HA_TLS_VERIFY_REQUIRED		/* every TLS client must present one */
} HaTlsVerify;

/* What a TLS call needs next. */
typedef enum HaTlsStatus
{
	HA_TLS_OK,					/* done (bytes moved, handshake finished) */
	HA_TLS_WANT_READ,
	HA_TLS_WANT_WRITE,
	HA_TLS_EOF,					/* the peer closed */
	HA_TLS_ERROR				/* why says what; close the connection */
} HaTlsStatus;

typedef struct HaTlsConn HaTlsConn;

/* Is TLS configured (pg_ha.api_certfile set)? */
extern bool ha_tls_configured(void);

/*
 * Loads the certificate, key and CA from the settings.  false with the
 * reason in why (OpenSSL's, naming the file) when one cannot be used.
 */
extern bool ha_tls_load(char *why, size_t whylen);

/* A TLS server session on an accepted socket; NULL with why on failure. */
extern HaTlsConn *ha_tls_open(pgsocket sock, char *why, size_t whylen);
extern HaTlsStatus ha_tls_handshake(HaTlsConn *tc, char *why, size_t whylen);
extern HaTlsStatus ha_tls_read(HaTlsConn *tc, void *buf, size_t len, size_t *got);
extern HaTlsStatus ha_tls_write(HaTlsConn *tc, const void *buf, size_t len, size_t *put);
/* Did the client present a certificate that verified against the CA? */
extern bool ha_tls_client_verified(HaTlsConn *tc);
/* Sends close_notify if it can without waiting, and frees the session. */
extern void ha_tls_close(HaTlsConn *tc);

#endif							/* HA_TLS_H */
