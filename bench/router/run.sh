#!/usr/bin/env bash
# bench/router/run.sh - pgbench through pg_ha_router vs HAProxy vs direct.
#
# One command; prints a table.  In one run, alternating on the same primary:
# pgbench -S (scale 10) at 16 and 64 clients, and -S -C (a new connection per
# transaction), directly, through HAProxy (Debian's, a lab-style config it
# generates) and through the router; then the router's RSS idle and with
# 1,000 idle client sessions (HAProxy's too, for scale).
#
#   bench/router/run.sh [--pg HOST:PORT] [--check HOST:PORT] [--duration S]
#                       [--rounds N] [--clients "16 64"] [--jobs J] [--idle N]
#                       [--haproxy-threads N]   (default: HAProxy's, one per CPU)
#
# Without --pg it starts its own pg_ha primary: a real ZooKeeper
# (scripts/zk.sh, port 16456) and a PostgreSQL 15 node with the pg_ha agent
# loaded (scripts/run-node.sh, as the postgres user, under
# /tmp/pgha-router-bench-*, port 16450, agent API 16451, max_connections
# 1100); the router and HAProxy both check GET /master on that agent.  With
# --pg, pass the primary's agent too, e.g. --check 127.0.0.1:8008.  An
# external primary must accept the user in $PGUSER (default postgres)
# without a password prompt (trust or ~/.pgpass) and allow --idle + 80
# connections.  Ports used: 16450-16459 on 127.0.0.1.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
. "$ROOT/tests/router/lib.sh"

PG=""
CHECK=""
DURATION=10
ROUNDS=3
CLIENTS="16 64"
JOBS=$(nproc)
IDLE=1000
HAPROXY_THREADS=""
SCALE=10
export PGUSER=${PGUSER:-postgres}
while [ $# -gt 0 ]; do
	case $1 in
		--pg) PG=$2; shift 2 ;;
		--check) CHECK=$2; shift 2 ;;
		--duration) DURATION=$2; shift 2 ;;
		--rounds) ROUNDS=$2; shift 2 ;;
		--clients) CLIENTS=$2; shift 2 ;;
		--jobs) JOBS=$2; shift 2 ;;
		--idle) IDLE=$2; shift 2 ;;
		--haproxy-threads) HAPROXY_THREADS=$2; shift 2 ;;
		-h|--help) sed -n '2,22p' "$0"; exit 0 ;;
		*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done

LOCAL_PG_PORT=16450 AGENT_PORT=16451 ROUTER_PORT=16452 ROUTER_STATS=16453
HAPROXY_PORT=16454 HAPROXY_STATS=16455 ZK_PORT=16456

