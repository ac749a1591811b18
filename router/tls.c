/*
 * tls.c - the health checks' TLS client (see tls.h).
 *
 * One SSL_CTX per (CA file, client certificate, verify), made on first use and kept until
 * a reload; each check gets its own SSL object on two memory BIOs.  With
 * verify required the server's chain must lead to the CA and its
 * certificate must name the check host (a SAN: DNS name or IP address),
 * as HAProxy's "verify required" with "verifyhost".
 */
#include "tls.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define MAX_CONTEXTS (CONFIG_MAX_NODES + 1)

typedef struct CachedContext
{
	char		ca[CONFIG_PATH_MAX];
	char		crt[CONFIG_PATH_MAX];
	CheckVerify verify;
	SSL_CTX    *ctx;
} CachedContext;

struct TlsClient
{
	SSL		   *ssl;
	BIO		   *in;				/* server -> OpenSSL */
	BIO		   *out;			/* OpenSSL -> server */
	bool		sent;			/* the request went into the session */
	char		error[128];
};

static CachedContext contexts[MAX_CONTEXTS];
static int	ncontexts;

static void
ssl_reason(char *why, size_t whylen, const char *what)
{
	unsigned long e = ERR_get_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;
	char		buf[160];

	/* the reason alone: a check result is short ("tlsv13 alert certificate required") */
	if (e == 0)
		snprintf(buf, sizeof(buf), "no OpenSSL error reported");
	else if (reason)
		snprintf(buf, sizeof(buf), "%s", reason);
	else
		ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(why, whylen, "%s: %s", what, buf);
	ERR_clear_error();
}

