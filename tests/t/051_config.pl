# The cluster's dynamic configuration (/config) changed from SQL
# (ha_set_config) and HTTP (PATCH/PUT /config), applied by every node;
# every bad request answered with a clear error and nothing changed: a bad
# value, contradicting settings, a parameter pg_ha manages, a malformed
# body, no credentials, no privilege, and a compare-and-set conflict with a
# change made meanwhile.
use strict;
use warnings;
use IPC::Run ();
use JSON::PP;
use MIME::Base64;
use PostgreSQL::Test::Utils;
use Test::More;
use PgHaTest;
use PgHaNode;

my $zk = zk_start();
my $auth = "api_auth = admin:s3cret\n";
my $n1 = PgHaNode->new(name => 'n1', zk_hosts => $zk->{hosts}, extra => $auth);
my $n2 = PgHaNode->new(name => 'n2', zk_hosts => $zk->{hosts}, extra => $auth);
my @nodes = ($n1, $n2);

$n1->start;
ok(wait_until(sub { $n1->is_primary }, 60, 'n1 leads'), 'n1 bootstraps and leads');
$n2->start;
ok(wait_until(sub { $n2->is_replica }, 90, 'n2 replica'), 'n2 is a replica');
$n1->psql('CREATE EXTENSION pg_ha');
ok(wait_until(sub { ($n2->psql("SELECT ha_config()->>'ttl'"))[1] eq '6' }, 30, 'seeded'),
	'ha_config() on the replica: the leader seeded /config from its settings (ttl 6)');

my $cred = 'Authorization: Basic ' . encode_base64('admin:s3cret', '') . "\r\n";

