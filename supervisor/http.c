/*-------------------------------------------------------------------------
 *
 * http.c
 *	  A minimal HTTP/1.0 GET (see http.h): non-blocking connect and I/O
 *	  under one deadline, so an unreachable or slow agent cannot hold up
 *	  the hand-over.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "proto.h"
#include "run.h"

static bool
wait_fd(int fd, short events, long long deadline)
{
	for (;;)
	{
		struct pollfd p = {fd, events, 0};
		long long	left = deadline - now_ms();
		int			rc;

		if (left <= 0)
			return false;
		rc = poll(&p, 1, (int) left);
		if (rc > 0)
			return true;
		if (rc == 0)
			return false;
		if (errno != EINTR)
			return false;
	}
}

int
http_get(const char *url, int timeout_ms, char *body, size_t cap, size_t *len)
{
	char		host[256],
				path[512],
				portstr[8],
				req[1024];
	int			port;
	struct addrinfo hints,
			   *ai = NULL;
	int			fd = -1;
	long long	deadline = now_ms() + timeout_ms;
	char	   *resp = NULL;
	size_t		rlen = 0,
				rcap = 64 * 1024;
	int			status = -1;
	size_t		off = 0;
	int			n;

	if (cap > 0)
		body[0] = '\0';
	if (len)
		*len = 0;
	if (!url_parse(url, host, sizeof(host), &port, path, sizeof(path)))
		return -1;
	snprintf(portstr, sizeof(portstr), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(host, portstr, &hints, &ai) != 0 || ai == NULL)
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto out;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
	{
		int			err = 0;
		socklen_t	el = sizeof(err);

		if (errno != EINPROGRESS || !wait_fd(fd, POLLOUT, deadline) ||
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0)
			goto out;
	}
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: pg_ha_supervisor\r\n\r\n",
				 path, host);
	if (n < 0 || (size_t) n >= sizeof(req))
		goto out;
	while (off < (size_t) n)
	{
		ssize_t		w = send(fd, req + off, (size_t) n - off, MSG_NOSIGNAL);

		if (w > 0)
			off += (size_t) w;
		else if (w < 0 && (errno == EAGAIN || errno == EINTR))
		{
			if (!wait_fd(fd, POLLOUT, deadline))
				goto out;
		}
		else
			goto out;
	}
	resp = malloc(rcap);
	if (resp == NULL)
		goto out;
	for (;;)
	{
		ssize_t		r;

		if (rlen + 1 >= rcap)
			break;				/* enough for a status document */
		r = recv(fd, resp + rlen, rcap - 1 - rlen, 0);
		if (r > 0)
			rlen += (size_t) r;
		else if (r == 0)
			break;
		else if (errno == EAGAIN || errno == EINTR)
		{
			if (!wait_fd(fd, POLLIN, deadline))
				goto out;
		}
		else
			goto out;
	}
	resp[rlen] = '\0';
	{
		int			code;
		char	   *hdr_end = strstr(resp, "\r\n\r\n");

		if (sscanf(resp, "HTTP/%*d.%*d %d", &code) != 1)
			goto out;
		status = code;
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
	}
out:
	free(resp);
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return status;
}
