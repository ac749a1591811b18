#!/usr/bin/env bash
# bench/router/run.sh - pgbench through pg_ha_router vs HAProxy vs direct.
#
# One command; prints a table.  In one run, alternating on the same primary:
# pgbench -S (scale 10) at 16, 64 and 256 clients, and -S -C (a new
# connection per transaction) at 16, directly, through HAProxy (Debian's, a
# lab-style config it generates) and through the router, with each proxy's
# CPU seconds per 1,000 transactions (utime+stime of /proc/PID/stat, all
# threads, before and after each pgbench); then RSS with idle authenticated
# sessions: --idle-real (1,000) through to the primary, and --idle (9,900)
# through a second router and HAProxy to a connection-holding stand-in for
# postgres (pg_standin.pl; see bench/router/README.md for why).
#
#   bench/router/run.sh [--pg HOST:PORT] [--check HOST:PORT] [--duration S]
#                       [--rounds N] [--clients "16 64 256"] [--jobs J]
#                       [--idle N] [--idle-real N] [--threads N]
#                       [--haproxy-threads N]   (default: HAProxy's, one per CPU)
#                       [--syscalls]   (also: each proxy's syscalls per transaction under
#                                       strace -c, -S c=16 and -S -C c=16, after the runs)
#                       (--threads: the router's; default one per CPU)
#
# Without --pg it starts its own pg_ha primary: a real ZooKeeper
# (scripts/zk.sh, port 16456) and a PostgreSQL 15 node with the pg_ha agent
# loaded (scripts/run-node.sh, as the postgres user, under
# /tmp/pgha-router-bench-*, port 16450, agent API 16451, max_connections
# 1100); the router and HAProxy both check GET /master on that agent.  With
# --pg, pass the primary's agent too, e.g. --check 127.0.0.1:8008.  An
# external primary must accept the user in $PGUSER (default postgres)
# without a password prompt (trust or ~/.pgpass) and allow --idle + 80
# connections.  Ports used: 16450-16460 on 127.0.0.1.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
. "$ROOT/tests/router/lib.sh"

PG=""
CHECK=""
DURATION=10
ROUNDS=3
CLIENTS="16 64 256"
JOBS=$(nproc)
# 10,000 sessions need 20,000+ descriptors in each proxy; this machine's hard
# limit is 20,000 and cannot be raised here (no CAP_SYS_RESOURCE)
IDLE=9900
IDLE_REAL=1000
HAPROXY_THREADS=""
ROUTER_THREADS=""
SYSCALLS=0
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
		--idle-real) IDLE_REAL=$2; shift 2 ;;
		--threads) ROUTER_THREADS=$2; shift 2 ;;
		--syscalls) SYSCALLS=1; shift ;;
		--haproxy-threads) HAPROXY_THREADS=$2; shift 2 ;;
		-h|--help) sed -n '2,31p' "$0"; exit 0 ;;
		*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done

LOCAL_PG_PORT=16450 AGENT_PORT=16451 ROUTER_PORT=16452 ROUTER_STATS=16453
HAPROXY_PORT=16454 HAPROXY_STATS=16455 ZK_PORT=16456
STANDIN_PORT=16457 ROUTER_IDLE_PORT=16458 HAPROXY_IDLE_PORT=16459
ulimit -n "$(ulimit -Hn)" 2>/dev/null
CLK_TCK=$(getconf CLK_TCK)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

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

