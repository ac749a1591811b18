#!/usr/bin/env bash
# Creates and starts one PostgreSQL 15 node with pg_ha loaded, as the
# postgres user.  Used by the test runner and the local cluster.
#
#   scripts/run-node.sh init-primary DIR NAME PORT API_PORT ZK_HOSTS [extra conf lines...]
#   scripts/run-node.sh init-replica DIR NAME PORT API_PORT ZK_HOSTS PRIMARY_PORT [extra...]
#   scripts/run-node.sh start|stop DIR
set -euo pipefail
export PATH=/usr/lib/postgresql/15/bin:$PATH

as_pg() { if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi; }

pg_ha_conf() {
	local name=$1 port=$2 api=$3 zk=$4 dir=$5
	shift 5
	cat <<CONF
# --- written by scripts/run-node.sh ---
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
shared_preload_libraries = 'pg_ha'
wal_level = replica
hot_standby = on
max_wal_senders = 10
max_replication_slots = 10
wal_keep_size = '128MB'
max_slot_wal_keep_size = '1GB'
wal_log_hints = on
logging_collector = off
pg_ha.name = '$name'
pg_ha.zk_hosts = '$zk'
pg_ha.api_listen = '127.0.0.1:$api'
pg_ha.connect_address = '127.0.0.1:$port'
CONF
	for line in "$@"; do echo "$line"; done
	# the cluster's dynamic configuration (/config), then what the agent
	# changes at run time (primary_conninfo, synchronous_standby_names)
	echo "include_if_exists 'pg_ha.dynamic.conf'"
	echo "include_if_exists 'pg_ha.runtime.conf'"
}

cmd=${1:?usage: see the header of this script}
dir=${2:?missing DIR}
case $cmd in
init-primary)
	name=$3 port=$4 api=$5 zk=$6
	shift 6
	mkdir -p "$dir"
	chown postgres:postgres "$dir"
	as_pg initdb -D "$dir/data" -U postgres -A trust --no-sync > "$dir/initdb.log"
	pg_ha_conf "$name" "$port" "$api" "$zk" "$dir" "$@" >> "$dir/data/postgresql.conf"
	echo "host replication all 127.0.0.1/32 trust" >> "$dir/data/pg_hba.conf"
	;;
init-replica)
	name=$3 port=$4 api=$5 zk=$6 primary_port=$7
	shift 7
	mkdir -p "$dir"
	chown postgres:postgres "$dir"
	as_pg pg_basebackup -h 127.0.0.1 -p "$primary_port" -U postgres -D "$dir/data" \
		-X stream --no-sync --checkpoint=fast
	# a standby of the primary; the agent rewrites the file when the leader changes
	as_pg touch "$dir/data/standby.signal"
	as_pg bash -c "printf \"primary_conninfo = 'host=127.0.0.1 port=%s user=postgres application_name=%s'\nrecovery_target_timeline = 'latest'\n\" $primary_port $name > '$dir/data/pg_ha.runtime.conf'"
	# the clone carries the primary's settings: replace ours at the end
	sed -i '/^# --- written by scripts\/run-node.sh ---$/,$d' "$dir/data/postgresql.conf"
	pg_ha_conf "$name" "$port" "$api" "$zk" "$dir" "$@" >> "$dir/data/postgresql.conf"
	;;
start)
	as_pg pg_ctl -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start > /dev/null
	;;
stop)
	[ -f "$dir/data/postmaster.pid" ] || exit 0
	as_pg pg_ctl -D "$dir/data" -m fast -w -t 60 stop > /dev/null
	;;
*)
	echo "run-node.sh: unknown command $cmd" >&2
	exit 2
	;;
esac
