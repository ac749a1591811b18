# The ensemble profile (docker/docker-compose.ensemble.yml): the lab
# walkthrough on three ZooKeeper servers and three nodes, then one
# ZooKeeper server (the ensemble's leader) stopped alone.  Which node leads
# is the bootstrap race's outcome: the walkthrough finds out, then stops the
# primary, the router follows, the old primary rejoins.
# Sourced by run.sh: uses its pce, ok/fail/check, wait_for, now/elapsed, and lib.sh.

ens_nodes=(pg-node1 pg-node2 pg-node3)
ens_zoos=(zoo1 zoo2 zoo3)
answering() { local c; for c in "${ens_nodes[@]}"; do [ "$(api "$c" "$1")" = 200 ] && echo "$c"; done; true; }
roles_settled() { [ "$(answering /master | wc -l)" = 1 ] && [ "$(answering /replica | wc -l)" = 2 ]; }
one_sync() { [ "$(answering /sync | wc -l)" = 1 ]; }
zk_modes() { local z; for z in "${ens_zoos[@]}"; do zk_mode "$z" || true; echo; done | grep . | sort | tr '\n' ' '; }
zk_modes_are() { [ "$(zk_modes)" = "$1" ]; }
zk_leader() { local z; for z in "${ens_zoos[@]}"; do [ "$(zk_mode "$z")" = leader ] && echo "$z"; done; true; }
has_row() { [ "$(psql_in "$1" -c "SELECT count(*) FROM t1 WHERE txt = '$2'")" = 1 ]; }
router_to() { [ "$(psql_host $ROUTER_PORT -c "INSERT INTO t1(txt) VALUES ('$2')" -c 'SELECT inet_server_addr()')" = "$(container_ip "$1")" ]; }
container_ip() { podman inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1" 2>/dev/null; }

# after the default project, its up --build has just built the same image from this tree
build=--build
[ -n "${image_built:-}" ] && build=
t_up=$(now)
if pce up $build -d > /tmp/pgha_ensemble_up.log 2>&1; then
	ok "ensemble: podman-compose -f docker-compose.ensemble.yml up ${build:+--build }-d ($(elapsed "$t_up") s)"
else
	fail "ensemble: podman-compose up --build -d (see /tmp/pgha_ensemble_up.log)"; tail -20 /tmp/pgha_ensemble_up.log | sed 's/^/# /'; exit 1
fi

t_ready=$(now)
check "ensemble: zoo1..3 form a quorum (one leader, two followers)" wait_for 120 zk_modes_are "follower follower leader "
zk_hosts_of() { podman exec "$1" sed -n 's/^zk_hosts = //p' "/etc/pg_ha/$1.conf" 2>/dev/null; }
all_list_zoos() { local c; for c in "${ens_nodes[@]}"; do [ "$(zk_hosts_of "$c")" = zoo1:2181,zoo2:2181,zoo3:2181 ] || return 1; done; }
check "ensemble: every node lists the three ZooKeeper servers" wait_for 30 all_list_zoos
check "ensemble: one node leads (GET /master = 200), the other two are replicas" wait_for 180 roles_settled
primary=$(answering /master)
check "ensemble: one replica is the synchronous standby (GET /sync = 200)" wait_for 60 one_sync
sync=$(answering /sync)
other=$(answering /replica | grep -vx "$sync")
note "ensemble: $primary leads, $sync is the synchronous standby, $other the other replica; ready $(elapsed "$t_ready") s after up"

check "ensemble: stats page on 7000: $primary UP for writes" wait_for 30 stats_is "$primary" UP
check "ensemble: stats page: $sync DOWN for writes" wait_for 30 stats_is "$sync" DOWN
check "ensemble: stats page: $other DOWN for writes" wait_for 30 stats_is "$other" DOWN

check "ensemble: create t1 and write a row through 5432" wait_for 30 psql_host $ROUTER_PORT \
	-c "CREATE TABLE IF NOT EXISTS t1(id serial PRIMARY KEY, txt text)" -c "INSERT INTO t1(txt) VALUES ('before_failover')"
check "ensemble: the row is read on $sync" wait_for 10 has_row "$sync" before_failover
check "ensemble: the row is read on $other" wait_for 30 has_row "$other" before_failover

# failover: the synchronous standby takes over, the router follows
t_stop=$(now)
podman stop -t 30 "$primary" >/dev/null 2>&1
note "ensemble: podman stop $primary took $(elapsed "$t_stop") s"
check "ensemble: $sync: pg_is_in_recovery() = f" wait_for 60 in_recovery_is "$sync" f
if wait_for 60 router_to "$sync" after_failover_write; then
	ok "ensemble: INSERT 'after_failover_write' through 5432 lands on $sync"
	note "ensemble: time from podman stop $primary to the first write on $sync through the router: $(elapsed "$t_stop") s"
else
	fail "ensemble: INSERT 'after_failover_write' through 5432 lands on $sync"
fi
check "ensemble: stats page: $sync UP for writes" wait_for 30 stats_is "$sync" UP
check "ensemble: $other streams from $sync" wait_for 60 streams_from "$other" "$sync"

# the old primary comes back as a replica of the new one
podman start "$primary" >/dev/null 2>&1
t_start=$(now)
check "ensemble: $primary: pg_is_in_recovery() = t after start" wait_for 90 in_recovery_is "$primary" t
check "ensemble: $primary streams from $sync" wait_for 60 streams_from "$primary" "$sync"
check "ensemble: $primary has the row written after the failover" wait_for 10 has_row "$primary" after_failover_write
note "ensemble: $primary rejoined $(elapsed "$t_start") s after start"

# one ZooKeeper server stopped alone: the ensemble's leader
zoo=$(zk_leader)
t_zk=$(now)
podman stop -t 10 "$zoo" >/dev/null 2>&1
check "ensemble: $zoo (ZooKeeper's leader) stopped; the other two serve, one leading" wait_for 60 zk_modes_are "follower leader "
check "ensemble: writes through 5432 go on, on $sync" wait_for 30 router_to "$sync" zoo_leader_stopped
note "ensemble: from podman stop $zoo to a write through the router: $(elapsed "$t_zk") s"
check "ensemble: $sync still leads (GET /master = 200)" api_is "$sync" /master
podman start "$zoo" >/dev/null 2>&1
check "ensemble: $zoo rejoins the ensemble" wait_for 60 zk_modes_are "follower follower leader "
note "ensemble: $(elapsed "$t_up") s from up to here"
