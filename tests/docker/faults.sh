# Partition and freeze of the primary, and the haproxy profile (issue 5).
# Sourced by run.sh after walkthrough.sh (pg-slave leads, pg-master replicates).

net=${project}_default
other_of() { [ "$1" = pg-master ] && echo pg-slave || echo pg-master; }
leader_once() { local c; for c in pg-master pg-slave; do api_is "$c" /master && { echo "$c"; return 0; }; done; return 1; }
# the leader, polled for up to 30 s (the previous step may just have ended)
leader_now() { local i; for ((i = 0; i < 150; i++)); do leader_once && return 0; sleep 0.2; done; return 1; }
# writer inside a container: one INSERT per 0.2 s for $3 s, each acknowledged one logged with its time
writer_in() { # $1 container, $2 tag, $3 seconds -> prints "ack <time>" lines
	podman exec -e PGPASSWORD=postgres -e TAG="$2" -e SECS="$3" "$1" bash -c '
		end=$(( $(date +%s) + SECS )); i=0
		while [ "$(date +%s)" -lt "$end" ] && [ $i -lt 1000 ]; do
			i=$((i+1))
			if timeout 2 psql -X -q -h 127.0.0.1 -U postgres -d postgres -c "INSERT INTO t1(txt) VALUES ('"'"'$TAG$i'"'"')" >/dev/null 2>&1; then
				echo "ack $(date +%s.%N)"; fi
			sleep 0.2
		done' 2>/dev/null | grep '^ack'
}
dump_logs() { local c; for c in "$@"; do podman logs --since 40s "$c" 2>&1 | grep -v 'failed to connect to syslog' | tail -12 | cut -c1-220 | sed "s/^/#   $c: /"; done; }
writer_router() { # $1 tag, $2 seconds
	local end=$(( $(date +%s) + $2 )) i=0
	while [ "$(date +%s)" -lt "$end" ] && [ $i -lt 1000 ]; do
		i=$((i+1))
		timeout 2 psql -X -q -h 127.0.0.1 -p "$ROUTER_PORT" -U postgres -d postgres \
			-c "INSERT INTO t1(txt) VALUES ('$1$i')" >/dev/null 2>&1 && echo "ack $(date +%s.%N)"
		sleep 0.2
	done
}
# no overlap: the old primary's last acknowledgement comes before the new primary's first
no_overlap() { # $1 file of the old side, $2 file of the new side
	local last_old first_new
	last_old=$(awk '{print $2}' "$1" | sort -n | tail -1); first_new=$(awk '{print $2}' "$2" | sort -n | head -1)
	note "old primary: $(wc -l < "$1") acks, last $last_old; via router: $(wc -l < "$2") acks, first after the cut ${first_new:-none}"
	[ -z "$last_old" ] || [ -z "$first_new" ] || awk -v a="$last_old" -v b="$first_new" 'BEGIN{exit !(a < b)}'
}
# a refusal is an error from postgres or a refused connection, not a write left hanging
# (in synchronous mode a cut-off primary would block a commit rather than fail it)
refuses_write() {
	local out rc
	out=$(timeout 4 podman exec -e PGPASSWORD=postgres -e PGCONNECT_TIMEOUT=2 "$1" psql -X -q -h 127.0.0.1 -U postgres -d postgres \
		-c "INSERT INTO t1(txt) VALUES ('must_not_ack')" 2>&1); rc=$?
	[ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $rc -ne 137 ] || return 1
	refusal=$(grep -v 'failed to connect to syslog' <<<"$out" | head -1)
}
rejoined() { in_recovery_is "$1" t && streams_from "$1" "$2"; }
# a healthy cluster before a fault: the replica is the confirmed synchronous
# standby (in synchronous mode only it may take over: S2)
sync_ready() { api_is "$1" /sync; }
# when $1 took the leader key after $2 (epoch seconds), from its own log: the
# moment it leads, without the polling delay of `podman exec`
took_key_at() {
	local ts
	ts=$(podman logs --since "$(date -u -d "@${2%.*}" +%Y-%m-%dT%H:%M:%SZ)" "$1" 2>&1 |
		grep 'acquired the leader key' | tail -1 | grep -o '20[0-9-]*T[0-9:.]*' | head -1)
	[ -n "$ts" ] && TZ=UTC date -d "$ts" +%s.%N
}

