/*-------------------------------------------------------------------------
 *
 * zk.h
 *	  The supervisor's ZooKeeper session: libzookeeper_mt's synchronous API
 *	  behind a small wrapper.  A call is made only while the session is
 *	  connected, so no call waits for a connection that is not there; the
 *	  supervisor owns no ephemeral node, so its session may come and go.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SUP_ZK_H
#define SUP_ZK_H

#include <stdbool.h>
#include <stdint.h>

#include <zookeeper/zookeeper.h>

#include "ha_types.h"

/* Paths, derived from namespace and scope. */
typedef struct ZkPaths
{
	char		scope[512];		/* /service/<scope> */
	char		members[600];
	char		leader[600];
	char		initialize[600];
	char		sync[600];		/* Patroni's {"leader", "sync_standby"} (cluster_keys.h) */
	char		config[600];	/* the dynamic configuration (dyn_config.h) */
} ZkPaths;

extern void zkc_setup(const char *hosts, int session_timeout_ms,
					  const char *namespace_, const char *scope);
extern const ZkPaths *zkc_paths(void);

/*
 * Makes sure a session is connected, waiting at most wait_ms (while
 * relaying postgres' output; a stop signal ends the wait).  Starts a new
 * session when there is none or it expired.
 */
extern bool zkc_connect(int wait_ms);
extern bool zkc_connected(void);
extern void zkc_close(void);

/* Return ZOK, ZNONODE, ZNODEEXISTS, ... or ZCONNECTIONLOSS when not connected. */
extern int	zkc_get(const char *path, char *buf, int cap, int *len, struct Stat *st);
extern int	zkc_create(const char *path, const char *data, int len);	/* persistent */
extern int	zkc_set(const char *path, const char *data, int len, int version);
extern int	zkc_delete(const char *path, int version);
extern int	zkc_children(const char *path, struct String_vector *out);

/* Creates /namespace, /namespace/scope and .../members (persistent). */
extern int	zkc_ensure_parents(void);

/* Leader's name ("" when there is none); returns ZOK/ZNONODE/error. */
extern int	zkc_leader(char *name, size_t cap, struct Stat *st);

/* Reads and parses /members/<name>. */
extern int	zkc_member(const char *name, HaMember *m);

/*
 * Reads every member but skip_name; returns the count (at most max), or
 * -1 when ZooKeeper could not be read.
 */
extern int	zkc_members(HaMember *out, int max, const char *skip_name);

/*
 * Is the cluster paused (maintenance mode: "pause": true in /config)?
 * ZOK with *paused set, ZNONODE (no /config: not paused), or the error.
 */
extern int	zkc_cluster_paused(bool *paused);

#endif							/* SUP_ZK_H */
