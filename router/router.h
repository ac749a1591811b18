/*
 * router.h - the router's runtime objects: the main loop's context and each
 * relay loop's Worker (the mutable state of the program, one per loop),
 * services, nodes, listeners, routing snapshots, messages, and the
 * functions each file exports to the others.
 *
 * Threads: the main loop owns the listeners, the checks, the topology and
 * the stats page; the relay loops (Worker, relay.c) own their sessions end to
 * end.  What crosses between them: messages (Mailbox), the immutable routing
 * snapshot (RouteView, reference-counted), and the counters below, which are
 * atomics (exact whichever loop counts).  A Node is touched off the main loop
 * only through its atomics (refs, in_use, traffic).
 *
 * Ownership and lifetime follow libuv's rule: a handle's memory is freed only
 * in its close callback.  Objects that own handles count them (open_handles)
 * and free themselves when the last close callback has run; a node is also
 * referenced by every session and check in flight that points at it.
 */
#ifndef ROUTER_ROUTER_H
#define ROUTER_ROUTER_H

#include <stdatomic.h>
#include <sys/socket.h>
#include <uv.h>

#include "config.h"
#include "decide.h"
#include "health.h"
#include "log.h"
#include "util.h"

#define ROUTER_VERSION "0.1"

typedef enum ServiceKind
{
	SERVICE_WRITE = 0,			/* to the node whose primary check passes */
	SERVICE_READ = 1			/* round robin over nodes whose replica check passes */
} ServiceKind;
#define SERVICE_COUNT 2

typedef enum CheckKind
{
	CHECK_PRIMARY = 0,
	CHECK_REPLICA = 1
} CheckKind;
#define CHECK_KIND_COUNT 2

typedef struct RouterContext RouterContext;
typedef struct Node Node;
typedef struct HttpProbe HttpProbe;

/* Counters shown on the stats page, per service and per node+service. */
typedef struct TrafficStats
{
	_Atomic uint64_t cur_sessions;
	_Atomic uint64_t max_sessions;
	_Atomic uint64_t total_sessions;
	_Atomic uint64_t bytes_in;	/* client -> server */
	_Atomic uint64_t bytes_out; /* server -> client */
	_Atomic uint64_t errors;	/* connect failures, I/O errors, timeouts */
} TrafficStats;

typedef struct NodeCheck
{
	HealthState health;
	uv_timer_t	timer;			/* next scheduled check */
	HttpProbe  *probe;			/* the check in flight, or NULL */
	bool		waiting_resolve;	/* due, waiting for the node's DNS lookup */
	bool		rerun;			/* asked for while one was in flight */
	bool		confirm_watch;	/* next pass may apply at once (watch saw a change) */
	const char *confirm_loss;	/* next failure may apply at once: why (static), or NULL */
	uint64_t	last_change_ms; /* uv_now() of the last status change */
	uint64_t	checks_total;
	int			last_http_status;	/* 0 when no HTTP reply */
	uint64_t	last_duration_ms;
	char		last_result[64];	/* HAProxy-like: "L7OK 200", "L4CON ..." */
} NodeCheck;

typedef enum WatchState
{
	WATCH_IDLE,					/* not started or disabled */
	WATCH_POLLING,				/* a /watch request is in flight */
	WATCH_PAUSED				/* waiting (spacing or back-off) before the next */
} WatchState;

typedef struct NodeWatch
{
	WatchState	state;
	uv_timer_t	timer;
	HttpProbe  *probe;
	WatchMode	mode;			/* what its results said so far (decide.c) */
	bool		agent_primary;	/* the agent's primary state as last reported */
	bool		agent_known;
	uint64_t	replies;		/* valid replies received */
	uint64_t	changes;		/* replies that reported a change */
	char		last_result[96];
} NodeWatch;

