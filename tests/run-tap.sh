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
rc=0
runuser -u postgres -- env \
	PATH="/usr/lib/postgresql/15/bin:$PATH" \
	PERL5LIB="$pgxs/src/test/perl:$srcdir/tests/perl" \
	PG_REGRESS="$pgxs/src/test/regress/pg_regress" \
	TESTDIR="$work" PGHA_SRCDIR="$srcdir" ${PGHA_KEEP_LOGS:+PG_TEST_NOCLEAN=1} \
	bash -c 'cd "$TESTDIR" && prove -v "$@"' prove "${tests[@]}" || rc=$?
if [ $rc -eq 0 ] && [ -z "${PGHA_KEEP_LOGS:-}" ]; then rm -rf "$work"; else
	echo "run-tap.sh: logs kept in $work/tmp_check/log" >&2
fi
exit $rc
