# The lab walkthrough (DESIGN.md, section 2; issue 5), step for step.
# Sourced by run.sh: uses its pc, ok/fail/check, wait_for, now/elapsed, and lib.sh.

t_up=$(now)
if pc up --build -d pg-master pg-slave zoo router > /tmp/pgha_test_up.log 2>&1; then
	ok "podman-compose up --build -d ($(elapsed "$t_up") s)"
else
	fail "podman-compose up --build -d (see /tmp/pgha_test_up.log)"; tail -20 /tmp/pgha_test_up.log | sed 's/^/# /'; exit 1
fi

t_ready=$(now)
check "pg-master is the leader (GET /master = 200)" wait_for 120 api_is pg-master /master
check "pg-slave is a replica (GET /replica = 200)" wait_for 120 api_is pg-slave /replica
check "pg-slave is the synchronous standby (GET /sync = 200)" wait_for 30 api_is pg-slave /sync
note "cluster ready $(elapsed "$t_ready") s after up"

# the lab's use_slots and archive_mode: pg-slave streams through its slot,
# both nodes archive into the shared archive volume
check "pg-master keeps a replication slot for pg-slave (postgresql1), in use" wait_for 60 slot_active pg-master postgresql1
archived() { # $1 container: it archived a segment and none failed
	psql_in "$1" -c 'SELECT pg_switch_wal()' >/dev/null 2>&1
	[ "$(psql_in "$1" -c 'SELECT archived_count > 0 AND failed_count = 0 FROM pg_stat_archiver')" = t ]
}
check "pg-master archives WAL into the shared archive (none failed)" wait_for 60 archived pg-master

logs_master=$(podman logs pg-master 2>&1); logs_slave=$(podman logs pg-slave 2>&1)
check "logs: pg-master leads" grep -qE 'starting as primary|acquired the leader key' <<<"$logs_master"
check "logs: pg-slave is a replica" grep -qE 'starting as a standby' <<<"$logs_slave"
grep -E 'starting as primary|acquired the leader key' <<<"$logs_master" | head -2 | sed 's/^/#   pg-master: /'
grep -E 'starting as a standby' <<<"$logs_slave" | head -2 | sed 's/^/#   pg-slave: /'

check "stats page on 7000: pg-master UP for writes" wait_for 30 stats_is pg-master UP
check "stats page on 7000: pg-slave DOWN for writes" wait_for 30 stats_is pg-slave DOWN

check "create t1 and write a row through 5432" wait_for 30 psql_host $ROUTER_PORT \
	-c "CREATE TABLE IF NOT EXISTS t1(id serial PRIMARY KEY, txt text)" -c "INSERT INTO t1(txt) VALUES ('before_failover')"
row_on_slave() { [ "$(psql_host $PG_SLAVE_PORT -c "SELECT count(*) FROM t1 WHERE txt = 'before_failover'")" = 1 ]; }
check "the row is read on pg-slave (5434)" wait_for 10 row_on_slave
err=$(psql_host $PG_SLAVE_PORT -c "INSERT INTO t1(txt) VALUES ('on_replica')" 2>&1)
check "INSERT on pg-slave fails: read-only transaction" grep -q 'cannot execute INSERT in a read-only transaction' <<<"$err"

# failover
t_stop=$(now)
podman stop -t 30 pg-master >/dev/null 2>&1
note "podman stop pg-master took $(elapsed "$t_stop") s"
podman logs --since 60s pg-master 2>&1 | grep -v "failed to connect to syslog" | tail -8 | cut -c1-220 | sed "s/^/#   pg-master: /"
check "pg-slave: pg_is_in_recovery() = f" wait_for 60 in_recovery_is pg-slave f
if wait_for 60 write_via_router after_failover_write; then
	failover_s=$(elapsed "$t_stop")
	ok "INSERT 'after_failover_write' through 5432 succeeds"
	note "time from podman stop pg-master to the first successful write: $failover_s s"
else
	fail "INSERT 'after_failover_write' through 5432 succeeds"
fi
check "stats page: pg-slave UP for writes" wait_for 30 stats_is pg-slave UP

# the old primary comes back as a replica
podman start pg-master >/dev/null 2>&1
t_start=$(now)
check "pg-master: pg_is_in_recovery() = t after start" wait_for 90 in_recovery_is pg-master t
check "pg-master streams from pg-slave" wait_for 60 streams_from pg-master pg-slave
check "pg-master streams through its slot on pg-slave (postgresql0)" wait_for 60 slot_active pg-slave postgresql0
note "pg-master rejoined $(elapsed "$t_start") s after start"
has_rows() { [ "$(psql_host $PG_MASTER_PORT -c "SELECT count(*) FROM t1 WHERE txt IN ('before_failover','after_failover_write')")" = 2 ]; }
check "pg-master has both rows" wait_for 10 has_rows
