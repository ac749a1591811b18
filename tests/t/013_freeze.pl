# (d) The whole primary node freezes (SIGSTOP of its supervisor and every
# postgres process: a hung machine).  Its ZooKeeper session expires after
# ttl and the replica takes over.  On SIGCONT the old primary must not
# acknowledge a single write -- the test tries, directly -- and it rejoins
# as a replica through pg_rewind.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use PgHaTest;
use PgHaNode;

my $zk = zk_start();
my @nodes = map { PgHaNode->new(name => "f$_", zk_hosts => $zk->{hosts}) } 1 .. 2;
my ($n1, $n2) = @nodes;
$n1->start;
ok(wait_until(sub { $n1->is_primary }, 60, 'f1 leads'), 'f1 bootstraps and leads');
$n2->start;
ok(wait_until(sub { $n2->is_replica }, 90, 'f2 replica'), 'f2 is a replica');
$n1->psql('CREATE TABLE t (x int)');
$n1->psql('INSERT INTO t VALUES (1)');

# freeze the whole node
my @pids = $n1->all_pids;
ok(@pids >= 3, 'the primary node has ' . scalar(@pids) . ' processes to freeze');
my $t0 = time;
kill 'STOP', @pids;
ok(wait_until(sub { $n2->is_primary }, 6 + 10, 'f2 leads'), '(d) the replica takes over once the session expires');
my $took = time - $t0;
diag(sprintf('(d) freeze -> new primary: %.2f s (ttl 6 s)', $took));
ok($took <= 6 + 2, '(d) within ttl + 2 s');
$n2->psql('INSERT INTO t VALUES (2)');

# thaw: the old primary must refuse every write, at once
kill 'CONT', @pids;
my ($ok_writes, $tries, $first_err) = (0, 0, undef);
my $t1 = time;
while (time - $t1 < 5)
{
	my ($rc, $out, $err) = $n1->psql('INSERT INTO t VALUES (3)', timeout => 5);
	$tries++;
	$ok_writes++ if $rc == 0;
	$first_err //= $err if $rc != 0;
	sleep 0.05;
}
is($ok_writes, 0, "(d) the thawed old primary acknowledged none of $tries writes");
diag("(d) the first refusal after the thaw: " . ($first_err // 'none'));
ok(wait_until(sub { $n1->is_replica && $n1->streams_from($n2) }, 90, 'f1 rejoins'), '(d) it rejoins as a replica');
is($n1->in_recovery, 't', '(d) in recovery');
like($n1->supervisor_log, qr/pg_rewind/, '(d) through pg_rewind');
ok(wait_until(sub { $n1->psql('SELECT string_agg(x::text, \',\' ORDER BY x) FROM t') eq '1,2' }, 30, 'data'),
	'(d) it has the new primary\'s data and not the refused write');
is(scalar(grep { $_->is_primary } @nodes), 1, 'exactly one primary');

$_->stop for @nodes;
zk_stop($zk);
done_testing();
