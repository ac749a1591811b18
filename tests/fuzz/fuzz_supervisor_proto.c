/*-------------------------------------------------------------------------
 *
 * fuzz_supervisor_proto.c
 *	  libFuzzer target for the supervisor's side of the agent protocol
 *	  (supervisor/proto.c, supervisor/PROTOCOL.md): the request file
 *	  pg_ha.request, the api_url of a hand-over, and the field of the
 *	  agent's /patroni reply the hand-over waits for.
 *
 * The input is one byte of options and the request file's text.  Checked,
 * besides memory safety (every buffer exactly its size):
 *   - a rejected request gets a message, NUL-terminated in its buffer,
 *     however small; an accepted one has an action, a leader and a
 *     conninfo, and an api_url for a hand-over;
 *   - an accepted request written back (values quoted) parses to the same;
 *   - a request written as the agent writes it (extension/ha_local.c:
 *     "key = value" lines, unquoted) from values taken from the input
 *     parses to exactly those values, when they are ones the agent can
 *     write (one line, no blanks at the ends);
 *   - url_parse on the api_url (or the input): what it accepts fits the
 *     buffers, has a port and a path, holds only visible ASCII (it goes
 *     into the request line and the Host header), and written back parses
 *     the same;
 *   - patroni_received_location finds the number a /patroni body holds.
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "fuzz_check.h"
#include "fuzz_out.h"

#define OUT_CAP 8192

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static bool
same_request(const Request *a, const Request *b)
{
	return a->action == b->action && strcmp(a->leader, b->leader) == 0 &&
		strcmp(a->conninfo, b->conninfo) == 0 && strcmp(a->api_url, b->api_url) == 0 &&
		strcmp(a->reason, b->reason) == 0 && a->reply_token == b->reply_token &&
		a->timeout_s == b->timeout_s;
}

static void
check_accepted(const Request *r)
{
	CHECK(r->action == REQ_REJOIN || r->action == REQ_HANDOVER || r->action == REQ_REINIT ||
		  r->action == REQ_RESTART);
	/* a restart needs no leader; the others do */
	CHECK(terminated(r->leader, sizeof(r->leader)) && (r->leader[0] != '\0' || r->action == REQ_RESTART));
	CHECK(terminated(r->conninfo, sizeof(r->conninfo)) &&
		  (r->conninfo[0] != '\0' || r->action == REQ_RESTART));
	CHECK(r->timeout_s >= 0 && r->timeout_s <= 86400);
	CHECK(terminated(r->api_url, sizeof(r->api_url)));
	CHECK(terminated(r->reason, sizeof(r->reason)));
	if (r->action == REQ_HANDOVER)
		CHECK(r->api_url[0] != '\0');
}

/* Written back with every value quoted (the parser strips one pair). */
static void
check_written_back(const Request *r)
{
	char		buf[OUT_CAP];
	FuzzOut		o = {buf, sizeof(buf), 0};
	Request		again;
	char		err[128];

	fuzz_out(&o, "# written back\naction = %s\n", request_action_name(r->action));
	fuzz_out(&o, "leader = '%s'\nconninfo = '%s'\n", r->leader, r->conninfo);
	fuzz_out(&o, "api_url = '%s'\nreason = '%s'\nfuture_key = 1\n", r->api_url, r->reason);
	if (r->reply_token)
		fuzz_out(&o, "reply_token = %llu\n", (unsigned long long) r->reply_token);
	if (r->timeout_s)
		fuzz_out(&o, "timeout = %d\n", r->timeout_s);
	CHECK(request_parse(o.buf, o.len, &again, err, sizeof(err)));
	CHECK(same_request(r, &again));
}

