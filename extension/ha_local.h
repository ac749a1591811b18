/*-------------------------------------------------------------------------
 *
 * ha_local.h
 *	  What the agent does to its own postgres: promote, point replication
 *	  at the leader or name the synchronous standby (pg_ha.runtime.conf +
 *	  reload), stop accepting writes, and ask the supervisor for what
 *	  postgres cannot do to itself (see supervisor/PROTOCOL.md).
 *
 *-------------------------------------------------------------------------
 */
#ifndef HA_LOCAL_H
#define HA_LOCAL_H

#include "lib/stringinfo.h"

#define HA_RUNTIME_CONF		"pg_ha.runtime.conf"
#define HA_DYNAMIC_CONF		"pg_ha.dynamic.conf"
#define HA_REQUEST_FILE		"pg_ha.request"
#define HA_NODE_ID_FILE		"pg_ha.node"	/* the agent ran here before */
#define HA_RECLONE_FILE		"pg_ha.reclone"	/* automatic re-clones asked for here */

/* pid of pg_ha_supervisor (PG_HA_SUPERVISOR_PID), 0 when unsupervised */
extern pid_t ha_supervisor_pid(void);

/* Writes contents to path (in the data directory): path.tmp, fsync, rename. */
extern bool ha_write_file_durably(const char *path, const char *contents);

/* Asks postgres to leave recovery, as pg_promote() does. */
extern bool ha_promote(void);

/*
 * Writes pg_ha.runtime.conf (atomically) and reloads postgres, unless it
 * already says exactly this.  conninfo "" = no upstream; slot "" = none
 * (the supervisor writes the same file when it prepares a standby: the
 * same values, or the WAL receiver restarts).
 */
extern void ha_write_runtime_conf(const char *primary_conninfo,
								  const char *primary_slot_name,
								  const char *synchronous_standby_names);

/* Appends "name = 'value'" (quoted for postgresql.conf) and a newline. */
extern void ha_append_conf_setting(StringInfo s, const char *name, const char *value);

/*
 * Writes pg_ha.dynamic.conf (the cluster's /config as settings: text is
 * its lines) atomically and reloads postgres, unless it already says
 * exactly this.  Returns whether the file now holds text.
 */
extern bool ha_write_dynamic_conf(const char *text);

/*
 * Leaves a request for the supervisor (action "rejoin", "handover" or
 * "reinit"; leader, conninfo and api_url may be NULL); with shutdown_now,
 * stops accepting writes at once: fast shutdown of this postgres.  Returns whether
 * the request file was written (false: unsupervised, or it failed, logged).
 */
extern bool ha_request_supervisor(const char *action, const char *leader,
								  const char *conninfo, const char *api_url,
								  const char *reason, bool shutdown_now);

/*
 * Hands the HTTP client on sock to the supervisor (SCM_RIGHTS over its
 * reply socket, common/reply_socket.h), which answers it once the request
 * with this reply_token is carried out.  False: nobody took it, answer it
 * here.  The caller closes its own descriptor either way.
 */
extern bool ha_hand_client_to_supervisor(int sock, uint64 token);

/*
 * Asks the supervisor to restart postgres in place (action "restart";
 * reply_token 0: no client waits).  The agent does not stop postgres
 * itself: the supervisor does, and starts it again.  False if unsupervised
 * or the request could not be written.
 */
extern bool ha_request_restart(const char *reason, uint64 reply_token);

/*
 * Reads pg_wal/<timeline>.history into buf (at most cap - 1 bytes, NUL
 * added); returns its length, or -1 (with a LOG line) if it cannot be read.
 */
extern int	ha_read_timeline_history(uint32 timeline, char *buf, int cap);

#endif							/* HA_LOCAL_H */
