#!/usr/bin/env bash
# The docker/ lab, tested with real containers (rootful podman + podman-compose).
#
#   sudo tests/docker/run.sh            # everything: images, walkthrough, faults, ensemble, teardown
#   sudo tests/docker/run.sh ensemble   # images and the ensemble profile only
#   PGHA_KEEP=1 tests/docker/run.sh     # leave the containers up at the end (debugging)
#
# Runs docker/docker-compose.yml, then docker/docker-compose.ensemble.yml
# (project pgha_ensemble), unchanged apart from the image variables
# (locally built stand-ins: nothing can be pulled here) and a test subnet
# from 198.18.0.0/15 (tests/docker/containers.conf).  Output is TAP; the last
# line says "N passed, N failed"; exit status 1 on any failure.
# Every container, network and volume it creates belongs to the compose
# project pgha_test or pgha_ensemble; teardown removes them all and restores the host
# (NETAVARK iptables chains, net.ipv4.ip_forward).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
project=pgha_test
compose_file=$root/docker/docker-compose.yml
ens_project=pgha_ensemble
ens_compose_file=$root/docker/docker-compose.ensemble.yml
export CONTAINERS_CONF=$here/containers.conf
export PG_BASE_IMAGE=localhost/pgha-test/postgres:15
export ZOOKEEPER_IMAGE=localhost/pgha-test/zookeeper:3.8
export HAPROXY_IMAGE=localhost/pgha-test/haproxy:3.0
export PGHA_IMAGE=localhost/pgha-test/pg_ha:latest
debian_image=localhost/pgha-test/debian:bookworm
# host ports: the lab's (the compose file's defaults) when free; one already
# taken on this machine (a local pg_ha cluster holds 5433/5434, a ZooKeeper
# 2181) is moved through the compose file's port variable
port_free() { ! ss -ltnH "( sport = :$1 )" 2>/dev/null | grep -q .; }
moved_ports=""
pick_port() { # VARIABLE LAB_PORT ALTERNATIVE
	[ -n "${!1:-}" ] && return
	if port_free "$2"; then export "$1=$2"; else export "$1=$3"; moved_ports+=" $1=$3"; fi
}
pick_port ROUTER_PORT 5432 25432; pick_port PG_MASTER_PORT 5433 25433; pick_port PG_SLAVE_PORT 5434 25434
pick_port ROUTER_READ_PORT 5435 25435; pick_port STATS_PORT 7000 27000; pick_port ZOO_PORT 2181 22181
pick_port HAPROXY_PORT 6432 26432; pick_port HAPROXY_STATS_PORT 7001 27001
# the ensemble profile's
pick_port PG_NODE1_PORT 5433 25433; pick_port PG_NODE2_PORT 5434 25434; pick_port PG_NODE3_PORT 5436 25436
pick_port ZOO1_PORT 2181 22181; pick_port ZOO2_PORT 2182 22182; pick_port ZOO3_PORT 2183 22183
export PGPASSWORD=postgres PGCONNECT_TIMEOUT=3

[ "$(id -u)" -eq 0 ] || { echo "run.sh: run as root (rootful podman)" >&2; exit 1; }

