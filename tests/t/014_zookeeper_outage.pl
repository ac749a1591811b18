# (e) ZooKeeper stopped for longer than ttl, then started again.
#
# What happens (and is documented in the README): nobody can prove it leads
# without ZooKeeper, so within retry_timeout the primary stops accepting
# writes (it fences itself: fast shutdown, restart as a standby), /primary
# is 503 everywhere and the replicas stay replicas: the cluster is
# read-only, never split.  When ZooKeeper is back, the leader key of the
# fenced primary's old session is released (by that node itself, or at
# session expiry) and an election makes the member with the most WAL the
# leader; the other follows it.  No acknowledged write is lost.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use PgHaTest;
use PgHaNode;

my $zk = zk_start();
my @nodes = map { PgHaNode->new(name => "z$_", zk_hosts => $zk->{hosts}) } 1 .. 2;
my ($n1, $n2) = @nodes;
$n1->start;
ok(wait_until(sub { $n1->is_primary }, 60, 'z1 leads'), 'z1 bootstraps and leads');
$n2->start;
ok(wait_until(sub { $n2->is_replica }, 90, 'z2 replica'), 'z2 is a replica');
$n1->psql('CREATE TABLE t (x int)');
$n1->psql('INSERT INTO t SELECT generate_series(1, 100)');
ok(wait_until(sub { $n2->psql('SELECT count(*) FROM t') eq '100' }, 30, 'replicated'), 'replicated');

my $postmaster = $n1->postmaster_pid;
my $t0 = time;
zk_stop($zk);
ok(wait_until(sub { !$n1->is_primary && !$n2->is_primary }, 3, 'no primary'),
	'(e) at once, no node answers 200 on /primary');
# writes go on until the fence (retry_timeout, 3 s); count what was acknowledged
my ($acked_during, $refusal) = (0, '');
ok(wait_until(sub {
	my ($rc, $out, $err) = $n1->psql('INSERT INTO t VALUES (0)', timeout => 3);
	$acked_during++ if $rc == 0;
	$refusal = $err;
	$rc != 0
}, 3 + 2, 'fenced'), '(e) within retry_timeout (3 s) the old primary refuses writes');
diag(sprintf('(e) ZooKeeper stop -> writes refused: %.2f s', time - $t0));
like($refusal, qr/pg_ha: writes are refused/, '(e) with pg_ha\'s error, not a lost connection');
is($n1->psql('SELECT count(*) FROM t'), 100 + $acked_during, '(e) the fenced primary still serves reads');
# a backend refuses as soon as the lease runs out; the agent fences on its
# next loop turn (at most a quarter second later): wait for that, bounded
ok(wait_until(sub { (http_request($n1->api_port, "GET /patroni HTTP/1.0\r\n\r\n"))[1] =~ /"fenced":true/ }, 2,
	'fenced on /patroni'), '(e) /patroni says it is fenced');
ok(wait_until(sub { $n1->postgres_log =~ /role change: "z1" stops accepting writes \(fence\)/ }, 5, 'fence logged'),
	'(e) the fence is one role-change line in its log');
# keep ZooKeeper down beyond ttl (6 s): still no primary anywhere
# every half second until 9 s after the stop (past ttl): no primary anywhere
my $primaries_seen = 0;
while (time - $t0 < 9)
{
	$primaries_seen += grep { $_->is_primary } @nodes;
	sleep 0.5;
}
is($primaries_seen, 0, '(e) no primary while ZooKeeper is down, past ttl');
ok(($n1->psql('INSERT INTO t VALUES (0)', timeout => 3))[0] != 0 &&
   ($n2->psql('INSERT INTO t VALUES (0)', timeout => 3))[0] != 0, '(e) neither node accepts writes');

my $t1 = time;
zk_restart($zk);
my $leader;
ok(wait_until(sub { $leader = PgHaNode::primary_of(@nodes) }, 6 + 15, 'a leader again'),
	'(e) after ZooKeeper returns, one node leads again');
diag(sprintf('(e) ZooKeeper back -> leader %s: %.2f s', $leader ? $leader->name : 'none', time - $t1));
is($leader && $leader->name, 'z1', '(e) the old primary, whose session ZooKeeper kept, leads again');
is($n1->postmaster_pid, $postmaster, '(e) with no restart of postgres');
like($n1->postgres_log, qr/"z1" accepts writes again/, '(e) the fence is lifted');
like((http_request($n1->api_port, "GET /metrics HTTP/1.0\r\n\r\n"))[1], qr/^pg_ha_fenced\S* 0$/m, '(e) pg_ha_fenced is 0 again');
my ($other) = grep { $_ != $leader } @nodes;
ok(wait_until(sub { $other->is_replica && $other->streams_from($leader) }, 60, 'other replica'), '(e) the other follows it as a replica');
is(($leader->psql('INSERT INTO t VALUES (101)'))[0], 0, '(e) writes succeed on the leader');
my $total = 101 + $acked_during;
ok(wait_until(sub { $other->psql('SELECT count(*) FROM t') eq $total }, 30, 'replicated'),
	'(e) and reach the replica')
  or diag('other: ' . (http_request($other->api_port, "GET /patroni HTTP/1.0\r\n\r\n"))[1]);
is($leader->psql('SELECT count(*) FROM t WHERE x = 0'), $acked_during,
	"(e) the $acked_during writes acknowledged before the fence are kept, none after it");

# A primary whose postgres restarts while ZooKeeper is away (kill -9; its
# supervisor waits ttl + 2 s for a new leader, finds none, and restarts it
# in place) cannot prove it leads: it serves reads and refuses writes until
# its agent holds the key again.
is($n1->name, $leader->name, 'z1 leads before the second outage');
zk_stop($zk);
my $old_pm = $n1->postmaster_pid;
kill 'KILL', $old_pm;
ok(wait_until(sub { my $pm = $n1->postmaster_pid; $pm && $pm != $old_pm && $n1->psql('SELECT 1') eq '1' }, 6 + 2 + 20, 'restarted'),
	'(e) z1\'s postgres, killed while ZooKeeper is down, is restarted in place');
is($n1->in_recovery, 'f', '(e) as a primary');
my ($rc2, $out2, $err2) = $n1->psql('INSERT INTO t VALUES (102)');
isnt($rc2, 0, '(e) it refuses writes while it cannot prove it leads');
like($err2, qr/does not lead cluster "pg_ha_test" yet/, '(e) with pg_ha\'s error') or diag($err2);
is($n1->psql('SELECT count(*) FROM t WHERE x = 101'), '1', '(e) it serves reads');
zk_restart($zk);
ok(wait_until(sub { $n1->is_primary }, 6 + 15, 'z1 leads'), '(e) ZooKeeper back: z1 leads again');
is(($n1->psql('INSERT INTO t VALUES (103)'))[0], 0, '(e) and takes writes');
like($n1->postgres_log, qr/"z1" accepts writes: it leads/, '(e) the gate opened when it led');

$_->stop for @nodes;
zk_stop($zk);
done_testing();
