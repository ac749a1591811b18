# The agent's HTTP API under a connection flood (issue 9, "health checks can
# be starved"): 1,000 idle connections and 50 byte-at-a-time ones, all from
# 127.0.0.1 like the checkers (the worst case for the per-address rule),
# reopened at once whenever the agent closes one.  Throughout, GET /health
# and GET /primary answer 200 within 1 s, and a real HAProxy checking
# /primary with `inter 1s fall 1` never marks the primary DOWN.  The agent
# stays the same process and its memory stays bounded.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use PgHaTest;
use ApiFlood;

my $FLOOD_SECONDS = 20;

my $zk = zk_start();
my $node = pg_ha_node(name => 'flood1', zk => $zk);    # api_max_connections: the default, 32
$node->start;
my $api = $node->{pg_ha_api_port};
ok(wait_until(sub { http_status($api, 'GET', '/primary') == 200 }, 30, '/primary 200'),
	'the node leads before the flood');
my $started = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');
my $agent = agent_pid($node);
ok($agent > 0, "agent runs as pid $agent");

# --- a real HAProxy with the most demanding check settings
my ($hap, $hap_stats);
SKIP:
{
	skip 'haproxy not installed', 1 unless -x '/usr/sbin/haproxy';
	my $hap_port = PostgreSQL::Test::Cluster::get_free_port();
	my $stats_port = PostgreSQL::Test::Cluster::get_free_port();
	my $dir = PostgreSQL::Test::Utils::tempdir('haproxy');
	my $pg = $node->port;
	PostgreSQL::Test::Utils::append_to_file("$dir/haproxy.cfg",
		haproxy_config(stats_port => $stats_port, connect => '1s', check => '1s', listen => <<"CFG"));
listen postgres
  bind 127.0.0.1:$hap_port
  option httpchk GET /primary
  http-check expect status 200
  default-server inter 1s fall 1 rise 1
  server flood1 127.0.0.1:$pg check port $api
CFG
	$hap = IPC::Run::start(['/usr/sbin/haproxy', '-db', '-f', "$dir/haproxy.cfg"],
		'>', "$dir/haproxy.log", '2>&1');
	# (status, checks failed, UP->DOWN transitions) of the server, from the CSV
	$hap_stats = sub {
		my (undef, $csv) = http_request($stats_port, "GET /;csv HTTP/1.0\r\n\r\n");
		for (split /\n/, $csv)
		{
			my @f = split /,/;
			return ($f[17], $f[21] || 0, $f[22] || 0) if @f > 22 && $f[0] eq 'postgres' && $f[1] eq 'flood1';
		}
		return ('', 0, 0);
	};
	ok(wait_until(sub { ($hap_stats->())[0] eq 'UP' }, 30, 'HAProxy: flood1 UP'),
		'HAProxy sees the primary UP before the flood');
}

# --- baseline
my ($rss0, $anon0) = rss_kb($agent);
my @base;
for (1 .. 50)
{
	my ($st, $sec) = ApiFlood::probe($api, '/health');
	push @base, $sec if $st == 200;
}
is(scalar(@base), 50, 'baseline: 50 health requests answered');

# --- the flood
my $flood = ApiFlood->new(port => $api, idle => 1000, slow => 50,
	seconds => $FLOOD_SECONDS + 30, dir => PostgreSQL::Test::Utils::tempdir('flood'));
ok(wait_until(sub { ($flood->status->{max_open} // 0) >= 1050 }, 30, 'the flood holds 1,050 connections'),
	'the flood holds 1,000 idle and 50 byte-at-a-time connections');

my (@lat, @bad, $hap_not_up);
my $t_end = time + $FLOOD_SECONDS;
my $next_hap = 0;
my $i = 0;
while (time < $t_end)
{
	my $path = $i++ % 2 ? '/primary' : '/health';
	my ($st, $sec, $reply) = ApiFlood::probe($api, $path, 1);
	push @lat, $sec;
	push @bad, sprintf('%s: %s after %.3f s (%s)', $path, $st, $sec, substr($reply, 0, 60))
	  if $st != 200 || $sec >= 1;
	if ($hap_stats && time >= $next_hap)
	{
		my ($status) = $hap_stats->();
		$hap_not_up //= "HAProxy said $status" if $status ne 'UP';
		$next_hap = time + 0.5;
	}
	sleep 0.02;
}
my $fst = $flood->status;
my ($rss1, $anon1) = rss_kb($agent);
cmp_ok(scalar(@lat), '>=', 100, scalar(@lat) . " health requests during the ${FLOOD_SECONDS} s flood");
is(scalar(@bad), 0, 'every /health and /primary answered 200 within 1 s during the flood')
  or diag(join("\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]));
cmp_ok($fst->{open} // 0, '>=', 1000, "the flood still held its connections at the end ($fst->{open} open)");
cmp_ok($fst->{reopened} // 0, '>', 50,
	"the agent made room: the flood had to reopen $fst->{reopened} connections");
cmp_ok($fst->{bytes} // 0, '>', 1000, "the slow connections sent $fst->{bytes} bytes one at a time");
$flood->stop;

SKIP:
{
	skip 'haproxy not installed', 2 unless $hap_stats;
	my ($status, $chkfail, $chkdown) = $hap_stats->();
	is($hap_not_up, undef, 'HAProxy (inter 1s fall 1) showed the primary UP throughout');
	ok($status eq 'UP' && $chkdown == 0 && $chkfail == 0,
		"HAProxy: status $status, $chkfail failed checks, $chkdown transitions to DOWN");
	$hap->kill_kill;
}

my ($b50, $b99, $bmax) = ApiFlood::percentiles(@base);
my ($p50, $p99, $pmax) = ApiFlood::percentiles(@lat);
diag(sprintf('health latency without flood p50 %.1f p99 %.1f max %.1f ms; under the flood p50 %.1f p99 %.1f max %.1f ms (%d requests)',
	$b50, $b99, $bmax, $p50, $p99, $pmax, scalar(@lat)));
diag("agent VmRSS $rss0 -> $rss1 kB, RssAnon $anon0 -> $anon1 kB");
ok($anon1 - $anon0 < 2048, 'agent private memory bounded under the flood (+' . ($anon1 - $anon0) . ' kB)');

# after the flood: still the same agent, same postmaster, and it said what it did
ok(wait_until(sub { http_status($api, 'GET', '/primary') == 200 }, 10, '/primary 200'),
	'/primary 200 after the flood');
is(agent_pid($node), $agent, 'the agent is the same process');
is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $started,
	'postgres was not restarted');
my $log = PostgreSQL::Test::Utils::slurp_file($node->logfile);
like($log, qr/HTTP API at its limit of 32 connections: closed \d+/, 'the agent logged that it closed connections to make room');
unlike($log, qr/terminated by signal|server process .* was terminated/, 'no crash in the server log');

$node->stop;
zk_stop($zk);
done_testing();
