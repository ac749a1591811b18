/*-------------------------------------------------------------------------
 *
 * zk.c
 *	  The supervisor's ZooKeeper session (see zk.h).
 *
 * The library's own log goes through a stdio cookie into our log, at
 * warning level and above, prefixed "zookeeper".  Its threads are
 * created with every signal blocked, so signals reach the main thread.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_reader.h"
#include "log.h"
#include "member_json.h"
#include "run.h"
#include "zk.h"

static zhandle_t *zh = NULL;
static char zk_hosts[1024];
static int	zk_timeout_ms = 10000;
static ZkPaths paths;
static char parents[3][600];
static bool logged_unreachable = false;

/*
 * The library's log lines (on its threads).  While a server is down it
 * writes two lines per connection attempt, several a second: one line per
 * 10 s gets through, with a count of those left out.
 */
static pthread_mutex_t zk_log_lock = PTHREAD_MUTEX_INITIALIZER;
static long long zk_log_last = -100000;
static int	zk_log_dropped = 0;

static ssize_t
zk_log_write(void *cookie, const char *buf, size_t size)
{
	long long	now = now_ms();

	(void) cookie;
	pthread_mutex_lock(&zk_log_lock);
	if (now - zk_log_last >= 10000)
	{
		if (zk_log_dropped > 0)
		{
			char		note[64];
			int			n = snprintf(note, sizeof(note), "(%d more library lines left out)", zk_log_dropped);

			sup_log_prefixed("zookeeper", note, (size_t) n);
		}
		sup_log_prefixed("zookeeper", buf, size);
		zk_log_last = now;
		zk_log_dropped = 0;
	}
	else
		zk_log_dropped++;
	pthread_mutex_unlock(&zk_log_lock);
	return (ssize_t) size;
}

static void
zk_watcher(zhandle_t *h, int type, int state, const char *path, void *ctx)
{
	/* state is polled with zoo_state(); nothing to do on the library's thread */
	(void) h;
	(void) type;
	(void) state;
	(void) path;
	(void) ctx;
}

void
zkc_setup(const char *hosts, int session_timeout_ms, const char *namespace_,
		  const char *scope)
{
	static bool log_set = false;
	const char *ns = strcmp(namespace_, "/") == 0 ? "" : namespace_;

	snprintf(zk_hosts, sizeof(zk_hosts), "%s", hosts);
	zk_timeout_ms = session_timeout_ms;
	snprintf(paths.scope, sizeof(paths.scope), "%s/%s", ns, scope);
	snprintf(paths.members, sizeof(paths.members), "%s/members", paths.scope);
	snprintf(paths.leader, sizeof(paths.leader), "%s/leader", paths.scope);
	snprintf(paths.initialize, sizeof(paths.initialize), "%s/initialize", paths.scope);
	snprintf(paths.sync, sizeof(paths.sync), "%s/sync", paths.scope);
	snprintf(paths.config, sizeof(paths.config), "%s/config", paths.scope);
	snprintf(parents[0], sizeof(parents[0]), "%s", namespace_);
	snprintf(parents[1], sizeof(parents[1]), "%s", paths.scope);
	snprintf(parents[2], sizeof(parents[2]), "%s", paths.members);

	if (!log_set)
	{
		cookie_io_functions_t io = {NULL, zk_log_write, NULL, NULL};
		FILE	   *f = fopencookie(NULL, "w", io);

		if (f)
		{
			setvbuf(f, NULL, _IOLBF, 0);
			zoo_set_log_stream(f);
		}
		zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);
		log_set = true;
	}
}

const ZkPaths *
zkc_paths(void)
{
	return &paths;
}

bool
zkc_connected(void)
{
	return zh != NULL && zoo_state(zh) == ZOO_CONNECTED_STATE;
}

void
zkc_close(void)
{
	if (zh)
		zookeeper_close(zh);
	zh = NULL;
}

