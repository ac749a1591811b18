# (i) The primary alone loses ZooKeeper while clients still reach it: each
# node talks to ZooKeeper through its own relay, and the test cuts the
# primary's (a blackhole, like a real partition).  Within retry_timeout the
# primary stops acknowledging writes; once its session expires the replica
# takes over; writers on both nodes record every acknowledgement, and no
# write is acknowledged by the old primary after the new one's promotion.
# Heal: the old primary rejoins as a replica.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use PgHaTest;
use PgHaNode;
use TcpForwarder;
use Writer;

my $zk = zk_start();
my $f1 = TcpForwarder->new(target_port => $zk->{port}, lifetime => 600);
my $f2 = TcpForwarder->new(target_port => $zk->{port}, lifetime => 600);
my $n1 = PgHaNode->new(name => 'p1', zk_hosts => '127.0.0.1:' . $f1->port);
my $n2 = PgHaNode->new(name => 'p2', zk_hosts => '127.0.0.1:' . $f2->port);
my @nodes = ($n1, $n2);
$n1->start;
ok(wait_until(sub { $n1->is_primary }, 60, 'p1 leads'), 'p1 bootstraps and leads');
$n2->start;
ok(wait_until(sub { $n2->is_replica }, 90, 'p2 replica'), 'p2 is a replica');
$n1->psql('CREATE TABLE pg_ha_acked (v int PRIMARY KEY, node text, at timestamptz DEFAULT now())');

my $dir = PostgreSQL::Test::Utils::tempdir('writers');
my %spec = map { $_->name => { name => $_->name, port => $_->port, api_port => $_->api_port } } @nodes;
my $w1 = Writer->new(dir => $dir, ackfile => "$dir/p1.txt", fixed => $spec{p1}, seconds => 120);
my $w2 = Writer->new(dir => $dir, ackfile => "$dir/p2.txt", fixed => $spec{p2}, seconds => 120,
	offset => 1_000_000);
ok(wait_until(sub { $w1->acked >= 20 }, 30, 'p1 acks'), 'a writer on p1 is writing');

# cut p1 from ZooKeeper only
my $t_cut = time;
$f1->cut;
ok(wait_until(sub { !$n1->is_primary }, 3 + 1, 'p1 /primary 503'),
	'(i) p1 stops answering 200 on /primary within retry_timeout');
ok(wait_until(sub { $n2->is_primary }, 6 + 8, 'p2 leads'), '(i) p2 takes over once p1\'s session expired');
my $t_new = time;
diag(sprintf('(i) cut -> p2 leads: %.2f s', $t_new - $t_cut));
ok(wait_until(sub { $w2->acked > 0 }, 15, 'p2 acks'), '(i) the writer on p2 gets acknowledgements');

my @a1 = $w1->acked;
my @a2 = $w2->acked;
my $last1 = @a1 ? $a1[-1][2] : 0;
my $first2 = @a2 ? $a2[0][2] : 0;
diag(sprintf('(i) p1 acknowledged its last write %.2f s after the cut; p2 its first %.2f s after',
	$last1 - $t_cut, $first2 - $t_cut));
ok($last1 - $t_cut <= 3 + 0.5, '(i) p1 acknowledged nothing later than retry_timeout after the cut');
ok($last1 < $first2, '(i) no write was acknowledged by p1 after p2 began acknowledging');

# heal
$f1->heal;
ok(wait_until(sub {
	$n2->psql("SELECT count(*) FROM pg_stat_replication WHERE application_name = 'p1' AND state = 'streaming'") eq '1'
}, 90, 'p1 streams from p2'), '(i) healed: p1 rejoins and streams from p2');
is($n1->in_recovery, 't', '(i) in recovery');
$w1->stop;
$w2->stop;

# every acknowledgement of p2 is there, and p1's acknowledgements from
# before the cut too (they streamed before the fence)
my @lost = $w2->missing_on($n2, $w2->acked, grep { $_->[2] < $t_cut } $w1->acked);
is(scalar(@lost), 0, '(i) no acknowledged write of the new primary, nor of the old one before the cut, is lost');
is(scalar(grep { $_->is_primary } @nodes), 1, 'exactly one primary');

$_->stop for @nodes;
$f1->stop;
$f2->stop;
zk_stop($zk);
done_testing();
