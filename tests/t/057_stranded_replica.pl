# A replica stopped while its leader writes and checkpoints well past
# wal_keep_size finds the WAL it needs gone from the leader (README
# "Stranded replicas").  Two supervised nodes, small wal_keep_size (32MB),
# archive_mode = always on both with the local cluster template's
# archive_command (never overwrites a file; a copy of the same segment from
# another node is accepted), no replication slots.
#   (b) with restore_command the replica catches up from the archive: no
#       re-clone;
#   (a) without, it is stranded: its agent says so and its supervisor
#       re-clones it (action reinit) within HA_STRANDED_AFTER_MS (10 s) of
#       its position standing still, plus the clone; it streams again;
#   (c) with auto_reclone = off it is only reported (state "stranded",
#       /replica 503); turned on, it is re-cloned.
use strict;
use warnings;
use File::Basename qw(basename);
use JSON::PP qw(decode_json);
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use PgHaTest;
use PgHaNode;

# The bound of the rule (extension/stranded_rule.h) and the test's slack
# for postgres' start, the agent's ZooKeeper session and pg_basebackup.
use constant STRANDED_AFTER_S => 10;
use constant RECLONE_WITHIN_S => STRANDED_AFTER_S + 50;

my $zk = zk_start();
my $arch = PostgreSQL::Test::Utils::tempdir('archive');
# no slots: they would keep the WAL (once the supervisor has the setting)
my $no_slots = PostgreSQL::Test::Utils::slurp_file("$ENV{PGHA_SRCDIR}/supervisor/conf.c") =~ /"use_slots"|\buse_slots\b/
  ? "use_slots = off\n" : '';

sub conf_lines
{
	my ($name, %o) = @_;
	my $l = $no_slots . "pg.archive_mode = always\n"
	  . "pg.archive_command = 'test ! -f $arch/%f && cp %p $arch/%f.$name.tmp && mv $arch/%f.$name.tmp $arch/%f || cmp -s %p $arch/%f'\n";
	$l .= "pg.restore_command = 'cp $arch/%f %p'\n" if $o{restore};
	$l .= "auto_reclone = off\n" if $o{no_reclone};
	return $l;
}

my $n1 = PgHaNode->new(name => 'n1', zk_hosts => $zk->{hosts}, wal_keep_size => '32MB',
	extra => conf_lines('n1', restore => 1));
my $n2 = PgHaNode->new(name => 'n2', zk_hosts => $zk->{hosts}, wal_keep_size => '32MB',
	extra => conf_lines('n2', restore => 1));

