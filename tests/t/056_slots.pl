# Member replication slots (Patroni's use_slots, on by default):
#  (a) the leader keeps one physical slot per other member and each
#      replica streams through its own (primary_slot_name); replicas keep
#      copies of the other members' slots;
#  (b) a replica stopped while the leader writes three times wal_keep_size
#      of WAL and checkpoints comes back and catches up by streaming: its
#      slot held the WAL;
#  (c) after a failover (kill -9 of the leader's postmaster) the new leader
#      has the other members' slots before they reconnect, and they stream
#      through them;
#  (d) a member gone beyond max_slot_wal_keep_size does not hold WAL without
#      bound: its slot is invalidated (reported in the log and by
#      ha_status()), the leader goes on and accepts writes;
#  (e) use_slots off in /config: pg_ha's slots are dropped, replicas stream
#      without one.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use PgHaTest;
use PgHaNode;

my $MB = 1024 * 1024;
my $keep = 16;                  # wal_keep_size, MB
my $slot_max = 128;             # max_slot_wal_keep_size, MB
my $zk = zk_start();
my @nodes = map {
	PgHaNode->new(name => "n$_", zk_hosts => $zk->{hosts}, wal_keep_size => "${keep}MB",
		max_slot_wal_keep_size => "${slot_max}MB")
} 1 .. 3;
my ($n1, $n2, $n3) = @nodes;

PgHaNode::start_cluster($n1, $n2, $n3);
$n1->psql('CREATE TABLE t (x int)');

sub slots_of
{
	my ($node, $where) = @_;
	return scalar $node->psql("SELECT coalesce(string_agg(slot_name, ',' ORDER BY slot_name), '') FROM pg_replication_slots"
		  . ($where ? " WHERE $where" : ''));
}

# $replica streams from $leader through its own slot there
sub streams_through_slot
{
	my ($replica, $leader) = @_;
	my $name = $replica->name;
	return $leader->psql("SELECT count(*) FROM pg_replication_slots s JOIN pg_stat_replication r ON r.pid = s.active_pid "
		  . "WHERE s.slot_name = '$name' AND s.slot_type = 'physical' AND r.application_name = '$name' AND r.state = 'streaming'") eq '1';
}

# Writes $segments WAL segments (16 MB each) on $node, then checkpoints.
sub write_wal
{
	my ($node, $segments) = @_;
	for my $i (1 .. $segments)
	{
		$node->psql("INSERT INTO t SELECT g FROM generate_series(1, 1000) g; SELECT pg_switch_wal()");
	}
	$node->psql('CHECKPOINT');
	$node->psql('CHECKPOINT');
}

# --- (a) one slot per member, each replica streaming through its own
ok(wait_until(sub { slots_of($n1) eq 'n2,n3' }, 30, 'leader slots'), '(a) the leader has a slot for n2 and one for n3');
ok(wait_until(sub { streams_through_slot($n2, $n1) && streams_through_slot($n3, $n1) }, 60, 'streaming through slots'),
	'(a) n2 and n3 stream through their slots');
is($n2->psql('SHOW primary_slot_name'), 'n2', '(a) n2 names its slot in primary_slot_name');
is(slots_of($n1, "slot_name = 'n1'"), '', '(a) no node has a slot of its own');
ok(wait_until(sub { slots_of($n2, 'restart_lsn IS NOT NULL AND NOT active') eq 'n1,n3' &&
			slots_of($n3, 'restart_lsn IS NOT NULL AND NOT active') eq 'n1,n2' }, 30, 'copies'),
	'(a) each replica keeps copies of the other members\' slots, holding WAL');
is($n2->psql("SELECT ha_config()->'postgresql'->>'use_slots' || ' ' || (ha_config()->>'member_slots_ttl')"), 'true 1800',
	'(a) /config has use_slots and member_slots_ttl (Patroni\'s defaults)');
# a slot pg_ha did not make is never touched
$n1->psql("SELECT pg_create_physical_replication_slot('backup_tool', true)");

# --- (b) a replica stopped beyond wal_keep_size catches up by streaming
ok($n3->stop, '(b) n3 stopped');
write_wal($n1, 4);
my $held = $n1->psql("SELECT pg_current_wal_lsn() - restart_lsn FROM pg_replication_slots WHERE slot_name = 'n3'");
cmp_ok($held, '>', 3 * $keep * $MB, "(b) n3's slot holds more than three times wal_keep_size ($held bytes)");
is($n1->psql("SELECT count(*) FROM pg_replication_slots s, pg_ls_waldir() w WHERE s.slot_name = 'n3' AND w.name = pg_walfile_name(s.restart_lsn)"),
	'1', '(b) the segment n3 needs is still in the leader\'s pg_wal after the checkpoints');
