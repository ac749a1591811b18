/*-------------------------------------------------------------------------
 *
 * datadir.h
 *	  The node's data directory: the files of PROTOCOL.md, standby.signal,
 *	  pg_controldata, and removing what this program made.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SUP_DATADIR_H
#define SUP_DATADIR_H

#include <stdbool.h>
#include <stddef.h>

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

#endif							/* SUP_DATADIR_H */
