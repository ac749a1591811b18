# A forced manual failover in synchronous mode: three supervised nodes,
# synchronous_mode on.  A failover to the replica that is not the confirmed
# synchronous standby is refused (412, "only the synchronous standby can
# take over") and changes nothing: with a leader, force or not (a failover
# is then a switchover, and the switchover rule holds); without one (paused,
# the leader killed and kept down) unless forced.  Forced, by pg_ha's
# "force": true in POST /failover and by ha_failover(candidate, force =>
# true), it is carried out: WARNINGs say so, the candidate leads, and the
# other nodes follow it once the cluster is resumed.
use strict;
use warnings;
use JSON::PP;
use PostgreSQL::Test::Utils;
use Test::More;
use PgHaTest;
use PgHaNode;
use SyncCluster;

my $zk = zk_start();
my @nodes = start_sync_cluster(zk_hosts => $zk->{hosts});
my $leader = $nodes[0];
my $keys = '/service/pg_ha_test';

# POST to a node's API; returns (status, the "error" or "message" of the body).
sub post
{
	my ($node, $path, $body) = @_;
	my ($status, $raw) = http_request($node->api_port,
		"POST $path HTTP/1.0\r\nContent-Length: " . length($body) . "\r\n\r\n$body", timeout => 90);
	my $json = $raw =~ /\r\n\r\n(.*)\z/s ? eval { decode_json($1) } : undef;
	return ($status, ref $json eq 'HASH' ? ($json->{error} // $json->{message} // '') : $raw);
}

# The leader's synchronous standby and the other replica, once both stream
# and the standby is confirmed in sync.
sub roles_under
{
	my ($what) = @_;
	my $sync = wait_sync($leader, \@nodes, $what, seconds => 90,
		also => sub { 2 == grep { $_ != $leader && $_->streams_from($leader) } @nodes });
	BAIL_OUT("$what: no synchronous standby") unless $sync;
	my ($other) = grep { $_ != $leader && $_ != $sync } @nodes;
	return ($sync, $other);
}

# Nothing changed after a refusal: no /failover request was written, the
# candidate did not log one, and the leader key is as it was.
sub unchanged
{
	my ($what, $candidate, $from, $leader_name) = @_;
	ok(!defined zk_get($zk, "$keys/failover"), "$what: no /failover request");
	unlike(substr($candidate->postgres_log, $from), qr/manual failover requested|switchover requested/,
		"$what: " . $candidate->name . ' logged no request');
	is(zk_get($zk, "$keys/leader"), $leader_name,
		"$what: the leader key is " . ($leader_name // 'still absent'));
	is($candidate->in_recovery, 't', "$what: " . $candidate->name . ' is still a replica');
}

my $sync_re = sub { qr/in synchronous mode only the synchronous standby can take over, and "\Q$_[0]\E" is not it/ };

# Pauses the cluster, kills the leader's postmaster (its supervisor keeps
# it down while paused) and waits until $on sees no leader.
sub leaderless
{
	my ($what, $on) = @_;
	my ($rc, $out, $err) = $on->psql(q{SELECT ha_pause()->>'pause'});
	is($out, 'true', "$what: ha_pause()") or diag($err);
	ok(wait_until(sub { $on->psql('SELECT bool_and(paused) FROM ha_status()') eq 't' }, 30, 'paused'),
		"$what: every member is paused");
	my $pm = $leader->postmaster_pid;
	my $from = length $leader->supervisor_log;
	ok($pm && kill('KILL', $pm), "$what: kill -9 of the leader " . $leader->name . "'s postmaster");
	ok(wait_until(sub { substr($leader->supervisor_log, $from) =~ /-> down while paused/ }, 30, 'down'),
		"$what: " . $leader->name . ' stays down (paused)');
	ok(wait_until(sub { !defined zk_get($zk, "$keys/leader") }, 30, 'no leader key'),
		"$what: the leader key is gone, and nobody races for it (paused)");
}

# Resumes; every node but the new leader $new follows it.
sub resumed_follow
{
	my ($what, $new, $old) = @_;
	my ($rc, $out, $err) = $new->psql(q{SELECT ha_resume()->>'pause'});
	is($out, '', "$what: ha_resume()") or diag($err);
	for my $n (grep { $_ != $new } @nodes)
	{
		ok(wait_until(sub { $n->is_replica && $n->streams_from($new) }, 120, $n->name . ' follows'),
			"$what: " . $n->name . ' follows ' . $new->name . ($n == $old ? ' (the old leader rejoined)' : ''));
	}
	is(PgHaNode::primary_of(@nodes), $new, "$what: " . $new->name . ' is the only primary');
}

# --- with a leader: refused, force or not
my ($sync, $other) = roles_under('with a leader');
my $cand = $other->name;
my $from = length $other->postgres_log;
my ($status, $msg) = post($other, '/failover', qq({"candidate": "$cand"}));
is($status, 412, "with a leader: POST /failover to $cand (not the synchronous standby): 412");
like($msg, $sync_re->($cand), 'saying only the synchronous standby can take over');
($status, $msg) = post($other, '/failover', qq({"candidate": "$cand", "force": true}));
is($status, 412, 'with a leader, "force": true does not lift it (a failover with a leader is a switchover)');
like($msg, $sync_re->($cand), 'saying so');
my ($rc, $out, $err) = $other->psql(qq{SELECT ha_failover('$cand', force => true)});
like($err, qr/failover refused: in synchronous mode only the synchronous standby/,
	"with a leader: ha_failover('$cand', force => true) refused too");
unchanged('with a leader', $other, $from, $leader->name);
is(PgHaNode::primary_of(@nodes), $leader, 'with a leader: ' . $leader->name . ' still leads');

# --- no leader: refused unless forced; POST /failover with "force": true
leaderless('HTTP', $other);
$from = length $other->postgres_log;
($status, $msg) = post($other, '/failover', qq({"candidate": "$cand"}));
is($status, 412, "no leader: POST /failover to $cand without force: 412");
like($msg, $sync_re->($cand), 'saying only the synchronous standby can take over');
unchanged('no leader, not forced', $other, $from, undef);

($status, $msg) = post($other, '/failover', qq({"candidate": "$cand", "force": true}));
is($status, 200, "no leader: POST /failover to $cand with \"force\": true: 200") or diag($msg);
like($msg, qr/Successfully failed over to "\Q$cand\E"/, 'saying it failed over');
ok(wait_until(sub { $other->is_primary }, 60, 'leads'), "$cand leads");
my $log = substr($other->postgres_log, $from);
like($log, qr/WARNING:  pg_ha: manual failover requested with force: "\Q$cand\E" is to be promoted/,
	'the forced request is logged as a WARNING');
like($log, qr/WARNING:  pg_ha: forced failover to "\Q$cand\E": it races for the leader key although it is not the confirmed synchronous standby/,
	'and so is the race it forces');
resumed_follow('HTTP', $other, $leader);
$leader = $other;

# --- again through SQL: ha_failover(candidate, force => true)
($sync, $other) = roles_under('SQL, with the new leader');
$cand = $other->name;
leaderless('SQL', $other);
$from = length $other->postgres_log;
($rc, $out, $err) = $other->psql(qq{SELECT ha_failover('$cand')});
like($err, qr/failover refused: in synchronous mode only the synchronous standby can take over, and "\Q$cand\E" is not it/,
	"no leader: ha_failover('$cand') refused");
like($err, qr/HINT:.*force => true/, 'the hint names force');
unchanged('SQL, not forced', $other, $from, undef);

($rc, $out, $err) = $other->psql(qq{SELECT ha_failover('$cand', force => true)}, timeout => 90);
is($out, $cand, "no leader: ha_failover('$cand', force => true) returns $cand") or diag($err);
ok(wait_until(sub { $other->is_primary }, 60, 'leads'), "$cand leads");
$log = substr($other->postgres_log, $from);
like($log, qr/WARNING:  pg_ha: manual failover requested with force: "\Q$cand\E" is to be promoted/,
	'the forced request is logged as a WARNING');
like($log, qr/WARNING:  pg_ha: forced failover to "\Q$cand\E": it races for the leader key/, 'and so is the race');
resumed_follow('SQL', $other, $leader);

$_->stop for @nodes;
zk_stop($zk);
done_testing();
