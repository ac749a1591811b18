#!/usr/bin/env bash
# The local pg_ha cluster on this machine, laid out like the docker/ lab:
# a real ZooKeeper (one server or an ensemble), PostgreSQL 15 nodes on
# loopback, each run by pg_ha_supervisor (the first bootstraps, the others
# clone it), all running the agent, and pg_ha_router in front of them.
#
#   sudo scripts/cluster.sh up [--zk N] [--nodes N]
#                                 install, build, start (idempotent); default 1 ZooKeeper
#                                 server and 2 nodes; the shape is kept until destroy
#   sudo scripts/cluster.sh status          the router's view, ZooKeeper, roles and health answers
#   sudo scripts/cluster.sh stop NODE       SIGTERM to a node's supervisor (docker stop)
#   sudo scripts/cluster.sh start NODE      start it again (it rejoins by itself)
#   sudo scripts/cluster.sh down            stop everything, router included (data is kept)
#   sudo scripts/cluster.sh destroy         stop and delete the data
#   sudo scripts/cluster.sh zk-stop [N]     stop ZooKeeper server N (default: every server)
#   sudo scripts/cluster.sh zk-start [N]    start it (them) again
#
# Addresses (the lab's host ports): the router takes writes on 127.0.0.1:5432,
# reads on 127.0.0.1:5435, stats on http://127.0.0.1:7000/.  ZooKeeper server
# N listens on its own loopback address 127.0.0.1N:2181 (127.0.0.11, .12, ...),
# so one can be cut alone.  Node N: postgres 5432+N (5433, 5434, then 5436:
# 5435 is the router's), API 8007+N (8008, 8009, ...).  Password of the
# postgres user: postgres (as in the lab).  The data and logs are in
# PGHA_CLUSTER_DIR (default /var/tmp/pg_ha-cluster).
#
# It never stops a server it did not start: if a port it needs is taken (say
# Debian's own cluster 15/main on 5432), it says by what and stops.
set -euo pipefail

srcdir=$(cd "$(dirname "$0")/.." && pwd)
dir=${PGHA_CLUSTER_DIR:-/var/tmp/pg_ha-cluster}
export PATH=/usr/lib/postgresql/15/bin:$PATH
export PGPASSWORD=postgres PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-5}
source "$srcdir/scripts/relocate.sh" "$@"

[ "$(id -u)" -eq 0 ] || { echo "cluster.sh: run as root (sudo): it installs packages and runs postgres as the postgres user" >&2; exit 1; }

# ---- the layout --------------------------------------------------------

write_port=5432 read_port=5435 stats_port=7000 zk_port=2181
zk_count=1 node_count=2
# the shape of an existing cluster (written by up, removed by destroy)
[ -f "$dir/shape" ] && source "$dir/shape"

zk_addr() { echo "127.0.0.$((10 + $1))"; }
zk_hosts() { local i out=; for ((i = 1; i <= zk_count; i++)); do out+="${out:+,}$(zk_addr $i):$zk_port"; done; echo "$out"; }
node_names() { local i; for ((i = 1; i <= node_count; i++)); do echo "node$i"; done; }
node_index() { echo "${1#node}"; }
pg_port() { local p=$((5432 + $(node_index "$1"))); [ $p -ge $read_port ] && p=$((p + 1)); echo $p; }
api_port() { echo $((8007 + $(node_index "$1"))); }

# ---- probes ------------------------------------------------------------