my $rows = $n1->psql('SELECT count(*) FROM t');
$n3->start;
ok(wait_until(sub { streams_through_slot($n3, $n1) }, 60, 'n3 streams'), '(b) n3 streams again through its slot');
ok(wait_until(sub { $n3->psql('SELECT count(*) FROM t') eq $rows }, 30, 'n3 caught up'), '(b) n3 has every row');
unlike($n3->postgres_log, qr/has already been removed/, '(b) n3 never missed a WAL segment');
my ($since) = $n3->supervisor_log =~ /.*==== start[^\n]*\n(.*)\z/s;
unlike($since, qr/cloning from|pg_basebackup|reinitializ/i, '(b) n3 was not cloned again');
is(slots_of($n1, "slot_name = 'backup_tool'"), 'backup_tool', '(b) the slot pg_ha did not make is still there');
$n1->psql("SELECT pg_drop_replication_slot('backup_tool')");

# --- (c) failover: the new leader has the others' slots already
ok(wait_until(sub { slots_of($n2, 'restart_lsn IS NOT NULL') eq 'n1,n3' &&
			slots_of($n3, 'restart_lsn IS NOT NULL') eq 'n1,n2' }, 30, 'copies again'),
	'(c) both replicas have copies of the other members\' slots');
kill 'KILL', $n1->postmaster_pid;
my $new;
ok(wait_until(sub { $new = PgHaNode::primary_of($n2, $n3); $new && $new->in_recovery eq 'f' }, 30, 'new leader'),
	'(c) a replica took over after kill -9 of the leader\'s postmaster');
my ($other) = grep { $_ != $new } ($n2, $n3);
my $want = join(',', sort ($n1->name, $other->name));
is(slots_of($new, 'restart_lsn IS NOT NULL'), $want, '(c) right after the promotion ' . $new->name . " has the slots $want");
ok(wait_until(sub { streams_through_slot($other, $new) }, 60, 'other streams'),
	'(c) ' . $other->name . ' streams from the new leader through its slot');
ok(wait_until(sub { $n1->is_replica && streams_through_slot($n1, $new) }, 120, 'n1 rejoins'),
	'(c) the old leader rejoins and streams through its slot');
ok(wait_until(sub { slots_of($n1, 'restart_lsn IS NOT NULL') eq join(',', sort ($new->name, $other->name)) }, 30,
		'n1 copies'), '(c) the old leader, a replica now, keeps copies of the others\' slots');

# --- (d) a member gone beyond max_slot_wal_keep_size: its slot gives up the WAL
my $gone = $other->name;
ok($other->stop, "(d) $gone stopped");
write_wal($new, int(1.5 * $slot_max / 16));
ok(wait_until(sub {
	$new->postgres_log =~ /replication slot "$gone" was invalidated/ ||
	  $new->psql("SELECT wal_status FROM pg_replication_slots WHERE slot_name = '$gone'") eq 'lost'
}, 30, 'invalidated'), "(d) $gone\'s slot was invalidated (beyond max_slot_wal_keep_size)");
cmp_ok($new->psql("SELECT coalesce(max(pg_current_wal_lsn() - restart_lsn), 0) FROM pg_replication_slots WHERE slot_name = '$gone'"),
	'<=', ($slot_max + 32) * $MB, "(d) $gone\'s slot holds no more than max_slot_wal_keep_size now");
my ($rc, $out, $err);
ok(wait_until(sub { ($rc, $out, $err) = $new->psql('SELECT count(*) FROM ha_status()'); $err =~ /invalidated on this node: $gone/ },
	10, 'ha_status warns'), '(d) ha_status() reports the lost slot') or diag($err);
like($new->postgres_log, qr/WARNING:  pg_ha: the replication slot "$gone" was invalidated/, '(d) the agent logged it as a WARNING');
($rc) = $new->psql('INSERT INTO t VALUES (42)');
is($rc, 0, '(d) the leader goes on and accepts writes');
is($new->in_recovery, 'f', '(d) it still leads');

# --- (e) use_slots off: pg_ha's slots go, replicas stream without one
$new->psql("SELECT pg_create_physical_replication_slot('by_hand')");
($rc, $out, $err) = $new->psql(q{SELECT ha_set_config('{"postgresql": {"use_slots": false}}')});
is($rc, 0, '(e) use_slots set off in /config') or diag($err);
ok(wait_until(sub { slots_of($new) eq 'by_hand' && $n1->psql('SHOW primary_slot_name') eq '' }, 30, 'slots dropped'),
	'(e) the leader dropped the member slots, not the one made by hand; n1 names none');
ok(wait_until(sub { $n1->streams_from($new) }, 60, 'n1 streams'), '(e) n1 streams without a slot');
ok(wait_until(sub { slots_of($n1) eq '' }, 30, 'n1 copies dropped'), '(e) n1 dropped its copies');

$_->stop for grep { $_->running } @nodes;
zk_stop($zk);
done_testing();
