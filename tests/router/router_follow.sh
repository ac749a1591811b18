#!/usr/bin/env bash
# router_follow.sh - the router keeps following the primary when faults come
# in clusters (issue 9): TAP output, then "N passed, N failed".
#
# A real ZooKeeper and two PostgreSQL 15 nodes run by pg_ha_supervisor (n1,
# n2; ttl 6 s, loop_wait 1 s), and the ASan/UBSan router with the SAMPLE
# configuration's check timings: router/pg_ha_router.conf.sample itself, only
# its listen and node lines replaced (check interval 3s fall 3 rise 2,
# timeout check 5s, watch on with timeout 30s and backoff 30s, hold 10s).
# A writer (follow_probe.pl) inserts through the router every 10 ms
# throughout.  Each cycle:
#   (a) the router starts while both nodes are down (its first /watch and
#       checks are refused); the nodes start; then the primary is stopped
#       gracefully (SIGTERM to its supervisor: hand-over);
#   (b) the replica crashes (kill -9 of its postmaster; its supervisor starts
#       it again) and, once it streams again (well within 30 s), the primary
#       node is lost as a whole (its postgres processes SIGSTOPped, then
#       they and its supervisor SIGKILLed);
#   (c) (first run only) the watch is turned off by a reload, and a
#       switchover (ha_switchover()) must be routed on the new primary's
#       first passing check, not after `rise` (the time is reported only).
# In (a) and (b) it measures, on the machine's clock, from the new primary's first
# 200 on /master (polled every 50 ms) to the first write the router sent
# there (the first acknowledged insert on that node, by its server clock),
# and asserts it is under 1 s -- conservatively, from the moment of the poll
# before the first 200.
#
# Usage: tests/router/router_follow.sh [--runs N] [--out FILE]
#   as root (servers run as postgres); the router is built here with
#   SANITIZE=1, unless ROUTER=PATH names a binary to use.  --runs repeats the
#   cycle (bench/failover/router_follow.sh); --out appends one TSV line per
#   fault: run fault fault_ms first200_ms prev_poll_ms first_write_ms
#   follow_ms follow_max_ms learned_by (watch, one check, rise checks).  KEEP=1 keeps the work dir.
# Ports: 16430-16439 on 127.0.0.1 only.  Every wait is bounded; only what
# the script started is stopped, by PID.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PROBE="$HERE/follow_probe.pl"
. "$HERE/lib.sh"

RUNS=1 OUT=""
while [ $# -gt 0 ]; do
	case $1 in
		--runs) RUNS=$2; shift 2 ;;
		--out) OUT=$2; shift 2 ;;
		-h | --help) sed -n '2,34p' "$0"; exit 0 ;;
		*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done

ZK=16430 WRITE=16431 STATS=16432
declare -A PGPORT=([n1]=16433 [n2]=16434)
declare -A APIPORT=([n1]=16435 [n2]=16436)
FOLLOW_BOUND_MS=1000	# the issue's bound

