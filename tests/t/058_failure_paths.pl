# The supervisor's failure paths, with real faults and no mock:
#  (a) pg_rewind fails during a rejoin: the old primary runs with
#      wal_log_hints = off (and no data checksums), so pg_rewind refuses
#      it; the supervisor moves the directory aside, clones the leader, and
#      removes the old copy once the new one runs;
#  (c) pg_rewind interrupted: the new leader holds a lock on pg_tablespace
#      that pg_rewind's file listing waits for, and the supervisor is
#      killed -9 meanwhile (pg_rewind ends with it: its parent-death
#      signal); the next start finds
#      <data_dir>.pg_ha-rewinding and clones again, never starting the
#      half-rewound directory;
#  (b) a clone interrupted: a new node clones at pg_basebackup's slowest
#      rate (basebackup_max_rate = 32k) and its supervisor is killed -9
#      halfway (pg_basebackup ends with it); the next start finds <data_dir>.pg_ha-cloning, removes the partial copy and
#      clones again.
# And pg.wal_keep_segments (PostgreSQL 12's name) becomes wal_keep_size.
# Three supervised nodes, ZooKeeper; every wait bounded.
use strict;
use warnings;
use File::Basename qw(basename);
use IPC::Run ();
use PostgreSQL::Test::Utils;
use Test::More;
use PgHaTest;
use PgHaNode;

my $zk = zk_start();
my $n1 = PgHaNode->new(name => 'p1', zk_hosts => $zk->{hosts}, extra => "pg.wal_log_hints = off\n");
my $n2 = PgHaNode->new(name => 'p2', zk_hosts => $zk->{hosts});
# p3 keeps WAL with PostgreSQL 12's name, as the lab's Patroni file does
my $n3 = PgHaNode->new(
	name => 'p3',
	zk_hosts => $zk->{hosts},
	extra => "basebackup_max_rate = 32k\n",
	wal_keep => 'pg.wal_keep_segments = 16');

sub data_inode { return (stat($_[0]{data}))[1] }

sub rows { return scalar $_[0]->psql('SELECT string_agg(x::text, \',\' ORDER BY x) FROM t') // '' }

sub count_of { my ($node, $re) = @_; my @m = $node->supervisor_log =~ /$re/g; return scalar @m }

# A file only the node's current data directory has.
sub put_trace
{
	my ($node, $what) = @_;
	my $f = "$node->{data}/pg_ha_test_058_$what";
	open my $fh, '>', $f or die "$f: $!";
	print $fh "written by 058 ($what)\n";
	close $fh;
	return $f;
}

# The program $prog (pg_rewind, pg_basebackup) the supervisor runs under
# its guard (a child of the supervisor), or undef.
sub child_named
{
	my ($node, $prog) = @_;
	my $pid = $node->supervisor_pid or return undef;
	for my $guard (split /\s+/, `pgrep -P $pid -f -- '--guard'`)
	{
		my ($child) = split /\s+/, `pgrep -P $guard -x $prog`;
		return $child if $child;
	}
	return undef;
}

# A process that runs (a zombie does not: an orphan's may wait for a reaper).
sub running_pid
{
	my ($pid) = @_;
	open my $fh, '<', "/proc/$pid/stat" or return 0;
	my $stat = <$fh> // '';
	return $stat !~ /^\d+ \(.*\) Z /;
}

# kill -9 of the supervisor alone: the program's guard gets SIGTERM from
# the kernel (its parent-death signal) and passes it on to the program's
# whole process group (pg_basebackup's WAL streamer too); waits until none
# of the group runs.
sub kill9_supervisor
{
	my ($node, $child) = @_;
	my ($group) = `ps -o pgid= -p $child` =~ /(\d+)/;
	kill 'KILL', $node->supervisor_pid;
	$node->{h}->finish;
	$node->{h} = $node->{pid} = undef;
	return wait_until(sub { !grep { running_pid($_) } ($child, split /\s+/, `pgrep -g $group`) }, 30,
		"$child and its group $group to end with $node->{name}'s supervisor");
}

# Checks a re-clone by the rejoin: the old directory was moved aside, then
# removed once the copy ran; a new directory; the marker gone; streaming.
sub check_recloned
{
	my ($node, $leader, $inode, $trace, $how) = @_;
	my $name = $node->name;
	my $lname = $leader->name;
	ok( wait_until(sub { $node->supervisor_log =~ /rejoin: the new copy runs; removed the old data directory/ },
			180, "$name re-cloned"),
		"$how: ${name}'s supervisor re-cloned it and removed the old copy")
	  or diag($node->supervisor_log);
	my ($kept) = $node->supervisor_log =~ /rejoin: re-cloning from "\Q$lname\E"; the old data directory is kept as "([^"]+)"/;
	like(basename($kept // ''), qr/^data\.pg_ha-old\.\d{8}T\d{6}$/,
		"$how: the old data directory was moved aside to D.pg_ha-old.<timestamp>");
	ok(defined $kept && !-e $kept, "$how: ... and it is gone now");
	is(scalar(() = glob("$node->{data}.pg_ha-old.*")), 0, "$how: no old copy of $name is left");
	ok(!-e "$node->{data}.pg_ha-rewinding", "$how: no rewind marker is left");
	ok(!-e "$node->{data}.pg_ha-cloning", "$how: no clone marker is left");
	ok(!-e $trace, "$how: the file left in the old data directory is not in the new one");
	isnt(data_inode($node), $inode, "$how: ${name}'s data directory is a new directory");
	ok(wait_until(sub { $node->streams_from($leader) }, 60, "$name streams"), "$how: $name streams from $lname");
}