sub rows { scalar $_[0]->psql("SELECT string_agg(v, ',' ORDER BY id) FROM t") // '' }
sub count_of { my ($text, $re) = @_; my @m = $text =~ /$re/g; return scalar @m }
sub reinit_count { count_of($n2->supervisor_log, qr/reinit: re-cloning from "n1"; the old data directory is kept as/) }
sub patroni_state
{
	my ($status, $raw) = http_request($n2->api_port, "GET /patroni HTTP/1.0\r\n\r\n", timeout => 2);
	my $json = eval { decode_json($raw =~ /\r\n\r\n(.*)\z/s ? $1 : '') } // {};
	return $json->{state} // '';
}

my $next_id = 1;
my @expected;
sub insert { my ($v) = @_; $n1->psql("INSERT INTO t VALUES (" . $next_id++ . ", '$v')"); push @expected, $v }

# Stops n2, then writes and checkpoints on n1 until the WAL segment n2
# stopped in and the one after it (written while n2 is down) are gone from
# n1's pg_wal (bounded); returns the one after.
sub strand_n2
{
	my ($tag) = @_;
	ok(wait_until(sub { rows($n2) eq join(',', @expected) }, 30, "n2 has every row ($tag)"),
		"$tag: n2 has every row before it stops");
	my $pos = $n2->psql('SELECT greatest(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())');
	ok($n2->stop, "$tag: n2 stopped");
	my ($seg, $next) = split /\|/, $n1->psql(
		"SELECT pg_walfile_name('$pos'), pg_walfile_name('$pos'::pg_lsn + pg_size_bytes(current_setting('wal_segment_size')))");
	my $gone = sub { $n1->psql("SELECT count(*) FROM pg_ls_waldir() WHERE name IN ('$seg', '$next')") eq '0' };
	for my $i (1 .. 12)
	{
		insert("$tag-$i");
		$n1->psql('SELECT pg_switch_wal()');
		$n1->psql('CHECKPOINT');
		last if $i >= 4 && $gone->();
	}
	ok($gone->(), "$tag: n1 no longer has $seg, where n2 stopped, nor $next, written while it was down");
	ok(wait_until(sub { -f "$arch/$seg" && -f "$arch/$next" }, 30, "$next archived"), "$tag: ... the archive has both");
	return $next;
}

$n1->start;
ok(wait_until(sub { $n1->is_primary }, 60, 'n1 leads'), 'n1 bootstraps and leads');
$n2->start;
ok(wait_until(sub { $n2->streams_from($n1) }, 90, 'n2 streams'), 'n2 streams from n1');
$n1->psql('CREATE EXTENSION pg_ha');
$n1->psql('CREATE TABLE t (id int PRIMARY KEY, v text)');
insert('before');

# --- (b) the archive: n2 restores what n1 removed, and streams; no re-clone
my $seg = strand_n2('archive');
my $restored_before = count_of($n2->postgres_log, qr/restored log file "$seg" from archive/);
$n2->start;
ok(wait_until(sub { $n2->streams_from($n1) }, 60, 'n2 streams after the archive'),
	'archive: n2 catches up and streams from n1 again');
insert('after-archive');
ok(wait_until(sub { rows($n2) eq join(',', @expected) }, 30, 'rows on n2'),
	'archive: n2 has the rows written before, while it was down and after');
is(count_of($n2->postgres_log, qr/restored log file "$seg" from archive/), $restored_before + 1,
	"archive: n2 restored $seg from the archive");
is(reinit_count(), 0, 'archive: n2 was not re-cloned');
unlike($n2->postgres_log, qr/is stranded/, 'archive: n2 was never stranded');

# --- (a) no restore_command: n2 is stranded, and re-cloned
$n2->{extra} = conf_lines('n2');
$n2->write_conf;
$seg = strand_n2('stranded');
my $started = time;
$n2->start;
ok(wait_until(sub { reinit_count() == 1 && $n2->streams_from($n1) }, RECLONE_WITHIN_S, 'n2 re-cloned and streaming'),
	'stranded: n2 is re-cloned and streams from n1 again within ' . RECLONE_WITHIN_S . ' s of its start')
  or diag($n2->supervisor_log);
note(sprintf('stranded: n2 streams again %.1f s after its start', time - $started));
like($n2->postgres_log, qr/"n2" is stranded: it needs WAL from [0-9A-F]+\/[0-9A-F]+, the leader "n1" keeps WAL from [0-9A-F]+\/[0-9A-F]+ on/,
	"stranded: n2's agent said why");
like($n2->postgres_log, qr/reinitialize: asked the supervisor to re-clone this node from "n1"/,
	"stranded: ... and asked its supervisor to re-clone it");
like($n2->supervisor_log, qr/reinit: re-cloning from "n1" \(automatic re-clone 1: the WAL it needs is gone from "n1"\)/,
	'stranded: the supervisor re-clones it, saying why');
my @kept = $n2->supervisor_log =~ /reinit: re-cloning from "n1"; the old data directory is kept as "([^"]+)"/g;
like(basename($kept[-1] // ''), qr/^data\.pg_ha-old\.\d{8}T\d{6}$/, 'stranded: the old data directory was moved aside');
ok(wait_until(sub { $n2->supervisor_log =~ /reinit: the new copy runs; removed the old data directory/ }, 60, 'old copy removed'),
	'stranded: ... and removed once the copy runs');
insert('after-reclone');
ok(wait_until(sub { rows($n2) eq join(',', @expected) }, 30, 'rows on n2'),
	'stranded: n2 has the rows written before, while it was down and after');
is(reinit_count(), 1, 'stranded: one re-clone');
ok(wait_until(sub { patroni_state() eq 'running' }, 30, 'n2 running'), 'stranded: /patroni says running again');

# --- (c) auto_reclone = off: reported, not re-cloned; turned on, re-cloned
$n2->{extra} = conf_lines('n2', no_reclone => 1);
$n2->write_conf;
$seg = strand_n2('off');
my $warned_before = count_of($n2->postgres_log, qr/"n2" is stranded/);
$n2->start;
ok(wait_until(sub { patroni_state() eq 'stranded' }, RECLONE_WITHIN_S, 'n2 stranded'),
	'off: /patroni says "stranded"');
ok(wait_until(sub { $n1->psql("SELECT state FROM ha_status() WHERE name = 'n2'") eq 'stranded' }, 10, 'ha_status'),
	"off: the leader's ha_status() says n2 is stranded");
is($n2->http('/replica'), 503, 'off: a stranded replica answers /replica 503');
is(count_of($n2->postgres_log, qr/"n2" is stranded/), $warned_before + 1, 'off: one line says why');
like($n2->postgres_log, qr/pg_ha\.auto_reclone is off: re-clone it with patronictl reinit/, '... and what to do');
is(reinit_count(), 1, 'off: n2 is not re-cloned');

$n2->{extra} = conf_lines('n2');
$n2->write_conf;
kill 'HUP', $n2->supervisor_pid;
ok(wait_until(sub { reinit_count() == 2 && $n2->streams_from($n1) }, RECLONE_WITHIN_S, 'n2 re-cloned'),
	'on again: n2 is re-cloned and streams') or diag($n2->supervisor_log);
insert('after-on');
ok(wait_until(sub { rows($n2) eq join(',', @expected) }, 30, 'rows on n2'), 'on again: n2 has every row');

# the archive: every node archived without a failure (a segment another
# node archived first is accepted, not overwritten)
is($n1->psql('SELECT failed_count FROM pg_stat_archiver'), '0', 'n1 archived without a failure');
is($n2->psql('SELECT failed_count FROM pg_stat_archiver'), '0', 'n2 archived without a failure');
ok($n1->is_primary, 'n1 leads throughout');

$_->stop for ($n2, $n1);
zk_stop($zk);
done_testing();
