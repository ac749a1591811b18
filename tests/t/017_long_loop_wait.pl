# Patroni's default timings (ttl 30, loop_wait 10, retry_timeout 10) on a
# ZooKeeper that grants at most 10 s (tickTime 500): the agent fences after
# the same fraction of the granted timeout (3.3 s), and its heartbeat must
# renew the leader lease well within that, not every loop_wait.  A primary
# under a steady writer never refuses a write and never leaves /primary.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use PgHaTest;
use PgHaNode;

my $zk = zk_start();
my $n1 = PgHaNode->new(name => 'l1', zk_hosts => $zk->{hosts},
	ttl => 30, loop_wait => 10, retry_timeout => 10);
$n1->start;
ok(wait_until(sub { $n1->is_primary }, 60, 'l1 leads'), 'l1 bootstraps and leads with loop_wait 10');
$n1->psql('CREATE TABLE t (x int)');

# two heartbeat periods of loop_wait and more: every write and every check
my ($writes, $refused, $not_primary, $first_err) = (0, 0, 0, undef);
my $t0 = time;
while (time - $t0 < 12)
{
	my ($rc, $out, $err) = $n1->psql('INSERT INTO t VALUES (1)', timeout => 5);
	$writes++;
	if ($rc != 0) { $refused++; $first_err //= $err; }
	$not_primary++ unless $n1->is_primary;
	sleep 0.1;
}
is($refused, 0, "none of $writes writes in 12 s was refused")
  or diag("first refusal: $first_err");
is($not_primary, 0, '/primary answered 200 at every check');
unlike($n1->postgres_log, qr/stops accepting writes/, 'the leader never fenced itself');

$n1->stop;
zk_stop($zk);
done_testing();
