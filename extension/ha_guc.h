/*-------------------------------------------------------------------------
 *
 * ha_guc.h
 *	  pg_ha's configuration: the pg_ha.* GUCs.
 *
 *-------------------------------------------------------------------------
 */
#ifndef HA_GUC_H
#define HA_GUC_H

extern char *ha_zk_hosts;
extern char *ha_namespace;
extern char *ha_scope;
extern char *ha_name;
extern char *ha_connect_address;
extern char *ha_api_listen;
extern char *ha_api_connect_address;
extern char *ha_api_auth;
extern int	ha_api_max_connections;
extern char *ha_api_certfile;
extern char *ha_api_keyfile;
extern char *ha_api_cafile;
extern int	ha_api_verify_client;	/* HaTlsVerify */
extern char *ha_api_allowlist;
extern bool ha_api_allowlist_include_members;

#define HA_ALLOWLIST_MAX 64		/* entries in pg_ha.api_allowlist */
extern int	ha_ttl;
extern int	ha_loop_wait;
extern int	ha_retry_timeout;
extern bool ha_synchronous_mode;
extern bool ha_synchronous_mode_strict;
extern int	ha_maximum_lag_on_failover;
extern int	ha_primary_start_timeout;
extern bool ha_use_slots;
extern int	ha_member_slots_ttl;
extern bool ha_nofailover;
extern bool ha_noloadbalance;
extern bool ha_nosync;
extern bool ha_clonefrom;
extern bool ha_auto_reclone;
extern char *ha_replication_user;
extern char *ha_replication_password;
extern int	ha_test_hold_after_commit_ms;
extern int	ha_test_config_write_delay_ms;

extern void ha_define_gucs(void);

/*
 * Checks that need more than one setting (ttl > retry_timeout, ...).
 * Returns NULL when consistent, else a message for the log and the API.
 */
extern const char *ha_config_problem(void);

#endif							/* HA_GUC_H */