. "$HERE/tap.sh"
tap_begin follow
ROUTER_PID=""
is_primary() { [ "$(http_status "http://127.0.0.1:${APIPORT[$1]}/master")" = 200 ]; }
is_replica() { [ "$(http_status "http://127.0.0.1:${APIPORT[$1]}/replica")" = 200 ]; }
other() { [ "$1" = n1 ] && echo n2 || echo n1; }
streams_to() {	# PRIMARY : its one standby answers /replica, and its (current)
	# postgres streams from PRIMARY, which sees it streaming
	local standby
	standby=$(other "$1")
	is_replica $standby &&
		[ "$(psql_at "${PGPORT[$standby]}" -c "select count(*) from pg_stat_wal_receiver where status = 'streaming'" 2>/dev/null)" = 1 ] &&
		[ "$(psql_at "${PGPORT[$1]}" -c "select count(*) from pg_stat_replication where state = 'streaming'" 2>/dev/null)" = 1 ]
}
stats_json() { curl -s --max-time 3 "http://127.0.0.1:$STATS/stats.json"; }
watch_state_is() {	# NODE STATE
	[ "$(stats_json | perl -MJSON::PP -e 'my $j = eval { decode_json(join "", <STDIN>) } or exit 1;
		my ($n) = grep { $_->{name} eq $ARGV[0] } @{$j->{nodes}}; print $n->{watch} // ""' "$1")" = "$2" ]
}
both_polled() { watch_state_is n1 supported && watch_state_is n2 supported; }
epoch_known() {
	stats_json | perl -MJSON::PP -e 'my $j = eval { decode_json(join "", <STDIN>) } or exit 1;
		my ($n) = grep { $_->{name} eq $ARGV[0] } @{$j->{nodes}}; exit(defined $n->{leader_epoch} ? 0 : 1)' "$1"
}
both_watch_off() { watch_state_is n1 off && watch_state_is n2 off; }
write_port_is() { [ "$(psql_at $WRITE -c "select current_setting('port')" 2>/dev/null)" = "$1" ]; }

[ -x "$PG_BIN/pg_ha_supervisor" ] || bail "$PG_BIN/pg_ha_supervisor missing: run make install"
if [ -z "${ROUTER:-}" ]; then
	ROUTER="$ROOT/router/pg_ha_router"
	make -s -C "$ROOT/router" SANITIZE=1 >"$W/build.log" 2>&1 || { cat "$W/build.log"; bail "router build failed"; }
fi

# the sample configuration, only its listen and node lines replaced
grep -Ev '^(listen|node)[[:space:]]' "$ROOT/router/pg_ha_router.conf.sample" >"$W/router.conf"
cat >>"$W/router.conf" <<CONF
listen write 127.0.0.1:$WRITE
listen stats 127.0.0.1:$STATS
threads ${ROUTER_THREADS:-2}
node n1 127.0.0.1:${PGPORT[n1]} check 127.0.0.1:${APIPORT[n1]} maxconn 100
node n2 127.0.0.1:${PGPORT[n2]} check 127.0.0.1:${APIPORT[n2]} maxconn 100
CONF
"$ROUTER" -t -c "$W/router.conf" >"$W/router-t.out" 2>&1 || { cat "$W/router-t.out"; bail "router configuration"; }
grep -q '^check primary path /master interval 3s fall 3 rise 2' "$W/router.conf" ||
	bail "the sample's primary check is no longer 'interval 3s fall 3 rise 2': update this test"

# ---------------------------------------------------------------- cluster
zk_start "$W/zk" $ZK || bail "ZooKeeper did not start"
for n in n1 n2; do
	sup_conf "$W/$n" $n "${PGPORT[$n]}" "${APIPORT[$n]}" "127.0.0.1:$ZK" </dev/null
	sed -i 's/^scope = .*/scope = pg_ha_router_follow/' "$W/$n/node.conf"
done
sup_start "$W/n1" || bail "supervisor n1"
wait_until 600 0.1 is_primary n1 || { tail -20 "$W/n1/sup.log"; bail "n1 did not bootstrap"; }
sup_start "$W/n2" || bail "supervisor n2"
wait_until 900 0.1 streams_to n1 || { tail -5 "$W/n2/sup.log"; bail "n2 does not stream from n1"; }
psql_at ${PGPORT[n1]} -q -c "create extension pg_ha" -c "create table follow_writes (id bigserial primary key, at timestamptz default clock_timestamp())" ||
	bail "create table"
diag "cluster up after $((($(now_ms) - T_START) / 1000)) s"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$W/asan:quarantine_size_mb=16"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$W/ubsan"
export TSAN_OPTIONS="log_path=$W/tsan:second_deadlock_stack=1"

all_gone() { local p; for p in "$@"; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
# lose_node NODE : the whole node at once, as a machine that dies.  Its
# postgres processes are stopped first, so that none of them can react (the
# agent closes its ZooKeeper session when it sees the postmaster die, which
# a dead machine cannot do), then everything is killed.  The supervisor is
# not stopped, only killed: runuser, its parent, stops itself when its child
# stops and would never reap it.
lose_node() {
	local sup pm children
	sup=$(sup_pid "$W/$1")
	pm=$(postmaster_pid "$W/$1")
	children=$([ -n "$pm" ] && ps -o pid= --ppid "$pm")
	kill -STOP $children $pm 2>/dev/null
	kill -KILL $sup $children $pm 2>/dev/null
	LOST_PIDS="$sup $children $pm"
}
# start_measure NEW : the poller of NEW's /master (file $W/first200)
start_measure() {
	rm -f "$W/first200"
	start_bg "$W/poller.log" perl "$PROBE" master "${APIPORT[$1]}" "$W/first200" 90
	POLLER=$BG_PID
}
# forget a process of ours that has exited (no stale PID at cleanup)
reaped() {
	local p keep=()
	wait "$1" 2>/dev/null
	for p in "${STARTED_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	STARTED_PIDS=("${keep[@]}")
}
# measure RUN FAULT NEW FAULT_MS : waits for NEW's first 200 and the first
# write the router sent there; asserts the follow time
measure() {
	local run=$1 fault=$2 new=$3 t_fault=$4 line first200 prev first_write follow follow_max
	wait_until 900 0.1 test -s "$W/first200" ||
		{ fail "$fault: $new answers 200 on /master"; return 1; }
	reaped $POLLER
	read -r first200 prev <"$W/first200"
	wait_until 300 0.1 sh -c "awk -v p=${PGPORT[$new]} -v t=$t_fault '\$1 == p && \$2 >= t' '$W/writes' | grep -q ." ||
		{ fail "$fault: the router sends writes to $new (none within 30 s of its first 200)"; return 1; }
	first_write=$(awk -v p="${PGPORT[$new]}" -v t="$t_fault" '$1 == p && $2 >= t { print $2; exit }' "$W/writes")
	follow=$((first_write - first200))
	follow_max=$((first_write - prev))
	# how the router learned it: its log's last "UP" line for the node
	how=$(grep "node $new primary check: .* -> UP" "$W/router.log" | tail -1)
	case $how in
		*"confirmed by the agent's watch"*) how=watch ;;
		*"newly promoted"*) how="one check" ;;
		"") how="?" ;;
		*) how="rise checks" ;;
	esac
	diag "$fault (run $run): $new answered 200 on /master $((first200 - t_fault)) ms after the fault; the router's first write reached it $follow ms after that 200 arrived, $follow_max ms after the poll before it was sent (learned by: $how)"
	check "$fault: the router sends writes to the new primary $new within 1 s of its first 200 on /master ($follow_max ms at most)" \
		[ "$follow_max" -lt $FOLLOW_BOUND_MS ]
	[ -n "$OUT" ] && printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$fault" "$t_fault" "$first200" "$prev" \
		"$first_write" "$follow" "$follow_max" "$how" >>"$OUT"
	return 0
}

PRIMARY=n1
for ((run = 1; run <= RUNS; run++)); do
	REPLICA=$(other $PRIMARY)
	diag "---- run $run: $PRIMARY leads"
	# ------------------------------------------------------------ (a)
	# both nodes down, then the router starts: its first /watch is refused
	sup_stop "$W/$REPLICA" INT
	sup_stop "$W/$PRIMARY" INT
	STARTED_SUP=()
	: >"$W/router.log"
	"$ROUTER" -c "$W/router.conf" >>"$W/router.log" 2>&1 &
	ROUTER_PID=$!
	STARTED_PIDS+=("$ROUTER_PID")
	t_router=$(now_ms)
	wait_until 100 0.1 port_open $STATS || bail "router does not listen"
	for n in n1 n2; do
		check "(a) the router's first /watch of $n is refused (node down)" \
			wait_until 100 0.1 grep -Eq "node $n: /watch not (answered|available) \(L4CON connection refused\)" "$W/router.log"
	done
	sup_start "$W/$PRIMARY" || bail "supervisor $PRIMARY"
	wait_until 600 0.1 is_primary $PRIMARY || { tail -20 "$W/$PRIMARY/sup.log"; bail "$PRIMARY did not lead again"; }
	t_up=$(now_ms)
	sup_start "$W/$REPLICA" || bail "supervisor $REPLICA"
	wait_until 900 0.1 streams_to $PRIMARY || { tail -5 "$W/$REPLICA/sup.log"; bail "$REPLICA does not stream"; }
	# retried at the check interval (3 s), or at once when a check is
	# answered: both within 10 s, long before the 30 s back-off would end
	wait_until 100 0.1 both_polled
	diag "(a) waited for the router to long-poll both nodes until $((($(now_ms) - t_router))) ms after it started"
	for n in $PRIMARY $REPLICA; do
		check "(a) the router long-polls $n again once its agent answers (not after the 30 s back-off)" \
			watch_state_is $n supported
	done
	check "(a) writes through the router reach $PRIMARY" wait_until 100 0.1 write_port_is ${PGPORT[$PRIMARY]}
	: >"$W/writes"
	start_bg "$W/writer.log" perl "$PROBE" writer $WRITE "$W/writes" 600
	WRITER=$BG_PID
	wait_until 100 0.1 sh -c "grep -q '^${PGPORT[$PRIMARY]} ' '$W/writes'" || fail "(a) the writer writes through the router"
	start_measure $REPLICA
	t_fault=$(now_ms)
	diag "(a) graceful stop of $PRIMARY $(((t_fault - t_router) / 1000)) s after the router started ($(((t_fault - t_up) / 1000)) s after $PRIMARY led again)"
	kill -TERM "$(sup_pid "$W/$PRIMARY")"
	measure $run "(a) graceful stop" $REPLICA $t_fault
	wait_until 300 0.1 sh -c "! kill -0 $(sup_pid "$W/$PRIMARY") 2>/dev/null" || fail "(a) $PRIMARY's supervisor stops"
	# the old primary rejoins
	sup_start "$W/$PRIMARY" || bail "supervisor $PRIMARY"
	wait_until 900 0.1 streams_to $REPLICA || { tail -5 "$W/$PRIMARY/sup.log"; bail "$PRIMARY does not rejoin"; }
	PRIMARY=$REPLICA
	REPLICA=$(other $PRIMARY)

	# ------------------------------------------------------------ (b)
	# the replica crashes and restarts; then the primary node is lost
	old_pm=$(postmaster_pid "$W/$REPLICA")
	t_crash=$(now_ms)
	kill -KILL "$old_pm"
	# its supervisor starts postgres again (a new postmaster)
	wait_until 300 0.1 sh -c "p=\$(head -1 '$W/$REPLICA/data/postmaster.pid' 2>/dev/null); [ -n \"\$p\" ] && [ \"\$p\" != $old_pm ] && kill -0 \$p 2>/dev/null" ||
		bail "(b) $REPLICA's postgres was not restarted"
	wait_until 900 0.1 streams_to $PRIMARY || { tail -5 "$W/$REPLICA/sup.log"; bail "$REPLICA does not stream again"; }
	diag "(b) $REPLICA crashed and streams again after $(($(now_ms) - t_crash)) ms"
	check "(b) the router writes to $PRIMARY meanwhile" \
		wait_until 100 0.1 sh -c "awk -v p=${PGPORT[$PRIMARY]} -v t=$(now_ms) '\$1 == p && \$2 >= t' '$W/writes' | grep -q ."
	start_measure $REPLICA
	t_fault=$(now_ms)
	lose_node $PRIMARY
	check "(b) the primary $PRIMARY is lost $((t_fault - t_crash)) ms after $REPLICA crashed (within 30 s)" \
		[ $((t_fault - t_crash)) -lt 30000 ]
	measure $run "(b) crash, then node loss" $REPLICA $t_fault
	# the lost node comes back (its supervisor, as a service manager would),
	# once its processes are gone (reaped)
	wait_until 300 0.1 all_gone $LOST_PIDS ||
		diag "(b) processes of the lost $PRIMARY still exist: $(ps -o pid=,stat=,cmd= -p "$(echo $LOST_PIDS | tr ' ' ',')" 2>/dev/null)"
	sup_start "$W/$PRIMARY" || bail "supervisor $PRIMARY"
	wait_until 1200 0.1 streams_to $REPLICA || { tail -5 "$W/$PRIMARY/sup.log"; fail "(b) $PRIMARY rejoins"; }
	PRIMARY=$REPLICA
	REPLICA=$(other $PRIMARY)

	# ------------------------------------------------------------ (c)
	# (first run only) without the watch (watch off, a reload), a switchover
	# is routed on the new primary's first passing check, not after rise 2
	if [ "$run" = 1 ]; then
		echo "watch off" >>"$W/router.conf"
		kill -HUP "$ROUTER_PID"
		check "(c) a reload turns the watch off" wait_until 100 0.1 both_watch_off
		# the reload forgets the epochs the watch reported; the next check of
		# the primary reads it again (without it two passing nodes are held)
		check "(c) the router knows $PRIMARY's leader epoch from its checks" wait_until 100 0.1 epoch_known $PRIMARY
		start_measure $REPLICA
		t_fault=$(now_ms)
		out=$(psql_at ${PGPORT[$REPLICA]} -c "select ha_switchover('$REPLICA')" 2>&1)
		check "(c) ha_switchover('$REPLICA') returns the new leader ($out)" [ "$out" = $REPLICA ]
		if wait_until 300 0.1 test -s "$W/first200" &&
			wait_until 300 0.1 sh -c "awk -v p=${PGPORT[$REPLICA]} -v t=$t_fault '\$1 == p && \$2 >= t' '$W/writes' | grep -q ."; then
			reaped $POLLER
			read -r first200 prev <"$W/first200"
			first_write=$(awk -v p="${PGPORT[$REPLICA]}" -v t="$t_fault" '$1 == p && $2 >= t { print $2; exit }' "$W/writes")
			diag "(c) switchover, watch off: the router's first write reached $REPLICA $((first_write - first200)) ms after its first 200 on /master (interval checks every 3 s)"
		else
			fail "(c) the router sends writes to $REPLICA after the switchover"
		fi
		check "(c) ... on one passing check (rise 2 not waited for)" \
			grep -q "node $REPLICA primary check: DOWN -> UP (.*), newly promoted (rise not waited for)" "$W/router.log"
		sed -i '/^watch off$/d' "$W/router.conf"
		wait_until 900 0.1 streams_to $REPLICA || { tail -5 "$W/$PRIMARY/sup.log"; bail "(c) $PRIMARY does not rejoin"; }
		PRIMARY=$REPLICA
	fi

	kill -TERM $WRITER
	reaped $WRITER
	kill -TERM "$ROUTER_PID"
	for i in $(seq 1 150); do kill -0 "$ROUTER_PID" 2>/dev/null || break; sleep 0.1; done
	wait "$ROUTER_PID"
	rc=$?
	reaped "$ROUTER_PID"
	check "router exits 0 (run $run)" [ $rc = 0 ]
	cp "$W/router.log" "$W/router.run$run.log"
done

reports=$(ls "$W"/asan.* "$W"/ubsan.* "$W"/tsan.* 2>/dev/null | wc -l)
check "no ASan/UBSan/LSan report" [ "$reports" = 0 ]
[ "$reports" -gt 0 ] && head -80 "$W"/asan.* "$W"/ubsan.* "$W"/tsan.* 2>/dev/null | sed 's/^/# /'
diag "total $((($(now_ms) - T_START) / 1000)) s"
echo "1..$TESTS"
echo "$((TESTS - FAILED)) passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
