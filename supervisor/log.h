/*-------------------------------------------------------------------------
 *
 * log.h
 *	  The supervisor's log: one line per event on stderr,
 *	  "pg_ha_supervisor[<pid>] <ISO time> <name>: message".
 *
 *-------------------------------------------------------------------------
 */
#ifndef SUP_LOG_H
#define SUP_LOG_H

/* The node name in every line ("-" until the configuration is read). */
extern void sup_log_set_name(const char *name);

extern void sup_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes "<prefix>: <text>" as one log line (text need not end in \n). */
extern void sup_log_prefixed(const char *prefix, const char *text, size_t len);

#endif							/* SUP_LOG_H */
