/*-------------------------------------------------------------------------
 *
 * replies.c
 *	  The reply socket (see replies.h): a Unix datagram socket in the
 *	  abstract namespace; each message carries one client's descriptor
 *	  (SCM_RIGHTS) and "token=<n>".  The kernel adds the sender's
 *	  credentials (SO_PASSCRED): a client from any other user is closed
 *	  unanswered.  At most REPLIES_MAX clients wait; each is answered once,
 *	  then closed.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "json_writer.h"
#include "log.h"
#include "replies.h"
#include "reply_socket.h"
#include "run.h"

#define REPLIES_MAX			16
#define REPLIES_UNCLAIMED_MS	30000	/* a request comes right after its client */
#define REPLIES_MAX_FDS		4	/* per message; more are closed */

typedef struct Waiting
{
	int			fd;				/* -1: free */
	uint64_t	token;
	long long	since;
} Waiting;

static int	sock = -1;
static Waiting waiting[REPLIES_MAX];

bool
replies_open(void)
{
	struct sockaddr_un addr;
	socklen_t	len = reply_socket_addr(getpid(), &addr);
	int			on = 1;

	for (int i = 0; i < REPLIES_MAX; i++)
		waiting[i].fd = -1;
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (sock < 0 || setsockopt(sock, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) != 0 ||
		bind(sock, (struct sockaddr *) &addr, len) != 0)
	{
		sup_log("replies: cannot open the reply socket: %s (a POST /restart is then answered 503)",
				strerror(errno));
		if (sock >= 0)
			close(sock);
		sock = -1;
		return false;
	}
	return true;
}

/* Writes one small HTTP/1.0 answer, without waiting on a slow client. */
static void
answer_fd(int fd, int status, const char *message, const char *hint)
{
	char		body[768];
	char		out[1024];
	JsonBuf		jb;
	int			n;

	json_init(&jb, body, sizeof(body));
	json_answer(&jb, status >= 400, message, hint);
	n = snprintf(out, sizeof(out),
				 "HTTP/1.0 %d %s\r\nContent-Type: application/json\r\n"
				 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
				 status, status == 200 ? "OK" : "Service Unavailable", jb.len, jb.data);
	if (n > 0 && (size_t) n < sizeof(out))
		(void) send(fd, out, (size_t) n, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static void
keep(int fd, uint64_t token)
{
	for (int i = 0; i < REPLIES_MAX; i++)
		if (waiting[i].fd < 0)
		{
			waiting[i].fd = fd;
			waiting[i].token = token;
			waiting[i].since = now_ms();
			return;
		}
	answer_fd(fd, 503, "too many clients wait for this node's supervisor", NULL);
}

void
replies_collect(void)
{
	if (sock < 0)
		return;
	for (int burst = 0; burst < REPLIES_MAX * 2; burst++)
	{
		char		payload[REPLY_PAYLOAD_CAP + 1];
		union
		{
			struct cmsghdr align;
			char		buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * REPLIES_MAX_FDS)];
		}			control;
		struct iovec iov = {.iov_base = payload, .iov_len = REPLY_PAYLOAD_CAP};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf)};
		ssize_t		n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		int			fds[REPLIES_MAX_FDS];
		int			nfds = 0;
		bool		ours = false;
		uint64_t	token = 0;
		char	   *end;

		if (n < 0)
			return;				/* EAGAIN: all taken */
		payload[n] = '\0';
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		{
			if (c->cmsg_level != SOL_SOCKET)
				continue;
			if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(struct ucred)))
			{
				struct ucred cred;

				memcpy(&cred, CMSG_DATA(c), sizeof(cred));
				ours = cred.uid == geteuid();
			}
			else if (c->cmsg_type == SCM_RIGHTS)
			{
				size_t		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

				for (size_t i = 0; i < k; i++)
				{
					int			fd;

					memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
					if (nfds < REPLIES_MAX_FDS)
						fds[nfds++] = fd;
					else
						close(fd);
				}
			}
		}
		if (strncmp(payload, "token=", 6) == 0)
			token = strtoull(payload + 6, &end, 10);
		if (!ours || nfds != 1 || token == 0)
		{
			sup_log("replies: dropping a message on the reply socket (%s)",
					!ours ? "not from this user" : nfds != 1 ? "not one client" : "no token");
			for (int i = 0; i < nfds; i++)
				close(fds[i]);
			continue;
		}
		keep(fds[0], token);
	}
}

void
replies_answer(uint64_t token, int status, const char *message, const char *hint)
{
	for (int i = 0; i < REPLIES_MAX; i++)
		if (waiting[i].fd >= 0 && waiting[i].token == token)
		{
			answer_fd(waiting[i].fd, status, message, hint);
			waiting[i].fd = -1;
		}
}

void
replies_expire(long long now)
{
	replies_collect();
	for (int i = 0; i < REPLIES_MAX; i++)
		if (waiting[i].fd >= 0 && now - waiting[i].since >= REPLIES_UNCLAIMED_MS)
		{
			sup_log("replies: no request came for a client handed over %lld s ago; answering 503",
					(now - waiting[i].since) / 1000);
			answer_fd(waiting[i].fd, 503, "restart failed",
					  "The supervisor got no restart request for this client; nothing was done.");
			waiting[i].fd = -1;
		}
}
