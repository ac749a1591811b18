#!/usr/bin/env bash
# router_test.sh - integration test of pg_ha_router against real pg_ha nodes
# (TAP output, then "N passed, N failed").
#
# A real ZooKeeper (scripts/zk.sh) and three PostgreSQL 15 nodes run by
# pg_ha_supervisor with the pg_ha agent loaded: n1 bootstraps and leads, n2
# and n3 clone from it; n3 is tagged nofailover, so every role change moves
# the leadership between n1 and n2 only.  The router, built with ASan+UBSan,
# health-checks the agents' real HTTP API (GET /master, /replica) and
# long-polls their /watch.  Role changes are real: a planned switchover
# (SELECT ha_switchover() on a replica) and a failover (kill -9 of the
# primary's postmaster); a replica leaves the read pool through its real
# noloadbalance tag (node.conf + SIGHUP of its supervisor).  Besides the
# nodes, the router's list holds broken entries on purpose: an API that
# answers garbage or hangs (a small perl socket, not an agent), an API port
# nothing listens on, a name that does not resolve, and a node whose
# postgres port refuses connections (pgX, checked through n3's agent).
#
# Usage: tests/router/router_test.sh   (as root: servers run as postgres;
#        KEEP=1 keeps the work dir, with the stats page screenshot)
#        ROUTER_SANITIZE=thread runs the router built with ThreadSanitizer
#        (router/pg_ha_router-tsan) instead of ASan+UBSan (the default, 1);
#        ROUTER_THREADS=N its relay threads (default 2, so sessions and
#        held clients are spread over two loops).
# Ports: 16400-16422 on 127.0.0.1 only.  Every wait is bounded; only what
# the test started is stopped, by PID.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
ROUTER_SANITIZE=${ROUTER_SANITIZE:-1}
case $ROUTER_SANITIZE in
	thread) ROUTER="$ROOT/router/pg_ha_router-tsan" ;;
	*) ROUTER="$ROOT/router/pg_ha_router" ;;
esac
export ROUTER ROUTER_SANITIZE
ROUTER_THREADS=${ROUTER_THREADS:-2}
export ROUTER_THREADS
. "$HERE/lib.sh"

ZK=16400
PG1=16401 PG2=16402 PG3=16403 PG_REFUSED=16404
API1=16411 API2=16412 API3=16413 API_HOSTILE=16414 API_NONE=16415
WRITE=16420 READ=16421 STATS=16422
declare -A PGPORT=([n1]=$PG1 [n2]=$PG2 [n3]=$PG3)
declare -A APIPORT=([n1]=$API1 [n2]=$API2 [n3]=$API3)
ALL_NODES="n1 n2 n3 pgX pgG pgU pgE"

. "$HERE/tap.sh"
tap_begin test
port_of() { psql_at "$1" -c "select current_setting('port')" 2>/dev/null; }
write_port_is() { [ "$(port_of $WRITE)" = "$1" ]; }
api() { http_status "http://127.0.0.1:$1$2"; }
is_primary() { [ "$(api "${APIPORT[$1]}" /master)" = 200 ]; }
is_replica() { [ "$(api "${APIPORT[$1]}" /replica)" = 200 ]; }
streaming_replicas() {	# PRIMARY -> count of streaming standbys it sees
	psql_at "${PGPORT[$1]}" -c "select count(*) from pg_stat_replication where state = 'streaming'" 2>/dev/null
}
stats_json() { curl -s --max-time 3 "http://127.0.0.1:$STATS/stats.json"; }
# json EXPR: evaluates a perl expression over $j (the decoded stats.json)
json() { stats_json | perl -MJSON::PP -e 'my $j = eval { decode_json(join "", <STDIN>) } or exit 1; my $v = eval $ARGV[0]; print defined $v ? $v : ""' "$1"; }
node_field() {	# SERVICE NODE FIELD
	json "my (\$s) = grep { \$_->{name} eq '$1' } @{\$j->{services}}; my (\$n) = grep { \$_->{name} eq '$2' } @{\$s->{nodes}}; \$n->{$3}"
}
service_field() { json "my (\$s) = grep { \$_->{name} eq '$1' } @{\$j->{services}}; \$s->{$2}"; }
node_status_is() { [ "$(node_field "$1" "$2" status)" = "$3" ]; }
sessions_at_least() { [ "$(json '$j->{sessions}')" -ge "$1" ] 2>/dev/null; }
write_target_is() { [ "$(json 'defined $j->{write_target} ? $j->{write_target} : q(none)')" = "$1" ]; }
reloads_are() { [ "$(json '$j->{reloads}')" = "$1" ]; }