router_conf() {	# PORT NODE_ADDR MAXCONN [stats line]
	cat <<CONF
maxconn $3
${ROUTER_THREADS:+threads $ROUTER_THREADS}
timeout client 30m
timeout connect 4s
timeout server 30m
timeout check 5s
listen write 127.0.0.1:$1
${4:-}
check primary path /master interval 3s fall 3 rise 2
node primary $2 check $CHECK_HOST:$CHECK_PORT
CONF
}
router_conf $ROUTER_PORT "$PG_HOST:$PG_PORT" $((IDLE_REAL + 1000)) "listen stats 127.0.0.1:$ROUTER_STATS" >"$W/router.conf"
# the idle test's: a maxconn that fits the descriptor limit (2 per session)
IDLE_MAXCONN=$((IDLE + 40))
router_conf $ROUTER_IDLE_PORT "127.0.0.1:$STANDIN_PORT" $IDLE_MAXCONN >"$W/router-idle.conf"
# the lab's haproxy.cfg with loopback ports (and maxconn raised for the idle test)
haproxy_conf() {	# PORT SERVER_ADDR SERVER_PORT MAXCONN [stats port]
	cat <<CONF
global
  maxconn $4${HAPROXY_THREADS:+
  nbthread $HAPROXY_THREADS}

defaults
  mode tcp
  retries 3
  timeout client 30m
  timeout connect 4s
  timeout server 30m
  timeout check 5s

${5:+listen stats
  mode http
  bind 127.0.0.1:$5
  stats enable
  stats uri /
}
listen postgres
  bind 127.0.0.1:$1
  option httpchk GET /master
  http-check expect status 200
  default-server inter 3s fall 3 rise 2 on-marked-down shutdown-sessions
  server pg_primary $2:$3 maxconn $4 check port $CHECK_PORT addr $CHECK_HOST
CONF
}
haproxy_conf $HAPROXY_PORT "$PG_HOST" "$PG_PORT" $((IDLE_REAL + 1000)) $HAPROXY_STATS >"$W/haproxy.cfg"
haproxy_conf $HAPROXY_IDLE_PORT 127.0.0.1 $STANDIN_PORT $IDLE_MAXCONN >"$W/haproxy-idle.cfg"

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

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null; }	# utime+stime, all threads
declare -A TPS LAT CPU
SYSCALL_LINES=()
declare -A PIDOF=([haproxy]=$HAPROXY_PID [router]=$ROUTER_PID)
run_one() {	# KEY TARGET_NAME HOST PORT ARGS...
	local key=$1 name=$2 host=$3 port=$4 out pid=${PIDOF[$2]:-} before=0 after=0
	shift 4
	[ -n "$pid" ] && before=$(cpu_ticks "$pid")
	out=$(pgbench -n -S -T "$DURATION" -j "$JOBS" "$@" -h "$host" -p "$port" postgres 2>&1)
	[ -n "$pid" ] && after=$(cpu_ticks "$pid")
	local tps lat txns cpu=-
	tps=$(echo "$out" | awk '/^tps = / {print $3; exit}')
	lat=$(echo "$out" | awk '/^latency average = / {print $4; exit}')
	txns=$(echo "$out" | awk '/^number of transactions actually processed: / {print $6; exit}')
	if [ -z "$tps" ]; then say "pgbench failed ($name $key): $(echo "$out" | tail -3)"; tps=0 lat=0 txns=0; fi
	# CPU seconds of the proxy per 1,000 transactions
	if [ -n "$pid" ] && [ "${txns:-0}" -gt 0 ]; then
		cpu=$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v n="$txns" 'BEGIN {printf "%.4f", t / hz / (n / 1000)}')
		CPU[$key,$name]="${CPU[$key,$name]:-} $cpu"
	fi
	TPS[$key,$name]="${TPS[$key,$name]:-} $tps"
	LAT[$key,$name]="${LAT[$key,$name]:-} $lat"
	say "round $r  $key  $name: tps $tps, latency $lat ms, proxy CPU $cpu s/1000 txn"
}
TARGETS=(direct haproxy router)
declare -A HOSTOF=([direct]=$PG_HOST [haproxy]=127.0.0.1 [router]=127.0.0.1)
declare -A PORTOF=([direct]=$PG_PORT [haproxy]=$HAPROXY_PORT [router]=$ROUTER_PORT)
KEYS=()
for c in $CLIENTS; do KEYS+=("-S c=$c"); done
KEYS+=("-S -C c=16")
say "load average before the runs: $LOAD_START"
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

