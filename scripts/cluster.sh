#!/usr/bin/env bash
# The local pg_ha cluster on this machine: a real ZooKeeper and two
# PostgreSQL 15 nodes on loopback, the second a streaming replica of the
# first, both running the pg_ha agent.
#
#   sudo scripts/cluster.sh up       install, build, start (idempotent)
#   sudo scripts/cluster.sh status   roles and health answers
#   sudo scripts/cluster.sh down     stop everything (data is kept)
#   sudo scripts/cluster.sh destroy  stop and delete the data
#   sudo scripts/cluster.sh zk-stop|zk-start   stop or start ZooKeeper only
#
# Ports (loopback): ZooKeeper 2181; node1 postgres 5433, API 8008;
# node2 postgres 5434, API 8009 (the lab's host ports).
set -euo pipefail

srcdir=$(cd "$(dirname "$0")/.." && pwd)
dir=${PGHA_CLUSTER_DIR:-/var/tmp/pg_ha-cluster}
zk_port=2181
declare -A pg_port=([node1]=5433 [node2]=5434)
declare -A api_port=([node1]=8008 [node2]=8009)
export PATH=/usr/lib/postgresql/15/bin:$PATH
source "$srcdir/scripts/relocate.sh" "$@"

[ "$(id -u)" -eq 0 ] || { echo "cluster.sh: run as root (sudo): it installs packages and runs postgres as the postgres user" >&2; exit 1; }

http_code() { curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1$2" || true; }

wait_http() {
	local port=$1 path=$2 want=$3 what=$4
	for _ in $(seq 1 300); do
		[ "$(http_code "$port" "$path")" = "$want" ] && return 0
		sleep 0.1
	done
	echo "cluster.sh: $what did not answer $want on $path within 30 s" >&2
	return 1
}

psql_node() { local n=$1; shift; runuser -u postgres -- psql -X -h 127.0.0.1 -p "${pg_port[$n]}" -U postgres -d postgres "$@"; }

status() {
	for n in node1 node2; do
		printf '%s: postgres 127.0.0.1:%s  API :%s  /master %s  /replica %s\n' "$n" "${pg_port[$n]}" \
			"${api_port[$n]}" "$(http_code "${api_port[$n]}" /master)" "$(http_code "${api_port[$n]}" /replica)"
	done
	psql_node node1 -c 'SELECT name, role, state, host, port, timeline, lsn, lag_bytes FROM ha_status()' 2>/dev/null ||
		psql_node node2 -c 'SELECT name, role, state, host, port, timeline, lsn, lag_bytes FROM ha_status()' 2>/dev/null || true
}

up() {
	"$srcdir/scripts/install-deps.sh"
	make -s -C "$srcdir"
	make -s -C "$srcdir" install > /dev/null
	mkdir -p "$dir"
	chown postgres:postgres "$dir"
	runuser -u postgres -- "$srcdir/scripts/zk.sh" start "$dir/zk" $zk_port
	if [ ! -d "$dir/node1/data" ]; then
		"$srcdir/scripts/run-node.sh" init-primary "$dir/node1" node1 "${pg_port[node1]}" "${api_port[node1]}" "127.0.0.1:$zk_port"
	fi
	[ -f "$dir/node1/data/postmaster.pid" ] || "$srcdir/scripts/run-node.sh" start "$dir/node1"
	wait_http "${api_port[node1]}" /master 200 node1
	psql_node node1 -q -c 'CREATE EXTENSION IF NOT EXISTS pg_ha'
	if [ ! -d "$dir/node2/data" ]; then
		"$srcdir/scripts/run-node.sh" init-replica "$dir/node2" node2 "${pg_port[node2]}" "${api_port[node2]}" "127.0.0.1:$zk_port" "${pg_port[node1]}"
	fi
	[ -f "$dir/node2/data/postmaster.pid" ] || "$srcdir/scripts/run-node.sh" start "$dir/node2"
	wait_http "${api_port[node2]}" /replica 200 node2
	for _ in $(seq 1 100); do
		[ "$(psql_node node1 -A -t -c "SELECT count(*) FROM ha_status() WHERE state = 'running'")" = 2 ] && break
		sleep 0.1
	done
	status
	cat <<MSG

pg_ha cluster is up (data in $dir).
  primary:  psql -h 127.0.0.1 -p ${pg_port[node1]} -U postgres
  replica:  psql -h 127.0.0.1 -p ${pg_port[node2]} -U postgres
  health:   curl -i http://127.0.0.1:${api_port[node1]}/master    (200 on the leader, 503 elsewhere)
  status:   curl -s http://127.0.0.1:${api_port[node1]}/cluster ;  SELECT * FROM ha_status();
  logs:     $dir/node1/postgres.log, $dir/node2/postgres.log
  stop:     sudo scripts/cluster.sh down
MSG
}

down() {
	for n in node2 node1; do "$srcdir/scripts/run-node.sh" stop "$dir/$n" || true; done
	"$srcdir/scripts/zk.sh" stop "$dir/zk" || true
}

case ${1:-up} in
up) up ;;
status) status ;;
down) down ;;
destroy) down; rm -rf "$dir" ;;
zk-stop) "$srcdir/scripts/zk.sh" stop "$dir/zk" ;;
zk-start) runuser -u postgres -- "$srcdir/scripts/zk.sh" start "$dir/zk" $zk_port ;;
*) echo "usage: cluster.sh up|status|down|destroy|zk-stop|zk-start" >&2; exit 2 ;;
esac
