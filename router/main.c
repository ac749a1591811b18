/*
 * main.c - pg_ha_router: arguments, signals, reload and shutdown.
 *
 * The main loop runs the listeners, checks, topology, stats and signals;
 * "threads" relay loops (relay.c) run the client sessions.  SIGHUP reloads the configuration (a bad
 * file is rejected and the running one kept); SIGTERM/SIGINT stop accepting
 * and let sessions drain for at most "timeout drain", a second signal stops
 * at once.  Exit codes: 0 clean stop, 1 runtime failure (e.g. cannot bind),
 * 2 invalid configuration or usage.
 */
#include "router.h"
#include "tls.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define DEFAULT_CONFIG "/etc/pg_ha_router.conf"

static void
usage(FILE *out)
{
	fprintf(out,
			"Usage: pg_ha_router [-c FILE] [-t] [-v]\n"
			"  -c, --config FILE   configuration file (default " DEFAULT_CONFIG ")\n"
			"  -t, --test          check the configuration and exit (0 valid, 2 invalid)\n"
			"  -v, --verbose       debug logging\n"
			"  -V, --version       print the version and exit\n"
			"  -h, --help          this help\n"
			"Signals: SIGHUP reloads the configuration, SIGTERM drains and stops.\n");
}

static void
on_handle_closed_noop(uv_handle_t *handle)
{
	(void) handle;				/* these handles live inside the context */
}

static void
close_if_open(uv_handle_t *handle)
{
	if (!uv_is_closing(handle))
		uv_close(handle, on_handle_closed_noop);
}

/* Closes every handle; uv_run returns once their callbacks have run. */
static void
router_stop(RouterContext *ctx)
{
	ListLink   *pos;
	ListLink   *tmp;

	if (ctx->stopping)
		return;
	ctx->stopping = true;
	ctx->draining = true;
	log_info(&ctx->log, "stopping");
	list_for_each_safe(pos, tmp, &ctx->listeners)
		listener_close(container_of(pos, Listener, link));
	relay_stop(ctx);
	stats_close_all(ctx);
	topology_stop(ctx);
	close_if_open((uv_handle_t *) &ctx->sig_term);
	close_if_open((uv_handle_t *) &ctx->sig_int);
	close_if_open((uv_handle_t *) &ctx->sig_hup);
	close_if_open((uv_handle_t *) &ctx->drain_timer);
}

static void
router_check_drained(RouterContext *ctx)
{
	if (ctx->draining && !ctx->stopping && ctx->session_count == 0)
	{
		log_info(&ctx->log, "all sessions ended");
		router_stop(ctx);
	}
}

static void
on_drain_timeout(uv_timer_t *timer)
{
	RouterContext *ctx = timer->data;

	log_warn(&ctx->log, "drain timeout: closing %d remaining session%s", ctx->session_count,
			 ctx->session_count == 1 ? "" : "s");
	router_stop(ctx);
}

static void
router_begin_drain(RouterContext *ctx)
{
	ListLink   *pos;
	ListLink   *tmp;
	char		limit[32];

	ctx->draining = true;
	/* stop accepting clients; the stats port stays up while draining */
	list_for_each_safe(pos, tmp, &ctx->listeners)
	{
		Listener   *listener = container_of(pos, Listener, link);

		if (listener->cfg.kind != LISTEN_STATS)
			listener_close(listener);
	}
	relay_refuse_held(ctx, "pg_ha_router is shutting down");
	log_info(&ctx->log, "draining: %d session%s, at most %s", ctx->session_count,
			 ctx->session_count == 1 ? "" : "s",
			 format_duration(ctx->cfg->drain_timeout_ms, limit, sizeof(limit)));
	uv_timer_start(&ctx->drain_timer, on_drain_timeout, ctx->cfg->drain_timeout_ms, 0);
	router_check_drained(ctx);
}

static void
on_stop_signal(uv_signal_t *signal, int signum)
{
	RouterContext *ctx = signal->data;

	if (ctx->draining)
	{
		log_info(&ctx->log, "signal %d again: stopping now", signum);
		router_stop(ctx);
		return;
	}
	log_info(&ctx->log, "signal %d: no new clients, draining sessions", signum);
	router_begin_drain(ctx);
}

/* The relay loops cfg asks for: "threads", or one per CPU. */
static int
relay_threads_wanted(const RouterConfig *cfg)
{
	unsigned int cpus = uv_available_parallelism();

	if (cfg->threads > 0)
		return cfg->threads;
	return cpus > CONFIG_MAX_THREADS ? CONFIG_MAX_THREADS : (int) cpus;
}

static void
on_reload_signal(uv_signal_t *signal, int signum)
{
	RouterContext *ctx = signal->data;
	RouterConfig *cfg;
	char		error[512];

	(void) signum;
	if (ctx->draining)
	{
		log_info(&ctx->log, "SIGHUP ignored while draining");
		return;
	}
	cfg = malloc(sizeof(*cfg));
	if (cfg == NULL)
	{
		log_error(&ctx->log, "reload: out of memory");
		return;
	}
	/* listeners first: a bind failure rejects the configuration unchanged */
	if (!config_load_file(ctx->config_path, cfg, error, sizeof(error)) ||
		!tls_check_config(cfg, error, sizeof(error)) ||
		!listener_apply(ctx, cfg, error, sizeof(error)))
	{
		ctx->reload_failures++;
		log_error(&ctx->log, "reload rejected, keeping the running configuration: %s", error);
	}
	else
	{
		tls_reset();			/* CA files read again */
		if (relay_threads_wanted(cfg) != ctx->n_workers)
			log_warn(&ctx->log, "reload: threads %d takes effect at the next start (running %d)",
					 relay_threads_wanted(cfg), ctx->n_workers);
		topology_apply(ctx, cfg);
		ctx->reloads++;
		log_info(&ctx->log, "configuration reloaded from %s", ctx->config_path);
	}
	free(cfg);
}