node_line() {
	local extra=""
	[ "$1" = "${MAXCONN_NODE:-}" ] && extra=" maxconn 1"
	case $1 in
		n1 | n2 | n3) echo "node $1 127.0.0.1:${PGPORT[$1]} check 127.0.0.1:${APIPORT[$1]}$extra" ;;
		pgX) echo "node pgX 127.0.0.1:$PG_REFUSED check 127.0.0.1:$API3" ;;	# n3's agent, no postgres there
		pgG) echo "node pgG 127.0.0.1:$PG_REFUSED check 127.0.0.1:$API_HOSTILE" ;;
		pgU) echo "node pgU 127.0.0.1:$PG_REFUSED check 127.0.0.1:$API_NONE" ;;
		pgE) echo "node pgE pgha-no-such-host.invalid:$PG_REFUSED" ;;
	esac
}
write_config() {	# [NODES...]; extra lines on stdin are appended
	local n
	{
		cat <<CONF
listen write 127.0.0.1:$WRITE
listen read 127.0.0.1:$READ
listen stats 127.0.0.1:$STATS
maxconn ${MAXCONN:-50}
threads $ROUTER_THREADS
timeout connect 2s
timeout client ${CLIENT_TIMEOUT:-30m}
timeout drain 10s
retries 3
check primary path /master interval 2s timeout 1s fall 3 rise 2
check replica path /replica interval 1s timeout 1s fall 2 rise 1
hold timeout ${HOLD_TIMEOUT:-4s} max 10
watch on timeout 5s backoff 2s
CONF
		for n in ${@:-$ALL_NODES}; do node_line "$n"; done
		cat
	} >"$W/router.conf.new"
	mv "$W/router.conf.new" "$W/router.conf"
}
reload_router() { kill -HUP "$ROUTER_PID"; }

# set_tag NODE KEY on|off : a node.conf tag, applied by SIGHUP to its supervisor
set_tag() {
	sed -i "/^$2 = /d" "$W/$1/node.conf"
	echo "$2 = $3" >>"$W/$1/node.conf"
	kill -HUP "$(sup_pid "$W/$1")"
}

# mark_primary_200 NODE FILE : in the background, writes the time (ms) at
# which NODE's agent first answers 200 on /master (polled every 10 ms, <= 20 s)
mark_primary_200() {
	(
		for ((i = 0; i < 2000; i++)); do
			if is_primary "$1"; then now_ms >"$2"; exit 0; fi
			sleep 0.01
		done
	) &
	MARK_PID=$!
}

# first_event_ms FILE REGEX AFTER_MS : the time (epoch ms) of the first line
# of FILE matching REGEX logged at or after AFTER_MS (router and postgres
# log lines both start with a UTC timestamp with milliseconds)
first_event_ms() {
	perl -MTime::Local -ne 'BEGIN { ($re, $after) = splice(@ARGV, 1, 2) }
		next unless /$re/ && /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)\.(\d{3})/;
		my $ms = timegm($6, $5, $4, $3, $2 - 1, $1) * 1000 + $7;
		if ($ms >= $after) { print $ms; exit }' "$1" "$2" "$3"
}
# learned_ms NODE AFTER_MS : how long after NODE's agent logged that it is
# the leader the router switched its write target to NODE
learned_ms() {
	local led routed
	led=$(first_event_ms "$W/$1/postgres.log" "pg_ha: role change: \"$1\" is now the leader" "$2")
	routed=$(first_event_ms "$W/router.log" "write target: .* -> $1\$" "$2")
	[ -n "$led" ] && [ -n "$routed" ] && echo $((routed - led))
}

echo "# building the sanitized router (SANITIZE=$ROUTER_SANITIZE)"
make -s -C "$ROOT/router" SANITIZE=$ROUTER_SANITIZE >"$W/build.log" 2>&1 || { cat "$W/build.log"; bail "build failed"; }
[ -x "$PG_BIN/pg_ha_supervisor" ] || bail "$PG_BIN/pg_ha_supervisor missing: run make install"

# ---------------------------------------------------------------- config
printf 'listen write 127.0.0.1:1\n\nnode a 127.0.0.1:2 maxconn lots\n' >"$W/bad.conf"
"$ROUTER" -t -c "$W/bad.conf" >"$W/bad.out" 2>&1
is "invalid configuration exits 2" "$?" 2
check "the error names the file and line" grep -q "bad.conf:3: node a: invalid maxconn 'lots'" "$W/bad.out"
"$ROUTER" -t -c "$ROOT/router/pg_ha_router.conf.sample" >/dev/null 2>&1
is "the shipped sample configuration is valid" "$?" 0

