# Acknowledge only under a valid lease.  A commit whose record is flushed
# (and confirmed by the synchronous standby) after this node's leader lease
# ran out is never acknowledged: the backend ends the session instead, so
# the client sees a lost connection, the outcome in doubt -- never a false
# "INSERT 0 1".
#
# pg_ha.test_hold_after_commit_ms (a test-only setting) holds a committing
# backend right there, between the commit check and the check before the
# reply.  Meanwhile the primary's agent is frozen (SIGSTOP) until the lease
# has run out and its ZooKeeper session expires, so the replica takes over:
# what a freeze of the primary at that moment does.  In asynchronous and in
# synchronous mode.  Then, in synchronous mode, PREPARE / COMMIT PREPARED
# under a valid lease, and a COMMIT PREPARED held while the node is fenced
# (ZooKeeper stopped).
use strict;
use warnings;
use DBI;
use IPC::Run ();
use POSIX ();
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use PgHaTest;
use PgHaNode;

# retry_timeout 3 s, ttl 6 s (PgHaNode's defaults): a hold of 12 s outlasts
# the lease and the session of an agent frozen at its start, with a margin
my $HOLD_MS = 12000;

sub agent_pid_of
{
	my ($node) = @_;
	my $pm = $node->postmaster_pid or return undef;
	my ($pid) = split /\s+/, `pgrep -P $pm -f 'pg_ha agent'`;
	return $pid;
}

