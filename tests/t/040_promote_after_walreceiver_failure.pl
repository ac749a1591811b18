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

# Is $pid a live process (a zombie the held postmaster has not reaped is not)?
sub alive
{
	my ($pid) = @_;
	open my $fh, '<', "/proc/$pid/stat" or return 0;
	my $stat = <$fh> // '';
	return $stat =~ /\)\s+([^ZX])\s/ ? 1 : 0;
}

# Holds the replica's postmaster (SIGSTOP) and ends the walsender of its WAL
# receiver until that WAL receiver fails with the connection ("could not
# receive data from WAL stream").  Returns (1, postmaster pid, log offset)
# with the postmaster still held, or (0) after at most 5 attempts.
#
# An attempt counts only when the walsender ended is the one of the WAL
# receiver running under the held postmaster.  Just after a replica starts,
# its agent writes its own primary_conninfo (it differs from the
# supervisor's), and the reload restarts the WAL receiver: if that restart
# falls between "the replica streams" and the SIGSTOP, the walsender looked
# up is gone or has no WAL receiver behind it, no failure is logged, and the
# startup process only waits for a new WAL receiver (no retry sleep, not the
# case under test).  Once the postmaster is held no reload reaches recovery
# and no new WAL receiver starts, so the pair seen then is the one broken;
# an attempt that finds no such pair is undone (SIGCONT) and retried.
sub fail_walreceiver
{
	my ($replica, $primary) = @_;
	my $app = $replica->name;
	# its pid if exactly one walsender serves $app and it streams, else what there is
	my $sender_sql = "SELECT CASE WHEN count(*) = 1 AND bool_and(state = 'streaming') THEN min(pid)::text "
	  . "ELSE coalesce(string_agg(pid || ' ' || state, ', '), 'none') END "
	  . "FROM pg_stat_replication WHERE application_name = '$app'";
	my @seen;
	for my $attempt (1 .. 5)
	{
		last unless wait_until(sub { $replica->is_replica && $replica->streams_from($primary) }, 90, 'replica streams');
		my $from = length $replica->postgres_log;
		my ($rc1, $receiver, $err1) = $replica->psql("SELECT pid FROM pg_stat_wal_receiver WHERE status = 'streaming'");
		my $pm = $replica->postmaster_pid;
		if ($receiver !~ /^\d+$/ || !defined $pm)
		{
			push @seen, "attempt $attempt: WAL receiver '$receiver' ($err1), postmaster " . ($pm // 'none');
			next;
		}
		kill 'STOP', $pm;

		my ($rc2, $sender, $err2) = $primary->psql($sender_sql);
		my $why;
		if (!alive($receiver))
		{
			$why = "WAL receiver $receiver gone before the walsender was ended";
		}
		elsif ($sender !~ /^\d+$/)
		{
			$why = "walsender(s) '$sender' ($err2): not exactly one, streaming, for $app";
		}
		else
		{
			my ($rc3, $ended, $err3) = $primary->psql("SELECT pg_terminate_backend($sender)");
			$why = "pg_terminate_backend($sender) gave '$ended' ($err3)" if $ended ne 't';
		}
		my $log = '';
		unless ($why)
		{
			# the message is written before the WAL receiver exits
			my $deadline = time + 10;
			while (time < $deadline)
			{
				my $gone = !alive($receiver);
				$log = substr($replica->postgres_log, $from);
				if ($log =~ /could not (?:receive|send) data (?:from|to) WAL stream/)
				{
					diag("the WAL receiver failed at attempt $attempt; before:\n" . join("\n", @seen)) if @seen;
					return (1, $pm, $from);
				}
				last if $gone;
				sleep 0.005;
			}
			$why = alive($receiver) ? "WAL receiver $receiver still runs after 10 s" : "WAL receiver $receiver exited";
		}
		kill 'CONT', $pm;
		push @seen, "attempt $attempt: $why; replica log since:\n$log";
	}
	diag("the replica's WAL receiver did not fail with its connection:\n" . join("\n", @seen));
	return (0);
}

for my $run (1 .. $RUNS)
{
	my ($replica) = grep { $_ != $primary } @nodes;
	ok(wait_until(sub { $replica->is_replica && $replica->streams_from($primary) }, 90, 'replica streams'),
		"run $run: " . $replica->name . ' streams from ' . $primary->name)
	  or last;

	# The replica's postmaster is held (SIGSTOP) so that it starts no new
	# WAL receiver and passes on no promote request until released; the
	# replica's WAL receiver fails ...
	my ($failed, $replica_pm, $from) = fail_walreceiver($replica, $primary);

	# ... the primary's postmaster dies; the replica's agent takes the
	# leader key and asks for the promotion ...
	my $old = $primary;
	my $old_pm = $old->postmaster_pid;
	kill 'KILL', $old_pm if $failed && $old_pm;
	my $asked = $failed && wait_until(sub { -e "$replica->{data}/promote" }, 30, 'the promote signal file');

	# ... and the postmaster gets the new WAL receiver's start and the
	# promote request at once
	kill 'CONT', $replica_pm if $failed;
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
