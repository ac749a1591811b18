#!/usr/bin/env bash
# Installs every build and test dependency of pg_ha from Debian 12 packages.
# Idempotent: packages already present are left alone; safe to run again.
set -euo pipefail

PKGS=(
	build-essential pkg-config make gcc clang libclang-rt-14-dev
	postgresql-15 postgresql-client-15 postgresql-server-dev-15 libpq-dev
	libkrb5-dev    # gssapi.h, which the server header libpq/libpq-be.h includes
	libzookeeper-mt-dev zookeeper
	libuv1-dev
	libssl-dev     # the API's TLS (agent) and the router's TLS checks
	libcmocka-dev
	libipc-run-perl libdbd-pg-perl
	haproxy curl procps iproute2 psmisc
	nftables    # TAP 060 cuts a ZooKeeper server off inside its own network namespace
	openssl chromium
	patroni python3-kazoo   # patronictl, a real client of the cluster keys (TAP 050)
)
# the docker/ lab's tests (tests/docker/run.sh): rootful podman; installed with
# their recommended packages (netavark, aardvark-dns, catatonit, ...)
CONTAINER_PKGS=(podman podman-compose runc debootstrap iptables)

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: run as root (it calls apt-get)" >&2
	exit 1
fi

missing_of() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
	done
}
mapfile -t missing < <(missing_of "${PKGS[@]}")
mapfile -t missing_containers < <(missing_of "${CONTAINER_PKGS[@]}")

if [ ${#missing[@]} -gt 0 ] || [ ${#missing_containers[@]} -gt 0 ]; then
	echo "install-deps.sh: installing ${missing[*]} ${missing_containers[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# policy-rc.d keeps Debian's packages from starting their own services
	# (postgresql's default cluster, haproxy, zookeeper): the tests start what they need.
	policy=/usr/sbin/policy-rc.d
	created_policy=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' > "$policy"
		chmod +x "$policy"
		created_policy=1
	fi
	[ ${#missing[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${missing[@]}"
	[ ${#missing_containers[@]} -eq 0 ] || apt-get install -y -qq "${missing_containers[@]}"
	[ $created_policy -eq 1 ] && rm -f "$policy"
	# Debian's own cluster 15/main, made by the postgresql-15 we just
	# installed, would take 5432 (the router's port in scripts/cluster.sh)
	# at the next boot: it starts by hand only.  One that was here before
	# is left as it was.
	if printf '%s\n' "${missing[@]}" | grep -qx postgresql-15 && [ -f /etc/postgresql/15/main/start.conf ]; then
		echo manual > /etc/postgresql/15/main/start.conf
		echo "install-deps.sh: Debian's cluster 15/main starts by hand only (/etc/postgresql/15/main/start.conf)"
	fi
fi
echo "install-deps.sh: all dependencies present"