# Freezes a leader until another node leads, then writes $row there, runs
# $before_thaw (if any) and thaws it.
sub freeze_failover
{
	my ($old, $new, $row, $before_thaw) = @_;
	my @pids = $old->all_pids;
	kill 'STOP', @pids;
	my $ok = wait_until(sub { $new->is_primary }, 30, "$new->{name} leads");
	$ok &&= ($new->psql("INSERT INTO t VALUES ($row)"))[0] == 0;
	$ok &&= $before_thaw->() if $before_thaw;
	kill 'CONT', @pids;
	return $ok;
}

$n1->start;
ok(wait_until(sub { $n1->is_primary }, 60, 'p1 leads'), 'p1 bootstraps and leads');
$n2->start;
ok(wait_until(sub { $n2->is_replica && $n2->streams_from($n1) }, 90, 'p2 streams'), 'p2 clones and streams from p1');
is($n1->psql('SHOW wal_log_hints'), 'off', 'p1 runs with wal_log_hints = off');
is($n1->psql('SHOW data_checksums'), 'off', '... and without data checksums: pg_rewind cannot rewind it');
$n1->psql('CREATE TABLE t (x int); INSERT INTO t VALUES (1)');
ok(wait_until(sub { rows($n2) eq '1' }, 30, 'row on p2'), 'the first row reached p2');

# --- (a) pg_rewind fails: the old primary is re-cloned
my $trace = put_trace($n1, 'a');
my $inode = data_inode($n1);
ok(freeze_failover($n1, $n2, 2), '(a) p1 frozen: p2 takes over and takes a write');
ok(wait_until(sub { $n1->supervisor_log =~ /rejoin: pg_rewind failed: re-cloning/ }, 90, 'pg_rewind fails'),
	'(a) the thawed p1 needs pg_rewind, which fails, and the supervisor re-clones instead')
  or diag($n1->supervisor_log);
like($n1->supervisor_log, qr/rejoin: rewind needed to follow "p2"/, '(a) the rejoin decided on pg_rewind first');
like($n1->supervisor_log, qr/pg_rewind: .*target server needs to use either data checksums or "wal_log_hints = on"/,
	"(a) pg_rewind's own error is in the supervisor's log");
check_recloned($n1, $n2, $inode, $trace, '(a)');
ok(wait_until(sub { rows($n1) eq '1,2' }, 30, 'rows on p1'), "(a) p1 has the new leader's rows");
is($n1->in_recovery, 't', '(a) p1 is a standby');

# --- (c) pg_rewind interrupted: the next start re-clones
# p1 leads again; p2 (wal_log_hints on) must be rewound to follow it; the
# lock is taken before p2 thaws
my ($lock_in, $lock_out, $lock_err) = ('', '', '');
my $locker;
ok( freeze_failover(
		$n2, $n1, 3,
		sub {
			$lock_in = "BEGIN;\nLOCK TABLE pg_tablespace IN ACCESS EXCLUSIVE MODE;\nSELECT 'locked';\n";
			$locker = IPC::Run::start(
				[
					'psql', '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1',
					'-p', $n1->port, '-U', 'postgres', '-d', 'postgres'
				],
				'<', \$lock_in, '>', \$lock_out, '2>', \$lock_err);
			return wait_until(sub { $locker->pump_nb; $lock_out =~ /locked/ }, 30, 'lock');
		}),
	'(c) p2 frozen: p1 takes over and takes a write');
like($lock_out, qr/locked/, "(c) a session on p1 holds pg_tablespace, which pg_rewind's file listing reads")
  or diag($lock_err);
my $rewind;
ok(wait_until(sub { $rewind = child_named($n2, 'pg_rewind'); $rewind && -e "$n2->{data}.pg_ha-rewinding" }, 90,
		'pg_rewind runs'),
	'(c) the thawed p2 runs pg_rewind, with the rewind marker set')
  or diag($n2->supervisor_log);
ok( wait_until(
		sub {
			scalar $n1->psql("SELECT count(*) FROM pg_locks WHERE relation = 'pg_tablespace'::regclass AND NOT granted")
			  eq '1';
		},
		30,
		'pg_rewind waits'),
	'(c) pg_rewind waits for the lock on p1');
$trace = put_trace($n2, 'c');
$inode = data_inode($n2);
like($n2->supervisor_log, qr/pg_rewind: .*rewinding from last common checkpoint/,
	'(c) pg_rewind got under way: it found the last common checkpoint');
