/*
 * relay.c - the relay loops: N threads, each running its own libuv loop that
 * owns its client sessions end to end (proxy.c), and what the main loop tells
 * them.
 *
 * The main loop keeps everything that decides: the listeners, the checks,
 * the topology, the stats page.  It accepts client sockets itself and hands
 * each to the relay loop with the fewest sessions (a message with the fd);
 * a relay loop never touches another loop's handles.  Why one acceptor and
 * not one SO_REUSEPORT listener per loop: the listeners stay in one place
 * (reload, drain and bind errors work as with one loop), the spread follows
 * the loops' load instead of the kernel's hash of the client's address and
 * port, and closing a listener never resets connections queued on it.  The
 * price is a wake-up per burst of accepted clients, measured in
 * bench/README.md.
 *
 * What the relay loops route by is a RouteView: an immutable snapshot of the
 * write target, the read pool, the node addresses and the configuration,
 * built here whenever one of them changed and sent to every loop (each loop
 * swaps its reference when it takes the message).  Messages into a loop are
 * taken in order, so a loop always has the new view before the
 * shutdown-sessions that goes with it.
 */
#include "router.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the relay loop's side ---- */

static void
on_worker_handle_closed(uv_handle_t *handle)
{
	(void) handle;				/* handles of the Worker, freed by relay_join */
}

static void
worker_stop(Worker *w)
{
	if (w->stopping)
		return;
	w->stopping = true;
	w->draining = true;
	proxy_close_all_sessions(w);
	uv_close((uv_handle_t *) &w->dispatch_timer, on_worker_handle_closed);
	mailbox_close(&w->inbox, on_worker_handle_closed);
}

static void
worker_handle(Worker *w, Msg *msg)
{
	switch (msg->type)
	{
		case MSG_ACCEPT:
			if (w->view == NULL || w->stopping)
				break;			/* msg_free closes the socket */
			proxy_accept(w, msg->fd, msg->kind);
			msg->fd = -1;
			break;
		case MSG_VIEW:
			if (w->view)
				view_unref(w->view);
			w->view = msg->view;
			msg->view = NULL;
			w->log.min_level = w->view->log_level;
			/* a target, a replica or a free slot may place held clients */
			if (!list_empty(&w->held))
				proxy_schedule_dispatch(w);
			break;
		case MSG_SHUTDOWN_NODE:
			proxy_shutdown_node_sessions(w, msg->node, msg->kind, msg->fallback, msg->why);
			break;
		case MSG_REFUSE_HELD:
			w->draining = true;
			proxy_refuse_held(w, msg->why);
			break;
		case MSG_STOP:
			worker_stop(w);
			break;
		default:
			break;
	}
	msg_free(msg);
}

static void
worker_deliver(void *owner, Msg *msg)
{
	Worker	   *w = owner;

	if (w->stopping)
		msg_free(msg);			/* after STOP: only dropped */
	else
		worker_handle(w, msg);
}

static void
on_worker_mail(uv_async_t *async)
{
	mailbox_deliver(&((Worker *) async->data)->inbox, worker_deliver, async->data);
}

static void
worker_main(void *arg)
{
	Worker	   *w = arg;
	Msg		   *done;

	uv_run(&w->loop, UV_RUN_DEFAULT);
	if (w->view)
		view_unref(w->view);
	w->view = NULL;
	if (uv_loop_close(&w->loop) != 0)
		log_error(&w->log, "relay loop %d: handles left open at exit", w->index);
	done = msg_new(MSG_WORKER_DONE);
	if (done != NULL)
		mailbox_post(&w->ctx->inbox, done);
	else
		log_error(&w->log, "relay loop %d: out of memory at exit", w->index);
}

/* ---- the main loop's side ---- */

static void
on_main_handle_closed(uv_handle_t *handle)
{
	(void) handle;				/* these handles live inside the context */
}

static void
main_handle(RouterContext *ctx, Msg *msg)
{
	switch (msg->type)
	{
		case MSG_CHECK_NOW:
			if (!msg->node->retired && !ctx->stopping)
				check_request_now(msg->node, msg->kind == SERVICE_WRITE ? CHECK_PRIMARY : CHECK_REPLICA,
								  false, "a client could not connect");
			break;
		case MSG_SESSION_CLOSED:
			if (ctx->draining)
				ctx->on_session_closed(ctx);
			break;
		case MSG_WORKER_DONE:
			if (--ctx->workers_running == 0)
				mailbox_close(&ctx->inbox, on_main_handle_closed);
			break;
		default:
			break;
	}
	msg_free(msg);
}