# syscalls per transaction: strace -c on every thread of the proxy during one pgbench
syscalls_per_txn() {	# NAME PID KEY ARGS... -> "total per txn; the ten most frequent per txn"
	local name=$1 pid=$2 key=$3 spid out txns
	shift 3
	strace -c -f -o "$W/strace.$name" -p "$(ls /proc/$pid/task | paste -sd,)" 2>/dev/null &
	spid=$!
	sleep 1
	out=$(pgbench -n -S -T "$DURATION" -j "$JOBS" "$@" postgres 2>&1)
	kill -INT $spid; wait $spid 2>/dev/null
	txns=$(echo "$out" | awk '/^number of transactions actually processed: / {print $6; exit}')
	if [ "${txns:-0}" -le 0 ]; then echo "$name $key: pgbench failed"; return; fi
	# strace -c lines: % time, seconds, usecs/call, calls, [errors,] syscall
	awk '$1 ~ /^[0-9.]+$/ && NF >= 5 { print $4, $NF }' "$W/strace.$name" | sort -rn |
		awk -v n="$txns" -v who="$name $key" '
			$2 == "total" { total = $1; next }
			k < 10 { top = top sprintf(" %s %.2f", $2, $1 / n); k++ }
			END { printf "%s: %.2f syscalls per transaction (%d transactions under strace):%s\n", who, total / n, n, top }'
}
if [ "$SYSCALLS" = 1 ]; then
	say "syscalls per transaction under strace -c (-S c=16, -S -C c=16)"
	for t in router haproxy; do
		SYSCALL_LINES+=("$(syscalls_per_txn $t ${PIDOF[$t]} "-S c=16" -c 16 -h 127.0.0.1 -p ${PORTOF[$t]})")
		SYSCALL_LINES+=("$(syscalls_per_txn $t ${PIDOF[$t]} "-S -C c=16" -C -c 16 -h 127.0.0.1 -p ${PORTOF[$t]})")
	done
fi

RSS_ROUTER_IDLE=$(rss_kb $ROUTER_PID)
RSS_HAPROXY_IDLE=$(rss_kb $HAPROXY_PID)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
say "opening $IDLE_REAL idle sessions through the router, then through HAProxy (to the primary)"
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
	hold_idle "$1" "$IDLE_N" "$ready" &
	pid=$!
	STARTED_PIDS+=("$pid")
	wait_until 1800 0.1 test -s "$ready"
	sleep 1
	rss=$(rss_kb "$2")
	n=$(cat "$ready" 2>/dev/null)
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	sleep 1
	echo "$rss ${n:-0}"
}
IDLE_N=$IDLE_REAL
read -r RSS_ROUTER_LOADED ROUTER_IDLE_OK < <(idle_rss $ROUTER_PORT $ROUTER_PID)
read -r RSS_HAPROXY_LOADED HAPROXY_IDLE_OK < <(idle_rss $HAPROXY_PORT $HAPROXY_PID)

say "$IDLE idle sessions through a second router and HAProxy to a stand-in for postgres (port $STANDIN_PORT)"
start_bg "$W/standin.log" perl "$HERE/pg_standin.pl" $STANDIN_PORT
wait_until 50 0.1 port_open $STANDIN_PORT || { say "stand-in not listening"; exit 1; }
start_bg "$W/router-idle.log" "$ROOT/router/pg_ha_router" -c "$W/router-idle.conf"
ROUTER_IDLE_PID=$BG_PID
start_bg "$W/haproxy-idle.log" haproxy -db -f "$W/haproxy-idle.cfg"
HAPROXY_IDLE_PID=$BG_PID
stand_in_served() { perl -MIO::Socket::INET -e '
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]", Timeout => 2) or exit 1;
	my $p = "user\0x\0\0"; print $s pack("NN", 8 + length($p), 196608) . $p;
	my $b = ""; while (sysread($s, my $c, 64)) { $b .= $c; exit 0 if $b =~ /Z\x00\x00\x00\x05I$/ } exit 1' "$1"; }
