/*-------------------------------------------------------------------------
 *
 * ha_zk.c
 *	  ZooKeeper session with a thread-safe hand-off to the main loop.
 *
 * This file deliberately includes no PostgreSQL header: everything in it
 * may run on libzookeeper_mt's threads, where PostgreSQL code must not.
 * Callbacks copy into malloc'd memory, queue under a mutex and wake the
 * main loop through a pipe.  Failure to allocate drops the event and sets
 * a flag; the main loop then treats the session as untrustworthy and
 * starts a new one (see zk_next_event), so nothing is silently lost.
 *
 *-------------------------------------------------------------------------
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zookeeper/zookeeper.h>

#include "ha_zk.h"

/* What a completion needs to say which call it completes. */
typedef struct ZkCallCtx
{
	int			op;
	uint32_t	generation;
	char	   *path;
	zoo_op_result_t *multi_results;	/* zoo_amulti writes here until completion */
} ZkCallCtx;

static zhandle_t *zh = NULL;
static uint32_t generation = 0;
static int	wake_pipe[2] = {-1, -1};

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static ZkEvent *queue_head = NULL;
static ZkEvent *queue_tail = NULL;
static int	events_dropped = 0;	/* under queue_lock */

/* ---- callbacks: run on the library's threads ---- */

static char *
dup_bytes(const char *s, int len)
{
	char	   *p;

	if (s == NULL || len < 0)
		return NULL;
	p = malloc((size_t) len + 1);
	if (p)
	{
		memcpy(p, s, (size_t) len);
		p[len] = '\0';
	}
	return p;
}

static ZkEvent *
new_event(ZkEventKind kind, uint32_t gen)
{
	ZkEvent    *ev = calloc(1, sizeof(ZkEvent));

	if (ev)
	{
		ev->kind = kind;
		ev->generation = gen;
		ev->datalen = -1;
	}
	return ev;
}

static void
push_event(ZkEvent *ev)
{
	char		byte = 1;
	ssize_t		rc;

	pthread_mutex_lock(&queue_lock);
	if (ev == NULL)
		events_dropped++;
	else
	{
		if (queue_tail)
			queue_tail->next = ev;
		else
			queue_head = ev;
		queue_tail = ev;
	}
	pthread_mutex_unlock(&queue_lock);

	/* a full pipe already means "wake up": EAGAIN is fine */
	do
		rc = write(wake_pipe[1], &byte, 1);
	while (rc < 0 && errno == EINTR);
}

static void
fill_stat(ZkEvent *ev, const struct Stat *stat)
{
	if (stat)
	{
		ev->has_stat = true;
		ev->czxid = stat->czxid;
		ev->ephemeral_owner = stat->ephemeralOwner;
		ev->version = stat->version;
	}
}

/* Turns a completion's context into a result event; frees the context. */
static ZkEvent *
result_event(int rc, const void *data)
{
	ZkCallCtx  *ctx = (ZkCallCtx *) data;
	ZkEvent    *ev = new_event(ZKEV_RESULT, ctx->generation);

	if (ev)
	{
		ev->op = ctx->op;
		ev->rc = rc;
		ev->path = ctx->path;
		ctx->path = NULL;
	}
	free(ctx->path);
	free(ctx->multi_results);
	free(ctx);
	return ev;
}

static void
on_watch(zhandle_t *h, int type, int state, const char *path, void *watcher_ctx)
{
	ZkEvent    *ev;

	(void) h;
	ev = new_event(type == ZOO_SESSION_EVENT ? ZKEV_SESSION : ZKEV_WATCH,
				   (uint32_t) (uintptr_t) watcher_ctx);
	if (ev)
	{
		ev->type = type;
		ev->state = state;
		if (path && *path)
		{
			ev->path = strdup(path);
			if (ev->path == NULL)
			{
				free(ev);
				ev = NULL;
			}
		}
	}
	push_event(ev);
}