# ---------------------------------------------------------------- cluster
diag "starting ZooKeeper on $ZK and three supervised pg_ha nodes (postgres $PG1-$PG3, agents $API1-$API3)"
mkdir -p "$W/ssl"
openssl req -new -x509 -days 2 -nodes -subj "/CN=pgha-router-test" -keyout "$W/ssl/server.key" \
	-out "$W/ssl/server.crt" >"$W/openssl.log" 2>&1 || bail "openssl"
chown -R postgres "$W/ssl"
chmod 600 "$W/ssl/server.key"
zk_start "$W/zk" $ZK || bail "ZooKeeper did not start"
for n in n1 n2 n3; do
	{
		echo "pg.ssl = on"
		echo "pg.ssl_cert_file = '$W/ssl/server.crt'"
		echo "pg.ssl_key_file = '$W/ssl/server.key'"
		[ $n = n3 ] && echo "nofailover = on"
	} | sup_conf "$W/$n" $n "${PGPORT[$n]}" "${APIPORT[$n]}" "127.0.0.1:$ZK"
done
sup_start "$W/n1" || bail "supervisor n1"
wait_until 600 0.1 is_primary n1 || { tail -20 "$W/n1/sup.log"; bail "n1 did not bootstrap"; }
sup_start "$W/n2" && sup_start "$W/n3" || bail "supervisors n2, n3"
wait_until 900 0.1 sh -c "[ \"\$(psql '$(conn $PG1)' -XAtc \"select count(*) from pg_stat_replication where state = 'streaming'\" 2>/dev/null)\" = 2 ]" ||
	{ tail -5 "$W/n2/sup.log" "$W/n3/sup.log"; bail "n2 and n3 do not stream from n1"; }
wait_until 100 0.1 is_replica n2 && wait_until 100 0.1 is_replica n3 || bail "n2/n3 not replicas"
psql_at $PG1 -q -c "create extension pg_ha" || bail "create extension"
diag "cluster up after $((($(now_ms) - T_START) / 1000)) s: n1 leads, n2 and n3 stream from it"

echo garbage >"$W/hostile.mode"
start_hostile_endpoint $API_HOSTILE "$W/hostile.mode"
# nothing listens on $API_NONE (an unreachable API) nor on $PG_REFUSED

