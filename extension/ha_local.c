/*-------------------------------------------------------------------------
 *
 * ha_local.c
 *	  Actions of the agent on its own postgres (see ha_local.h).
 *
 * All files are written in the data directory (the agent's working
 * directory) atomically: a temporary file, fsync, durable rename.  Signals
 * go to the postmaster: SIGUSR1 with the promote file (exactly what
 * pg_promote() does), SIGHUP to reload, SIGINT for a fast shutdown.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/memutils.h"

#include "ha_local.h"
#include "reply_socket.h"

static char *runtime_conf_written = NULL;	/* what we last wrote, in TopMemoryContext */
static char *dynamic_conf_written = NULL;

pid_t
ha_supervisor_pid(void)
{
	const char *s = getenv("PG_HA_SUPERVISOR_PID");
	long		pid;
	char	   *end;

	if (s == NULL || *s == '\0')
		return 0;
	pid = strtol(s, &end, 10);
	/* 1 is valid: in a container the supervisor is PID 1 */
	if (*end != '\0' || pid < 1)
		return 0;
	return (pid_t) pid;
}

bool
ha_write_file_durably(const char *path, const char *contents)
{
	char		tmp[MAXPGPATH];
	FILE	   *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = AllocateFile(tmp, "w");
	if (f == NULL)
	{
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("pg_ha: could not create \"%s\": %m", tmp)));
		return false;
	}
	if (fputs(contents, f) < 0 || fflush(f) != 0 || pg_fsync(fileno(f)) != 0)
	{
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("pg_ha: could not write \"%s\": %m", tmp)));
		FreeFile(f);
		unlink(tmp);
		return false;
	}
	if (FreeFile(f) != 0 || durable_rename(tmp, path, WARNING) != 0)
	{
		unlink(tmp);
		return false;
	}
	return true;
}

bool
ha_promote(void)
{
	FILE	   *f = AllocateFile(PROMOTE_SIGNAL_FILE, "w");

	if (f == NULL || FreeFile(f) != 0)
	{
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("pg_ha: could not create promote signal file \"%s\": %m",
						PROMOTE_SIGNAL_FILE)));
		return false;
	}
	if (kill(PostmasterPid, SIGUSR1) != 0)
	{
		ereport(WARNING,
				(errmsg("pg_ha: could not signal the postmaster to promote: %m")));
		return false;
	}
	return true;
}

void
ha_append_conf_setting(StringInfo s, const char *name, const char *value)
{
	appendStringInfo(s, "%s = '", name);
	for (const char *p = value; *p; p++)
	{
		if (*p == '\'' || *p == '\\')
			appendStringInfoChar(s, *p);
		appendStringInfoChar(s, *p);
	}
	appendStringInfoString(s, "'\n");
}

/*
 * Writes a configuration file we own and reloads postgres, unless *written
 * (what we wrote last, in TopMemoryContext) is already exactly text.
 */
static bool
write_conf_and_reload(const char *path, const char *text, char **written)
{
	MemoryContext old;

	if (*written && strcmp(*written, text) == 0)
		return true;
	if (!ha_write_file_durably(path, text))
		return false;
	if (kill(PostmasterPid, SIGHUP) != 0)
		ereport(WARNING, (errmsg("pg_ha: could not signal the postmaster to reload: %m")));
	old = MemoryContextSwitchTo(TopMemoryContext);
	if (*written)
		pfree(*written);
	*written = pstrdup(text);
	MemoryContextSwitchTo(old);
	return true;
}

void
ha_write_runtime_conf(const char *primary_conninfo,
					  const char *primary_slot_name,
					  const char *synchronous_standby_names)
{
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfoString(&s,
						   "# Written by the pg_ha agent; changes at run time. Do not edit.\n");
	ha_append_conf_setting(&s, "primary_conninfo", primary_conninfo);
	ha_append_conf_setting(&s, "primary_slot_name", primary_slot_name);
	ha_append_conf_setting(&s, "recovery_target_timeline", "latest");
	ha_append_conf_setting(&s, "synchronous_standby_names", synchronous_standby_names);

	(void) write_conf_and_reload(HA_RUNTIME_CONF, s.data, &runtime_conf_written);
	pfree(s.data);
}

bool
ha_write_dynamic_conf(const char *text)
{
	return write_conf_and_reload(HA_DYNAMIC_CONF, text, &dynamic_conf_written);
}

/* A value for the request file: no control characters (a line break above all). */
static bool
request_value_ok(const char *v)
{
	if (v == NULL)
		return true;
	for (const unsigned char *p = (const unsigned char *) v; *p; p++)
		if (*p < 0x20 || *p == 0x7F)
			return false;
	return true;
}

/* Writes the request file and wakes the supervisor; false if the file could not be written. */
static bool
post_request(pid_t supervisor, const char *text)
{
	if (!ha_write_file_durably(HA_REQUEST_FILE, text))
		return false;
	if (kill(supervisor, SIGUSR1) != 0)
		ereport(LOG,
				(errmsg("pg_ha: could not signal the supervisor (pid %d): %m",
						(int) supervisor),
				 errdetail("It reads the request file within a second anyway.")));
	return true;
}

