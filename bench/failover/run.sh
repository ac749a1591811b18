#!/usr/bin/env bash
# bench/failover/run.sh - pg_ha failover benchmark: one command, prints a table.
#
#   sudo bench/failover/run.sh [--runs N] [--async] [--faults LIST]
#                              [--freeze-seconds S] [--probe-timeout S]
#                              [--out FILE] [--keep]
#
# Three nodes run by pg_ha_supervisor (ttl 6 s, loop_wait 1 s, retry_timeout
# 3 s) and a real ZooKeeper, all on loopback ports from
# PostgreSQL::Test::Cluster::get_free_port; a continuous writer.  For each
# fault (switchover, sigterm, kill9, freeze; also restart), --runs times (default 5):
# write unavailability, rejoin time of the old primary, lost acknowledged
# commits; min / median / max.  Synchronous mode unless --async.
#   --faults         comma list, default switchover,sigterm,kill9,freeze; also
#                    sync-kill9,sync-freeze,sync-stop (the synchronous standby is lost), restart
#                    (POST /restart of the leader: no failover)
#   --freeze-seconds how long the whole primary node stays stopped (default 8 = ttl + 2)
#   --probe-timeout  how long the writer waits for each node's /primary answer
#                    (default 0.25; 1 is tests/perl/Writer.pm's own value)
#   --out FILE       also write the per-run figures (TSV) to FILE
#   --keep           keep the nodes' logs even when every run passed
# Run as root (the nodes run as the postgres user, like tests/run-tap.sh) with
# pg_ha installed (make install).  Exit status 0 when every run completed,
# every median met its target, nothing acknowledged was lost (synchronous
# mode); otherwise 1 and the logs are kept (the path is printed).
set -euo pipefail
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
pgxs=/usr/lib/postgresql/15/lib/pgxs
keep=
out=
args=()
while [ $# -gt 0 ]; do
	case $1 in
	--keep) keep=1; shift ;;
	--out) out=$(realpath -m "$2"); shift 2 ;;
	--runs | --faults | --freeze-seconds | --probe-timeout) args+=("$1" "$2"); shift 2 ;;
	--async) args+=("$1"); shift ;;
	-h | --help) sed -n '2,26p' "$0"; exit 0 ;;
	*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "run.sh: run as root (the nodes run as the postgres user)" >&2; exit 2; }
command -v pg_ha_supervisor >/dev/null || [ -x /usr/lib/postgresql/15/bin/pg_ha_supervisor ] ||
	{ echo "run.sh: pg_ha_supervisor is not installed (make install)" >&2; exit 2; }

work=$(mktemp -d /tmp/pg_ha-bench-failover.XXXXXX)
chown postgres:postgres "$work"
tsv="$work/runs.tsv"
# postgres must read the scripts: run from a readable copy when it cannot
# read the source tree (as scripts/test.sh does for a clone under /root)
run_src=$srcdir
if ! runuser -u postgres -- test -r "$srcdir/tests/perl/PgHaNode.pm"; then
	run_src="$work/src"
	mkdir -p "$run_src"
	cp -r "$srcdir/tests" "$srcdir/scripts" "$srcdir/bench" "$run_src/"
	chown -R postgres:postgres "$run_src"
fi
rc=0
runuser -u postgres -- env \
	PATH="/usr/lib/postgresql/15/bin:$PATH" \
	PERL5LIB="$pgxs/src/test/perl:$run_src/tests/perl" \
	PG_REGRESS="$pgxs/src/test/regress/pg_regress" \
	TESTDIR="$work" PGHA_SRCDIR="$run_src" ${keep:+PG_TEST_NOCLEAN=1} \
	bash -c 'cd "$TESTDIR" && exec perl "$0" "$@"' "$run_src/bench/failover/failover.pl" \
	--out "$tsv" "${args[@]}" || rc=$?
[ -n "$out" ] && [ -f "$tsv" ] && cp "$tsv" "$out"
if { [ $rc -eq 0 ] && [ -z "$keep" ]; } || ! compgen -G "$work/tmp_check/node_*" >/dev/null; then
	rm -rf "$work"	# all went well, or it stopped before any node existed
else
	echo "run.sh: exit $rc; logs kept in $work (tmp_check/node_*/supervisor.log, postgres.log;" \
		"tmp_check/writer_*/acked.txt; tmp_check/log/regress_log_failover; runs.tsv)" >&2
fi
exit $rc
