# Failover end to end, with nodes run by pg_ha_supervisor and a real
# ZooKeeper:
#  (a) three nodes bootstrap from empty directories: one primary, two
#      streaming replicas;
#  (b) SIGTERM to the primary's supervisor (docker stop): a replica becomes
#      primary, writes go on, and the old primary, started again, rejoins as
#      a replica with no pg_rewind;
#  (c) kill -9 of the primary's postmaster: with the default
#      primary_start_timeout (0) a replica takes over in about a second and
#      the old primary rejoins by itself.
# A writer records every acknowledged commit; the graceful hand-over loses none.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use PgHaTest;
use PgHaNode;
use Writer;

my $zk = zk_start();
my @nodes = map { PgHaNode->new(name => "n$_", zk_hosts => $zk->{hosts}) } 1 .. 3;

# --- (a) bootstrap from empty data directories, all at once
$_->start for @nodes;
my $primary;
ok(wait_until(sub {
	$primary = PgHaNode::primary_of(@nodes);
	$primary && 2 == grep { $_ != $primary && $_->is_replica } @nodes
}, 120, 'one primary and two replicas'), '(a) three empty nodes: one primary, two replicas');
BAIL_OUT('bootstrap failed') unless $primary;
is($primary->in_recovery, 'f', 'the primary is not in recovery');
is(join(',', map { $_->in_recovery } grep { $_ != $primary } @nodes), 't,t', 'both others are standbys');
ok(wait_until(sub { $primary->psql("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") eq '2' },
	30, 'two streaming'), 'both stream from the primary');
like($primary->supervisor_log, qr/initdb/i, 'the primary was bootstrapped with initdb');
like($_->supervisor_log, qr/pg_basebackup/i, $_->name . ' was cloned with pg_basebackup')
  for grep { $_ != $primary } @nodes;
is(scalar(grep { $_->supervisor_log =~ /initdb/i } @nodes), 1, 'exactly one node ran initdb');

$primary->psql('CREATE TABLE pg_ha_acked (v int PRIMARY KEY, node text, at timestamptz DEFAULT now())');
my $writer = Writer->new(dir => PostgreSQL::Test::Utils::tempdir('writer'),
	nodes => [map { { name => $_->name, port => $_->port, api_port => $_->api_port } } @nodes],
	seconds => 600);
ok(wait_until(sub { $writer->acked >= 20 }, 30, 'writer acks'), 'the writer is writing');

# Waits for a new primary other than $old; returns it.
sub new_primary
{
	my ($old, $seconds) = @_;
	my $new;
	wait_until(sub { $new = PgHaNode::primary_of(@nodes); $new && $new != $old }, $seconds, 'a new primary');
	return $new && $new != $old ? $new : undef;
}

sub writes_on
{
	my ($node, $after, $what) = @_;
	ok(wait_until(sub { grep { $_->[1] eq $node->name && $_->[2] > $after } $writer->acked }, 30,
		"writes on " . $node->name), $what);
}

# --- (b) SIGTERM to the primary's supervisor: graceful hand-over
my $old = $primary;
my $t_stop = time;
ok($old->stop(60), '(b) the primary\'s supervisor exits on SIGTERM');
$primary = new_primary($old, 30);
ok($primary, '(b) a replica became primary: ' . ($primary ? $primary->name : 'none'));
writes_on($primary, $t_stop, '(b) writes succeed on the new primary');
diag(sprintf('(b) SIGTERM -> first acknowledged write on the new primary: %.2f s',
	(sort { $a <=> $b } map { $_->[2] } grep { $_->[1] eq $primary->name } $writer->acked)[0] - $t_stop));
$old->start;
ok(wait_until(sub { $old->is_replica }, 60, 'old primary back as replica'),
	'(b) the old primary, started again, rejoins as a replica');
is($old->in_recovery, 't', '(b) it is in recovery');
like($old->supervisor_log, qr/no rewind needed/, '(b) and needed no pg_rewind');
unlike($old->supervisor_log, qr/running pg_rewind|pg_rewind: servers diverged/, '(b) pg_rewind did not run');
ok(wait_until(sub { $primary->psql("SELECT count(*) FROM pg_stat_replication WHERE application_name = '" . $old->name . "' AND state = 'streaming'") eq '1' },
	30, 'streams'), '(b) it streams from the new primary');
$writer->check_no_loss($primary, '(b)');

# --- (c) kill -9 of the primary's postmaster
$old = $primary;
my $pm = $old->postmaster_pid;
my $t_kill = time;
kill 'KILL', $pm;
$primary = new_primary($old, 15);
ok($primary, '(c) after kill -9 of the postmaster a replica took over: ' . ($primary ? $primary->name : 'none'));
diag(sprintf('(c) kill -9 -> new primary answers /primary: %.2f s', time - $t_kill));
writes_on($primary, $t_kill, '(c) writes succeed on the new primary');
ok(wait_until(sub { $old->is_replica && $old->streams_from($primary) }, 90, 'old primary rejoins'),
	'(c) the old primary rejoins as a replica by itself');
is($old->in_recovery, 't', '(c) in recovery');
is(scalar(grep { $_->running && $_->is_primary } @nodes), 1, 'exactly one primary');

$writer->stop;
# (asynchronous mode: a crash may lose the last commits; synchronous mode
# must not, see 016_synchronous_mode.pl)
$_->stop for @nodes;
zk_stop($zk);
done_testing();