static void
on_data(int rc, const char *value, int len, const struct Stat *stat,
		const void *data)
{
	ZkEvent    *ev = result_event(rc, data);

	if (ev && rc == ZOK)
	{
		fill_stat(ev, stat);
		if (value && len >= 0)
		{
			ev->data = dup_bytes(value, len);
			if (ev->data == NULL)
			{
				zk_free_event(ev);
				ev = NULL;
			}
			else
				ev->datalen = len;
		}
	}
	push_event(ev);
}

static void
on_stat(int rc, const struct Stat *stat, const void *data)
{
	ZkEvent    *ev = result_event(rc, data);

	if (ev && rc == ZOK)
		fill_stat(ev, stat);
	push_event(ev);
}

static void
on_string_stat(int rc, const char *value, const struct Stat *stat,
			   const void *data)
{
	(void) value;
	on_stat(rc, stat, data);
}

static void
on_void(int rc, const void *data)
{
	push_event(result_event(rc, data));
}

static void
on_children(int rc, const struct String_vector *strings, const void *data)
{
	ZkEvent    *ev = result_event(rc, data);

	if (ev && rc == ZOK && strings && strings->count > 0)
	{
		ev->children = calloc((size_t) strings->count, sizeof(char *));
		if (ev->children == NULL)
		{
			zk_free_event(ev);
			ev = NULL;
		}
		else
		{
			ev->nchildren = strings->count;
			for (int i = 0; i < strings->count; i++)
			{
				ev->children[i] = strdup(strings->data[i]);
				if (ev->children[i] == NULL)
				{
					zk_free_event(ev);
					ev = NULL;
					break;
				}
			}
		}
	}
	push_event(ev);
}

/* ---- main thread ---- */

static bool
ensure_pipe(void)
{
	if (wake_pipe[0] >= 0)
		return true;
	if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return false;
	return true;
}

int
zk_event_fd(void)
{
	ensure_pipe();
	return wake_pipe[0];
}

bool
zk_start(const char *hosts, int session_timeout_ms, char *why, int whylen)
{
	sigset_t	all,
				saved;
	int			err;

	if (!ensure_pipe())
	{
		snprintf(why, whylen, "could not create pipe: %s", strerror(errno));
		return false;
	}
	zk_stop();
	generation++;

	/* the library logs from its threads; the agent reports states itself */
	zoo_set_debug_level(0);

	/*
	 * The library's threads inherit the signal mask: block everything while
	 * they are created so every signal reaches the main thread, where
	 * PostgreSQL's handlers expect to run.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	errno = 0;
	zh = zookeeper_init(hosts, on_watch, session_timeout_ms, NULL,
						(void *) (uintptr_t) generation, 0);
	err = errno;
	pthread_sigmask(SIG_SETMASK, &saved, NULL);

	if (zh == NULL)
	{
		snprintf(why, whylen, "%s", err ? strerror(err) : "zookeeper_init failed");
		return false;
	}

	/*
	 * By default the library resolves the host list on every turn of its I/O
	 * thread; a slow DNS answer (a container runtime reloading its resolver)
	 * then holds back the session's pings for seconds and the session
	 * expires.  Resolve only when (re)connecting.
	 */
	zoo_set_servers_resolution_delay(zh, -1);
	return true;
}

void
zk_stop(void)
{
	if (zh)
	{
		zookeeper_close(zh);
		zh = NULL;
	}
}

bool
zk_started(void)
{
	return zh != NULL;
}

uint32_t
zk_generation(void)
{
	return generation;
}

int64_t
zk_session_id(void)
{
	const clientid_t *id = zh ? zoo_client_id(zh) : NULL;

	return id ? id->client_id : 0;
}

int
zk_negotiated_timeout_ms(void)
{
	return zh ? zoo_recv_timeout(zh) : 0;
}

ZkEvent *
zk_next_event(void)
{
	ZkEvent    *ev;
	char		buf[64];
	int			dropped;

	while (read(wake_pipe[0], buf, sizeof(buf)) > 0)
		;

	pthread_mutex_lock(&queue_lock);
	dropped = events_dropped;
	events_dropped = 0;
	ev = queue_head;
	if (ev)
	{
		queue_head = ev->next;
		if (queue_head == NULL)
			queue_tail = NULL;
		ev->next = NULL;
	}
	pthread_mutex_unlock(&queue_lock);

	if (dropped > 0)
	{
		/*
		 * Out of memory on a library thread lost an event: report it as an
		 * expired session, so the main loop rebuilds all its state.
		 */
		ZkEvent    *lost = new_event(ZKEV_SESSION, generation);

		if (lost)
		{
			lost->type = ZOO_SESSION_EVENT;
			lost->state = ZOO_EXPIRED_SESSION_STATE;
			lost->next = ev;
			return lost;
		}
	}
	return ev;
}

