/*
 * config.h - the router's configuration and its parser.
 *
 * config_parse() is a pure function of the text: no I/O, no allocation, no
 * name resolution, so the unit tests can feed it any input.  The format is
 * documented in router/README.md; every error names its line.
 */
#ifndef ROUTER_CONFIG_H
#define ROUTER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "log.h"

#define CONFIG_MAX_NODES		64
#define CONFIG_MAX_LISTENERS	16
#define CONFIG_MAX_LINE			1024
#define CONFIG_NAME_MAX			64
#define CONFIG_MAX_THREADS		64
#define CONFIG_HOST_MAX			256
#define CONFIG_PATH_MAX			256

typedef enum ListenKind
{
	LISTEN_WRITE,
	LISTEN_READ,
	LISTEN_STATS
} ListenKind;

typedef enum CheckMethod
{
	CHECK_METHOD_GET,
	CHECK_METHOD_HEAD,
	CHECK_METHOD_OPTIONS
} CheckMethod;

typedef enum ReadFallback
{
	READ_FALLBACK_PRIMARY,		/* no healthy replica: read from the primary */
	READ_FALLBACK_NONE			/* no healthy replica: refuse */
} ReadFallback;

typedef enum BalanceMode
{
	BALANCE_ROUNDROBIN,
	BALANCE_LEASTCONN
} BalanceMode;

typedef enum CheckVerify
{
	CHECK_VERIFY_REQUIRED,		/* the CA signed it, for the check host's name */
	CHECK_VERIFY_NONE			/* encrypted, but anyone's certificate */
} CheckVerify;

/* TLS of a node's health checks (HAProxy's check-ssl, ca-file, verify). */
typedef struct CheckTls
{
	bool		ssl;
	CheckVerify verify;
	char		ca[CONFIG_PATH_MAX];	/* CA certificates (PEM); "" none */
	char		crt[CONFIG_PATH_MAX];	/* client certificate and key (PEM); "" none */
} CheckTls;

typedef struct ConfigAddr
{
	char		host[CONFIG_HOST_MAX];	/* name or numeric; "*" is any */
	uint16_t	port;
} ConfigAddr;

static inline bool
config_same_addr(const ConfigAddr *a, const ConfigAddr *b)
{
	return a->port == b->port && strcmp(a->host, b->host) == 0;
}

typedef struct ListenerConfig
{
	ListenKind	kind;
	ConfigAddr	addr;
} ListenerConfig;

typedef struct CheckConfig
{
	char		path[CONFIG_PATH_MAX];
	CheckMethod method;
	uint64_t	interval_ms;
	uint64_t	timeout_ms;
	int			rise;
	int			fall;
} CheckConfig;

typedef struct NodeConfig
{
	char		name[CONFIG_NAME_MAX];
	ConfigAddr	addr;			/* where clients are sent */
	ConfigAddr	check_addr;		/* the node's HTTP health API */
	int			maxconn;		/* 0: no per-node limit */
	bool		watch;			/* long-poll /watch on this node's API */
	CheckTls	tls;			/* its own, or the check-ssl defaults */
	bool		tls_ssl_given;	/* (parsing: which of tls the node line set) */
	bool		tls_verify_given;
	bool		tls_ca_given;
	bool		tls_crt_given;
	int			line;			/* where it was defined, for messages */
} NodeConfig;

typedef struct RouterConfig
{
	ListenerConfig listeners[CONFIG_MAX_LISTENERS];
	int			n_listeners;
	NodeConfig	nodes[CONFIG_MAX_NODES];
	int			n_nodes;

	CheckConfig primary_check;	/* decides the write target */
	CheckConfig replica_check;	/* decides the read pool */
	CheckTls	check_tls;		/* check-ssl, check-verify, check-ca: every node's default */

	bool		watch_enabled;
	uint64_t	watch_timeout_ms;	/* how long the agent may hold a /watch */
	uint64_t	watch_backoff_ms;	/* pause before retrying an unsupported /watch */

	int			maxconn;		/* global limit on client sessions */
	int			threads;		/* relay loops; 0: one per CPU */
	uint64_t	connect_timeout_ms;
	uint64_t	client_timeout_ms;	/* client silent this long: session closed */
	uint64_t	server_timeout_ms;	/* server silent this long: session closed */
	uint64_t	drain_timeout_ms;	/* SIGTERM: longest wait for sessions to end */
	int			retries;		/* extra backend connect attempts */

	uint64_t	hold_timeout_ms;	/* longest a write client waits for a primary */
	int			hold_max;		/* most write clients waiting at once; 0: no hold */

	ReadFallback read_fallback;
	BalanceMode balance;

	size_t		high_water;		/* stop reading the source above this queue size */
	size_t		low_water;		/* resume reading below this */

	LogLevel	log_level;
} RouterConfig;

typedef struct ConfigError
{
	int			line;			/* 0: not tied to one line */
	char		message[256];
} ConfigError;

/* Fills cfg with the documented defaults (no listeners, no nodes). */
void		config_defaults(RouterConfig *cfg);

/*
 * Parses text[0..len) into cfg (defaults first).  Returns false with err set
 * on the first error.
 */
bool		config_parse(const char *text, size_t len, RouterConfig *cfg,
						 ConfigError *err);

/*
 * Reads and parses a file.  On failure writes "file:line: message" (or
 * "file: message") into errbuf.
 */
bool		config_load_file(const char *path, RouterConfig *cfg,
							 char *errbuf, size_t errlen);

/* config_value.c: one value of a line (the tests and other files use them). */
bool		config_parse_duration(const char *text, uint64_t *ms);
bool		config_parse_size(const char *text, size_t *bytes);
bool		config_parse_addr(const char *text, ConfigAddr *addr);
bool		config_parse_int_range(const char *text, int min, int max, int *out);
bool		config_parse_on_off(const char *text, bool *out);
bool		config_parse_verify(const char *text, CheckVerify *out);
bool		config_valid_name(const char *name);
bool		config_valid_http_path(const char *path);
const char *config_listen_kind_name(ListenKind kind);
const char *config_check_method_name(CheckMethod method);

#endif