W=$(make_workdir bench) || exit 1
cleanup() {
	kill_started
	node_stop_started
	zk_stop_started
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
say() { echo "[bench] $*" >&2; }

say "building the router (release)"
make -s -C "$ROOT/router" >"$W/build.log" 2>&1 || { cat "$W/build.log"; exit 1; }

if [ -z "$PG" ]; then
	if [ -n "$CHECK" ]; then echo "--check needs --pg" >&2; exit 2; fi
	say "starting ZooKeeper on $ZK_PORT and a pg_ha primary on $LOCAL_PG_PORT (agent API $AGENT_PORT)"
	zk_start "$W/zk" $ZK_PORT || exit 1
	node_init_primary "$W/node" bench1 $LOCAL_PG_PORT $AGENT_PORT "127.0.0.1:$ZK_PORT" \
		"max_connections = 1100" "shared_buffers = 256MB" "fsync = off" \
		"synchronous_commit = off" "full_page_writes = off" || exit 1
	node_start "$W/node" || exit 1
	PG=127.0.0.1:$LOCAL_PG_PORT
	CHECK=127.0.0.1:$AGENT_PORT
	agent_primary() { [ "$(http_status "http://$CHECK/master")" = 200 ]; }
	wait_until 300 0.1 agent_primary || { say "the agent never answered 200 on /master"; exit 1; }
fi
[ -n "$CHECK" ] || { echo "--pg needs --check (the primary's agent API)" >&2; exit 2; }
PG_HOST=${PG%:*} PG_PORT=${PG##*:}
CHECK_HOST=${CHECK%:*} CHECK_PORT=${CHECK##*:}

cat >"$W/router.conf" <<CONF
maxconn $((IDLE + 1000))
timeout client 30m
timeout connect 4s
timeout server 30m
timeout check 5s
listen write 127.0.0.1:$ROUTER_PORT
listen stats 127.0.0.1:$ROUTER_STATS
check primary path /master interval 3s fall 3 rise 2
node primary $PG_HOST:$PG_PORT check $CHECK_HOST:$CHECK_PORT
CONF
# the lab's haproxy.cfg with loopback ports (and maxconn raised for the idle test)
cat >"$W/haproxy.cfg" <<CONF
global
  maxconn $((IDLE + 1000))${HAPROXY_THREADS:+
  nbthread $HAPROXY_THREADS}

defaults
  mode tcp
  retries 3
  timeout client 30m
  timeout connect 4s
  timeout server 30m
  timeout check 5s

listen stats
  mode http
  bind 127.0.0.1:$HAPROXY_STATS
  stats enable
  stats uri /

listen postgres
  bind 127.0.0.1:$HAPROXY_PORT
  option httpchk GET /master
  http-check expect status 200
  default-server inter 3s fall 3 rise 2 on-marked-down shutdown-sessions
  server pg_primary $PG_HOST:$PG_PORT maxconn $((IDLE + 1000)) check port $CHECK_PORT addr $CHECK_HOST
CONF

start_bg "$W/router.log" "$ROOT/router/pg_ha_router" -c "$W/router.conf"
ROUTER_PID=$BG_PID
start_bg "$W/haproxy.log" haproxy -db -f "$W/haproxy.cfg"
HAPROXY_PID=$BG_PID
can_query() { psql -h 127.0.0.1 -p "$1" -d postgres -XAtc "select 1" >/dev/null 2>&1; }
wait_until 100 0.1 can_query $ROUTER_PORT || { say "router not routing"; cat "$W/router.log"; exit 1; }
wait_until 100 0.1 can_query $HAPROXY_PORT || { say "haproxy not routing"; cat "$W/haproxy.log"; exit 1; }
sleep 1
RSS_ROUTER_START=$(rss_kb $ROUTER_PID)

say "pgbench -i -s $SCALE"
pgbench -i -s $SCALE -q -h "$PG_HOST" -p "$PG_PORT" postgres >"$W/init.log" 2>&1 || { cat "$W/init.log"; exit 1; }

declare -A TPS LAT
run_one() {	# KEY TARGET_NAME HOST PORT ARGS...
	local key=$1 name=$2 host=$3 port=$4 out
	shift 4
	out=$(pgbench -n -S -T "$DURATION" -j "$JOBS" "$@" -h "$host" -p "$port" postgres 2>&1)
	local tps lat
	tps=$(echo "$out" | awk '/^tps = / {print $3; exit}')
	lat=$(echo "$out" | awk '/^latency average = / {print $4; exit}')
	if [ -z "$tps" ]; then say "pgbench failed ($name $key): $(echo "$out" | tail -3)"; tps=0 lat=0; fi
	TPS[$key,$name]="${TPS[$key,$name]:-} $tps"
	LAT[$key,$name]="${LAT[$key,$name]:-} $lat"
	say "round $r  $key  $name: tps $tps, latency $lat ms"
}
TARGETS=(direct haproxy router)
declare -A HOSTOF=([direct]=$PG_HOST [haproxy]=127.0.0.1 [router]=127.0.0.1)
declare -A PORTOF=([direct]=$PG_PORT [haproxy]=$HAPROXY_PORT [router]=$ROUTER_PORT)
KEYS=()
for c in $CLIENTS; do KEYS+=("-S c=$c"); done
KEYS+=("-S -C c=16")
for ((r = 1; r <= ROUNDS; r++)); do
	for key in "${KEYS[@]}"; do
		c=${key##*c=}
		extra=()
		[[ $key == *-C* ]] && extra=(-C)
		# rotate the order each round so no target always runs first
		for ((i = 0; i < 3; i++)); do
			t=${TARGETS[$(((i + r) % 3))]}
			run_one "$key" "$t" "${HOSTOF[$t]}" "${PORTOF[$t]}" -c "$c" "${extra[@]}"
		done
	done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR] = $1} END {if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "-"}'; }

RSS_ROUTER_IDLE=$(rss_kb $ROUTER_PID)
RSS_HAPROXY_IDLE=$(rss_kb $HAPROXY_PID)
say "opening $IDLE idle sessions through the router, then through HAProxy"
hold_idle() {	# PORT COUNT READYFILE: opens COUNT authenticated sessions, holds them until killed
	exec perl -MIO::Socket::INET -e '
		my ($port, $count, $ready) = @ARGV;
		my @socks;
		my $params = "user\0$ENV{PGUSER}\0database\0postgres\0\0";
		my $startup = pack("NN", 8 + length($params), 196608) . $params;
		for my $i (1 .. $count) {
			my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 10) or last;
			print $s $startup;
			push @socks, $s;
		}
		my $ok = 0;
		for my $s (@socks) {	# wait for ReadyForQuery ("Z") on each
			my $buf = "";
			while (sysread($s, my $chunk, 4096)) { $buf .= $chunk; last if $buf =~ /Z\x00\x00\x00\x05I$/; }
			$ok++ if $buf =~ /Z\x00\x00\x00\x05I$/;
		}
		open(my $fh, ">", $ready); print $fh "$ok\n"; close $fh;
		sleep 3600;' "$@"
}
idle_rss() {	# PORT PID -> "rss_kb sessions"
	local ready="$W/ready.$1" pid rss n
	rm -f "$ready"
	hold_idle "$1" "$IDLE" "$ready" &
	pid=$!
	STARTED_PIDS+=("$pid")
	wait_until 600 0.1 test -s "$ready"
	sleep 1
	rss=$(rss_kb "$2")
	n=$(cat "$ready" 2>/dev/null)
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	sleep 1
	echo "$rss ${n:-0}"
}
read -r RSS_ROUTER_LOADED ROUTER_IDLE_OK < <(idle_rss $ROUTER_PORT $ROUTER_PID)
read -r RSS_HAPROXY_LOADED HAPROXY_IDLE_OK < <(idle_rss $HAPROXY_PORT $HAPROXY_PID)

echo
echo "pg_ha_router bench: pgbench -S scale $SCALE, ${DURATION}s x $ROUNDS rounds (median), -j $JOBS, $(nproc) CPUs, primary $PG, checks GET /master on $CHECK"
printf "%-12s | %10s %10s %10s | %8s %9s | %9s %9s %9s\n" test "direct" "haproxy" "router" "r/direct" "r/haproxy" "lat dir" "lat hap" "lat rtr"
printf "%-12s | %10s %10s %10s | %8s %9s | %9s %9s %9s\n" "" "TPS" "TPS" "TPS" "" "" "ms" "ms" "ms"
for key in "${KEYS[@]}"; do
	d=$(echo "${TPS[$key,direct]}" | median)
	h=$(echo "${TPS[$key,haproxy]}" | median)
	rt=$(echo "${TPS[$key,router]}" | median)
	printf "%-12s | %10.0f %10.0f %10.0f | %8s %9s | %9s %9s %9s\n" "$key" "$d" "$h" "$rt" \
		"$(ratio "$rt" "$d")" "$(ratio "$rt" "$h")" \
		"$(echo "${LAT[$key,direct]}" | median)" "$(echo "${LAT[$key,haproxy]}" | median)" \
		"$(echo "${LAT[$key,router]}" | median)"
done
echo
printf "RSS router:  start %s kB, idle after the runs %s kB, with %s idle sessions %s kB\n" \
	"$RSS_ROUTER_START" "$RSS_ROUTER_IDLE" "$ROUTER_IDLE_OK" "$RSS_ROUTER_LOADED"
printf "RSS haproxy: idle after the runs %s kB, with %s idle sessions %s kB\n" \
	"$RSS_HAPROXY_IDLE" "$HAPROXY_IDLE_OK" "$RSS_HAPROXY_LOADED"
