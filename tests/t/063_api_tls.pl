# The agent's API over TLS (pg_ha.api_certfile, keyfile, cafile,
# verify_client), with certificates from scripts/make-certs.sh, on two
# supervised nodes and a real ZooKeeper:
#  - real HAProxy checks the agents with check-ssl verify required
#    (option httpchk GET /master): the primary UP, the replica DOWN, and
#    after a switchover asked over HTTPS the other way round;
#  - pg_ha_router's check-ssl marks the primary up; with another CA it
#    marks nothing up;
#  - unsafe requests: missing or wrong credentials 401, no client
#    certificate (verify_client optional) 403, clear text from off loopback
#    403 (and over TLS from there it passes), an address the allowlist
#    (a host name, resolved in the background) does not have 403, and
#    allowlist_include_members after a reload;
#  - a garbage handshake and a stalled one are closed, and the agent
#    answers meanwhile, in the same process;
#  - a certificate that cannot be loaded: a clear error, and no plain API.
use strict;
use warnings;
use IO::Select;
use IO::Socket::INET;
use IPC::Run ();
use MIME::Base64;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use PgHaTest;
use PgHaNode;

my $srcdir = $ENV{PGHA_SRCDIR};
my $nl = $ENV{PGHA_NONLOOPBACK_ADDR};    # run-tap.sh's veth address, as root
my $certs = PostgreSQL::Test::Utils::tempdir('certs');
my $other = PostgreSQL::Test::Utils::tempdir('other_ca');
my $tls2_sans = 'DNS:tls2,DNS:localhost,IP:127.0.0.1,IP:::1' . ($nl ? ",IP:$nl" : '');
system("$srcdir/scripts/make-certs.sh", $certs, 'tls1', "tls2=$tls2_sans") == 0
  or BAIL_OUT('make-certs.sh failed');
system("$srcdir/scripts/make-certs.sh", $other, 'tls1') == 0 or BAIL_OUT('make-certs.sh failed');

my $zk = zk_start();
my %port = map { $_ => PostgreSQL::Test::Cluster::get_free_port() } qw(api1 api2);
my $common = "api_auth = admin:s3cret\napi_cafile = $certs/ca.crt\nmaximum_lag_on_failover = 1MB\n";
my $n1 = PgHaNode->new(name => 'tls1', zk_hosts => $zk->{hosts}, api_port => $port{api1},
	api_listen => "*:$port{api1}",
	extra => $common . "api_certfile = $certs/tls1.crt\napi_keyfile = $certs/tls1.key\n"
	  . "api_verify_client = optional\napi_allowlist = localhost\n");
my $n2 = PgHaNode->new(name => 'tls2', zk_hosts => $zk->{hosts}, api_port => $port{api2},
	api_listen => "*:$port{api2}",
	extra => $common . "api_certfile = $certs/tls2.crt\napi_keyfile = $certs/tls2.key\n");
$n1->start;
ok(wait_until(sub { $n1->is_primary }, 90, 'tls1 primary'), 'tls1 leads (plain GET from loopback)');
$n2->start;
ok(wait_until(sub { $n2->is_replica }, 120, 'tls2 replica'), 'tls2 streams');