write_config </dev/null
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$W/asan:quarantine_size_mb=16"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$W/ubsan"
export TSAN_OPTIONS="log_path=$W/tsan:second_deadlock_stack=1"
"$ROUTER" -c "$W/router.conf" >"$W/router.log" 2>&1 &
ROUTER_PID=$!
STARTED_PIDS+=("$ROUTER_PID")
check "router listens" wait_until 100 0.1 port_open $STATS
check "write port reaches the primary (n1)" wait_until 50 0.2 write_port_is $PG1
p=$(port_of $READ)
check "read port reaches a replica (n2 or n3: $p)" [ "$p" = $PG2 -o "$p" = $PG3 ]
check "stats: n1 UP for write" node_status_is write n1 UP
check "stats: n2 DOWN for write" node_status_is write n2 DOWN
check "  ... n2 UP for read" wait_until 30 0.1 node_status_is read n2 UP
check "  ... n3 UP for read" wait_until 30 0.1 node_status_is read n3 UP
is "stats: garbage check reply is a failure" "$(node_field write pgG check_result)" "L7RSP not an HTTP reply"
is "stats: a name that does not resolve is DOWN, not fatal" "$(node_field write pgE status)" DOWN
check "  ... with a DNS check result" sh -c "curl -s http://127.0.0.1:$STATS/stats.json | grep -q '\"check_result\":\"DNS pgha-no-such-host.invalid'"
is "stats: unreachable API is L4CON" "$(node_field write pgU check_result)" "L4CON connection refused"
curl -s "http://127.0.0.1:$STATS/" >"$W/stats.html"
check "HTML: n1 row UP in the write table" grep -q 'data-service="write" data-node="n1" data-status="UP"' "$W/stats.html"
check "HTML: n2 row DOWN in the write table" grep -q 'data-service="write" data-node="n2" data-status="DOWN"' "$W/stats.html"
if command -v chromium >/dev/null 2>&1; then
	# the page as a browser builds it (Debian's chromium, headless)
	chromium_run() { timeout 90 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$W/chromium" "$@" 2>>"$W/chromium.log"; }
	chromium_run --dump-dom "http://127.0.0.1:$STATS/" >"$W/stats.dom"
	check "chromium DOM: write table shows the primary n1 UP" grep -q '<tr class="node UP" data-service="write" data-node="n1" data-status="UP">' "$W/stats.dom"
	check "chromium DOM: write table shows the replica n2 DOWN" grep -q '<tr class="node DOWN" data-service="write" data-node="n2" data-status="DOWN">' "$W/stats.dom"
	check "chromium DOM: read table shows the replica n2 UP" grep -q '<tr class="node UP" data-service="read" data-node="n2" data-status="UP">' "$W/stats.dom"
	check "chromium DOM: every node has a row in each table" [ "$(grep -o 'data-node="[a-zA-Z0-9]*"' "$W/stats.dom" | wc -l)" = 14 ]
	chromium_run --screenshot="$W/stats.png" --window-size=1400,800 "http://127.0.0.1:$STATS/" >/dev/null
	check "chromium screenshot of the stats page ($W/stats.png)" test -s "$W/stats.png"
else
	for i in 1 2 3 4 5; do TESTS=$((TESTS + 1)); echo "ok $TESTS # SKIP chromium not installed"; done
fi
curl -s "http://127.0.0.1:$STATS/metrics" >"$W/metrics.txt"
check "metrics: node_up for n1 write is 1" grep -qx 'pg_ha_router_node_up{service="write",node="n1"} 1' "$W/metrics.txt"
check "metrics: node_up for n2 write is 0" grep -qx 'pg_ha_router_node_up{service="write",node="n2"} 0' "$W/metrics.txt"
is "stats: HAProxy-style ;json alias" "$(http_status "http://127.0.0.1:$STATS/;json")" 200
is "stats: unknown path is 404" "$(http_status "http://127.0.0.1:$STATS/nope")" 404
watch_state() { [ "$(json "my (\$n) = grep { \$_->{name} eq '$1' } @{\$j->{nodes}}; \$n->{watch}")" = "$2" ]; }
check "watch: the pg_ha agent on n1 supports /watch" wait_until 50 0.2 watch_state n1 supported
check "watch: ... and on n2" wait_until 50 0.2 watch_state n2 supported
epoch=$(json 'my ($n) = grep { $_->{name} eq "n1" } @{$j->{nodes}}; $n->{leader_epoch}')
check "watch: the agent reports its leader epoch ($epoch)" [ "${epoch:-0}" -gt 0 ]
# garbage is no "not supported": the watch is retried at the check interval
check "watch: an API that answers garbage (pgG) gets interval checks, its watch retried" wait_until 50 0.2 watch_state pgG retrying
echo notfound >"$W/hostile.mode"
check "watch: an API that answers 404 (pgG) has no /watch: interval checks only" wait_until 50 0.2 watch_state pgG unsupported
echo garbage >"$W/hostile.mode"

# ---------------------------------------------------------------- transparency
psql_at $WRITE -q -c "create table t (id int primary key, payload text, blob bytea)" || true
seq 1 100000 | awk '{ printf "%d\tpayload %d \\\\ tab\\there\t\\\\x%08x\n", $1, $1 * 7, $1 }' >"$W/copy.in"
psql_at $WRITE -c "\\copy t from '$W/copy.in'" >/dev/null
is "COPY FROM through the router" "$(psql_at $PG1 -c 'select count(*) from t')" 100000
via=$(psql_at $WRITE -c "\\copy t to stdout" | md5sum)
direct=$(psql_at $PG1 -c "\\copy t to stdout" | md5sum)
is "COPY TO through the router is byte-identical" "$via" "$direct"
via=$(psql_at $WRITE -c "\\copy t to stdout with (format binary)" | md5sum)
direct=$(psql_at $PG1 -c "\\copy t to stdout with (format binary)" | md5sum)
is "binary COPY through the router is byte-identical" "$via" "$direct"
q="select string_agg(md5(i::text), ',') from generate_series(1, 300000) i"
is "a 10 MB result is identical" "$(psql_at $WRITE -c "$q" | md5sum)" "$(psql_at $PG1 -c "$q" | md5sum)"
is "sslmode=require through the router (write port)" \
	"$(timeout 30 psql "$(conn $WRITE sslmode=require)" -X -At -c 'select ssl from pg_stat_ssl where pid = pg_backend_pid()')" t
is "sslmode=require through the router (read port, a replica)" \
	"$(timeout 30 psql "$(conn $READ sslmode=require)" -X -At -c 'select ssl and pg_is_in_recovery() from pg_stat_ssl where pid = pg_backend_pid()')" t
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
before=$(node_field write n1 bytes_out)
rss_before=$(rss_kb $ROUTER_PID)
(psql_at $WRITE -c "copy (select repeat('x', 1000) from generate_series(1, $rows)) to stdout" |
	perl -e 'sleep 4; my $n = 0; while (my $r = sysread(STDIN, my $b, 1 << 20)) { $n += $r } print $n' >"$W/slow.out") &
slow_pid=$!
sleep 3
during=$(node_field write n1 bytes_out)
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
echo hang >"$W/hostile.mode" # the check endpoint accepts and never answers
check "a hanging check endpoint times out (L7TOUT)" wait_until 50 0.1 sh -c "curl -s http://127.0.0.1:$STATS/stats.json | grep -q '\"check_result\":\"L7TOUT'"
echo garbage >"$W/hostile.mode"
check "router survives garbage and vanishing clients" kill -0 $ROUTER_PID
is "and still routes" "$(port_of $WRITE)" $PG1

# ---------------------------------------------------------------- stats port flood
. "$HERE/stats_flood.sh"

# ---------------------------------------------------------------- read port
seen=""
for i in 1 2 3 4 5 6; do seen="$seen $(port_of $READ)"; done
check "reads spread over the replicas n2 and n3 ($seen)" sh -c "echo '$seen' | grep -q $PG2 && echo '$seen' | grep -q $PG3"
is "  ... pgX (healthy agent, postgres refuses) is retried elsewhere" "$(echo $seen | wc -w)" 6
check "  ... and its errors are counted" [ "$(node_field read pgX errors)" -ge 1 ]

# a replica leaves the read pool (noloadbalance): the router shuts its read
# sessions while its postgres keeps running
set_tag n2 noloadbalance on
check "noloadbalance on n2: the agent answers 503 on /replica" wait_until 50 0.1 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$API2/replica)\" = 503 ]"
check "  ... and the router marks n2 DOWN for read" wait_until 50 0.1 node_status_is read n2 DOWN
(psql_at $READ -c "select pg_sleep(30)" >"$W/reader.out" 2>&1; echo "rc=$?" >>"$W/reader.out") &
reader=$!
check "a read session lands on n3" wait_until 50 0.1 sh -c "[ \"\$(curl -s http://127.0.0.1:$STATS/stats.json | perl -MJSON::PP -e 'my \$j = decode_json(join q(), <STDIN>); my (\$s) = grep { \$_->{name} eq q(read) } @{\$j->{services}}; my (\$n) = grep { \$_->{name} eq q(n3) } @{\$s->{nodes}}; print \$n->{cur_sessions}')\" = 1 ]"
t0=$(now_ms)
set_tag n3 noloadbalance on
check "noloadbalance on n3: its read session is shut" wait_until 100 0.1 sh -c "! kill -0 $reader 2>/dev/null"
elapsed=$(($(now_ms) - t0))
check "  ... well before the query ended (${elapsed} ms)" [ $elapsed -lt 10000 ]
check "  ... the client saw the connection end" grep -q "rc=2" "$W/reader.out"
check "  ... by the router (its log)" grep -q "node n3: closed 1 read session" "$W/router.log"
is "  ... while n3's postgres kept running" "$(psql_at $PG3 -c 'select pg_is_in_recovery()')" t
check "read fallback: no healthy replica, reads go to the primary" wait_until 100 0.1 sh -c "[ \"\$(psql '$(conn $READ)' -XAtc \"select current_setting('port')\" 2>/dev/null)\" = $PG1 ]"
set_tag n2 noloadbalance off
set_tag n3 noloadbalance off
check "replicas back in the read pool" wait_until 100 0.1 sh -c "[ \"\$(curl -s http://127.0.0.1:$STATS/stats.json | perl -MJSON::PP -e 'my (\$s) = grep { \$_->{name} eq q(read) } @{decode_json(join q(), <STDIN>)->{services}}; print scalar grep { \$_->{status} eq q(UP) } @{\$s->{nodes}}')\" = 3 ]"

