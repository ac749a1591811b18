#!/usr/bin/env bash
# The Debian packages and the systemd units, tested as a user installs them:
# builds the .deb files (scripts/build-debs.sh, lintian without errors),
# boots a Debian 12 container with systemd as PID 1 (rootful podman), installs
# them with apt, configures ZooKeeper (zookeeperd), two nodes
# (pg_ha_supervisor@node1, @node2: ports 5433/5434, APIs 8008/8009) and the
# router (pg_ha_router.service: 5432 write, 5435 read, 7000 stats) in it, and
# runs the lab's walkthrough with systemctl: a write through the router, the
# replica read-only, `systemctl stop` of the primary hands over (its journal
# says so; postgres got only the supervisor's fast shutdown, nothing from
# systemd), the other node leads and the router follows, `systemctl start`
# brings the old primary back as a replica without pg_rewind.
#
#   sudo flock /tmp/pg_ha-lab.lock flock /tmp/pg_ha-podman.lock tests/deploy/run.sh
#   PGHA_KEEP=1 tests/deploy/run.sh    # leave the container up (podman rm -f pgha-deploy)
#
# The container has no network but its loopback (--network none): no host
# port, no podman network, no iptables rule.  Images: the Debian base of
# tests/docker (localhost/pgha-test/debian:bookworm, debootstrapped there) and
# localhost/pgha-test/deploy-systemd:bookworm (systemd, postgresql-15,
# zookeeperd; no pg_ha) are cached; the packages go into the container only.
# Teardown (EXIT trap, also on failure) removes the container, the build
# directory and any image layer left dangling by the build.
# Output is TAP; the last line says "N passed, N failed"; exit 1 on a failure.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export CONTAINERS_CONF=$root/tests/docker/containers.conf
base_image=localhost/pgha-test/debian:bookworm
image=localhost/pgha-test/deploy-systemd:bookworm
ctr=pgha-deploy
label=pgha.test=deploy

# pass fail check is diag bail (tap_begin is not used: this file cleans up itself)
. "$root/tests/router/tap.sh"
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }
# wait_for SECONDS CMD...: polls every 0.2 s, bounded in time and count
wait_for() {
	local limit=$1 i; shift
	local deadline=$(($(date +%s%3N) + limit * 1000))
	for ((i = 0; i < limit * 5; i++)); do
		"$@" > /dev/null 2>&1 && return 0
		[ "$(date +%s%3N)" -ge "$deadline" ] && break
		sleep 0.2
	done
	return 1
}

[ "$(id -u)" -eq 0 ] || { echo "run.sh: run as root (rootful podman, apt-get)" >&2; exit 1; }

work=$(mktemp -d /var/tmp/pgha-deploy.XXXXXX)
dangling_before=$(podman images -q -f dangling=true 2> /dev/null | sort)
ours() { podman ps -a -q --filter "label=$label" 2> /dev/null; }

