/*-------------------------------------------------------------------------
 *
 * postmaster.c
 *	  The postmaster, this program's child: start, reap, stop, wait until
 *	  ready, and a postmaster that is not ours (see postmaster.h).
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "callbacks.h"
#include "ha_types.h"
#include "log.h"
#include "datadir.h"
#include "postmaster.h"
#include "run.h"

static pid_t postgres_pid = -1;
static long long postgres_started = 0;

bool
pg_start(const NodeConf *c, const char *why)
{
	char		prog[CONF_PATH_LEN + 32];
	char		envpid[64];
	const char *argv[] = {prog, "-D", c->data_dir, NULL};
	const char *env[] = {envpid, NULL};
	pid_t		foreign;

	if (postgres_pid > 0)
		return true;
	if (sig_stop_pending())
	{
		sup_log("postgres: not starting it (%s): the supervisor is stopping", why);
		return false;
	}
	{
		char		marker[CONF_PATH_LEN + 32];

		/* node.c's marker: pg_rewind did not finish, the files are a mix */
		snprintf(marker, sizeof(marker), "%s.pg_ha-rewinding", c->data_dir);
		if (access(marker, F_OK) == 0)
		{
			sup_log("postgres: not starting: pg_rewind of \"%s\" did not finish (%s exists); it must be cloned again",
					c->data_dir, marker);
			return false;
		}
	}
	foreign = pg_foreign_postmaster(c);
	if (foreign > 0)
	{
		sup_log("postgres: a postmaster (pid %d) that this supervisor did not start runs on \"%s\"; stop it first",
				(int) foreign, c->data_dir);
		return false;
	}
	if (!pgd_write_pg_ha_conf(c) || !pgd_ensure_includes(c) || !pgd_clean_auto_conf(c))
		return false;
	snprintf(prog, sizeof(prog), "%s/postgres", c->bin_dir);
	snprintf(envpid, sizeof(envpid), "PG_HA_SUPERVISOR_PID=%d", (int) getpid());
	sup_log("postgres: starting as %s (%s)", pgd_is_standby(c) ? "a standby" : "a primary", why);
	postgres_pid = run_spawn("postgres", argv, env, c->log_file);
	if (postgres_pid < 0)
		return false;
	postgres_started = now_ms();
	return true;
}

pid_t
pg_pid(void)
{
	return postgres_pid;
}

bool
pg_running(void)
{
	return postgres_pid > 0;
}

long long
pg_started_at(void)
{
	return postgres_started;
}

/*
 * Reaps every exited child, not only postgres: as a container's PID 1
 * the supervisor inherits orphans (the backends of a postmaster killed
 * with -9), which would otherwise stay zombies, and callback runners
 * (callbacks.c watches them through a pidfd, not their exit status).
 * run_program() waits for its own children.
 */
bool
pg_reap(int *status)
{
	int			st;
	pid_t		pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
	{
		if (pid == postgres_pid)
		{
			postgres_pid = -1;
			if (status)
				*status = st;
			return true;
		}
	}
	return false;
}

int
pg_stop(int sig, int timeout_ms, const char *why)
{
	long long	deadline;
	int			status = -1;
	pid_t		pid = postgres_pid;
	int			stage = 0;

	if (postgres_pid <= 0)
		return -1;
	sup_log("postgres: %s shutdown (%s)", sig == SIGQUIT ? "immediate" : sig == SIGINT ? "fast" : "smart",
			why);
	kill(pid, sig);
	deadline = now_ms() + timeout_ms;
	for (;;)
	{
		if (pg_reap(&status))
		{
			callbacks_postgres_stopped();
			return status;
		}
		if (now_ms() >= deadline)
		{
			if (stage == 0 && sig != SIGQUIT)
			{
				sup_log("postgres: still running after %d s, immediate shutdown", timeout_ms / 1000);
				kill(pid, SIGQUIT);
				deadline = now_ms() + 10000;
				stage = 1;
			}
			else if (stage <= 1)
			{
				sup_log("postgres: still running, killing its process group");
				kill(-pid, SIGKILL);
				deadline = now_ms() + 10000;
				stage = 2;
			}
			else
			{
				sup_log("postgres: pid %d does not exit; giving up on it", (int) pid);
				return -1;
			}
		}
		sup_wait(50);
	}
}

/* Line n (1-based) of postmaster.pid, or false. */
static bool
pidfile_line(const NodeConf *c, int n, char *buf, size_t cap)
{
	char		path[CONF_PATH_LEN + 32];
	char	   *text;
	char	   *p;

	pgd_path(c, "postmaster.pid", path, sizeof(path));
	text = pgd_read_file(path, NULL);
	if (text == NULL)
		return false;
	p = text;
	for (int i = 1; i < n && p; i++)
	{
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (p == NULL || *p == '\0')
	{
		free(text);
		return false;
	}
	{
		size_t		l = strcspn(p, "\n");

		if (l >= cap)
			l = cap - 1;
		memcpy(buf, p, l);
		buf[l] = '\0';
	}
	free(text);
	return true;
}

bool
pg_pm_status(const NodeConf *c, char *buf, size_t cap)
{
	char		line[64];

	return postgres_pid > 0 && pidfile_line(c, 1, line, sizeof(line)) &&
		atoi(line) == (int) postgres_pid && pidfile_line(c, 8, buf, cap);
}

bool
pg_wait_ready(const NodeConf *c, int timeout_ms)
{
	long long	deadline = now_ms() + timeout_ms;

	while (now_ms() < deadline && postgres_pid > 0)
	{
		char		line[64];

		if (pg_pm_status(c, line, sizeof(line)) &&
			(strncmp(line, "ready", 5) == 0 || strncmp(line, "standby", 7) == 0))
			return true;
		if (sig_stop_pending())
			return false;
		sup_wait(100);
		if (pg_reap(NULL))
			return false;
	}
	return false;
}

bool
pg_wait_shmem_free(const NodeConf *c, int timeout_ms)
{
	long long	deadline = now_ms() + timeout_ms;
	char		line[128];
	unsigned long key;
	int			shmid;

	if (!pidfile_line(c, 7, line, sizeof(line)) ||
		sscanf(line, "%lu %d", &key, &shmid) != 2)
		return true;
	for (;;)
	{
		struct shmid_ds ds;

		if (shmctl(shmid, IPC_STAT, &ds) != 0 || ds.shm_nattch == 0)
			return true;
		if (now_ms() >= deadline)
		{
			sup_log("postgres: %lu processes of the old postmaster still hold its shared memory",
					(unsigned long) ds.shm_nattch);
			return false;
		}
		sup_wait(50);
	}
}

pid_t
pg_foreign_postmaster(const NodeConf *c)
{
	char		line[64];
	long		pid;

	if (!pidfile_line(c, 1, line, sizeof(line)))
		return 0;
	pid = atol(line);
	if (pid <= 0 || pid == (long) postgres_pid || pid == (long) getpid())
		return 0;
	if (kill((pid_t) pid, 0) != 0 && errno == ESRCH)
		return 0;
	/* a live pid: is it a postgres on this data directory? */
	{
		char		exe[64],
					target[CONF_PATH_LEN];
		ssize_t		n;

		snprintf(exe, sizeof(exe), "/proc/%ld/exe", pid);
		n = readlink(exe, target, sizeof(target) - 1);
		if (n > 0)
		{
			target[n] = '\0';
			if (strstr(target, "postgres") == NULL)
				return 0;		/* the pid was reused */
		}
	}
	return (pid_t) pid;
}
