# Patroni's own patronictl (Debian's patroni package) against a pg_ha
# cluster, three supervised nodes in synchronous mode: it reads the keys
# (/leader, /members, /status, /sync, /config, /history) straight from
# ZooKeeper and drives a switchover through the REST API.  After each
# command the cluster is checked from pg_ha's side too.
use strict;
use warnings;
use IPC::Run ();
use JSON::PP;
use PostgreSQL::Test::Utils;
use Test::More;
use POSIX qw(strftime);
use Time::HiRes qw(time);
use PgHaTest;
use PgHaNode;

my $zk = zk_start();
my @nodes = map { PgHaNode->new(name => $_, zk_hosts => $zk->{hosts}, extra => "synchronous_mode = on\n") }
  qw(n1 n2 n3);
my ($n1, $n2, $n3) = @nodes;

my $ctl_conf = patronictl_config($zk);

# Runs patronictl; returns (exit code, stdout, stderr).
sub patronictl { return run_patronictl($ctl_conf, @_) }

# The body of a GET on a node's API.
sub http_body
{
	my ($node, $path) = @_;
	my (undef, $raw) = http_request($node->api_port, "GET $path HTTP/1.0\r\n\r\n");
	return $raw =~ /\r\n\r\n(.*)\z/s ? $1 : undef;
}

