#!/usr/bin/env bash
# The local pg_ha cluster on this machine: a real ZooKeeper and two
# PostgreSQL 15 nodes on loopback, each run by pg_ha_supervisor (which
# bootstraps the first and clones the second), both running the agent.
#
#   sudo scripts/cluster.sh up              install, build, start (idempotent)
#   sudo scripts/cluster.sh status          roles and health answers
#   sudo scripts/cluster.sh stop NODE       SIGTERM to a node's supervisor (docker stop)
#   sudo scripts/cluster.sh start NODE      start it again (it rejoins by itself)
#   sudo scripts/cluster.sh down            stop everything (data is kept)
#   sudo scripts/cluster.sh destroy         stop and delete the data
#   sudo scripts/cluster.sh zk-stop|zk-start  stop or start ZooKeeper only
#
# Ports (loopback): ZooKeeper 2181; node1 postgres 5433, API 8008;
# node2 postgres 5434, API 8009 (the lab's host ports).  Password of the
# postgres user: postgres (as in the lab).
set -euo pipefail

srcdir=$(cd "$(dirname "$0")/.." && pwd)
dir=${PGHA_CLUSTER_DIR:-/var/tmp/pg_ha-cluster}
zk_port=2181
nodes=(node1 node2)
declare -A pg_port=([node1]=5433 [node2]=5434)
declare -A api_port=([node1]=8008 [node2]=8009)
export PATH=/usr/lib/postgresql/15/bin:$PATH
export PGPASSWORD=postgres
source "$srcdir/scripts/relocate.sh" "$@"

[ "$(id -u)" -eq 0 ] || { echo "cluster.sh: run as root (sudo): it installs packages and runs postgres as the postgres user" >&2; exit 1; }

http_code() { curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1$2" || true; }

psql_node() { local n=$1; shift; psql -X -h 127.0.0.1 -p "${pg_port[$n]}" -U postgres -d postgres "$@"; }

supervisor_pid() { local f="$dir/$1/supervisor.pid"; [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"; }

start_node() {
	local n=$1 conf="$dir/$1/node.conf"
	[ -n "$(supervisor_pid "$n")" ] && return 0
	mkdir -p "$dir/$n"
	"$srcdir/cluster/render-node-conf.sh" "$srcdir/cluster/node.conf.in" \
		NAME="$n" HOST=127.0.0.1 LISTEN=127.0.0.1 PORT="${pg_port[$n]}" API_PORT="${api_port[$n]}" \
		ZK_HOSTS=127.0.0.1:2181 DIR="$dir/$n" NET=127.0.0.1/32 LOG_FILE="$dir/$n/postgres.log" \
		ARCHIVE_DIR="$dir/wal_archive" > "$conf"
	chown -R postgres:postgres "$dir/$n"
	runuser -u postgres -- bash -c "nohup pg_ha_supervisor -c '$conf' >> '$dir/$n/supervisor.log' 2>&1 < /dev/null & echo \$! > '$dir/$n/supervisor.pid'"
}

stop_node() {
	local n=$1 pid
	pid=$(supervisor_pid "$n") || return 0
	kill -TERM "$pid"
	for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	rm -f "$dir/$n/supervisor.pid"
}

wait_for() {
	local what=$1
	shift
	for _ in $(seq 1 600); do "$@" && return 0; sleep 0.1; done
	echo "cluster.sh: $what did not happen within 60 s; see $dir/*/supervisor.log" >&2
	return 1
}

one_replica() { [ "$( (http_code 8008 /replica; echo; http_code 8009 /replica; echo) | grep -c '^200$')" = 1 ]; }
one_primary() { [ "$( (http_code 8008 /primary; echo; http_code 8009 /primary; echo) | grep -c '^200$')" = 1 ]; }
all_running() { [ "$(psql_node "$1" -A -t -c "SELECT count(*) FROM ha_status() WHERE state = 'running'" 2>/dev/null)" = 2 ]; }

status() {
	for n in "${nodes[@]}"; do
		printf '%s: postgres 127.0.0.1:%s  API :%s  /primary %s  /replica %s  supervisor %s\n' "$n" "${pg_port[$n]}" \
			"${api_port[$n]}" "$(http_code "${api_port[$n]}" /primary)" "$(http_code "${api_port[$n]}" /replica)" \
			"$(supervisor_pid "$n" || echo stopped)"
	done
	for n in "${nodes[@]}"; do
		psql_node "$n" -c 'SELECT name, role, state, host, port, timeline, lsn, lag_bytes, sync_standby FROM ha_status()' 2>/dev/null && break
	done
}

up() {
	"$srcdir/scripts/install-deps.sh"
	make -s -C "$srcdir"
	make -s -C "$srcdir" install > /dev/null
	mkdir -p "$dir"
	chown postgres:postgres "$dir"
	runuser -u postgres -- "$srcdir/scripts/zk.sh" start "$dir/zk" $zk_port
	start_node node1
	wait_for "a leader" one_primary
	start_node node2
	wait_for "one primary and one replica" one_replica
	local leader=node1
	[ "$(http_code 8009 /primary)" = 200 ] && leader=node2
	psql_node $leader -q -c 'CREATE EXTENSION IF NOT EXISTS pg_ha'
	wait_for "both members running" all_running $leader
	status
	cat <<MSG

pg_ha cluster is up (data and logs in $dir; password of postgres: postgres).
  node1:    psql -h 127.0.0.1 -p ${pg_port[node1]} -U postgres      API http://127.0.0.1:${api_port[node1]}/patroni
  node2:    psql -h 127.0.0.1 -p ${pg_port[node2]} -U postgres      API http://127.0.0.1:${api_port[node2]}/patroni
  leader:   curl -i http://127.0.0.1:${api_port[node1]}/master    (200 on the leader, 503 elsewhere)
  status:   SELECT * FROM ha_status();   or   sudo scripts/cluster.sh status
  failover: sudo scripts/cluster.sh stop node1 ; ... ; sudo scripts/cluster.sh start node1
  stop:     sudo scripts/cluster.sh down
MSG
}

down() {
	for n in node2 node1; do stop_node "$n"; done
	"$srcdir/scripts/zk.sh" stop "$dir/zk" || true
}

case ${1:-up} in
up) up ;;
status) status ;;
stop) stop_node "${2:?which node}" ;;
start) start_node "${2:?which node}" ;;
down) down ;;
destroy) down; rm -rf "$dir" ;;
zk-stop) "$srcdir/scripts/zk.sh" stop "$dir/zk" ;;
zk-start) runuser -u postgres -- "$srcdir/scripts/zk.sh" start "$dir/zk" $zk_port ;;
*) echo "usage: cluster.sh up|status|stop NODE|start NODE|down|destroy|zk-stop|zk-start" >&2; exit 2 ;;
esac
