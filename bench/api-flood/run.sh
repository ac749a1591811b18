#!/usr/bin/env bash
# bench/api-flood/run.sh - health latency of one agent's API with and without
# a connection flood (issue 9): one command, prints a table.
#
#   sudo bench/api-flood/run.sh [--seconds S] [--idle N] [--slow N]
#
# One pg_ha node and a real ZooKeeper on 127.0.0.1 (ports from
# get_free_port); phases baseline / flood (1,000 idle + 50 byte-at-a-time
# connections from 127.0.0.1) / flood-other (the same from 127.0.0.2) /
# flood-1byte (idle ones send one byte first), each --seconds long (default
# 20); p50/p99/max latency of GET /health and GET /primary and the agent's
# VmRSS/RssAnon.  See bench/README.md.
# Run as root with pg_ha installed (make install); exit 0 when no request
# failed and the p99 under each flood is <= 100 ms.
set -euo pipefail
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
pgxs=/usr/lib/postgresql/15/lib/pgxs
case ${1:-} in -h | --help) sed -n '2,14p' "$0"; exit 0 ;; esac
[ "$(id -u)" = 0 ] || { echo "run.sh: run as root (the node runs as the postgres user)" >&2; exit 2; }
work=$(mktemp -d /tmp/pg_ha-bench-api-flood.XXXXXX)
chown postgres:postgres "$work"
rc=0
runuser -u postgres -- env \
	PATH="/usr/lib/postgresql/15/bin:$PATH" \
	PERL5LIB="$pgxs/src/test/perl:$srcdir/tests/perl" \
	PG_REGRESS="$pgxs/src/test/regress/pg_regress" \
	TESTDIR="$work" PGHA_SRCDIR="$srcdir" \
	bash -c 'cd "$TESTDIR" && exec perl "$0" "$@"' "$srcdir/bench/api-flood/flood.pl" "$@" || rc=$?
if [ $rc -eq 0 ]; then rm -rf "$work"; else echo "run.sh: exit $rc; logs kept in $work/tmp_check/log" >&2; fi
exit $rc