# ---------------------------------------------------------------- switchover
# SELECT ha_switchover('n2') on n2, with a client connecting in a loop through
# the write port: no attempt may fail (held, then served); the old
# primary's session is shut.
# attempt_write : one connection through the write port; appends
# "<start ms> <end ms> <port|fail|shut> <error>" to $W/attempts, prints the
# port.  "fail": the connection attempt failed (refused, or ended before it
# was established); "shut": it was served, then its session was ended by
# the role change (sessions of a node marked down are shut, by design).
attempt_write() {
	local out rc start
	start=$(now_ms)
	out=$(psql_at $WRITE -c "select current_setting('port')" 2>&1)
	rc=$?
	if [ $rc = 0 ] && [ -n "$out" ]; then
		echo "$start $(now_ms) $out" >>"$W/attempts"
		echo "$out"
		return 0
	fi
	if echo "$out" | grep -q "connection to server at .* failed"; then
		echo "$start $(now_ms) fail $(echo "$out" | tr '\n' ' ')" >>"$W/attempts"
		return 1
	fi
	echo "$start $(now_ms) shut $(echo "$out" | tr '\n' ' ')" >>"$W/attempts"
	return 2
}
# settled LEADER : the leader streams to both others, and they answer /replica
settled() {
	local others n
	others=$(for n in n1 n2 n3; do [ $n != "$1" ] && echo $n; done)
	for n in $others; do is_replica $n || return 1; done
	[ "$(streaming_replicas "$1")" = 2 ]
}
(psql_at $WRITE -c "select pg_sleep(20)" >"$W/victim.out" 2>&1; echo "rc=$?" >>"$W/victim.out") &
victim=$!
wait_until 50 0.1 sessions_at_least 1
held_before=$(service_field write held_served)
rm -f "$W/n2.primary_at"
mark_primary_200 n2 "$W/n2.primary_at"
marker=$MARK_PID
t_switch=$(now_ms)
(sleep 0.5; psql_at $PG2 -c "select ha_switchover('n2')" >"$W/switchover.out" 2>&1; now_ms >"$W/switchover.done") &
switcher=$!
attempts=0
deadline=$(($(now_ms) + 20000))
: >"$W/attempts"
while [ "$(now_ms)" -lt $deadline ] && [ $attempts -lt 1000 ]; do
	attempts=$((attempts + 1))
	p=$(attempt_write)
	[ "$p" = $PG2 ] && [ -s "$W/switchover.done" ] && [ $(($(now_ms) - $(cat "$W/switchover.done"))) -gt 1000 ] && break
