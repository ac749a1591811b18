# (c) kill -9 of the primary's postmaster with primary_start_timeout set:
# the supervisor restarts postgres in place and the node keeps the
# leadership (its dead agent left the leader key, the new agent takes it
# over atomically); the replica never promotes.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use PgHaTest;
use PgHaNode;

my $zk = zk_start();
my @nodes = map { PgHaNode->new(name => "r$_", zk_hosts => $zk->{hosts},
		extra => "primary_start_timeout = 30\n") } 1 .. 2;
my ($n1, $n2) = @nodes;
$n1->start;
ok(wait_until(sub { $n1->is_primary }, 60, 'r1 leads'), 'r1 bootstraps and leads');
$n2->start;
ok(wait_until(sub { $n2->is_replica }, 90, 'r2 replica'), 'r2 is a replica');
$n1->psql('CREATE TABLE t (x int)');
$n1->psql('INSERT INTO t VALUES (1)');
my $epoch0 = json_field((http_request($n1->api_port, "GET /patroni HTTP/1.0\r\n\r\n"))[1], 'leader_epoch');

my $pm = $n1->postmaster_pid;
kill 'KILL', $pm;
my $t0 = time;
my $replica_promoted = 0;
ok(wait_until(sub {
	$replica_promoted ||= $n2->is_primary;
	my $new = $n1->postmaster_pid;
	$new && $new != $pm && $n1->is_primary
}, 30, 'r1 back'), '(c) the crashed primary is restarted in place and leads again');
diag(sprintf('(c) kill -9 -> leader again after restart in place: %.2f s', time - $t0));
# keep watching the replica for a while: it must never promote
my $t1 = time;
while (time - $t1 < 8) { $replica_promoted ||= $n2->is_primary; sleep 0.1; }
ok(!$replica_promoted, '(c) the replica never promoted');
is($n2->in_recovery, 't', '(c) it is still a replica');
like($n1->postgres_log, qr/took over its leader key from an earlier session/,
	'(c) the new agent took the key over atomically');
my $epoch1 = json_field((http_request($n1->api_port, "GET /patroni HTTP/1.0\r\n\r\n"))[1], 'leader_epoch');
isnt($epoch1, $epoch0, '(c) with a new epoch');
$n1->psql('INSERT INTO t VALUES (2)');
ok(wait_until(sub { $n2->psql('SELECT count(*) FROM t') eq '2' }, 30, 'replicated'),
	'(c) writes go on and stream to the replica');

$_->stop for @nodes;
zk_stop($zk);
done_testing();