teardown() {
	set +e
	if [ -n "${PGHA_KEEP:-}" ]; then
		diag "PGHA_KEEP set: container $ctr left up, build in $work"
		return
	fi
	diag "teardown"
	if [ "$FAILED" -gt 0 ] && podman container exists "$ctr" 2> /dev/null; then
		diag "journal of the container's units (last 60 lines):"
		in_ctr journalctl --no-pager -n 60 -o short-precise -u 'pg_ha_*' -u zookeeper 2>&1 | sed 's/^/#   /'
	fi
	local ids
	ids=$(ours)
	[ -n "$ids" ] && podman rm -f -t 10 $ids > /dev/null 2>&1
	local img
	for img in $(comm -13 <(echo "$dangling_before") <(podman images -q -f dangling=true 2> /dev/null | sort)); do
		podman rmi -f "$img" > /dev/null 2>&1
	done
	rm -rf "$work"
	local left=""
	[ -n "$(ours)" ] && left+=" container"
	[ -e "$work" ] && left+=" $work"
	[ -n "$(comm -13 <(echo "$dangling_before") <(podman images -q -f dangling=true 2> /dev/null | sort))" ] && left+=" images"
	if [ -z "$left" ]; then pass "teardown leaves no container, build directory or image layer"
	else fail "teardown left:$left"; fi
}
t_start=$(now)
finish() {
	teardown
	diag "tests/deploy/run.sh: $(elapsed "$t_start") s"
	echo "1..$TESTS"
	echo "$((TESTS - FAILED)) passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
trap 'finish; exit $?' EXIT
trap 'echo "Bail out! interrupted"; exit 1' INT TERM

if podman container exists "$ctr" 2> /dev/null; then
	if [ -z "$(ours)" ]; then echo "Bail out! a container named $ctr exists and is not ours"; trap - EXIT; exit 1; fi
	podman rm -f -t 5 "$ctr" > /dev/null 2>&1	# left by an interrupted run of ours
fi

in_ctr() { podman exec "$ctr" "$@"; }
# psql inside the container, as a client over TCP (the router, a node)
sql() { local port=$1; shift; in_ctr env PGPASSWORD=postgres PGCONNECT_TIMEOUT=5 \
	psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -X -At -v ON_ERROR_STOP=1 "$@"; }
http_code() { in_ctr curl -s -o /dev/null -m 3 -w '%{http_code}' "http://127.0.0.1:$1$2"; }
http_is() { [ "$(http_code "$1" "$2")" = "$3" ]; }
recovery_is() { [ "$(sql "$1" -c 'SELECT pg_is_in_recovery()' 2> /dev/null)" = "$2" ]; }
unit_journal() { in_ctr journalctl --no-pager -o cat "_SYSTEMD_INVOCATION_ID=$1"; }
invocation() { in_ctr systemctl show -p InvocationID --value "$1"; }

# ---------------------------------------------------------------- packages
t0=$(now)
if "$root/scripts/build-debs.sh" "$work/debs" > "$work/build.log" 2>&1; then
	pass "packages build, lintian reports no error ($(elapsed "$t0") s)"
	grep -E '^[EWI]:' "$work/debs/lintian.txt" | sed 's/^/# lintian /'
else
	fail "packages build, lintian reports no error"
	tail -n 30 "$work/build.log" | sed 's/^/#   /'
	bail "no packages"
fi
debs=("$work"/debs/postgresql-15-pg-ha_*.deb "$work"/debs/pg-ha-router_*.deb)

# ---------------------------------------------------------------- image
if ! podman image exists "$base_image"; then
	diag "no $base_image: building the stand-in images (tests/docker/run.sh images)"
	"$root/tests/docker/run.sh" images | sed 's/^/#   /'
fi
sum=$(sha256sum < "$here/systemd.Dockerfile" | cut -c1-16)
t0=$(now)
if ! podman image exists "$image" ||
	[ "$(podman inspect -f '{{index .Labels "pgha.sum"}}' "$image" 2> /dev/null)" != "$sum" ]; then
	# the host's network for apt: no podman network, nothing to clean up
	podman build -q --pull=never --network=host --build-arg DEBIAN_IMAGE="$base_image" \
		--label pgha.sum="$sum" -t "$image" -f "$here/systemd.Dockerfile" "$here" > "$work/image.log" 2>&1 ||
		{ tail -n 20 "$work/image.log" | sed 's/^/#   /'; bail "cannot build $image"; }
fi
pass "image with systemd, postgresql-15 and zookeeperd present ($(elapsed "$t0") s)"

# ---------------------------------------------------------------- boot
t0=$(now)
# CAP_SYS_ADMIN: systemd's sandboxing of pg_ha_router.service (ProtectSystem,
# PrivateTmp: mount namespaces) works in the container as on a machine
podman run -d --name "$ctr" --label "$label" --hostname deploy --network none --systemd=always \
	--cap-add=SYS_ADMIN \
	"$image" > "$work/run.log" 2>&1 || { cat "$work/run.log" | sed 's/^/#   /'; bail "podman run failed"; }
booted() { local s; s=$(in_ctr systemctl is-system-running 2> /dev/null); [ "$s" = running ] || [ "$s" = degraded ]; }
check "systemd boots as PID 1" wait_for 60 booted || bail "no systemd"
diag "booted in $(elapsed "$t0") s"
is "PID 1 is systemd" "$(in_ctr cat /proc/1/comm)" "systemd"

# ---------------------------------------------------------------- install
in_ctr mkdir -p /tmp/debs
for d in "${debs[@]}"; do podman cp "$d" "$ctr:/tmp/debs/" || bail "podman cp $d"; done
t0=$(now)
if in_ctr env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	$(for d in "${debs[@]}"; do echo "/tmp/debs/${d##*/}"; done) > "$work/apt.log" 2>&1; then
	pass "apt-get installs both packages ($(elapsed "$t0") s)"
else
	fail "apt-get installs both packages"; tail -n 20 "$work/apt.log" | sed 's/^/#   /'; bail "not installed"
fi
for f in /usr/lib/postgresql/15/lib/pg_ha.so /usr/share/postgresql/15/extension/pg_ha.control \
	/usr/lib/postgresql/15/bin/pg_ha_supervisor /lib/systemd/system/pg_ha_supervisor@.service \
	/usr/share/doc/postgresql-15-pg-ha/examples/node.conf.sample \
	/usr/bin/pg_ha_router /lib/systemd/system/pg_ha_router.service \
	/usr/share/doc/pg-ha-router/examples/pg_ha_router.conf.sample; do
	in_ctr test -e "$f" || fail "installed: $f"
done
pass "the packages put the extension, the supervisor, the router, both units and the samples in place"
out=$(in_ctr systemd-analyze verify pg_ha_router.service pg_ha_supervisor@node1.service 2>&1)
is "systemd-analyze verify: no complaint about either unit" "$out" ""

# ---------------------------------------------------------------- configure
# ZooKeeper as README "Deploying with Debian packages and systemd" sets it up,
# with one server instead of three
podman exec -i "$ctr" bash -c 'cat > /etc/zookeeper/conf/zoo.cfg' <<- 'EOF'
	tickTime=2000
	initLimit=10
	syncLimit=5
	dataDir=/var/lib/zookeeper
	clientPort=2181
	server.1=127.0.0.1:2888:3888
	EOF
in_ctr bash -c 'echo 1 > /etc/zookeeper/conf/myid && systemctl restart zookeeper'
check "ZooKeeper (zookeeperd) runs under systemd and listens on 2181" \
	wait_for 60 in_ctr bash -c 'systemctl is-active -q zookeeper && exec 3<> /dev/tcp/127.0.0.1/2181'
check "ZooKeeper keeps its data in /var/lib/zookeeper" wait_for 20 in_ctr test -d /var/lib/zookeeper/version-2
port_of() { case $1 in node1) echo 5433 ;; node2) echo 5434 ;; esac; }
api_of() { case $1 in node1) echo 8008 ;; node2) echo 8009 ;; esac; }
for n in node1 node2; do
	"$root/cluster/render-node-conf.sh" "$root/cluster/node.conf.in" NAME=$n HOST=127.0.0.1 \
		LISTEN=127.0.0.1 PORT="$(port_of $n)" API_PORT="$(api_of $n)" ZK_HOSTS=127.0.0.1:2181 \
		DIR=/var/lib/postgresql/15/$n NET=127.0.0.1/32 LOG_FILE= \
		ARCHIVE_DIR=/var/lib/postgresql/15/wal_archive > "$work/$n.conf" || bail "render $n.conf"
	podman cp "$work/$n.conf" "$ctr:/etc/pg_ha/$n.conf" || bail "podman cp $n.conf"
	in_ctr chown root:postgres "/etc/pg_ha/$n.conf"
	in_ctr chmod 640 "/etc/pg_ha/$n.conf"
	in_ctr install -d -o postgres -g postgres -m 700 "/var/lib/postgresql/15/$n"
