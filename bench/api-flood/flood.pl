# bench/api-flood/flood.pl - run by run.sh as the postgres user, with the TAP
# tests' helpers (tests/perl) on PostgreSQL::Test::Cluster.
#
# One pg_ha node (leader, real ZooKeeper, api_max_connections at its default
# 32) on 127.0.0.1.  Phases, each --seconds long, in the same run:
#   baseline   no flood
#   flood      1,000 idle + 50 byte-at-a-time connections (tests/perl/ApiFlood.pm)
#              from 127.0.0.1, the address the probe uses too
#   flood-other the same flood from 127.0.0.2 (the probe stays on 127.0.0.1)
#   flood-1byte the flood from 127.0.0.1, each idle connection sending one
#              byte first (so the kernel's TCP_DEFER_ACCEPT hands it over)
# Throughout, a probe sends GET /health and GET /primary alternately, each on
# a new connection, one every 10 ms, and times the whole exchange (connect to
# the close after the answer).  Prints per phase: requests, failures (not 200
# or no answer within 1 s), p50/p99/max latency, and the agent's VmRSS and
# RssAnon (/proc/<agent>/status) at the end of the phase and at most.
# Exit 0 when nothing failed and the p99 under each flood is <= 100 ms.
use strict;
use warnings;

our $TTY;
BEGIN { open($TTY, '>&', \*STDOUT) or die "dup stdout: $!"; $TTY->autoflush(1) }

use Getopt::Long;
use Time::HiRes qw(time sleep);
use PostgreSQL::Test::Utils;
use Test::More;
use PgHaTest;
use ApiFlood;

Test::More->builder->no_ending(1);    # not a TAP test
my %opt = (seconds => 20, idle => 1000, slow => 50);
GetOptions(\%opt, 'seconds=i', 'idle=i', 'slow=i')
  or die "usage: [--seconds S] [--idle N] [--slow N]\n";
die "--seconds must be 5..300\n" unless $opt{seconds} >= 5 && $opt{seconds} <= 300;

my $zk = zk_start();
my $node = pg_ha_node(name => 'apiflood', zk => $zk);
$node->start;
my $api = $node->{pg_ha_api_port};
wait_until(sub { http_status($api, 'GET', '/primary') == 200 }, 60, '/primary 200')
  or die "the node did not lead\n";
my $agent = agent_pid($node);
die "no agent process\n" unless $agent;

sub phase
{
	my ($name, $source, $first_byte) = @_;
	my $flood;
	if (defined $source)
	{
		$flood = ApiFlood->new(port => $api, idle => $opt{idle}, slow => $opt{slow},
			seconds => $opt{seconds} + 60, source => $source, first_byte => $first_byte,
			dir => PostgreSQL::Test::Utils::tempdir("flood_$name"));
		wait_until(sub { ($flood->status->{max_open} // 0) >= $opt{idle} + $opt{slow} }, 60,
			"the flood holds its connections") or die "the flood did not get its connections\n";
	}
	my (@lat, $failed, $max_rss, $max_anon);
	$failed = 0;
	($max_rss, $max_anon) = (0, 0);
	my $end = time + $opt{seconds};
	my ($i, $next_mem) = (0, 0);
	while (time < $end)
	{
		my ($st, $sec) = ApiFlood::probe($api, $i++ % 2 ? '/primary' : '/health', 1);
		push @lat, $sec;
		$failed++ if $st != 200 || $sec >= 1;
		if (time >= $next_mem)
		{
			my ($rss, $anon) = rss_kb($agent);
			$max_rss = $rss if $rss > $max_rss;
			$max_anon = $anon if $anon > $max_anon;
			$next_mem = time + 0.5;
		}
		sleep 0.01;
	}
	my ($rss, $anon) = rss_kb($agent);
	my $fst = $flood ? $flood->status : {};
	$flood->stop if $flood;
	my ($p50, $p99, $pmax) = ApiFlood::percentiles(@lat);
	printf $TTY "%-12s %8d %6d %8.1f %8.1f %8.1f %9d %9d %9d %9d %9s\n", $name, scalar(@lat), $failed,
	  $p50, $p99, $pmax, $rss, $max_rss, $anon, $max_anon, $fst->{reopened} // '-';
	return ($failed, $p99);
}

printf $TTY "agent %d, api_max_connections 32, %d s per phase, flood %d idle + %d byte-at-a-time\n",
  $agent, $opt{seconds}, $opt{idle}, $opt{slow};
printf $TTY "%-12s %8s %6s %8s %8s %8s %9s %9s %9s %9s %9s\n", 'phase', 'requests', 'failed',
  'p50 ms', 'p99 ms', 'max ms', 'VmRSS kB', 'max', 'RssAnon', 'max', 'reopened';
my @base = phase('baseline', undef);
my @same = phase('flood', '127.0.0.1');
my @other = phase('flood-other', '127.0.0.2');
my @first = phase('flood-1byte', '127.0.0.1', 1);
my $log = PostgreSQL::Test::Utils::slurp_file($node->logfile);
my @limit = $log =~ /(HTTP API at its limit of \d+ connections: closed \d+ .*? refused \d+ new ones)/g;
print $TTY "agent log: $_\n" for @limit;
$node->stop;
zk_stop($zk);
my $ok = $base[0] + $same[0] + $other[0] + $first[0] == 0
  && $same[1] <= 100 && $other[1] <= 100 && $first[1] <= 100;
print $TTY $ok ? "PASS: no failure, p99 under flood <= 100 ms\n" : "FAIL: failures or p99 over 100 ms\n";
exit($ok ? 0 : 1);
