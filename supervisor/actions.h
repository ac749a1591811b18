/*-------------------------------------------------------------------------
 *
 * actions.h
 *	  The small actions the supervisor's rooms share (bootstrap.c,
 *	  rejoin.c, handover.c, node.c): the marker files beside the data
 *	  directory, the leader's name and address from ZooKeeper, running
 *	  PostgreSQL's programs, and starting as a standby.  They call only
 *	  pg.c, zk.c, run.c and the pure modules.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SUP_ACTIONS_H
#define SUP_ACTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "ha_types.h"

#define STOP_TIMEOUT_MS			60000
#define ZK_WAIT_MS				3000

/*
 * Markers beside the data directory: <data_dir>.pg_ha-cloning (it holds a
 * partial clone, made by us) and <data_dir>.pg_ha-rewinding (pg_rewind did
 * not finish).
 */
#define MARK_CLONING	".pg_ha-cloning"
#define MARK_REWINDING	".pg_ha-rewinding"

extern bool marker_exists(const NodeConf *c, const char *suffix);
extern bool marker_set(const NodeConf *c, const char *suffix, bool on);
extern bool member_conninfo(const HaMember *m, char *buf, size_t cap);
extern void fmt_lsn(uint64_t lsn, char *buf, size_t cap);
extern bool pause_ms(int ms);
extern bool zk_ready(void);
extern bool current_leader(char *name, size_t cap);
extern bool leader_conninfo(const char *leader, char *ci, size_t cap);
extern int run_simple(const char *label, const char *const *argv, const char *const *env,
		   const char *stdin_data, bool interruptible);
extern void bin_path(const NodeConf *c, const char *prog, char *buf, size_t cap);
extern int run_basebackup(const NodeConf *c, const char *conninfo);
extern bool run_crash_recovery(const NodeConf *c);
extern void remove_partial_clone(const NodeConf *c);
extern bool configure_standby(const NodeConf *c, const char *leader_ci);
extern bool start_fenced(const NodeConf *c, const char *why);

#endif							/* SUP_ACTIONS_H */
