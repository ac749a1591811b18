# stats_flood.sh - sourced by router_test.sh (uses its pass/fail/check and
# its running cluster and router): the flood of issue 9 against the router's
# stats port -- 1,000 idle and 50 byte-at-a-time connections from 127.0.0.1,
# reopened at once whenever the router closes one (tests/perl/ApiFlood.pm) --
# must not disturb routing: new routed connections keep landing on the
# primary, a session held through the router lives through it, and the stats
# page still answers, every time within 2 s.
FLOOD_S=15
start_bg "$W/stats-flood.log" perl -I"$ROOT/tests/perl" -MApiFlood -e '
	my ($port, $secs, $status) = @ARGV;
	my $f = ApiFlood->new(port => $port, idle => 1000, slow => 50, seconds => $secs, status => $status);
	$SIG{TERM} = sub { $f->stop; exit 0 };
	sleep $secs;
	$f->stop;' $STATS $((FLOOD_S + 30)) "$W/stats-flood.status"
FLOOD_PID=$BG_PID
flood_field() { sed -n "s/^$1=//p" "$W/stats-flood.status" 2>/dev/null; }
flood_holds() { [ "$(flood_field max_open)" -ge 1050 ] 2>/dev/null; }
check "stats flood: 1,000 idle and 50 byte-at-a-time connections on the stats port" wait_until 300 0.1 flood_holds
evicted_before=$(json '$j->{stats_evicted}')
# a session opened through the router before the flood peaks, held through it
(psql_at $WRITE -c "select pg_sleep($FLOOD_S)" -c "select 'held session ok'" >"$W/flood-held.out" 2>&1) &
held_pid=$!
routed=0 routed_bad=0 stats_ok=0 stats_bad=0 stats_retry_bad=0 stats_slowest=0
flood_end=$(($(now_ms) + FLOOD_S * 1000))
for ((i = 0; i < 1000 && $(now_ms) < flood_end; i++)); do
	if [ "$(port_of $WRITE)" = $PG1 ]; then routed=$((routed + 1)); else routed_bad=$((routed_bad + 1)); fi
	t0=$(now_ms)
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$STATS/stats.json")
	dt=$(($(now_ms) - t0))
	[ $dt -gt $stats_slowest ] && stats_slowest=$dt
	if [ "$code" = 200 ]; then stats_ok=$((stats_ok + 1)); else
		# the router makes room by closing connections that have not sent a
		# whole request yet, and a new client's can be one of them: it
		# retries once, as a browser or a checker does
		stats_bad=$((stats_bad + 1))
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$STATS/stats.json")
		[ "$code" = 200 ] || stats_retry_bad=$((stats_retry_bad + 1))
	fi
done
diag "stats flood: $routed routed connections, $stats_ok stats answers (slowest ${stats_slowest} ms), flood open $(flood_field open), reopened $(flood_field reopened), slow bytes $(flood_field bytes)"
check "stats flood: every new routed connection reached the primary ($routed, $routed_bad failed)" \
	[ "$routed" -ge 5 -a "$routed_bad" = 0 ]
check "stats flood: the stats page answered 200 every time, at most 1% after one retry ($stats_ok, $stats_bad retried, $stats_retry_bad failed again, slowest ${stats_slowest} ms)" \
	[ "$stats_ok" -ge 5 -a "$stats_retry_bad" = 0 -a $((stats_bad * 100)) -le "$stats_ok" ]
wait $held_pid
check "stats flood: a session held through the router lived through the flood" grep -q 'held session ok' "$W/flood-held.out"
evicted_after=$(json '$j->{stats_evicted}')
check "stats flood: the router made room by closing incomplete stats connections (${evicted_before:-?} -> ${evicted_after:-?})" \
	[ "${evicted_after:-0}" -gt "${evicted_before:-0}" ]
check "stats flood: the flood kept its connections open to the end ($(flood_field open))" [ "$(flood_field open)" -ge 1000 ]
kill -TERM $FLOOD_PID 2>/dev/null
wait_until 100 0.1 sh -c "! kill -0 $FLOOD_PID 2>/dev/null"
check "stats flood: the router survived" kill -0 $ROUTER_PID
check "stats flood: the stats page answers after the flood" wait_until 30 0.1 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://127.0.0.1:$STATS/stats.json)\" = 200 ]"
