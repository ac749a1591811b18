# lib.sh - helpers for the router's integration test and bench: real
# PostgreSQL 15 servers run as the postgres user under /tmp/pgha-router-*,
# the stand-in agent, bounded waits, and cleanup of what we started (by PID).
# Source it; it sets no traps itself (the caller owns cleanup order).

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
STANDIN_AGENT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/standin_agent.pl"
STARTED_PIDS=()			# processes we started, killed by PID at cleanup
STARTED_PGDATA=()		# data directories of servers we started

# make_workdir PREFIX -> prints a fresh /tmp/pgha-router-PREFIX-XXXX owned by postgres
make_workdir() {
	local dir
	dir=$(mktemp -d "/tmp/pgha-router-$1-XXXXXX") || return 1
	chown postgres "$dir" && chmod 755 "$dir"
	echo "$dir"
}

# pg_create DATADIR PORT [extra postgresql.conf lines...]
pg_create() {
	local data=$1 port=$2
	shift 2
	runuser -u postgres -- "$PG_BIN/initdb" -D "$data" -A trust -U postgres -N >"$data.initdb.log" 2>&1 || {
		cat "$data.initdb.log" >&2; return 1; }
	{
		echo "port = $port"
		echo "listen_addresses = '127.0.0.1'"
		echo "unix_socket_directories = '$data'"
		echo "fsync = off"
		echo "synchronous_commit = off"
		echo "full_page_writes = off"
		for line in "$@"; do echo "$line"; done
	} >>"$data/postgresql.conf"
}

pg_start() {
	local data=$1
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start >/dev/null || {
		tail -20 "$data/server.log" >&2; return 1; }
	STARTED_PGDATA+=("$data")
}

pg_stop() {
	local data=$1
	[ -f "$data/postmaster.pid" ] || return 0
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1
}

# start_bg LOGFILE CMD... : runs CMD in the background, records its PID in BG_PID
start_bg() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 &
	BG_PID=$!
	STARTED_PIDS+=("$BG_PID")
}

# start_agent PORT STATEFILE [--no-watch]  (TEMPORARY stand-in for the pg_ha agent)
start_agent() {
	local port=$1 state=$2
	shift 2
	start_bg "$state.log" perl "$STANDIN_AGENT" --port "$port" --state-file "$state" "$@"
	wait_until 50 0.1 http_status "http://127.0.0.1:$port/health" >/dev/null
}

# wait_until TRIES INTERVAL CMD... : runs CMD until it succeeds, at most TRIES times
wait_until() {
	local tries=$1 interval=$2 i
	shift 2
	for ((i = 0; i < tries; i++)); do
		"$@" && return 0
		sleep "$interval"
	done
	return 1
}

http_status() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$1"
}

port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

rss_kb() {
	awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null
}

now_ms() {
	date +%s%3N
}

# kill_started: every process we started, by PID, TERM then KILL (bounded)
kill_started() {
	local pid i
	for pid in "${STARTED_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${STARTED_PIDS[@]}"; do
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	done
	STARTED_PIDS=()
}

stop_started_servers() {
	local data
	for data in "${STARTED_PGDATA[@]}"; do
		pg_stop "$data"
	done
	STARTED_PGDATA=()
}
