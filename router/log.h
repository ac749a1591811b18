/*
 * log.h - leveled logging to stderr.  The threshold lives in a Logger that
 * the loop context owns (no global state); files log through ctx->log.
 */
#ifndef ROUTER_LOG_H
#define ROUTER_LOG_H

#include <stdbool.h>

#include "util.h"

typedef enum LogLevel
{
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR
} LogLevel;

typedef struct Logger
{
	LogLevel	min_level;
} Logger;

void		log_write(const Logger *logger, LogLevel level, const char *fmt, ...)
			PRINTF_LIKE(3, 4);
bool		log_level_parse(const char *name, LogLevel *out);
const char *log_level_name(LogLevel level);

#define log_debug(lg, ...) log_write((lg), LOG_DEBUG, __VA_ARGS__)
#define log_info(lg, ...) log_write((lg), LOG_INFO, __VA_ARGS__)
#define log_warn(lg, ...) log_write((lg), LOG_WARN, __VA_ARGS__)
#define log_error(lg, ...) log_write((lg), LOG_ERROR, __VA_ARGS__)

#endif
