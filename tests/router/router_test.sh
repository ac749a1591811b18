#!/usr/bin/env bash
# router_test.sh - integration test of pg_ha_router (TAP output).
#
# Runs the sanitized router (ASan+UBSan) against two REAL PostgreSQL 15
# servers.  The nodes' health API is served by standin_agent.pl, a TEMPORARY
# STAND-IN for the pg_ha agent (the lead will switch this test to real
# agents): the test flips roles by rewriting the stand-in's state files.
#
# Usage: tests/router/router_test.sh   (as root; KEEP=1 keeps the work dir)
# Ports: 16401-16422 on 127.0.0.1 only.  Every wait is bounded.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
ROUTER="$ROOT/router/pg_ha_router"
. "$HERE/lib.sh"

PORT_A=16401 PORT_B=16402 PORT_C=16403
AGENT_A=16411 AGENT_B=16412 AGENT_C=16413 AGENT_D=16414
WRITE=16420 READ=16421 STATS=16422

TESTS=0 FAILED=0
pass() { TESTS=$((TESTS + 1)); echo "ok $TESTS - $1"; }
fail() { TESTS=$((TESTS + 1)); FAILED=$((FAILED + 1)); echo "not ok $TESTS - $1"; [ -n "${2:-}" ] && echo "#   $2"; }
check() { local desc=$1; shift; if "$@"; then pass "$desc"; else fail "$desc" "command failed: $*"; fi; }
is() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', expected '$3'"; fi; }
diag() { echo "# $*"; }

