# Synchronous mode, three nodes, a writer throughout: losing the
# synchronous standby (the leader unchanged) stalls commits only briefly
# (issue 9: about 10 s, wal_receiver_status_interval, before the fix).
# Each of kill -9 of the standby's postmaster, a freeze of the whole
# standby node (SIGSTOP) and a graceful stop (SIGTERM to its supervisor):
# the leader names the other replica, and the longest gap between two
# acknowledged commits around the fault stays under 2 s.  Nothing
# acknowledged is lost, and the standby comes back as a replica.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use PgHaTest;
use PgHaNode;
use SyncCluster;

my $zk = zk_start();
my @nodes = start_sync_cluster(zk_hosts => $zk->{hosts});
my $primary = $nodes[0];
my $writer = start_writer(@nodes);

# Longest gap between consecutive acknowledgements from $from to $to.
sub longest_gap
{
	my ($from, $to) = @_;
	my @t = sort { $a <=> $b } map { $_->[2] } grep { $_->[2] >= $from && $_->[2] <= $to } $writer->acked;
	my $gap = 0;
	for my $i (1 .. $#t)
	{
		$gap = $t[$i] - $t[$i - 1] if $t[$i] - $t[$i - 1] > $gap;
	}
	# no acknowledgement at all after the fault counts as the whole span
	return @t ? ($gap > $to - $t[-1] ? $gap : $to - $t[-1]) : $to - $from;
}

sub scenario
{
	my ($what, $fault, $heal) = @_;
	# both replicas stream, too
	my $sync = wait_sync($primary, \@nodes, $what, seconds => 90,
		also => sub { 2 == grep { $_ != $primary && $_->streams_from($primary) } @nodes }) or return;
	my ($other) = grep { $_ != $primary && $_ != $sync } @nodes;
	sleep 1;    # some acknowledgements before the fault
	my $t0 = time;
	$fault->($sync);
	ok(wait_until(sub { $primary->psql('SHOW synchronous_standby_names') =~ /\Q${\ $other->name}\E/ }, 30,
		'the other is named'),
		"$what: the leader names " . $other->name . ' in synchronous_standby_names');
	# writes must go on: wait for a few seconds of acknowledgements after the fault
	ok(wait_until(sub { grep { $_->[2] > $t0 + 3 } $writer->acked }, 30, 'writes after the fault'),
		"$what: commits are acknowledged after the fault");
	my $gap = longest_gap($t0 - 0.5, time);
	diag(sprintf('%s: longest commit stall %.3f s', $what, $gap));
	cmp_ok($gap, '<', 2, "$what: commits stall less than 2 s");
	is(PgHaNode::primary_of(@nodes), $primary, "$what: the leader is unchanged");
	$heal->($sync);
	ok(wait_until(sub { $sync->is_replica && $sync->streams_from($primary) }, 120, 'back'),
		"$what: " . $sync->name . ' is back as a replica');
	my @lost = $writer->missing_on($primary, $writer->acked);
	is(scalar(@lost), 0, "$what: every acknowledged commit is on the leader");
}

scenario('kill -9', sub { kill 'KILL', $_[0]->postmaster_pid }, sub { });
my @frozen;
scenario('freeze', sub { @frozen = $_[0]->all_pids; kill 'STOP', @frozen }, sub { kill 'CONT', @frozen });
scenario('graceful stop', sub { $_[0]->stop(60) }, sub { $_[0]->start });

$writer->stop;
$_->stop for @nodes;
zk_stop($zk);
done_testing();
