/*-------------------------------------------------------------------------
 *
 * run.c
 *	  Signals, waiting, and running programs (see run.h).
 *
 * Signal handlers only set a flag and write a byte to a pipe; all work
 * happens in the loops that poll that pipe (sup_wait, run_program, the
 * main loop).  Children are prepared completely before fork() (argv,
 * environment), because the ZooKeeper client's threads exist: between
 * fork and exec the child makes only async-signal-safe calls.
 *
 * Why one file of over 700 lines (about 725): the signal pipe is what both
 * the waits and the child runner poll, and a child's output relay is part
 * of that same poll loop; split apart, each half would reach into the
 * other's state.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guard.h"
#include "log.h"
#include "run.h"

extern char **environ;

const char *const run_c_locale_env[] = {"LC_ALL=C", "LANG=C", "LANGUAGE=C", NULL};

#define NSIG_TRACKED 65

static int	sig_pipe[2] = {-1, -1};
static volatile sig_atomic_t sig_pending[NSIG_TRACKED];

/* a line buffer for a child's output */
typedef struct LineBuf
{
	const char *label;
	char		buf[2048];
	size_t		len;
} LineBuf;

static int	relay_fd = -1;
static LineBuf relay_lb;

long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sig_handler(int signo)
{
	int			saved = errno;
	char		b = (char) signo;

	if (signo > 0 && signo < NSIG_TRACKED)
		sig_pending[signo] = 1;
	if (write(sig_pipe[1], &b, 1) < 0)
	{
		/* full pipe: the loop wakes anyway */
	}
	errno = saved;
}

bool
sig_setup(void)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGCHLD};
	struct sigaction sa;

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
	{
		sup_log("could not create the signal pipe: %s", strerror(errno));
		return false;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return true;
}

bool
sig_take(int signo)
{
	if (signo <= 0 || signo >= NSIG_TRACKED || !sig_pending[signo])
		return false;
	sig_pending[signo] = 0;
	return true;
}

bool
sig_stop_pending(void)
{
	return sig_pending[SIGTERM] || sig_pending[SIGINT] || sig_pending[SIGQUIT];
}

static void
sig_drain(void)
{
	char		b[64];

	while (read(sig_pipe[0], b, sizeof(b)) > 0)
		;
}

/* ---- line relay ---- */

static void
lb_flush(LineBuf *lb)
{
	if (lb->len > 0)
		sup_log_prefixed(lb->label, lb->buf, lb->len);
	lb->len = 0;
}

static void
lb_feed(LineBuf *lb, const char *data, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		if (data[i] == '\n')
		{
			lb_flush(lb);
			continue;
		}
		if (lb->len >= sizeof(lb->buf) - 1)
			lb_flush(lb);
		lb->buf[lb->len++] = data[i];
	}
}