wait_until 100 0.1 stand_in_served $ROUTER_IDLE_PORT || { say "idle router not routing"; cat "$W/router-idle.log"; exit 1; }
wait_until 100 0.1 stand_in_served $HAPROXY_IDLE_PORT || { say "idle haproxy not routing"; cat "$W/haproxy-idle.log"; exit 1; }
sleep 1
RSS_ROUTER_BIG_START=$(rss_kb $ROUTER_IDLE_PID)
RSS_HAPROXY_BIG_START=$(rss_kb $HAPROXY_IDLE_PID)
IDLE_N=$IDLE
read -r RSS_ROUTER_BIG ROUTER_BIG_OK < <(idle_rss $ROUTER_IDLE_PORT $ROUTER_IDLE_PID)
read -r RSS_HAPROXY_BIG HAPROXY_BIG_OK < <(idle_rss $HAPROXY_IDLE_PORT $HAPROXY_IDLE_PID)

echo
echo "pg_ha_router bench: pgbench -S scale $SCALE, ${DURATION}s x $ROUNDS rounds (median), -j $JOBS, $(nproc) CPUs, primary $PG, checks GET /master on $CHECK"
echo "router threads: ${ROUTER_THREADS:-one per CPU}, HAProxy nbthread: ${HAPROXY_THREADS:-its default}; load average $LOAD_START before the runs, $LOAD_END after"
printf "%-12s | %10s %10s %10s | %8s %9s | %9s %9s %9s | %9s %9s %6s\n" test "direct" "haproxy" "router" "r/direct" "r/haproxy" "lat dir" "lat hap" "lat rtr" "cpu hap" "cpu rtr" "r/hap"
printf "%-12s | %10s %10s %10s | %8s %9s | %9s %9s %9s | %9s %9s %6s\n" "" "TPS" "TPS" "TPS" "" "" "ms" "ms" "ms" "s/1k txn" "s/1k txn" ""
for key in "${KEYS[@]}"; do
	d=$(echo "${TPS[$key,direct]}" | median)
	h=$(echo "${TPS[$key,haproxy]}" | median)
	rt=$(echo "${TPS[$key,router]}" | median)
	ch=$(echo "${CPU[$key,haproxy]:-}" | median)
	cr=$(echo "${CPU[$key,router]:-}" | median)
	printf "%-12s | %10.0f %10.0f %10.0f | %8s %9s | %9s %9s %9s | %9s %9s %6s\n" "$key" "$d" "$h" "$rt" \
		"$(ratio "$rt" "$d")" "$(ratio "$rt" "$h")" \
		"$(echo "${LAT[$key,direct]}" | median)" "$(echo "${LAT[$key,haproxy]}" | median)" \
		"$(echo "${LAT[$key,router]}" | median)" "$ch" "$cr" "$(ratio "$cr" "$ch")"
done
echo
printf "RSS router:  start %s kB, idle after the runs %s kB, with %s idle sessions %s kB\n" \
	"$RSS_ROUTER_START" "$RSS_ROUTER_IDLE" "$ROUTER_IDLE_OK" "$RSS_ROUTER_LOADED"
printf "RSS haproxy: idle after the runs %s kB, with %s idle sessions %s kB\n" \
	"$RSS_HAPROXY_IDLE" "$HAPROXY_IDLE_OK" "$RSS_HAPROXY_LOADED"
printf "RSS to the stand-in, router:  start %s kB, with %s idle sessions %s kB\n" \
	"$RSS_ROUTER_BIG_START" "$ROUTER_BIG_OK" "$RSS_ROUTER_BIG"
printf "RSS to the stand-in, haproxy: start %s kB, with %s idle sessions %s kB\n" \
	"$RSS_HAPROXY_BIG_START" "$HAPROXY_BIG_OK" "$RSS_HAPROXY_BIG"
for line in "${SYSCALL_LINES[@]}"; do echo "$line"; done
