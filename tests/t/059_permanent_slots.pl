# Permanent replication slots (Patroni's /config "slots", physical only):
#  (a) PATCH /config {"slots": {"backup1": {"type": "physical"}}}: the
#      leader makes backup1 (WAL reserved), every replica keeps a copy;
#      a slot of that name made by hand is left alone, kept when it is
#      no longer declared (the replicas' copies are dropped);
#  (b) after a failover (kill -9 of the leader's postmaster) the new
#      leader has backup1 already, and the old leader, a replica now,
#      keeps a copy again;
#  (c) removed from /config: dropped everywhere;
#  (d) a logical slot, or a bad name, is refused with 400 and /config is
#      left as it was.
use strict;
use warnings;
use JSON::PP;
use PostgreSQL::Test::Utils;
use Test::More;
use PgHaTest;
use PgHaNode;

my $zk = zk_start();
my @nodes = map { PgHaNode->new(name => "p$_", zk_hosts => $zk->{hosts}) } 1 .. 3;
my ($p1, $p2, $p3) = @nodes;

PgHaNode::start_cluster($p1, $p2, $p3);

# One request to a node's API (loopback: no credentials needed); (status, body).
sub api
{
	my ($node, $method, $path, $body) = @_;
	$body //= '';
	my ($status, $raw) = http_request($node->api_port,
		"$method $path HTTP/1.0\r\nContent-Length: " . length($body) . "\r\n\r\n$body", timeout => 20);
	return ($status, $raw =~ /\r\n\r\n(.*)\z/s ? $1 : '');
}

# The permanent slots a node has (made by pg_ha or by hand), with WAL reserved.
sub permanent_of
{
	my ($node) = @_;
	return scalar $node->psql("SELECT coalesce(string_agg(slot_name, ',' ORDER BY slot_name), '') FROM pg_replication_slots "
		  . "WHERE slot_name IN ('backup1', 'by_hand') AND slot_type = 'physical' AND restart_lsn IS NOT NULL");
}

sub config_slots { scalar $_[0]->psql("SELECT coalesce(ha_config()->>'slots', '')") }

# --- (a) declared: the leader has it, the replicas keep copies
$p1->psql("SELECT pg_create_physical_replication_slot('by_hand', true)");
my ($status, $body) = api($p1, 'PATCH', '/config', '{"slots": {"backup1": {"type": "physical"}, "by_hand": {"type": "physical"}}}');
is($status, 200, '(a) PATCH /config with two permanent slots') or diag($body);
ok(wait_until(sub { permanent_of($p1) eq 'backup1,by_hand' }, 30, 'leader slot'),
	'(a) the leader has backup1, with WAL reserved, and by_hand');
ok(wait_until(sub { permanent_of($p2) eq 'backup1,by_hand' && permanent_of($p3) eq 'backup1,by_hand' }, 30, 'copies'),
	'(a) both replicas keep copies of the permanent slots');
like($p1->postgres_log, qr/created permanent replication slot "backup1"/, '(a) the leader logged it');
unlike($p1->postgres_log, qr/created permanent replication slot "by_hand"/, '(a) the slot made by hand was not made again');
is(scalar $p1->psql("SELECT count(*) FROM pg_replication_slots WHERE slot_name IN ('p2', 'p3')"), '2',
	'(a) the member slots are there as before');

($status, $body) = api($p2, 'PATCH', '/config', '{"slots": {"by_hand": null}}');
is($status, 200, '(a) PATCH /config on a replica: by_hand no longer declared') or diag($body);
ok(wait_until(sub { permanent_of($p2) eq 'backup1' && permanent_of($p3) eq 'backup1' }, 30, 'copies dropped'),
	'(a) the replicas dropped their copies of by_hand');
is(permanent_of($p1), 'backup1,by_hand', '(a) the leader kept the by_hand it did not make');
$p1->psql("SELECT pg_drop_replication_slot('by_hand')");

# --- (a) the copies follow the leader's slot (/status), not the replay:
# a backup tool that has consumed up to X resumes from X on a new leader
sub restart_lsn_of
{
	my ($node) = @_;
	return scalar $node->psql("SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = 'backup1'");
}
$p1->psql('CREATE TABLE t (x int)');
for my $round (1, 2)
{
	$p1->psql("INSERT INTO t SELECT generate_series(1, 1000); SELECT pg_switch_wal()");
	$p1->psql("SELECT pg_replication_slot_advance('backup1', pg_current_wal_lsn())");
	my $x = restart_lsn_of($p1);
	# WAL beyond X that the replicas replay, and the slot does not cover
	$p1->psql("INSERT INTO t SELECT generate_series(1, 1000); SELECT pg_switch_wal()");
	my $past = $p1->psql('SELECT pg_current_wal_lsn()');
	ok( wait_until(
			sub {
				!grep {
					$_->psql("SELECT pg_last_wal_replay_lsn() >= '$past'") ne 't' || restart_lsn_of($_) ne $x
				} ($p2, $p3)
			},
			30,
			"copies at $x"),
		"(a) round $round: both copies of backup1 are at the leader's $x, though the replicas replayed past it")
	  or diag(join ' ', map { $_->name . '=' . restart_lsn_of($_) } @nodes);
}

# --- (b) failover: the new leader has backup1
kill 'KILL', $p1->postmaster_pid;
my $new;
ok(wait_until(sub { $new = PgHaNode::primary_of($p2, $p3); $new && $new->in_recovery eq 'f' }, 30, 'new leader'),
	'(b) a replica took over after kill -9 of the leader\'s postmaster');
is(permanent_of($new), 'backup1', '(b) right after the promotion ' . $new->name . ' has backup1');
ok(wait_until(sub { $p1->is_replica && $p1->streams_from($new) }, 120, 'p1 rejoins'), '(b) the old leader rejoins');
ok(wait_until(sub { permanent_of($p1) eq 'backup1' }, 30, 'p1 copy'),
	'(b) the old leader, a replica now, has a copy of backup1');
is(permanent_of($new), 'backup1', '(b) the new leader kept backup1');

# --- (c) removed from /config: dropped everywhere
($status, $body) = api($new, 'PATCH', '/config', '{"slots": {"backup1": null}}');
is($status, 200, '(c) PATCH /config removing backup1') or diag($body);
ok(wait_until(sub { !grep { permanent_of($_) ne '' } @nodes }, 30, 'dropped'), '(c) backup1 is dropped on every node') or
	diag(join ' ', map { $_->name . '=' . permanent_of($_) } @nodes);
like($new->postgres_log, qr/dropped permanent replication slot "backup1"/, '(c) the leader logged the drop');

# --- (d) refused: a logical slot, a bad name; nothing changed
my $before = config_slots($new);
($status, $body) = api($new, 'PATCH', '/config', '{"slots": {"backup1": {"type": "physical"}, "l1": {"type": "logical", "database": "postgres", "plugin": "pgoutput"}}}');
is($status, 400, '(d) a logical permanent slot is refused with 400');
like($body, qr/slot \\?"l1\\?" is logical: pg_ha keeps physical permanent slots only/, '(d) ... saying why') or diag($body);
($status, $body) = api($new, 'PATCH', '/config', '{"slots": {"Backup-1": {"type": "physical"}}}');
is($status, 400, '(d) a bad slot name is refused with 400');
like($body, qr/permanent slot name must be 1 to 63 characters/, '(d) ... saying why') or diag($body);
is(config_slots($new), $before, '(d) /config is unchanged');
is(permanent_of($new), '', '(d) no slot was made');

$_->stop for grep { $_->running } @nodes;
zk_stop($zk);
done_testing();
