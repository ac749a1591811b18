#!/usr/bin/env bash
# Runs every pg_ha test: what the README's test command and CI run.
#
# As root on Debian 12: installs the dependencies, builds with -Werror,
# installs the extension, then runs (servers as the postgres user):
#   1. unit tests (cmocka) under ASan/UBSan      make unit
#   2. bounded libFuzzer run of the parsers      make fuzz
#   3. router and supervisor unit tests (ASan/UBSan)  make -C router check, -C supervisor check
#   4. pg_regress against a real node + ZooKeeper make installcheck
#   5. TAP tests: nodes, ZooKeeper, HAProxy       tests/run-tap.sh
#   6. router integration (ASan/UBSan router, ZooKeeper, supervised nodes,
#      headless Chromium), then again with the ThreadSanitizer router
#      (threads 2 both times)                     tests/router/router_test.sh
#   7. the local cluster as the lab: scripts/cluster.sh up from the tree, writes
#      through the router on 5432, stats on 7000, status, failover, destroy;
#      up --zk 3 --nodes 3 with a ZooKeeper server cut  tests/cluster/cluster_test.sh
#   8. the docker/ lab in real containers (podman): walkthrough, partition,
#      freeze, HAProxy profile, the ensemble profile, teardown  tests/docker/run.sh
#   9. the Debian packages and the systemd units: built, lintian, installed in
#      a container booted with systemd (podman), the walkthrough with systemctl
#                                                 tests/deploy/run.sh
#  10. no loop of files calling each other in extension/ and router/
#      (the supervisor's is part of its unit tests) scripts/callgraph.sh
# Environment: FUZZ_SECONDS (default 30), PGHA_TEST_ONLY="unit regress tap router-integration router-tsan cluster docker deploy ..."
set -euo pipefail

srcdir=$(cd "$(dirname "$0")/.." && pwd)
cd "$srcdir"
source "$srcdir/scripts/relocate.sh" "$@"
export PATH=/usr/lib/postgresql/15/bin:$PATH
only=${PGHA_TEST_ONLY:-"unit fuzz router supervisor regress tap router-integration router-tsan cluster docker deploy layers"}
want() { [[ " $only " == *" $1 "* ]]; }

if [ "$(id -u)" -ne 0 ]; then
	echo "test.sh: run as root (it installs packages and runs servers as postgres)" >&2
	exit 1
fi

scripts/install-deps.sh
make -s WERROR=1 all
make -s install WERROR=1 > /dev/null

failed=()
passed=()
step() {
	local name=$1
	shift
	echo "=== $name"
	if "$@"; then passed+=("$name"); else failed+=("$name"); fi
}

work=$(mktemp -d /tmp/pg_ha-test.XXXXXX)
chown postgres:postgres "$work"
chmod 755 "$work"
cleanup() {
	scripts/run-node.sh stop "$work/node" 2> /dev/null || true
	scripts/zk.sh stop "$work/zk" 2> /dev/null || true
	if [ ${#failed[@]} -eq 0 ]; then rm -rf "$work"; else echo "test.sh: logs kept in $work"; fi
}
trap cleanup EXIT

regress() {
	local zk_port=22181 pg_port=25432 api_port=28008
	runuser -u postgres -- scripts/zk.sh start "$work/zk" $zk_port
	scripts/run-node.sh init-primary "$work/node" regress1 $pg_port $api_port "127.0.0.1:$zk_port" \
		"pg_ha.ttl = 20" "pg_ha.retry_timeout = 10"
	scripts/run-node.sh start "$work/node"
	local rc=0
	runuser -u postgres -- env PGHOST="$work/node" PGPORT=$pg_port \
		PGHA_ZK_DIR="$work/zk" PGHA_ZK_PORT=$zk_port PGHA_API_PORT=$api_port \
		PGHA_SRCDIR="$srcdir" \
		make -s installcheck REGRESS_OUTPUT="$work/regress" || rc=$?
	if [ $rc -ne 0 ] && [ -f "$work/regress/regression.diffs" ]; then
		cat "$work/regress/regression.diffs"
	fi
	scripts/run-node.sh stop "$work/node"
	scripts/zk.sh stop "$work/zk"
	return $rc
}

want unit && step "unit tests" make -s unit
want fuzz && step "fuzz" make -s fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-30}"
want router && step "router unit tests" make -s -C router check
want router && step "router unit tests (TSan)" make -s -C router check SANITIZE=thread
want supervisor && step "supervisor unit tests" make -s -C supervisor check
want regress && step "pg_regress (make installcheck)" regress
want tap && step "TAP tests" tests/run-tap.sh
want router-integration && step "router integration" tests/router/router_test.sh
want router-tsan && step "router integration (TSan)" env ROUTER_SANITIZE=thread tests/router/router_test.sh
want cluster && step "local cluster (scripts/cluster.sh)" tests/cluster/cluster_test.sh
want docker && step "docker lab (podman)" tests/docker/run.sh
want deploy && step "Debian packages and systemd units (podman)" tests/deploy/run.sh
layers() { scripts/callgraph.sh extension | tail -n 1 && scripts/callgraph.sh router/.build/release | tail -n 1; }
want layers && step "layers (no loop of files calling each other)" layers

echo
echo "test.sh: passed: ${passed[*]:-none}"
[ ${#failed[@]} -eq 0 ] || echo "test.sh: FAILED: ${failed[*]}"
echo "${#passed[@]} passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