ok(kill9_supervisor($n2, $rewind), '(c) kill -9 of the supervisor: pg_rewind ends with it');
unlike($n2->supervisor_log, qr/rejoin: pg_rewind done|pg_rewind: .*Done!/, '(c) pg_rewind never finished');
$lock_in .= "COMMIT;\n\\q\n";
$locker->finish;
ok(-e "$n2->{data}.pg_ha-rewinding", '(c) the rewind marker stays');
ok(!$n2->postmaster_pid, '(c) nothing runs on the half-rewound directory');
my $refusals = count_of($n2, qr/postgres: not starting: pg_rewind/);
$n2->start;
ok( wait_until(sub { $n2->supervisor_log =~ /start: pg_rewind of "\Q$n2->{data}\E" did not finish; the directory must be cloned again/ },
		30, 'marker seen'),
	'(c) the next start sees that pg_rewind did not finish');
check_recloned($n2, $n1, $inode, $trace, '(c)');
is(count_of($n2, qr/postgres: not starting: pg_rewind/), $refusals, '(c) postgres was never tried on the half-rewound directory');
ok(wait_until(sub { rows($n2) eq '1,2,3' }, 30, 'rows on p2'), "(c) p2 has every row of the leader");

# --- (b) a clone interrupted: the next start removes the partial copy and clones again
$n3->start;
my $clone;
ok( wait_until(
		sub {
			$clone = child_named($n3, 'pg_basebackup');
			$clone && -e "$n3->{data}.pg_ha-cloning" && -f "$n3->{data}/backup_label";
		},
		90,
		'p3 clones'),
	'(b) p3 clones slowly (32 kB/s), the clone marker set, its first file written')
  or diag($n3->supervisor_log);
ok(!-e "$n3->{data}/global/pg_control", '(b) the copy is partial: no pg_control yet');
ok(kill9_supervisor($n3, $clone), '(b) kill -9 of the supervisor halfway: pg_basebackup ends with it');
ok(-e "$n3->{data}.pg_ha-cloning", '(b) the clone marker stays');
$trace = put_trace($n3, 'b');
# the operator lifts the throttle for the next attempt
$n3->{extra} = '';
$n3->write_conf;
$n3->start;
ok( wait_until(sub { $n3->supervisor_log =~ /start: a clone into "\Q$n3->{data}\E" did not finish; removing it and starting over/ },
		30, 'partial clone seen'),
	'(b) the next start sees the unfinished clone and removes it') or diag($n3->supervisor_log);
ok(wait_until(sub { $n3->is_replica && $n3->streams_from($n1) }, 120, 'p3 streams'), '(b) p3 clones again and streams from p1')
  or diag($n3->supervisor_log);
is(count_of($n3, qr/bootstrap: cloned from "p1"/), 1, '(b) one clone finished');
ok(!-e "$n3->{data}.pg_ha-cloning", '(b) the clone marker is gone');
ok(!-e $trace, '(b) nothing of the partial copy is left: the file put in it is gone');
is(scalar(() = glob("$n3->{data}.pg_ha-old.*")), 0, '(b) no old copy beside it');
ok(wait_until(sub { rows($n3) eq '1,2,3' }, 30, 'rows on p3'), "(b) p3 has every row of the leader");


# --- pg.wal_keep_segments: PostgreSQL 15 gets wal_keep_size = 16 x 16 MB
is($n3->psql('SHOW wal_keep_size'), '256MB', 'p3 runs with wal_keep_size = 256MB (pg.wal_keep_segments = 16)');
like($n3->supervisor_log,
	qr/configuration: pg\.wal_keep_segments = 16 \(the name before PostgreSQL 13\) is set as wal_keep_size = 256MB: 16 segments x 16 MB, the default WAL segment size/,
	"p3's supervisor says how it translated it");
unlike(PostgreSQL::Test::Utils::slurp_file("$n3->{data}/pg_ha.conf"), qr/wal_keep_segments/,
	'pg_ha.conf never names wal_keep_segments');
{
	my $both = "$n3->{dir}/both.conf";
	my $text = PostgreSQL::Test::Utils::slurp_file($n3->{conf}) . "pg.wal_keep_size = 128MB\n";
	open my $fh, '>', $both or die "$both: $!";
	print $fh $text;
	close $fh;
	my ($out, $err) = ('', '');
	IPC::Run::run(['pg_ha_supervisor', '--check', $both], '>', \$out, '2>', \$err);
	is($? >> 8, 2, 'both pg.wal_keep_segments and pg.wal_keep_size: refused, exit 2');
	like("$out$err", qr/both\.conf:\d+: "pg\.wal_keep_segments" \(its name before PostgreSQL 13\) and "pg\.wal_keep_size" are both set/,
		'... naming the file, the line and both keys');
}

is(scalar(grep { $_->is_primary } ($n1, $n2, $n3)), 1, 'exactly one primary');
$_->stop for ($n3, $n2, $n1);
zk_stop($zk);
done_testing();
