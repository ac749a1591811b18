# Restarts through the HTTP API (Patroni's POST and DELETE /restart) and
# SQL (ha_restart()): a replica and the leader restarted in place, the
# leader without a failover (its leadership and timeline stay, writes go
# on once postgres is back); Patroni's conditions (role, postgres_version,
# restart_pending) and schedules; every bad request answered with a clear
# error and nothing restarted.
use strict;
use warnings;
use JSON::PP;
use POSIX qw(strftime);
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use PgHaTest;
use PgHaNode;

my $zk = zk_start();
# Each node's callbacks append their arguments to $dir/<node>.calls.
my $dir = PostgreSQL::Test::Utils::tempdir('restart_callbacks');
sub callbacks_of
{
	my ($name) = @_;
	my $path = "$dir/cb_$name.sh";
	open my $fh, '>', $path or die "$path: $!";
	print $fh "#!/bin/sh\necho \"\$*\" >> '$dir/$name.calls'\n";
	close $fh;
	chmod 0755, $path;
	return join('', map { "$_ = $path\n" } qw(on_start on_stop on_restart on_role_change));
}
sub calls { -f "$dir/$_[0].calls" ? PostgreSQL::Test::Utils::slurp_file("$dir/$_[0].calls") : '' }
my @nodes = map { PgHaNode->new(name => "r$_", zk_hosts => $zk->{hosts}, extra => callbacks_of("r$_")) } 1 .. 3;
my ($r1, $r2, $r3) = @nodes;
$r1->start;
ok(wait_until(sub { $r1->is_primary }, 60, 'r1 leads'), 'r1 bootstraps and leads');
$_->start for ($r2, $r3);
ok(wait_until(sub { $r2->is_replica && $r3->is_replica && $r2->streams_from($r1) && $r3->streams_from($r1) },
		120, 'replicas'), 'r2 and r3 stream from r1');
$r1->psql('CREATE EXTENSION pg_ha; CREATE TABLE t (id int)');