# ---------------------------------------------------------------- TAP
n=0; passed=0; failed=0
ok()   { n=$((n+1)); passed=$((passed+1)); echo "ok $n - $*"; }
fail() { n=$((n+1)); failed=$((failed+1)); echo "not ok $n - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; return 1; fi; }
note() { echo "# $*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }

# wait_for SECONDS DESCRIPTION CMD...: poll every 0.2 s, bounded in time and count
wait_for() {
	local limit=$1 i max; shift
	max=$((limit * 5))
	local deadline=$(( $(date +%s%3N) + limit * 1000 ))
	for ((i = 0; i < max; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(date +%s%3N)" -ge "$deadline" ] && break
		sleep 0.2
	done
	return 1
}

# ---------------------------------------------------------------- setup
# podman, podman-compose, runc, debootstrap, psql, curl, iptables (idempotent)
"$root/scripts/install-deps.sh" | sed 's/^/# /'
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "Bail out! installing the dependencies failed"; exit 1; }

pc() { podman-compose -p "$project" -f "$compose_file" "$@"; }
pce() { podman-compose -p "$ens_project" -f "$ens_compose_file" "$@"; }
podman_q() { podman "$@" 2>&1 | grep -v 'failed to connect to syslog' ; return "${PIPESTATUS[0]}"; }

# host state to restore
# (a run with PGHA_KEEP leaves the host state of before it in $state_dir for the next run to restore)
state_dir=/var/tmp/pgha_test.state
ipt_before=$(mktemp)
if [ -f "$state_dir/ip_forward" ]; then
	ip_forward_before=$(cat "$state_dir/ip_forward"); cp "$state_dir/iptables" "$ipt_before"
else
	ip_forward_before=$(cat /proc/sys/net/ipv4/ip_forward)
	for t in filter nat; do iptables-save -t "$t" 2>/dev/null; done > "$ipt_before"
fi

# build stages left untagged by `up --build` (about 1.8 GB each) are removed at teardown
dangling_before=$(podman images -q -f dangling=true 2>/dev/null | sort)
containers_of() { podman ps -a -q --filter "label=io.podman.compose.project=$1" 2>/dev/null; }
containers_ours() { containers_of "$project"; containers_of "$ens_project"; }
# a project's volumes and networks: labelled, or named <project>_...
volumes_of() { { podman volume ls -q --filter "label=io.podman.compose.project=$1"; podman volume ls -q | grep "^$1_"; } 2>/dev/null | sort -u; }
networks_of() { { podman network ls -q --filter "label=io.podman.compose.project=$1"; podman network ls -q | grep "^$1_"; } 2>/dev/null | sort -u; }

# remove_project PROJECT: its containers (with their anonymous volumes), volumes, networks
remove_project() {
	local ids v net
	ids=$(containers_of "$1")
	[ -n "$ids" ] && podman rm -f -v -t 5 $ids >/dev/null 2>&1
	for v in $(volumes_of "$1"); do podman volume rm -f "$v" >/dev/null 2>&1; done
	for net in $(networks_of "$1"); do podman network rm -f "$net" >/dev/null 2>&1; done
}
# left_of PROJECT: what of it is left, in words
left_of() {
	[ -z "$(containers_of "$1")" ] || echo -n " $1 containers"
	[ -z "$(networks_of "$1")" ] || echo -n " $1 network"
	[ -z "$(volumes_of "$1")" ] || echo -n " $1 volumes"
}

teardown() {
	set +e
	if [ -n "${PGHA_KEEP:-}" ]; then
		mkdir -p "$state_dir"; echo "$ip_forward_before" > "$state_dir/ip_forward"; cp "$ipt_before" "$state_dir/iptables"
		note "PGHA_KEEP set: containers left up ('tests/docker/run.sh clean' removes them)"; return
	fi
	note "teardown"
	remove_project "$project"
	remove_project "$ens_project"
	# NETAVARK rules and chains that were not there before the run
	local t line chain
	for t in filter nat; do
		iptables-save -t "$t" 2>/dev/null | grep -- '^-A .*NETAVARK' | while read -r line; do
			grep -qxF -- "$line" "$ipt_before" && continue
			eval "iptables -t $t ${line/#-A/-D}" 2>/dev/null
		done
		for chain in $(iptables-save -t "$t" 2>/dev/null | sed -n 's/^:\(NETAVARK[^ ]*\) .*/\1/p'); do
			grep -q "^:$chain " "$ipt_before" && continue
			iptables -t "$t" -F "$chain" 2>/dev/null
		done
		for chain in $(iptables-save -t "$t" 2>/dev/null | sed -n 's/^:\(NETAVARK[^ ]*\) .*/\1/p'); do
			grep -q "^:$chain " "$ipt_before" && continue
			iptables -t "$t" -X "$chain" 2>/dev/null
		done
	done
	echo "$ip_forward_before" > /proc/sys/net/ipv4/ip_forward
	local img
	for img in $(comm -13 <(echo "$dangling_before") <(podman images -q -f dangling=true 2>/dev/null | sort)); do
		podman rmi -f "$img" >/dev/null 2>&1
	done
	# what is left
	local left
	left="$(left_of "$project")$(left_of "$ens_project")"
	iptables-save 2>/dev/null | grep -q NETAVARK && ! grep -q NETAVARK "$ipt_before" && left="$left iptables"
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$ip_forward_before" ] || left="$left ip_forward"
	rm -f "$ipt_before"; rm -rf "$state_dir"
	if [ -z "$left" ]; then ok "teardown leaves no container, network, volume, iptables chain or sysctl change"
	else fail "teardown left:$left"; fi
}

finish() {
	teardown
	echo "1..$n"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
trap 'finish; exit $?' EXIT
trap 'echo "Bail out! interrupted"; exit 1' INT TERM

# refuse to touch containers that are not ours
for c in pg-master pg-slave zoo postgres_entrypoint postgres_entrypoint_haproxy \
	pg-node1 pg-node2 pg-node3 zoo1 zoo2 zoo3 postgres_entrypoint_ensemble; do
	if podman container exists "$c" 2>/dev/null; then
		proj=$(podman inspect -f '{{index .Config.Labels "io.podman.compose.project"}}' "$c" 2>/dev/null)
		if [ "$proj" != "$project" ] && [ "$proj" != "$ens_project" ]; then echo "Bail out! a container named $c exists and is not ours"; trap - EXIT; exit 1; fi
	fi
done
# leftovers of an interrupted run of ours
remove_project "$project"; remove_project "$ens_project"

for p in $ROUTER_PORT $PG_MASTER_PORT $PG_SLAVE_PORT $ROUTER_READ_PORT $STATS_PORT $ZOO_PORT $HAPROXY_PORT $HAPROXY_STATS_PORT \
	$PG_NODE1_PORT $PG_NODE2_PORT $PG_NODE3_PORT $ZOO1_PORT $ZOO2_PORT $ZOO3_PORT; do
	if ss -ltnH "( sport = :$p )" 2>/dev/null | grep -q .; then echo "Bail out! host port $p is in use (set the *_PORT variables)"; trap - EXIT; exit 1; fi
done

[ "${1:-}" = clean ] && exit 0
[ -z "$moved_ports" ] || note "lab host ports taken here, moved:$moved_ports"

# ---------------------------------------------------------------- images
# Built once and cached under localhost/pgha-test/*; a stand-in is rebuilt
# when its Dockerfile changes (label pgha.sum).
build_debian() {
	podman image exists "$debian_image" && return 0
	local mirror dir t0
	mirror=$(sed -n 's/^URIs:[[:space:]]*\(.*debian\)[[:space:]]*$/\1/p;s/^deb[[:space:]]\+\(http[^ ]*debian\)[[:space:]]\+bookworm .*/\1/p' /etc/apt/sources.list.d/* /etc/apt/sources.list 2>/dev/null | grep -v security | head -1)
	mirror=${mirror:-http://deb.debian.org/debian}
	dir=$(mktemp -d /var/tmp/pgha-debootstrap.XXXXXX)
	t0=$(now)
	note "debootstrap bookworm from $mirror"
	debootstrap --variant=minbase bookworm "$dir" "$mirror" >/dev/null 2>&1 || { rm -rf "$dir"; return 1; }
	printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s-security bookworm-security main\n' \
		"$mirror" "$mirror" "$mirror" > "$dir/etc/apt/sources.list"
	chroot "$dir" apt-get clean
	rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin
	tar -C "$dir" -c . | podman import --change 'CMD ["bash"]' - "$debian_image" >/dev/null 2>&1
	local rc=$?
	rm -rf "$dir"
	note "debian base built in $(elapsed "$t0") s"
	return $rc
}
build_standin() {
	local image=$1 file=$2 sum
	# the Dockerfile and the files it copies from images/
	sum=$(cd "$here/images" && cat "$file" $(sed -n 's/^COPY \([^ ]*\) .*/\1/p' "$file") | sha256sum | cut -c1-16)
	if podman image exists "$image" &&
		[ "$(podman inspect -f '{{index .Labels "pgha.sum"}}' "$image" 2>/dev/null)" = "$sum" ]; then
		return 0
	fi
	local t0; t0=$(now)
	podman build -q --pull=never --build-arg DEBIAN_IMAGE="$debian_image" --label pgha.sum="$sum" \
		-t "$image" -f "$file" "$here/images" >/dev/null || return 1
	note "$image built in $(elapsed "$t0") s"
}
t_images=$(now)
if build_debian && build_standin "$PG_BASE_IMAGE" "$here/images/postgres.Dockerfile" &&
	build_standin "$ZOOKEEPER_IMAGE" "$here/images/zookeeper.Dockerfile" &&
	build_standin "$HAPROXY_IMAGE" "$here/images/haproxy.Dockerfile"; then
	ok "stand-in base images present ($(elapsed "$t_images") s)"
else
	fail "stand-in base images"; echo "Bail out! no base images"; exit 1
fi
[ "${1:-}" = images ] && exit 0

. "$here/lib.sh"
if [ "${1:-}" != ensemble ]; then
	. "$here/walkthrough.sh"
	[ "${1:-}" = walkthrough ] && exit 0
	. "$here/faults.sh"
	# the default project goes before the ensemble comes up on the same host ports
	remove_project "$project"
	left=$(left_of "$project")
	if [ -z "$left" ]; then ok "the default project removed: no container, network or volume of $project left"
	else fail "removing the default project left:$left"; fi
	image_built=1
fi
. "$here/ensemble.sh"
