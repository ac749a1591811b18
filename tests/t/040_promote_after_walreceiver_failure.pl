# A crash failover at the worst moment for PostgreSQL's startup process:
# the replica's WAL receiver has just failed when the primary's postmaster
# is killed (kill -9).  The startup process then remembers a WAL-source
# failure less than wal_retrieve_retry_interval (5 s) ago; before the fix,
# a promote request that reached it while it waited for streamed WAL was
# acted on only after it had slept out the rest of those 5 s (seen in the
# wild when the request and the start of a new WAL receiver met).  The agent
# now wakes recovery while its promotion runs (ha_promote_nudge).
#
# Forced timing, repeated.  With the replica's postmaster held (SIGSTOP),
# the primary ends the replica's walsender (pg_terminate_backend): the
# replica logs "could not receive data from WAL stream" and its startup
# process asks for a new WAL receiver; the primary's postmaster gets
# SIGKILL; once the replica's agent has asked to promote, its postmaster is
# released (SIGCONT) and passes on both requests together.  The promote
# request then finds a WAL receiver that is "starting" but has no process
# yet: stopping it wakes nobody, and the startup process's retry sleep
# began less than 5 s after the failure (the slow case of issue 9).
# Each run asserts, from the new primary's own log (log_line_prefix with
# milliseconds), that "selected new timeline ID" follows "received promote
# request" within 0.5 s.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use Time::Local qw(timegm);
use PgHaTest;
use PgHaNode;

my $RUNS = 6;
my $zk = zk_start();
my @nodes = map {
	PgHaNode->new(name => "n$_", zk_hosts => $zk->{hosts},
		extra => "pg.log_line_prefix = '%m [%p] '\npg.log_timezone = 'UTC'\n")
} 1 .. 2;
$_->start for @nodes;

my $primary;
ok(wait_until(sub { $primary = PgHaNode::primary_of(@nodes); $primary && grep { $_ != $primary && $_->is_replica } @nodes },
	120, 'one primary, one replica'), 'two nodes: one primary, one replica');
BAIL_OUT('bootstrap failed') unless $primary;

# Seconds since the epoch of a log line's "%m" prefix (UTC).
sub line_time
{
	my ($line) = @_;
	$line =~ /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3}) UTC/ or return undef;
	return timegm($6, $5, $4, $3, $2 - 1, $1) + $7 / 1000;
}

# The first line matching $re in $text.
sub first_line
{
	my ($text, $re) = @_;
	for my $line (split /\n/, $text)
	{
		return $line if $line =~ $re;
	}
	return undef;
}

for my $run (1 .. $RUNS)
{
	my ($replica) = grep { $_ != $primary } @nodes;
	ok(wait_until(sub { $replica->is_replica && $replica->streams_from($primary) }, 90, 'replica streams'),
		"run $run: " . $replica->name . ' streams from ' . $primary->name)
	  or last;
	my $from = length $replica->postgres_log;
	my $app = $replica->name;
	my $sender = $primary->psql("SELECT pid FROM pg_stat_replication WHERE application_name = '$app'");
	my $replica_pm = $replica->postmaster_pid;

	# The replica's postmaster is held (SIGSTOP) so that it starts no new
	# WAL receiver and passes on no promote request until released.
	kill 'STOP', $replica_pm;

	# the replica's WAL receiver fails ...
	$primary->psql("SELECT pg_terminate_backend($sender)");
	my $failed = 0;
	my $deadline = time + 10;
	while (!$failed && time < $deadline)
	{
		$failed = substr($replica->postgres_log, $from) =~ /could not receive data from WAL stream/;
		sleep 0.005 unless $failed;
	}

	# ... the primary's postmaster dies; the replica's agent takes the
	# leader key and asks for the promotion ...
	my $old = $primary;
	kill 'KILL', $old->postmaster_pid if $failed;
	my $asked = $failed && wait_until(sub { -e "$replica->{data}/promote" }, 30, 'the promote signal file');

	# ... and the postmaster gets the new WAL receiver's start and the
	# promote request at once
	kill 'CONT', $replica_pm;
	ok($failed, "run $run: the replica's WAL receiver failed") or last;
	ok($asked, "run $run: the replica's agent asked to promote") or last;
	ok(wait_until(sub { $replica->is_primary }, 30, 'the replica leads'), "run $run: " . $replica->name . ' took over')
	  or last;
	$primary = $replica;

	my $log = substr($replica->postgres_log, $from);
	my $req = first_line($log, qr/received promote request/);
	my $tli = first_line($log, qr/selected new timeline ID/);
	ok($req && $tli, "run $run: the new primary logged the promote request and the new timeline")
	  or next;
	my $took = line_time($tli) - line_time($req);
	diag(sprintf('run %d: received promote request -> selected new timeline ID: %.3f s', $run, $took));
	cmp_ok($took, '<=', 0.5, "run $run: the new timeline within 0.5 s of the promote request");

	# the old primary rejoins by itself before the next run
	ok(wait_until(sub { $old->is_replica && $old->streams_from($primary) }, 90, 'old primary rejoins'),
		"run $run: " . $old->name . ' rejoins as a replica')
	  or last;
}

$_->stop for @nodes;
zk_stop($zk);
done_testing();
