/*-------------------------------------------------------------------------
 *
 * ha_zk.h
 *	  The agent's ZooKeeper session, made safe for a PostgreSQL process.
 *
 * libzookeeper_mt calls watchers and completions on its own threads, where
 * no PostgreSQL function may run.  Those callbacks only copy what they got
 * into malloc'd ZkEvents, queue them under a mutex and write a byte to a
 * pipe; the agent's main loop waits on the pipe's read end in its
 * WaitEventSet and handles every event on the main thread.
 *
 * Only asynchronous calls are offered: a synchronous one would block the
 * main loop (no latch, no interrupts, no postmaster-death check).
 *
 *-------------------------------------------------------------------------
 */
#ifndef HA_ZK_H
#define HA_ZK_H

#include <stdbool.h>
#include <stdint.h>

typedef enum ZkEventKind
{
	ZKEV_SESSION,				/* session state changed: state */
	ZKEV_WATCH,					/* a watched node changed: type, path */
	ZKEV_RESULT					/* an asynchronous call completed: op, rc */
} ZkEventKind;

typedef struct ZkEvent
{
	struct ZkEvent *next;
	ZkEventKind kind;
	uint32_t	generation;		/* which session handle produced it */
	int			state;			/* ZOO_*_STATE (session events) */
	int			type;			/* ZOO_*_EVENT (watch events) */
	int			op;				/* caller's operation code (results) */
	int			rc;				/* ZOK or a ZooKeeper error (results) */
	char	   *path;			/* the node concerned, or NULL */
	char	   *data;			/* node data (get), NUL-terminated copy */
	int			datalen;		/* -1 when the node has no data */
	bool		has_stat;
	int64_t		czxid;			/* from the node's Stat when has_stat */
	int64_t		ephemeral_owner;
	int32_t		version;
	int			nchildren;		/* children (get_children) */
	char	  **children;
} ZkEvent;

/* Starts a session; false (errno-style reason in why) if the client refused. */
extern bool zk_start(const char *hosts, int session_timeout_ms,
					 char *why, int whylen);
/* Closes the session cleanly (its ephemeral nodes vanish at once). */
extern void zk_stop(void);
extern bool zk_started(void);
extern uint32_t zk_generation(void);
extern int64_t zk_session_id(void);
/* the session timeout the server granted (0 before the first connection) */
extern int	zk_negotiated_timeout_ms(void);

/* Read end of the wake-up pipe, for the WaitEventSet. */
extern int	zk_event_fd(void);
/* Drains the pipe and pops one event (NULL when none); main thread only. */
extern ZkEvent *zk_next_event(void);
extern void zk_free_event(ZkEvent *ev);

/*
 * Asynchronous calls; the result comes back as a ZKEV_RESULT with op.
 * They return ZOK when the request was queued, else a ZooKeeper error code
 * (and no result will come).
 */
extern int	zk_create(int op, const char *path, const char *data, int len,
					  bool ephemeral);
extern int	zk_get(int op, const char *path, bool watch);
extern int	zk_exists(int op, const char *path, bool watch);
extern int	zk_get_children(int op, const char *path, bool watch);
extern int	zk_set(int op, const char *path, const char *data, int len,
				   int version);
extern int	zk_delete(int op, const char *path, int version);
/* Atomically deletes path (at version) and creates it again, ephemeral,
 * owned by this session: hands a key over without a moment when it is free. */
extern int	zk_replace_ephemeral(int op, const char *path, int version,
								 const char *data, int len);

extern const char *zk_error_name(int rc);

#endif							/* HA_ZK_H */
