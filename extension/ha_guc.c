/*-------------------------------------------------------------------------
 *
 * ha_guc.c
 *	  Defines and validates the pg_ha.* settings.
 *
 * Each setting is checked on its own by a check hook, so a bad value is
 * refused by SET / ALTER SYSTEM / a reload with a clear message.  Settings
 * that must agree with each other (ttl > retry_timeout) are checked by
 * ha_config_problem(), which the agent runs at start and after each reload:
 * a check hook cannot see the final value of the other setting while
 * postgresql.conf is still being read.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "utils/guc.h"

#include "addr.h"
#include "dyn_config.h"
#include "allowlist.h"
#include "ha_guc.h"
#include "ha_tls.h"

char	   *ha_zk_hosts = NULL;
char	   *ha_namespace = NULL;
char	   *ha_scope = NULL;
char	   *ha_name = NULL;
char	   *ha_connect_address = NULL;
char	   *ha_api_listen = NULL;
char	   *ha_api_connect_address = NULL;
char	   *ha_api_auth = NULL;
int			ha_api_max_connections = 32;
char	   *ha_api_certfile = NULL;
char	   *ha_api_keyfile = NULL;
char	   *ha_api_cafile = NULL;
int			ha_api_verify_client = HA_TLS_VERIFY_NONE;
char	   *ha_api_allowlist = NULL;
bool		ha_api_allowlist_include_members = false;
int			ha_ttl = 10;
int			ha_loop_wait = 1;
int			ha_retry_timeout = 5;
bool		ha_synchronous_mode = false;
bool		ha_synchronous_mode_strict = false;
int			ha_maximum_lag_on_failover = 1048576;
int			ha_primary_start_timeout = 0;
bool		ha_use_slots = true;
int			ha_member_slots_ttl = HA_DEFAULT_MEMBER_SLOTS_TTL;
bool		ha_nofailover = false;
bool		ha_noloadbalance = false;
bool		ha_nosync = false;
bool		ha_clonefrom = false;
bool		ha_auto_reclone = true;
char	   *ha_replication_user = NULL;
char	   *ha_replication_password = NULL;
int			ha_test_hold_after_commit_ms = 0;
int			ha_test_config_write_delay_ms = 0;

static bool
check_zk_hosts(char **newval, void **extra, GucSource source)
{
	char		why[128];

	if (!addr_valid_zk_hosts(*newval, why, sizeof(why)))
	{
		GUC_check_errdetail("%s.", why);
		GUC_check_errhint("Use a comma-separated list of host:port, optionally followed by a chroot path, e.g. \"zk1:2181,zk2:2181/pg_ha\".");
		return false;
	}
	return true;
}

/* Optional host:port ("" means derive it). */
static bool
check_host_port(char **newval, void **extra, GucSource source)
{
	char		why[128];

	if (*newval == NULL || **newval == '\0')
		return true;
	if (!addr_parse_host_port(*newval, NULL, 0, NULL, why, sizeof(why)))
	{
		GUC_check_errdetail("%s.", why);
		GUC_check_errhint("Use host:port, e.g. \"127.0.0.1:8008\", \"[::1]:8008\" or \"*:8008\".");
		return false;
	}
	return true;
}

static bool
check_api_listen(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || **newval == '\0')
	{
		GUC_check_errdetail("The HTTP API needs a listen address.");
		GUC_check_errhint("Use host:port, e.g. \"*:8008\".");
		return false;
	}
	return check_host_port(newval, extra, source);
}

/* A name that is safe as a znode name, an application_name and a slot name. */
static bool
check_name(char **newval, void **extra, GucSource source)
{
	const char *s = *newval;

	if (s == NULL || *s == '\0')
		return true;			/* empty: the host name is used */
	if (strlen(s) >= HA_NAME_LEN)
	{
		GUC_check_errdetail("The name is longer than %d characters.", HA_NAME_LEN - 1);
		return false;
	}
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			  (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
		{
			GUC_check_errdetail("The name contains \"%c\".", *s);
			GUC_check_errhint("Use letters, digits, \"_\", \"-\" and \".\" only.");
			return false;
		}
	return true;
}

static bool
check_scope(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || **newval == '\0')
	{
		GUC_check_errdetail("The cluster scope must not be empty.");
		return false;
	}
	return check_name(newval, extra, source);
}

static bool
check_role_name(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || **newval == '\0' || strlen(*newval) >= NAMEDATALEN)
	{
		GUC_check_errdetail("A user name of 1 to %d characters is needed.", NAMEDATALEN - 1);
		return false;
	}
	return true;
}

static bool
check_namespace(char **newval, void **extra, GucSource source)
{
	const char *s = *newval;

	if (s == NULL || s[0] != '/' || (s[1] != '\0' && s[strlen(s) - 1] == '/') ||
		strstr(s, "//") != NULL || strlen(s) > 200)
	{
		GUC_check_errdetail("The namespace must be a ZooKeeper path like \"/service\".");
		return false;
	}
	return true;
}

