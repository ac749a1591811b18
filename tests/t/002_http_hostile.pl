# The agent's HTTP API under hostile and heavy input, on a live node with a
# real ZooKeeper: malformed, oversized, truncated, binary and slow requests
# get an HTTP error or a closed connection, never a crash or a postgres
# restart; 10,000 requests in a row all succeed without memory growth.
use strict;
use warnings;
use IO::Socket::INET;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use PgHaTest;

my $zk = zk_start();
my $node = pg_ha_node(name => 'hostile1', zk => $zk,
	extra => "pg_ha.api_max_connections = 8\npg_ha.api_auth = 'admin:s3cret'\n");
$node->start;
my $api = $node->{pg_ha_api_port};
ok(wait_until(sub { http_status($api, 'GET', '/master') == 200 }, 30, '/master 200'),
	'leader before the abuse');
my $started = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');
my $agent = agent_pid($node);
ok($agent > 0, "agent runs as pid $agent");

my @cases = (
	['request line too long', 'GET /' . ('a' x 5000) . " HTTP/1.0\r\n\r\n", 414],
	['headers too large', "GET / HTTP/1.0\r\n" . ("X-Pad: " . ('b' x 1000) . "\r\n") x 9 . "\r\n", 431],
	['too many headers', "GET / HTTP/1.0\r\n" . join('', map { "H$_: v\r\n" } 1 .. 40) . "\r\n", 431],
	['binary garbage', join('', map { chr(($_ * 37 + 11) % 256) } 1 .. 300) . "\r\n\r\n", 400],
	['NUL in the request line', "GET /ma\0ster HTTP/1.0\r\n\r\n", 400],
	['NUL in a header', "GET /master HTTP/1.0\r\nX: a\0b\r\n\r\n", 400],
	['no version', "GET /master\r\n\r\n", 400],
	['HTTP/2.0', "GET /master HTTP/2.0\r\n\r\n", 505],
	['unknown method', "BREW /master HTTP/1.0\r\n\r\n", 405],
	['POST to a health path', "POST /master HTTP/1.0\r\nContent-Length: 0\r\n\r\n", 405],
	['absolute-form target', "GET http://x/master HTTP/1.0\r\n\r\n", 400],
	['bad Content-Length', "POST /switchover HTTP/1.0\r\nContent-Length: -5\r\n\r\n", 400],
	['chunked body', "POST /switchover HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400],
	['body too large', "POST /switchover HTTP/1.0\r\nContent-Length: 999999\r\n\r\n", 413],
	['POST without credentials', "POST /switchover HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}", 401],
	['POST with wrong credentials',
		"POST /switchover HTTP/1.0\r\nAuthorization: Basic YWRtaW46d3Jvbmc=\r\nContent-Length: 2\r\n\r\n{}", 401],
	['POST with broken base64',
		"POST /switchover HTTP/1.0\r\nAuthorization: Basic !!!!\r\nContent-Length: 2\r\n\r\n{}", 401],
	['lag that is not a size', "GET /replica?lag=lots HTTP/1.0\r\n\r\n", 503],
	['percent-encoded path', "GET /%6Daster HTTP/1.0\r\n\r\n", 503],
);
for my $c (@cases)
{
	my ($what, $raw, $want) = @$c;
	my ($status) = http_request($api, $raw);
	is($status, $want, "$what: $want");
}

# truncated requests and early closes: the agent just drops them
for my $raw ("GET /mas", "GET /master HTTP/1.0\r\nHost:", "\r\n", "")
{
	my ($status) = http_request($api, $raw, half_close => 1, timeout => 7);
	ok($status == 0 || $status == 400 || $status == 408,
		'truncated request ' . length($raw) . " bytes: closed or error ($status)");
}

# a slow client gets 408 after the 2 s request timeout
my $t0 = time;
my ($slow_status) = http_request($api, "GET /master HTTP/1.0\r\n", timeout => 15);
my $slow_time = time - $t0;
is($slow_status, 408, 'slow client: 408');
ok($slow_time >= 1.5 && $slow_time < 8, sprintf('after the 2 s request timeout (%.1f s)', $slow_time));

# more idle connections than the cap: an incomplete one makes room for each new one
my @idle;
for (1 .. 20)
{
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $api, Timeout => 2);
	push @idle, $s if $s;
}
is(scalar(@idle), 20, '20 idle connections opened against a cap of 8');
ok(wait_until(sub { http_status($api, 'GET', '/master') == 200 }, 20, '/master answered'),
	'health checks are served while idle connections fill the cap');
close $_ for @idle;

# 10,000 requests in a row: no error, no memory growth
my ($rss0, $anon0) = rss_kb($agent);
my ($errors, $t_start) = (0, time);
for my $i (1 .. 10000)
{
	my $st = http_status($api, $i % 3 ? 'GET' : 'OPTIONS', '/master');
	$errors++ if $st != 200;
	if ($i == 1000)
	{
		($rss0, $anon0) = rss_kb($agent);    # after warm-up
	}
}
my $elapsed = time - $t_start;
my ($rss1, $anon1) = rss_kb($agent);
is($errors, 0, '10,000 health requests, no error');
diag(sprintf('10,000 requests in %.1f s (%.0f/s); agent VmRSS %d kB -> %d kB, RssAnon %d kB -> %d kB',
	$elapsed, 10000 / $elapsed, $rss0, $rss1, $anon0, $anon1));
ok($anon1 - $anon0 < 256, "no growth of the agent's private memory ("
	  . ($anon1 - $anon0) . ' kB over 9,000 requests)');
ok($anon1 < 5 * 1024, "agent's private memory under 5 MB ($anon1 kB)");

# nothing crashed
is(agent_pid($node), $agent, 'the agent is the same process');
is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $started,
	'postgres was not restarted');
is(http_status($api, 'GET', '/master'), 200, 'and still answers 200 on /master');
my $log = PostgreSQL::Test::Utils::slurp_file($node->logfile);
unlike($log, qr/terminated by signal|server process .* was terminated/, 'no crash in the server log');

$node->stop;
zk_stop($zk);
done_testing();