struct Node
{
	RouterContext *ctx;
	ListLink	link;			/* in ctx->nodes while configured */
	NodeConfig	cfg;
	struct sockaddr_storage addr;
	struct sockaddr_storage check_addr;
	bool		addr_known;		/* addr holds a usable address */
	bool		check_addr_known;
	int			resolving;		/* DNS lookups in flight */
	uint64_t	resolved_at_ms;
	char		resolve_error[96];	/* last lookup failure, "" if none */
	atomic_int	refs;			/* config + sessions + probes + open timers + views */
	atomic_int	in_use;			/* sessions of both services (maxconn reservation) */
	bool		retired;		/* removed by a reload; freed when refs reach 0 */
	NodeCheck	checks[CHECK_KIND_COUNT];
	NodeWatch	watch;
	TrafficStats traffic[SERVICE_COUNT];
	bool		has_epoch;
	uint64_t	leader_epoch;
};

typedef struct Listener
{
	RouterContext *ctx;
	ListLink	link;			/* in ctx->listeners while open */
	ListenerConfig cfg;
	uv_tcp_t	tcp;			/* the socket (bound by libuv) */
	uv_poll_t	poll;			/* client ports: accepted here, relayed elsewhere */
	bool		polling;
	int			open_handles;
	bool		closing;
} Listener;

/* A service's counters (atomic: every relay loop counts) and, on the main loop, its target. */
typedef struct Service
{
	ServiceKind kind;
	const char *name;
	TrafficStats traffic;
	_Atomic uint64_t refused;	/* clients answered with an error, not routed */
	_Atomic uint64_t held_total;
	_Atomic uint64_t held_served;
	_Atomic uint64_t hold_timeouts;
	atomic_int	held_count;		/* held on all loops (hold max reservation) */
	Node	   *target;			/* write: the one primary; NULL if none/ambiguous */
	uint64_t	target_since_ms;
} Service;

/*
 * The routing snapshot: what a relay loop needs to place a client, built by
 * the main loop whenever it changes and never modified after.  Each loop
 * holds a reference to the one it uses; the last unref frees it (and drops
 * its node references).
 */
typedef struct RouteNode
{
	Node	   *node;			/* referenced; only its atomics are read */
	struct sockaddr_storage addr;
	bool		addr_known;
	bool		read_up;		/* replica check UP */
	int			maxconn;
	char		name[CONFIG_NAME_MAX];
} RouteNode;

typedef struct RouteView
{
	atomic_int	refs;
	RouterConfig cfg;
	LogLevel	log_level;		/* the threshold in force (-v or the file's) */
	int			n_nodes;
	int			target;			/* index of the write target, -1 if none */
	RouteNode	nodes[CONFIG_MAX_NODES];
} RouteView;

/* A message between loops (relay.c): one type, the fields it uses. */
typedef enum MsgType
{
	MSG_ACCEPT,					/* main -> relay: fd, kind */
	MSG_VIEW,					/* main -> relay: a new RouteView */
	MSG_SHUTDOWN_NODE,			/* main -> relay: node, kind, fallback, why */
	MSG_REFUSE_HELD,			/* main -> relay: drain begins */
	MSG_STOP,					/* main -> relay: close everything, end the loop */
	MSG_CHECK_NOW,				/* relay -> main: a client could not connect to node */
	MSG_SESSION_CLOSED,			/* relay -> main: while draining */
	MSG_WORKER_DONE				/* relay -> main: the loop has ended */
} MsgType;

typedef struct Msg
{
	ListLink	link;
	MsgType		type;
	int			fd;
	ServiceKind kind;
	bool		fallback;
	Node	   *node;			/* referenced by the message */
	RouteView  *view;			/* referenced by the message */
	const char *why;			/* static */
} Msg;

/* A queue into one loop: a locked list and the async handle that wakes it. */
typedef struct Mailbox
{
	uv_mutex_t	lock;
	ListLink	queue;
	uv_async_t	async;
	bool		closed;
} Mailbox;

typedef struct Worker Worker;

struct RouterContext
{
	uv_loop_t  *loop;
	Logger		log;
	const char *config_path;
	RouterConfig *cfg;			/* current configuration (heap, swapped on reload) */

