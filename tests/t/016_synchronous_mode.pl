# (f) Synchronous mode, three nodes: a writer inserts unique values and
# records every acknowledgement throughout a SIGTERM of the primary, a
# kill -9 of its postmaster, a freeze of the whole primary node, a
# partition of the primary from ZooKeeper, and a switchover.  After each,
# every acknowledged value is on the new primary (S2: zero loss), only the
# synchronous standby was promoted, and the old primary rejoins.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use PgHaTest;
use PgHaNode;
use SyncCluster;
use TcpForwarder;

my $zk = zk_start();
# each node reaches ZooKeeper through its own forwarder, to be partitioned alone
my %fwd;
my @nodes = start_sync_cluster(zk_hosts => sub {
	my ($name) = @_;
	$fwd{$name} = TcpForwarder->new(target_port => $zk->{port}, lifetime => 900);
	return '127.0.0.1:' . $fwd{$name}->port;
});
my $primary = $nodes[0];
my $writer = start_writer(@nodes);

# Runs one fault; checks the sync standby took over, writes go on, no loss, rejoin.
sub scenario
{
	my ($what, $fault, $heal, $bound) = @_;
	# the standby is also named in synchronous_standby_names
	my $sync = wait_sync($primary, \@nodes, $what, says => 'streaming in sync',
		also => sub { $primary->psql('SHOW synchronous_standby_names') =~ /\Q${\ $_[0]->name}\E/ });
	my $old = $primary;
	my $t0 = time;
	$fault->($old);
	my $new;
	ok(wait_until(sub { $new = PgHaNode::primary_of(@nodes); $new && $new != $old }, $bound, 'new primary'),
		"$what: a new primary");
	$new = PgHaNode::primary_of(@nodes) // $old;
	is($new->name, $sync->name, "$what: it is the synchronous standby " . $sync->name);
	ok(wait_until(sub { grep { $_->[1] eq $new->name && $_->[2] > $t0 } $writer->acked }, 30, 'writes'),
		"$what: writes are acknowledged by the new primary");
	$heal->($old) if $heal;
	ok(wait_until(sub { $old->running && $old->is_replica && $old->streams_from($new) }, 120, 'rejoin'),
		"$what: the old primary rejoins");
	$writer->check_no_loss($new, $what);
	$primary = $new;
}

scenario('(f/b) SIGTERM', sub { $_[0]->stop(60) }, sub { $_[0]->start }, 30);
scenario('(f/c) kill -9', sub { kill 'KILL', $_[0]->postmaster_pid }, undef, 30);
my @frozen;
scenario('(f/d) freeze', sub { @frozen = $_[0]->all_pids; kill 'STOP', @frozen },
	sub { kill 'CONT', @frozen }, 6 + 10);
scenario('(f/i) partition', sub { $fwd{ $_[0]->name }->cut }, sub { $fwd{ $_[0]->name }->heal }, 6 + 10);
scenario('(f/g) switchover', sub { $_[0]->psql('SELECT ha_switchover()', timeout => 60) }, undef, 30);

$writer->stop;
$writer->check_no_loss($primary, '(f) at the end');
diag('(f) acknowledged commits in all: ' . scalar($writer->acked));

$_->stop for @nodes;
$_->stop for values %fwd;
zk_stop($zk);
done_testing();