sub log_size { -s "$_[0]{dir}/postgres.log" // 0 }

sub log_since
{
	my ($node, $from) = @_;
	my $log = $node->postgres_log;
	return length($log) > $from ? substr($log, $from) : '';
}

# A psql session, without -q so that the command tags (the acknowledgements)
# show: SET pg_ha.test_hold_after_commit_ms, then each statement of @sql.
sub client_start
{
	my ($node, $hold_ms, @sql) = @_;
	my %c = (out => '', err => '');
	$c{h} = IPC::Run::start(['psql', '-X', '-v', 'ON_ERROR_STOP=1',
			'-h', '127.0.0.1', '-p', $node->port, '-U', 'postgres', '-d', 'postgres',
			'-c', "SET pg_ha.test_hold_after_commit_ms = $hold_ms", map { ('-c', $_) } @sql],
		'<', '/dev/null', '>', \$c{out}, '2>', \$c{err},
		IPC::Run::timeout($hold_ms / 1000 + 60));
	return \%c;
}

sub client_finish
{
	my ($c) = @_;
	$c->{h}->finish;
	$c->{rc} = $c->{h}->result(0);
	return $c;
}

sub client_run { client_finish(client_start(@_)) }

# The same over the extended protocol (DBD::Pg with a bind value: Parse,
# Bind, Execute, Sync; the implicit transaction commits at Sync, after the
# statement's CommandComplete is queued), in a child process.
sub extended_start
{
	my ($node, $hold_ms, $sql, @binds) = @_;
	my $file = PostgreSQL::Test::Utils::tempdir('extended') . '/result';
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		my $res;
		eval {
			my $dbh = DBI->connect('dbi:Pg:host=127.0.0.1;port=' . $node->port . ';dbname=postgres',
				'postgres', $PgHaNode::SUPERUSER_PASSWORD, { AutoCommit => 1, RaiseError => 1, PrintError => 0 });
			$dbh->do("SET pg_ha.test_hold_after_commit_ms = $hold_ms");
			my $rows = $dbh->do($sql, undef, @binds);
			$res = "acknowledged: $rows row(s)";
			1;
		} or $res = "error: " . ($@ // 'unknown');
		if (open(my $fh, '>', $file))
		{
			print $fh $res;
			close $fh;
		}
		POSIX::_exit(0);
	}
	return { pid => $pid, file => $file, seconds => $hold_ms / 1000 + 60 };
}

sub extended_finish
{
	my ($c) = @_;
	my $done = wait_until(sub { waitpid($c->{pid}, POSIX::WNOHANG()) == $c->{pid} }, $c->{seconds},
		'extended-protocol client');
	kill 'KILL', $c->{pid} unless $done;
	$c->{result} = -f $c->{file} ? PostgreSQL::Test::Utils::slurp_file($c->{file}) : 'no result';
	return $c;
}

# $standby is the synchronous standby of $leader: confirmed (promotable,
# /sync answers 200) and waited for by commits
sub in_sync
{
	my ($leader, $standby) = @_;
	return $standby->http('/sync') == 200
	  && $leader->psql("SELECT sync_state FROM pg_stat_replication WHERE application_name = '"
		  . $standby->name . "'") eq 'sync';
}

sub wait_primary
{
	my ($nodes, $what) = @_;
	my $p;
	ok(wait_until(sub { $p = PgHaNode::primary_of(@$nodes) }, 90, $what), $what);
	return $p;
}

# Holds a commit ($sql, the last statement) on $primary while $fault makes
# the lease run out; returns the client's result, the log since, and whether
# the gate refused other writes before the held commit was checked.
# With $extended (a value), an extended-protocol client inserts it, held in
# the same way at the same time.
sub held_commit
{
	my ($primary, $label, $sql, $fault, $refusal_re, $extended) = @_;
	my $from = log_size($primary);
	my $t0 = time;
	my $c = client_start($primary, $HOLD_MS, $sql);
	my $x = defined $extended ? extended_start($primary, $HOLD_MS, 'INSERT INTO t VALUES ($1)', $extended) : undef;
	my $held = $x ? 2 : 1;
	ok(wait_until(sub { my @h = log_since($primary, $from) =~ /pg_ha: holding the commit of/g; @h == $held }, 30, 'held'),
		"$label: the commit is flushed and replicated, and held before the second check"
		  . ($x ? ' (and the extended-protocol one)' : ''));
	$fault->();
	my $refused = '';
	ok(wait_until(sub {
		my ($rc, $out, $err) = $primary->psql('INSERT INTO probe VALUES (1)', timeout => 5);
		$refused = $err if $rc != 0;
		$rc != 0
	}, 3 + 10, 'refused'), "$label: meanwhile the gate refuses other writes");
	my $refused_after = time - $t0;
	like($refused, $refusal_re, "$label: for the expected reason") or diag($refused);
	diag(sprintf("$label: other writes refused %.2f s after the held commit started (hold %.1f s)",
			$refused_after, $HOLD_MS / 1000));
	ok($refused_after < $HOLD_MS / 1000,
		"$label: before the held commit's second check (so it must see the gate refuse)");
	client_finish($c);
	if ($x)
	{
		extended_finish($x);
		unlike($x->{result}, qr/^acknowledged/, "$label: the extended-protocol client got no acknowledgement");
		like($x->{result}, qr/server closed the connection unexpectedly|connection to server was lost|no connection to the server/,
			"$label: it saw the connection end") or diag($x->{result});
	}
	return ($c, log_since($primary, $from));
}

sub no_acknowledgement
{
	my ($label, $c, $log, $tag, $why_re) = @_;
	isnt($c->{rc}, 0, "$label: the client's command failed (psql exit $c->{rc})");
	unlike($c->{out}, qr/^\Q$tag\E/m, "$label: the client got no \"$tag\"") or diag($c->{out});
	like($c->{err}, qr/server closed the connection unexpectedly|connection to server was lost/,
		"$label: it saw the connection end") or diag($c->{err});
	like($log, qr/LOG:  pg_ha: ending the session without acknowledging $why_re/,
		"$label: the server logs why");
	like($log, qr/DETAIL:  The transaction committed locally after it passed the commit check, but another node may lead cluster "pg_ha_test" and may not have it: the client gets no reply, the outcome is in doubt for it\./,
		"$label: committed locally, outcome in doubt");
	like($log, qr/FATAL:  connection to client lost/, "$label: and the backend exits");
}

sub acknowledged
{
	my ($label, $c, $tag) = @_;
	is($c->{rc}, 0, "$label: the command succeeded") or diag($c->{err});
	like($c->{out}, qr/^\Q$tag\E$/m, "$label: the client got \"$tag\"");
}

# A commit waiting for its synchronous standby (the standby's WAL receiver
# frozen) is cancelled: postgres would report it committed, with only a
# warning, though no standby has it.  The gate ends the session instead.
sub cancelled_sync_wait
{
	my ($mode, $leader, $standby) = @_;
	my $label = "$mode, wait for the standby cancelled";
	ok(wait_until(sub { in_sync($leader, $standby) }, 60, 'sync standby'),
		"$label: " . $standby->name . ' is the confirmed synchronous standby');
	my $pm = $standby->postmaster_pid;
	my ($receiver) = split /\s+/, `pgrep -P $pm -f 'walreceiver'`;
	ok($receiver, "$label: the standby's WAL receiver runs");
	return unless $receiver;
	kill 'STOP', $receiver;
	my $from = log_size($leader);
	my $c = client_start($leader, 0, 'INSERT INTO t VALUES (20)');
	my $waiting = '';
	ok(wait_until(sub {
		$waiting = $leader->psql("SELECT pid FROM pg_stat_activity WHERE wait_event = 'SyncRep' AND query LIKE 'INSERT INTO t VALUES (20)%'");
		$waiting ne ''
	}, 30, 'waits'), "$label: the commit waits for the frozen standby");
	$leader->psql("SELECT pg_cancel_backend($waiting)") if $waiting ne '';
	client_finish($c);
	kill 'CONT', $receiver;
	my $log = log_since($leader, $from);
	isnt($c->{rc}, 0, "$label: the client's command failed (psql exit $c->{rc})");
	unlike($c->{out}, qr/^INSERT 0 1/m, "$label: the client got no \"INSERT 0 1\"") or diag($c->{out});
	like($c->{err}, qr/server closed the connection unexpectedly|connection to server was lost/,
		"$label: it saw the connection end") or diag($c->{err});
	like($log, qr/WARNING:  canceling wait for synchronous replication due to user request/,
		"$label: postgres cancelled the wait");
	like($log, qr/LOG:  pg_ha: ending the session without acknowledging the commit of transaction \d+: its wait for the synchronous standby ended before the standby confirmed it/,
		"$label: the server logs why");
	like($log, qr/FATAL:  connection to client lost/, "$label: and the backend exits");
	ok(wait_until(sub { $standby->psql('SELECT count(*) FROM t WHERE x = 20') eq '1' }, 60, 'caught up'),
		"$label: the standby, thawed, has the in-doubt row");
	acknowledged("$label: a normal commit afterwards", client_run($leader, 0, 'INSERT INTO t VALUES (21)'),
		'INSERT 0 1');
}

sub run_mode
{
	my ($mode) = @_;
	my $sync = $mode eq 'synchronous';
	my $p = $sync ? 'ls' : 'la';
	my $zk = zk_start();
	my @nodes = map {
		PgHaNode->new(name => "$p$_", zk_hosts => $zk->{hosts},
			extra => "pg.max_prepared_transactions = 10\n" . ($sync ? "synchronous_mode = on\n" : ''))
	} 1 .. 2;
	my ($n1, $n2) = @nodes;
	$n1->start;
	ok(wait_until(sub { $n1->is_primary }, 60, "${p}1 leads"), "$mode: ${p}1 bootstraps and leads");
	$n2->start;
	ok(wait_until(sub { $n2->is_replica && $n2->streams_from($n1) }, 90, "${p}2 replica"), "$mode: ${p}2 streams");
	if ($sync)
	{
		ok(wait_until(sub { in_sync($n1, $n2) }, 60, 'sync standby'),
			"$mode: ${p}2 is the confirmed synchronous standby");
	}
	$n1->psql('CREATE TABLE t (x int PRIMARY KEY)');
	$n1->psql('CREATE TABLE probe (x int)');

	# a commit held under a valid lease is acknowledged
	my $from = log_size($n1);
	my $c = client_run($n1, 1000, 'INSERT INTO t VALUES (1)');
	acknowledged("$mode, valid lease, held 1 s", $c, 'INSERT 0 1');
	my $log = log_since($n1, $from);
	like($log, qr/pg_ha: holding the commit of transaction \d+ for 1000 ms/, "$mode: it was held");
	unlike($log, qr/ending the session/, "$mode: and checked with the lease valid");

	# the agent freezes while a commit is held: the lease runs out, the key expires
	my $agent = agent_pid_of($n1);
	ok($agent, "$mode: the primary's agent runs (pid " . ($agent // 'none') . ')');
	my ($held, $held_log) = held_commit($n1, "$mode, lease ran out", 'INSERT INTO t VALUES (2)',
		sub { kill 'STOP', $agent }, qr/leader lease ran out \d+ ms ago/, 4);
	no_acknowledgement("$mode, lease ran out", $held, $held_log, 'INSERT 0 1',
		qr/the commit of transaction \d+: this node's leader lease ran out \d+ ms ago/);
	like($held_log, qr/(ending the session without acknowledging the commit of transaction.*){2}/s,
		"$mode: both sessions were ended so");
	is($n1->psql('SELECT count(*) FROM t WHERE x IN (2, 4)'), '2',
		"$mode: the unacknowledged rows are committed on the old primary (in doubt, not aborted)");
	kill 'CONT', $agent;

	my $new = wait_primary(\@nodes, "$mode: a primary after the freeze");
	is($new && $new->name, "${p}2", "$mode: the replica took over while the commit was held");
	$new //= $n2;
	my $on_new = $new->psql('SELECT count(*) FROM t WHERE x IN (2, 4)');
	if ($sync)
	{
		is($on_new, '2', "$mode: the in-doubt rows reached the new primary (they were confirmed by the standby)");
	}
	else
	{
		diag("$mode: $on_new of the 2 in-doubt rows are on the new primary");
	}
	acknowledged("$mode: a normal commit on the new primary", client_run($new, 0, 'INSERT INTO t VALUES (3)'),
		'INSERT 0 1');
	ok(wait_until(sub { $n1->running && $n1->is_replica && $n1->streams_from($new) }, 120, 'rejoin'),
		"$mode: the old primary rejoins as a replica");
	is(scalar(grep { $_->is_primary } @nodes), 1, "$mode: exactly one primary");

	if ($sync)
	{
		ok(wait_until(sub { in_sync($new, $n1) }, 60, 'sync standby'),
			"$mode: ${p}1 is the confirmed synchronous standby now");
		# two-phase commit under a valid lease
		acknowledged("$mode: PREPARE TRANSACTION",
			client_run($new, 500, 'BEGIN', 'INSERT INTO t VALUES (10)', "PREPARE TRANSACTION 'p10'"),
			'PREPARE TRANSACTION');
		acknowledged("$mode: COMMIT PREPARED", client_run($new, 500, "COMMIT PREPARED 'p10'"), 'COMMIT PREPARED');
		is($new->psql('SELECT count(*) FROM t WHERE x = 10'), '1', "$mode: the prepared row is committed");

		# COMMIT PREPARED held while the node is fenced (ZooKeeper stopped)
		acknowledged("$mode: PREPARE TRANSACTION 'p11'",
			client_run($new, 0, 'BEGIN', 'INSERT INTO t VALUES (11)', "PREPARE TRANSACTION 'p11'"),
			'PREPARE TRANSACTION');
		my ($cp, $cp_log) = held_commit($new, "$mode, COMMIT PREPARED, fenced", "COMMIT PREPARED 'p11'",
			sub { zk_stop($zk) }, qr/writes are refused/);
		no_acknowledgement("$mode, COMMIT PREPARED, fenced", $cp, $cp_log, 'COMMIT PREPARED',
			qr/the commit of prepared transaction "p11": this node (was fenced|'s leader lease ran out)/);
		is($new->psql("SELECT count(*) FROM pg_prepared_xacts WHERE gid = 'p11'"), '0',
			"$mode: p11 is no longer prepared");
		is($new->psql('SELECT count(*) FROM t WHERE x = 11'), '1', "$mode: it committed locally");
		zk_restart($zk);
		my $again = wait_primary(\@nodes, "$mode: a primary once ZooKeeper is back");
		acknowledged("$mode: a normal commit after the outage",
			client_run($again // $new, 0, 'INSERT INTO t VALUES (12)'), 'INSERT 0 1');
		cancelled_sync_wait($mode, $again // $new, grep { $_ != ($again // $new) } @nodes);
	}
	else
	{
		# two-phase commit under a valid lease
		acknowledged("$mode: PREPARE TRANSACTION",
			client_run($new, 500, 'BEGIN', 'INSERT INTO t VALUES (10)', "PREPARE TRANSACTION 'p10'"),
			'PREPARE TRANSACTION');
		acknowledged("$mode: COMMIT PREPARED", client_run($new, 500, "COMMIT PREPARED 'p10'"), 'COMMIT PREPARED');
		is($new->psql('SELECT count(*) FROM t WHERE x = 10'), '1', "$mode: the prepared row is committed");
	}

	$_->stop for @nodes;
	zk_stop($zk);
}

run_mode('asynchronous');
run_mode('synchronous');
done_testing();