/* 1,000 sessions are 2,000 sockets: lift the soft descriptor limit. */
static void
raise_fd_limit(RouterContext *ctx, int maxconn)
{
	struct rlimit limit;
	rlim_t		wanted = (rlim_t) maxconn * 2 + 256;

	if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
		return;
	if (limit.rlim_cur < limit.rlim_max)
	{
		limit.rlim_cur = limit.rlim_max;
		setrlimit(RLIMIT_NOFILE, &limit);
		getrlimit(RLIMIT_NOFILE, &limit);
	}
	if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted)
		log_warn(&ctx->log, "open file limit %llu is below what maxconn %d needs (%llu)",
				 (unsigned long long) limit.rlim_cur, maxconn, (unsigned long long) wanted);
}

static void
context_init(RouterContext *ctx, uv_loop_t *loop, const char *config_path, bool verbose)
{
	ctx->loop = loop;
	ctx->config_path = config_path;
	ctx->verbose = verbose;
	ctx->log.min_level = verbose ? LOG_DEBUG : LOG_INFO;
	list_init(&ctx->nodes);
	list_init(&ctx->listeners);
	list_init(&ctx->stats_conns);
	for (int k = 0; k < SERVICE_COUNT; k++)
	{
		ctx->services[k].kind = (ServiceKind) k;
		ctx->services[k].name = k == SERVICE_WRITE ? "write" : "read";
	}
	ctx->started_ms = uv_now(loop);
	ctx->on_health_change = topology_on_health_change;
	ctx->on_session_closed = router_check_drained;
	uv_signal_init(loop, &ctx->sig_term);
	uv_signal_init(loop, &ctx->sig_int);
	uv_signal_init(loop, &ctx->sig_hup);
	ctx->sig_term.data = ctx;
	ctx->sig_int.data = ctx;
	ctx->sig_hup.data = ctx;
	uv_timer_init(loop, &ctx->drain_timer);
	ctx->drain_timer.data = ctx;
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"test", no_argument, NULL, 't'},
		{"verbose", no_argument, NULL, 'v'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *config_path = DEFAULT_CONFIG;
	bool		test_only = false;
	bool		verbose = false;
	RouterConfig *cfg;
	RouterContext *ctx;
	uv_loop_t	loop;
	char		error[512];
	int			opt;
	int			exit_code;

	while ((opt = getopt_long(argc, argv, "c:tvVh", options, NULL)) != -1)
	{
		switch (opt)
		{
			case 'c': config_path = optarg; break;
			case 't': test_only = true; break;
			case 'v': verbose = true; break;
			case 'V': printf("pg_ha_router %s (libuv %s)\n", ROUTER_VERSION, uv_version_string()); return 0;
			case 'h': usage(stdout); return 0;
			default: usage(stderr); return 2;
		}
	}
	if (optind < argc)
	{
		usage(stderr);
		return 2;
	}

	cfg = malloc(sizeof(*cfg));
	if (cfg == NULL)
		return 1;
	if (!config_load_file(config_path, cfg, error, sizeof(error)) ||
		!tls_check_config(cfg, error, sizeof(error)))
	{
		fprintf(stderr, "pg_ha_router: invalid configuration: %s\n", error);
		free(cfg);
		return 2;
	}
	if (test_only)
	{
		printf("pg_ha_router: configuration file %s is valid\n", config_path);
		free(cfg);
		return 0;
	}

	/* a peer that vanished must be an EPIPE on write, not a signal */
	signal(SIGPIPE, SIG_IGN);
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL || uv_loop_init(&loop) != 0)
	{
		fprintf(stderr, "pg_ha_router: cannot initialise\n");
		free(ctx);
		free(cfg);
		return 1;
	}
	ctx->cfg = calloc(1, sizeof(*ctx->cfg));
	if (ctx->cfg == NULL)
		return 1;
	config_defaults(ctx->cfg);
	context_init(ctx, &loop, config_path, verbose);
	raise_fd_limit(ctx, cfg->maxconn);

	if (!relay_start(ctx, relay_threads_wanted(cfg), error, sizeof(error)) ||
		!listener_apply(ctx, cfg, error, sizeof(error)))
	{
		log_error(&ctx->log, "cannot start: %s", error);
		ctx->exit_code = 1;
		router_stop(ctx);
	}
	else
	{
		topology_apply(ctx, cfg);
		uv_signal_start(&ctx->sig_term, on_stop_signal, SIGTERM);
		uv_signal_start(&ctx->sig_int, on_stop_signal, SIGINT);
		uv_signal_start(&ctx->sig_hup, on_reload_signal, SIGHUP);
		log_info(&ctx->log, "pg_ha_router %s started (libuv %s, config %s, %d node%s, %d relay thread%s)",
				 ROUTER_VERSION, uv_version_string(), config_path, cfg->n_nodes,
				 cfg->n_nodes == 1 ? "" : "s", ctx->n_workers, ctx->n_workers == 1 ? "" : "s");
	}
	free(cfg);

	uv_run(&loop, UV_RUN_DEFAULT);
	relay_join(ctx);
	if (uv_loop_close(&loop) != 0)
		log_error(&ctx->log, "handles left open at exit");
	else
		log_info(&ctx->log, "stopped");
	exit_code = ctx->exit_code;
	tls_reset();
	free(ctx->cfg);
	free(ctx);
	return exit_code;
}