done
sed -e 's/^listen stats .*/listen stats 127.0.0.1:7000/' -e 's/^listen write .*/listen write 127.0.0.1:5432\nlisten read 127.0.0.1:5435/' \
	-e 's/^check primary .*/check primary path \/master interval 1s fall 2 rise 1/' \
	-e 's/^check replica .*/check replica path \/replica interval 1s fall 2 rise 1/' \
	-e '/^node /d' "$root/router/pg_ha_router.conf.sample" > "$work/pg_ha_router.conf"
printf 'node node1 127.0.0.1:5433 check 127.0.0.1:8008\nnode node2 127.0.0.1:5434 check 127.0.0.1:8009\n' >> "$work/pg_ha_router.conf"
podman cp "$work/pg_ha_router.conf" "$ctr:/etc/pg_ha_router.conf" || bail "podman cp router conf"

# ---------------------------------------------------------------- start
t0=$(now)
check "systemctl enable --now pg_ha_supervisor@node1" in_ctr systemctl enable -q --now pg_ha_supervisor@node1
check "node1 bootstraps and leads: GET /master 200" wait_for 90 http_is 8008 /master 200 || bail "no leader"
diag "node1 leads $(elapsed "$t0") s after its start"
t0=$(now)
check "systemctl enable --now pg_ha_supervisor@node2" in_ctr systemctl enable -q --now pg_ha_supervisor@node2
check "node2 clones node1 and streams: GET /replica 200" wait_for 90 http_is 8009 /replica 200 || bail "no replica"
diag "node2 streaming $(elapsed "$t0") s after its start"
is "the supervisors run as postgres" \
	"$(in_ctr ps -o user= -C pg_ha_supervisor | sort -u | tr -d ' ')" "postgres"