done
wait $switcher
wait $marker
is "switchover: ha_switchover('n2') on n2 returns the new leader" "$(cat "$W/switchover.out")" n2
# A connection already on its way to n1 when n1 stepped down ends with n1
# (postgres' fast shutdown, the router's shutdown-sessions): that is the
# switchover ending sessions, as it must.  Every attempt made from the
# moment the router stopped writing to n1 must be held, then served.
down_ms=$(first_event_ms "$W/router.log" "write target: n1 -> " "$t_switch")
late_failures=$(awk -v d="${down_ms:-0}" '$1 >= d && $3 != "'$PG2'"' "$W/attempts" | wc -l)
in_flight=$(awk -v d="${down_ms:-0}" '$3 != "'$PG1'" && $3 != "'$PG2'" && $1 < d' "$W/attempts" | wc -l)
diag "switchover: $attempts connection attempts through the write port while it ran; $in_flight already on their way to n1 when it stepped down ended with it:"
awk -v d="${down_ms:-0}" '$3 != "'$PG1'" && $3 != "'$PG2'" && $1 < d' "$W/attempts" | sed 's/^/#   /'
check "the router stopped writing to n1 (its log)" [ -n "$down_ms" ]
is "no connection attempt made during the switchover failed or reached n1 (held, then served by n2)" $late_failures 0
[ $late_failures -gt 0 ] && awk -v d="${down_ms:-0}" '$1 >= d && $3 != "'$PG2'"' "$W/attempts" | sed 's/^/#   /'
is "  ... and new connections reach the new primary n2" "$(port_of $WRITE)" $PG2
first_n2=$(awk -v p=$PG2 '$3 == p { print $2; exit }' "$W/attempts")
[ -s "$W/n2.primary_at" ] && [ -n "$first_n2" ] &&
	diag "switchover: n2's agent answered 200 on /master (polled), the first client reached n2 $((first_n2 - $(cat "$W/n2.primary_at"))) ms later"
