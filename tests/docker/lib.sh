# What the docker lab's tests (walkthrough.sh, faults.sh, ensemble.sh) ask the
# containers: psql from the host and inside a container, the agents' health
# answers, the router's stats page.  Sourced by run.sh.

psql_host() { local port=$1; shift; psql -X -q -t -A -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"; }
# psql inside a container, as the lab does (docker exec -it pg-slave psql -h 127.0.0.1 ...)
psql_in() { local c=$1; shift; podman exec -e PGPASSWORD=postgres -e PGCONNECT_TIMEOUT=3 "$c" psql -X -q -t -A -h 127.0.0.1 -p 5432 -U postgres -d postgres "$@" 2>&1 | grep -v 'failed to connect to syslog'; return "${PIPESTATUS[0]}"; }
api() { podman exec "$1" curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:8008$2" 2>/dev/null; }
api_is() { [ "$(api "$1" "$2")" = 200 ]; }
in_recovery_is() { [ "$(psql_in "$1" -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = "$2" ]; }
stats_status() { curl -s -m 2 http://127.0.0.1:$STATS_PORT/ | grep -o "data-service=\"write\" data-node=\"$1\" data-status=\"[A-Z]*\"" | sed 's/.*data-status="\([A-Z]*\)"/\1/'; }
stats_is() { [ "$(stats_status "$1")" = "$2" ]; }
write_via_router() { psql_host $ROUTER_PORT -c "INSERT INTO t1(txt) VALUES ('$1')"; }
streams_from() { # $1 replica container, $2 upstream host
	[ "$(psql_in "$1" -c "SELECT status || ' ' || (regexp_match(conninfo, 'host=([^ ]+)'))[1] FROM pg_stat_wal_receiver")" = "streaming $2" ]
}
slot_active() { [ "$(psql_in "$1" -c "SELECT active FROM pg_replication_slots WHERE slot_name = '$2'")" = t ]; }
# a ZooKeeper container's mode (standalone, leader, follower), from srvr on its client port
zk_mode() { podman exec "$1" bash -c 'exec 3<>/dev/tcp/127.0.0.1/2181; printf srvr >&3; cat <&3' 2>/dev/null | sed -n 's/^Mode: //p'; }
