/*-------------------------------------------------------------------------
 *
 * guard.h
 *	  A program the supervisor waits for (pg_basebackup, pg_rewind, initdb)
 *	  runs under a guard, so that it ends, children and all, should the
 *	  supervisor die (kill -9, the OOM killer): the next supervisor never
 *	  finds it still writing the data directory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARD_H
#define GUARD_H

#include <stdbool.h>
#include <stddef.h>

/*
 * argv (NULL-terminated) run under the guard, into out (cap entries); ppid
 * holds this process's pid as text and must live as long as out.  False
 * if out is too small.  Called before fork().
 */
extern bool guard_wrap(const char *const *argv, const char **out, int cap,
					   char *ppid, size_t ppid_cap);

/* "pg_ha_supervisor --guard PPID PROGRAM [ARG...]": argv from PPID on */
extern int	guard_main(int argc, char **argv);

#endif							/* GUARD_H */
