/*
 * tls.h - TLS for the health checks (tls.c): an OpenSSL client over memory
 * BIOs, so libuv keeps the socket and OpenSSL only turns bytes into bytes.
 * The probe hands it what arrived (tls_feed), runs it (tls_step) and sends
 * what it produced (tls_take_output).
 */
#ifndef ROUTER_TLS_H
#define ROUTER_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

typedef struct TlsClient TlsClient;

typedef enum TlsStep
{
	TLS_STEP_AGAIN,				/* wants more bytes from the server */
	TLS_STEP_CLOSED,			/* the server ended the session */
	TLS_STEP_ERROR				/* tls_error() says why */
} TlsStep;

/* Can each node's CA file be loaded?  false with "node X: ca FILE: why". */
bool		tls_check_config(const RouterConfig *cfg, char *err, size_t errlen);

/* Drops the cached contexts (a reload reads the CA files again). */
void		tls_reset(void);

/* A client session for a check of host; NULL with why when it cannot start. */
TlsClient  *tls_client_new(const CheckTls *tls, const char *host, char *why, size_t whylen);
void		tls_client_free(TlsClient *tc);

/* Ciphertext from the server. */
bool		tls_feed(TlsClient *tc, const char *data, size_t len);

/*
 * Runs the handshake, then sends request[0..request_len) once, then reads
 * plaintext into reply (appending at *reply_len, at most cap).
 */
TlsStep		tls_step(TlsClient *tc, const char *request, size_t request_len,
					 char *reply, size_t cap, size_t *reply_len);

/* Ciphertext to send: a malloc'd buffer (the caller frees it), or NULL. */
char	   *tls_take_output(TlsClient *tc, size_t *len);

bool		tls_handshake_done(const TlsClient *tc);
const char *tls_error(const TlsClient *tc);

#endif