/* Reads what is there; returns false at EOF or on an error. */
static bool
lb_read(LineBuf *lb, int fd)
{
	char		buf[8192];

	for (;;)
	{
		ssize_t		r = read(fd, buf, sizeof(buf));

		if (r > 0)
		{
			lb_feed(lb, buf, (size_t) r);
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (r < 0 && errno == EINTR)
			continue;
		lb_flush(lb);
		return false;
	}
}

void
run_set_relay_fd(int fd)
{
	if (relay_fd >= 0 && relay_fd != fd)
	{
		lb_read(&relay_lb, relay_fd);
		lb_flush(&relay_lb);
		close(relay_fd);
	}
	relay_fd = fd;
}

static void
relay_pump(void)
{
	if (relay_fd >= 0 && !lb_read(&relay_lb, relay_fd))
	{
		/* every writer is gone */
		close(relay_fd);
		relay_fd = -1;
	}
}

bool
sup_wait(int ms)
{
	long long	deadline = now_ms() + (ms > 0 ? ms : 0);

	for (;;)
	{
		struct pollfd pfd[2];
		int			n = 0;
		long long	left = deadline - now_ms();
		int			rc;

		pfd[n].fd = sig_pipe[0];
		pfd[n++].events = POLLIN;
		if (relay_fd >= 0)
		{
			pfd[n].fd = relay_fd;
			pfd[n++].events = POLLIN;
		}
		rc = poll(pfd, (nfds_t) n, left > 0 ? (int) left : 0);
		if (rc < 0 && errno != EINTR)
			return false;
		if (n > 1 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
			relay_pump();
		if (rc > 0 && (pfd[0].revents & POLLIN))
		{
			sig_drain();
			return true;
		}
		if (now_ms() >= deadline)
			return false;
	}
}

/* ---- children ---- */

static bool
env_key_matches(const char *entry, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t		kl = eq ? (size_t) (eq - kv) : strlen(kv);

	return strncmp(entry, kv, kl) == 0 && entry[kl] == '=';
}

/* environ with the extra entries replacing any of the same name; malloc'd */
static char **
build_env(const char *const *extra)
{
	size_t		n = 0,
				ne = 0,
				o = 0;
	char	  **env;

	while (environ[n])
		n++;
	while (extra && extra[ne])
		ne++;
	env = calloc(n + ne + 1, sizeof(char *));
	if (env == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
	{
		bool		replaced = false;

		for (size_t j = 0; j < ne; j++)
			if (env_key_matches(environ[i], extra[j]))
				replaced = true;
		if (!replaced)
			env[o++] = environ[i];
	}
	for (size_t j = 0; j < ne; j++)
		env[o++] = (char *) extra[j];
	env[o] = NULL;
	return env;
}

static void
log_command(const char *label, const char *const *argv)
{
	char		line[3072];
	size_t		o = 0;

	for (int i = 0; argv[i] && o < sizeof(line) - 1; i++)
	{
		int			n = snprintf(line + o, sizeof(line) - o, "%s%s", i ? " " : "", argv[i]);

		if (n < 0)
			break;
		o += (size_t) n;
	}
	sup_log("%s: running %s", label, line);
}

/* In the child: async-signal-safe calls only. */
static void
child_exec(const char *const *argv, char **env, int in_fd, int out_fd, int err_fd,
		   bool own_group)
{
	sigset_t	none;
	struct sigaction sa;

	if (own_group)
		setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);
	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		_exit(127);
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
#endif
		for (int fd = 3; fd < 4096; fd++)
			close(fd);
	execve(argv[0], (char *const *) argv, env);
	{
		static const char msg[] = "exec failed\n";
		ssize_t		ignored = write(2, msg, sizeof(msg) - 1);

		(void) ignored;
	}
	_exit(127);
}

/* Signals a child's process group (falling back to the child alone). */
static void
kill_group(pid_t pid, int sig)
{
	if (kill(-pid, sig) != 0)
		kill(pid, sig);
}

void
run_describe_status(int status, char *buf, size_t cap)
{
	if (WIFEXITED(status))
		snprintf(buf, cap, "exit code %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, cap, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, cap, "status %d", status);
}

int
run_program(const RunSpec *rs)
{
	int			out_pipe[2] = {-1, -1},
				err_pipe[2] = {-1, -1},
				in_pipe[2] = {-1, -1};
	int			devnull;
	char	  **env;
	pid_t		pid;
	const char *guarded[RUN_MAX_ARGS + 4];
	char		ppid[24];
	LineBuf    *out_lb,
			   *err_lb;
	size_t		cap_len = 0,
				in_off = 0,
				in_len = rs->stdin_data ? strlen(rs->stdin_data) : 0;
	long long	start = now_ms();
	long long	kill_at = 0;
	bool		interrupted = false,
				timed_out = false,
				exited = false;
	int			status = 0;
	int			result;

	if (!rs->quiet)
		log_command(rs->label, rs->argv);
	env = build_env(rs->env);
	out_lb = calloc(1, sizeof(LineBuf));
	err_lb = calloc(1, sizeof(LineBuf));
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (env == NULL || out_lb == NULL || err_lb == NULL || devnull < 0 ||
		pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0 ||
		(rs->stdin_data && pipe2(in_pipe, O_CLOEXEC) != 0))
	{
		sup_log("%s: could not prepare to run: %s", rs->label, strerror(errno));
		result = RUN_FAILED_TO_START;
		goto out_close;
	}
	out_lb->label = err_lb->label = rs->label;
	if (rs->capture && rs->capture_cap > 0)
		rs->capture[0] = '\0';

	/* under its guard: it ends, children and all, should we die */
	if (!guard_wrap(rs->argv, guarded, RUN_MAX_ARGS + 4, ppid, sizeof(ppid)))
	{
		sup_log("%s: too many arguments", rs->label);
		result = RUN_FAILED_TO_START;
		goto out_close;
	}
	pid = fork();
	if (pid < 0)
	{
		sup_log("%s: could not fork: %s", rs->label, strerror(errno));
		result = RUN_FAILED_TO_START;
		goto out_close;
	}
	if (pid == 0)
		child_exec(guarded, env, rs->stdin_data ? in_pipe[0] : devnull,
				   out_pipe[1], rs->capture ? err_pipe[1] : out_pipe[1], true);
	setpgid(pid, pid);			/* its own group: a stop reaches its helpers too */

	close(out_pipe[1]);
	close(err_pipe[1]);
	out_pipe[1] = err_pipe[1] = -1;
	if (rs->stdin_data)
	{
		close(in_pipe[0]);
		in_pipe[0] = -1;
		fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
	}
	fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
	fcntl(err_pipe[0], F_SETFL, O_NONBLOCK);

	while (!exited || out_pipe[0] >= 0 || err_pipe[0] >= 0)
	{
		struct pollfd pfd[5];
		int			n = 0,
					i_sig,
					i_out = -1,
					i_err = -1,
					i_in = -1,
					i_relay = -1;
		long long	now = now_ms();

		/* the deadline, and how a stopping child is pushed harder */
		if (!exited && !timed_out && rs->timeout_ms > 0 && now - start > rs->timeout_ms)
		{
			sup_log("%s: still running after %d ms, stopping it", rs->label, rs->timeout_ms);
			timed_out = true;
			kill_group(pid, SIGTERM);
			kill_at = now + 10000;
		}
		if (!exited && kill_at && now >= kill_at)
		{
			kill_group(pid, SIGKILL);
			kill_at = 0;
		}
		if (exited && now - start > 0 && (out_pipe[0] >= 0 || err_pipe[0] >= 0))
		{
			/* the child is gone; a grandchild may hold the pipes: drain briefly */
			static const int grace_ms = 2000;

			if (kill_at == 0)
				kill_at = now + grace_ms;
			else if (now >= kill_at)
				break;
		}

		i_sig = n;
		pfd[n].fd = sig_pipe[0];
		pfd[n++].events = POLLIN;
		if (out_pipe[0] >= 0)
		{
			i_out = n;
			pfd[n].fd = out_pipe[0];
			pfd[n++].events = POLLIN;
		}
		if (err_pipe[0] >= 0)
		{
			i_err = n;
			pfd[n].fd = err_pipe[0];
			pfd[n++].events = POLLIN;
		}
		if (in_pipe[1] >= 0)
		{
			i_in = n;
			pfd[n].fd = in_pipe[1];
			pfd[n++].events = POLLOUT;
		}
		if (relay_fd >= 0)
		{
			i_relay = n;
			pfd[n].fd = relay_fd;
			pfd[n++].events = POLLIN;
		}
		if (poll(pfd, (nfds_t) n, 100) < 0 && errno != EINTR)
			break;

		if (pfd[i_sig].revents & POLLIN)
		{
			sig_drain();
			if (rs->interruptible && sig_stop_pending() && !interrupted && !exited)
			{
				sup_log("%s: stopping it (the supervisor was asked to stop)", rs->label);
				interrupted = true;
				kill_group(pid, SIGTERM);
				kill_at = now_ms() + 10000;
			}
		}
		if (i_out >= 0 && (pfd[i_out].revents & (POLLIN | POLLHUP | POLLERR)))
		{
			if (rs->capture)
			{
				for (;;)
				{
					char		tmp[4096];
					ssize_t		r = read(out_pipe[0], tmp, sizeof(tmp));

					if (r > 0)
					{
						size_t		take = (size_t) r;

						if (cap_len + take >= rs->capture_cap)
							take = rs->capture_cap - 1 - cap_len;
						memcpy(rs->capture + cap_len, tmp, take);
						cap_len += take;
						rs->capture[cap_len] = '\0';
						continue;
					}
					if (r < 0 && errno == EINTR)
						continue;
					if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
					{
						close(out_pipe[0]);
						out_pipe[0] = -1;
					}
					break;
				}
			}
			else if (!lb_read(out_lb, out_pipe[0]))
			{
				close(out_pipe[0]);
				out_pipe[0] = -1;
			}
		}
		if (i_err >= 0 && (pfd[i_err].revents & (POLLIN | POLLHUP | POLLERR)))
		{
			bool		open_still;

			if (rs->capture_stderr)
			{
				char		tmp[4096];
				ssize_t		r = read(err_pipe[0], tmp, sizeof(tmp));

				open_still = r > 0 || (r < 0 && (errno == EAGAIN || errno == EINTR));
				if (r > 0)
				{
					size_t		take = (size_t) r;

					lb_feed(err_lb, tmp, take);
					if (cap_len + take >= rs->capture_cap)
						take = rs->capture_cap - 1 - cap_len;
					memcpy(rs->capture + cap_len, tmp, take);
					cap_len += take;
					rs->capture[cap_len] = '\0';
				}
				else
					lb_flush(err_lb);
			}
			else
				open_still = lb_read(err_lb, err_pipe[0]);
			if (!open_still)
			{
				close(err_pipe[0]);
				err_pipe[0] = -1;
			}
		}
		if (i_in >= 0 && (pfd[i_in].revents & (POLLOUT | POLLERR | POLLHUP)))
		{
			ssize_t		w = write(in_pipe[1], rs->stdin_data + in_off, in_len - in_off);

			if (w > 0)
				in_off += (size_t) w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || in_off >= in_len)
			{
				close(in_pipe[1]);
				in_pipe[1] = -1;
			}
		}
		if (i_relay >= 0 && (pfd[i_relay].revents & (POLLIN | POLLHUP | POLLERR)))
			relay_pump();

		if (!exited)
		{
			pid_t		w = waitpid(pid, &status, WNOHANG);

			if (w == pid)
			{
				exited = true;
				kill_at = 0;
			}
		}
	}
	if (!exited)
	{
		/* the pipes closed first (or poll failed): collect it */
		if (waitpid(pid, &status, 0) != pid)
			status = 0;
	}
	lb_flush(out_lb);
	lb_flush(err_lb);

	if (interrupted)
		result = RUN_INTERRUPTED;
	else if (timed_out)
		result = RUN_TIMED_OUT;
	else if (WIFEXITED(status))
		result = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		result = 128 + WTERMSIG(status);
	else
		result = RUN_FAILED_TO_START;

	if (result != 0 && !(rs->nonzero_ok && result > 0))
	{
		char		desc[64];

		if (rs->quiet)
			log_command(rs->label, rs->argv);
		run_describe_status(status, desc, sizeof(desc));
		sup_log("%s: failed (%s)%s", rs->label, desc,
				interrupted ? ", interrupted" : timed_out ? ", timed out" : "");
	}

out_close:
	for (int i = 0; i < 2; i++)
	{
		if (out_pipe[i] >= 0)
			close(out_pipe[i]);
		if (err_pipe[i] >= 0)
			close(err_pipe[i]);
		if (in_pipe[i] >= 0)
			close(in_pipe[i]);
	}
	if (devnull >= 0)
		close(devnull);
	free(env);
	free(out_lb);
	free(err_lb);
	return result;
}

pid_t
run_spawn(const char *label, const char *const *argv, const char *const *env_extra,
		  const char *log_path)
{
	int			devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int			out_fd = -1;
	int			pipefd[2] = {-1, -1};
	char	  **env = build_env(env_extra);
	pid_t		pid;

	log_command(label, argv);
	if (devnull < 0 || env == NULL)
	{
		sup_log("%s: could not prepare to run: %s", label, strerror(errno));
		goto fail;
	}
	if (log_path && log_path[0])
	{
		out_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (out_fd < 0)
		{
			sup_log("%s: could not open log_file \"%s\": %s", label, log_path, strerror(errno));
			goto fail;
		}
	}
	else
	{
		if (pipe2(pipefd, O_CLOEXEC) != 0)
		{
			sup_log("%s: could not create a pipe: %s", label, strerror(errno));
			goto fail;
		}
		out_fd = pipefd[1];
	}

	pid = fork();
	if (pid < 0)
	{
		sup_log("%s: could not fork: %s", label, strerror(errno));
		goto fail;
	}
	if (pid == 0)
		child_exec(argv, env, devnull, out_fd, out_fd, true);
	/* both sides, so that a signal to the group never races the child's setpgid */
	setpgid(pid, pid);

	close(devnull);
	close(out_fd);
	free(env);
	if (pipefd[0] >= 0)
	{
		fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
		relay_lb.label = label;
		relay_lb.len = 0;
		run_set_relay_fd(pipefd[0]);
	}
	return pid;

fail:
	if (devnull >= 0)
		close(devnull);
	if (out_fd >= 0)
		close(out_fd);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	free(env);
	return -1;
}

pid_t
run_spawn_detached(const char *label, const char *const *argv)
{
	int			devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	char	  **env = build_env(NULL);
	pid_t		pid = -1;

	if (devnull < 0 || env == NULL)
		sup_log("%s: could not prepare to run: %s", label, strerror(errno));
	else if ((pid = fork()) < 0)
		sup_log("%s: could not fork: %s", label, strerror(errno));
	else if (pid == 0)
		child_exec(argv, env, devnull, STDERR_FILENO, STDERR_FILENO, true);
	else
		setpgid(pid, pid);
	if (devnull >= 0)
		close(devnull);
	free(env);
	return pid;
}