static void
main_deliver(void *owner, Msg *msg)
{
	main_handle(owner, msg);
}

static void
on_main_mail(uv_async_t *async)
{
	mailbox_deliver(&((RouterContext *) async->data)->inbox, main_deliver, async->data);
}

static bool
post_to(Worker *w, Msg *msg)
{
	return mailbox_post(&w->inbox, msg);
}

/* Sends the same message to every relay loop. */
static void
broadcast(RouterContext *ctx, MsgType type, Node *node, ServiceKind kind, bool fallback,
		  const char *why)
{
	if (ctx->workers_running == 0)
		return;
	for (int i = 0; i < ctx->n_workers; i++)
	{
		Msg		   *msg = msg_new(type);

		if (msg == NULL)
		{
			log_error(&ctx->log, "out of memory telling relay loop %d", i);
			continue;
		}
		if (node)
			node_ref(node);
		msg->node = node;
		msg->kind = kind;
		msg->fallback = fallback;
		msg->why = why;
		post_to(&ctx->workers[i], msg);
	}
}

/* The routing snapshot's node entries from the main loop's nodes; n is set. */
static int
view_fill(const RouterContext *ctx, RouteNode *nodes, int *target)
{
	int			n = 0;
	ListLink   *pos;

	*target = -1;
	for (pos = ctx->nodes.next; pos != &ctx->nodes && n < CONFIG_MAX_NODES; pos = pos->next)
	{
		Node	   *node = container_of(pos, Node, link);
		RouteNode  *entry = &nodes[n];

		memset(entry, 0, sizeof(*entry));
		entry->node = node;
		entry->addr = node->addr;
		entry->addr_known = node->addr_known;
		entry->read_up = node->checks[CHECK_REPLICA].health.status == HEALTH_UP;
		entry->maxconn = node->cfg.maxconn;
		memcpy(entry->name, node->cfg.name, sizeof(entry->name));
		if (node == ctx->services[SERVICE_WRITE].target)
			*target = n;
		n++;
	}
	return n;
}

/*
 * Sends the relay loops a new snapshot if the routing changed since the last
 * one, or the configuration did (config_changed, from topology_apply).
 * Called by topology.c at once on every health change, and before every
 * main-loop iteration for what changes elsewhere (a node's address).
 */
void
relay_publish(RouterContext *ctx, bool config_changed)
{
	RouteNode	nodes[CONFIG_MAX_NODES];
	RouteView  *view;
	int			target;
	int			n;

	if (ctx->workers_running == 0 || ctx->stopping)
		return;
	n = view_fill(ctx, nodes, &target);
	if (!config_changed && ctx->published && ctx->published->n_nodes == n && ctx->published->target == target &&
		memcmp(ctx->published->nodes, nodes, sizeof(nodes[0]) * (size_t) n) == 0)
		return;
	view = malloc(sizeof(*view));
	if (view == NULL)
	{
		log_error(&ctx->log, "out of memory publishing the routing");
		return;
	}
	view->cfg = *ctx->cfg;
	view->log_level = ctx->log.min_level;
	view->n_nodes = n;
	view->target = target;
	memcpy(view->nodes, nodes, sizeof(nodes[0]) * (size_t) n);
	for (int i = 0; i < n; i++)
		node_ref(nodes[i].node);
	/* one reference per loop and one kept here to compare the next against */
	atomic_init(&view->refs, ctx->n_workers + 1);
	if (ctx->published)
		view_unref(ctx->published);
	ctx->published = view;
	for (int i = 0; i < ctx->n_workers; i++)
	{
		Msg		   *msg = msg_new(MSG_VIEW);

		if (msg == NULL)
		{
			view_unref(view);
			log_error(&ctx->log, "out of memory telling relay loop %d", i);
			continue;
		}
		msg->view = view;
		post_to(&ctx->workers[i], msg);
	}
}

static void
on_publish_prepare(uv_prepare_t *prepare)
{
	relay_publish(prepare->data, false);
}

