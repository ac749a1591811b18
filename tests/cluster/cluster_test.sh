#!/usr/bin/env bash
# The local cluster (scripts/cluster.sh) is the lab: run from the tree, it
# refuses a taken port 5432 before starting anything; up gives writes through
# the router on 5432, reads on 5435, the stats page on 7000 and a status with
# the router's view; a failover is followed by the router; destroy leaves no
# process, port or file behind.  Then up --zk 3 --nodes 3: one ZooKeeper
# server cut alone (the leader of the ensemble) and writes go on.
#
#   sudo tests/cluster/cluster_test.sh        (TAP; a step of scripts/test.sh)
#
# It uses the lab's host ports (5432-5436, 7000, 8008-8010, 127.0.0.11-13:2181):
# run it under /tmp/pg_ha-lab.lock.  The cluster's directory is a fresh one
# (PGHA_CLUSTER_DIR), never the default /var/tmp/pg_ha-cluster.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/tests/router/lib.sh"
source "$root/tests/router/tap.sh"

[ "$(id -u)" -eq 0 ] || { echo "Bail out! run as root (cluster.sh installs and runs servers as postgres)"; exit 1; }

W=$(mktemp -d /tmp/pgha-cluster-test.XXXXXX) && chmod 755 "$W" || bail "cannot create a work dir"
export PGHA_CLUSTER_DIR=$W/cluster PGPASSWORD=postgres PGCONNECT_TIMEOUT=10
cl() { "$root/scripts/cluster.sh" "$@"; }
# cl_q ARGS: cl with its output in $W/cl.log (kept out of the TAP stream)
cl_q() { cl "$@" >> "$W/cl.log" 2>&1; }
cleanup() {
	kill_started
	[ -d "$PGHA_CLUSTER_DIR" ] && cl destroy > "$W/cleanup.log" 2>&1
	if [ "$FAILED" -gt 0 ]; then echo "# logs kept in $W"; else rm -rf "$W"; fi
	echo "1..$TESTS"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

lab_ports=(5432 5433 5434 5435 5436 7000 8008 8009 8010)
for p in "${lab_ports[@]}"; do
	port_open "$p" && bail "port $p is in use: this test needs the lab's host ports"
done
for a in 127.0.0.11 127.0.0.12 127.0.0.13; do
	(exec 3<>"/dev/tcp/$a/2181") 2>/dev/null && bail "$a:2181 is in use"
done

t0=$(now_ms)
secs() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
psql_w() { psql_at 5432 -q "$@"; }

# the processes of the cluster, from its PID files: supervisors, postmasters, ZooKeeper, router
cluster_pids() {
	local f
	for f in "$PGHA_CLUSTER_DIR"/*/supervisor.pid "$PGHA_CLUSTER_DIR"/zk*/zk.pid "$PGHA_CLUSTER_DIR"/router/router.pid; do
		[ -f "$f" ] && cat "$f"
	done
	for f in "$PGHA_CLUSTER_DIR"/node*/data/postmaster.pid; do
		[ -f "$f" ] && head -1 "$f"
	done
	true
}
none_alive() { local p; for p in "$@"; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
ports_free() { local p; for p in "${lab_ports[@]}"; do port_open "$p" && return 1; done; return 0; }

# destroy_clean DESCRIPTION: destroy, then nothing of the cluster is left
destroy_clean() {
	local pids t
	pids=$(cluster_pids)
	is "$1: the cluster's processes were known" "$([ -n "$pids" ] && echo yes)" yes
	t=$(now_ms)
	check "$1: cluster.sh destroy" cl_q destroy
	diag "destroy took $(secs "$t") s"
	check "$1: no process of the cluster left (router, supervisors, postgres, ZooKeeper)" none_alive $pids
	check "$1: the lab's ports are free" ports_free
	check "$1: the cluster's directory is gone" test ! -e "$PGHA_CLUSTER_DIR"
}

# ---- a taken 5432 stops up before anything starts -----------------------

echo listen > "$W/mode"
start_hostile_endpoint 5432 "$W/mode" || bail "cannot listen on 5432"
out=$(cl up 2>&1); rc=$?
is "up with 5432 taken fails" "$([ $rc -ne 0 ] && echo failed)" failed
check "it says which port, and by what" grep -q '127.0.0.1:5432 (for router-writes) is taken: users:(("perl"' <<<"$out"
check "it started nothing (no cluster directory)" test ! -e "$PGHA_CLUSTER_DIR"
kill_started
STARTED_PIDS=()
wait_until 50 0.1 ports_free || bail "5432 still taken"

# ---- the default lab: 1 ZooKeeper server, 2 nodes, the router -----------

t=$(now_ms)
out=$(cl up 2>&1); rc=$?
is "cluster.sh up" "$rc" 0
[ $rc -eq 0 ] || { tail -30 <<<"$out" | sed 's/^/#   /'; bail "the cluster did not come up"; }
diag "up took $(secs "$t") s"
addresses=$(sed -n '/^pg_ha cluster is up/,/^$/p' <<<"$out")
is "up prints the router's addresses first, then the nodes'" \
	"$(grep -oE '^  (writes|reads|stats|node[0-9]):' <<<"$addresses" | tr -d ' \n')" "writes:reads:stats:node1:node2:"
check "  writes on 127.0.0.1:5432" grep -q 'writes:   psql -h 127.0.0.1 -p 5432 ' <<<"$addresses"
check "  stats on http://127.0.0.1:7000/" grep -q 'stats:    http://127.0.0.1:7000/' <<<"$addresses"

is "a write through 5432 lands on node1 (5433)" \
	"$(psql_w -c 'CREATE TABLE t1(id serial PRIMARY KEY, txt text)' -c "INSERT INTO t1(txt) VALUES ('before_failover')" -c 'SELECT inet_server_port()')" 5433
row_read() { [ "$(psql_at 5435 -c "SELECT pg_is_in_recovery(), count(*) FROM t1 WHERE txt = '$1'" 2>/dev/null)" = "t|1" ]; }
check "the row is read through 5435, on a replica" wait_until 50 0.2 row_read before_failover

is "stats page on 7000: 200" "$(http_status http://127.0.0.1:7000/)" 200
stats_html() { curl -s -m 3 http://127.0.0.1:7000/; }
write_status() { stats_html | grep -o "data-service=\"write\" data-node=\"$1\" data-status=\"[A-Z]*\"" | sed 's/.*data-status="//; s/"//'; }
write_status_is() { [ "$(write_status "$1")" = "$2" ]; }
check "stats page: node1 UP for writes" wait_until 50 0.2 write_status_is node1 UP
check "stats page: node2 DOWN for writes" wait_until 50 0.2 write_status_is node2 DOWN
write_target() { curl -s -m 3 http://127.0.0.1:7000/stats.json | grep -o '"write_target":"[^"]*"' | cut -d'"' -f4; }
is "/stats.json: write target node1" "$(write_target)" node1
check "/metrics: node1 up for writes" grep -qx 'pg_ha_router_node_up{service="write",node="node1"} 1' <<<"$(curl -s -m 3 http://127.0.0.1:7000/metrics)"

st=$(cl status 2>&1); rc=$?
is "cluster.sh status" "$rc" 0
check "status: the router's view first" grep -q '^router: writes 127.0.0.1:5432 -> node1, reads 127.0.0.1:5435, stats http://127.0.0.1:7000/' <<<"$(head -1 <<<"$st")"
check "status: its checks (node1 UP for writes, node2 UP for reads)" \
	grep -qE '^  write: +node1 UP +node2 DOWN' <<<"$st"
check "status: ... and for reads" grep -qE '^  read: +node1 DOWN +node2 UP' <<<"$st"
check "status: ZooKeeper" grep -q '^zookeeper 1: 127.0.0.11:2181  standalone' <<<"$st"

# failover: the router follows; the old primary rejoins
check "node2 is the synchronous standby (GET /sync = 200)" wait_until 150 0.2 sh -c '[ "$(curl -s -o /dev/null -m 2 -w "%{http_code}" http://127.0.0.1:8009/sync)" = 200 ]'
t=$(now_ms)
check "cluster.sh stop node1" cl_q stop node1
write_lands() { [ "$(psql_w -c "INSERT INTO t1(txt) VALUES ('$1')" -c 'SELECT inet_server_port()' 2>/dev/null | tail -1)" = "$2" ]; }
check "a write through 5432 lands on node2 (5434)" wait_until 120 0.5 write_lands after_failover 5434
diag "from stop node1 to the first write on node2 through the router: $(secs "$t") s"
is "/stats.json: write target node2" "$(write_target)" node2
check "cluster.sh start node1" cl_q start node1
in_recovery() { [ "$(psql_at 5433 -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = t ]; }
check "node1 rejoins as a replica" wait_until 300 0.2 in_recovery
has_rows() { [ "$(psql_at 5433 -c "SELECT count(*) FROM t1" 2>/dev/null)" = 2 ]; }
check "node1 has both rows" wait_until 100 0.2 has_rows

destroy_clean "default"

# ---- an ensemble: 3 ZooKeeper servers, 3 nodes --------------------------

t=$(now_ms)
out=$(cl up --zk 3 --nodes 3 2>&1); rc=$?
is "cluster.sh up --zk 3 --nodes 3" "$rc" 0
[ $rc -eq 0 ] || { tail -30 <<<"$out" | sed 's/^/#   /'; bail "the ensemble cluster did not come up"; }
diag "up --zk 3 --nodes 3 took $(secs "$t") s"
is "every node lists the three ZooKeeper servers" \
	"$(grep -h '^zk_hosts' "$PGHA_CLUSTER_DIR"/node*/node.conf | sort -u)" "zk_hosts = 127.0.0.11:2181,127.0.0.12:2181,127.0.0.13:2181"
st=$(cl status 2>&1)
zk_modes() { grep -oE '^zookeeper [0-9]: 127\.0\.0\.1[0-9]:2181  [a-z ]+' <<<"$1" | awk '{print $NF}' | sort | tr '\n' ' '; }
is "status: one ZooKeeper leader, two followers" "$(zk_modes "$st")" "follower follower leader "
leader_zk=$(grep -oE '^zookeeper [0-9]: .* leader$' <<<"$st" | cut -d' ' -f2 | tr -d :)
is "a write through 5432 lands on the leader node1" \
	"$(psql_w -c 'CREATE TABLE t1(id serial PRIMARY KEY, txt text)' -c "INSERT INTO t1(txt) VALUES ('ensemble')" -c 'SELECT inet_server_port()')" 5433
check "stats page: three nodes, node1 UP for writes" wait_until 50 0.2 write_status_is node1 UP
check "cluster.sh zk-stop $leader_zk (ZooKeeper's leader)" cl_q zk-stop "$leader_zk"
st=$(cl status 2>&1)
check "status: server $leader_zk stopped" grep -qE "^zookeeper $leader_zk: .* stopped$" <<<"$st"
zk_left_serving() { [ "$(zk_modes "$(cl status 2>&1)")" = "follower leader stopped " ]; }
check "the other two serve, one of them leading" wait_until 60 0.5 zk_left_serving
write_on_node1() { write_lands "zk_cut_$(now_ms)" 5433; }
check "writes through 5432 go on, on node1" wait_until 60 0.5 write_on_node1
check "cluster.sh zk-start $leader_zk" cl_q zk-start "$leader_zk"
zk_back() { [ "$(zk_modes "$(cl status 2>&1)")" = "follower follower leader " ]; }
check "it rejoins the ensemble" wait_until 60 0.5 zk_back
is "node1 kept the leader key throughout (/primary 200)" "$(http_status http://127.0.0.1:8008/primary)" 200

destroy_clean "ensemble"
diag "total $(secs "$t0") s"
[ "$FAILED" -eq 0 ]
