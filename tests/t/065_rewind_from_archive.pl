# pg_rewind with the WAL archive (pg_rewind --restore-target-wal): the old
# primary's WAL since the last checkpoint both nodes share is no longer in
# its pg_wal (archived and recycled: the test moves the segments into the
# archive, as PostgreSQL's own pg_rewind tests do), so pg_rewind can rewind
# it only by taking them back through restore_command.  The supervisor
# passes --restore-target-wal because the node has a restore_command: the
# rewind succeeds, the old primary is not cloned again, and it follows the
# new leader.  Two supervised nodes, ZooKeeper; every wait bounded.
use strict;
use warnings;
use File::Basename qw(basename);
use File::Copy qw(move);
use PostgreSQL::Test::Utils;
use Test::More;
use PgHaTest;
use PgHaNode;

my $zk = zk_start();
my $archive = PostgreSQL::Test::Utils::tempdir('archive');
chmod 0777, $archive;
my $restore = "pg.restore_command = 'cp $archive/%f %p'\n";
my $n1 = PgHaNode->new(name => 'r1', zk_hosts => $zk->{hosts}, extra => $restore);
my $n2 = PgHaNode->new(name => 'r2', zk_hosts => $zk->{hosts}, extra => $restore);
PgHaNode::start_cluster($n1, $n2);

sub rows { return scalar $_[0]->psql('SELECT string_agg(x::text, \',\' ORDER BY x) FROM t') // '' }

# The last checkpoint both will share, then WAL in later segments
$n1->psql('CREATE TABLE t (x int); INSERT INTO t VALUES (1); CHECKPOINT');
$n1->psql("INSERT INTO t VALUES (2); SELECT pg_switch_wal()");
$n1->psql("INSERT INTO t VALUES (3); SELECT pg_switch_wal()");
my $end = $n1->psql('SELECT pg_current_wal_lsn()');
ok(wait_until(sub { $n2->psql("SELECT pg_last_wal_replay_lsn() >= '$end'") eq 't' }, 30, 'r2 replayed'),
	'r2 has replayed all of r1');
my $inode = (stat($n1->{data}))[1];

# Freeze r1 until r2 leads and takes a write; meanwhile r1's older WAL
# segments go to the archive (all but the one it writes now)
my @pids = $n1->all_pids;
kill 'STOP', @pids;
ok(wait_until(sub { $n2->is_primary }, 30, 'r2 leads'), 'r1 frozen: r2 takes over');
is(($n2->psql('INSERT INTO t VALUES (4)'))[0], 0, 'r2 takes a write');
my @segments = sort grep { basename($_) =~ /^[0-9A-F]{24}$/ } glob("$n1->{data}/pg_wal/*");
pop @segments;
my @moved = map { basename($_) } @segments;
move($_, "$archive/" . basename($_)) or die "move $_: $!" for @segments;
ok(@moved >= 2, 'r1\'s older WAL segments are in the archive only: ' . join(' ', @moved));
kill 'CONT', @pids;

ok(wait_until(sub { $n1->supervisor_log =~ /rejoin: (pg_rewind done|pg_rewind failed)/ }, 120, 'rewind'),
	'the thawed r1 rejoins through pg_rewind')
  or diag($n1->supervisor_log);
like($n1->supervisor_log, qr/running \S*pg_rewind .*--restore-target-wal/,
	'pg_rewind ran with --restore-target-wal (r1 has a restore_command)');
like($n1->supervisor_log, qr/rejoin: pg_rewind done/, 'pg_rewind succeeded with WAL taken from the archive')
  or diag($n1->supervisor_log);
unlike($n1->supervisor_log, qr/re-cloning/, 'r1 was not cloned again');
is((stat($n1->{data}))[1], $inode, 'r1 kept its data directory');
ok(wait_until(sub { $n1->is_replica && $n1->streams_from($n2) }, 60, 'r1 streams'), 'r1 streams from r2');
ok(wait_until(sub { rows($n1) eq '1,2,3,4' }, 30, 'rows on r1'), 'r1 has every row of the new leader');

$_->stop for ($n1, $n2);
done_testing();
