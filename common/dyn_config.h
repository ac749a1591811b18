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
#include "slot_name.h"

#define HA_DYN_MAX_PARAMS	64
#define HA_DYN_PARAM_NAME_LEN	64
#define HA_DYN_PARAM_VALUE_LEN	256
#define HA_DYN_MAX_SLOTS	32	/* permanent slots ("slots") */

/* One of postgresql.parameters, its value as postgresql.conf would hold it. */
typedef struct HaDynParam
{
	char		name[HA_DYN_PARAM_NAME_LEN];
	char		value[HA_DYN_PARAM_VALUE_LEN];
} HaDynParam;

typedef struct HaDynConfig
{
	int			ttl;			/* seconds */
	int			loop_wait;
	int			retry_timeout;
	uint64_t	maximum_lag_on_failover;	/* bytes */
	bool		synchronous_mode;
	bool		synchronous_mode_strict;
	int			primary_start_timeout;	/* seconds */
	bool		use_slots;		/* postgresql.use_slots */
	int			member_slots_ttl;	/* seconds */
	bool		pause;
	int			nparams;
	HaDynParam	params[HA_DYN_MAX_PARAMS];
	int			nslots;			/* permanent slots, all physical */
	char		slots[HA_DYN_MAX_SLOTS][SLOT_NAME_LEN];
} HaDynConfig;

/* pg_ha's defaults (the pg_ha.* settings'), for what /config leaves out. */
#define HA_DEFAULT_TTL					10
#define HA_DEFAULT_LOOP_WAIT			1
#define HA_DEFAULT_RETRY_TIMEOUT		5
#define HA_DEFAULT_MAXIMUM_LAG			1048576
#define HA_DEFAULT_PRIMARY_START_TIMEOUT 0
#define HA_DEFAULT_USE_SLOTS			true
#define HA_DEFAULT_MEMBER_SLOTS_TTL		1800	/* Patroni's 30min */

extern void dyn_config_defaults(HaDynConfig *c);

/* The key as a node seeds it from its own settings. */
extern void dyn_config_render(const HaDynConfig *c, JsonBuf *jb);

/*
 * Reads the key over defaults (what a key leaves out keeps the value c
 * holds: the node's own settings).  False, with the reason in err, when it
 * is not an object, a known setting has the wrong type or is out of range
 * (the same ranges as the pg_ha.* settings), the settings contradict each
 * other (loop_wait and retry_timeout must be less than ttl), or a
 * parameter is malformed or one pg_ha manages itself; c is then
 * unchanged.  Keys pg_ha does not know (Patroni has many) are ignored, as
 * is everything in "postgresql" but "parameters" and "use_slots".
 * member_slots_ttl is whole seconds or, as Patroni writes it, a string
 * with a unit ("30min", "1h", "90s", "1d").  A parameter's value is
 * a string, a number or a boolean ("on"/"off").  "slots" holds Patroni's
 * permanent slots, {"name": {"type": "physical"}, ...}: a name is
 * [a-z0-9_], at most 63 bytes; "type" may be left out (physical); a
 * logical slot is refused (pg_ha keeps physical permanent slots only); a
 * slot whose value is null is not declared.
 */
extern bool dyn_config_parse(const char *data, size_t len, HaDynConfig *c,
							 char *err, size_t errlen);

/* Is name a parameter pg_ha sets itself (refused in postgresql.parameters)? */
extern bool dyn_config_managed_parameter(const char *name);

#endif							/* DYN_CONFIG_H */