static bool
zkc_start(void)
{
	sigset_t	all,
				old;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	zh = zookeeper_init(zk_hosts, zk_watcher, zk_timeout_ms, NULL, NULL, 0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (zh == NULL)
	{
		sup_log("zookeeper: could not start a session with \"%s\": %s", zk_hosts, strerror(errno));
		return false;
	}
	/* resolve the hosts only when (re)connecting, as the agent does (ha_zk.c) */
	zoo_set_servers_resolution_delay(zh, -1);
	return true;
}

bool
zkc_connect(int wait_ms)
{
	long long	deadline = now_ms() + wait_ms;

	if (zh)
	{
		int			st = zoo_state(zh);

		if (st == ZOO_EXPIRED_SESSION_STATE || st == ZOO_AUTH_FAILED_STATE)
			zkc_close();
	}
	if (zh == NULL && !zkc_start())
		return false;
	while (!zkc_connected())
	{
		long long	left = deadline - now_ms();

		if (left <= 0 || sig_stop_pending())
			break;
		sup_wait(left < 50 ? (int) left : 50);
		if (zoo_state(zh) == ZOO_EXPIRED_SESSION_STATE)
		{
			zkc_close();
			if (!zkc_start())
				return false;
		}
	}
	if (zkc_connected())
	{
		if (logged_unreachable)
			sup_log("zookeeper: connected to %s again", zk_hosts);
		logged_unreachable = false;
		return true;
	}
	logged_unreachable = true;
	return false;
}

int
zkc_get(const char *path, char *buf, int cap, int *len, struct Stat *st)
{
	struct Stat dummy;
	int			l = cap - 1;
	int			rc;

	if (!zkc_connected())
		return ZCONNECTIONLOSS;
	rc = zoo_get(zh, path, 0, buf, &l, st ? st : &dummy);
	if (rc == ZOK)
	{
		if (l < 0)
			l = 0;
		buf[l] = '\0';
		if (len)
			*len = l;
	}
	return rc;
}

int
zkc_create(const char *path, const char *data, int len)
{
	if (!zkc_connected())
		return ZCONNECTIONLOSS;
	return zoo_create(zh, path, data, len, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
}

int
zkc_set(const char *path, const char *data, int len, int version)
{
	if (!zkc_connected())
		return ZCONNECTIONLOSS;
	return zoo_set(zh, path, data, len, version);
}

int
zkc_delete(const char *path, int version)
{
	if (!zkc_connected())
		return ZCONNECTIONLOSS;
	return zoo_delete(zh, path, version);
}

int
zkc_children(const char *path, struct String_vector *out)
{
	memset(out, 0, sizeof(*out));
	if (!zkc_connected())
		return ZCONNECTIONLOSS;
	return zoo_get_children(zh, path, 0, out);
}

int
zkc_ensure_parents(void)
{
	for (int i = 0; i < 3; i++)
	{
		int			rc;

		if (strcmp(parents[i], "/") == 0 || parents[i][0] == '\0')
			continue;
		rc = zkc_create(parents[i], "", 0);
		if (rc != ZOK && rc != ZNODEEXISTS)
			return rc;
	}
	return ZOK;
}

int
zkc_leader(char *name, size_t cap, struct Stat *st)
{
	char		buf[HA_NAME_LEN + 8];
	int			len = 0;
	int			rc = zkc_get(paths.leader, buf, sizeof(buf), &len, st);

	name[0] = '\0';
	if (rc == ZOK)
		snprintf(name, cap, "%s", buf);
	return rc;
}

int
zkc_member(const char *name, HaMember *m)
{
	char		path[800];
	char		buf[4096];
	char		err[128];
	int			len = 0;
	int			rc;

	memset(m, 0, sizeof(*m));
	snprintf(path, sizeof(path), "%s/%s", paths.members, name);
	rc = zkc_get(path, buf, sizeof(buf), &len, NULL);
	if (rc != ZOK)
		return rc;
	if (!member_from_json(buf, (size_t) len, m, err, sizeof(err)))
	{
		sup_log("zookeeper: member \"%s\" has unreadable data: %s", name, err);
		return ZMARSHALLINGERROR;
	}
	snprintf(m->name, sizeof(m->name), "%s", name);
	return ZOK;
}

int
zkc_members(HaMember *out, int max, const char *skip_name)
{
	struct String_vector names;
	int			n = 0;

	if (zkc_children(paths.members, &names) != ZOK)
		return -1;
	for (int i = 0; i < names.count && n < max; i++)
	{
		if (skip_name && strcmp(names.data[i], skip_name) == 0)
			continue;
		if (strlen(names.data[i]) >= HA_NAME_LEN)
			continue;
		if (zkc_member(names.data[i], &out[n]) == ZOK)
			n++;
	}
	deallocate_String_vector(&names);
	return n;
}

int
zkc_cluster_paused(bool *paused)
{
	char		buf[HA_CONFIG_JSON_CAP];
	int			len = 0;
	struct Stat st;
	int			rc = zkc_get(paths.config, buf, sizeof(buf) - 1, &len, &st);

	*paused = false;
	if (rc == ZOK && len > 0)
	{
		buf[len] = '\0';
		/* absent, null or not a boolean: not paused */
		if (!json_find_bool(buf, (size_t) len, "pause", paused))
			*paused = false;
	}
	return rc;
}
