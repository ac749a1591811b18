#!/usr/bin/env bash
# bench/failover/router_follow.sh - the "router follows" fault: how soon
# pg_ha_router sends writes to a new primary when faults come in clusters.
#
#   sudo bench/failover/router_follow.sh [--runs N] [--out FILE] [--sanitized]
#                                        [--router PATH]
#
# Runs tests/router/router_follow.sh --runs N (default 5): two nodes run by
# pg_ha_supervisor (ttl 6 s, loop_wait 1 s) and a real ZooKeeper, the router
# with router/pg_ha_router.conf.sample's check timings (interval 3s fall 3
# rise 2, timeout check 5s, watch on), a writer inserting through the router
# every 10 ms.  Each run has two faults:
#   (a) the router is started while both nodes are down, the nodes start,
#       then the primary is stopped gracefully (SIGTERM to its supervisor);
#   (b) the replica crashes (kill -9 of its postmaster, restarted by its
#       supervisor), then, once it streams again, the primary node is lost
#       as a whole (one SIGKILL for its supervisor, postmaster and children).
# Per fault it prints min / median / max of: the new primary's first 200 on
# /master after the fault (polled every 50 ms), and the router's first write
# there after that 200 (the first insert acknowledged on that node, by its
# server clock), also counted from the poll before the first 200 (an upper
# bound).  The release build of the router (-O2) unless --sanitized;
# --router PATH runs another binary (e.g. an older version, to compare).
# Exit status: the test's (0 when every run followed within 1 s).
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RUNS=5 OUT="" SANITIZED=0 BIN=""
while [ $# -gt 0 ]; do
	case $1 in
		--runs) RUNS=$2; shift 2 ;;
		--out) OUT=$(realpath -m "$2"); shift 2 ;;
		--sanitized) SANITIZED=1; shift ;;
		--router) BIN=$(realpath "$2"); shift 2 ;;
		-h | --help) sed -n '2,25p' "$0"; exit 0 ;;
		*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "router_follow.sh: run as root (the nodes run as the postgres user)" >&2; exit 2; }

tsv=$(mktemp /tmp/pg_ha-bench-follow.XXXXXX.tsv)
if [ -z "$BIN" ]; then
	make -s -C "$ROOT/router" SANITIZE=$SANITIZED >/dev/null || exit 2
	BIN="$ROOT/router/pg_ha_router"
fi
ROUTER="$BIN" "$ROOT/tests/router/router_follow.sh" --runs "$RUNS" --out "$tsv"
rc=$?
[ -n "$OUT" ] && cp "$tsv" "$OUT"

echo
echo "router follows the new primary: $RUNS run(s), $(date -u '+%Y-%m-%d %H:%M UTC'), router $BIN ($(ldd "$BIN" | grep -q libasan && echo ASan/UBSan || echo release))"
perl -e '
	my %f;
	while (<>) {
		chomp;
		my ($run, $fault, $t_fault, $first200, $prev, $write, $follow, $follow_max, $how) = split /\t/;
		$f{$fault}{how}{$how // "?"}++;
		push @{$f{$fault}{promote}}, ($first200 - $t_fault) / 1000;
		push @{$f{$fault}{follow}}, $follow;
		push @{$f{$fault}{max}}, $follow_max;
	}
	sub mmm {
		my @v = sort { $a <=> $b } @_;
		my $med = @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
		return sprintf "%s / **%s** / %s", map { $_ =~ /\./ || $_ != int($_) ? sprintf("%.2f", $_) : $_ } $v[0], $med, $v[-1];
	}
	print "| fault | runs | first 200 on /master after the fault (s) | first write there after the first 200 (ms) | from the poll before (ms) | learned by |\n";
	print "|---|---|---|---|---|---|\n";
	for my $fault (sort keys %f) {
		my $how = join ", ", map { "$_ $f{$fault}{how}{$_}" } sort keys %{$f{$fault}{how}};
		printf "| %s | %d | %s | %s | %s | %s |\n", $fault, scalar @{$f{$fault}{follow}},
			mmm(@{$f{$fault}{promote}}), mmm(@{$f{$fault}{follow}}), mmm(@{$f{$fault}{max}}), $how;
	}' "$tsv"
echo "(per fault: min / median / max; TSV: $tsv)"
exit $rc
