/*-------------------------------------------------------------------------
 *
 * fuzz_config.c
 *	  libFuzzer target for the /config key (common/dyn_config.c) and JSON
 *	  Merge Patch (common/json_merge.c), what PATCH /config runs.
 *
 * The first input byte picks the parser.  dyn_config_parse: whatever it
 * accepts renders, and parses again to the same configuration; a refusal
 * leaves the settings untouched and says why.  json_merge_patch (target
 * and patch split at the first newline): the result is one valid JSON
 * value, and applying the same patch again changes nothing (a merge patch
 * is idempotent).
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dyn_config.h"
#include "json_merge.h"
#include "json_reader.h"
#include "fuzz_check.h"

#define OUT_CAP		65536

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char out[OUT_CAP];
static char out2[OUT_CAP];

static void
fuzz_dyn_config(const char *s, size_t n)
{
	static HaDynConfig c,
				before,
				again;
	char		err[192] = "";
	JsonBuf		jb;

	dyn_config_defaults(&c);
	before = c;
	if (!dyn_config_parse(s, n, &c, err, sizeof(err)))
	{
		CHECK(err[0] != '\0');
		CHECK(memcmp(&c, &before, sizeof(c)) == 0);
		return;
	}
	CHECK(c.loop_wait < c.ttl && c.retry_timeout < c.ttl);
	CHECK(c.nparams >= 0 && c.nparams <= HA_DYN_MAX_PARAMS);
	json_init(&jb, out, sizeof(out));
	dyn_config_render(&c, &jb);
	CHECK(!jb.overflow);
	dyn_config_defaults(&again);
	CHECK(dyn_config_parse(out, jb.len, &again, err, sizeof(err)));
	CHECK(memcmp(&c, &again, sizeof(c)) == 0);
}

static void
fuzz_merge(const char *s, size_t n)
{
	const char *nl = memchr(s, '\n', n);
	size_t		tlen = nl ? (size_t) (nl - s) : n;
	const char *patch = nl ? nl + 1 : "";
	size_t		plen = nl ? n - tlen - 1 : 0;
	char		err[128];
	JsonBuf		jb,
				jb2;

	json_init(&jb, out, sizeof(out));
	if (!json_merge_patch(s, tlen, patch, plen, &jb, err, sizeof(err)) || jb.overflow)
		return;
	CHECK(json_is_value(out, jb.len));
	json_init(&jb2, out2, sizeof(out2));
	CHECK(json_merge_patch(out, jb.len, patch, plen, &jb2, err, sizeof(err)));
	CHECK(!jb2.overflow);
	CHECK(jb2.len == jb.len && memcmp(out, out2, jb.len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t		n = 0;
	char	   *s = fuzz_tail(data, size, &n);

	if (s == NULL)
		return 0;
	if (data[0] & 1)
		fuzz_merge(s, n);
	else
		fuzz_dyn_config(s, n);
	free(s);
	return 0;
}
