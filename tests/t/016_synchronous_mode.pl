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
use TcpForwarder;
use Writer;

my $zk = zk_start();
my %fwd;
my @nodes = map {
	my $f = TcpForwarder->new(target_port => $zk->{port}, lifetime => 900);
	my $n = PgHaNode->new(name => "s$_", zk_hosts => '127.0.0.1:' . $f->port,
		extra => "synchronous_mode = on\n");
	$fwd{ $n->name } = $f;
	$n
} 1 .. 3;

$nodes[0]->start;
ok(wait_until(sub { $nodes[0]->is_primary }, 60, 's1 leads'), 's1 bootstraps and leads');
$_->start for @nodes[1, 2];
ok(wait_until(sub { $nodes[1]->is_replica && $nodes[2]->is_replica }, 120, 'replicas'), 's2, s3 replicas');
my $primary = $nodes[0];
$primary->psql('CREATE EXTENSION pg_ha');
$primary->psql('CREATE TABLE pg_ha_acked (v int PRIMARY KEY, node text, at timestamptz DEFAULT now())');

sub sync_standby
{
	my ($leader) = @_;
	my $s = $leader->psql("SELECT name FROM ha_status() WHERE sync_standby");
	return (grep { $_->name eq $s } @nodes)[0];
}

sub wait_sync
{
	my ($leader, $what) = @_;
	my $sync;
	ok(wait_until(sub {
		$sync = sync_standby($leader);
		$sync && $leader->psql('SHOW synchronous_standby_names') =~ /\Q${\ $sync->name}\E/
		  && $leader->psql("SELECT sync_state FROM pg_stat_replication WHERE application_name = '"
			  . $sync->name . "'") eq 'sync'
	}, 60, 'sync standby'), "$what: a synchronous standby is confirmed and streaming in sync");
	return $sync;
}

my $writer = Writer->new(dir => PostgreSQL::Test::Utils::tempdir('writer'),
	nodes => [map { { name => $_->name, port => $_->port, api_port => $_->api_port } } @nodes],
	seconds => 800, interval => 0.005);
ok(wait_until(sub { $writer->acked >= 20 }, 30, 'writer'), 'the writer is writing');

sub check_no_loss
{
	my ($node, $what) = @_;
	my @acked = $writer->acked;
	my @lost = $writer->missing_on($node, @acked);
	is(scalar(@lost), 0, "$what: all " . scalar(@acked) . ' acknowledged commits are on ' . $node->name)
	  or diag('lost: ' . join(',', @lost[0 .. ($#lost < 20 ? $#lost : 19)]));
}

# Runs one fault; checks the sync standby took over, writes go on, no loss, rejoin.
sub scenario
{
	my ($what, $fault, $heal, $bound) = @_;
	my $sync = wait_sync($primary, $what);
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
	check_no_loss($new, $what);
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
check_no_loss($primary, '(f) at the end');
diag('(f) acknowledged commits in all: ' . scalar($writer->acked));

$_->stop for @nodes;
$_->stop for values %fwd;
zk_stop($zk);
done_testing();