/* A value the agent can write: one line, nothing the parser trims. */
static bool
agent_writable(const char *v, size_t cap)
{
	size_t		n = strlen(v);

	if (n == 0 || n >= cap || strpbrk(v, "\n") != NULL)
		return false;
	if (v[0] == ' ' || v[0] == '\t')
		return false;
	if (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r')
		return false;
	return !(n >= 2 && v[0] == '\'' && v[n - 1] == '\'');
}

/* Values from the input, "\0"-separated, written as the agent does. */
static void
check_agent_writer(const uint8_t *data, size_t size, uint8_t opt)
{
	char		v[4][600];
	size_t		pos = 0;
	Request		r;
	char		err[128];
	char		buf[OUT_CAP];
	FuzzOut		o = {buf, sizeof(buf), 0};
	bool		handover = opt & 1;

	for (int i = 0; i < 4; i++)
	{
		size_t		n = 0;

		while (pos < size && data[pos] != '\0' && n < sizeof(v[i]) - 1)
			v[i][n++] = (char) data[pos++];
		v[i][n] = '\0';
		while (pos < size && data[pos] != '\0')
			pos++;
		pos++;
	}
	if (!agent_writable(v[0], sizeof(r.leader)) || !agent_writable(v[1], sizeof(r.conninfo)) ||
		!agent_writable(v[2], sizeof(r.api_url)) || !agent_writable(v[3], sizeof(r.reason)))
		return;
	fuzz_out(&o, "action = %s\n", handover ? "handover" : "rejoin");
	fuzz_out(&o, "leader = %s\nconninfo = %s\n", v[0], v[1]);
	if (handover || (opt & 2))
		fuzz_out(&o, "api_url = %s\n", v[2]);
	fuzz_out(&o, "reason = %s\n", v[3]);
	CHECK(request_parse(o.buf, o.len, &r, err, sizeof(err)));
	CHECK(r.action == (handover ? REQ_HANDOVER : REQ_REJOIN));
	CHECK(strcmp(r.leader, v[0]) == 0 && strcmp(r.conninfo, v[1]) == 0);
	CHECK(strcmp(r.api_url, handover || (opt & 2) ? v[2] : "") == 0);
	CHECK(strcmp(r.reason, v[3]) == 0);
}

static bool
clean(const char *s)
{
	for (; *s; s++)
		if ((unsigned char) *s <= 0x20 || (unsigned char) *s >= 0x7f)
			return false;
	return true;
}

static void
check_url(const char *url, size_t hostlen, size_t pathlen)
{
	char	   *host = malloc(hostlen);
	char	   *path = malloc(pathlen);
	char		host2[300];
	char		path2[300];
	char		again[700];
	int			port = -1;
	int			port2 = -1;

	CHECK(host != NULL && path != NULL);
	if (url_parse(url, host, hostlen, &port, path, pathlen))
	{
		CHECK(strncmp(url, "http://", 7) == 0);
		CHECK(terminated(host, hostlen) && host[0] != '\0');
		CHECK(terminated(path, pathlen) && path[0] == '/');
		CHECK(port >= 1 && port <= 65535);
		CHECK(clean(host) && clean(path));
		snprintf(again, sizeof(again),
				 strpbrk(host, ":/") || host[0] == '[' ? "http://[%s]:%d%s" : "http://%s:%d%s",
				 host, port, path);
		CHECK(url_parse(again, host2, sizeof(host2), &port2, path2, sizeof(path2)));
		CHECK(strcmp(host, host2) == 0 && port == port2 && strcmp(path, path2) == 0);
	}
	free(host);
	free(path);
}

static void
check_patroni(const uint8_t *data, size_t size)
{
	char	   *copy = malloc(size ? size : 1);
	uint64_t	v = 0;
	uint64_t	got = 0;
	char		body[200];
	int			n;

	CHECK(copy != NULL);
	memcpy(copy, data, size);
	(void) patroni_received_location(copy, size, &got);
	free(copy);
	if (size >= 8)
		memcpy(&v, data, 8);
	n = snprintf(body, sizeof(body),
				 "{\"state\": \"running\", \"xlog\": {\"replayed_location\": 1, "
				 "\"received_location\": %" PRIu64 "}, \"timeline\": 2}", v);
	CHECK(patroni_received_location(body, (size_t) n, &got) && got == v);
	/* cut before the number ends: not a number yet */
	CHECK(!patroni_received_location(body, (size_t) n - 17, &got));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text;
	char	   *err;
	size_t		errlen;
	Request		r;
	uint8_t		opt;
	char		url[300];
	size_t		ul = 0;

	if (size < 1)
		return 0;
	opt = data[0];
	data++;
	size--;
	errlen = (opt & 0xf0) == 0xf0 ? (size_t) (opt & 0x0f) + 1 : 256;
	/* exactly sized, so a read past the end is an ASan report */
	text = malloc(size ? size : 1);
	err = malloc(errlen);
	CHECK(text != NULL && err != NULL);
	memcpy(text, data, size);
	err[0] = '\0';

	if (request_parse(text, size, &r, err, errlen))
	{
		check_accepted(&r);
		check_written_back(&r);
		snprintf(url, sizeof(url), "%s", r.api_url);
	}
	else
	{
		CHECK(terminated(err, errlen));
		CHECK(errlen == 1 || err[0] != '\0');
		/* the input's first line, as an api_url */
		while (ul < size && ul < sizeof(url) - 1 && data[ul] != '\n' && data[ul] != '\0')
		{
			url[ul] = (char) data[ul];
			ul++;
		}
		url[ul] = '\0';
	}
	free(text);
	free(err);

	check_url(url, 256, 256);
	check_url(url, 1 + (opt & 15), 1 + ((opt >> 4) & 15));
	check_agent_writer(data, size, opt);
	check_patroni(data, size);
	return 0;
}
