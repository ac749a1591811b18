/*-------------------------------------------------------------------------
 *
 * ha_tls.c
 *	  OpenSSL for the agent's HTTP API (see ha_tls.h).
 *
 * One SSL_CTX, made once at start from pg_ha.api_certfile, api_keyfile
 * (the key may be in the certificate file), api_cafile and
 * api_verify_client.  Sessions are SSL objects on the connection's
 * non-blocking socket: SSL_accept / SSL_read / SSL_write return at once,
 * and WANT_READ / WANT_WRITE tell ha_http.c what to wait for.  The error
 * queue is cleared before each call and read after a failure, so one
 * connection's error never shows up as another's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ha_guc.h"
#include "ha_tls.h"

struct HaTlsConn
{
	SSL		   *ssl;
};

static SSL_CTX *ctx;

bool
ha_tls_configured(void)
{
	return ha_api_certfile != NULL && ha_api_certfile[0] != '\0';
}

/* OpenSSL's reason for the last failure, after what. */
static void
ssl_reason(char *why, size_t whylen, const char *what)
{
	unsigned long e = ERR_get_error();
	char		buf[256];

	if (e == 0)
		strlcpy(buf, "no OpenSSL error reported", sizeof(buf));
	else
		ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(why, whylen, "%s: %s", what, buf);
	ERR_clear_error();
}

bool
ha_tls_load(char *why, size_t whylen)
{
	SSL_CTX    *c;
	const char *keyfile = ha_api_keyfile && ha_api_keyfile[0] ? ha_api_keyfile : ha_api_certfile;
	char		what[MAXPGPATH + 64];

	if (ctx != NULL)
		return true;
	if (ha_api_verify_client != HA_TLS_VERIFY_NONE &&
		(ha_api_cafile == NULL || ha_api_cafile[0] == '\0'))
	{
		snprintf(why, whylen, "pg_ha.api_verify_client is not \"none\" but pg_ha.api_cafile is empty");
		return false;
	}
	ERR_clear_error();
	c = SSL_CTX_new(TLS_server_method());
	if (c == NULL)
	{
		ssl_reason(why, whylen, "could not make a TLS context");
		return false;
	}
	/* TLS 1.2 is the oldest HAProxy 2.x and Patroni's clients still use */
	SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
	SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION);
	/* a partial write is fine: the same buffer comes back, moved on */
	SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	snprintf(what, sizeof(what), "certificate file \"%s\"", ha_api_certfile);
	if (SSL_CTX_use_certificate_chain_file(c, ha_api_certfile) != 1)
		goto fail;
	snprintf(what, sizeof(what), "private key file \"%s\"", keyfile);
	if (SSL_CTX_use_PrivateKey_file(c, keyfile, SSL_FILETYPE_PEM) != 1)
		goto fail;
	snprintf(what, sizeof(what), "private key file \"%s\" does not match certificate \"%s\"",
			 keyfile, ha_api_certfile);
	if (SSL_CTX_check_private_key(c) != 1)
		goto fail;
	if (ha_api_cafile && ha_api_cafile[0])
	{
		STACK_OF(X509_NAME) * names;

		snprintf(what, sizeof(what), "CA file \"%s\"", ha_api_cafile);
		if (SSL_CTX_load_verify_locations(c, ha_api_cafile, NULL) != 1)
			goto fail;
		names = SSL_load_client_CA_file(ha_api_cafile);
		if (names)
			SSL_CTX_set_client_CA_list(c, names);
	}
	SSL_CTX_set_verify(c,
					   ha_api_verify_client == HA_TLS_VERIFY_REQUIRED ?
					   SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT :
					   ha_api_verify_client == HA_TLS_VERIFY_OPTIONAL ? SSL_VERIFY_PEER :
					   SSL_VERIFY_NONE, NULL);
	ctx = c;

	/*
	 * OpenSSL writes to the socket with write(), not send(MSG_NOSIGNAL): a
	 * client that left must be an EPIPE, never a signal that ends the agent.
	 */
	pqsignal(SIGPIPE, SIG_IGN);
	return true;