check "systemctl enable --now pg_ha_router" in_ctr systemctl enable -q --now pg_ha_router || bail "no router"
write_ok() { sql 5432 -c 'SELECT pg_is_in_recovery()' | grep -qx f; }
check "the router's write port reaches the primary" wait_for 30 write_ok
check "systemctl reload pg_ha_router (config test, SIGHUP)" in_ctr systemctl reload pg_ha_router
router_id=$(invocation pg_ha_router)
check "the router logged the reload" wait_for 10 bash -c \
	"podman exec $ctr journalctl --no-pager -o cat _SYSTEMD_INVOCATION_ID=$router_id | grep -q 'configuration reloaded'"

# ---------------------------------------------------------------- walkthrough
check "a write through the router" \
	sql 5432 -q -c "CREATE TABLE t1(id serial PRIMARY KEY, txt text)" -c "INSERT INTO t1(txt) VALUES ('before_failover')"
check "CREATE EXTENSION pg_ha (the packaged control and SQL files) through the router" \
	sql 5432 -q -c 'CREATE EXTENSION pg_ha'
members_running() { [ "$(sql "$1" -c "SELECT count(*) FROM ha_status() WHERE state = 'running'" 2> /dev/null)" = 2 ]; }
check "ha_status() on the replica: both members running" wait_for 10 members_running 5434
row_on() { [ "$(sql "$1" -c "SELECT count(*) FROM t1 WHERE txt = '$2'" 2> /dev/null)" = 1 ]; }
check "the row is on the replica" wait_for 10 row_on 5434 before_failover
out=$(sql 5434 -c "INSERT INTO t1(txt) VALUES ('x')" 2>&1)
if [[ "$out" == *"read-only transaction"* ]]; then pass "the replica refuses a write (read-only)"
else fail "the replica refuses a write (read-only)" "got: $out"; fi
read_port_is() { [ "$(sql 5435 -c 'SELECT inet_server_port()' 2> /dev/null)" = "$1" ]; }
check "the router's read port reaches the replica" wait_for 10 read_port_is 5434

