/*
 * test_route.c - unit tests of the routing choices (route.c): the node a new
 * write or read client goes to (room, round robin, least connections, the
 * read fallback to the primary) from a routing snapshot built as relay.c
 * builds it, the slot reservation behind maxconn, and the write target kept
 * in the service.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "router.h"

typedef struct Fixture
{
	uv_loop_t	loop;
	RouterConfig cfg;
	RouterContext ctx;
	Node		nodes[3];
	unsigned	rr_next;
} Fixture;

static Fixture fx;

/* n nodes, all addressed, none checked UP yet; round robin, fallback on. */
static void
setup(int n)
{
	memset(&fx, 0, sizeof(fx));
	assert_int_equal(uv_loop_init(&fx.loop), 0);
	config_defaults(&fx.cfg);
	fx.cfg.balance = BALANCE_ROUNDROBIN;
	fx.cfg.read_fallback = READ_FALLBACK_PRIMARY;
	fx.ctx.loop = &fx.loop;
	fx.ctx.cfg = &fx.cfg;
	fx.ctx.log.min_level = LOG_ERROR;
	list_init(&fx.ctx.nodes);
	for (int i = 0; i < n; i++)
	{
		Node	   *node = &fx.nodes[i];

		node->ctx = &fx.ctx;
		snprintf(node->cfg.name, sizeof(node->cfg.name), "n%d", i + 1);
		node->addr_known = true;
		list_push_back(&fx.ctx.nodes, &node->link);
	}
}

static void
teardown(void)
{
	assert_int_equal(uv_loop_close(&fx.loop), 0);
}

static void
set_up(Node *node, CheckKind kind, bool up)
{
	node->checks[kind].health.status = up ? HEALTH_UP : HEALTH_DOWN;
}

/*
 * route_pick over a snapshot of the fixture's nodes; the nodes' slots in use
 * are their sessions of both services, and the slot a pick takes is given
 * back, so each call sees the counts the test set.
 */
static Node *
pick(ServiceKind kind, bool *via_fallback)
{
	static RouteView view;
	const RouteNode *entry;
	ListLink   *pos;

	memset(&view, 0, sizeof(view));
	view.cfg = fx.cfg;
	view.target = -1;
	for (pos = fx.ctx.nodes.next; pos != &fx.ctx.nodes; pos = pos->next)
	{
		Node	   *node = container_of(pos, Node, link);
		RouteNode  *e = &view.nodes[view.n_nodes];

		e->node = node;
		e->addr_known = node->addr_known;
		e->read_up = node->checks[CHECK_REPLICA].health.status == HEALTH_UP;
		e->maxconn = node->cfg.maxconn;
		if (node == fx.ctx.services[SERVICE_WRITE].target)
			view.target = view.n_nodes;
		atomic_store(&node->in_use, (int) (node->traffic[SERVICE_WRITE].cur_sessions +
										   node->traffic[SERVICE_READ].cur_sessions));
		view.n_nodes++;
	}
	entry = route_pick(&view, &fx.rr_next, kind, via_fallback);
	if (entry == NULL)
		return NULL;
	node_release(entry->node);
	return entry->node;
}

/* Two threads taking and giving back slots of one node never hold more than its maxconn. */
typedef struct ReserveRace
{
	Node	   *node;
	atomic_int *most;
} ReserveRace;

static void
reserve_loop(void *arg)
{
	ReserveRace *race = arg;

	for (int i = 0; i < 20000; i++)
	{
		if (!node_reserve(race->node, 3))
			continue;
		int			held = atomic_load(&race->node->in_use);
		int			most = atomic_load(race->most);

		while (held > most && !atomic_compare_exchange_weak(race->most, &most, held))
			;
		node_release(race->node);
	}
}

static void
test_reserve_across_threads(void **state)
{
	Node		node;
	atomic_int	most = 0;
	ReserveRace race = {&node, &most};
	uv_thread_t threads[4];

	(void) state;
	memset(&node, 0, sizeof(node));
	for (int i = 0; i < 4; i++)
		assert_int_equal(uv_thread_create(&threads[i], reserve_loop, &race), 0);
	for (int i = 0; i < 4; i++)
		uv_thread_join(&threads[i]);
	assert_true(atomic_load(&most) >= 1);
	assert_true(atomic_load(&most) <= 3);
	assert_int_equal(atomic_load(&node.in_use), 0);
}

static void
test_reserve_is_bounded(void **state)
{
	Node		node;

	(void) state;
	memset(&node, 0, sizeof(node));
	assert_true(node_reserve(&node, 2));
	assert_true(node_reserve(&node, 2));
	assert_false(node_reserve(&node, 2));
	node_release(&node);
	assert_true(node_reserve(&node, 2));
	assert_int_equal(atomic_load(&node.in_use), 2);
	/* no limit: always, and counted (a reload may set one) */
	assert_true(node_reserve(&node, 0));
	assert_int_equal(atomic_load(&node.in_use), 3);
}