http_code() { curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1$2" || true; }
psql_at() { local port=$1; shift; psql -X -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"; }
alive_pid() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null && cat "$1"; }
supervisor_pid() { alive_pid "$dir/$1/supervisor.pid"; }
router_pid() { alive_pid "$dir/router/router.pid"; }
zk_pid() { alive_pid "$dir/zk$1/zk.pid"; }

# the nodes answering 200 on PATH, one a line
answering() { local n; for n in $(node_names); do [ "$(http_code "$(api_port $n)" "$1")" = 200 ] && echo "$n"; done; true; }
leader() { answering /primary | head -1; }
one_primary() { [ "$(answering /primary | wc -l)" = 1 ]; }
all_replicas() { [ "$(answering /replica | wc -l)" = $((node_count - 1)) ] && one_primary; }
all_running() { [ "$(psql_at "$(pg_port "$1")" -A -t -c "SELECT count(*) FROM ha_status() WHERE state = 'running'" 2>/dev/null)" = "$node_count" ]; }
zk_quorum() { local i; for ((i = 1; i <= zk_count; i++)); do "$srcdir/scripts/zk.sh" mode "$dir/zk$i" > /dev/null || return 1; done; }
router_routes() { psql_at $write_port -A -t -c 'SELECT NOT pg_is_in_recovery()' 2>/dev/null | grep -qx t; }

# wait_for WHAT CMD...: at most 600 tries and 60 s
wait_for() {
	local what=$1 end=$((SECONDS + 60))
	shift
	for _ in $(seq 1 600); do
		"$@" && return 0
		[ $SECONDS -lt $end ] || break
		sleep 0.1
	done
	echo "cluster.sh: $what did not happen within 60 s; see the logs in $dir" >&2
	return 1
}

# port_taken ADDRESS PORT: prints what listens there (nothing if free)
port_taken() {
	local addr=$1 port=$2
	ss -ltnpH "( sport = :$port )" 2>/dev/null | awk -v a="$addr" '$4 ~ "^(\\[::ffff:)?(" a "|0\\.0\\.0\\.0|\\*|\\[::\\])\\]?:" {print}'
}

# refuse to start on ports something else holds, before building anything
check_ports() {
	local -a want=() busy=()
	local n i entry line
	[ -n "$(router_pid)" ] || want+=("127.0.0.1 $write_port router-writes" "127.0.0.1 $read_port router-reads" "127.0.0.1 $stats_port router-stats")
	for ((i = 1; i <= zk_count; i++)); do
		[ -n "$(zk_pid $i)" ] || want+=("$(zk_addr $i) $zk_port zookeeper-$i")
	done
	for n in $(node_names); do
		[ -n "$(supervisor_pid $n)" ] || want+=("127.0.0.1 $(pg_port $n) $n-postgres" "127.0.0.1 $(api_port $n) $n-api")
	done
	for entry in "${want[@]}"; do
		read -r addr port what <<<"$entry"
		line=$(port_taken "$addr" "$port")
		[ -z "$line" ] || busy+=("$addr:$port (for $what) is taken: $(awk '{print $NF}' <<<"$line" | head -1)")
	done
	[ ${#busy[@]} -eq 0 ] && return 0
	echo "cluster.sh: cannot start, ports in use:" >&2
	printf '  %s\n' "${busy[@]}" >&2
	if printf '%s\n' "${busy[@]}" | grep -q ":$write_port " && pg_lsclusters -h 2>/dev/null | awk '$3 == 5432 && $4 == "online"' | grep -q .; then
		echo "  Debian's PostgreSQL cluster $(pg_lsclusters -h | awk '$3 == 5432 {print $1 "/" $2; exit}') runs on 5432 (the postgresql service);" >&2
		echo "  cluster.sh does not stop it. Stop it yourself: pg_ctlcluster $(pg_lsclusters -h | awk '$3 == 5432 {print $1 " " $2; exit}') stop" >&2
		echo "  (and echo manual > /etc/postgresql/15/main/start.conf to keep it from starting at boot)." >&2
	fi
	echo "  Stop what holds them, or 'scripts/cluster.sh down' if it is an older run of this cluster." >&2
	return 1
}

# ---- the pieces --------------------------------------------------------

start_zk() {
	local i=$1 ids=() j
	[ -n "$(zk_pid $i)" ] && return 0
	if [ "$zk_count" -gt 1 ]; then
		for ((j = 1; j <= zk_count; j++)); do ids+=("$(zk_addr $j)"); done
		local IFS=,
		runuser -u postgres -- "$srcdir/scripts/zk.sh" start "$dir/zk$i" $zk_port "$(zk_addr $i)" "$i" "${ids[*]}"
	else
		runuser -u postgres -- "$srcdir/scripts/zk.sh" start "$dir/zk$i" $zk_port "$(zk_addr $i)"
	fi
}

stop_zk() { "$srcdir/scripts/zk.sh" stop "$dir/zk$1" || true; }

# zk_servers [N]: N, or every server
zk_servers() { if [ -n "${1:-}" ]; then echo "$1"; else seq 1 "$zk_count"; fi; }

start_node() {
	local n=$1 conf="$dir/$1/node.conf"
	[ -n "$(supervisor_pid "$n")" ] && return 0
	mkdir -p "$dir/$n"
	"$srcdir/cluster/render-node-conf.sh" "$srcdir/cluster/node.conf.in" \
		NAME="$n" HOST=127.0.0.1 LISTEN=127.0.0.1 PORT="$(pg_port $n)" API_PORT="$(api_port $n)" \
		ZK_HOSTS="$(zk_hosts)" DIR="$dir/$n" NET=127.0.0.1/32 LOG_FILE="$dir/$n/postgres.log" \
		ARCHIVE_DIR="$dir/wal_archive" > "$conf"
	chown -R postgres:postgres "$dir/$n"
	runuser -u postgres -- bash -c "nohup pg_ha_supervisor -c '$conf' >> '$dir/$n/supervisor.log' 2>&1 < /dev/null & echo \$! > '$dir/$n/supervisor.pid'"
}

# stop_pid PIDFILE SECONDS: SIGTERM, wait for it to end (bounded)
stop_pid() {
	local pid
	pid=$(alive_pid "$1") || { rm -f "$1"; return 0; }
	kill -TERM "$pid"
	for _ in $(seq 1 $(($2 * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && { echo "cluster.sh: pid $pid ($1) did not stop within $2 s" >&2; return 1; }
	rm -f "$1"
}

stop_node() { stop_pid "$dir/$1/supervisor.pid" 60; }

# the router's file: the docker lab's (docker/pg_ha_router.conf) with this
# machine's addresses, and a short drain so that down does not wait long
router_conf() {
	local n
	cat <<CONF
# written by scripts/cluster.sh up (see docker/pg_ha_router.conf)
maxconn 100
retries 3
timeout client 30m
timeout connect 4s
timeout server 30m
timeout check 5s
timeout drain 5s

listen stats 127.0.0.1:$stats_port
listen write 127.0.0.1:$write_port
listen read 127.0.0.1:$read_port

check primary path /master interval 3s fall 3 rise 2
check replica path /replica interval 3s fall 3 rise 2

CONF
	for n in $(node_names); do
		echo "node $n 127.0.0.1:$(pg_port $n) check 127.0.0.1:$(api_port $n) maxconn 100"
	done
}

start_router() {
	local r="$dir/router"
	[ -n "$(router_pid)" ] && return 0
	mkdir -p "$r"
	router_conf > "$r/pg_ha_router.conf"
	"$srcdir/router/pg_ha_router" -t -c "$r/pg_ha_router.conf" > /dev/null
	chown -R postgres:postgres "$r"
	runuser -u postgres -- bash -c "nohup '$srcdir/router/pg_ha_router' -c '$r/pg_ha_router.conf' >> '$r/router.log' 2>&1 < /dev/null & echo \$! > '$r/router.pid'"
}

stop_router() { stop_pid "$dir/router/router.pid" 15; }

# ---- commands ----------------------------------------------------------

router_status() {
	local metrics target
	if [ -z "$(router_pid)" ]; then
		echo "router: stopped (writes 127.0.0.1:$write_port, reads 127.0.0.1:$read_port, stats http://127.0.0.1:$stats_port/)"
		return
	fi
	target=$(curl -s -m 2 "http://127.0.0.1:$stats_port/stats.json" | grep -o '"write_target":[^,]*' | cut -d: -f2 | tr -d '"')
	echo "router: writes 127.0.0.1:$write_port -> ${target:-?}, reads 127.0.0.1:$read_port, stats http://127.0.0.1:$stats_port/ (pid $(router_pid))"
	# its checks, from the stats page's metrics form
	metrics=$(curl -s -m 2 "http://127.0.0.1:$stats_port/metrics")
	awk -F'[{}",= ]+' '/^pg_ha_router_node_up\{/ {
			line[$3] = line[$3] sprintf("  %s %s", $5, $6 == 1 ? "UP" : "DOWN")
		}
		/^pg_ha_router_node_sessions_total\{/ { total[$3] += $6 }
		END { for (s in line) printf "  %-6s%s   (sessions so far: %d)\n", s ":", line[s], total[s] }' <<<"$metrics" | sort -r
}

zk_status() {
	local i mode
	for ((i = 1; i <= zk_count; i++)); do
		if [ -z "$(zk_pid $i)" ]; then mode=stopped
		else mode=$("$srcdir/scripts/zk.sh" mode "$dir/zk$i" || echo "not serving"); fi
		printf 'zookeeper %d: %s:%s  %s\n' "$i" "$(zk_addr $i)" $zk_port "$mode"
	done
}

status() {
	local n
	router_status
	zk_status
	for n in $(node_names); do
		printf '%s: postgres 127.0.0.1:%s  API :%s  /primary %s  /replica %s  supervisor %s\n' "$n" "$(pg_port $n)" \
			"$(api_port $n)" "$(http_code "$(api_port $n)" /primary)" "$(http_code "$(api_port $n)" /replica)" \
			"$(supervisor_pid "$n" || echo stopped)"
	done
	for n in $(node_names); do
		psql_at "$(pg_port $n)" -c 'SELECT name, role, state, host, port, timeline, lsn, lag_bytes, sync_standby FROM ha_status()' 2>/dev/null && break
	done
	true
}

parse_shape() {
	local zk=$zk_count nodes=$node_count
	while [ $# -gt 0 ]; do
		case $1 in
		--zk) zk=${2:?--zk needs a number}; shift 2 ;;
		--nodes) nodes=${2:?--nodes needs a number}; shift 2 ;;
		*) echo "cluster.sh up: unknown option $1 (--zk N, --nodes N)" >&2; exit 2 ;;
		esac
	done
	[[ $zk =~ ^[1-9]$ ]] || { echo "cluster.sh: --zk takes 1 to 9" >&2; exit 2; }
	[[ $nodes =~ ^[1-9]$ ]] || { echo "cluster.sh: --nodes takes 1 to 9" >&2; exit 2; }
	if [ -f "$dir/shape" ] && { [ "$zk" != "$zk_count" ] || [ "$nodes" != "$node_count" ]; }; then
		echo "cluster.sh: the cluster in $dir has $zk_count ZooKeeper server(s) and $node_count node(s); 'destroy' it first to change that" >&2
		exit 2
	fi
	zk_count=$zk node_count=$nodes
}

up() {
	local i n lead
	parse_shape "$@"
	if [ -d "$dir/zk" ] && [ ! -f "$dir/shape" ]; then
		echo "cluster.sh: $dir was made by an older cluster.sh (one ZooKeeper on 127.0.0.1, no router); 'scripts/cluster.sh destroy' it first" >&2
		exit 1
	fi
	"$srcdir/scripts/install-deps.sh"
	check_ports
	make -s -C "$srcdir"
	make -s -C "$srcdir" install > /dev/null
	mkdir -p "$dir"
	chown postgres:postgres "$dir"
	echo "zk_count=$zk_count node_count=$node_count" > "$dir/shape"
	for ((i = 1; i <= zk_count; i++)); do start_zk $i; done
	wait_for "a ZooKeeper quorum" zk_quorum
	start_node node1
	wait_for "a leader" one_primary
	for n in $(node_names); do start_node "$n"; done
	wait_for "one primary, the other nodes replicas" all_replicas
	lead=$(leader)
	psql_at "$(pg_port "$lead")" -q -c 'CREATE EXTENSION IF NOT EXISTS pg_ha'
	wait_for "every member running" all_running "$lead"
	start_router
	wait_for "the router sending writes to the leader" router_routes
	cat <<MSG
pg_ha cluster is up (data and logs in $dir; password of postgres: postgres).
  writes:   psql -h 127.0.0.1 -p $write_port -U postgres     (the router, to the leader)
  reads:    psql -h 127.0.0.1 -p $read_port -U postgres     (the router, round robin over replicas)
  stats:    http://127.0.0.1:$stats_port/   (also /stats.json, /metrics)
  ZooKeeper: $(zk_hosts)
MSG
	for n in $(node_names); do
		printf '  %s:    psql -h 127.0.0.1 -p %s -U postgres      API http://127.0.0.1:%s/patroni\n' "$n" "$(pg_port $n)" "$(api_port $n)"
	done
	cat <<MSG
  status:   sudo scripts/cluster.sh status     or   SELECT * FROM ha_status();
  failover: sudo scripts/cluster.sh stop $lead ; ... ; sudo scripts/cluster.sh start $lead
  stop:     sudo scripts/cluster.sh down      (destroy also deletes the data)

MSG
	status
}

down() {
	local n i
	stop_router
	for n in $(node_names | tac); do stop_node "$n"; done
	for ((i = 1; i <= zk_count; i++)); do stop_zk $i; done
	# the one server of a cluster made before ZooKeeper had a directory per server
	[ ! -d "$dir/zk" ] || "$srcdir/scripts/zk.sh" stop "$dir/zk" || true
}

case ${1:-up} in
up) shift || true; up "$@" ;;
status) status ;;
stop) stop_node "${2:?which node}" ;;
start) start_node "${2:?which node}" ;;
down) down ;;
destroy) down; rm -rf "$dir" ;;
zk-stop) for i in $(zk_servers "${2:-}"); do stop_zk "$i"; done ;;
zk-start) for i in $(zk_servers "${2:-}"); do start_zk "$i"; done ;;
*) echo "usage: cluster.sh up [--zk N] [--nodes N]|status|stop NODE|start NODE|down|destroy|zk-stop [N]|zk-start [N]" >&2; exit 2 ;;
esac
