/*-------------------------------------------------------------------------
 *
 * ha_member_api.c
 *	  Calls to another member's API from a backend (see ha_member_api.h).
 *	  The HTTP client waits in slices of HTTP_CLIENT_SLICE_MS and asks
 *	  between them whether to go on: not once an interrupt is pending, so a
 *	  cancel ends the call (its socket closed) and is raised afterwards.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/base64.h"
#include "miscadmin.h"

#include "addr.h"
#include "ha_guc.h"
#include "ha_member_api.h"
#include "ha_types.h"

static bool
no_interrupt_pending(void *arg)
{
	return !InterruptPending;
}

int
ha_member_api_post(const char *api_url, const char *path, const char *body,
				   int timeout_ms, char *answer, size_t cap)
{
	char		host[HA_HOST_LEN];
	char		headers[512] = "";
	HttpCall	call;
	int			status;

	memset(&call, 0, sizeof(call));
	addr_split_conn_url(api_url, host, sizeof(host), &call.port);
	if (host[0] == '\0' || call.port <= 0)
	{
		if (cap > 0)
			answer[0] = '\0';
		return HTTP_CLIENT_FAILED;
	}
	/* the member's API asks for pg_ha.api_auth on writes, as ours does */
	if (ha_api_auth && ha_api_auth[0])
	{
		int			len = (int) strlen(ha_api_auth);
		char	   *b64 = palloc(pg_b64_enc_len(len) + 1);
		int			n = pg_b64_encode(ha_api_auth, len, b64, pg_b64_enc_len(len));

		if (n > 0)
		{
			b64[n] = '\0';
			snprintf(headers, sizeof(headers), "Authorization: Basic %s\r\n", b64);
		}
		pfree(b64);
	}
	call.method = "POST";
	call.host = host;
	call.path = path;
	call.headers = headers;
	call.body = body;
	call.body_len = strlen(body);
	call.user_agent = "pg_ha backend";
	call.timeout_ms = timeout_ms;
	call.keep_waiting = no_interrupt_pending;
	status = http_call(&call, answer, cap, NULL);
	CHECK_FOR_INTERRUPTS();
	return status == HTTP_CLIENT_STOPPED ? HTTP_CLIENT_FAILED : status;
}
