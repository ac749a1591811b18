/*-------------------------------------------------------------------------
 *
 * callbacks.c
 *	  Runs the configured callbacks (see callbacks.h): which one is due is
 *	  callback_policy.c's decision; here are the runner and its process.
 *
 * Why a runner process: the supervisor must not wait for a callback, yet
 * a callback's output must be logged and its time bounded even while the
 * supervisor is busy for minutes (a re-clone).  The runner is this
 * program again (/proc/self/exe, the same binary even if it was replaced
 * on disk since), so it logs like the supervisor, through run_program()
 * with its timeout.  The supervisor keeps only the runner's pid and a
 * pidfd: pg_reap() reaps every exited child, and the pidfd tells that the
 * runner ended without its status (the runner logged it) and makes a
 * signal to a pid the system reused impossible.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "callback_policy.h"
#include "callbacks.h"
#include "log.h"
#include "run.h"

/* how long a new callback waits for the one it replaces to end */
#define REPLACE_WAIT_MS		2000

static const NodeConf *cb_conf = NULL;
static CbTrack track;

/* the runner of the last callback started */
static pid_t runner_pid = -1;
static int	runner_fd = -1;		/* its pidfd; -1: none (then: our child until reaped) */
static char runner_action[32];

void
callbacks_setup(const NodeConf *c)
{
	cb_conf = c;
}

static const char *
command_of(CbAction a)
{
	if (cb_conf == NULL)
		return "";
	switch (a)
	{
		case CB_ON_START:
			return cb_conf->on_start;
		case CB_ON_STOP:
			return cb_conf->on_stop;
		case CB_ON_RESTART:
			return cb_conf->on_restart;
		case CB_ON_RELOAD:
			return cb_conf->on_reload;
		case CB_ON_ROLE_CHANGE:
			return cb_conf->on_role_change;
		case CB_NONE:
			break;
	}
	return "";
}

static void
runner_forget(void)
{
	if (runner_fd >= 0)
		close(runner_fd);
	runner_fd = -1;
	runner_pid = -1;
}

static bool
runner_alive(void)
{
	struct pollfd p;

	if (runner_pid <= 0)
		return false;
	if (runner_fd >= 0)
	{
		/* a pidfd is readable once the process ended */
		p.fd = runner_fd;
		p.events = POLLIN;
		p.revents = 0;
		if (poll(&p, 1, 0) == 0)
			return true;
	}
	else if (waitpid(runner_pid, NULL, WNOHANG) == 0)
		return true;
	runner_forget();
	return false;
}

static void
runner_signal(int sig)
{
#ifdef SYS_pidfd_send_signal
	if (runner_fd >= 0)
	{
		if (syscall(SYS_pidfd_send_signal, runner_fd, sig, NULL, 0) != 0 && errno != ESRCH)
			sup_log("callback %s: could not signal its runner: %s", runner_action, strerror(errno));
		return;
	}
#endif
	kill(runner_pid, sig);
}

/* Stops a callback still running (its runner stops the command's process group). */
static void
runner_replace(const char *next)
{
	long long	deadline = now_ms() + REPLACE_WAIT_MS;

	if (!runner_alive())
		return;
	sup_log("callback %s: still running; stopping it to run %s", runner_action, next);
	runner_signal(SIGTERM);
	while (runner_alive() && now_ms() < deadline)
		sup_wait(50);
}

static void
run_callback(CbAction a, CbRole role)
{
	const char *cmd = command_of(a);
	char		timeout[16];
	char		label[48];
	const char *argv[] = {"/proc/self/exe", "--run-callback", cb_conf ? cb_conf->name : "-", timeout,
		cmd, cb_action_name(a), cb_role_word(role), cb_conf ? cb_conf->scope : "-", NULL};
	pid_t		pid;

	if (a == CB_NONE || cmd[0] == '\0')
		return;
	runner_replace(cb_action_name(a));
	snprintf(timeout, sizeof(timeout), "%d", cb_conf->callback_timeout);
	snprintf(label, sizeof(label), "callback %s", cb_action_name(a));
	pid = run_spawn_detached(label, argv);
	if (pid < 0)
		return;
	runner_pid = pid;
#ifdef SYS_pidfd_open
	/* no one reaps it before this: we are the only thread that waits */
	runner_fd = (int) syscall(SYS_pidfd_open, pid, 0);
#endif
	snprintf(runner_action, sizeof(runner_action), "%s", cb_action_name(a));
}

void
callbacks_observe(pid_t postmaster, const char *pm_status, bool standby_signal)
{
	CbAction	a = cb_observe(&track, postmaster > 0 ? (long) postmaster : 0,
							   cb_role_of(pm_status, standby_signal));

	run_callback(a, track.role);
}

void
callbacks_postgres_stopped(void)
{
	CbRole		role = track.role;

	run_callback(cb_stopped(&track), role);
}

void
callbacks_expect_restart(void)
{
	cb_expect_restart(&track);
}

void
callbacks_reloaded(void)
{
	run_callback(cb_reloaded(&track), track.role);
}

void
callbacks_finish(void)
{
	long long	deadline;

	if (cb_conf == NULL || !runner_alive())
		return;
	deadline = now_ms() + (long long) (cb_conf->callback_timeout + 12) * 1000;
	sup_log("callback %s: still running; waiting for it to end", runner_action);
	while (runner_alive() && now_ms() < deadline)
		sup_wait(100);
}

/* ---------------------------------------------------------------------
 * The runner: pg_ha_supervisor --run-callback NAME TIMEOUT COMMAND ACTION ROLE SCOPE
 * ---------------------------------------------------------------------
 */
int
callbacks_runner_main(int argc, char **argv)
{
	char		label[48];
	const char *cargv[5];
	RunSpec		rs;
	int			timeout_s;
	int			rc;

	if (argc != 6 || (timeout_s = atoi(argv[1])) <= 0)
	{
		fprintf(stderr, "pg_ha_supervisor --run-callback: NAME TIMEOUT COMMAND ACTION ROLE SCOPE expected\n");
		return 2;
	}
	sup_log_set_name(argv[0]);
	if (!sig_setup())
		return 1;
	snprintf(label, sizeof(label), "callback %s", argv[3]);
	cargv[0] = argv[2];
	cargv[1] = argv[3];
	cargv[2] = argv[4];
	cargv[3] = argv[5];
	cargv[4] = NULL;
	memset(&rs, 0, sizeof(rs));
	rs.label = label;
	rs.argv = cargv;
	rs.timeout_ms = timeout_s * 1000;
	rs.interruptible = true;	/* SIGTERM from the supervisor: a newer callback replaces it */
	rs.nonzero_ok = true;
	rc = run_program(&rs);
	if (rc == RUN_TIMED_OUT)
		sup_log("%s: stopped: it ran longer than callback_timeout (%d s)", label, timeout_s);
	else if (rc == RUN_INTERRUPTED)
		sup_log("%s: stopped before its end", label);
	else if (rc == RUN_FAILED_TO_START)
		sup_log("%s: could not be run", label);
	else if (rc >= 128)
		sup_log("%s: ended by signal %d", label, rc - 128);
	else
		sup_log("%s: exit code %d", label, rc);
	return rc == 0 ? 0 : 1;
}
