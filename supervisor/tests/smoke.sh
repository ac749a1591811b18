#!/usr/bin/env bash
# Smoke test of pg_ha_supervisor with a real ZooKeeper and real PostgreSQL 15
# nodes on loopback: bootstrap, clone, SIGTERM hand-over, rejoin without
# pg_rewind, crash restart of a replica, a hand-over request, kill -9 of the
# primary (fail-over + rejoin), bad configuration, a data directory of
# another cluster.  Steps that need the agent's promotion logic say so.
# Not part of the test command (scripts/test.sh); the failure paths it
# once had (interrupted pg_rewind and clone) are in
# tests/t/058_failure_paths.pl, which is, with real faults.
#
#   supervisor/tests/smoke.sh            (as root: servers run as postgres)
#   SMOKE_KEEP=1 supervisor/tests/smoke.sh   keeps the directory and the
#                                        last processes (to read the logs)
#
# Needs: the extension installed (make install), supervisor built (make -C
# supervisor), curl.  Uses ports BASE_PORT..BASE_PORT+20 (default 17440) and
# a scratch directory (default /tmp/pgha-sup-smoke), removed at the end.
# Every wait is bounded; only processes it started are stopped, by PID.
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
repo=$(cd "$here/.." && pwd)
BASE_PORT=${BASE_PORT:-17440}
DIR=${SMOKE_DIR:-/tmp/pgha-sup-smoke}
ZK_PORT=$((BASE_PORT + 1))
BIN=/usr/lib/postgresql/15/bin
passed=0
failed=0

as_pg() { if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi; }
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }

# wait_for SECONDS COMMAND...: polls every 0.2 s
wait_for() {
	local t=$1; shift
	local n=$((t * 5))
	for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.2; done
	return 1
}