static bool
check_api_auth(char **newval, void **extra, GucSource source)
{
	if (*newval != NULL && **newval != '\0' && strchr(*newval, ':') == NULL)
	{
		GUC_check_errdetail("The value must have the form \"user:password\".");
		return false;
	}
	return true;
}

static const struct config_enum_entry verify_client_options[] = {
	{"none", HA_TLS_VERIFY_NONE, false},
	{"optional", HA_TLS_VERIFY_OPTIONAL, false},
	{"required", HA_TLS_VERIFY_REQUIRED, false},
	{NULL, 0, false}
};

static bool
check_allowlist(char **newval, void **extra, GucSource source)
{
	AllowEntry *entries = palloc(sizeof(AllowEntry) * HA_ALLOWLIST_MAX);
	char		why[160];
	int			n = allowlist_parse(*newval, entries, HA_ALLOWLIST_MAX, why, sizeof(why));

	pfree(entries);
	if (n < 0)
	{
		GUC_check_errdetail("%s.", why);
		GUC_check_errhint("Use addresses, CIDRs or host names, comma separated, e.g. \"10.0.0.0/8, ::1, admin.example.com\".");
		return false;
	}
	return true;
}

void
ha_define_gucs(void)
{
	DefineCustomStringVariable("pg_ha.zk_hosts",
							   "ZooKeeper ensemble: host:port list, optional chroot.",
							   NULL, &ha_zk_hosts, "127.0.0.1:2181",
							   PGC_POSTMASTER, 0, check_zk_hosts, NULL, NULL);
	DefineCustomStringVariable("pg_ha.namespace",
							   "ZooKeeper path under which clusters live.",
							   NULL, &ha_namespace, "/service",
							   PGC_POSTMASTER, 0, check_namespace, NULL, NULL);
	DefineCustomStringVariable("pg_ha.scope",
							   "Name of the cluster (same on every node).",
							   NULL, &ha_scope, "pg_ha",
							   PGC_POSTMASTER, 0, check_scope, NULL, NULL);
	DefineCustomStringVariable("pg_ha.name",
							   "Name of this node, unique in the cluster.",
							   "Empty means the host name.",
							   &ha_name, "",
							   PGC_POSTMASTER, 0, check_name, NULL, NULL);
	DefineCustomStringVariable("pg_ha.connect_address",
							   "host:port at which other nodes and clients reach this postgres.",
							   "Empty means 127.0.0.1 and this server's port.",
							   &ha_connect_address, "",
							   PGC_POSTMASTER, 0, check_host_port, NULL, NULL);
	DefineCustomStringVariable("pg_ha.api_listen",
							   "host:port on which the HTTP API listens.",
							   NULL, &ha_api_listen, "*:8008",
							   PGC_POSTMASTER, 0, check_api_listen, NULL, NULL);
	DefineCustomStringVariable("pg_ha.api_connect_address",
							   "host:port at which others reach the HTTP API.",
							   "Empty means the connect_address host and the api_listen port.",
							   &ha_api_connect_address, "",
							   PGC_POSTMASTER, 0, check_host_port, NULL, NULL);
	DefineCustomStringVariable("pg_ha.api_auth",
							   "user:password required by the HTTP API's POST endpoints.",
							   "Empty: POST endpoints are refused unless the API listens on loopback only.",
							   &ha_api_auth, "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL,
							   check_api_auth, NULL, NULL);
	DefineCustomIntVariable("pg_ha.api_max_connections",
							"Maximum concurrent HTTP API connections.",
							NULL, &ha_api_max_connections, 32, 1, 256,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("pg_ha.api_certfile",
							   "Certificate (PEM, with its chain) of the HTTP API: set, the API speaks TLS.",
							   "Patroni's restapi.certfile.  Empty: plain HTTP only.",
							   &ha_api_certfile, "",
							   PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("pg_ha.api_keyfile",
							   "Private key (PEM) of pg_ha.api_certfile.",
							   "Empty: the key is in the certificate file.",
							   &ha_api_keyfile, "",
							   PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("pg_ha.api_cafile",
							   "CA certificates (PEM) that client certificates of the HTTP API are verified against.",
							   NULL, &ha_api_cafile, "",
							   PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("pg_ha.api_verify_client",
							 "Client certificates on the HTTP API: none, optional (unsafe endpoints need one) or required.",
							 NULL, &ha_api_verify_client, HA_TLS_VERIFY_NONE, verify_client_options,
							 PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("pg_ha.api_allowlist",
							   "Who may call the HTTP API's unsafe endpoints (POST, PATCH, PUT, DELETE): addresses, CIDRs, host names.",
							   "Empty: anyone that authenticates.  Names are resolved at start and at each reload.",
							   &ha_api_allowlist, "",
							   PGC_SIGHUP, 0, check_allowlist, NULL, NULL);
	DefineCustomBoolVariable("pg_ha.api_allowlist_include_members",
							 "The cluster's members may call the unsafe endpoints too (with pg_ha.api_allowlist).",
							 NULL, &ha_api_allowlist_include_members, false,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_ha.ttl",
							"ZooKeeper session timeout: a lost node's leader key expires after it.",
							NULL, &ha_ttl, HA_DEFAULT_TTL, 2, 3600,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_ha.loop_wait",
							"Interval of the agent's heartbeat (member refresh).",
							NULL, &ha_loop_wait, HA_DEFAULT_LOOP_WAIT, 1, 60,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_ha.retry_timeout",
							"A primary out of touch with ZooKeeper this long stops accepting writes.",
							"Must be less than pg_ha.ttl.",
							&ha_retry_timeout, HA_DEFAULT_RETRY_TIMEOUT, 1, 3600,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomBoolVariable("pg_ha.synchronous_mode",
							 "Promote only a synchronous standby; no acknowledged commit is lost.",
							 NULL, &ha_synchronous_mode, false,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("pg_ha.synchronous_mode_strict",
							 "In synchronous mode, block writes when no standby is healthy.",
							 NULL, &ha_synchronous_mode_strict, false,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_ha.maximum_lag_on_failover",
							"A replica further behind than this may not be promoted (bytes).",
							NULL, &ha_maximum_lag_on_failover, HA_DEFAULT_MAXIMUM_LAG, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_BYTE, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_ha.primary_start_timeout",
							"After a crash of the primary, how long to try restarting it in place before failing over.",
							"0 means fail over at once.",
							&ha_primary_start_timeout, HA_DEFAULT_PRIMARY_START_TIMEOUT, 0, 3600,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomBoolVariable("pg_ha.use_slots",
							 "Keep a physical replication slot per member; replicas stream through theirs.",
							 "Like Patroni's postgresql.use_slots: the leader holds the WAL a replica still needs (up to max_slot_wal_keep_size).",
							 &ha_use_slots, true,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_ha.member_slots_ttl",
							"How long the slot of a member that is gone is kept.",
							"0 means it is dropped at once.",
							&ha_member_slots_ttl, HA_DEFAULT_MEMBER_SLOTS_TTL, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomBoolVariable("pg_ha.nofailover", "Tag: this node never becomes leader.",
							 NULL, &ha_nofailover, false,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("pg_ha.noloadbalance", "Tag: /replica answers 503 on this node.",
							 NULL, &ha_noloadbalance, false,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("pg_ha.nosync", "Tag: never chosen as synchronous standby.",
							 NULL, &ha_nosync, false,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("pg_ha.clonefrom", "Tag: preferred source for cloning new nodes.",
							 NULL, &ha_clonefrom, false,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("pg_ha.auto_reclone",
							 "Re-clone this replica from the leader when the WAL it needs is gone from the leader and the archive.",
							 "Off: a stranded replica is only reported (state \"stranded\").",
							 &ha_auto_reclone, true,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);

	DefineCustomStringVariable("pg_ha.replication_user",
							   "User with which replicas stream from the leader.",
							   NULL, &ha_replication_user, "postgres",
							   PGC_SIGHUP, 0, check_role_name, NULL, NULL);
	DefineCustomStringVariable("pg_ha.replication_password",
							   "Password of pg_ha.replication_user (empty: none, e.g. trust or a .pgpass).",
							   NULL, &ha_replication_password, "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL,
							   NULL, NULL, NULL);

	/*
	 * For tests only: holds a committing backend between the commit record
	 * (flushed, and confirmed by the synchronous standby) and the write
	 * gate's second check, where a freeze of the node would catch it.
	 */
	DefineCustomIntVariable("pg_ha.test_hold_after_commit_ms",
							"For tests only: wait this long after a write's commit record is flushed and replicated, before the lease is checked again.",
							"0 (the default) means no wait.  The wait holds the transaction's locks.",
							&ha_test_hold_after_commit_ms, 0, 0, 60000,
							PGC_SUSET, GUC_UNIT_MS | GUC_NOT_IN_SAMPLE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_ha.test_config_write_delay_ms",
							"For tests only: the agent writes a configuration change this long after it checked it.",
							"0 (the default) means at once.  Lets a test change /config in between (a compare-and-set conflict).",
							&ha_test_config_write_delay_ms, 0, 0, 60000,
							PGC_SIGHUP, GUC_UNIT_MS | GUC_NOT_IN_SAMPLE,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("pg_ha");
}

const char *
ha_config_problem(void)
{
	if (ha_retry_timeout >= ha_ttl)
		return "pg_ha.retry_timeout must be less than pg_ha.ttl";
	if (ha_loop_wait >= ha_ttl)
		return "pg_ha.loop_wait must be less than pg_ha.ttl";
	return NULL;
}
