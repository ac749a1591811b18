/*-------------------------------------------------------------------------
 *
 * http_client.c
 *	  A minimal HTTP/1.0 client (see http_client.h): non-blocking connect
 *	  and I/O under one deadline, so an unreachable or slow peer cannot
 *	  hold up the hand-over or a backend; waits are cut into slices with
 *	  the caller's keep_waiting() between them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_client.h"

#define RESPONSE_CAP	(64 * 1024)

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1: ready, 0: deadline passed or error, HTTP_CLIENT_STOPPED: the caller said stop */
static int
wait_fd(const HttpCall *call, int fd, short events, long long deadline)
{
	for (;;)
	{
		struct pollfd p = {fd, events, 0};
		long long	left = deadline - mono_ms();
		int			rc;

		if (left <= 0)
			return 0;
		if (left > HTTP_CLIENT_SLICE_MS)
			left = HTTP_CLIENT_SLICE_MS;
		rc = poll(&p, 1, (int) left);
		if (rc > 0)
			return 1;
		if (rc < 0 && errno != EINTR)
			return 0;
		if (call->keep_waiting && !call->keep_waiting(call->arg))
			return HTTP_CLIENT_STOPPED;
	}
}

/* Connects within the deadline; the socket, or -1 with *status set. */
static int
connect_to(const HttpCall *call, long long deadline, int *status)
{
	char		host[256],
				portstr[8];
	size_t		hlen = strlen(call->host);
	struct addrinfo hints,
			   *ai = NULL;
	int			fd;

	/* "[::1]" as a URL writes it */
	if (hlen >= 2 && call->host[0] == '[' && call->host[hlen - 1] == ']')
		snprintf(host, sizeof(host), "%.*s", (int) (hlen - 2), call->host + 1);
	else
		snprintf(host, sizeof(host), "%s", call->host);
	snprintf(portstr, sizeof(portstr), "%d", call->port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(host, portstr, &hints, &ai) != 0 || ai == NULL)
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
	{
		int			err = 0;
		socklen_t	el = sizeof(err);
		int			w = errno == EINPROGRESS ? wait_fd(call, fd, POLLOUT, deadline) : 0;

		if (w != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0)
		{
			if (w == HTTP_CLIENT_STOPPED)
				*status = HTTP_CLIENT_STOPPED;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	return fd;
}

static int
send_all(const HttpCall *call, int fd, const char *data, size_t n, long long deadline)
{
	size_t		off = 0;

	while (off < n)
	{
		ssize_t		w = send(fd, data + off, n - off, MSG_NOSIGNAL);

		if (w > 0)
			off += (size_t) w;
		else if (w < 0 && (errno == EAGAIN || errno == EINTR))
		{
			int			r = wait_fd(call, fd, POLLOUT, deadline);

			if (r != 1)
				return r == HTTP_CLIENT_STOPPED ? r : HTTP_CLIENT_FAILED;
		}
		else
			return HTTP_CLIENT_FAILED;
	}
	return 0;
}

/* The status line and the body of resp (rlen bytes, NUL-terminated). */
static int
parse_response(const char *resp, size_t rlen, char *body, size_t cap, size_t *len)
{
	int			code;
	const char *hdr_end = strstr(resp, "\r\n\r\n");

	if (sscanf(resp, "HTTP/%*d.%*d %d", &code) != 1)
		return HTTP_CLIENT_FAILED;
	if (hdr_end)
	{
		size_t		blen = rlen - (size_t) (hdr_end + 4 - resp);

		if (cap > 0)
		{
			if (blen >= cap)
				blen = cap - 1;
			memcpy(body, hdr_end + 4, blen);
			body[blen] = '\0';
		}
		if (len)
			*len = cap > 0 ? blen : 0;
	}
	return code;
}

int
http_call(const HttpCall *call, char *body, size_t cap, size_t *len)
{
	long long	deadline = mono_ms() + call->timeout_ms;
	char		head[2048];
	char	   *resp = NULL;
	size_t		rlen = 0;
	int			status = HTTP_CLIENT_FAILED;
	int			fd;
	int			n;

	if (cap > 0)
		body[0] = '\0';
	if (len)
		*len = 0;
	n = snprintf(head, sizeof(head),
				 "%s %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: %s\r\n%s",
				 call->method, call->path, call->host,
				 call->user_agent ? call->user_agent : "pg_ha",
				 call->headers ? call->headers : "");
	if (n > 0 && (size_t) n < sizeof(head) && call->body)
		n += snprintf(head + n, sizeof(head) - (size_t) n,
					  "Content-Type: application/json\r\nContent-Length: %zu\r\n",
					  call->body_len);
	if (n > 0 && (size_t) n < sizeof(head))
		n += snprintf(head + n, sizeof(head) - (size_t) n, "\r\n");
	if (n < 0 || (size_t) n >= sizeof(head))
		return HTTP_CLIENT_FAILED;

	fd = connect_to(call, deadline, &status);
	if (fd < 0)
		return status;
	status = send_all(call, fd, head, (size_t) n, deadline);
	if (status == 0 && call->body)
		status = send_all(call, fd, call->body, call->body_len, deadline);
	if (status == 0)
		resp = malloc(RESPONSE_CAP);
	status = resp ? 0 : (status ? status : HTTP_CLIENT_FAILED);
	while (status == 0 && rlen + 1 < RESPONSE_CAP)
	{
		ssize_t		r = recv(fd, resp + rlen, RESPONSE_CAP - 1 - rlen, 0);

		if (r > 0)
			rlen += (size_t) r;
		else if (r == 0)
			break;
		else if (errno == EAGAIN || errno == EINTR)
		{
			int			w = wait_fd(call, fd, POLLIN, deadline);

			if (w != 1)
				status = w == HTTP_CLIENT_STOPPED ? w : HTTP_CLIENT_FAILED;
		}
		else
			status = HTTP_CLIENT_FAILED;
	}
	if (status == 0)
	{
		resp[rlen] = '\0';
		status = parse_response(resp, rlen, body, cap, len);
	}
	free(resp);
	close(fd);
	return status;
}