# curl: (HTTP status, body, curl's exit code)
sub curl
{
	my (@args) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run(['curl', '-s', '-S', '-m', '10', '-o', '-', '-w', "\n%{http_code}", @args],
		'>', \$out, '2>', \$err, IPC::Run::timeout(30));
	my $rc = $? >> 8;
	my ($body, $code) = $out =~ /\A(.*)\n(\d{3})\z/s;
	return ($code // 0, $body // '', $rc, $err);
}
my @ca = ('--cacert', "$certs/ca.crt");
my @cert = ('--cert', "$certs/client.crt", '--key', "$certs/client.key");
my @cred = ('-u', 'admin:s3cret');
my $https1 = "https://127.0.0.1:$port{api1}";
my $https2 = "https://127.0.0.1:$port{api2}";

my ($code, $body, $rc, $err) = curl(@ca, "$https1/master");
is($code, 200, 'GET /master over HTTPS, the server verified against the CA: 200') or diag($err);
($code, undef, $rc) = curl('--cacert', "$other/ca.crt", "$https1/master");
is($rc, 60, 'with another CA the client refuses the agent\'s certificate');
($code) = curl(@ca, "$https2/replica");
is($code, 200, 'GET /replica over HTTPS on the replica: 200');
(undef, $body) = curl(@ca, "$https1/cluster");
like($body, qr{"api_url": ?"https://127\.0\.0\.1:$port{api1}/patroni"}, 'the member\'s api_url is https://');

# --- unsafe requests (DELETE /restart: 404 "no restarts are scheduled" once allowed)
my $pass = qr/no restarts are scheduled/;
($code, $body) = curl(@ca, '-X', 'DELETE', "$https1/restart");
is($code, 403, 'HTTPS without a client certificate (verify_client optional): 403');
like($body, qr/client certificate is required/, '... saying a client certificate is required');
($code) = curl(@ca, @cert, '-X', 'DELETE', "$https1/restart");
is($code, 401, 'HTTPS with a certificate, no credentials: 401');
($code) = curl(@ca, @cert, '-u', 'admin:wrong', '-X', 'DELETE', "$https1/restart");
is($code, 401, 'HTTPS with a certificate, wrong credentials: 401');
ok(wait_until(sub { (curl(@ca, @cert, @cred, '-X', 'DELETE', "$https1/restart"))[0] == 404 }, 20,
		'allowlist name looked up'), 'HTTPS, certificate and credentials, from 127.0.0.1 (localhost): allowed');
($code, $body) = curl(@ca, @cert, @cred, '--interface', '127.0.0.2', '-X', 'DELETE', "$https1/restart");
is($code, 403, 'the same from 127.0.0.2, not in api_allowlist = localhost: 403');
like($body, qr/not in pg_ha.api_allowlist/, '... saying so');
($code, $body) = curl(@cred, '-X', 'DELETE', "http://127.0.0.1:$port{api2}/restart");
is($code, 404, 'clear text with credentials from loopback: allowed');
like($body, $pass, '... and answered');
SKIP:
{
	skip 'no non-loopback address (run-tap.sh makes one as root)', 5 unless $nl;
	my @from = ('--interface', $nl);
	($code, $body) = curl(@from, @cred, '-X', 'DELETE', "http://$nl:$port{api2}/restart");
	is($code, 403, "clear text with credentials from $nl: 403");
	like($body, qr/need HTTPS/, '... saying HTTPS is needed');
	($code, $body) = curl(@from, @ca, @cred, '-X', 'DELETE', "https://$nl:$port{api2}/restart");
	is($code, 404, "the same over HTTPS from $nl: allowed");
	like($body, $pass, '... and answered');
	($code) = curl(@from, "http://$nl:$port{api2}/replica");
	is($code, 200, "a clear-text GET from $nl is served (reads carry no credentials)");
}

# --- api_allowlist_include_members, set by a reload: the members' api_url hosts (127.0.0.1) may
$n2->psql("ALTER SYSTEM SET pg_ha.api_allowlist = '192.0.2.1'");
$n2->psql("ALTER SYSTEM SET pg_ha.api_allowlist_include_members = on");
$n2->psql('SELECT pg_reload_conf()');
ok(wait_until(sub { (curl(@cred, '--interface', '127.0.0.2', '-X', 'DELETE', "http://127.0.0.1:$port{api2}/restart"))[0] == 403 },
		20, 'reloaded allowlist refuses 127.0.0.2'), 'after a reload, 127.0.0.2 (not a member) is refused');
($code, $body) = curl(@cred, '-X', 'DELETE', "http://127.0.0.1:$port{api2}/restart");
is($code, 404, 'and 127.0.0.1, the members\' api_url host, is allowed (allowlist_include_members)');
$n2->psql('ALTER SYSTEM RESET pg_ha.api_allowlist');
$n2->psql('ALTER SYSTEM RESET pg_ha.api_allowlist_include_members');
$n2->psql('SELECT pg_reload_conf()');
ok(wait_until(sub { (curl(@cred, '--interface', '127.0.0.2', '-X', 'DELETE', "http://127.0.0.1:$port{api2}/restart"))[0] == 404 },
		20, 'allowlist reset'), 'reset by a reload, 127.0.0.2 is allowed again');

# --- handshake garbage and a stalled handshake
my $agent1 = agent_pid({ _pid => $n1->postmaster_pid });
ok($agent1 > 0, "tls1's agent runs as pid $agent1");

sub raw_conn
{
	my ($bytes) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port{api1}, Timeout => 5)
	  or return undef;
	syswrite($s, $bytes);
	return $s;
}

# seconds until the agent closes s (reading whatever it sends), or undef
sub closed_within
{
	my ($s, $max) = @_;
	my $t0 = time;
	my $sel = IO::Select->new($s);
	while (time - $t0 < $max)
	{
		next unless $sel->can_read(0.2);
		my $n = sysread($s, my $buf, 4096);
		return time - $t0 if !$n;
	}
	return undef;
}
my $garbage = raw_conn("\x16\x03\x01\x00\x10" . join('', map { chr(($_ * 53 + 7) % 256) } 1 .. 16));
ok(defined closed_within($garbage, 5), 'a garbage TLS record: the agent closes the connection');
my $stalled = raw_conn("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");    # a ClientHello's first bytes
my $t0 = time;
($code) = curl(@ca, "$https1/master");
is($code, 200, 'with a handshake stalled, the agent answers over HTTPS');
ok(time - $t0 < 2, sprintf('... at once (%.2f s)', time - $t0));
my $took = closed_within($stalled, 10);
ok(defined $took && $took < 8, sprintf('the stalled handshake is closed after the request timeout (%s s)',
		defined $took ? sprintf('%.1f', $took) : 'never'));
