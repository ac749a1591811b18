# SyncCluster: the three-node cluster in synchronous mode that the
# synchronous-mode tests share (016, 041): nodes s1, s2, s3 run by
# pg_ha_supervisor, s1 bootstrapped first and leading, the table the
# Writer inserts into, and which node is the synchronous standby.
# Every wait is bounded.
package SyncCluster;

use strict;
use warnings;
use Exporter 'import';
use PostgreSQL::Test::Utils;
use Test::More;
use PgHaTest;
use PgHaNode;
use Writer;

our @EXPORT = qw(start_sync_cluster sync_standby wait_sync start_writer);

# Starts s1, waits for it to lead, then s2 and s3 as its replicas (two
# tests); creates the extension and pg_ha_acked on s1.  zk_hosts: the
# nodes' ZooKeeper, or a function of a node's name that gives it (called
# before the node is made, e.g. to put a TcpForwarder in between).
# Returns the nodes, s1 first.
sub start_sync_cluster
{
	my (%opt) = @_;
	my $hosts = $opt{zk_hosts};
	my @nodes = map {
		my $name = "s$_";
		PgHaNode->new(name => $name, zk_hosts => ref $hosts ? $hosts->($name) : $hosts,
			extra => "synchronous_mode = on\n")
	} 1 .. 3;
	PgHaNode::start_cluster(@nodes);
	$nodes[0]->psql('CREATE TABLE pg_ha_acked (v int PRIMARY KEY, node text, at timestamptz DEFAULT now())');
	return @nodes;
}

# The node $leader's ha_status() marks as the synchronous standby, if any.
sub sync_standby
{
	my ($leader, $nodes) = @_;
	my $s = $leader->psql("SELECT name FROM ha_status() WHERE sync_standby");
	return (grep { $_->name eq $s } @$nodes)[0];
}

# One test: within `seconds` (default 60) $leader has a synchronous standby
# that its pg_stat_replication shows in sync, and `also` (a further
# condition, given the standby) holds.  The test's name ends with `says`
# (default "in sync").  Returns the standby last seen (undef if none).
sub wait_sync
{
	my ($leader, $nodes, $what, %opt) = @_;
	my $sync;
	ok(wait_until(sub {
		$sync = sync_standby($leader, $nodes);
		$sync && $leader->psql("SELECT sync_state FROM pg_stat_replication WHERE application_name = '"
			  . $sync->name . "'") eq 'sync'
		  && (!$opt{also} || $opt{also}->($sync))
	}, $opt{seconds} // 60, 'sync standby'),
		"$what: a synchronous standby is confirmed and " . ($opt{says} // 'in sync'));
	return $sync;
}

# A Writer over all the nodes for the whole test, writing every 5 ms; one
# test: it is writing.
sub start_writer
{
	my (@nodes) = @_;
	my $writer = Writer->new(dir => PostgreSQL::Test::Utils::tempdir('writer'),
		nodes => [map { { name => $_->name, port => $_->port, api_port => $_->api_port } } @nodes],
		seconds => 800, interval => 0.005);
	ok(wait_until(sub { $writer->acked >= 20 }, 30, 'writer'), 'the writer is writing');
	return $writer;
}

1;
