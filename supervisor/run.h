/*-------------------------------------------------------------------------
 *
 * run.h
 *	  Signals (a self-pipe), the one wait primitive every loop of the
 *	  supervisor uses, and the one wrapper through which every external
 *	  program (initdb, pg_basebackup, pg_rewind, pg_controldata, postgres)
 *	  is run: it logs the command line (passwords never appear in it:
 *	  they travel in the child's environment or on its stdin) and every
 *	  output line, prefixed with the program's name.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SUP_RUN_H
#define SUP_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* ---- signals ---- */

/* Installs handlers for TERM, INT, QUIT, HUP, USR1, CHLD; ignores PIPE.  False (logged) without a signal pipe. */
extern bool sig_setup(void);

/* Consumes a pending signal: true if signo arrived since the last take. */
extern bool sig_take(int signo);

/* SIGTERM, SIGINT or SIGQUIT arrived and was not taken yet. */
extern bool sig_stop_pending(void);

/* ---- waiting ---- */

/* Where postgres' output comes from (-1: none, it writes to a file). */
extern void run_set_relay_fd(int fd);

/*
 * Waits up to ms milliseconds, relaying postgres' output meanwhile.
 * Returns early (true) when a signal arrives.
 */
extern bool sup_wait(int ms);

/* Milliseconds of a monotonic clock. */
extern long long now_ms(void);

/* ---- programs ---- */

#define RUN_FAILED_TO_START	(-1)
#define RUN_INTERRUPTED		(-2)	/* a stop signal arrived; the child was stopped */
#define RUN_TIMED_OUT		(-3)

/* the most arguments (argv[0] included) of a program run_program runs */
#define RUN_MAX_ARGS	32

typedef struct RunSpec
{
	const char *label;			/* prefix of its log lines: "initdb" */
	const char *const *argv;	/* argv[0]: full path; NULL-terminated, at most RUN_MAX_ARGS */
	const char *const *env;		/* extra "KEY=value" (never logged), NULL-terminated */
	const char *stdin_data;		/* written to its stdin (never logged); NULL: /dev/null */
	char	   *capture;		/* stdout captured here (not logged), NUL-terminated */
	size_t		capture_cap;
	bool		capture_stderr; /* stderr goes to capture too (and is still logged) */
	int			timeout_ms;		/* 0: none */
	bool		interruptible;	/* a stop signal stops the child (else it runs to its end) */
	bool		quiet;			/* log the command line only on failure */
	bool		nonzero_ok;		/* a non-zero exit is expected: no "failed" line */
} RunSpec;

/*
 * Runs a program to its end.  Returns its exit code (0..255), 128 + the
 * signal that killed it, or one of the RUN_* codes above.
 */
extern int	run_program(const RunSpec *rs);

/* RunSpec.env for a tool whose output is parsed: messages in English, C locale */
extern const char *const run_c_locale_env[];

/*
 * Starts a long-running program (postgres) in its own process group, with
 * stdout and stderr into log_path (appended) or, when log_path is NULL or
 * empty, into a pipe that sup_wait relays with the label as prefix.
 * Returns its pid, or -1.
 */
extern pid_t run_spawn(const char *label, const char *const *argv, const char *const *env,
					   const char *log_path);

/*
 * Starts a program in its own process group, stdin /dev/null, its stdout
 * and stderr our stderr (for a program whose lines are log lines
 * already: the callback runner).  Not logged, not waited for.  Returns
 * its pid, or -1 (logged).
 */
extern pid_t run_spawn_detached(const char *label, const char *const *argv);

/* Renders an exit status for the log: "exit code 1", "signal 9 (Killed)". */
extern void run_describe_status(int status, char *buf, size_t cap);

#endif							/* SUP_RUN_H */
