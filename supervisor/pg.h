/*-------------------------------------------------------------------------
 *
 * pg.h
 *	  The node's postgres: its data directory (the files of PROTOCOL.md),
 *	  the postmaster child, pg_controldata, and the replication connection
 *	  to a leader that the rewind decision needs.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SUP_PG_H
#define SUP_PG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "rewind.h"

typedef enum DirKind
{
	DIR_MISSING,
	DIR_EMPTY,
	DIR_DATA,					/* has PG_VERSION */
	DIR_OTHER,					/* not empty, not a data directory */
	DIR_ERROR					/* cannot be read */
} DirKind;

extern DirKind pgd_dir_kind(const char *dir);

/* path of a file in the data directory (static buffer, one per call site use) */
extern void pgd_path(const NodeConf *c, const char *file, char *buf, size_t cap);

/* Writes a file atomically: .tmp, fsync, rename, fsync of the directory. */
extern bool pgd_write_atomic(const char *path, const char *data, size_t len);

/* Reads a whole (small) file into a malloc'd NUL-terminated buffer. */
extern char *pgd_read_file(const char *path, size_t *len);

extern bool pgd_controldata(const NodeConf *c, ControlData *cd);

/* The configuration files of PROTOCOL.md. */
extern bool pgd_write_pg_ha_conf(const NodeConf *c);
extern bool pgd_ensure_includes(const NodeConf *c);
extern bool pgd_clean_auto_conf(const NodeConf *c);

/*
 * Writes pg_ha.runtime.conf for a standby: primary_conninfo from the
 * leader's "host=H port=P" (NULL: empty, no upstream) plus our user,
 * password and application_name; recovery_target_timeline = 'latest'.
 */
extern bool pgd_write_runtime_conf(const NodeConf *c, const char *leader_conninfo);
extern bool pgd_set_standby(const NodeConf *c, bool standby);
/* Creates (durably) or removes an empty flag file. */
extern bool pgd_flag_file(const char *path, bool present);
extern bool pgd_is_standby(const NodeConf *c);

/* Removes files a clone or pg_rewind brought over from the source. */
extern void pgd_forget_source_files(const NodeConf *c);

/* rm -rf, for directories this program made or moved aside. */
extern bool pgd_remove_tree(const char *path);

/* ---- the postmaster ---- */

extern bool pg_start(const NodeConf *c, const char *why);
extern pid_t pg_pid(void);
extern bool pg_running(void);
extern long long pg_started_at(void);

/* Reaps postgres if it exited: returns true once, with its wait status. */
extern bool pg_reap(int *status);

/*
 * Sends sig (SIGINT fast, SIGQUIT immediate) and waits for postgres to
 * exit; after timeout_ms escalates to SIGQUIT, then SIGKILL of its
 * process group.  Returns the wait status (or -1 if it was not running).
 */
extern int	pg_stop(int sig, int timeout_ms, const char *why);

/* Waits until the postmaster says it accepts connections (or is a standby). */
extern bool pg_wait_ready(const NodeConf *c, int timeout_ms);

/* Waits until no process of a dead postmaster holds its shared memory. */
extern bool pg_wait_shmem_free(const NodeConf *c, int timeout_ms);

/* A postmaster that is not our child runs on the data directory: its pid, else 0. */
extern pid_t pg_foreign_postmaster(const NodeConf *c);

/* ---- the leader, over a replication connection ---- */

typedef struct LeaderInfo
{
	uint64_t	system_id;
	uint32_t	timeline;
	uint64_t	xlogpos;
	bool		in_recovery;	/* still a standby (promotion not finished) */
	char		history[8192];	/* TIMELINE_HISTORY of timeline ("" for 1) */
} LeaderInfo;

/* leader_conninfo: "host=H port=P" */
extern bool pg_leader_info(const NodeConf *c, const char *leader_conninfo, LeaderInfo *li,
						   char *err, size_t errlen);

/* Runs CHECKPOINT on the leader as the superuser (pg_rewind reads its control file). */
extern bool pg_leader_checkpoint(const NodeConf *c, const char *leader_conninfo,
								 char *err, size_t errlen);

/* Password in the environment of a child: "PGPASSWORD=..." (static buffer). */
extern const char *pg_password_env(const char *password);

#endif							/* SUP_PG_H */