	Service		services[SERVICE_COUNT];
	ListLink	nodes;
	ListLink	listeners;
	ListLink	stats_conns;
	atomic_int	session_count;	/* sessions counted against maxconn, all loops */
	int			stats_conn_count;
	uint64_t	stats_accepted; /* stats connections accepted, ever */
	uint64_t	stats_evicted;	/* ... closed at the cap to make room */

	uv_signal_t sig_term;
	uv_signal_t sig_int;
	uv_signal_t sig_hup;
	uv_timer_t	drain_timer;
	bool		draining;
	bool		stopping;
	bool		verbose;		/* -v: debug logging whatever the file says */
	int			exit_code;

	uint64_t	started_ms;
	uint64_t	reloads;
	uint64_t	reload_failures;
	int			primaries_seen; /* nodes whose primary check passes */
	bool		newest_epoch_known;
	uint64_t	newest_epoch;	/* newest leader epoch seen on a node whose
								 * primary check was UP (decide_check) */

	/*
	 * Reports upward, set by main.c, so that no file calls one that calls it:
	 * check.c reports every check result's health transition (the routing
	 * and the sessions follow it); proxy.c reports a session closed while
	 * draining (the router stops when the last one has).
	 */
	void		(*on_health_change) (Node *node, CheckKind kind,
									 HealthTransition transition);
	void		(*on_session_closed) (RouterContext *ctx);

	/* the relay loops (relay.c) */
	Worker	   *workers;
	int			n_workers;
	int			workers_running;
	unsigned	next_worker;
	Mailbox		inbox;			/* messages from the relay loops */
	atomic_bool relay_draining; /* set before drain: closed sessions are reported */
	uv_prepare_t publish_prepare;	/* publishes a changed RouteView each iteration */
	RouteView  *published;		/* the last view sent (the main loop's reference) */
};

/* A relay loop: its own thread, sessions, hold queue and scratch buffer. */
struct Worker
{
	RouterContext *ctx;			/* only its atomics are used here */
	int			index;
	Logger		log;			/* this loop's copy of the threshold */
	uv_loop_t	loop;
	uv_thread_t thread;
	Mailbox		inbox;			/* messages from the main loop */
	uv_timer_t	dispatch_timer; /* runs the hold queue outside other callbacks */
	RouteView  *view;			/* the current snapshot (a reference) */
	ListLink	sessions;		/* every client session of this loop */
	ListLink	held;			/* write sessions waiting for a node, oldest first */
	unsigned	rr_next;		/* round-robin cursor */
	bool		draining;
	bool		stopping;
	atomic_int	load;			/* sessions on this loop (the acceptor's choice) */

	/*
	 * One scratch buffer for all reads: data is written on at once with
	 * uv_try_write and copied only when the destination cannot take it all,
	 * so idle sessions hold no buffer at all.
	 */
	char		read_buf[64 * 1024];
};

/* topology.c: the running nodes reconciled with a (re)loaded configuration, and what a health change does. */
void		topology_apply(RouterContext *ctx, const RouterConfig *cfg);
void		topology_on_health_change(Node *node, CheckKind kind,
									  HealthTransition transition);
void		topology_stop(RouterContext *ctx);

/* route.c: the write target and the node a new client goes to. */
bool		route_update_write_target(RouterContext *ctx, Node **old_target);
/* The node for a new client, with a slot reserved on it (node_release), or NULL. */
const RouteNode *route_pick(const RouteView *view, unsigned *rr_next, ServiceKind kind,
							bool *via_fallback);

/* node.c: a node's lifetime (references; freed at the last). */
Node	   *node_new(RouterContext *ctx, const NodeConfig *ncfg);
bool		node_reserve(Node *node, int maxconn);
void		node_release(Node *node);
void		node_ref(Node *node);
void		node_unref(Node *node);
void		counter_max(_Atomic uint64_t *max, uint64_t value);