static SSL_CTX *
make_context(const CheckTls *tls, char *why, size_t whylen)
{
	SSL_CTX    *ctx;

	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL)
	{
		ssl_reason(why, whylen, "cannot make a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (tls->ca[0] != '\0' && SSL_CTX_load_verify_locations(ctx, tls->ca, NULL) != 1)
	{
		char		what[CONFIG_PATH_MAX + 32];

		snprintf(what, sizeof(what), "ca %s", tls->ca);
		ssl_reason(why, whylen, what);
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* for an agent with pg_ha.api_verify_client = required (HAProxy's crt) */
	if (tls->crt[0] != '\0' &&
		(SSL_CTX_use_certificate_chain_file(ctx, tls->crt) != 1 ||
		 SSL_CTX_use_PrivateKey_file(ctx, tls->crt, SSL_FILETYPE_PEM) != 1 ||
		 SSL_CTX_check_private_key(ctx) != 1))
	{
		char		what[CONFIG_PATH_MAX + 32];

		snprintf(what, sizeof(what), "crt %s", tls->crt);
		ssl_reason(why, whylen, what);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, tls->verify == CHECK_VERIFY_REQUIRED ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
					   NULL);
	return ctx;
}

/* A reference to the context for tls (the caller frees it), or NULL with why. */
static SSL_CTX *
context_for(const CheckTls *tls, char *why, size_t whylen)
{
	SSL_CTX    *ctx;

	for (int i = 0; i < ncontexts; i++)
	{
		if (contexts[i].verify == tls->verify && strcmp(contexts[i].ca, tls->ca) == 0 &&
			strcmp(contexts[i].crt, tls->crt) == 0)
		{
			SSL_CTX_up_ref(contexts[i].ctx);
			return contexts[i].ctx;
		}
	}
	ctx = make_context(tls, why, whylen);
	if (ctx == NULL || ncontexts == MAX_CONTEXTS)
		return ctx;
	snprintf(contexts[ncontexts].ca, sizeof(contexts[ncontexts].ca), "%s", tls->ca);
	snprintf(contexts[ncontexts].crt, sizeof(contexts[ncontexts].crt), "%s", tls->crt);
	contexts[ncontexts].verify = tls->verify;
	contexts[ncontexts].ctx = ctx;
	SSL_CTX_up_ref(ctx);
	ncontexts++;
	return ctx;
}

void
tls_reset(void)
{
	/* sessions in flight keep their own reference */
	for (int i = 0; i < ncontexts; i++)
		SSL_CTX_free(contexts[i].ctx);
	ncontexts = 0;
}

bool
tls_check_config(const RouterConfig *cfg, char *err, size_t errlen)
{
	for (int i = 0; i < cfg->n_nodes; i++)
	{
		const NodeConfig *node = &cfg->nodes[i];
		char		why[CONFIG_PATH_MAX + 200];
		SSL_CTX    *ctx;

		if (!node->tls.ssl)
			continue;
		ctx = make_context(&node->tls, why, sizeof(why));
		if (ctx == NULL)
		{
			snprintf(err, errlen, "node %s: TLS checks: %s", node->name, why);
			return false;
		}
		SSL_CTX_free(ctx);
	}
	return true;
}

TlsClient *
tls_client_new(const CheckTls *tls, const char *host, char *why, size_t whylen)
{
	SSL_CTX    *ctx = context_for(tls, why, whylen);
	TlsClient  *tc;
	unsigned char ip[16];
	bool		numeric;

	if (ctx == NULL)
		return NULL;
	tc = calloc(1, sizeof(*tc));
	if (tc == NULL)
	{
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	ERR_clear_error();
	tc->ssl = SSL_new(ctx);
	tc->in = BIO_new(BIO_s_mem());
	tc->out = BIO_new(BIO_s_mem());
	if (tc->ssl == NULL || tc->in == NULL || tc->out == NULL)
	{
		ssl_reason(why, whylen, "cannot start a TLS session");
		BIO_free(tc->in);
		BIO_free(tc->out);
		SSL_free(tc->ssl);
		free(tc);
		tc = NULL;
		goto fail;
	}
	SSL_set_bio(tc->ssl, tc->in, tc->out);	/* the session owns them now */
	SSL_set_connect_state(tc->ssl);
	numeric = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
	if (!numeric)
		SSL_set_tlsext_host_name(tc->ssl, host);
	if (tls->verify == CHECK_VERIFY_REQUIRED)
	{
		X509_VERIFY_PARAM *param = SSL_get0_param(tc->ssl);

		if (numeric)
			X509_VERIFY_PARAM_set1_ip_asc(param, host);
		else
			SSL_set1_host(tc->ssl, host);
	}
fail:
	SSL_CTX_free(ctx);			/* the session holds its own reference */
	return tc;
}

void
tls_client_free(TlsClient *tc)
{
	if (tc == NULL)
		return;
	SSL_free(tc->ssl);
	free(tc);
}

bool
tls_feed(TlsClient *tc, const char *data, size_t len)
{
	return len == 0 || BIO_write(tc->in, data, (int) len) == (int) len;
}

bool
tls_handshake_done(const TlsClient *tc)
{
	return SSL_is_init_finished(tc->ssl);
}

const char *
tls_error(const TlsClient *tc)
{
	return tc->error;
}

/* After a failed call: go on, closed, or an error (its reason kept). */
static TlsStep
step_after(TlsClient *tc, int rc)
{
	int			err = SSL_get_error(tc->ssl, rc);
	long		vr;

	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
		return TLS_STEP_AGAIN;
	if (err == SSL_ERROR_ZERO_RETURN)
		return TLS_STEP_CLOSED;
	vr = SSL_get_verify_result(tc->ssl);
	if (vr != X509_V_OK)
		snprintf(tc->error, sizeof(tc->error), "certificate: %s", X509_verify_cert_error_string(vr));
	else
		ssl_reason(tc->error, sizeof(tc->error), "TLS");
	ERR_clear_error();
	return TLS_STEP_ERROR;
}

TlsStep
tls_step(TlsClient *tc, const char *request, size_t request_len,
		 char *reply, size_t cap, size_t *reply_len)
{
	int			rc;

	ERR_clear_error();
	if (!SSL_is_init_finished(tc->ssl))
	{
		rc = SSL_do_handshake(tc->ssl);
		if (rc != 1)
			return step_after(tc, rc);
	}
	if (!tc->sent)
	{
		/* memory BIOs take all of it at once */
		rc = SSL_write(tc->ssl, request, (int) request_len);
		if (rc <= 0)
			return step_after(tc, rc);
		tc->sent = true;
	}
	while (*reply_len < cap)
	{
		rc = SSL_read(tc->ssl, reply + *reply_len, (int) (cap - *reply_len));
		if (rc <= 0)
			return step_after(tc, rc);
		*reply_len += (size_t) rc;
	}
	return TLS_STEP_AGAIN;
}

char *
tls_take_output(TlsClient *tc, size_t *len)
{
	size_t		pending = BIO_ctrl_pending(tc->out);
	char	   *buf;

	*len = 0;
	if (pending == 0)
		return NULL;
	buf = malloc(pending);
	if (buf == NULL)
		return NULL;
	*len = (size_t) BIO_read(tc->out, buf, (int) pending);
	return buf;
}
