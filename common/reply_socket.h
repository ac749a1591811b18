/*-------------------------------------------------------------------------
 *
 * reply_socket.h
 *	  The supervisor's reply socket (supervisor/PROTOCOL.md, "Answering a
 *	  client"): a Unix datagram socket in the abstract namespace, named
 *	  after the supervisor's pid, over which the agent hands it an HTTP
 *	  client (SCM_RIGHTS) that only the supervisor can answer, because
 *	  postgres is down by then (POST /restart).  The message's payload is
 *	  "token=<n>", the reply_token of the request it belongs to.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPLY_SOCKET_H
#define REPLY_SOCKET_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#define REPLY_PAYLOAD_CAP	64

/* Fills addr with the socket's address for that supervisor; returns its length. */
extern socklen_t reply_socket_addr(pid_t supervisor_pid, struct sockaddr_un *addr);

#endif							/* REPLY_SOCKET_H */
