# Planned switchover, with supervised nodes and a real ZooKeeper:
#  (g) both ways, through SQL (ha_switchover) and HTTP (POST /switchover),
#      called on a replica (waits for the new leader) and on the leader;
#  (h) every bad request is refused with a clear error and a hint, and
#      nothing changes: unknown member, the leader itself, a nofailover
#      member, a candidate too far behind, no replica at all, a switchover
#      already running, no permission, no credentials, a malformed body.
use strict;
use warnings;
use MIME::Base64;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use PgHaTest;
use PgHaNode;

my $zk = zk_start();
my $auth = "api_auth = admin:s3cret\nmaximum_lag_on_failover = 1MB\n";
my $n1 = PgHaNode->new(name => 'n1', zk_hosts => $zk->{hosts}, extra => $auth);
my $n2 = PgHaNode->new(name => 'n2', zk_hosts => $zk->{hosts}, extra => $auth);
my $n3 = PgHaNode->new(name => 'n3', zk_hosts => $zk->{hosts}, extra => $auth . "nofailover = on\n");
my @nodes = ($n1, $n2, $n3);

PgHaNode::start_cluster($n1, $n2, $n3);
$n1->psql('CREATE TABLE t (x int)');
settled($n1, 'the leader sees both replicas running');

sub leader_is
{
	my ($node, $what) = @_;
	ok(wait_until(sub { PgHaNode::primary_of(@nodes) && PgHaNode::primary_of(@nodes) == $node }, 60,
		$node->name . ' leads'), $what);
}

sub ha_status_roles
{
	my ($node) = @_;
	return scalar $node->psql("SELECT string_agg(name || ':' || role || ':' || state, ',' ORDER BY name) FROM ha_status()");
}

# Waits until the leader's own view agrees: it leads, the others run as
# replicas on its timeline (one still on the old timeline cannot take over).
sub settled
{
	my ($leader, $what) = @_;
	my $want = join(',', map { $_->name . ':' . ($_ == $leader ? 'leader' : 'replica') . ':running' }
		  grep { $_->running } @nodes);
	ok(wait_until(sub {
		ha_status_roles($leader) eq $want &&
		  $leader->psql('SELECT coalesce(max(lag_bytes), 0) < 65536 AND count(DISTINCT timeline) = 1 FROM ha_status()') eq 't'
	}, 60, "view $want, caught up"), $what);
}

sub post_switchover
{
	my ($node, $body, %opt) = @_;
	my $cred = $opt{cred} // 'admin:s3cret';
	my $hdr = $cred eq '' ? '' : 'Authorization: Basic ' . encode_base64($cred, '') . "\r\n";
	my ($status, $raw) = http_request($node->api_port,
		"POST /switchover HTTP/1.0\r\n${hdr}Content-Length: " . length($body) . "\r\n\r\n$body",
		timeout => 70);
	return ($status, $raw);
}

# --- (g) SQL on a replica: waits and returns the new leader
my $t0 = time;
my ($rc, $out, $err) = $n2->psql("SELECT ha_switchover('n2')", timeout => 90);
is($out, 'n2', '(g) SQL ha_switchover(\'n2\') on n2 returns the new leader') or diag($err);
diag(sprintf('(g) SQL switchover took %.2f s', time - $t0));
is($n2->in_recovery, 'f', '(g) n2 accepts writes when it returns');
$n2->psql('INSERT INTO t VALUES (1)');
leader_is($n2, '(g) n2 is the leader');
ok(wait_until(sub { $n1->is_replica }, 60, 'n1 replica'), '(g) n1 rejoins as a replica');
like($n1->supervisor_log, qr/no rewind needed/, '(g) the old leader needed no pg_rewind');
ok(wait_until(sub { ha_status_roles($n3) eq 'n1:replica:running,n2:leader:running,n3:replica:running' }, 30, 'roles'),
	'(g) ha_status() on n3 shows the new roles');
settled($n2, '(g) n2 sees the others as replicas');

# --- (g) HTTP on a replica: back to n1, 200 once n1 leads
my ($status, $raw) = post_switchover($n1, '{"leader": "n2", "candidate": "n1"}');
is($status, 200, '(g) POST /switchover on n1 answers 200') or diag($raw);
like($raw, qr/Successfully switched over to \\"n1\\"/, '(g) saying so');
leader_is($n1, '(g) n1 leads again');
ok(wait_until(sub { $n2->is_replica }, 60, 'n2 replica'), '(g) n2 rejoins as a replica');
settled($n1, '(g) n1 sees the others as replicas');

# --- (g) on the leader itself: SQL returns at once (the leader steps down)
($rc, $out, $err) = $n1->psql("SELECT ha_switchover()", timeout => 60);
is($out, 'n2', '(g) SQL ha_switchover() on the leader picks n2 (n3 is nofailover)');
like($err, qr/NOTICE:  this node is the leader: it steps down now/, '(g) with a notice that it steps down');
leader_is($n2, '(g) n2 leads');
ok(wait_until(sub { $n1->is_replica }, 60, 'n1 replica'), '(g) n1 rejoins');
settled($n2, '(g) n2 sees the others as replicas');