bool
ha_request_supervisor(const char *action, const char *leader,
					  const char *conninfo, const char *api_url,
					  const char *reason, bool shutdown_now)
{
	pid_t		supervisor = ha_supervisor_pid();
	StringInfoData s;
	bool		written = false;

	/*
	 * The values come from other members' znodes, which any ZooKeeper client
	 * may write: a line break would add lines to the request (a "leader ="
	 * of its own).  Such a request is not written.
	 */
	if (supervisor != 0 &&
		(!request_value_ok(leader) || !request_value_ok(conninfo) ||
		 !request_value_ok(api_url) || !request_value_ok(reason)))
	{
		ereport(WARNING,
				(errmsg("pg_ha: not asking the supervisor to %s: a value holds a line break or control character", action),
				 errdetail("The leader's member data in ZooKeeper is malformed; postgres stops if it had to.")));
		supervisor = 0;
	}
	if (supervisor != 0)
	{
		initStringInfo(&s);
		appendStringInfo(&s, "action = %s\n", action);
		if (leader)
			appendStringInfo(&s, "leader = %s\n", leader);
		if (conninfo)
			appendStringInfo(&s, "conninfo = %s\n", conninfo);
		if (api_url)
			appendStringInfo(&s, "api_url = %s\n", api_url);
		appendStringInfo(&s, "reason = %s\n", reason);
		written = post_request(supervisor, s.data);
		pfree(s.data);
	}

	if (shutdown_now)
	{
		/* SIGINT = fast shutdown: sessions end, no new ones, nothing acknowledged */
		if (kill(PostmasterPid, SIGINT) != 0)
			ereport(WARNING, (errmsg("pg_ha: could not stop the postmaster: %m")));
	}
	return written;
}

bool
ha_hand_client_to_supervisor(int sock, uint64 token)
{
	pid_t		supervisor = ha_supervisor_pid();
	struct sockaddr_un addr;
	socklen_t	addrlen;
	char		payload[REPLY_PAYLOAD_CAP];
	struct iovec iov;
	struct msghdr msg;
	union
	{
		struct cmsghdr align;
		char		buf[CMSG_SPACE(sizeof(int))];
	}			control;
	struct cmsghdr *cmsg;
	int			out;
	ssize_t		sent;

	if (supervisor == 0)
		return false;
	out = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (out < 0)
	{
		ereport(LOG, (errmsg("pg_ha: could not create a socket to the supervisor: %m")));
		return false;
	}
	addrlen = reply_socket_addr(supervisor, &addr);
	iov.iov_base = payload;
	iov.iov_len = snprintf(payload, sizeof(payload), "token=" UINT64_FORMAT, token);
	memset(&msg, 0, sizeof(msg));
	memset(&control, 0, sizeof(control));
	msg.msg_name = &addr;
	msg.msg_namelen = addrlen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control.buf;
	msg.msg_controllen = sizeof(control.buf);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &sock, sizeof(int));
	sent = sendmsg(out, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (sent < 0)
		ereport(LOG,
				(errmsg("pg_ha: could not hand an HTTP client to the supervisor (pid %d): %m",
						(int) supervisor),
				 errdetail("A supervisor older than the agent has no reply socket; the client is answered here.")));
	close(out);
	return sent >= 0;
}

bool
ha_request_restart(const char *reason, uint64 reply_token)
{
	pid_t		supervisor = ha_supervisor_pid();
	StringInfoData s;
	bool		ok;

	if (supervisor == 0 || !request_value_ok(reason))
		return false;
	initStringInfo(&s);
	appendStringInfoString(&s, "action = restart\n");
	if (reply_token != 0)
		appendStringInfo(&s, "reply_token = " UINT64_FORMAT "\n", reply_token);
	appendStringInfo(&s, "reason = %s\n", reason);
	ok = post_request(supervisor, s.data);
	pfree(s.data);
	return ok;
}

int
ha_read_timeline_history(uint32 timeline, char *buf, int cap)
{
	char		path[MAXPGPATH];
	FILE	   *f;
	size_t		n;

	Assert(cap > 0);
	TLHistoryFilePath(path, timeline);
	f = AllocateFile(path, PG_BINARY_R);
	if (f == NULL)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("pg_ha: could not open timeline history file \"%s\": %m", path)));
		return -1;
	}
	/* a long history: its newest lines, from the first whole one */
	if (fseeko(f, 0, SEEK_END) == 0 && ftello(f) > (off_t) cap - 1)
		(void) fseeko(f, -(off_t) (cap - 1), SEEK_END);
	else
		rewind(f);
	n = fread(buf, 1, (size_t) cap - 1, f);
	if (n == (size_t) cap - 1)
	{
		char	   *nl = memchr(buf, '\n', n);

		if (nl)
		{
			n -= (size_t) (nl + 1 - buf);
			memmove(buf, nl + 1, n);
		}
	}
	if (ferror(f))
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("pg_ha: could not read timeline history file \"%s\": %m", path)));
		FreeFile(f);
		return -1;
	}
	FreeFile(f);
	buf[n] = '\0';
	return (int) n;
}