/* mailbox.c: messages between loops. */
int			mailbox_init(uv_loop_t *loop, Mailbox *mailbox, uv_async_cb cb);
Msg		   *msg_new(MsgType type);
bool		mailbox_post(Mailbox *mailbox, Msg *msg);
void		mailbox_take(Mailbox *mailbox, ListLink *out);
void		mailbox_deliver(Mailbox *mailbox, void (*handle) (void *owner, Msg *msg), void *owner);
void		mailbox_close(Mailbox *mailbox, uv_close_cb cb);
void		msg_free(Msg *msg);
void		view_unref(RouteView *view);
void		mailbox_report_connect_failed(Worker *w, Node *node, ServiceKind kind);
void		mailbox_report_session_closed(Worker *w);

/* resolve.c: node addresses (host names looked up off the loop thread). */
bool		resolve_host_is_numeric(const char *host);
bool		resolve_numeric(const ConfigAddr *addr, struct sockaddr_storage *out);
bool		resolve_node_has_names(const Node *node);
bool		resolve_due(const Node *node);
typedef void (*ResolveDone) (Node *node);
void		resolve_node_start(Node *node, ResolveDone done);
void		resolve_node_configured(Node *node, const NodeConfig *old_cfg);
bool		resolve_addr(const ConfigAddr *addr, bool passive,
						 struct sockaddr_storage *out, char *errbuf, size_t errlen);

/* check.c: health checks and the /watch long-poll (the I/O side). */
void		check_on_resolved(Node *node);
void		check_node_start(Node *node);
void		check_node_stop(Node *node);
void		check_node_reconfigure(Node *node, bool reset_health);
/*
 * Runs a check at once.  confirm_watch: the agent's watch reported the node
 * primary, so a pass marks it UP at once.  confirm_loss (a static reason, or
 * NULL): another witness says the node is gone (its watch broke, a backend
 * connect failed), so a failure marks it DOWN at once.
 */
void		check_request_now(Node *node, CheckKind kind, bool confirm_watch, const char *confirm_loss);
bool		check_kind_enabled(const RouterContext *ctx, CheckKind kind);

/* listener.c: the listening sockets. */
bool		listener_apply(RouterContext *ctx, const RouterConfig *cfg,
						   char *errbuf, size_t errlen);
Listener   *listener_open(RouterContext *ctx, const ListenerConfig *cfg,
						  char *errbuf, size_t errlen);
void		listener_close(Listener *listener);

/* proxy.c: client sessions and the hold queue of one relay loop. */
void		proxy_accept(Worker *w, int fd, ServiceKind kind);
void		proxy_shutdown_node_sessions(Worker *w, Node *node, ServiceKind kind,
										 bool only_fallback, const char *why);
void		proxy_schedule_dispatch(Worker *w);
void		proxy_refuse_held(Worker *w, const char *why);
void		proxy_close_all_sessions(Worker *w);

/* relay.c: the relay loops, and what the main loop tells them. */
bool		relay_start(RouterContext *ctx, int threads, char *errbuf, size_t errlen);
void		relay_publish(RouterContext *ctx, bool config_changed);
void		relay_hand_over(RouterContext *ctx, int fd, ServiceKind kind);
void		relay_shutdown_node_sessions(RouterContext *ctx, Node *node, ServiceKind kind,
										 bool only_fallback, const char *why);
void		relay_refuse_held(RouterContext *ctx, const char *why);
void		relay_stop(RouterContext *ctx);
void		relay_join(RouterContext *ctx);

/* stats.c: the stats HTTP server. */
void		stats_accept(RouterContext *ctx, uv_stream_t *server);
void		stats_listener_prepare(RouterContext *ctx, uv_tcp_t *tcp);
void		stats_close_all(RouterContext *ctx);

/* stats_render.c: the stats documents. */
void		stats_render_html(const RouterContext *ctx, StrBuf *out);
void		stats_render_json(const RouterContext *ctx, StrBuf *out);
void		stats_render_metrics(const RouterContext *ctx, StrBuf *out);

#endif