void
zk_free_event(ZkEvent *ev)
{
	if (ev == NULL)
		return;
	free(ev->path);
	free(ev->data);
	for (int i = 0; i < ev->nchildren; i++)
		free(ev->children[i]);
	free(ev->children);
	free(ev);
}

static ZkCallCtx *
new_ctx(int op, const char *path)
{
	ZkCallCtx  *ctx = malloc(sizeof(ZkCallCtx));

	if (ctx == NULL)
		return NULL;
	ctx->op = op;
	ctx->generation = generation;
	ctx->multi_results = NULL;
	ctx->path = strdup(path);
	if (ctx->path == NULL)
	{
		free(ctx);
		return NULL;
	}
	return ctx;
}

/*
 * After a call returns an error, its completion was never registered when
 * the error is one of these; only then is the context ours to free.  (On
 * any other error the library may still call the completion.)
 */
static int
finish_call(int rc, ZkCallCtx *ctx)
{
	if (rc == ZBADARGUMENTS || rc == ZINVALIDSTATE)
	{
		free(ctx->path);
		free(ctx->multi_results);
		free(ctx);
	}
	return rc;
}

#define BEGIN_CALL(op, path) \
	ZkCallCtx  *ctx; \
	if (zh == NULL) \
		return ZINVALIDSTATE; \
	if ((ctx = new_ctx((op), (path))) == NULL) \
		return ZSYSTEMERROR

int
zk_create(int op, const char *path, const char *data, int len, bool ephemeral)
{
	BEGIN_CALL(op, path);
	return finish_call(zoo_acreate2(zh, path, data, len, &ZOO_OPEN_ACL_UNSAFE,
									ephemeral ? ZOO_EPHEMERAL : ZOO_PERSISTENT,
									on_string_stat, ctx), ctx);
}

int
zk_get(int op, const char *path, bool watch)
{
	BEGIN_CALL(op, path);
	return finish_call(zoo_aget(zh, path, watch ? 1 : 0, on_data, ctx), ctx);
}

int
zk_exists(int op, const char *path, bool watch)
{
	BEGIN_CALL(op, path);
	return finish_call(zoo_aexists(zh, path, watch ? 1 : 0, on_stat, ctx), ctx);
}

int
zk_get_children(int op, const char *path, bool watch)
{
	BEGIN_CALL(op, path);
	return finish_call(zoo_aget_children(zh, path, watch ? 1 : 0, on_children, ctx), ctx);
}

int
zk_set(int op, const char *path, const char *data, int len, int version)
{
	BEGIN_CALL(op, path);
	return finish_call(zoo_aset(zh, path, data, len, version, on_stat, ctx), ctx);
}

int
zk_delete(int op, const char *path, int version)
{
	BEGIN_CALL(op, path);
	return finish_call(zoo_adelete(zh, path, version, on_void, ctx), ctx);
}

int
zk_replace_ephemeral(int op, const char *path, int version, const char *data,
					 int len)
{
	zoo_op_t	ops[2];

	BEGIN_CALL(op, path);
	ctx->multi_results = calloc(2, sizeof(zoo_op_result_t));
	if (ctx->multi_results == NULL)
	{
		free(ctx->path);
		free(ctx);
		return ZSYSTEMERROR;
	}
	zoo_delete_op_init(&ops[0], path, version);
	zoo_create_op_init(&ops[1], path, data, len, &ZOO_OPEN_ACL_UNSAFE,
					   ZOO_EPHEMERAL, NULL, 0);
	return finish_call(zoo_amulti(zh, 2, ops, ctx->multi_results, on_void, ctx), ctx);
}

const char *
zk_error_name(int rc)
{
	return zerror(rc);
}
