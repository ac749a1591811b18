# Identity and configuration refusals, with a real ZooKeeper: a second node
# with a taken name, a data directory from another cluster, and settings
# that contradict each other are each refused with a clear message, and
# nothing of the running cluster changes.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgHaTest;

my $zk = zk_start();

my $leader = pg_ha_node(name => 'alpha', zk => $zk);
$leader->start;
ok(wait_until(sub { http_status($leader->{pg_ha_api_port}, 'GET', '/master') == 200 }, 30,
		'alpha leads'), 'alpha is the leader');
my $alpha_member = zk_get($zk, '/service/pg_ha/members/alpha');
my ($alpha_id) = $alpha_member =~ /"node_id":"([^"]+)"/;
ok($alpha_id, "alpha registered with node id $alpha_id");

# --- the same name on another node (a clone, so the same cluster)
my $dup = PostgreSQL::Test::Cluster->new('dup');
$leader->backup('bk');
$dup->init_from_backup($leader, 'bk', has_streaming => 1);
my $dup_api = PostgreSQL::Test::Cluster::get_free_port();
$dup->append_conf('postgresql.conf', <<"CONF");
listen_addresses = '127.0.0.1'
shared_preload_libraries = 'pg_ha'
pg_ha.name = 'alpha'
pg_ha.zk_hosts = '$zk->{hosts}'
pg_ha.api_listen = '127.0.0.1:$dup_api'
pg_ha.ttl = 6
pg_ha.retry_timeout = 3
CONF
$dup->start;
ok(wait_until(sub { -s $dup->logfile && slurp_file($dup->logfile) =~ /another node is already registered as "alpha"/ },
		30, 'duplicate refused'), 'a second node named "alpha" is refused with a clear message');
like(slurp_file($dup->logfile), qr/HINT:\s+Give every node its own pg_ha\.name/, 'with a hint');
like(zk_get($zk, '/service/pg_ha/members/alpha'), qr/"node_id":"\Q$alpha_id\E"/,
	'the registered alpha is still the original node');
is(zk_get($zk, '/service/pg_ha/leader'), 'alpha', 'the leader key is untouched');
my (undef, $body) = http_request($dup_api, "GET /patroni HTTP/1.0\r\n\r\n");
like($body, qr/another node is already registered/, 'its /patroni says why');
is(http_status($dup_api, 'GET', '/replica'), 200, 'the refused node still serves as a plain replica (/replica)');
$dup->stop;

# --- a data directory from another cluster
my $foreign = pg_ha_node(name => 'foreign', zk => $zk);
$foreign->start;
my $foreign_api = $foreign->{pg_ha_api_port};
ok(wait_until(sub { slurp_file($foreign->logfile) =~ /refusing to join cluster "pg_ha": this data directory belongs to another cluster/ },
		30, 'foreign refused'), 'a data directory from another cluster is refused');
like(slurp_file($foreign->logfile), qr/DETAIL:\s+The system identifier is \d+; the cluster's \(in \S+\) is \d+/,
	'the detail names both system identifiers');
is(zk_get($zk, '/service/pg_ha/members/foreign'), undef, 'it is not registered');
is(http_status($foreign_api, 'GET', '/master'), 503, 'and, though a running primary, it is not the leader');
is(zk_get($zk, '/service/pg_ha/leader'), 'alpha', 'the leader key is untouched');
$foreign->stop;

# --- contradicting settings: ttl must exceed retry_timeout
my $bad = pg_ha_node(name => 'badconf', zk => $zk, extra => "pg_ha.ttl = 3\npg_ha.retry_timeout = 5\n");
$bad->start;
my $bad_api = $bad->{pg_ha_api_port};
ok(wait_until(sub { http_status($bad_api, 'GET', '/health') == 200 }, 30, 'badconf API up'),
	'the API answers even with bad settings');
my (undef, $status) = http_request($bad_api, "GET /patroni HTTP/1.0\r\n\r\n");
like($status, qr/pg_ha\.retry_timeout must be less than pg_ha\.ttl/, '/patroni names the problem');
is(http_status($bad_api, 'GET', '/master'), 503, 'a misconfigured primary does not claim leadership');
like(slurp_file($bad->logfile), qr/pg_ha: the agent will not act: pg_ha\.retry_timeout must be less than pg_ha\.ttl/,
	'the log says so');
is(zk_get($zk, '/service/pg_ha/members/badconf'), undef, 'and it never touched ZooKeeper');
$bad->stop;

is(http_status($leader->{pg_ha_api_port}, 'GET', '/master'), 200, 'alpha leads throughout');
$leader->stop;
zk_stop($zk);
done_testing();
