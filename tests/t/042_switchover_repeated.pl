# ha_switchover() tells the truth, switchover after switchover (issue 9:
# "switchover failed: the leader "" cancelled the switchover" after one that
# worked).  Three supervised nodes, a writer throughout; at least 30
# switchovers, each called on a node picked at random (a replica, or the
# leader itself) with or without a named candidate.  After each one the
# cluster settles and the return is checked against it: a name returned
# must be the one primary; an error must leave the leader as it was.  No
# acknowledged commit is lost by a hand-over.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use PgHaTest;
use PgHaNode;
use Writer;

my $WANT = 30;				# switchovers that must happen
my $MAX_TRIES = 45;			# bounded: refusals (a replica not yet back) count too
my $seed = $ENV{PGHA_SEED} // time;
srand($seed);
diag("seed $seed (PGHA_SEED reruns the same choices)");

my $zk = zk_start();
my @nodes = map { PgHaNode->new(name => "n$_", zk_hosts => $zk->{hosts}) } 1 .. 3;
$_->start for @nodes;
my $leader;
ok(wait_until(sub { $leader = PgHaNode::primary_of(@nodes); $leader && 2 == grep { $_ != $leader && $_->is_replica } @nodes },
	120, 'one primary, two replicas'), 'three nodes: one primary, two replicas');
BAIL_OUT('bootstrap failed') unless $leader;
$leader->psql('CREATE EXTENSION pg_ha');
$leader->psql('CREATE TABLE pg_ha_acked (v int PRIMARY KEY, node text, at timestamptz DEFAULT now())');

my $writer = Writer->new(dir => PostgreSQL::Test::Utils::tempdir('writer'),
	nodes => [map { { name => $_->name, port => $_->port, api_port => $_->api_port } } @nodes],
	seconds => 900);
ok(wait_until(sub { $writer->acked >= 20 }, 30, 'writer acks'), 'the writer is writing');

# Settled: one primary, which sees the two others as running replicas that
# stream from it.
# The leader once the cluster has settled (undef if it did not within 90 s):
# both others stream from it, and its view shows them running replicas on
# its timeline.  The leader that passed the wait is returned, not checked
# again: a replica briefly reconnecting must not fail a settled cluster.
sub settled
{
	my ($p, $ok);
	$ok = wait_until(sub {
		$p = PgHaNode::primary_of(@nodes);
		($p && 2 == grep { $_ != $p && $_->streams_from($p) } @nodes)
		  && $p->psql("SELECT count(*) FROM ha_status() WHERE role = 'replica' AND state = 'running'
		               AND timeline = (SELECT timeline FROM ha_status() WHERE is_local)") eq '2'
	}, 90, 'the cluster settles');
	return $ok ? $p : undef;
}

my ($happened, $refused, $tries, $wrong) = (0, 0, 0, 0);
my $t_start = time;
while ($happened < $WANT && $tries < $MAX_TRIES && time - $t_start < 900)
{
	$tries++;
	my $before = settled();
	ok($before, "try $tries: the cluster is settled") or last;
	my $on = $nodes[int(rand(@nodes))];
	my @replicas = grep { $_ != $before } @nodes;
	my $cand = rand() < 0.5 ? undef : $replicas[int(rand(@replicas))]->name;
	my $call = defined $cand ? "ha_switchover('$cand')" : 'ha_switchover()';
	my $t0 = time;
	my ($rc, $out, $err) = $on->psql("SELECT $call", timeout => 90);
	my $took = time - $t0;
	my $returned = $out =~ /^(n\d)$/ ? $1 : undef;
	# called on the leader, it answers as the hand-over starts: give the
	# named member time to lead (on a replica it answers once it does)
	wait_until(sub { my $p = PgHaNode::primary_of(@nodes); $p && $p->name eq $returned }, 60, "$returned leads")
	  if defined $returned && $on == $before;
	my $after = settled();
	ok($after, "try $tries: the cluster settles afterwards") or last;
	my $what = sprintf('try %d: %s on %s (%s) %s', $tries, $call, $on->name,
		$on == $before ? 'the leader' : 'a replica',
		defined $returned ? "returned $returned" : 'failed: ' . ($err =~ /ERROR:\s*(.*)/ ? $1 : $err));
	if (defined $returned)
	{
		$happened++;
		$wrong++ unless is($after->name, $returned, "$what; " . $after->name . ' leads');
		is($returned, $cand, "try $tries: the named candidate took over") if defined $cand;
		diag(sprintf('%s in %.2f s', $what, $took));
	}
	else
	{
		$refused++;
		$wrong++ unless is($after->name, $before->name, "$what; the leader is unchanged");
	}
}
cmp_ok($happened, '>=', $WANT, "$happened switchovers happened ($refused refused) in $tries tries");
is($wrong, 0, 'every return agreed with the cluster');

my $p = settled();
ok($p && wait_until(sub { grep { $_->[1] eq $p->name && $_->[2] > time - 5 } $writer->acked }, 30, 'writes'),
	'the writer writes on the last leader');
$writer->stop;
my @lost = $writer->missing_on($p, $writer->acked);
is(scalar(@lost), 0, 'no acknowledged commit lost by ' . $happened . ' hand-overs (' . scalar($writer->acked) . ' acknowledged)');

$_->stop for @nodes;
zk_stop($zk);
done_testing();
