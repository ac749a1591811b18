# Two nodes with a real ZooKeeper: registration, leader key, health codes on
# both, and Debian's HAProxy configured like the lab's haproxy.cfg routing
# writes to the primary.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgHaTest;

my $zk = zk_start();

my $primary = pg_ha_node(name => 'node1', zk => $zk);
$primary->start;
my $api1 = $primary->{pg_ha_api_port};
ok(wait_until(sub { http_status($api1, 'GET', '/master') == 200 }, 30, 'node1 /master 200'),
	'primary answers 200 on /master');

my $replica = pg_ha_node(name => 'node2', zk => $zk, primary => $primary);
$replica->start;
my $api2 = $replica->{pg_ha_api_port};
ok(wait_until(sub { http_status($api2, 'GET', '/replica') == 200 }, 30, 'node2 /replica 200'),
	'replica answers 200 on /replica');

# --- ZooKeeper itself, read with ZooKeeper's own client
is(zk_get($zk, '/service/pg_ha/leader'), 'node1', 'leader key in ZooKeeper names the primary');
like(zk_get($zk, '/service/pg_ha/members/node1'), qr/"role":"master"/, 'member node1 registered as master');
like(zk_get($zk, '/service/pg_ha/members/node2'), qr/"role":"replica"/, 'member node2 registered as replica');
like(zk_get($zk, '/service/pg_ha/initialize'), qr/^\d+$/, 'cluster initialized with a system identifier');
is(zk_get($zk, '/service/pg_ha/initialize'),
	$primary->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()'),
	'initialize key holds the primary\'s system identifier');

# --- health codes (Patroni's rules) on both nodes
my %expect = (
	'/'                  => [200, 503],
	'/master'            => [200, 503],
	'/primary'           => [200, 503],
	'/leader'            => [200, 503],
	'/read-write'        => [200, 503],
	'/replica'           => [503, 200],
	'/replica?lag=1GB'   => [503, 200],
	'/read-only'         => [200, 200],
	'/health'            => [200, 200],
	'/liveness'          => [200, 200],
	'/readiness'         => [200, 200],
	'/async'             => [503, 200],
	'/sync'              => [503, 503],
	'/standby-leader'    => [503, 503],
	'/replica?tag_nofailover=false' => [503, 200],
	'/replica?tag_nofailover=true'  => [503, 503],
	'/no-such-endpoint'  => [503, 503],
	'/patroni'           => [200, 200],
	'/cluster'           => [200, 200],
	'/metrics'           => [200, 200],
	'/config'            => [200, 200],
);
for my $path (sort keys %expect)
{
	for my $method ('GET', 'HEAD', 'OPTIONS')
	{
		next if $method ne 'GET' && $path =~ m{^/(patroni|cluster|metrics|config)$};
		is(http_status($api1, $method, $path), $expect{$path}[0], "node1 $method $path");
		is(http_status($api2, $method, $path), $expect{$path}[1], "node2 $method $path");
	}
}

# HEAD and OPTIONS answer with the status line only (what HAProxy reads)
my (undef, $raw) = http_request($api1, "OPTIONS / HTTP/1.0\r\n\r\n");
is($raw, "HTTP/1.0 200 OK\r\n\r\n", 'OPTIONS / is the bare status line');
(undef, $raw) = http_request($api2, "HEAD /master HTTP/1.1\r\nHost: x\r\n\r\n");
is($raw, "HTTP/1.0 503 Service Unavailable\r\n\r\n", 'HEAD /master on the replica is the bare 503 line');