# --- (g) HTTP on the leader: 202
($status, $raw) = post_switchover($n2, '{"leader": "n2", "candidate": "n1"}');
is($status, 202, '(g) POST /switchover on the leader answers 202') or diag($raw);
leader_is($n1, '(g) n1 leads');
ok(wait_until(sub { $n2->is_replica && $n3->is_replica }, 60, 'replicas'), '(g) both others are replicas');
settled($n1, '(g) n1 sees the others as replicas');
$n1->psql('INSERT INTO t VALUES (2)');
is($n1->psql('SELECT string_agg(x::text, \',\' ORDER BY x) FROM t'), '1,2', '(g) every write survived');

# --- (h) bad requests: an error, a hint, and nothing changes
sub refused
{
	my ($node, $sql, $pattern, $what) = @_;
	my ($rc, $out, $err) = $node->psql($sql, timeout => 30);
	ok($rc != 0, "(h) $what: refused");
	like($err, $pattern, "(h) $what: clear error");
	like($err, qr/HINT:/, "(h) $what: with a hint");
}

refused($n2, "SELECT ha_switchover('nosuch')", qr/"nosuch" is not a member/, 'unknown member');
refused($n2, "SELECT ha_switchover('n1')", qr/"n1" is already the leader/, 'the leader itself');
refused($n2, "SELECT ha_switchover('n3')", qr/"n3" is tagged nofailover/, 'nofailover member');

# too far behind: freeze n2's WAL receiver, write 4 MB on the leader
my $walrcv = $n2->psql("SELECT pid FROM pg_stat_wal_receiver");
ok($walrcv =~ /^\d+$/, 'n2 has a WAL receiver');
kill 'STOP', $walrcv;
$n1->psql("CREATE TABLE filler AS SELECT repeat('x', 1000) AS f FROM generate_series(1, 4000)");
ok(wait_until(sub { ($n3->psql("SELECT lag_bytes FROM ha_status() WHERE name = 'n2'") || 0) > 1048576 },
	30, 'n2 lags'), 'n3 sees n2 more than 1 MB behind');
refused($n3, "SELECT ha_switchover('n2')", qr/"n2" is \d+ bytes behind the leader, more than maximum_lag_on_failover/,
	'candidate too far behind');
kill 'CONT', $walrcv;

# a switchover already asked for (one scheduled for later: it stays until then;
# a request naming a leader that does not lead is dropped by the leader, as Patroni does)
zk_cli($zk, 'create', '/service/pg_ha_test/failover', q('{"leader":"n1","member":"n2","scheduled_at":"2099-01-01T00:00:00+00:00"}'));
ok(wait_until(sub { scalar(($n2->psql("SELECT ha_switchover('n2')"))[2] =~ /already in progress/) }, 10,
	'already running'), '(h) a switchover already running: refused');
zk_cli($zk, 'delete', '/service/pg_ha_test/failover');

# no permission
$n1->psql('CREATE ROLE mortal LOGIN');
($rc, $out, $err) = $n1->psql("SET ROLE mortal; SELECT ha_switchover('n2')");
like($err, qr/permission denied for function ha_switchover/, '(h) only superusers may call ha_switchover()');

# HTTP: no credentials, wrong body, bad candidate
($status) = post_switchover($n2, '{"candidate": "n2"}', cred => '');
is($status, 401, '(h) POST /switchover without credentials: 401');
($status) = post_switchover($n2, '{"candidate": "n2"}', cred => 'admin:wrong');
is($status, 401, '(h) POST /switchover with a wrong password: 401');
($status, $raw) = post_switchover($n2, '{"candidate": ');
is($status, 400, '(h) malformed body: 400');
($status, $raw) = post_switchover($n2, '{"leader": "n3", "candidate": "n2"}');
is($status, 412, '(h) wrong leader: 412');
like($raw, qr/leader name does not match/, '(h) saying so');
($status, $raw) = post_switchover($n2, '{"candidate": "n3"}');
is($status, 412, '(h) nofailover candidate over HTTP: 412');
like($raw, qr/tagged nofailover.*"hint"/s, '(h) with the reason and a hint');

# no replica at all: stop n2 (n3 is nofailover)
$n2->stop;
ok(wait_until(sub { $n1->psql("SELECT count(*) FROM ha_status() WHERE name = 'n2'") eq '0' }, 30, 'n2 gone'),
	'n2 is gone from the cluster');
refused($n1, 'SELECT ha_switchover()', qr/no replica can take over/, 'no replica at all');

leader_is($n1, '(h) after all the refusals n1 still leads');
is($n1->in_recovery, 'f', '(h) and accepts writes');

$_->stop for @nodes;
zk_stop($zk);
done_testing();