# patronictl list as rows (its json format), keyed by member.
sub ctl_list
{
	my ($rc, $out) = patronictl('list', '-f', 'json');
	return {} if $rc != 0 || $out !~ /^\[/;
	return { map { $_->{Member} => $_ } @{ decode_json($out) } };
}

sub roles_are
{
	my (%want) = @_;
	my $rows = ctl_list();
	return 0 unless keys %$rows == keys %want;
	for my $m (keys %want)
	{
		return 0 unless $rows->{$m} && $rows->{$m}{Role} eq $want{$m} && $rows->{$m}{State} =~ /^(running|streaming)$/;
	}
	return 1;
}

PgHaNode::start_cluster($n1, $n2, $n3);
my $sync;
ok(wait_until(sub { $sync = $n1->psql('SELECT name FROM ha_status() WHERE sync_standby') }, 60,
	'a confirmed sync standby'), 'the leader confirms a synchronous standby');
note("synchronous standby: $sync");
my $async = $sync eq 'n2' ? 'n3' : 'n2';

# --- list: the leader, the synchronous standby, the lag
ok(wait_until(sub { roles_are(n1 => 'Leader', $sync => 'Sync Standby', $async => 'Replica') }, 30, 'roles'),
	"patronictl list: n1 Leader, $sync Sync Standby, $async Replica")
  or diag(explain(ctl_list()));
my $rows = ctl_list();
is($rows->{n1}{TL}, 1, 'patronictl list: timeline 1');
like($rows->{$async}{'Lag in MB'}, qr/^\d+(\.\d+)?$/, 'patronictl list: the lag is a number (the leader\'s /status optime is read)');
my ($rc, $out) = patronictl('list');
like($out, qr/Cluster: pg_ha_test /, 'patronictl list (pretty): the cluster by its scope');

# --- topology: the replicas under the leader
($rc, $out) = patronictl('topology');
is($rc, 0, 'patronictl topology runs');
like($out, qr/^\| n1 +\|[^\n]*\| Leader /m, 'patronictl topology: n1 at the top, the leader');
like($out, qr/^\| \+ $sync +\|[^\n]*\| Sync Standby /m, "patronictl topology: $sync under it, the synchronous standby");
like($out, qr/^\| \+ $async +\|[^\n]*\| Replica /m, "patronictl topology: $async under it, a replica");

# --- show-config: the leader seeded /config from its settings
my $config;
ok(wait_until(sub { ($rc, $config) = patronictl('show-config'); $rc == 0 && $config =~ /ttl: 6/ }, 30, 'config'),
	'patronictl show-config: the cluster configuration exists') or diag($config);
like($config, qr/loop_wait: 1\n/, 'show-config: loop_wait from the node file');
like($config, qr/synchronous_mode: true\n/, 'show-config: synchronous mode on');
is(decode_json(http_body($n2, '/config') // '{}')->{retry_timeout}, 3, 'GET /config on a replica answers the same configuration');

# --- edit-config: a ttl and a postgresql parameter, applied on every node
($rc, $out, my $err) = patronictl('edit-config', '--force', '-s', 'ttl=8', '-p', 'work_mem=9MB');
is($rc, 0, 'patronictl edit-config -s ttl=8 -p work_mem=9MB') or diag("$out\n$err");
for my $node (@nodes)
{
	ok(wait_until(sub { $node->psql('SHOW pg_ha.ttl') eq '8s' && $node->psql('SHOW work_mem') eq '9MB' }, 30,
		$node->name . ' applies'), $node->name . ': ttl 8 s and work_mem 9MB in effect');
}
ok(wait_until(sub { zk_get($zk, '/service/pg_ha_test/members/n3') =~ /"ttl":8\b/ }, 30, 'published'),
	'n3 publishes the new ttl in its member key');
($rc, $config) = patronictl('show-config');
like($config, qr/work_mem: 9MB/, 'show-config: the parameter is in /config');

# a restart-only parameter: pending restart, shown by patronictl list
($rc) = patronictl('edit-config', '--force', '-p', 'max_connections=101');
ok(wait_until(sub { my $r = ctl_list(); 3 == grep { ($r->{$_}{'Pending restart'} // '') eq '*' } keys %$r }, 30,
	'pending'), 'patronictl list: every member is pending a restart for max_connections')
  or diag(explain(ctl_list()));
is($n2->psql("SELECT pending_restart FROM pg_settings WHERE name = 'max_connections'"), 't',
	'pg_settings agrees');
like(http_body($n2, '/metrics'), qr/^patroni_pending_restart\{[^}]*\} 1$/m, '/metrics: patroni_pending_restart 1');

# a bad value: refused by every agent, nothing changes
($rc) = patronictl('edit-config', '--force', '-s', 'loop_wait=100');
ok(wait_until(sub { $n3->postgres_log =~ /the cluster configuration \(\/config\) is refused: "loop_wait" must be between 1 and 60/ }, 30,
	'refused'), 'a loop_wait of 100 in /config is refused with the reason');
is($n3->psql('SHOW pg_ha.loop_wait'), '1s', 'and loop_wait stays 1 s');
($rc) = patronictl('edit-config', '--force', '-s', 'loop_wait=1', '-p', 'max_connections=100');
ok(wait_until(sub { my $r = ctl_list(); 0 == grep { ($r->{$_}{'Pending restart'} // '') eq '*' } keys %$r }, 30,
	'not pending'), 'max_connections back to 100: nothing pending');

# --- history: nothing before the first switch
($rc, $out) = patronictl('history', '-f', 'json');
is_deeply(decode_json($out || '[]'), [], 'patronictl history: empty on the first timeline');

# --- switchover through patronictl, then history
($rc, $out, $err) = patronictl('switchover', '--leader', 'n1', '--candidate', $sync, '--force');
is($rc, 0, "patronictl switchover --leader n1 --candidate $sync --force") or diag("$out\n$err");
my $new = $sync eq 'n2' ? $n2 : $n3;
ok(wait_until(sub { $new->is_primary && $n1->is_replica }, 90, 'switched'), "$sync leads, n1 follows");
ok(wait_until(sub { ctl_list()->{$sync} && ctl_list()->{$sync}{Role} eq 'Leader' && ctl_list()->{$sync}{TL} == 2 }, 30,
	'list after'), "patronictl list: $sync is the Leader on timeline 2");

my $hist;
ok(wait_until(sub {
	($rc, $out) = patronictl('history', '-f', 'json');
	$hist = $rc == 0 && $out =~ /^\[/ ? decode_json($out) : [];
	@$hist == 1 && defined $hist->[0]{'New Leader'} && $hist->[0]{'New Leader'} eq $sync
}, 30, 'history'), "patronictl history: one row, the switch to $sync") or diag($out);
is($hist->[0]{TL}, 1, 'history: timeline 1 ended');
ok($hist->[0]{LSN} > 0, 'history: at a position');
like($hist->[0]{Timestamp} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/, 'history: with the time of the switch');

my $api_hist = decode_json(http_body($n1, '/history') // '[]');
is($api_hist->[0][4], $sync, 'GET /history on the old leader names the new one');
is($api_hist->[0][1], $hist->[0]{LSN}, 'GET /history and patronictl agree on the position');
is(scalar $new->psql("SELECT timeline || ' ' || new_leader || ' ' || (switched_at > now() - interval '10 minutes')
	|| ' ' || (lsn = '" . sprintf('%X/%X', $api_hist->[0][1] >> 32, $api_hist->[0][1] & 0xffffffff) . "') FROM ha_history()"),
	"1 $sync true true", 'ha_history() shows the same switch');
# --- a scheduled switchover: listed, cancelled (flush); another carried out at its time, not before
my $next;
ok(wait_until(sub { $next = $new->psql('SELECT name FROM ha_status() WHERE sync_standby') }, 60, 'sync'),
	'the new leader confirms a synchronous standby');
my $at = strftime('%Y-%m-%dT%H:%M:%S+00:00', gmtime(time + 3600));
($rc, $out, $err) = patronictl('switchover', '--leader', $sync, '--candidate', $next, '--scheduled', $at, '--force');
like($out, qr/Switchover scheduled/, "patronictl switchover --scheduled (in an hour): scheduled") or diag("$out\n$err");
($rc, $out) = patronictl('list');
like($out, qr/Switchover scheduled at: /, 'patronictl list shows it');
ok($new->is_primary, "$sync still leads");
($rc, $out) = patronictl('flush', 'pg_ha_test', 'switchover', '--force');
like($out, qr/Success: .*scheduled switchover deleted/, 'patronictl flush switchover: cancelled') or diag($out);
ok(wait_until(sub { !defined zk_get($zk, '/service/pg_ha_test/failover') }, 10, 'gone'), '/failover is gone');

my $when = int(time) + 12;
$at = strftime('%Y-%m-%dT%H:%M:%S+00:00', gmtime($when));
($rc, $out, $err) = patronictl('switchover', '--leader', $sync, '--candidate', $next, '--scheduled', $at, '--force');
like($out, qr/Switchover scheduled/, "a switchover to $next scheduled 12 s ahead") or diag("$out\n$err");
my ($primary) = grep { $_->name eq $next } @nodes;
ok(wait_until(sub { $primary->is_primary }, 90, 'scheduled switchover'), "$next leads after the scheduled time");
ok(time >= $when - 1, 'and not before it');
ok(wait_until(sub { $new->is_replica }, 60, 'rejoin'), "$sync follows");

# --- pause: kill -9 of the primary's postmaster, and no failover
# (in synchronous mode only a confirmed synchronous standby may take over later)
ok(wait_until(sub { $primary->psql('SELECT count(*) FROM ha_status() WHERE sync_standby') eq '1' }, 60, 'sync'),
	"$next confirms a synchronous standby");
($rc, $out, $err) = patronictl('pause', '--wait');
is($rc, 0, 'patronictl pause --wait') or diag("$out\n$err");
($rc, $out) = patronictl('list');
like($out, qr/Maintenance mode: on/, 'patronictl list: maintenance mode on');
for my $node (@nodes)
{
	like(http_body($node, '/patroni'), qr/"pause":true/, $node->name . ': /patroni says paused');
}
is($n1->psql("SELECT ha_config()->>'pause'"), 'true', 'ha_config() says paused');
ok(wait_until(sub { $n1->psql('SELECT bool_and(paused) AND count(*) = 3 FROM ha_status()') eq 't' }, 30, 'ha_status paused'),
	'ha_status(): every member says paused');
my $metrics = http_body($n1, '/metrics');
my @missing = grep { $metrics !~ /^$_\{/m } qw(patroni_version patroni_postgres_running patroni_postmaster_start_time
  patroni_master patroni_primary patroni_xlog_location patroni_standby_leader patroni_replica patroni_sync_standby
  patroni_xlog_received_location patroni_xlog_replayed_location patroni_xlog_replayed_timestamp patroni_xlog_paused
  patroni_postgres_server_version patroni_cluster_unlocked patroni_failsafe_mode_is_active patroni_postgres_timeline
  patroni_dcs_last_seen patroni_pending_restart patroni_is_paused);
is("@missing", '', "/metrics has Patroni's whole set");
like($metrics, qr/^patroni_is_paused\{[^}]*\} 1$/m, '/metrics: patroni_is_paused 1');
my $pm = $primary->postmaster_pid;
ok($pm, "the primary's postmaster runs (pid $pm)");
kill 'KILL', $pm;
ok(wait_until(sub { $primary->supervisor_log =~ /-> down while paused/ }, 30, 'down'),
	"${next}'s supervisor keeps postgres down: the cluster is paused");
# an observation window longer than ttl (6 s) and the election's settle time
my ($seen_leader, $t_end) = (undef, time + 15);
while (time < $t_end)
{
	$seen_leader //= (grep { $_->is_primary } @nodes)[0];
	select(undef, undef, undef, 0.5);
}
ok(!defined $seen_leader, 'for 15 s after the kill nobody is promoted (no failover while paused)')
  or diag('promoted: ' . $seen_leader->name);
ok(!$primary->postmaster_pid, 'and the killed primary was not restarted');

# --- resume: now it fails over, and the old primary rejoins
($rc, $out, $err) = patronictl('resume');
is($rc, 0, 'patronictl resume') or diag("$out\n$err");
my $after;
ok(wait_until(sub { ($after) = grep { $_ != $primary && $_->is_primary } @nodes; $after }, 60, 'failover'),
	'after resume a replica takes over');
ok(wait_until(sub { $primary->is_replica }, 90, 'rejoined'), "$next comes back as a replica");
ok(wait_until(sub {
	($rc, $out) = patronictl('history', '-f', 'json');
	$rc == 0 && $out =~ /^\[/ && @{ decode_json($out) } == 3
}, 30, 'history 3'), 'patronictl history: a row per timeline change (3)') or diag($out);

# --- patronictl failover (with a leader: to the confirmed synchronous standby)
my $cand;
ok(wait_until(sub { $cand = $after->psql('SELECT name FROM ha_status() WHERE sync_standby') }, 60, 'sync'),
	'the leader after resume confirms a synchronous standby');
($rc, $out, $err) = patronictl('failover', '--candidate', $cand, '--force');
is($rc, 0, "patronictl failover --candidate $cand --force") or diag("$out\n$err");
my ($cnode) = grep { $_->name eq $cand } @nodes;
ok(wait_until(sub { $cnode->is_primary }, 90, 'failed over'), "$cand leads");
ok(wait_until(sub {
	($rc, $out) = patronictl('history', '-f', 'json');
	$rc == 0 && $out =~ /^\[/ && @{ decode_json($out) } == 4
}, 30, 'history 4'), 'patronictl history: 4 rows') or diag($out);

# --- restart: one member
my ($rnode) = grep { !$_->is_primary } @nodes;
my $rpid = $rnode->postmaster_pid;
($rc, $out, $err) = patronictl('restart', 'pg_ha_test', $rnode->name, '--force');
is($rc, 0, 'patronictl restart pg_ha_test ' . $rnode->name . ' --force') or diag("$out\n$err");
like($out, qr/Success: restart on member \Q${\ $rnode->name }\E/, 'patronictl reports success');
isnt($rnode->postmaster_pid, $rpid, $rnode->name . ' runs a new postmaster');
ok(wait_until(sub { $rnode->is_replica }, 60, 'replica again'), $rnode->name . ' is a replica again');

# --- restart: the whole cluster, rolling, at most one node down at a time
my ($leader_now) = grep { $_->is_primary } @nodes;
my %before = map { $_->name => $_->postmaster_pid } @nodes;
my ($rout, $rerr) = ('', '');
my $roll = IPC::Run::start(['timeout', '300', 'patronictl', '-c', $ctl_conf, 'restart', 'pg_ha_test', '--force'],
	'<', \undef, '>', \$rout, '2>', \$rerr);
my ($most_down, $samples) = (0, 0);
my $roll_deadline = time + 300;
while ($roll->pumpable && time < $roll_deadline)
{
	my $down = grep { PgHaTest::http_status($_->api_port, 'GET', '/liveness') != 200 } @nodes;
	$most_down = $down if $down > $most_down;
	$samples++;
	$roll->pump_nb;
	select(undef, undef, undef, 0.02);
}
my $roll_ok = $roll->finish;
ok($roll_ok, 'patronictl restart pg_ha_test --force (every member) exits 0') or diag("$rout\n$rerr");
is(scalar(() = $rout =~ /Success: restart on member/g), 3, 'patronictl reports success on each of the 3 members')
  or diag($rout);
cmp_ok($most_down, '<=', 1, "at most one node was down at a time ($samples samples)");
for my $node (@nodes)
{
	isnt($node->postmaster_pid, $before{ $node->name }, $node->name . ' was restarted');
}
ok(wait_until(sub { $leader_now->is_primary && 2 == grep { $_->is_replica } @nodes }, 60, 'roles'),
	$leader_now->name . ' still leads after the rolling restart (no failover)');

$_->stop for @nodes;
done_testing();