# status JSON keeps Patroni's field names
my (undef, $body1) = http_request($api1, "GET /patroni HTTP/1.0\r\n\r\n");
is(json_field($body1, 'role'), 'master', '/patroni role master on node1');
is(json_field($body1, 'state'), 'running', '/patroni state running');
like($body1, qr/"xlog":\{"location":\d+\}/, 'primary xlog has location');
my (undef, $body2) = http_request($api2, "GET /patroni HTTP/1.0\r\n\r\n");
is(json_field($body2, 'role'), 'replica', '/patroni role replica on node2');
like($body2, qr/"xlog":\{"received_location":\d+,"replayed_location":\d+/, 'replica xlog has received/replayed');
my (undef, $cluster) = http_request($api2, "GET /cluster HTTP/1.0\r\n\r\n");
like($cluster, qr/"name":"node1","role":"leader"/, '/cluster on the replica shows node1 as leader');
like($cluster, qr/"name":"node2","role":"replica"/, '/cluster shows node2 as replica');
my (undef, $metrics) = http_request($api1, "GET /metrics HTTP/1.0\r\n\r\n");
like($metrics, qr/^patroni_master\{scope="pg_ha",name="node1"\} 1$/m, '/metrics patroni_master 1 on the leader');

# --- ha_status() from either node
$primary->safe_psql('postgres', 'CREATE EXTENSION pg_ha');
$primary->wait_for_catchup($replica);
for my $node ($primary, $replica)
{
	my $rows = $node->safe_psql('postgres',
		"SELECT name || ':' || role || ':' || state FROM ha_status() ORDER BY name");
	is($rows, "node1:leader:running\nnode2:replica:running",
		'ha_status() on ' . $node->name . ' lists both members with their roles');
}

# --- HAProxy, configured like the lab's haproxy.cfg
SKIP:
{
	skip 'haproxy not installed', 4 unless -x '/usr/sbin/haproxy';
	my $hap_port = PostgreSQL::Test::Cluster::get_free_port();
	my $stats_port = PostgreSQL::Test::Cluster::get_free_port();
	my $dir = PostgreSQL::Test::Utils::tempdir('haproxy');
	my ($p1, $p2) = ($primary->port, $replica->port);
	PostgreSQL::Test::Utils::append_to_file("$dir/haproxy.cfg", haproxy_config(
		stats_port => $stats_port, defaults => "  log global\n  retries 2\n", listen => <<"CFG"));
listen postgres
  bind 127.0.0.1:$hap_port
  option httpchk GET /master
  http-check expect status 200
  default-server inter 3s fall 3 rise 2 on-marked-down shutdown-sessions
  server postgresql_node1 127.0.0.1:$p1 maxconn 100 check port $api1
  server postgresql_node2 127.0.0.1:$p2 maxconn 100 check port $api2
CFG
	my $hap = IPC::Run::start(['/usr/sbin/haproxy', '-db', '-f', "$dir/haproxy.cfg"],
		'>', "$dir/haproxy.log", '2>&1');
	my $stats = sub { haproxy_status($stats_port, 'postgres') };
	ok(wait_until(sub { my $s = $stats->(); ($s->{postgresql_node1} // '') eq 'UP'
		  && ($s->{postgresql_node2} // '') =~ /^DOWN/ }, 60, 'haproxy node1 UP, node2 DOWN'),
		'HAProxy shows the primary UP and the replica DOWN');

	my $via = $primary->safe_psql('postgres', 'SELECT 1');    # warm
	my $server_port = `psql -X -A -t -h 127.0.0.1 -p $hap_port -U $ENV{USER} -d postgres -c 'SELECT inet_server_port()' 2>&1`;
	chomp $server_port;
	is($server_port, $p1, 'a connection through HAProxy lands on the primary');
	system('psql', '-X', '-q', '-h', '127.0.0.1', '-p', $hap_port, '-d', 'postgres', '-c',
		"CREATE TABLE t1(txt text); INSERT INTO t1 VALUES ('through haproxy')");
	is($primary->safe_psql('postgres', 'SELECT txt FROM t1'), 'through haproxy',
		'a write through HAProxy is on the primary');
	$primary->wait_for_catchup($replica);
	is($replica->safe_psql('postgres', 'SELECT txt FROM t1'), 'through haproxy',
		'and streams to the replica');
	$hap->kill_kill;
}

$replica->stop;
$primary->stop;
zk_stop($zk);
done_testing();
