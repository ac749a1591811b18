# bench/failover/failover.pl - failover benchmark of pg_ha (run it through
# bench/failover/run.sh, which sets up the environment and runs it as the
# postgres user).
#
# Three nodes run by pg_ha_supervisor (tests/perl/PgHaNode.pm: ttl 6 s,
# loop_wait 1 s, retry_timeout 3 s) and a real ZooKeeper; a continuous
# writer (tests/perl/Writer.pm) inserts unique values into whichever node
# answers 200 on /primary and records every acknowledged commit with its
# client-side time.  For each fault and run it measures:
#   unavailable  fault -> first write acknowledged by the new primary (client clock)
#   pause        longest gap between two consecutive acknowledged writes around the fault
#   promoted     fault -> a node other than the old primary answers 200 on /primary
#   rejoin       fault -> the old primary streams from the new primary
#   lost         acknowledged values missing on the new primary afterwards
#   stale        writes acknowledged by the old primary after the new one's first ack
# The "sync standby lost" faults (sync-kill9, sync-freeze, sync-stop: kill -9
# of its postmaster, SIGSTOP of the whole node, SIGTERM to its supervisor)
# hit the synchronous standby instead; the leader stays.  For them
# "unavailable" and "pause" are the longest gap between two acknowledged
# writes around the fault (the commit stall), "promoted" is when the leader
# names the other replica in synchronous_standby_names, "rejoin" is when the
# lost standby streams again.
#
# Options: --runs N (5)  --async  --faults switchover,sigterm,kill9,freeze
#          --freeze-seconds S (ttl + 2 = 8)  --probe-timeout S (0.25, see below)
#          --out FILE (per-run TSV)
use strict;
use warnings;

# PostgreSQL::Test::Utils sends STDOUT/STDERR to its log file at INIT:
# keep the terminal for the progress lines and the table.
our $TTY;
BEGIN { open($TTY, '>&', \*STDOUT) or die "dup stdout: $!"; $TTY->autoflush(1) }

