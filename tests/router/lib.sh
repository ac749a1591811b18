# lib.sh - helpers for the router's integration test and bench: a real
# ZooKeeper (scripts/zk.sh), real pg_ha nodes (PostgreSQL 15 with the agent,
# run by pg_ha_supervisor or by scripts/run-node.sh), all as the postgres
# user under a mktemp directory; bounded waits; cleanup of what we started,
# by PID.  Source it; it sets no traps itself (the caller owns cleanup order).

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
LIB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STARTED_PIDS=()			# processes we started, killed by PID at cleanup
STARTED_SUP=()			# node directories of supervisors we started
STARTED_NODES=()		# node directories started with scripts/run-node.sh
STARTED_ZK=()			# ZooKeeper directories we started

as_pg() { runuser -u postgres -- "$@"; }

# make_workdir PREFIX -> prints a fresh /tmp/pgha-router-PREFIX-XXXX owned by postgres
make_workdir() {
	local dir
	dir=$(mktemp -d "/tmp/pgha-router-$1-XXXXXX") || return 1
	chown postgres "$dir" && chmod 755 "$dir"
	echo "$dir"
}

# ---- ZooKeeper (Debian's zookeeper package, via scripts/zk.sh) ----------

zk_start() {	# DIR PORT
	as_pg "$LIB_ROOT/scripts/zk.sh" start "$1" "$2" >"$1.log" 2>&1 || { cat "$1.log" >&2; return 1; }
	STARTED_ZK+=("$1")
}

zk_stop_started() {
	local dir
	for dir in "${STARTED_ZK[@]}"; do
		as_pg "$LIB_ROOT/scripts/zk.sh" stop "$dir" >/dev/null 2>&1
	done
	STARTED_ZK=()
}

# ---- nodes run by pg_ha_supervisor (what production runs) -------------

# sup_conf DIR NAME PORT API_PORT ZK_HOSTS : writes DIR/node.conf; extra
# node.conf lines on stdin are appended.  Password auth (scram), as initdb
# sets it up under the supervisor: export PGPASSWORD=$SUP_PASSWORD to connect.
SUP_PASSWORD=router-test-secret
sup_conf() {
	local dir=$1 name=$2 port=$3 api=$4 zk=$5
	mkdir -p "$dir"
	{
		cat <<CONF
name = $name
scope = pg_ha_router_test
zk_hosts = $zk
data_dir = $dir/data
listen_addresses = 127.0.0.1
port = $port
connect_address = 127.0.0.1:$port
api_listen = 127.0.0.1:$api
superuser = postgres
superuser_password = $SUP_PASSWORD
replication_user = replicator
replication_password = rep-$SUP_PASSWORD
ttl = 6
loop_wait = 1
retry_timeout = 3
log_file = $dir/postgres.log
pg.unix_socket_directories = '$dir'
pg.wal_keep_size = 256MB
pg.max_wal_senders = 10
pg.shared_buffers = 32MB
pg.fsync = off
pg.synchronous_commit = off
pg.full_page_writes = off
hba = host all all 127.0.0.1/32 scram-sha-256
hba = host replication replicator 127.0.0.1/32 scram-sha-256
CONF
		cat
	} >"$dir/node.conf"
	chown -R postgres "$dir"
}

sup_pid() { cat "$1/sup.pid" 2>/dev/null; }

# sup_start DIR : starts pg_ha_supervisor -c DIR/node.conf as postgres; its
# own PID (not runuser's) goes to DIR/sup.pid
sup_start() {
	local dir=$1
	rm -f "$dir/sup.pid"
	as_pg bash -c "echo \$\$ > '$dir/sup.pid'; exec '$PG_BIN/pg_ha_supervisor' -c '$dir/node.conf' >> '$dir/sup.log' 2>&1" &
	wait_until 50 0.1 test -s "$dir/sup.pid" || return 1
	STARTED_SUP+=("$dir")
}

postmaster_pid() {	# DIR -> the live postmaster's PID of the node in DIR
	local pid
	pid=$(head -1 "$1/data/postmaster.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# sup_stop DIR [SIGNAL] : signals the supervisor (default INT: fast
# shutdown), waits for it (bounded); if it does not exit, kills it and stops
# its postgres immediately
sup_stop() {
	local dir=$1 sig=${2:-INT} pid
	pid=$(sup_pid "$dir")
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "-$sig" "$pid"
		wait_until 600 0.1 sh -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null
	fi
	if postmaster_pid "$dir" >/dev/null; then
		as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1
	fi
}

sup_stop_started() {
	local dir
	for dir in "${STARTED_SUP[@]}"; do sup_stop "$dir" INT; done
	STARTED_SUP=()
}

# ---- unsupervised nodes (scripts/run-node.sh; trust auth) ---------------

node_init_primary() {	# DIR NAME PORT API_PORT ZK_HOSTS [conf lines...]
	"$LIB_ROOT/scripts/run-node.sh" init-primary "$@" >"$1.init.log" 2>&1 || { cat "$1.init.log" >&2; return 1; }
}

node_start() {	# DIR
	"$LIB_ROOT/scripts/run-node.sh" start "$1" || { tail -20 "$1/postgres.log" >&2; return 1; }
	STARTED_NODES+=("$1")
}

node_stop_started() {
	local dir
	for dir in "${STARTED_NODES[@]}"; do "$LIB_ROOT/scripts/run-node.sh" stop "$dir" >/dev/null 2>&1; done
	STARTED_NODES=()
}

# ---- processes, waits, probes --------------------------------------------

# start_bg LOGFILE CMD... : runs CMD in the background, records its PID in BG_PID
start_bg() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 &
	BG_PID=$!
	STARTED_PIDS+=("$BG_PID")
}

# start_hostile_endpoint PORT MODEFILE : not an agent: an HTTP port that
# answers every request with garbage ("garbage" in MODEFILE), with 404
# ("notfound") or accepts and never answers ("hang"), to test the router's
# checks and watch against broken APIs.
# Exits by itself after 15 minutes at the latest.
start_hostile_endpoint() {
	start_bg "$2.log" perl -MIO::Socket::INET -e '
		my ($port, $modefile) = @ARGV;
		$SIG{PIPE} = "IGNORE";
		alarm 900;
		my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $port, Listen => 64,
			ReuseAddr => 1) or die "listen $port: $!\n";
		my @hung;
		while (my $c = $l->accept) {
			open(my $fh, "<", $modefile); my $mode = <$fh> // ""; close $fh; chomp $mode;
			if ($mode eq "hang") { push @hung, $c; shift @hung while @hung > 50; next; }
			sysread($c, my $req, 4096);
			print $c ($mode eq "notfound" ? "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n" : "garbage\r\n\r\n");
			close $c;
		}' "$1" "$2"
	wait_until 50 0.1 port_open "$1"
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
		[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${STARTED_PIDS[@]}"; do
		[ -n "$pid" ] || continue
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	done
	STARTED_PIDS=()
}