# One request to a node's API; returns (status, decoded body or {}).
sub api
{
	my ($node, $method, $path, $body, $timeout) = @_;
	$body //= '';
	my ($status, $raw) = http_request($node->api_port,
		"$method $path HTTP/1.0\r\nContent-Length: " . length($body) . "\r\n\r\n$body",
		timeout => $timeout // 10);
	my $text = $raw =~ /\r\n\r\n(.*)\z/s ? $1 : '';
	my $json = eval { decode_json($text) } // {};
	return ($status, $json, $text);
}

sub iso_in { strftime('%Y-%m-%dT%H:%M:%S+00:00', gmtime(time + $_[0])) }
sub timeline { scalar $_[0]->psql('SELECT timeline_id FROM pg_control_checkpoint()') }
sub leader_key { zk_get($zk, '/service/pg_ha_test/leader') }

# the callbacks saw every first start (a restart runs on_restart after one)
ok(wait_until(sub { 3 == grep { calls($_->name) =~ /^on_start / } @nodes }, 30, 'on_start'),
	'on_start ran on every node');

# --- a replica, now
my $pid = $r2->postmaster_pid;
my ($status, $json, $text) = api($r2, 'POST', '/restart', '', 90);
is($status, 200, 'POST /restart on a replica: 200 once postgres is back') or diag($text);
is($json->{message}, 'restarted successfully', "with Patroni's message");
isnt($r2->postmaster_pid, $pid, 'r2 runs a new postmaster');
ok(wait_until(sub { $r2->is_replica && $r2->streams_from($r1) }, 60, 'r2 streams'), 'r2 streams from r1 again');
like($r2->supervisor_log, qr/restart: restart requested through the API: fast shutdown, then start again in place/,
	"r2's supervisor logged the restart and its reason");
ok(wait_until(sub { calls('r2') =~ /^on_restart replica pg_ha_test$/m }, 30, 'on_restart'),
	"r2's on_restart callback ran with replica and the scope");

# --- the leader, now: no failover
my $tli = timeline($r1);
$pid = $r1->postmaster_pid;
my $started = time;
($status, $json, $text) = api($r1, 'POST', '/restart', '{"role": "master"}', 90);
is($status, 200, 'POST /restart {"role": "master"} on the leader: 200') or diag($text);
isnt($r1->postmaster_pid, $pid, 'r1 runs a new postmaster');
my $wrote = wait_until(sub { ($r1->psql('INSERT INTO t VALUES (1)'))[0] == 0 }, 60, 'a write on r1');
ok($wrote, 'writes on r1 go on after its restart');
diag(sprintf('leader restart: first write %.2f s after the request', time - $started));
is(leader_key(), 'r1', 'r1 still holds the leader key');
is(timeline($r1), $tli, 'on the same timeline: no failover happened');
ok(!$r2->is_primary && !$r3->is_primary, 'and no replica is primary');
like($r1->postgres_log, qr/leaving the leader key of "r1" in place/, "r1's agent left its leader key for the restart");
ok(wait_until(sub { $r2->streams_from($r1) && $r3->streams_from($r1) }, 60, 'replicas follow'),
	'both replicas stream from r1 again');
ok(wait_until(sub { calls('r1') =~ /^on_restart master pg_ha_test$/m }, 30, 'on_restart'),
	"r1's on_restart callback ran with master");
is(join(',', grep { /on_stop|on_role_change/ } split /\n/, calls('r1')), '',
	'r1 had no on_stop and no on_role_change: restarted, not demoted');

# --- conditions not met: 503, nothing restarted
$pid = $r1->postmaster_pid;
($status, $json) = api($r1, 'POST', '/restart', '{"role": "replica"}');
is($status, 503, 'role replica on the leader: 503');
is($json->{error}, 'restart conditions are not satisfied', "Patroni's message");
is($json->{hint}, 'host role mismatch', 'and the condition that failed');
($status, $json) = api($r1, 'POST', '/restart', '{"postgres_version": "9.5.3"}');
is($status, 503, 'postgres_version older than the running one: 503');
is($json->{hint}, 'postgres version mismatch', 'postgres version mismatch');
($status, $json) = api($r1, 'POST', '/restart', '{"restart_pending": true}');
is($status, 503, 'restart_pending with nothing pending: 503');
is($json->{hint}, 'pending restart flag is not set', 'pending restart flag is not set');

# --- bad requests: 400/422, nothing restarted
($status, $json) = api($r1, 'POST', '/restart', '{"reboot": true}');
is($status, 400, 'an unknown key: 400');
is($json->{error}, 'Unknown filter for the scheduled restart: reboot', 'naming it');
($status, $json) = api($r1, 'POST', '/restart', '{"role": "leader"}');
is($status, 400, 'a bad role: 400');
($status, $json) = api($r1, 'POST', '/restart', '{"postgres_version": "fifteen"}');
is($status, 400, 'a bad version: 400');
($status, $json) = api($r1, 'POST', '/restart', '{"schedule": "' . iso_in(-60) . '"}');
is($status, 422, 'a schedule in the past: 422');
is($json->{error}, 'Cannot schedule restart in the past', "Patroni's message");
($status, $json) = api($r1, 'POST', '/restart', '{"timeout": 0}');
is($status, 400, 'a zero timeout: 400');
($status) = api($r1, 'POST', '/restart', '{"role": ');
is($status, 400, 'a malformed body: 400');
is($r1->postmaster_pid, $pid, 'none of them restarted the leader');

# --- scheduled
my $at = iso_in(600);
($status, $json) = api($r3, 'POST', '/restart', qq{{"schedule": "$at", "postgres_version": "99.1"}});
is($status, 202, 'a scheduled restart: 202');
is($json->{message}, 'Restart scheduled', "Patroni's message");
ok(wait_until(sub { zk_get($zk, '/service/pg_ha_test/members/r3') =~ /"scheduled_restart":\{"schedule":"\Q$at\E","postgres_version":"99.1"\}/ },
		30, 'published'), "r3's member key shows scheduled_restart with its condition");
($status, $json) = api($r3, 'POST', '/restart', '{"schedule": "' . iso_in(900) . '"}');
is($status, 409, 'a second schedule: 409');
($status, $json) = api($r3, 'DELETE', '/restart');
is($status, 200, 'DELETE /restart: 200');
is($json->{message}, 'scheduled restart deleted', "Patroni's message");
($status, $json) = api($r3, 'DELETE', '/restart');
is($status, 404, 'DELETE /restart again: 404');
ok(wait_until(sub { zk_get($zk, '/service/pg_ha_test/members/r3') !~ /scheduled_restart/ }, 30, 'unpublished'),
	'the member key no longer shows it');

$pid = $r3->postmaster_pid;
($status) = api($r3, 'POST', '/restart', '{"schedule": "' . iso_in(3) . '"}');
is($status, 202, 'a restart scheduled in 3 s: 202');
ok(wait_until(sub { my $p = $r3->postmaster_pid; $p && $p != $pid && $r3->is_replica }, 60, 'r3 restarted'),
	'r3 restarts by itself when it is due');
like($r3->postgres_log, qr/scheduled restart due: the supervisor restarts postgres now/, 'its agent logged why');

# --- paused: a schedule is refused, a restart now is not (as in Patroni)
($status) = api($r1, 'PATCH', '/config', '{"pause": true}');
is($status, 200, 'pause the cluster');
ok(wait_until(sub { (api($r1, 'GET', '/patroni'))[1]{pause} }, 30, 'paused'), 'r1 sees the pause');
($status, $json) = api($r1, 'POST', '/restart', '{"schedule": "' . iso_in(600) . '"}');
is($status, 400, 'paused: a scheduled restart of the leader is refused (400)');
is($json->{error}, "Can't schedule restart in the paused state", "Patroni's message");
$pid = $r1->postmaster_pid;
($status, $json, $text) = api($r1, 'POST', '/restart', '', 90);
is($status, 200, 'paused: the leader restarts now (200)') or diag($text);
isnt($r1->postmaster_pid, $pid, 'with a new postmaster');
ok(wait_until(sub { ($r1->psql('INSERT INTO t VALUES (2)'))[0] == 0 }, 60, 'write'), 'and takes writes again');
is(leader_key(), 'r1', 'still the leader');
($status) = api($r1, 'PATCH', '/config', '{"pause": false}');
is($status, 200, 'resume the cluster');

# --- SQL
$pid = $r2->postmaster_pid;
my ($rc, $out, $err) = $r2->psql(q{SELECT ha_restart('r2')});
is($rc, 0, 'ha_restart() of the node it runs on') or diag($err);
like($out, qr/restart/, 'answers what it did');
ok(wait_until(sub { my $p = $r2->postmaster_pid; $p && $p != $pid && $r2->is_replica }, 60, 'r2 restarted'),
	'r2 restarted');
($rc, $out, $err) = $r1->psql(q{SELECT ha_restart('nosuch')});
like($err, qr/no member "nosuch"/, 'ha_restart() of an unknown member is an error');

$_->stop for @nodes;
zk_stop($zk);
done_testing();