/* Starts threads relay loops; false with errbuf set if they cannot be. */
bool
relay_start(RouterContext *ctx, int threads, char *errbuf, size_t errlen)
{
	ctx->workers = calloc((size_t) threads, sizeof(Worker));
	if (ctx->workers == NULL || mailbox_init(ctx->loop, &ctx->inbox, on_main_mail) < 0)
	{
		snprintf(errbuf, errlen, "cannot set up %d relay loops", threads);
		free(ctx->workers);
		ctx->workers = NULL;
		return false;
	}
	ctx->inbox.async.data = ctx;
	uv_prepare_init(ctx->loop, &ctx->publish_prepare);
	ctx->publish_prepare.data = ctx;
	uv_prepare_start(&ctx->publish_prepare, on_publish_prepare);
	for (int i = 0; i < threads; i++)
	{
		Worker	   *w = &ctx->workers[i];

		w->ctx = ctx;
		w->index = i;
		w->log = ctx->log;
		list_init(&w->sessions);
		list_init(&w->held);
		atomic_init(&w->load, 0);
		if (uv_loop_init(&w->loop) != 0 || mailbox_init(&w->loop, &w->inbox, on_worker_mail) < 0)
		{
			snprintf(errbuf, errlen, "cannot set up relay loop %d", i);
			return false;		/* relay_stop ends those started */
		}
		w->inbox.async.data = w;
		uv_timer_init(&w->loop, &w->dispatch_timer);
		w->dispatch_timer.data = w;
		if (uv_thread_create(&w->thread, worker_main, w) != 0)
		{
			mailbox_close(&w->inbox, on_worker_handle_closed);
			uv_close((uv_handle_t *) &w->dispatch_timer, on_worker_handle_closed);
			uv_run(&w->loop, UV_RUN_DEFAULT);
			uv_loop_close(&w->loop);
			snprintf(errbuf, errlen, "cannot start relay thread %d", i);
			return false;
		}
		ctx->n_workers++;
		ctx->workers_running++;
	}
	return true;
}

/* A client socket accepted on the main loop goes to the least loaded relay loop. */
void
relay_hand_over(RouterContext *ctx, int fd, ServiceKind kind)
{
	Worker	   *best = NULL;
	Msg		   *msg;

	if (ctx->workers_running == 0 || ctx->stopping || (msg = msg_new(MSG_ACCEPT)) == NULL)
	{
		close(fd);
		return;
	}
	/* fewest sessions; ties in turn, so a burst of new clients spreads */
	for (int step = 0; step < ctx->n_workers; step++)
	{
		Worker	   *w = &ctx->workers[(ctx->next_worker + (unsigned) step) % (unsigned) ctx->n_workers];

		if (best == NULL || atomic_load_explicit(&w->load, memory_order_relaxed) <
			atomic_load_explicit(&best->load, memory_order_relaxed))
			best = w;
	}
	ctx->next_worker = (unsigned) (best->index + 1);
	msg->fd = fd;
	msg->kind = kind;
	post_to(best, msg);
}

void
relay_shutdown_node_sessions(RouterContext *ctx, Node *node, ServiceKind kind, bool only_fallback,
							 const char *why)
{
	/* the view that goes with it first: no loop places a client there again */
	relay_publish(ctx, false);
	broadcast(ctx, MSG_SHUTDOWN_NODE, node, kind, only_fallback, why);
}

void
relay_refuse_held(RouterContext *ctx, const char *why)
{
	/* before the main loop counts what is left: a session that ends from
	 * now on is reported (proxy.c), one that ended before is not counted */
	atomic_store(&ctx->relay_draining, true);
	broadcast(ctx, MSG_REFUSE_HELD, NULL, SERVICE_WRITE, false, why);
}

/* Every relay loop closes its sessions and ends; the main loop's inbox closes after the last. */
void
relay_stop(RouterContext *ctx)
{
	broadcast(ctx, MSG_STOP, NULL, SERVICE_WRITE, false, NULL);
	if (ctx->workers != NULL)
		uv_close((uv_handle_t *) &ctx->publish_prepare, on_main_handle_closed);
	if (ctx->published)
		view_unref(ctx->published);
	ctx->published = NULL;
	if (ctx->workers != NULL && ctx->workers_running == 0 && !uv_is_closing((uv_handle_t *) &ctx->inbox.async))
		mailbox_close(&ctx->inbox, on_main_handle_closed);
}

/* After the main loop has ended: the threads are done (they said so); joined and freed. */
void
relay_join(RouterContext *ctx)
{
	for (int i = 0; i < ctx->n_workers; i++)
	{
		uv_thread_join(&ctx->workers[i].thread);
		uv_mutex_destroy(&ctx->workers[i].inbox.lock);
	}
	if (ctx->workers != NULL)
		uv_mutex_destroy(&ctx->inbox.lock);
	free(ctx->workers);
	ctx->workers = NULL;
	ctx->n_workers = 0;
}
