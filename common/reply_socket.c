/*-------------------------------------------------------------------------
 *
 * reply_socket.c
 *	  The address of the supervisor's reply socket (see reply_socket.h).
 *
 *-------------------------------------------------------------------------
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "reply_socket.h"

socklen_t
reply_socket_addr(pid_t supervisor_pid, struct sockaddr_un *addr)
{
	int			n;

	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	/* abstract: sun_path[0] is NUL, the name follows (not NUL-terminated) */
	n = snprintf(addr->sun_path + 1, sizeof(addr->sun_path) - 1,
				 "pg_ha_supervisor.%ld", (long) supervisor_pid);
	return (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + n);
}
