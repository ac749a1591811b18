/*-------------------------------------------------------------------------
 *
 * dyn_config.h
 *	  The cluster-wide ("dynamic") configuration in the /config key, in
 *	  Patroni's JSON: {"ttl": 30, "loop_wait": 10, "retry_timeout": 10,
 *	  "maximum_lag_on_failover": 1048576, "synchronous_mode": false, ...,
 *	  "postgresql": {"parameters": {...}}}.  Pure C.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DYN_CONFIG_H
#define DYN_CONFIG_H

#include "ha_types.h"
#include "json_writer.h"

typedef struct HaDynConfig
{
	int			ttl;			/* seconds */
	int			loop_wait;
	int			retry_timeout;
	uint64_t	maximum_lag_on_failover;	/* bytes */
	bool		synchronous_mode;
	bool		synchronous_mode_strict;
	int			primary_start_timeout;	/* seconds */
	bool		pause;
} HaDynConfig;

/* The key as a node seeds it from its own settings (no parameters yet). */
extern void dyn_config_render(const HaDynConfig *c, JsonBuf *jb);

#endif							/* DYN_CONFIG_H */