use Getopt::Long;
use IO::Select;
use IO::Socket::INET;
use IPC::Run ();
use List::Util qw(max min sum);
use POSIX ();
use Time::HiRes qw(time sleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
# The exit status.  This END block is compiled between PostgreSQL::Test::Utils
# and PgHaTest, so it runs after PgHaTest's END (whose system() call resets
# $?) and before Utils' and File::Temp's (which keep the temporary
# directories when $? is not 0).
our $EXIT = 3;    # died
END { $? = $EXIT; $File::Temp::KEEP_ALL = 1 if $EXIT }
use PgHaTest;
use PgHaNode;
use Writer;

Test::More->builder->no_ending(1);    # not a TAP test

sub usage_error { print $TTY "failover.pl: @_\n"; $EXIT = 2; exit 2 }
my %opt = (runs => 5, faults => 'switchover,sigterm,kill9,freeze', 'freeze-seconds' => 8, 'probe-timeout' => 0.25);
GetOptions(\%opt, 'runs=i', 'async', 'faults=s', 'freeze-seconds=f', 'probe-timeout=f', 'out=s')
  or usage_error('usage: [--runs N] [--async] [--faults LIST] [--freeze-seconds S] [--probe-timeout S] [--out FILE]');
usage_error('--probe-timeout must be 0.05..2') unless $opt{'probe-timeout'} >= 0.05 && $opt{'probe-timeout'} <= 2;
my @faults = split /,/, $opt{faults};
my %known = map { $_ => 1 } qw(switchover sigterm kill9 freeze sync-kill9 sync-freeze sync-stop restart);
$known{$_} or usage_error("unknown fault '$_' (switchover, sigterm, kill9, freeze, sync-kill9, sync-freeze, sync-stop, restart)")
  for @faults;
!$opt{async} or !grep { /^sync-/ } @faults or usage_error('the sync-* faults need synchronous mode (no --async)');
usage_error('--runs must be 1..50') unless $opt{runs} >= 1 && $opt{runs} <= 50;
my $TTL = 6;
usage_error("--freeze-seconds must be more than ttl ($TTL s) and at most 60")
  unless $opt{'freeze-seconds'} > $TTL && $opt{'freeze-seconds'} <= 60;
my $sync = !$opt{async};
my $t_start = time;

sub report { printf $TTY "[%6.1f] %s\n", time - $t_start, join('', @_); print STDOUT join('', @_), "\n" }

# --- the cluster -----------------------------------------------------------
my $zk = zk_start();
my @nodes = map {
	PgHaNode->new(name => "b$_", zk_hosts => $zk->{hosts}, extra => $sync ? "synchronous_mode = on\n" : '')
} 1 .. 3;
my (@frozen, $writer);

sub cleanup_hard
{
	kill 'CONT', @frozen if @frozen;
	@frozen = ();
	$writer->stop if $writer;
	$writer = undef;
	for my $n (@nodes)
	{
		next unless $n->{h};
		my $pm = $n->postmaster_pid;
		kill 'QUIT', grep { defined } $n->{pid}, $pm;
	}
}
# The writer is a fork of this process: there, a signal or a die must end
# the child alone (no END blocks, no destructors that would stop the nodes).
my $main_pid = $$;
$SIG{INT} = $SIG{TERM} = sub {
	POSIX::_exit(130) if $$ != $main_pid;
	report('interrupted: stopping the nodes');
	cleanup_hard();
	$EXIT = 130;
	exit 130;
};
$SIG{__DIE__} = sub {
	return if $^S;
	POSIX::_exit(1) if $$ != $main_pid;
	report('died: ', @_);
	cleanup_hard();
};

report("bootstrapping 3 nodes (", $sync ? 'synchronous' : 'asynchronous', " mode, ttl 6 s, loop_wait 1 s, retry_timeout 3 s)");
$nodes[0]->start;
wait_until(sub { $nodes[0]->is_primary }, 90, 'b1 leads') or fatal('b1 did not bootstrap');
$_->start for @nodes[1, 2];
wait_until(sub { $nodes[1]->is_replica && $nodes[2]->is_replica }, 180, 'replicas')
  or fatal('b2, b3 did not become replicas');
$nodes[0]->psql('CREATE EXTENSION pg_ha');
$nodes[0]->psql('CREATE TABLE pg_ha_acked (v int PRIMARY KEY, node text, at timestamptz DEFAULT now())');

sub fatal
{
	report('FATAL: ', @_);
	cleanup_hard();
	$EXIT = 2;
	exit 2;
}

# --- the writer and its acknowledgements ------------------------------------
# Writer.pm finds the primary by asking every node's /primary in turn and
# waits up to 1 s for each answer.  A frozen node accepts the connection (its
# kernel does) but never answers, so during a freeze every attempt costs the
# test writer a full second, and after the promotion it needs 1-2 s more to
# notice: that is the client, not pg_ha.  The bench bounds each probe by
# --probe-timeout instead (0.25 s; --probe-timeout 1 is the test writer).
{
	no warnings 'redefine';
	my $probe = $opt{'probe-timeout'};
	*Writer::_primary_status = sub {
		my ($api_port) = @_;
		my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $api_port, Timeout => $probe)
		  or return 0;
		print $s "GET /primary HTTP/1.0\r\n\r\n";
		my $line = IO::Select->new($s)->can_read($probe) ? (<$s> // '') : '';
		close $s;
		return $line =~ m{^HTTP/1\.\d (\d+)} ? $1 : 0;
	};
}
my $wdir = PostgreSQL::Test::Utils::tempdir('writer');
$writer = Writer->new(dir => $wdir,
	nodes => [map { { name => $_->name, port => $_->port, api_port => $_->api_port } } @nodes],
	seconds => 3600, interval => 0.005);
my @acks;
my ($ack_off, $ack_part) = (0, '');

# reads what the writer appended since the last call: [v, node, time]
sub read_acks
{
	open my $fh, '<', $writer->{ackfile} or return;
	seek $fh, $ack_off, 0;
	local $/;
	my $new = <$fh> // '';
	close $fh;
	$ack_off += length $new;
	$new = $ack_part . $new;
	my @lines = split /\n/, $new, -1;
	$ack_part = pop @lines;
	push @acks, map { [split / /] } @lines;
}

sub acks_since
{
	my ($t) = @_;
	read_acks();
	# acks are in time order: walk back from the end
	my $i = $#acks;
	$i-- while $i >= 0 && $acks[$i][2] > $t;
	return @acks[$i + 1 .. $#acks];
}

wait_until(sub { read_acks(); @acks >= 20 }, 30, 'writer acks') or fatal('the writer does not write');

# --- steady state before each fault -----------------------------------------
sub sync_standby_of
{
	my ($leader) = @_;
	my $s = $leader->psql('SELECT name FROM ha_status() WHERE sync_standby');
	return (grep { $_->name eq $s } @nodes)[0];
}

# one primary, both others streaming from it, the sync standby confirmed,
# and the writer acknowledged on the primary since; returns the primary
sub steady
{
	my ($seconds, $no_writer) = @_;
	my $p;
	my $ok = wait_until(sub {
		$p = PgHaNode::primary_of(@nodes) or return 0;
		for my $n (grep { $_ != $p } @nodes)
		{
			return 0 unless $n->running && $n->streams_from($p);
		}
		if ($sync)
		{
			my $s = sync_standby_of($p) or return 0;
			return 0 unless $p->psql("SELECT sync_state FROM pg_stat_replication WHERE application_name = '"
				. $s->name . "'") eq 'sync';
		}
		return 1;
	}, $seconds, 'steady cluster');
	return undef unless $ok;
	return $p if $no_writer;
	my $t = time;
	wait_until(sub { grep { $_->[1] eq $p->name } acks_since($t) }, 15, 'writes on the primary') or return undef;
	sleep 1;    # a little history of acks before the fault
	return $p;
}

# --- one run -----------------------------------------------------------------
my %bound = (switchover => 60, sigterm => 90, kill9 => 90, freeze => 120,
	'sync-kill9' => 90, 'sync-freeze' => 90, 'sync-stop' => 90, restart => 90);

# Every value acknowledged so far must be on the leader $p: $r->{lost}.
sub count_lost
{
	my ($r, $p) = @_;
	read_acks();
	my ($rc, $out) = $p->psql('SELECT v FROM pg_ha_acked', timeout => 60);
	return if $rc != 0;
	my %have = map { $_ => 1 } split /\n/, $out;
	my @lost = grep { !$have{ $_->[0] } } @acks;
	$r->{lost_list} = [map { "$_->[0]\@$_->[1]\@$_->[2]" } @lost];
	$r->{lost} = scalar @lost;
}

# The leader $p restarted in place (POST /restart, as patronictl restart):
# no failover.  "unavailable" and "pause" are the longest gap between two
# acknowledged writes around it, "promoted" is when POST /restart answered
# (postgres is back), "rejoin" is when both replicas stream from it again.
sub run_restart
{
	my ($p) = @_;
	my %r = (fault => 'restart', old => $p->name, new => $p->name);
	my @others = grep { $_ != $p } @nodes;
	my $t0 = time;
	my ($status, $raw) = http_request($p->api_port, "POST /restart HTTP/1.0\r\nContent-Length: 0\r\n\r\n",
		timeout => $bound{restart});
	my $t_answer = time;
	my ($t_rejoin, $failover);
	my $deadline = $t0 + $bound{restart};
	while (time < $deadline)
	{
		$failover ||= grep { $_->is_primary } @others;
		$t_rejoin //= (2 == grep { $_->streams_from($p) } @others) ? time : undef;
		last if $t_rejoin && time > $t_answer + 3;    # and no failover for 3 s
		sleep 0.05;
	}
	$r{t0} = $t0;
	$r{promoted} = $t_answer - $t0 if $status == 200;
	$r{rejoin} = $t_rejoin - $t0 if $t_rejoin;
	my @t = map { $_->[2] } acks_since($t0 - 5);
	my @before = grep { $_ <= $t0 } @t;
	@t = grep { $_ >= ($before[-1] // $t0) } @t;
	$r{pause} = $r{unavailable} = @t > 1 ? max(map { $t[$_] - $t[$_ - 1] } 1 .. $#t) : undef;
	$r{stale} = scalar grep { $_->[1] ne $p->name } acks_since($t0);
	my @missing = ($status != 200 ? "POST /restart answered $status" : (), $failover ? 'a replica became primary' : (),
		!defined $r{pause} ? 'no writes after the restart' : (), !$t_rejoin ? 'the replicas did not stream again' : ());
	$r{error} = join('; ', @missing) . " within $bound{restart} s" if @missing;
	count_lost(\%r, $p);
	return \%r;
}

# A "sync standby lost" fault (see the top): the leader $p stays.
sub run_sync_lost
{
	my ($fault, $p) = @_;
	my $s = sync_standby_of($p) or return { fault => $fault, old => '?', error => 'no synchronous standby' };
	my ($other) = grep { $_ != $p && $_ != $s } @nodes;
	my %r = (fault => $fault, old => $s->name, new => $other->name);
	my @stopped;
	my $t0 = time;
	if ($fault eq 'sync-kill9') { kill 'KILL', $s->postmaster_pid }
	elsif ($fault eq 'sync-freeze') { @stopped = $s->all_pids; kill 'STOP', @stopped }
	else { kill 'TERM', $s->supervisor_pid }
	my ($t_named, $t_rejoin, $restarted);
	my $deadline = $t0 + $bound{$fault};
	while (time < $deadline)
	{
		my $now = time;
		$t_named = time if !$t_named && $p->psql('SHOW synchronous_standby_names') =~ /\Q${\ $other->name}\E/;
		# heal once the stall is over and a few seconds of writes followed
		if ($now > $t0 + 4 && $t_named)
		{
			if (@stopped) { kill 'CONT', @stopped; @stopped = () }
			if ($fault eq 'sync-stop' && !$restarted && !$s->{h}->pumpable) { $s->stop(5); $s->start; $restarted = 1 }
		}
		last if $t_named && $now > $t0 + 4 && !@stopped && ($t_rejoin = $s->running && $s->streams_from($p) ? time : undef);
		sleep 0.05;
	}
	if (@stopped) { kill 'CONT', @stopped }
	if ($fault eq 'sync-stop' && !$restarted) { $s->stop(30); $s->start }
	$r{t0} = $t0;
	$r{promoted} = $t_named - $t0 if $t_named;
	$r{rejoin} = $t_rejoin - $t0 if $t_rejoin;
	# the commit stall: the longest gap between acknowledgements from the
	# last one before the fault to the end of the run (>= 4 s after it, and
	# after the other replica was named)
	my $t_end = time;
	my @t = map { $_->[2] } acks_since($t0 - 5);
	my @before = grep { $_ <= $t0 } @t;
	@t = grep { $_ >= ($before[-1] // $t0) && $_ <= $t_end } @t;
	$r{pause} = $r{unavailable} = @t > 1 ? max(map { $t[$_] - $t[$_ - 1] } 1 .. $#t) : undef;
	$r{stale} = 0;
	my @missing = (!$t_named ? 'the other replica was not named' : (), !defined $r{pause} ? 'no writes after the fault' : (),
		!$t_rejoin ? 'the lost standby did not stream again' : ());
	$r{error} = join('; ', @missing) . " within $bound{$fault} s" if @missing;
	count_lost(\%r, $p);
	return \%r;
}

sub run_fault
{
	my ($fault, $old) = @_;
	return run_sync_lost($fault, $old) if $fault =~ /^sync-/;
	return run_restart($old) if $fault eq 'restart';
	my %r = (fault => $fault, old => $old->name);
	my @others = grep { $_ != $old } @nodes;
	my $sw;    # switchover psql
	my $t0;
	if ($fault eq 'switchover')
	{
		my $on = $others[0];
		$t0 = time;
		# output to files: the harness then needs no pumping to finish
		$sw = IPC::Run::start(['psql', '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1',
				'-p', $on->port, '-U', 'postgres', '-d', 'postgres', '-c', 'SELECT ha_switchover()'],
			'<', '/dev/null', '>', "$wdir/switchover.out", '2>', "$wdir/switchover.err");
		$r{switchover_on} = $on->name;
	}
	elsif ($fault eq 'sigterm')
	{
		$t0 = time;
		kill 'TERM', $old->supervisor_pid;
	}
	elsif ($fault eq 'kill9')
	{
		my $pm = $old->postmaster_pid or return { %r, error => 'no postmaster pid' };
		$t0 = time;
		kill 'KILL', $pm;
	}
	elsif ($fault eq 'freeze')
	{
		@frozen = $old->all_pids;
		$t0 = time;
		kill 'STOP', @frozen;
		$r{frozen} = scalar @frozen;
	}
	$r{t0} = $t0;

	my ($new, $t_promoted, $t_first, $t_rejoin, $t_back, $t_old_again);
	my $last_rejoin_poll = 0;
	my $deadline = $t0 + $bound{$fault};
	while (time < $deadline)
	{
		my $now = time;
		# server side: a node other than the old primary answers 200 on /primary
		if (!$t_promoted)
		{
			for my $n (@others)
			{
				if ($n->is_primary) { $t_promoted = time; $new = $n; last }
			}
		}
		# client side: the first write the new primary acknowledged
		if (!$t_first)
		{
			my ($a) = grep { $_->[1] ne $old->name } acks_since($t0);
			if ($a)
			{
				$t_first = $a->[2];
				($new) = grep { $_->name eq $a->[1] } @nodes;
			}
		}
		# the fault's own course
		if ($fault eq 'switchover' && $sw && !$sw->pumpable)
		{
			$sw->finish;
			$r{switchover_rc} = $? >> 8;
			$r{switchover_s} = time - $t0;
			chomp($r{switchover_out} = PostgreSQL::Test::Utils::slurp_file("$wdir/switchover.out"));
			($r{switchover_err} = PostgreSQL::Test::Utils::slurp_file("$wdir/switchover.err")) =~ s/\s+/ /g;
			$sw = undef;
		}
		if ($fault eq 'sigterm' && !$t_back && !$old->{h}->pumpable)
		{
			# the supervisor exited: start it again at once, as a service manager would
			$r{exited_s} = time - $t0;
			$old->stop(5);    # reaps it
			$old->start;
			$t_back = time;
		}
		if ($fault eq 'freeze' && @frozen && $now >= $t0 + $opt{'freeze-seconds'}
			&& ($t_promoted || $now >= $t0 + $opt{'freeze-seconds'} + 20))
		{
			kill 'CONT', @frozen;
			@frozen = ();
			$r{thawed_s} = time - $t0;
		}
		# the restarted old primary may take the free leader key back before
		# a replica does (then there is no failover to wait for)
		if ($fault eq 'sigterm' && $t_back && !$t_promoted && !$t_old_again && $old->is_primary)
		{
			$t_old_again = time;
		}
		last if $t_old_again && !$t_promoted && time - $t_old_again > 3;
		# rejoin: the old primary streams from the new one
		if ($new && !$t_rejoin && !@frozen && $now - $last_rejoin_poll >= 0.2)
		{
			$last_rejoin_poll = $now;
			$t_rejoin = time if $old->running && $old->streams_from($new);
		}
		last if $t_first && $t_rejoin && !$sw && $t_promoted;
		sleep 0.05;
	}
	if (@frozen) { kill 'CONT', @frozen; @frozen = () }
	if ($fault eq 'sigterm' && !$t_back) { $old->stop(30); $old->start }
	if ($sw) { $sw->kill_kill; $r{switchover_rc} = 'timeout'; $r{switchover_err} = 'still waiting'; $sw = undef }
	$r{new} = $new ? $new->name : '';
	$r{promoted} = $t_promoted - $t0 if $t_promoted;
	$r{unavailable} = $t_first - $t0 if $t_first;
	$r{rejoin} = $t_rejoin - $t0 if $t_rejoin;
	my @missing = (!$t_promoted ? 'no new primary' : (), !$t_first ? 'no write acknowledged by a new primary' : (),
		!$t_rejoin ? 'the old primary did not rejoin' : ());
	if ($t_old_again && !$t_promoted)
	{
		# what the client saw: the first write acknowledged after the restart
		my ($a) = grep { $_->[1] eq $old->name } acks_since($t_back);
		@missing = (sprintf('no failover: the restarted old primary %s took the leader key back %.2f s after '
				. 'the fault (supervisor restarted at +%.2f s; first write acknowledged again at +%s s)',
				$old->name, $t_old_again - $t0, $t_back - $t0, $a ? sprintf('%.2f', $a->[2] - $t0) : '?'));
		$r{unavailable_old} = $a->[2] - $t0 if $a;
	}
	push @missing, "ha_switchover() on $r{switchover_on} failed (exit $r{switchover_rc}): $r{switchover_err}"
	  if $fault eq 'switchover' && ($r{switchover_rc} // '') ne '0';
	push @missing, "ha_switchover() returned '$r{switchover_out}', the new primary is $r{new}"
	  if $fault eq 'switchover' && ($r{switchover_rc} // '') eq '0' && $r{switchover_out} ne $r{new};
	$r{error} = join('; ', @missing) . ($t_old_again ? '' : " within $bound{$fault} s") if @missing;

	# longest pause between consecutive acknowledgements, from the last one
	# before the fault to the first one on the new primary
	if ($t_first)
	{
		my @t = map { $_->[2] } grep { $_->[2] <= $t_first } acks_since($t0 - 5);
		my @before = grep { $_ <= $t0 } @t;
		@t = grep { $_ >= ($before[-1] // $t0) } @t;
		$r{pause} = max(map { $t[$_] - $t[$_ - 1] } 1 .. $#t) // 0;
		# S1: the old primary acknowledged nothing after the new one did
		$r{stale} = scalar grep { $_->[1] eq $old->name && $_->[2] > $t_first } acks_since($t_first);
	}

	# lost: every value acknowledged so far must be on the (new) primary
	if (my $check = $new // ($t_old_again ? $old : undef))
	{
		read_acks();
		my @acked = @acks;
		my ($rc, $out) = $check->psql('SELECT v FROM pg_ha_acked', timeout => 60);
		if ($rc == 0)
		{
			my %have = map { $_ => 1 } split /\n/, $out;
			my @lost = grep { !$have{ $_->[0] } } @acked;
			$r{lost_list} = [map { "$_->[0]\@$_->[1]\@$_->[2]" } @lost];
			$r{lost} = scalar @lost;
			$r{acked} = scalar @acked;
		}
		else { $r{error} = join('; ', grep { $_ } $r{error}, 'could not read the new primary') }
	}
	return \%r;
}

# --- the restart fault's baseline: postgres alone ------------------------------
# The same restart without pg_ha, in the same run: a standalone postgres with
# the nodes' settings, "pg_ctl restart -m fast -w" and the first query after
# it, timed from the command.  What a client waits at least.
my @pg_restart;
if (grep { $_ eq 'restart' } @faults)
{
	my $b = PostgreSQL::Test::Cluster->new('restart_baseline');
	$b->init;
	$b->append_conf('postgresql.conf', "fsync = off\nshared_buffers = 16MB\n");
	$b->start;
	for (1 .. $opt{runs})
	{
		my $t = time;
		system('pg_ctl', '-D', $b->data_dir, '-m', 'fast', '-w', '-l', $b->logfile, 'restart') == 0 or last;
		wait_until(sub { $b->safe_psql('postgres', 'SELECT 1') eq '1' }, 30, 'baseline up') or last;
		push @pg_restart, time - $t;
	}
	$b->stop;
}

# --- the runs ----------------------------------------------------------------
my @results;
my %lost_before;    # values already reported lost by an earlier run
my $aborted;
FAULT: for my $fault (@faults)
{
	for my $i (1 .. $opt{runs})
	{
		my $p = steady(120);
		if (!$p)
		{
			report("the cluster did not reach a steady state (one primary, two streaming replicas",
				$sync ? ', a confirmed sync standby' : '', ') within 120 s: stopping');
			$aborted = 'no steady state before ' . "$fault run $i";
			last FAULT;
		}
		my $r = run_fault($fault, $p);
		$r->{run} = $i;
		# count only values not already lost in an earlier run
		my @new_lost = grep { my ($v) = split /\@/; !$lost_before{$v}++ } @{ $r->{lost_list} // [] };
		$r->{lost} = scalar @new_lost if defined $r->{lost};
		$r->{lost_values} = join(',', @new_lost[0 .. min($#new_lost, 19)]);
		push @results, $r;
		my $f = sub { defined $_[0] ? sprintf('%.2f s', $_[0]) : '-' };
		report(sprintf('%-10s run %d/%d: %s -> %s  unavailable %s (longest pause %s)  /primary %s  rejoin %s  lost %s  stale %s%s',
			$fault, $i, $opt{runs}, $r->{old}, $r->{new} || '?', $f->($r->{unavailable}), $f->($r->{pause}),
			$f->($r->{promoted}), $f->($r->{rejoin}), $r->{lost} // '?', $r->{stale} // '?',
			$r->{error} ? "  FAILED: $r->{error}" : ''));
		report("  lost values (v\@node\@ack time): $r->{lost_values}") if $r->{lost};
	}
}

$writer->stop;
read_acks();
my $total_acked = scalar @acks;
# final check on the primary at the end, after everything settled
my $final_lost;
if (!$aborted && (my $p = steady(120, 'no writer')))
{
	my %have = map { $_ => 1 } split /\n/, scalar $p->psql('SELECT v FROM pg_ha_acked', timeout => 60);
	$final_lost = grep { !$have{ $_->[0] } } @acks;
}
$_->stop(60) for grep { $_->{h} } @nodes;
zk_stop($zk);

# --- the table -----------------------------------------------------------------
sub median
{
	my @s = sort { $a <=> $b } @_;
	return undef unless @s;
	return @s % 2 ? $s[$#s / 2] : ($s[@s / 2 - 1] + $s[@s / 2]) / 2;
}
sub mmm
{
	my @v = grep { defined } @_;
	return sprintf('%5s %5s %5s', '-', '-', '-') unless @v;
	return sprintf('%5.2f %5.2f %5.2f', min(@v), median(@v), max(@v));
}
my %label = (switchover => 'switchover (ha_switchover)', sigterm => 'SIGTERM primary supervisor',
	kill9 => 'kill -9 primary postmaster', freeze => "SIGSTOP whole primary node",
	'sync-kill9' => 'kill -9 sync standby postmaster', 'sync-freeze' => 'SIGSTOP whole sync standby',
	'sync-stop' => 'SIGTERM sync standby supervisor', restart => 'POST /restart of the leader');
my %target = (switchover => 1, sigterm => 1, kill9 => 1, freeze => $TTL + 1,
	'sync-kill9' => 1, 'sync-freeze' => 1, 'sync-stop' => 1, restart => 1);

my $tbl = '';
$tbl .= sprintf("\npg_ha failover bench: %s mode, 3 nodes, ttl %d s, loop_wait 1 s, retry_timeout 3 s, "
	. "%d run(s) per fault, freeze %.0f s; %d CPUs; %d acknowledged writes in all\n",
	$sync ? 'synchronous' : 'asynchronous', $TTL, $opt{runs}, $opt{'freeze-seconds'}, `nproc` + 0, $total_acked);
$tbl .= "seconds, min / median / max over the runs that completed\n\n";
$tbl .= sprintf("%-28s | %5s | %-17s | %-17s | %-17s | %-17s | %4s | %5s | %s\n",
	'fault', 'runs', 'unavailable', 'longest pause', '/primary answers', 'rejoin', 'lost', 'stale', 'target (median)');
$tbl .= sprintf("%-28s | %5s | %-17s | %-17s | %-17s | %-17s | %4s | %5s | %s\n", '', 'ok', ('min   med   max') x 4, '', '', '');
$tbl .= ('-' x 150) . "\n";
my $problems = 0;
for my $fault (@faults)
{
	my @rs = grep { $_->{fault} eq $fault } @results;
	next unless @rs;
	my $ok = grep { !$_->{error} } @rs;
	my $med = median(grep { defined } map { $_->{unavailable} } @rs);
	my $lost = sum(map { $_->{lost} // 0 } @rs);
	my $stale = sum(map { $_->{stale} // 0 } @rs);
	my $meets = defined $med && $med <= $target{$fault} ? 'met' : 'MISSED';
	$problems++ if $ok < @rs || $meets ne 'met' || ($sync && $lost) || $stale;
	$tbl .= sprintf("%-28s | %5s | %s | %s | %s | %s | %4d | %5d | <= %d s: %s\n",
		$label{$fault}, "$ok/" . scalar @rs,
		mmm(map { $_->{unavailable} } @rs), mmm(map { $_->{pause} } @rs),
		mmm(map { $_->{promoted} } @rs), mmm(map { $_->{rejoin} } @rs), $lost, $stale,
		$target{$fault}, $meets);
}
$tbl .= "\nunavailable: fault -> first write acknowledged by the new primary, at the client (the writer finds\n"
  . "  the primary by asking each node's /primary, $opt{'probe-timeout'} s timeout per node, then connects);\n"
  . "longest pause: the longest gap between two consecutive acknowledged writes around the fault;\n"
  . "/primary answers: fault -> the new primary answers 200 on /primary (polled every 50 ms);\n"
  . "rejoin: fault -> the old primary streams from the new one (SIGTERM: its supervisor is started\n"
  . "  again as soon as it has exited; freeze: SIGCONT after the freeze);\n"
  . "sync standby faults: unavailable = longest pause = the commit stall, /primary answers = the other\n"
  . "  replica named synchronous standby, rejoin = the lost standby streams again (the leader stays);\n"
  . "restart: unavailable = longest pause = the longest gap in writes, /primary answers = POST /restart\n"
  . "  answered (postgres is back), rejoin = both replicas stream again (the leader stays);\n"
  . "lost: acknowledged writes missing on the new primary; stale: writes acknowledged by the old\n"
  . "  primary after the new primary's first acknowledgement (must be 0).\n";
if (grep { $_ eq 'restart' } @faults)
{
	my @u = grep { defined } map { $_->{unavailable} } grep { $_->{fault} eq 'restart' } @results;
	$tbl .= sprintf("restart baseline (the same run): pg_ctl restart -m fast of a standalone postgres with the nodes'\n"
		. "  settings, to its first query: %s s over %d restarts; POST /restart of the leader: unavailable median\n"
		. "  %s the baseline's\n", mmm(@pg_restart), scalar @pg_restart,
		@pg_restart && @u ? sprintf('%.2f x', median(@u) / median(@pg_restart)) : '- x');
}
$tbl .= "final check: " . (defined $final_lost ? "$final_lost of $total_acked acknowledged writes missing on the final primary\n"
	: "not done\n");
if (my @failed = grep { $_->{error} } @results)
{
	$tbl .= "failed runs:\n";
	$tbl .= "  $_->{fault} run $_->{run} ($_->{old} -> " . ($_->{new} || '?') . "): $_->{error}\n" for @failed;
}
$tbl .= "ABORTED: $aborted\n" if $aborted;
print $TTY $tbl;
print STDOUT $tbl;

if ($opt{out})
{
	open my $fh, '>', $opt{out} or die "$opt{out}: $!";
	my @cols = qw(fault run t0 old new unavailable pause promoted rejoin lost stale exited_s thawed_s switchover_s frozen unavailable_old error);
	print $fh join("\t", @cols), "\n";
	for my $r (@results)
	{
		print $fh join("\t", map { my $v = $r->{$_}; !defined $v ? '' : $v =~ /^-?\d+\.\d+$/ ? sprintf('%.3f', $v) : $v } @cols), "\n";
	}
	close $fh;
}
$problems++ if $aborted || ($sync && $final_lost);
$EXIT = $problems ? 1 : 0;
exit $EXIT;