# Sends one request to a node's API; returns (status, body).
sub api
{
	my ($node, $method, $path, $body, %opt) = @_;
	my $hdr = ($opt{cred} // 1) ? $cred : '';
	$body //= '';
	my ($status, $raw) = http_request($node->api_port,
		"$method $path HTTP/1.0\r\n${hdr}Content-Length: " . length($body) . "\r\n\r\n$body", timeout => 20);
	return ($status, $raw =~ /\r\n\r\n(.*)\z/s ? $1 : '');
}

sub config_now { (api($n1, 'GET', '/config'))[1] }

# Every node runs with setting = value (within a few loop_waits).
sub applied
{
	my ($setting, $value, $what) = @_;
	for my $node (@nodes)
	{
		ok(wait_until(sub { $node->psql("SHOW $setting") eq $value }, 30, "$setting on " . $node->name),
			$node->name . ": $what");
	}
}

# --- SQL, on the replica
my ($rc, $out, $err) = $n2->psql(q{SELECT ha_set_config('{"loop_wait": 2}')->>'loop_wait'});
is($out, '2', 'ha_set_config() returns the new configuration') or diag($err);
applied('pg_ha.loop_wait', '2s', 'loop_wait 2 s from ha_set_config()');

# --- HTTP PATCH, on the leader: a parameter
my ($status, $body) = api($n1, 'PATCH', '/config', '{"postgresql": {"parameters": {"work_mem": "7MB"}}}');
is($status, 200, 'PATCH /config answers 200') or diag($body);
is(decode_json($body)->{postgresql}{parameters}{work_mem}, '7MB', 'with the merged configuration');
is(decode_json($body)->{loop_wait}, 2, 'which keeps what it did not name');
applied('work_mem', '7MB', 'work_mem 7MB from PATCH /config');

# --- HTTP PUT: the whole configuration
my $whole = decode_json(config_now());
$whole->{maximum_lag_on_failover} = 2097152;
($status, $body) = api($n2, 'PUT', '/config', encode_json($whole));
is($status, 200, 'PUT /config answers 200') or diag($body);
applied('pg_ha.maximum_lag_on_failover', '2MB', 'maximum_lag_on_failover 2 MB from PUT /config');

# --- bad requests: a clear error, nothing changed
my $before = config_now();
($rc, $out, $err) = $n2->psql(q{SELECT ha_set_config('{"ttl": 1}')});
like($err, qr/configuration change refused: "ttl" must be between 2 and 3600/, 'SQL: a ttl out of range is refused with the reason');
($status, $body) = api($n1, 'PATCH', '/config', '{"loop_wait": 6}');
is($status, 400, 'HTTP: loop_wait as long as ttl: 400');
like(decode_json($body)->{error}, qr/loop_wait \(6\) must be less than ttl \(6\)/, 'with the reason');
($status, $body) = api($n1, 'PATCH', '/config', '{"postgresql": {"parameters": {"primary_conninfo": "host=evil"}}}');
is($status, 400, 'HTTP: a parameter pg_ha manages: 400');
like(decode_json($body)->{error}, qr/"primary_conninfo" is set by pg_ha itself/, 'with the reason');
($status, $body) = api($n1, 'PATCH', '/config', '{"ttl": ');
is($status, 400, 'HTTP: a malformed body: 400');
($status) = api($n1, 'PATCH', '/config', '{"ttl": 7}', cred => 0);
is($status, 401, 'HTTP: no credentials: 401');
$n1->psql('CREATE ROLE mortal LOGIN');
($rc, $out, $err) = $n1->psql(q{SET ROLE mortal; SELECT ha_set_config('{"ttl": 7}')});
like($err, qr/permission denied for function ha_set_config/, 'SQL: only superusers may change the configuration');
is(config_now(), $before, 'none of them changed /config');
is($n2->psql('SHOW pg_ha.ttl'), '6s', 'and ttl is still 6 s');

# --- a compare-and-set conflict: /config changes between n2's check and its write
$n2->psql('ALTER SYSTEM SET pg_ha.test_config_write_delay_ms = 3000');
$n2->psql('SELECT pg_reload_conf()');
ok(wait_until(sub { $n2->psql('SHOW pg_ha.test_config_write_delay_ms') eq '3s' }, 10, 'delay'), 'n2 delays its writes (test setting)');
my ($c_out, $c_err) = ('', '');
my $curl = IPC::Run::start(['curl', '-s', '-m', '20', '-o', '/dev/stderr', '-w', '%{http_code}', '-X', 'PATCH',
	'-u', 'admin:s3cret', '--data', '{"loop_wait": 3}', 'http://127.0.0.1:' . $n2->api_port . '/config'],
	'>', \$c_out, '2>', \$c_err);
ok(wait_until(sub { $n2->postgres_log =~ /pg_ha: cluster configuration change checked, writing it in 3000 ms/ }, 10, 'taken'),
	'n2 has checked the PATCH and waits to write it');
($rc, $out, $err) = $n1->psql(q{SELECT ha_set_config('{"retry_timeout": 2}')->>'retry_timeout'});
is($out, '2', 'meanwhile a change on n1 goes through') or diag($err);
$curl->finish;
is($c_out, '409', 'the PATCH to n2 answers 409: the compare-and-set failed') or diag($c_err);
like($c_err, qr/changed meanwhile/, 'saying so');
my $now = decode_json(config_now());
is($now->{retry_timeout}, 2, '/config holds the change made meanwhile');
is($now->{loop_wait}, 2, 'and not the conflicting one');
$n2->psql('ALTER SYSTEM RESET pg_ha.test_config_write_delay_ms');
$n2->psql('SELECT pg_reload_conf()');
applied('pg_ha.retry_timeout', '2s', 'retry_timeout 2 s');

# --- a scheduled switchover from SQL: kept, refused in the past, cancelled
($rc, $out, $err) = $n1->psql(q{SELECT ha_schedule_switchover('n2', now() + interval '1 hour')});
is($out, 'n2', 'ha_schedule_switchover() returns the candidate') or diag($err);
like(zk_get($zk, '/service/pg_ha_test/failover') // '', qr/"scheduled_at":"\d{4}-/, '/failover holds it with its time');
($rc, $out, $err) = $n2->psql(q{SELECT ha_schedule_switchover('n2', now() - interval '1 minute')});
like($err, qr/cannot schedule a switchover in the past/, 'a time in the past is refused');
($rc, $out, $err) = $n2->psql(q{SELECT ha_cancel_switchover()});
is($out, 'n2', 'ha_cancel_switchover() cancels it') or diag($err);
ok(wait_until(sub { !defined zk_get($zk, '/service/pg_ha_test/failover') }, 10, 'gone'), '/failover is gone');
($rc, $out, $err) = $n2->psql(q{SELECT ha_cancel_switchover()});
like($err, qr/cancel refused: no switchover is scheduled/, 'cancelling none: refused');
ok($n1->is_primary, 'n1 still leads');

# --- manual failover: with a leader it is a switchover; with none (paused) the candidate is promoted
($status, $body) = api($n1, 'POST', '/failover', '{}');
is($status, 400, 'POST /failover without a candidate: 400');
like(decode_json($body)->{error}, qr/a failover needs a candidate/, 'saying so');
($rc, $out, $err) = $n1->psql(q{SELECT ha_failover('nobody')});
like($err, qr/failover refused: "nobody" is not a member/, 'ha_failover() of an unknown member: refused');
ok($n1->is_primary, 'and n1 still leads');
($status, $body) = api($n1, 'POST', '/failover', '{"candidate": "n2"}');
ok($status == 200 || $status == 202, 'POST /failover {"candidate": "n2"} with a leader: a switchover') or diag($body);
ok(wait_until(sub { $n2->is_primary && $n1->is_replica }, 90, 'switched'), 'n2 leads, n1 follows');

($rc, $out, $err) = $n1->psql(q{SELECT ha_pause()->>'pause'});
is($out, 'true', 'ha_pause()') or diag($err);
ok(wait_until(sub { $n1->psql('SELECT bool_and(paused) FROM ha_status()') eq 't' }, 30, 'paused'), 'both see it paused');
my $pm = $n2->postmaster_pid;
kill 'KILL', $pm;
ok(wait_until(sub { $n2->supervisor_log =~ /-> down while paused/ }, 30, 'down'), 'the leader n2 is killed and stays down');
ok(wait_until(sub { $n1->psql("SELECT count(*) FROM ha_status() WHERE role = 'leader'") eq '0' }, 30, 'no leader'),
	'the cluster has no leader, and n1 does not race (paused)');
($rc, $out, $err) = $n1->psql(q{SELECT ha_failover('n1')}, timeout => 90);
is($out, 'n1', 'ha_failover(\'n1\') with no leader: n1 is promoted') or diag($err);
ok($n1->is_primary, 'n1 leads, still paused');
like($n1->postgres_log, qr/manual failover requested: "n1" is to be promoted/, 'logged');
($rc, $out, $err) = $n1->psql(q{SELECT ha_resume()->>'pause'});
is($out, '', 'ha_resume(): pause is gone from the configuration') or diag($err);
ok(wait_until(sub { $n2->is_replica }, 90, 'rejoined'), 'resumed, the old leader n2 rejoins as a replica');

$_->stop for @nodes;
done_testing();
