#!/usr/bin/env bash
# Runs pg_ha's TAP tests (tests/t/*.pl) with prove, as the postgres user,
# on PostgreSQL 15's own test framework (PostgreSQL::Test::Cluster).
#   tests/run-tap.sh [test files...]
set -euo pipefail
srcdir=$(cd "$(dirname "$0")/.." && pwd)
pgxs=/usr/lib/postgresql/15/lib/pgxs
work=$(mktemp -d /tmp/pg_ha-tap.XXXXXX)
chown postgres:postgres "$work"
tests=()
for t in "$@"; do tests+=("$(realpath "$t")"); done
[ ${#tests[@]} -gt 0 ] || tests=("$srcdir"/tests/t/*.pl)
# An address that is not loopback, on a veth pair of its own (this kernel
# has no dummy interfaces), for the tests of what the API refuses off
# loopback (063_api_tls.pl); only as root, and removed again.
nl_if=pghatap0 nl_addr=10.213.7.1
if [ -z "${PGHA_NONLOOPBACK_ADDR:-}" ] && [ "$(id -u)" = 0 ] && command -v ip >/dev/null &&
	ip link add "$nl_if" type veth peer name "${nl_if}p" 2>/dev/null; then
	trap 'ip link del "$nl_if" 2>/dev/null' EXIT
	ip addr add "$nl_addr/32" dev "$nl_if" && ip link set "$nl_if" up &&
		ip link set "${nl_if}p" up && export PGHA_NONLOOPBACK_ADDR=$nl_addr
fi
rc=0
runuser -u postgres -- env \
	PATH="/usr/lib/postgresql/15/bin:$PATH" \
	PERL5LIB="$pgxs/src/test/perl:$srcdir/tests/perl" \
	PG_REGRESS="$pgxs/src/test/regress/pg_regress" \
	TESTDIR="$work" PGHA_SRCDIR="$srcdir" ${PGHA_KEEP_LOGS:+PG_TEST_NOCLEAN=1} \
	${PGHA_NONLOOPBACK_ADDR:+PGHA_NONLOOPBACK_ADDR=$PGHA_NONLOOPBACK_ADDR} \
	bash -c 'cd "$TESTDIR" && prove -v "$@"' prove "${tests[@]}" || rc=$?
if [ $rc -eq 0 ] && [ -z "${PGHA_KEEP_LOGS:-}" ]; then rm -rf "$work"; else
	echo "run-tap.sh: logs kept in $work/tmp_check/log" >&2
fi
exit $rc