pgport() { echo $((BASE_PORT + 10 + $1)); }
apiport() { echo $((BASE_PORT + 20 + $1)); }
sup_pid() { cat "$DIR/n$1/sup.pid" 2>/dev/null; }
alive() { local p; p=$(sup_pid "$1"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
log_has() { grep -q -- "$2" "$DIR/n$1/sup.log"; }
psql_n() { local n=$1; shift; as_pg "$BIN/psql" -X -h "$DIR/n$n" -p "$(pgport "$n")" -U postgres -d postgres -Atq "$@" 2>/dev/null; }
role_is() { curl -s "http://127.0.0.1:$(apiport "$1")/patroni" | grep -q "\"role\":\"$2\""; }
# streams LEADER N: node N is a running replica and LEADER streams to it
streams() {
	role_is "$2" replica &&
		[ "$(psql_n "$1" -c "select count(*) from pg_stat_replication where application_name = 'node$2' and state = 'streaming'")" = 1 ]
}
in_recovery() { [ "$(psql_n "$1" -c 'select pg_is_in_recovery()')" = "$2" ]; }

write_conf() {
	local n=$1
	mkdir -p "$DIR/n$n"
	cat > "$DIR/n$n/node.conf" <<CONF
name = node$n
scope = smoke
zk_hosts = 127.0.0.1:$ZK_PORT
data_dir = $DIR/n$n/data
listen_addresses = 127.0.0.1
port = $(pgport "$n")
connect_address = 127.0.0.1:$(pgport "$n")
api_listen = 127.0.0.1:$(apiport "$n")
superuser_password = 'it''s secret'
replication_password = rep-pass
ttl = 10
loop_wait = 1
retry_timeout = 5
pg.unix_socket_directories = '$DIR/n$n'
pg.wal_keep_size = 128MB
CONF
	chown -R postgres "$DIR/n$n"
}

start_node() {
	local n=$1
	as_pg bash -c "echo \$\$ > '$DIR/n$n/sup.pid'; exec '$here/pg_ha_supervisor' -c '$DIR/n$n/node.conf' >> '$DIR/n$n/sup.log' 2>&1" &
	wait_for 5 test -s "$DIR/n$n/sup.pid"
}

# stop_node N SIGNAL: signals the supervisor, waits for it to exit (bounded)
stop_node() {
	local p; p=$(sup_pid "$1")
	[ -n "$p" ] && kill -0 "$p" 2>/dev/null || return 0
	kill "-$2" "$p"
	wait_for 60 bash -c "! kill -0 $p 2>/dev/null"
}

cleanup() {
	[ -n "${SMOKE_KEEP:-}" ] && { echo "kept $DIR (SMOKE_KEEP)"; return; }
	for n in 1 2 3; do stop_node "$n" INT >/dev/null 2>&1; done
	as_pg "$repo/scripts/zk.sh" stop "$DIR/zk" >/dev/null 2>&1
	rm -rf "$DIR"
}
trap cleanup EXIT

[ -x "$here/pg_ha_supervisor" ] || { echo "build it first: make -C supervisor" >&2; exit 2; }
rm -rf "$DIR"
mkdir -p "$DIR"
chown postgres "$DIR"
as_pg "$repo/scripts/zk.sh" start "$DIR/zk" "$ZK_PORT" >/dev/null || { echo "ZooKeeper did not start" >&2; exit 1; }

# 1. bootstrap from an empty directory, then a clone
write_conf 1
write_conf 2
start_node 1
check "node1 bootstraps as primary" wait_for 60 role_is 1 master
check "node1 logs the initialize race" log_has 1 "bootstrap: won the initialize key"
check "replication user created" test "$(psql_n 1 -c "select rolreplication from pg_roles where rolname = 'replicator'")" = t
check "postgresql.conf ends with the two includes" bash -c "tail -2 '$DIR/n1/data/postgresql.conf' | tr '\n' '|' | grep -q \"^include_if_exists 'pg_ha.conf'|include_if_exists 'pg_ha.runtime.conf'|\$\""
start_node 2
check "node2 clones and streams" wait_for 60 streams 1 2
check "node2 logs the clone" log_has 2 'bootstrap: cloned from "node1"'
psql_n 1 -c "create table t(x int); insert into t values (1)"

# 2. SIGTERM of the leader: hand-over, exit 0
stop_node 1 TERM
check "node1's supervisor exits after SIGTERM" bash -c "! kill -0 $(sup_pid 1) 2>/dev/null"
check "node1 released the leader key after confirmation" log_has 1 "confirmed .*, releasing the leader key"
check "node2 is promoted (agent)" wait_for 20 in_recovery 2 f
psql_n 2 -c "insert into t values (2)"

# 3. the old primary comes back: rejoins without pg_rewind
start_node 1
check "node1 rejoins with no rewind" wait_for 60 log_has 1 'rejoin: following "node2", no rewind needed'
check "node1 streams from node2" wait_for 60 streams 2 1

# 4. kill -9 of a replica's postmaster: restarted in place
pm=$(head -1 "$DIR/n1/data/postmaster.pid")
kill -9 "$pm"
check "replica crash is restarted in place" wait_for 20 log_has 1 "crash: restarting postgres in place"
check "node1 streams again" wait_for 60 streams 2 1

# 5. a hand-over request written by hand on the leader (node2 -> node1)
as_pg bash -c "printf 'action = handover\nleader = node1\nconninfo = host=127.0.0.1 port=$(pgport 1)\napi_url = http://127.0.0.1:$(apiport 1)/patroni\nreason = smoke\n' > '$DIR/n2/data/pg_ha.request'"
kill -USR1 "$(sup_pid 2)"
check "node2 hands over to node1" wait_for 30 log_has 2 'handover: starting as a standby of "node1"'
check "node1 is promoted (agent)" wait_for 20 in_recovery 1 f
check "node2 streams from node1" wait_for 60 streams 1 2
check "the request file was consumed" test ! -e "$DIR/n2/data/pg_ha.request"

# 6. kill -9 of the primary's postmaster: fail-over (agent), the old primary rejoins
psql_n 1 -c "insert into t values (3)"
# asynchronous replication: make sure the replica has the row before the crash
wait_for 20 test "$(psql_n 2 -c 'select count(*) from t')" = 3
pm=$(head -1 "$DIR/n1/data/postmaster.pid")
kill -9 "$pm"
check "node1's supervisor sees the new leader and rejoins" wait_for 30 log_has 1 'crash: "node2" leads now; rejoining it'
check "node2 is primary (agent)" wait_for 20 in_recovery 2 f
check "node1 streams from node2 again" wait_for 60 streams 2 1
check "no acknowledged row lost" test "$(psql_n 2 -c "select string_agg(x::text, ',' order by x) from t")" = "1,2,3"

# 7. bad configuration: exit 2, file and line named
mkdir -p "$DIR/bad" && printf 'name = x\nzk_hosts = 127.0.0.1:1\nconnect_address = h:1\nnope = 1\n' > "$DIR/bad/node.conf"
chown -R postgres "$DIR/bad"
out=$(as_pg "$here/pg_ha_supervisor" -c "$DIR/bad/node.conf" 2>&1); rc=$?
check "bad configuration exits 2" test "$rc" = 2
check "bad configuration names file and line" bash -c "echo '$out' | grep -q 'bad/node.conf:4: unknown key \"nope\"'"

# 8. a data directory of another cluster: refused, untouched
write_conf 3
as_pg "$BIN/initdb" -D "$DIR/n3/data" -N > /dev/null 2>&1
sum_before=$(md5sum < "$DIR/n3/data/global/pg_control")
out=$(as_pg timeout 60 "$here/pg_ha_supervisor" -c "$DIR/n3/node.conf" 2>&1); rc=$?
check "foreign data directory exits 1" test "$rc" = 1
check "foreign data directory is named as such" bash -c "echo '$out' | grep -q 'belongs to another cluster'"
check "foreign data directory untouched" test "$sum_before" = "$(md5sum < "$DIR/n3/data/global/pg_control")"

# 9. SIGINT: fast shutdown, exit 0
p=$(sup_pid 2)
stop_node 2 INT
check "SIGINT stops the supervisor" bash -c "! kill -0 $p 2>/dev/null"
check "SIGINT exit logged with code 0" log_has 2 "exiting (code 0)"

if [ "$failed" -gt 0 ]; then
	for n in 1 2; do echo "--- node$n log (last 40 lines)"; tail -40 "$DIR/n$n/sup.log"; done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