fail:
	ssl_reason(why, whylen, what);
	SSL_CTX_free(c);
	return false;
}

HaTlsConn *
ha_tls_open(pgsocket sock, char *why, size_t whylen)
{
	HaTlsConn  *tc;
	SSL		   *ssl;

	Assert(ctx != NULL);
	ERR_clear_error();
	ssl = SSL_new(ctx);
	if (ssl == NULL || SSL_set_fd(ssl, sock) != 1)
	{
		ssl_reason(why, whylen, "could not start a TLS session");
		if (ssl)
			SSL_free(ssl);
		return NULL;
	}
	/* in the connection's context; ha_tls_close frees the SSL object */
	tc = palloc(sizeof(HaTlsConn));
	tc->ssl = ssl;
	return tc;
}

/* Maps a failed SSL call's result to what the caller does next. */
static HaTlsStatus
status_of(HaTlsConn *tc, int rc, char *why, size_t whylen)
{
	int			err = SSL_get_error(tc->ssl, rc);

	switch (err)
	{
		case SSL_ERROR_WANT_READ:
			return HA_TLS_WANT_READ;
		case SSL_ERROR_WANT_WRITE:
			return HA_TLS_WANT_WRITE;
		case SSL_ERROR_ZERO_RETURN:
			return HA_TLS_EOF;
		case SSL_ERROR_SYSCALL:
			if (ERR_peek_error() == 0)
			{
				if (why)
					snprintf(why, whylen, "connection closed by the client");
				return rc == 0 || errno == 0 ? HA_TLS_EOF : HA_TLS_ERROR;
			}
			/* FALLTHROUGH */
		default:
			if (why)
			{
				long		vr = SSL_get_verify_result(tc->ssl);

				if (vr != X509_V_OK)
					snprintf(why, whylen, "client certificate: %s",
							 X509_verify_cert_error_string(vr));
				else
					ssl_reason(why, whylen, "TLS error");
			}
			ERR_clear_error();
			return HA_TLS_ERROR;
	}
}

HaTlsStatus
ha_tls_handshake(HaTlsConn *tc, char *why, size_t whylen)
{
	int			rc;

	ERR_clear_error();
	errno = 0;
	rc = SSL_accept(tc->ssl);
	if (rc == 1)
		return HA_TLS_OK;
	return status_of(tc, rc, why, whylen);
}

HaTlsStatus
ha_tls_read(HaTlsConn *tc, void *buf, size_t len, size_t *got)
{
	int			rc;

	*got = 0;
	ERR_clear_error();
	errno = 0;
	rc = SSL_read(tc->ssl, buf, (int) Min(len, (size_t) INT_MAX));
	if (rc > 0)
	{
		*got = (size_t) rc;
		return HA_TLS_OK;
	}
	return status_of(tc, rc, NULL, 0);
}

HaTlsStatus
ha_tls_write(HaTlsConn *tc, const void *buf, size_t len, size_t *put)
{
	int			rc;

	*put = 0;
	if (len == 0)
		return HA_TLS_OK;
	ERR_clear_error();
	errno = 0;
	rc = SSL_write(tc->ssl, buf, (int) Min(len, (size_t) INT_MAX));
	if (rc > 0)
	{
		*put = (size_t) rc;
		return HA_TLS_OK;
	}
	return status_of(tc, rc, NULL, 0);
}

bool
ha_tls_client_verified(HaTlsConn *tc)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	X509	   *peer = SSL_get1_peer_certificate(tc->ssl);
#else
	X509	   *peer = SSL_get_peer_certificate(tc->ssl);
#endif
	bool		ok = peer != NULL && SSL_get_verify_result(tc->ssl) == X509_V_OK;

	if (peer)
		X509_free(peer);
	return ok;
}

void
ha_tls_close(HaTlsConn *tc)
{
	if (tc == NULL || tc->ssl == NULL)
		return;
	ERR_clear_error();
	/* once, without waiting: the socket is non-blocking */
	if (SSL_is_init_finished(tc->ssl))
		(void) SSL_shutdown(tc->ssl);
	ERR_clear_error();
	SSL_free(tc->ssl);
	tc->ssl = NULL;
}
