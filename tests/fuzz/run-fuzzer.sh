#!/bin/sh
# Runs one libFuzzer binary for a bounded time from a seed corpus, with its
# working corpus and artifacts in a temporary directory outside the repo.
# Exits non-zero (and keeps the directory, printing where) on any finding.
#
#   run-fuzzer.sh BINARY SEED_CORPUS_DIR SECONDS [libFuzzer options...]
set -u

bin=$1
seeds=$2
seconds=$3
shift 3

work=$(mktemp -d "${TMPDIR:-/tmp}/pg_ha-$(basename "$bin").XXXXXX") || exit 2
mkdir -p "$work/corpus" "$work/artifacts"

echo "=== $(basename "$bin"): ${seconds}s, working corpus in $work/corpus"
# the first corpus directory is where libFuzzer writes new inputs
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$work/artifacts/" \
	"$@" "$work/corpus" "$seeds"
rc=$?

if [ $rc -ne 0 ]; then
	echo "=== $(basename "$bin") FAILED (exit $rc); reproducer(s) kept in $work/artifacts:" >&2
	ls -l "$work/artifacts" >&2
	exit 1
fi
rm -rf "$work"
echo "=== $(basename "$bin"): no crash"
