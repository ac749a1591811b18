/*-------------------------------------------------------------------------
 *
 * conf.h
 *	  The node configuration file of pg_ha_supervisor ("key = value"
 *	  lines) and what the supervisor derives from it: the pg_ha.conf that
 *	  postgres includes, and the quoting rules of postgresql.conf and
 *	  libpq connection strings.
 *
 * Everything here is pure (no I/O, no globals): the parser (conf.c) takes
 * the file's text and returns either a complete NodeConf or an error that
 * names the file and line; what is written from a NodeConf is in
 * conf_render.c.  Unit-tested in tests/test_conf.c, fuzzed in
 * tests/fuzz/fuzz_supervisor_conf.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SUP_CONF_H
#define SUP_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONF_NAME_LEN	64
#define CONF_STR_LEN	256
#define CONF_PATH_LEN	1024
#define CONF_MAX_PG		128
#define CONF_MAX_HBA	64
#define CONF_HBA_LEN	512

typedef struct ConfParam
{
	char		name[CONF_NAME_LEN];
	char		value[CONF_PATH_LEN];
} ConfParam;

typedef struct NodeConf
{
	char		name[CONF_NAME_LEN];
	char		scope[CONF_NAME_LEN];
	char		namespace_[CONF_STR_LEN];
	char		zk_hosts[CONF_PATH_LEN];
	char		data_dir[CONF_PATH_LEN];
	char		bin_dir[CONF_PATH_LEN];
	char		listen_addresses[CONF_STR_LEN];
	int			port;
	char		connect_address[CONF_STR_LEN];
	char		connect_host[CONF_STR_LEN];	/* derived from connect_address */
	char		api_listen[CONF_STR_LEN];
	char		api_connect_address[CONF_STR_LEN];
	char		api_auth[CONF_STR_LEN];
	char		api_certfile[CONF_PATH_LEN];	/* the API's TLS (Patroni's restapi.certfile) */
	char		api_keyfile[CONF_PATH_LEN];
	char		api_cafile[CONF_PATH_LEN];
	char		api_verify_client[16];	/* none, optional, required */
	char		api_allowlist[CONF_PATH_LEN];
	bool		api_allowlist_include_members;
	char		superuser[CONF_NAME_LEN];
	char		superuser_password[CONF_STR_LEN];
	char		replication_user[CONF_NAME_LEN];
	char		replication_password[CONF_STR_LEN];
	int			ttl;			/* seconds */
	int			loop_wait;
	int			retry_timeout;
	bool		synchronous_mode;
	bool		synchronous_mode_strict;
	int64_t		maximum_lag_on_failover;	/* bytes */
	int			primary_start_timeout;	/* seconds */
	bool		use_slots;		/* Patroni's postgresql.use_slots */
	int			member_slots_ttl;	/* seconds */
	bool		nofailover;
	bool		noloadbalance;
	bool		nosync;
	bool		clonefrom;
	bool		use_pg_rewind;
	bool		auto_reclone;	/* re-clone a stranded replica (pg_ha.auto_reclone) */
	int			basebackup_max_rate;	/* kB/s, pg_basebackup --max-rate; 0 = unthrottled */
	int			wal_keep_segments;	/* pg.wal_keep_segments as given (-1: not); see conf.c */
	char		log_file[CONF_PATH_LEN];
	/* callbacks (Patroni's postgresql.callbacks): absolute paths, "" = none */
	char		on_start[CONF_PATH_LEN];
	char		on_stop[CONF_PATH_LEN];
	char		on_restart[CONF_PATH_LEN];
	char		on_reload[CONF_PATH_LEN];
	char		on_role_change[CONF_PATH_LEN];
	int			callback_timeout;	/* seconds */
	int			npg;
	ConfParam	pg[CONF_MAX_PG];	/* pg.<param> = value, in file order */
	int			nhba;
	char		hba[CONF_MAX_HBA][CONF_HBA_LEN];
} NodeConf;

/*
 * Parses a node configuration.  text need not be NUL-terminated (len
 * bytes); filename is used in messages only; pgdata is $PGDATA (or NULL),
 * the default of data_dir.  On error returns false with a message like
 * "node.conf:12: unknown key \"foo\"" in err.
 */
extern bool conf_parse(const char *text, size_t len, const char *filename,
					   const char *pgdata, NodeConf *c, char *err, size_t errlen);

/* conf_render.c */

/*
 * Renders the pg_ha.conf that postgres includes (port, listen_addresses,
 * shared_preload_libraries, every pg_ha.* setting, every pg.<param>).
 * Returns the length, or -1 if cap is too small; CONF_PG_HA_CONF_MAX
 * bytes hold that of any configuration conf_parse accepts (at most
 * CONF_MAX_PG + 32 lines, none longer than a name and a value of twice
 * CONF_PATH_LEN, quoted).
 */
#define CONF_PG_HA_CONF_MAX ((CONF_MAX_PG + 32) * (CONF_NAME_LEN + 4 * CONF_PATH_LEN + 24))

extern int	conf_render_pg_ha_conf(const NodeConf *c, char *buf, size_t cap);

/* The pg.<name> parameter of the node configuration, or NULL. */
extern const ConfParam *conf_pg_param(const NodeConf *c, const char *name);

/*
 * Quotes a value for postgresql.conf: 'it''s' (backslashes doubled too,
 * since the server's configuration scanner treats them as escapes).
 * Returns the length, or -1 if cap is too small.
 */
extern int	conf_quote(const char *value, char *buf, size_t cap);

/* Parses on/off/true/false/yes/no/1/0 (any case). */
extern bool conf_parse_bool(const char *s, bool *out);

#endif							/* SUP_CONF_H */