W=$(make_workdir test) || { echo "Bail out! cannot create work dir"; exit 1; }
ROUTER_PID=
cleanup() {
	kill_started
	stop_started_servers
	if [ "${KEEP:-0}" = 1 ] || [ "$FAILED" -gt 0 ]; then
		echo "# work dir kept: $W"
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

conn() { echo "host=127.0.0.1 port=$1 user=postgres dbname=postgres connect_timeout=10 ${2:-}"; }
psql_at() { local port=$1; shift; timeout 60 psql "$(conn "$port")" -X -At -v ON_ERROR_STOP=1 "$@"; }
port_of() { psql_at "$1" -c "select current_setting('port')" 2>/dev/null; }
write_port_is() { [ "$(port_of $WRITE)" = "$1" ]; }
set_state() { echo "$2" >"$W/state.$1"; }
stats_json() { curl -s --max-time 3 "http://127.0.0.1:$STATS/stats.json"; }
# json EXPR: evaluates a perl expression over $j (the decoded stats.json)
json() { stats_json | perl -MJSON::PP -e 'my $j = eval { decode_json(join "", <STDIN>) } or exit 1; my $v = eval $ARGV[0]; print defined $v ? $v : ""' "$1"; }
node_field() {	# SERVICE NODE FIELD
	json "my (\$s) = grep { \$_->{name} eq '$1' } @{\$j->{services}}; my (\$n) = grep { \$_->{name} eq '$2' } @{\$s->{nodes}}; \$n->{$3}"
}
service_field() { json "my (\$s) = grep { \$_->{name} eq '$1' } @{\$j->{services}}; \$s->{$2}"; }
node_status_is() { [ "$(node_field "$1" "$2" status)" = "$3" ]; }

write_config() {	# extra lines on stdin are appended
	{
		cat <<CONF
listen write 127.0.0.1:$WRITE
listen read 127.0.0.1:$READ
listen stats 127.0.0.1:$STATS
maxconn ${MAXCONN:-50}
timeout connect 2s
timeout client ${CLIENT_TIMEOUT:-30m}
timeout drain 10s
retries 3
check primary path /master interval 2s timeout 1s fall 3 rise 2
check replica path /replica interval 1s timeout 1s fall 2 rise 1
hold timeout ${HOLD_TIMEOUT:-4s} max 10
watch on timeout 5s backoff 2s
node pgA 127.0.0.1:$PORT_A check 127.0.0.1:$AGENT_A maxconn ${NODE_A_MAXCONN:-0}
node pgB 127.0.0.1:$PORT_B check 127.0.0.1:$AGENT_B
node pgC 127.0.0.1:$PORT_C check 127.0.0.1:$AGENT_C
node pgD 127.0.0.1:$PORT_C check 127.0.0.1:$AGENT_D
node pgE pgha-no-such-host.invalid:$PORT_C
CONF
		cat
	} >"$W/router.conf.new"
	mv "$W/router.conf.new" "$W/router.conf"
}

echo "# building the sanitized router"
make -s -C "$ROOT/router" SANITIZE=1 >"$W/build.log" 2>&1 || { cat "$W/build.log"; echo "Bail out! build failed"; exit 1; }

# ---------------------------------------------------------------- config
printf 'listen write 127.0.0.1:1\n\nnode a 127.0.0.1:2 maxconn lots\n' >"$W/bad.conf"
"$ROUTER" -t -c "$W/bad.conf" >"$W/bad.out" 2>&1
is "invalid configuration exits 2" "$?" 2
check "the error names the file and line" grep -q "bad.conf:3: node a: invalid maxconn 'lots'" "$W/bad.out"
"$ROUTER" -t -c "$ROOT/router/pg_ha_router.conf.sample" >/dev/null 2>&1
is "the shipped sample configuration is valid" "$?" 0

# ---------------------------------------------------------------- cluster
diag "starting PostgreSQL 15 servers on $PORT_A and $PORT_B"
pg_create "$W/pgA" $PORT_A "max_connections = 100" "ssl = on" || { echo "Bail out! initdb"; exit 1; }
pg_create "$W/pgB" $PORT_B "max_connections = 100" || { echo "Bail out! initdb"; exit 1; }
openssl req -new -x509 -days 2 -nodes -subj "/CN=pgha-router-test" -keyout "$W/pgA/server.key" \
	-out "$W/pgA/server.crt" >"$W/openssl.log" 2>&1 || { echo "Bail out! openssl"; exit 1; }
chown postgres "$W/pgA/server.key" "$W/pgA/server.crt"
chmod 600 "$W/pgA/server.key"
pg_start "$W/pgA" && pg_start "$W/pgB" || { echo "Bail out! postgres did not start"; exit 1; }

set_state A primary
set_state B replica
set_state C garbage
start_agent $AGENT_A "$W/state.A"
start_agent $AGENT_B "$W/state.B"
start_agent $AGENT_C "$W/state.C" --no-watch
# nothing listens on $AGENT_D: an unreachable API

write_config </dev/null
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$W/asan:quarantine_size_mb=16"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$W/ubsan"
"$ROUTER" -c "$W/router.conf" >"$W/router.log" 2>&1 &
ROUTER_PID=$!
STARTED_PIDS+=("$ROUTER_PID")
check "router listens" wait_until 100 0.1 port_open $STATS
check "write port reaches the primary (pgA)" wait_until 50 0.2 write_port_is $PORT_A
is "read port reaches the replica (pgB)" "$(port_of $READ)" $PORT_B
check "stats: pgA UP for write" node_status_is write pgA UP
check "stats: pgB DOWN for write" node_status_is write pgB DOWN
check "stats: pgB UP for read" node_status_is read pgB UP
is "stats: garbage check reply is a failure" "$(node_field write pgC check_result)" "L7RSP not an HTTP reply"
is "stats: a name that does not resolve is DOWN, not fatal" "$(node_field write pgE status)" DOWN
check "  ... with a DNS check result" sh -c "curl -s http://127.0.0.1:$STATS/stats.json | grep -q '\"check_result\":\"DNS pgha-no-such-host.invalid'"
check "stats: unreachable API is L4CON" sh -c "curl -s http://127.0.0.1:$STATS/stats.json | grep -q 'L4CON connection refused'"
curl -s "http://127.0.0.1:$STATS/" >"$W/stats.html"
check "HTML: pgA row UP in the write table" grep -q 'data-service="write" data-node="pgA" data-status="UP"' "$W/stats.html"
check "HTML: pgB row DOWN in the write table" grep -q 'data-service="write" data-node="pgB" data-status="DOWN"' "$W/stats.html"
if command -v chromium >/dev/null 2>&1; then
	# the page as a browser builds it (Debian's chromium, headless)
	chromium_run() { timeout 90 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$W/chromium" "$@" 2>>"$W/chromium.log"; }
	chromium_run --dump-dom "http://127.0.0.1:$STATS/" >"$W/stats.dom"
	check "chromium DOM: write table shows pgA UP" grep -q '<tr class="node UP" data-service="write" data-node="pgA" data-status="UP">' "$W/stats.dom"
	check "chromium DOM: write table shows pgB DOWN" grep -q '<tr class="node DOWN" data-service="write" data-node="pgB" data-status="DOWN">' "$W/stats.dom"
	check "chromium DOM: every node has a row in each table" [ "$(grep -o 'data-node="pg[A-E]"' "$W/stats.dom" | wc -l)" = 10 ]
	chromium_run --screenshot="$W/stats.png" --window-size=1400,700 "http://127.0.0.1:$STATS/" >/dev/null
	check "chromium screenshot of the stats page ($W/stats.png)" test -s "$W/stats.png"
else
	for i in 1 2 3 4; do TESTS=$((TESTS + 1)); echo "ok $TESTS # SKIP chromium not installed"; done
fi
curl -s "http://127.0.0.1:$STATS/metrics" >"$W/metrics.txt"
check "metrics: node_up for pgA write is 1" grep -qx 'pg_ha_router_node_up{service="write",node="pgA"} 1' "$W/metrics.txt"
check "metrics: node_up for pgB write is 0" grep -qx 'pg_ha_router_node_up{service="write",node="pgB"} 0' "$W/metrics.txt"
is "stats: HAProxy-style ;json alias" "$(http_status "http://127.0.0.1:$STATS/;json")" 200
is "stats: unknown path is 404" "$(http_status "http://127.0.0.1:$STATS/nope")" 404
watch_state() { [ "$(json "my (\$n) = grep { \$_->{name} eq '$1' } @{\$j->{nodes}}; \$n->{watch}")" = "$2" ]; }
check "watch: supported by the stand-in agent on pgA" wait_until 50 0.2 watch_state pgA supported
check "watch: a 404 (pgC) falls back to interval checks" wait_until 50 0.2 watch_state pgC unsupported

# ---------------------------------------------------------------- transparency
psql_at $WRITE -q -c "create table t (id int primary key, payload text, blob bytea)" || true
seq 1 100000 | awk '{ printf "%d\tpayload %d \\\\ tab\\there\t\\\\x%08x\n", $1, $1 * 7, $1 }' >"$W/copy.in"
psql_at $WRITE -c "\\copy t from '$W/copy.in'" >/dev/null
is "COPY FROM through the router" "$(psql_at $PORT_A -c 'select count(*) from t')" 100000
via=$(psql_at $WRITE -c "\\copy t to stdout" | md5sum)
direct=$(psql_at $PORT_A -c "\\copy t to stdout" | md5sum)
is "COPY TO through the router is byte-identical" "$via" "$direct"
via=$(psql_at $WRITE -c "\\copy t to stdout with (format binary)" | md5sum)
direct=$(psql_at $PORT_A -c "\\copy t to stdout with (format binary)" | md5sum)
is "binary COPY through the router is byte-identical" "$via" "$direct"
q="select string_agg(md5(i::text), ',') from generate_series(1, 300000) i"
is "a 10 MB result is identical" "$(psql_at $WRITE -c "$q" | md5sum)" "$(psql_at $PORT_A -c "$q" | md5sum)"
is "sslmode=require through the router" \
	"$(timeout 30 psql "$(conn $WRITE sslmode=require)" -X -At -c 'select ssl from pg_stat_ssl where pid = pg_backend_pid()')" t
timeout 60 pgbench -i -s 1 -q "$(conn $WRITE)" >"$W/pgbench-init.log" 2>&1
is "pgbench -i through the router" "$?" 0
for mode in extended prepared; do
	timeout 60 pgbench -M $mode -c 4 -j 2 -T 3 "$(conn $WRITE)" >"$W/pgbench-$mode.log" 2>&1
	rc=$?
	check "pgbench -M $mode through the router (rc $rc)" \
		sh -c "[ $rc = 0 ] && grep -q 'number of failed transactions: 0' '$W/pgbench-$mode.log'"
done

# ---------------------------------------------------------------- backpressure
rows=100000 # 100 MB
before=$(node_field write pgA bytes_out)
rss_before=$(rss_kb $ROUTER_PID)
(psql_at $WRITE -c "copy (select repeat('x', 1000) from generate_series(1, $rows)) to stdout" |
	perl -e 'sleep 4; my $n = 0; while (my $r = sysread(STDIN, my $b, 1 << 20)) { $n += $r } print $n' >"$W/slow.out") &
slow_pid=$!
sleep 3
during=$(node_field write pgA bytes_out)
rss_during=$(rss_kb $ROUTER_PID)
wait $slow_pid
read_mb=$(((during - before) / 1048576))
diag "slow reader: router read ${read_mb} MB of 100 MB from the server while the client was stalled; RSS ${rss_before} -> ${rss_during} kB"
check "backpressure: the router stops reading from the server (read ${read_mb} MB < 40 MB)" [ "$read_mb" -lt 40 ]
check "backpressure: router memory stays bounded (+$(((rss_during - rss_before) / 1024)) MB < 64 MB)" \
	[ $((rss_during - rss_before)) -lt 65536 ]
is "slow reader got every byte afterwards" "$(cat "$W/slow.out")" $((rows * 1001))

# ---------------------------------------------------------------- garbage clients
perl -MIO::Socket::INET -e '
	for my $i (1 .. 20) {
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:'$WRITE'", Timeout => 5) or next;
		print $s join("", map { chr(int(rand(256))) } 1 .. 65536);
		close $s;
	}
	for my $i (1 .. 20) {   # a partial startup packet, then a reset
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:'$WRITE'", Timeout => 5) or next;
		print $s "\x00\x00\x01\x00\x00\x03";
		setsockopt($s, Socket::SOL_SOCKET(), Socket::SO_LINGER(), pack("ii", 1, 0));
		close $s;
	}
	for my $i (1 .. 5) {    # stats port: garbage, oversized and binary requests
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:'$STATS'", Timeout => 5) or next;
		print $s ($i == 1 ? "\x00\x01\x02garbage\r\n\r\n" : $i == 2 ? "GET /" . ("a" x 10000) . " HTTP/1.0\r\n\r\n"
			: $i == 3 ? "POST / HTTP/1.0\r\n\r\n" : "GET");
		close $s;
	}' 2>/dev/null
for i in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$WRITE") 2>/dev/null; done
set_state C hang # the check endpoint accepts and never answers
check "a hanging check endpoint times out (L7TOUT)" wait_until 50 0.1 sh -c "curl -s http://127.0.0.1:$STATS/stats.json | grep -q '\"check_result\":\"L7TOUT'"
set_state C garbage
check "router survives garbage and vanishing clients" kill -0 $ROUTER_PID
is "and still routes" "$(port_of $WRITE)" $PORT_A

# ---------------------------------------------------------------- role changes
# pgA's session must be shut when pgA stops being primary
(psql_at $WRITE -c "select pg_sleep(20)" >"$W/victim.out" 2>&1; echo "rc=$?" >>"$W/victim.out") &
victim=$!
wait_until 50 0.1 sh -c "[ \"\$(curl -s http://127.0.0.1:$STATS/stats.json | perl -MJSON::PP -e 'print decode_json(join q(), <STDIN>)->{sessions}')\" -ge 1 ]"
t0=$(now_ms)
set_state A replica
set_state B primary
check "switchover: writes reach the new primary (pgB)" wait_until 200 0.01 write_port_is $PORT_B
elapsed=$(($(now_ms) - t0))
diag "switchover learned through /watch in ${elapsed} ms (interval checks alone: >= 4 s)"
check "switchover through the watch took < 1.5 s" [ $elapsed -lt 1500 ]
check "the old primary's session was shut" wait_until 50 0.1 sh -c "! kill -0 $victim 2>/dev/null"
check "  ... and its client saw the connection end" grep -q "rc=2" "$W/victim.out"

# held client: no primary for a while, then one appears
set_state B replica
check "no primary: write target none" wait_until 50 0.1 sh -c "[ \"\$(curl -s http://127.0.0.1:$STATS/stats.json | perl -MJSON::PP -e 'my \$t = decode_json(join q(), <STDIN>)->{write_target}; print defined \$t ? \$t : q(none)')\" = none ]"
t0=$(now_ms)
(port_of $WRITE >"$W/held.out") &
held=$!
sleep 1
set_state A primary
wait $held
is "a held client is served once a primary appears" "$(cat "$W/held.out")" $PORT_A
elapsed=$(($(now_ms) - t0))
check "  ... after waiting for it (${elapsed} ms)" [ $elapsed -ge 900 ]
check "  ... and counted as held and served" [ "$(service_field write held_served)" -ge 1 ]

set_state A replica
wait_until 50 0.1 node_status_is write pgA DOWN
t0=$(now_ms)
out=$(psql_at $WRITE -c "select 1" 2>&1)
elapsed=$(($(now_ms) - t0))
check "hold timeout: refused after ~4 s (${elapsed} ms)" [ $elapsed -ge 3500 -a $elapsed -lt 8000 ]
check "  ... with an error, not a hang" sh -c "echo '$out' | grep -q 'error'"
check "  ... counted as a hold timeout" [ "$(service_field write hold_timeouts)" -ge 1 ]

# no connection attempt fails during a switchover with a gap
set_state A primary
wait_until 100 0.05 write_port_is $PORT_A
failures=0 attempts=0
(sleep 0.5; set_state A replica; sleep 1; set_state B primary) &
flipper=$!
deadline=$(($(now_ms) + 3500))
while [ "$(now_ms)" -lt $deadline ] && [ $attempts -lt 500 ]; do
	attempts=$((attempts + 1))
	p=$(port_of $WRITE) || failures=$((failures + 1))
	[ -z "$p" ] && failures=$((failures + 1))
done
wait $flipper
diag "switchover with a 1 s gap: $attempts connection attempts"
is "no connection attempt failed during the switchover" $failures 0
is "  ... and writes now reach pgB" "$(port_of $WRITE)" $PORT_B

# read port: round robin over healthy replicas, retrying a dead one
set_state A replica
set_state B replica
set_state C replica # pgC passes the replica check but nothing listens on its postgres port
check "all three in the read pool" wait_until 100 0.1 sh -c "[ \"\$(curl -s http://127.0.0.1:$STATS/stats.json | grep -o '\"status\":\"UP\"' | wc -l)\" -ge 3 ]"
seen=""
for i in 1 2 3 4 5 6; do seen="$seen $(port_of $READ)"; done
check "reads spread over pgA and pgB ($seen)" sh -c "echo '$seen' | grep -q $PORT_A && echo '$seen' | grep -q $PORT_B"
is "  ... a node that refuses connections is retried elsewhere" "$(echo $seen | wc -w)" 6
check "  ... and its errors are counted" [ "$(node_field read pgC errors)" -ge 1 ]
set_state C garbage
set_state A primary
set_state B down
check "read fallback: no healthy replica, reads go to the primary" wait_until 100 0.1 sh -c "[ \"\$(psql '$(conn $READ)' -XAtc \"select current_setting('port')\" 2>/dev/null)\" = $PORT_A ]"
set_state B replica
wait_until 100 0.1 node_status_is read pgB UP

# ---------------------------------------------------------------- reload, limits, timeouts
(psql_at $WRITE -c "select pg_sleep(3)" -c "select 'alive'" >"$W/live.out" 2>&1) &
live=$!
sleep 0.5
echo "bogus directive" | write_config
bogus_line=$(grep -n '^bogus' "$W/router.conf" | cut -d: -f1)
kill -HUP $ROUTER_PID
check "bad reload is rejected with file and line" wait_until 50 0.1 grep -q "reload rejected.*router.conf:$bogus_line: unknown directive 'bogus'" "$W/router.log"
is "  ... and counted" "$(json '$j->{reload_failures}')" 1
is "  ... and the router keeps routing" "$(port_of $WRITE)" $PORT_A
NODE_A_MAXCONN=1 write_config </dev/null
kill -HUP $ROUTER_PID
check "good reload applied" wait_until 50 0.1 sh -c "[ \"\$(curl -s http://127.0.0.1:$STATS/stats.json | perl -MJSON::PP -e 'print decode_json(join q(), <STDIN>)->{reloads}')\" = 1 ]"
t0=$(now_ms)
second=$(port_of $WRITE)
elapsed=$(($(now_ms) - t0))
is "per-node maxconn 1: a second client is held, then served" "$second" $PORT_A
check "  ... after the first session ended (${elapsed} ms)" [ $elapsed -ge 1000 ]
wait $live
is "a live session survives SIGHUP reloads" "$(tail -1 "$W/live.out")" alive

MAXCONN=2 write_config </dev/null
kill -HUP $ROUTER_PID
wait_until 50 0.1 sh -c "[ \"\$(curl -s http://127.0.0.1:$STATS/stats.json | perl -MJSON::PP -e 'print decode_json(join q(), <STDIN>)->{maxconn}')\" = 2 ]"
(psql_at $WRITE -c "select pg_sleep(2)" >/dev/null 2>&1) &
busy1=$!
(psql_at $READ -c "select pg_sleep(2)" >/dev/null 2>&1) &
busy2=$!
wait_until 50 0.1 sh -c "[ \"\$(curl -s http://127.0.0.1:$STATS/stats.json | perl -MJSON::PP -e 'print decode_json(join q(), <STDIN>)->{sessions}')\" = 2 ]"
out=$(psql_at $WRITE -c "select 1" 2>&1)
check "global maxconn: a third client is refused at once" sh -c "echo '$out' | grep -q 'error'"
wait $busy1 $busy2

CLIENT_TIMEOUT=1500ms write_config </dev/null
kill -HUP $ROUTER_PID
wait_until 50 0.1 sh -c "[ \"\$(curl -s http://127.0.0.1:$STATS/stats.json | perl -MJSON::PP -e 'print decode_json(join q(), <STDIN>)->{reloads}')\" = 3 ]"
idle_ms=$(perl -MIO::Socket::INET -MTime::HiRes=time -e '
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:'$WRITE'", Timeout => 5) or die;
	my $t = time; $s->blocking(1); my $r = sysread($s, my $b, 1); printf "%d", (time - $t) * 1000;')
check "client idle timeout closes a silent client (${idle_ms} ms)" [ "${idle_ms:-0}" -ge 1200 -a "${idle_ms:-99999}" -lt 5000 ]

# ---------------------------------------------------------------- drain and exit
write_config </dev/null
kill -HUP $ROUTER_PID
(psql_at $WRITE -c "select pg_sleep(2)" -c "select 'drained'" >"$W/drain.out" 2>&1) &
draining=$!
wait_until 50 0.1 sh -c "[ \"\$(curl -s http://127.0.0.1:$STATS/stats.json | perl -MJSON::PP -e 'print decode_json(join q(), <STDIN>)->{sessions}')\" -ge 1 ]"
kill -TERM $ROUTER_PID
check "SIGTERM: the write port stops accepting" wait_until 50 0.1 sh -c "! (exec 3<>/dev/tcp/127.0.0.1/$WRITE) 2>/dev/null"
wait $draining
is "  ... while a live session finishes" "$(tail -1 "$W/drain.out")" drained
for i in $(seq 1 100); do kill -0 $ROUTER_PID 2>/dev/null || break; sleep 0.1; done
wait $ROUTER_PID
is "router exits 0 after the drain" "$?" 0
STARTED_PIDS=("${STARTED_PIDS[@]/$ROUTER_PID/}")
reports=$(ls "$W"/asan.* "$W"/ubsan.* 2>/dev/null | wc -l)
is "no ASan/UBSan/LSan report" "$reports" 0
[ "$reports" -gt 0 ] && head -50 "$W"/asan.* "$W"/ubsan.* 2>/dev/null | sed 's/^/# /'
check "no 'handles left open' at exit" sh -c "! grep -q 'handles left open' '$W/router.log'"

echo "1..$TESTS"
echo "$((TESTS - FAILED)) passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