static void
test_write_target_follows_primary_check(void **state)
{
	Node	   *old = &fx.nodes[2];
	bool		fallback = true;

	(void) state;
	setup(3);
	/* nobody passes the primary check: no target, nothing changes */
	assert_false(route_update_write_target(&fx.ctx, &old));
	assert_null(old);
	assert_null(pick(SERVICE_WRITE, &fallback));
	assert_false(fallback);

	set_up(&fx.nodes[1], CHECK_PRIMARY, true);
	assert_true(route_update_write_target(&fx.ctx, &old));
	assert_null(old);
	assert_ptr_equal(fx.ctx.services[SERVICE_WRITE].target, &fx.nodes[1]);
	assert_ptr_equal(pick(SERVICE_WRITE, &fallback), &fx.nodes[1]);

	/* two pass, the higher leader epoch wins; with no epochs, nobody */
	set_up(&fx.nodes[0], CHECK_PRIMARY, true);
	assert_true(route_update_write_target(&fx.ctx, &old));
	assert_ptr_equal(old, &fx.nodes[1]);
	assert_null(fx.ctx.services[SERVICE_WRITE].target);
	assert_int_equal(fx.ctx.primaries_seen, 2);
	fx.nodes[0].has_epoch = true;
	fx.nodes[0].leader_epoch = 7;
	fx.nodes[1].has_epoch = true;
	fx.nodes[1].leader_epoch = 6;
	assert_true(route_update_write_target(&fx.ctx, &old));
	assert_null(old);
	assert_ptr_equal(fx.ctx.services[SERVICE_WRITE].target, &fx.nodes[0]);
	/* unchanged facts: unchanged target */
	assert_false(route_update_write_target(&fx.ctx, &old));
	teardown();
}

static void
test_write_needs_room(void **state)
{
	Node	   *old;
	bool		fallback;

	(void) state;
	setup(1);
	set_up(&fx.nodes[0], CHECK_PRIMARY, true);
	assert_true(route_update_write_target(&fx.ctx, &old));
	fx.nodes[0].cfg.maxconn = 2;
	fx.nodes[0].traffic[SERVICE_WRITE].cur_sessions = 1;
	fx.nodes[0].traffic[SERVICE_READ].cur_sessions = 1;
	/* one limit for both services */
	assert_null(pick(SERVICE_WRITE, &fallback));
	fx.nodes[0].traffic[SERVICE_READ].cur_sessions = 0;
	assert_ptr_equal(pick(SERVICE_WRITE, &fallback), &fx.nodes[0]);
	/* no address yet: no room */
	fx.nodes[0].addr_known = false;
	assert_null(pick(SERVICE_WRITE, &fallback));
	teardown();
}

static void
test_read_round_robin_skips_ineligible(void **state)
{
	bool		fallback = true;

	(void) state;
	setup(3);
	set_up(&fx.nodes[0], CHECK_REPLICA, true);
	set_up(&fx.nodes[2], CHECK_REPLICA, true);
	assert_ptr_equal(pick(SERVICE_READ, &fallback), &fx.nodes[0]);
	assert_false(fallback);
	assert_ptr_equal(pick(SERVICE_READ, &fallback), &fx.nodes[2]);
	assert_ptr_equal(pick(SERVICE_READ, &fallback), &fx.nodes[0]);
	/* a full node is skipped */
	fx.nodes[2].cfg.maxconn = 1;
	fx.nodes[2].traffic[SERVICE_READ].cur_sessions = 1;
	assert_ptr_equal(pick(SERVICE_READ, &fallback), &fx.nodes[0]);
	assert_ptr_equal(pick(SERVICE_READ, &fallback), &fx.nodes[0]);
	teardown();
}

static void
test_read_leastconn(void **state)
{
	bool		fallback;

	(void) state;
	setup(3);
	fx.cfg.balance = BALANCE_LEASTCONN;
	for (int i = 0; i < 3; i++)
		set_up(&fx.nodes[i], CHECK_REPLICA, true);
	fx.nodes[0].traffic[SERVICE_READ].cur_sessions = 3;
	fx.nodes[1].traffic[SERVICE_READ].cur_sessions = 1;
	fx.nodes[2].traffic[SERVICE_READ].cur_sessions = 2;
	assert_ptr_equal(pick(SERVICE_READ, &fallback), &fx.nodes[1]);
	/* a tie goes to the first listed */
	fx.nodes[2].traffic[SERVICE_READ].cur_sessions = 1;
	assert_ptr_equal(pick(SERVICE_READ, &fallback), &fx.nodes[1]);
	teardown();
}

static void
test_read_fallback_to_primary(void **state)
{
	Node	   *old;
	bool		fallback = false;

	(void) state;
	setup(2);
	/* no replica and no primary: nothing */
	assert_null(pick(SERVICE_READ, &fallback));
	assert_false(fallback);
	set_up(&fx.nodes[1], CHECK_PRIMARY, true);
	assert_true(route_update_write_target(&fx.ctx, &old));
	assert_ptr_equal(pick(SERVICE_READ, &fallback), &fx.nodes[1]);
	assert_true(fallback);
	/* a healthy replica is preferred */
	set_up(&fx.nodes[0], CHECK_REPLICA, true);
	assert_ptr_equal(pick(SERVICE_READ, &fallback), &fx.nodes[0]);
	assert_false(fallback);
	/* fallback off: no healthy replica means no node */
	set_up(&fx.nodes[0], CHECK_REPLICA, false);
	fx.cfg.read_fallback = READ_FALLBACK_NONE;
	assert_null(pick(SERVICE_READ, &fallback));
	assert_false(fallback);
	teardown();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_target_follows_primary_check),
		cmocka_unit_test(test_write_needs_room),
		cmocka_unit_test(test_read_round_robin_skips_ineligible),
		cmocka_unit_test(test_read_leastconn),
		cmocka_unit_test(test_read_fallback_to_primary),
		cmocka_unit_test(test_reserve_is_bounded),
		cmocka_unit_test(test_reserve_across_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