# systemctl stop of the primary: the supervisor's hand-over
node1_id=$(invocation pg_ha_supervisor@node1)
t0=$(now)
check "systemctl stop pg_ha_supervisor@node1 returns" in_ctr timeout 200 systemctl stop pg_ha_supervisor@node1
diag "systemctl stop took $(elapsed "$t0") s"
is "the unit stopped cleanly (Result, status of the supervisor)" \
	"$(in_ctr systemctl show -p Result -p ExecMainStatus --value pg_ha_supervisor@node1 | tr '\n' ' ')" "success 0 "
unit_journal "$node1_id" > "$work/node1-stop.journal"
check "node1's journal: the hand-over released the leader key to node2" \
	grep -q 'handover: node2 confirmed .*, releasing the leader key' "$work/node1-stop.journal"
grep -E 'handover: ' "$work/node1-stop.journal" | sed 's/^/# node1: /'
check "node1's postgres had the supervisor's fast shutdown" grep -q 'received fast shutdown request' "$work/node1-stop.journal"
if grep -qE 'received smart shutdown request|received immediate shutdown request|immediate shutdown|killing its process group' "$work/node1-stop.journal" ||
	in_ctr journalctl --no-pager -o cat -u pg_ha_supervisor@node1 | grep -qE 'State .stop-sigterm. timed out|Killing process'; then
	fail "nothing but the supervisor stopped postgres (no signal from systemd, no timeout)"
else
	pass "nothing but the supervisor stopped postgres (no signal from systemd, no timeout)"
fi
check "no process of node1 is left" bash -c "! podman exec $ctr pgrep -u postgres -f 'node1(/data|\\.conf)'"
check "node2 is the primary" wait_for 30 recovery_is 5434 f
check "node2's agent answers 200 on /master" wait_for 10 http_is 8009 /master 200
after_ok() { sql 5432 -c "INSERT INTO t1(txt) VALUES ('after_failover_write')"; }
t0=$(now)
check "the router follows: a write through it lands on node2" wait_for 30 after_ok
diag "first write through the router $(elapsed "$t0") s after the stop returned"
check "the write is on node2" row_on 5434 after_failover_write

# systemctl start: back as a replica, no pg_rewind
t0=$(now)
check "systemctl start pg_ha_supervisor@node1" in_ctr systemctl start pg_ha_supervisor@node1
check "node1 is back as a replica (pg_is_in_recovery)" wait_for 60 recovery_is 5433 t
check "node1 streams again: GET /replica 200" wait_for 60 http_is 8008 /replica 200
diag "node1 a streaming replica $(elapsed "$t0") s after its start"
check "node1 has the write made while it was stopped" wait_for 10 row_on 5433 after_failover_write
unit_journal "$(invocation pg_ha_supervisor@node1)" > "$work/node1-start.journal"
if grep -q 'pg_rewind' "$work/node1-start.journal"; then
	fail "node1's journal since its start: no pg_rewind" "$(grep pg_rewind "$work/node1-start.journal" | head -3)"
else
	pass "node1's journal since its start: no pg_rewind"
fi
check "node1's journal since its start: it followed node2, no rewind needed" \
	grep -q 'rejoin: following "node2", no rewind needed' "$work/node1-start.journal"
grep -E 'rejoin: ' "$work/node1-start.journal" | sed 's/^/# node1: /'
out=$(sql 5433 -c "INSERT INTO t1(txt) VALUES ('x')" 2>&1)
if [[ "$out" == *"read-only transaction"* ]]; then pass "node1 refuses a write now (read-only)"
else fail "node1 refuses a write now (read-only)" "got: $out"; fi
check "the router's read port now reaches node1" wait_for 20 read_port_is 5433
exit 0
