/*-------------------------------------------------------------------------
 *
 * fuzz_restart_body.c
 *	  libFuzzer target for POST /restart's body (extension/restart_rule.c),
 *	  which any client of the agent's API can send, and which the agent
 *	  parses inside postgres.
 *
 * Whatever the bytes: the parser answers 0, 400 or 422; a refusal says
 * why and leaves no half-read request; an accepted request holds only
 * values the rules allow (a role of Patroni's, a version of its form, a
 * timeout in range, a schedule not in the past), and its conditions can
 * be checked.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "restart_rule.h"

#define NOW_US	1796205600000000LL	/* 2026-12-02T10:00:00Z */

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *s = malloc(size ? size : 1);
	HaRestartRequest r;
	HaRestartFacts f = {.is_primary = size % 2, .server_version_num = 150004, .pending_restart = size % 3 == 0};
	char		err[256];
	int			status;

	CHECK(s != NULL);
	memcpy(s, data, size);
	status = ha_restart_parse(s, size, NOW_US, &r, err, sizeof(err));
	CHECK(status == 0 || status == 400 || status == 422);
	if (status != 0)
	{
		CHECK(err[0] != '\0');
		CHECK(!r.scheduled && r.role[0] == '\0' && r.postgres_version == 0 && r.timeout_s == 0);
	}
	else
	{
		CHECK(r.role[0] == '\0' || strcmp(r.role, "master") == 0 || strcmp(r.role, "replica") == 0);
		CHECK(r.postgres_version == 0 || ha_pg_version_to_int(r.postgres_version_text) == r.postgres_version);
		CHECK(r.timeout_s >= 0 && r.timeout_s <= 86400);
		CHECK(!r.scheduled || r.at_us >= NOW_US);
		CHECK(memchr(r.schedule, '\0', sizeof(r.schedule)) != NULL);
		(void) ha_restart_mismatch(&r, &f);
	}
	free(s);
	return 0;
}