# ---------------------------------------------------------------- partition
old=$(leader_now) || old=""
if [ -z "$old" ]; then fail "partition: a leader before the test"; else
	new=$(other_of "$old")
	check "partition: before the cut $new is the confirmed synchronous standby" wait_for 30 sync_ready "$new"
	tmp_old=$(mktemp); tmp_new=$(mktemp)
	writer_in "$old" old_side_ 25 > "$tmp_old" &
	w1=$!
	wait_for 10 test -s "$tmp_old"	# the writer on the old primary got its first acknowledgement
	t_cut=$(now)
	podman network disconnect "$net" "$old" >/dev/null 2>&1
	writer_router router_side_ 24 > "$tmp_new" &
	w2=$!
	# retry_timeout (5 s) after the cut it fences itself; allow a loop_wait and a check
	if wait_for 8 refuses_write "$old"; then
		ok "partition: cut-off $old refuses writes from inside its container within retry_timeout"
		note "partition: $old refused writes $(elapsed "$t_cut") s after the cut: $refusal"
	else fail "partition: cut-off $old refuses writes from inside its container within retry_timeout"; dump_logs "$old"; fi
	if wait_for 20 api_is "$new" /master && at=$(took_key_at "$new" "$t_cut"); then
		took=$(awk -v a="$t_cut" -v b="$at" 'BEGIN{printf "%.2f", b-a}')
		note "partition: $new took the leader key $took s after the cut (its log)"
		check "partition: $new takes over within ttl + 1 s (11 s): $took s" awk -v t="$took" 'BEGIN{exit !(t <= 11)}'
	else
		fail "partition: $new takes over within ttl + 1 s (11 s)"; dump_logs "$new"
	fi
	check "partition: the router sends writes to $new" wait_for 15 stats_is "$new" UP
	wait $w1 $w2
	# acks through the router before the cut went to the old primary: only count those after it
	awk -v t="$t_cut" '$2 > t' "$tmp_new" > "$tmp_new.after"
	old_after=$(awk -v t="$t_cut" '$2 > t + 0.5' "$tmp_old" | wc -l)
	check "partition: no two nodes acknowledge writes at the same time" no_overlap "$tmp_old" "$tmp_new.after"
	podman network connect "$net" "$old" >/dev/null 2>&1
	t_re=$(now)
	check "partition: $old rejoins as a replica of $new after reconnect" wait_for 90 rejoined "$old" "$new"
	note "partition: rejoined $(elapsed "$t_re") s after reconnect"
	rm -f "$tmp_old" "$tmp_new" "$tmp_new.after"
fi

# ---------------------------------------------------------------- freeze
old=$(leader_now) || old=""
if [ -z "$old" ]; then fail "freeze: a leader before the test"; else
	new=$(other_of "$old")
	check "freeze: before the pause $new is the confirmed synchronous standby" wait_for 30 sync_ready "$new"
	t_pause=$(now)
	podman pause "$old" >/dev/null 2>&1
	check "freeze: $new takes over while $old is paused" wait_for 30 api_is "$new" /master || dump_logs "$new"
	note "freeze: $new leads $(elapsed "$t_pause") s after the pause"
	check "freeze: writes through the router succeed" wait_for 20 write_via_router after_freeze_write
	sleep 3   # the fault's length: paused for longer than ttl (10 s), past the takeover
	podman unpause "$old" >/dev/null 2>&1
	note "freeze: $old unpaused after $(elapsed "$t_pause") s"
	# a writer inside the unpaused container records every acknowledgement
	tmp_old=$(mktemp)
	writer_in "$old" frozen_side_ 8 > "$tmp_old"
	check "freeze: unpaused $old acknowledges no write ($(wc -l < "$tmp_old") acks in 8 s of trying)" [ ! -s "$tmp_old" ]
	rm -f "$tmp_old"
	check "freeze: $old rejoins as a replica of $new" wait_for 90 rejoined "$old" "$new" || dump_logs "$old" "$new"
fi

# ---------------------------------------------------------------- haproxy profile
hap_status() { curl -s -m 2 "http://127.0.0.1:$HAPROXY_STATS_PORT/;csv" | awk -F, -v s="$1" '$1=="postgres" && $2==s {print $18}'; }
hap_is() { [ "$(hap_status "$1")" = "$2" ]; }
hap_name() { echo "postgresql_${1//-/_}_5432"; }
if pc up -d haproxy >> /tmp/pgha_test_up.log 2>&1; then ok "haproxy profile: HAProxy with the lab's haproxy.cfg is up"; else fail "haproxy profile: up"; fi
lead=$(leader_now) || lead=pg-slave
rep=$(other_of "$lead")
check "haproxy stats: $lead UP" wait_for 30 hap_is "$(hap_name "$lead")" UP
check "haproxy stats: $rep DOWN" wait_for 30 hap_is "$(hap_name "$rep")" DOWN
write_via_haproxy() { timeout 5 psql -X -q -h 127.0.0.1 -p "$HAPROXY_PORT" -U postgres -d postgres -c "INSERT INTO t1(txt) VALUES ('$1')"; }
check "haproxy: a write through HAProxy succeeds" wait_for 20 write_via_haproxy via_haproxy
t_stop=$(now)
podman stop -t 30 "$lead" >/dev/null 2>&1
if wait_for 60 write_via_haproxy after_failover_haproxy; then
	ok "haproxy: after podman stop $lead, a write through HAProxy succeeds"
	note "haproxy: time from stop to the first successful write through HAProxy: $(elapsed "$t_stop") s"
else fail "haproxy: after podman stop $lead, a write through HAProxy succeeds"; fi
check "haproxy stats: $rep UP" wait_for 30 hap_is "$(hap_name "$rep")" UP
podman start "$lead" >/dev/null 2>&1
check "haproxy: $lead rejoins as a replica" wait_for 90 rejoined "$lead" "$rep"
check "haproxy stats: $lead DOWN" wait_for 30 hap_is "$(hap_name "$lead")" DOWN