learned=$(learned_ms n2 "$t_switch")
diag "switchover: n2's agent logged that it leads, the router wrote to n2 ${learned:-?} ms later (interval checks alone: rise 2 x inter 2s)"
check "  ... learned through /watch in milliseconds (${learned:-?} ms < 500)" [ "${learned:-9999}" -lt 500 ]
diag "switchover: held and then served: $(($(service_field write held_served) - held_before)) clients"
check "the old primary's write session was shut" wait_until 100 0.1 sh -c "! kill -0 $victim 2>/dev/null"
check "  ... its client saw the connection end" grep -q "rc=2" "$W/victim.out"
check "  ... by the router (its log)" grep -Eq "node n1: closed [0-9]+ write sessions?" "$W/router.log"
check "n1 rejoins as a replica, n2 streams to n1 and n3" wait_until 300 0.1 settled n2

# ---------------------------------------------------------------- failover
# kill -9 of the primary's postmaster (n2): the agent on n1 wins the
# election (n3 is nofailover); clients are held meanwhile and reach n1.
sleep 1
rm -f "$W/n1.primary_at"
mark_primary_200 n1 "$W/n1.primary_at"
marker=$MARK_PID
pm=$(postmaster_pid "$W/n2")
: >"$W/attempts"
t0=$(now_ms)
kill -9 "$pm"
got="" failures=0
for ((i = 0; i < 200; i++)); do
	got=$(attempt_write) || failures=$((failures + 1))	# a session on n2 dies with it: not the router's doing
	[ "$got" = $PG1 ] && break
	[ $(($(now_ms) - t0)) -gt 20000 ] && break
done
t1=$(now_ms)
wait $marker
is "failover (kill -9 of n2's postmaster): new connections reach n1" "$got" $PG1
diag "failover: the first client reached n1 $((t1 - t0)) ms after kill -9 ($i attempts before, $failures failed)"
[ $failures -gt 0 ] && grep ' fail ' "$W/attempts" | sed 's/^/#   /'
[ -s "$W/n1.primary_at" ] &&
	diag "failover: n1's agent answered 200 on /master (polled) $(($(cat "$W/n1.primary_at") - t0)) ms after the kill"
learned=$(learned_ms n1 "$t0")
diag "failover: n1's agent logged that it leads, the router wrote to n1 ${learned:-?} ms later"
check "  ... learned through /watch in milliseconds (${learned:-?} ms < 500)" [ "${learned:-9999}" -lt 500 ]
check "  ... within 5 s of the crash ($((t1 - t0)) ms)" [ $((t1 - t0)) -lt 5000 ]
# two witnesses mark it DOWN at once: the broken watch, or a client the
# router sent to n2 before it knew (that client is then held for n1)
check "  ... n2 marked DOWN at once: its watch broke or a client could not connect, and a check failed (not after fall 3)" \
	grep -Eq "node n2 primary check: UP -> DOWN \(.*confirming: (the agent's watch broke|a client could not connect)" "$W/router.log" ||
	grep -E "node n2|to node n2" "$W/router.log" | tail -n 12 | sed 's/^/#   /'
psql_at $WRITE -q -c "insert into t values (-1, 'after failover', null)"
is "  ... and writes through the router land on n1" "$(psql_at $PG1 -c 'select payload from t where id = -1')" "after failover"
check "n2 rejoins as a replica (its supervisor)" wait_until 300 0.1 settled n1

# ---------------------------------------------------------------- hold queue
# The router is given only the replicas n2 and n3: no node in its list
# answers 200 on /master, so write clients are held; then n2 becomes the
# primary (a real switchover) and a held client is served.
write_config n2 n3 pgG pgU pgE </dev/null
reload_router
check "only replicas listed: write target none" wait_until 50 0.1 write_target_is none
t0=$(now_ms)
out=$(psql_at $WRITE -c "select 1" 2>&1)
elapsed=$(($(now_ms) - t0))
check "hold timeout: refused after ~4 s (${elapsed} ms)" [ $elapsed -ge 3500 -a $elapsed -lt 8000 ]
check "  ... with an error, not a hang" sh -c "echo '$out' | grep -q 'error'"
check "  ... counted as a hold timeout" [ "$(service_field write hold_timeouts)" -ge 1 ]
held_before=$(service_field write held_served)
t0=$(now_ms)
(port_of $WRITE >"$W/held.out") &
held=$!
sleep 1
is "ha_switchover('n2') on n2" "$(psql_at $PG2 -c "select ha_switchover('n2')" 2>&1)" n2
wait $held
elapsed=$(($(now_ms) - t0))
is "a held client is served once a primary appears (n2)" "$(cat "$W/held.out")" $PG2
check "  ... after waiting for it (${elapsed} ms)" [ $elapsed -ge 900 ]
check "  ... and counted as held and served" [ "$(service_field write held_served)" -gt "$held_before" ]
write_config </dev/null
reload_router
check "all nodes listed again: write target n2" wait_until 50 0.1 write_target_is n2
check "n1 rejoins as a replica, n2 streams to n1 and n3" wait_until 300 0.1 settled n2

