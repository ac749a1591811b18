/*-------------------------------------------------------------------------
 *
 * guard.c
 *	  The guard of a program the supervisor waits for (see guard.h).
 *
 * A program such as pg_basebackup writes the data directory and may have
 * children of its own (its WAL streamer), which a parent-death signal to
 * the program alone would not reach.  So the supervisor runs it under
 * "pg_ha_supervisor --guard PPID PROGRAM ARGS...": a small process, fresh
 * from execve (no threads), that leads the program's process group, gets
 * SIGTERM from the kernel when the supervisor dies, passes every stop
 * signal on to the whole group, and exits as the program did.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "guard.h"

static volatile sig_atomic_t passed_on = 0;

/* A stop signal: once to the whole group (the program and its children). */
static void
pass_on(int signo)
{
	if (passed_on)
		return;
	passed_on = 1;
	kill(0, signo);
}

bool
guard_wrap(const char *const *argv, const char **out, int cap, char *ppid, size_t ppid_cap)
{
	int			n = 0;

	while (argv[n])
		n++;
	if (n + 4 > cap)
		return false;
	snprintf(ppid, ppid_cap, "%ld", (long) getpid());
	out[0] = "/proc/self/exe";
	out[1] = "--guard";
	out[2] = ppid;
	for (int i = 0; i <= n; i++)
		out[3 + i] = argv[i];
	return true;
}

int
guard_main(int argc, char **argv)
{
	static const int stops[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP};
	struct sigaction sa;
	long		ppid;
	pid_t		pid;
	int			status;

	/* PPID 1: the supervisor is a container's init */
	if (argc < 2 || (ppid = strtol(argv[0], NULL, 10)) < 1)
	{
		fprintf(stderr, "pg_ha_supervisor --guard: PPID PROGRAM [ARG...] expected\n");
		return 127;
	}
	/* the group it passes signals on to is its own, whoever started it */
	if (getpgrp() != getpid() && setpgid(0, 0) != 0)
		return 127;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pass_on;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		sigaction(stops[i], &sa, NULL);
#ifdef __linux__
	/* the supervisor may have died before the prctl: then no signal would come */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
		return 127;
#endif
	if (getppid() != (pid_t) ppid)
		return 127;

	pid = fork();
	if (pid < 0)
	{
		fprintf(stderr, "pg_ha_supervisor --guard: could not fork: %s\n", strerror(errno));
		return 127;
	}
	if (pid == 0)
	{
		sa.sa_handler = SIG_DFL;
		for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
			sigaction(stops[i], &sa, NULL);
		/* a stop signal that came before the handlers were reset */
		if (passed_on)
			_exit(128 + SIGTERM);
		execv(argv[1], argv + 1);
		fprintf(stderr, "exec failed\n");
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 127;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	/* killed: so is the guard, by the same signal, for the supervisor to see */
	sa.sa_handler = SIG_DFL;
	sigaction(WTERMSIG(status), &sa, NULL);
	raise(WTERMSIG(status));
	return 128 + WTERMSIG(status);
}