my @idle = grep { defined } map { raw_conn("\x16\x03\x01\x02\x00") } 1 .. 40;
is(scalar(@idle), 40, '40 more stalled handshakes opened');
($code) = curl(@ca, "$https1/master");
is($code, 200, 'past the connection cap of stalled handshakes the agent still answers');
close $_ for @idle;
is(agent_pid({ _pid => $n1->postmaster_pid }), $agent1, 'the agent is the same process');

# --- HAProxy: check-ssl verify required against the agents
my ($hap, $hap_dir, $hap_stats);
SKIP:
{
	skip 'haproxy not installed', 2 unless -x '/usr/sbin/haproxy';
	$hap_dir = PostgreSQL::Test::Utils::tempdir('haproxy');
	my ($hap_port, $stats_port) = map { PostgreSQL::Test::Cluster::get_free_port() } 1 .. 2;
	my ($p1, $p2) = ($n1->port, $n2->port);
	PostgreSQL::Test::Utils::append_to_file("$hap_dir/haproxy.cfg",
		haproxy_config(stats_port => $stats_port, listen => <<"CFG"));
listen postgres
  bind 127.0.0.1:$hap_port
  option httpchk GET /master
  http-check expect status 200
  default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions check-ssl verify required ca-file $certs/ca.crt crt $certs/client.pem
  server tls1 127.0.0.1:$p1 maxconn 100 check port $port{api1}
  server tls2 127.0.0.1:$p2 maxconn 100 check port $port{api2}
CFG
	$hap = IPC::Run::start(['/usr/sbin/haproxy', '-db', '-f', "$hap_dir/haproxy.cfg"],
		'>', "$hap_dir/haproxy.log", '2>&1');
	$hap_stats = sub { haproxy_status($stats_port, 'postgres') };
	ok(wait_until(sub { my $s = $hap_stats->(); ($s->{tls1} // '') eq 'UP' && ($s->{tls2} // '') =~ /^DOWN/ },
			30, 'haproxy tls1 UP, tls2 DOWN'),
		'HAProxy (check-ssl verify required) marks the primary UP and the replica DOWN')
	  or diag(PostgreSQL::Test::Utils::slurp_file("$hap_dir/haproxy.log"));
}

# --- pg_ha_router: check-ssl with the right CA and with another one
sub start_router
{
	my ($name, $ca, $extra) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir("router_$name");
	my ($write, $stats) = map { PostgreSQL::Test::Cluster::get_free_port() } 1 .. 2;
	PostgreSQL::Test::Utils::append_to_file("$dir/router.conf", <<"CONF");
listen write 127.0.0.1:$write
listen stats 127.0.0.1:$stats
@{[ $extra // 'check primary path /master interval 1s fall 2 rise 1 timeout 2s' ]}
check-ssl on
check-verify required
check-ca $ca
node tls1 127.0.0.1:@{[ $n1->port ]} check 127.0.0.1:$port{api1}
node tls2 127.0.0.1:@{[ $n2->port ]} check 127.0.0.1:$port{api2}
CONF
	my $h = IPC::Run::start(["$srcdir/router/pg_ha_router", '-c', "$dir/router.conf"],
		'>', "$dir/router.log", '2>&1');
	return { h => $h, stats => $stats, dir => $dir };
}

sub router_up
{
	my ($r) = @_;
	my (undef, $m) = http_request($r->{stats}, "GET /metrics HTTP/1.0\r\n\r\n", timeout => 3);
	my %up = $m =~ /^pg_ha_router_node_up\{service="write",node="(\w+)"\} (\d)$/mg;
	return \%up;
}
my $good = start_router('good', "$certs/ca.crt");
my $bad = start_router('bad', "$other/ca.crt");
ok(wait_until(sub { my $u = router_up($good); ($u->{tls1} // 0) == 1 && ($u->{tls2} // 1) == 0 }, 30,
		'router: tls1 up over TLS'), 'the router\'s TLS check marks the primary up, the replica not')
  or diag(PostgreSQL::Test::Utils::slurp_file("$good->{dir}/router.log"));
my (undef, $json) = http_request($bad->{stats}, "GET /stats.json HTTP/1.0\r\n\r\n");
ok(wait_until(sub { (http_request($bad->{stats}, "GET /stats.json HTTP/1.0\r\n\r\n"))[1] =~ /L6RSP certificate/ },
		15, 'bad router: L6RSP'), 'with another CA the router\'s checks fail on the certificate');
my $u = router_up($bad);
ok(defined $u->{tls1} && $u->{tls1} == 0 && $u->{tls2} == 0, 'and it marks no node up');
my ($ok_cfg, $cfg_err) = ('', '');
PostgreSQL::Test::Utils::append_to_file("$bad->{dir}/missing.conf",
	"listen write 127.0.0.1:1\nnode a 127.0.0.1:2 ssl on ca $bad->{dir}/no-such-ca.crt\n");
IPC::Run::run(["$srcdir/router/pg_ha_router", '-t', '-c', "$bad->{dir}/missing.conf"], '>', \$ok_cfg, '2>', \$cfg_err);
like($cfg_err, qr/node a: TLS checks: ca .*no-such-ca\.crt/, 'a CA file that cannot be read: a clear configuration error');

# --- a switchover asked over HTTPS; HAProxy and the router follow
my $sw = '{"leader": "tls1", "candidate": "tls2"}';
($code, $body) = curl(@ca, @cert, @cred, '-X', 'POST', '-H', 'Content-Type: application/json', '-d', $sw,
	"$https1/switchover");
is($code, 202, 'POST /switchover over HTTPS on the leader: 202') or diag($body);
ok(wait_until(sub { $n2->is_primary && $n1->is_replica }, 90, 'tls2 leads'), 'tls2 leads, tls1 follows');
SKIP:
{
	skip 'haproxy not installed', 1 unless $hap;
	ok(wait_until(sub { my $s = $hap_stats->(); ($s->{tls2} // '') eq 'UP' && ($s->{tls1} // '') =~ /^DOWN/ },
			30, 'haproxy tls2 UP, tls1 DOWN'), 'HAProxy follows the switchover over TLS');
	$hap->kill_kill;
}
ok(wait_until(sub { my $u = router_up($good); ($u->{tls2} // 0) == 1 && ($u->{tls1} // 1) == 0 }, 30,
		'router: tls2 up'), 'the router follows it too');
$_->{h}->kill_kill for $good, $bad;
for my $n ($n1, $n2)
{
	unlike($n->postgres_log, qr/terminated by signal/,
		$n->name . ': no process of postgres died on a signal (the wrong CA\'s failed handshakes included)');
}

# --- a certificate that cannot be loaded: a clear error, and no plain API instead
$n2->stop;
$n1->stop;
$n2->{extra} =~ s{api_certfile = \S+}{api_certfile = $certs/no-such.crt};
$n2->write_conf;
$n2->start;
ok(wait_until(sub { $n2->postgres_log =~ /could not set up TLS for the HTTP API; it is not served/ }, 60,
		'TLS error logged'), 'a certificate file that cannot be read: the agent says it does not serve the API');
like($n2->postgres_log, qr/DETAIL:.*no-such\.crt/, '... naming the file in the detail');
like($n2->postgres_log, qr/HINT:.*pg_ha\.api_certfile/, '... with a hint');
is(scalar($n2->psql('SELECT 1')), '1', 'postgres itself runs');
ok(!IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port{api2}, Timeout => 2),
	'and nothing listens on the API port: no plain HTTP instead');
$n2->stop;

# --- verify_client = required: every TLS client needs a certificate; the router's check-crt
$n1->{extra} =~ s{api_verify_client = optional}{api_verify_client = required};
$n1->write_conf;
$n1->start;
ok(wait_until(sub { (curl(@ca, @cert, "$https1/health"))[0] == 200 }, 60, 'tls1 up with verify_client required'),
	'verify_client = required: with a client certificate, GET /health over HTTPS answers 200');
(undef, undef, $rc) = curl(@ca, "$https1/health");
isnt($rc, 0, 'without one the handshake fails');
my $health = 'check primary path /health interval 1s fall 2 rise 1 timeout 2s';
my $with_crt = start_router('crt', "$certs/ca.crt", "$health\ncheck-crt $certs/client.pem");
my $without = start_router('nocrt', "$certs/ca.crt", $health);
ok(wait_until(sub { (router_up($with_crt)->{tls1} // 0) == 1 }, 30, 'router with check-crt: tls1 up'),
	'the router with check-crt passes the check')
  or diag(PostgreSQL::Test::Utils::slurp_file("$with_crt->{dir}/router.log"));
ok(wait_until(sub { (http_request($without->{stats}, "GET /stats.json HTTP/1.0\r\n\r\n"))[1] =~ /L6RSP/ }, 15,
		'router without check-crt: L6RSP'), 'without it the check fails in the handshake');
is(router_up($without)->{tls1}, 0, 'and the node is not up');
$_->{h}->kill_kill for $with_crt, $without;
$n1->stop;
zk_stop($zk);
done_testing();