# ---------------------------------------------------------------- reload, limits, timeouts
(psql_at $WRITE -c "select pg_sleep(3)" -c "select 'alive'" >"$W/live.out" 2>&1) &
live=$!
sleep 0.5
echo "bogus directive" | write_config
bogus_line=$(grep -n '^bogus' "$W/router.conf" | cut -d: -f1)
reload_router
check "bad reload is rejected with file and line" wait_until 50 0.1 grep -q "reload rejected.*router.conf:$bogus_line: unknown directive 'bogus'" "$W/router.log"
is "  ... and counted" "$(json '$j->{reload_failures}')" 1
is "  ... and the router keeps routing" "$(port_of $WRITE)" $PG2
MAXCONN_NODE=n2 write_config </dev/null
reload_router
check "good reload applied" wait_until 50 0.1 reloads_are 3
t0=$(now_ms)
second=$(port_of $WRITE)
elapsed=$(($(now_ms) - t0))
is "per-node maxconn 1: a second client is held, then served" "$second" $PG2
check "  ... after the first session ended (${elapsed} ms)" [ $elapsed -ge 1000 ]
wait $live
is "a live session survives SIGHUP reloads" "$(tail -1 "$W/live.out")" alive

MAXCONN=2 write_config </dev/null
reload_router
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
reload_router
wait_until 50 0.1 reloads_are 5
idle_ms=$(perl -MIO::Socket::INET -MTime::HiRes=time -e '
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:'$WRITE'", Timeout => 5) or die;
	my $t = time; $s->blocking(1); my $r = sysread($s, my $b, 1); printf "%d", (time - $t) * 1000;')
check "client idle timeout closes a silent client (${idle_ms} ms)" [ "${idle_ms:-0}" -ge 1200 -a "${idle_ms:-99999}" -lt 5000 ]

# ---------------------------------------------------------------- drain and exit
write_config </dev/null
reload_router
(psql_at $WRITE -c "select pg_sleep(2)" -c "select 'drained'" >"$W/drain.out" 2>&1) &
draining=$!
wait_until 50 0.1 sessions_at_least 1
kill -TERM $ROUTER_PID
check "SIGTERM: the write port stops accepting" wait_until 50 0.1 sh -c "! (exec 3<>/dev/tcp/127.0.0.1/$WRITE) 2>/dev/null"
wait $draining
is "  ... while a live session finishes" "$(tail -1 "$W/drain.out")" drained
for i in $(seq 1 100); do kill -0 $ROUTER_PID 2>/dev/null || break; sleep 0.1; done
wait $ROUTER_PID
is "router exits 0 after the drain" "$?" 0
STARTED_PIDS=("${STARTED_PIDS[@]/$ROUTER_PID/}")
reports=$(ls "$W"/asan.* "$W"/ubsan.* "$W"/tsan.* 2>/dev/null | wc -l)
is "no ASan/UBSan/LSan/TSan report" "$reports" 0
[ "$reports" -gt 0 ] && head -80 "$W"/asan.* "$W"/ubsan.* "$W"/tsan.* 2>/dev/null | sed 's/^/# /'
check "no 'handles left open' at exit" sh -c "! grep -q 'handles left open' '$W/router.log'"

# ---------------------------------------------------------------- faults in clusters
# tests/router/router_follow.sh (issue 9): the sample configuration's check
# timings, a router started before its nodes, a crash then a node loss; on
# its own cluster, so this one is stopped first to leave it the machine.
sup_stop_started
zk_stop_started
diag "router_follow.sh: the router follows the new primary within 1 s when faults come in clusters"
"$HERE/router_follow.sh" >"$W/follow.tap" 2>&1
follow_rc=$?
while IFS= read -r line; do
	case $line in
		"ok "*) pass "follow: ${line#ok * - }" ;;
		"not ok "*) fail "follow: ${line#not ok * - }" ;;
		"Bail out!"*) fail "follow: ${line#Bail out! }" ;;
		"1.."* | *" passed, "*" failed") ;;
		*) echo "$line" ;;
	esac
done <"$W/follow.tap"
check "router_follow.sh exits 0" [ $follow_rc = 0 ]

diag "total $((($(now_ms) - T_START) / 1000)) s"
echo "1..$TESTS"
echo "$((TESTS - FAILED)) passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
