# Reinitialize (Patroni's POST /reinitialize, patronictl reinit): a
# replica's supervisor stops it, moves its data directory aside, clones the
# leader again and starts the copy as a standby; the old directory is
# removed once the copy runs.  Three supervised nodes; the three ways in:
# patronictl, HTTP, SQL (ha_reinitialize() from the leader).  The leader is
# never re-cloned.
use strict;
use warnings;
use File::Basename qw(basename);
use PostgreSQL::Test::Utils;
use Test::More;
use PgHaTest;
use PgHaNode;

my $zk = zk_start();
my @nodes = map { PgHaNode->new(name => $_, zk_hosts => $zk->{hosts}) } qw(n1 n2 n3);
my ($n1, $n2, $n3) = @nodes;
my $ctl_conf = patronictl_config($zk);

# POST /reinitialize to a node's API with body (undef: none); (status, body).
sub post_reinit
{
	my ($node, $body) = @_;
	my $req = "POST /reinitialize HTTP/1.0\r\n";
	$req .= defined $body ? "Content-Type: application/json\r\nContent-Length: "
	  . length($body) . "\r\n\r\n$body" : "\r\n";
	my ($status, $raw) = http_request($node->api_port, $req, timeout => 15);
	return ($status, $raw =~ /\r\n\r\n(.*)\z/s ? $1 : '');
}

sub count_reinit_lines { my @l = $_[0]->supervisor_log =~ /^.*reinit: re-cloning from .*$/mg; return scalar @l }

# The data directory's inode: a re-clone makes a new directory.
sub data_inode { return (stat($_[0]{data}))[1] }

# Leaves a file in node's data directory, that only the old copy has.
sub put_marker
{
	my ($node) = @_;
	my $m = "$node->{data}/pg_ha_test_reinit_marker";
	open my $fh, '>', $m or die "$m: $!";
	print $fh "written by 053 before the re-clone\n";
	close $fh;
	return $m;
}

# Waits for the $nth re-clone of node to finish (the old copy removed),
# then checks it: a new directory without the marker, no old copy left,
# streaming from n1 with the data written before.
sub check_recloned
{
	my ($node, $nth, $inode, $marker, $how) = @_;
	my $name = $node->name;
	ok( wait_until(
			sub {
				my @done = $node->supervisor_log =~ /reinit: the new copy runs; removed the old data directory/g;
				@done >= $nth;
			},
			180,
			"$name re-cloned"),
		"$how: ${name}'s supervisor re-cloned it and removed the old copy")
	  or diag($node->supervisor_log);
	my @kept = $node->supervisor_log =~ /reinit: re-cloning from "n1"; the old data directory is kept as "([^"]+)"/g;
	is(scalar @kept, $nth, "$how: the old data directory of $name was moved aside ($nth re-clone(s) so far)");
	like(basename($kept[-1] // ''), qr/^data\.pg_ha-old\.\d{8}T\d{6}$/, "$how: ... to D.pg_ha-old.<timestamp>");
	ok(defined $kept[-1] && !-e $kept[-1], "$how: ... and it is gone now");
	is(scalar(() = glob("$node->{data}.pg_ha-old.*")), 0, "$how: no old copy of $name is left");
	ok(!-e $marker, "$how: the file left in ${name}'s old data directory is not in the new one");
	isnt(data_inode($node), $inode, "$how: ${name}'s data directory is a new directory");
	ok(wait_until(sub { $node->streams_from($n1) }, 60, "$name streams"), "$how: $name streams from n1 again");
}

$n1->start;
ok(wait_until(sub { $n1->is_primary }, 60, 'n1 leads'), 'n1 bootstraps and leads');
$n2->start;
$n3->start;
ok(wait_until(sub { $n2->is_replica && $n3->is_replica }, 90, 'replicas'), 'n2 and n3 are replicas');
ok(wait_until(sub { $n2->streams_from($n1) && $n3->streams_from($n1) }, 60, 'streaming'),
	'n2 and n3 stream from n1');
$n1->psql('CREATE EXTENSION pg_ha');
$n1->psql("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'before')");
my $rows = sub { my ($node) = @_; return scalar $node->psql("SELECT string_agg(v, ',' ORDER BY id) FROM t") };
ok(wait_until(sub { ($rows->($n3) // '') eq 'before' }, 30, 'row on n3'), 'the first row reached n3');

# --- patronictl reinit of a replica
my $marker3 = put_marker($n3);
my $inode3 = data_inode($n3);
my $pm3 = $n3->postmaster_pid;
my ($rc, $out, $err) = run_patronictl($ctl_conf, 'reinit', 'pg_ha_test', 'n3', '--force');
is($rc, 0, 'patronictl reinit pg_ha_test n3 --force exits 0') or diag("$out\n$err");
like($out, qr/Success: reinitialize for member n3/, 'patronictl: Success: reinitialize for member n3');
check_recloned($n3, 1, $inode3, $marker3, 'patronictl');
isnt($n3->postmaster_pid, $pm3, 'patronictl: n3 runs a new postmaster');
$n1->psql("INSERT INTO t VALUES (2, 'after-patronictl')");
ok(wait_until(sub { ($rows->($n3) // '') eq 'before,after-patronictl' }, 30, 'rows on n3'),
	'patronictl: n3 has the rows written before and after the re-clone');
like($n3->postgres_log . $n3->supervisor_log, qr/reinitialize: asked the supervisor to re-clone this node from "n1"/,
	"patronictl: n3's agent logged the request");

# --- the leader is never re-cloned
my $pm1 = $n1->postmaster_pid;
my $inode1 = data_inode($n1);
($rc, $out, $err) = run_patronictl($ctl_conf, 'reinit', 'pg_ha_test', 'n1', '--force');
isnt($rc, 0, 'patronictl reinit of the leader fails');
like("$out$err", qr/No replica among provided members/, 'patronictl: no replica among provided members');
my ($status, $body) = post_reinit($n1, '{"force": true}');
is($status, 503, 'POST /reinitialize on the leader: 503');
is($body, 'I am the leader, can not reinitialize', "... with Patroni's text");
ok($n1->is_primary, 'n1 still leads');
is($n1->postmaster_pid, $pm1, "n1's postmaster was not restarted");
is(data_inode($n1), $inode1, "n1's data directory is the same directory");
is(count_reinit_lines($n1), 0, "n1's supervisor was never asked to re-clone");

# --- bad bodies: 400, nothing done
my $pm2 = $n2->postmaster_pid;
($status, $body) = post_reinit($n2, 'not json');
is($status, 400, 'POST /reinitialize with a body that is not JSON: 400');
like($body, qr/JSON object/, '... saying a JSON object is expected');
($status, $body) = post_reinit($n2, '{"force": "yes"}');
is($status, 400, 'POST /reinitialize with a force that is not a boolean: 400');
like($body, qr/"force" must be true or false/, '... saying so');
($status, $body) = post_reinit($n2, '[true]');
is($status, 400, 'POST /reinitialize with a JSON array: 400');
ok(!-e "$n2->{data}/pg_ha.request", 'no request was left for the supervisor');
is($n2->postmaster_pid, $pm2, "n2's postmaster runs on");
is(count_reinit_lines($n2), 0, "n2's supervisor was not asked");

# --- HTTP, and a second request while the first is under way: the supervisor
# is held (SIGSTOP) so the first request waits in pg_ha.request
my $marker2 = put_marker($n2);
my $inode2 = data_inode($n2);
kill 'STOP', $n2->supervisor_pid;
($status, $body) = post_reinit($n2, '{"force": false}');
my ($status2, $body2) = post_reinit($n2, undef);
my ($status3, $body3) = post_reinit($n2, '{"force": true}');
my $pending = -e "$n2->{data}/pg_ha.request" ? PostgreSQL::Test::Utils::slurp_file("$n2->{data}/pg_ha.request") : '';
kill 'CONT', $n2->supervisor_pid;
is($status, 200, 'POST /reinitialize on a replica: 200');
is($body, 'reinitialize started', "... with Patroni's text");
like($pending, qr/^action = reinit\nleader = n1\nconninfo = host=127\.0\.0\.1 port=\d+\n/,
	'the agent left a reinit request naming the leader and its address');
is($status2, 503, 'a second POST /reinitialize meanwhile: 503');
is($body2, 'reinitialize already in progress', '... reinitialize already in progress');
is($status3, 503, 'a forced one does not start it over either');
check_recloned($n2, 1, $inode2, $marker2, 'HTTP');
$n1->psql("INSERT INTO t VALUES (3, 'after-http')");
ok(wait_until(sub { ($rows->($n2) // '') eq 'before,after-patronictl,after-http' }, 30, 'rows on n2'),
	'HTTP: n2 has the rows written before and after the re-clone');

# --- SQL from the leader: another member's API is asked
$marker3 = put_marker($n3);
$inode3 = data_inode($n3);
my ($sql_rc, $sql_out, $sql_err) = $n1->psql("SELECT ha_reinitialize('n3')");
is($sql_rc, 0, "SELECT ha_reinitialize('n3') on the leader succeeds") or diag($sql_err);
is($sql_out, 'reinitialize started', "... and returns n3's answer");
check_recloned($n3, 2, $inode3, $marker3, 'SQL');
$n1->psql("INSERT INTO t VALUES (4, 'after-sql')");
ok(wait_until(sub { ($rows->($n3) // '') eq 'before,after-patronictl,after-http,after-sql' }, 30, 'rows on n3'),
	'SQL: n3 has every row written on the leader');

($sql_rc, undef, $sql_err) = $n1->psql("SELECT ha_reinitialize('nosuch')");
isnt($sql_rc, 0, "ha_reinitialize('nosuch') fails");
like($sql_err, qr/"nosuch" is not a member of the cluster/, '... as not a member');
($sql_rc, undef, $sql_err) = $n1->psql("SELECT ha_reinitialize('n1')");
isnt($sql_rc, 0, "ha_reinitialize('n1') (the leader, called on itself) fails");
like($sql_err, qr/member "n1" is the leader/, '... as the leader');
($sql_rc, undef, $sql_err) = $n2->psql("SELECT ha_reinitialize('n1')");
isnt($sql_rc, 0, "ha_reinitialize('n1') called on a replica fails");
like($sql_err, qr/member "n1" is the leader/, '... as the leader');
ok($n1->is_primary, 'n1 still leads after all of it');
is($n1->postmaster_pid, $pm1, "n1's postmaster was never restarted");
is(count_reinit_lines($n1), 0, "n1's supervisor was never asked to re-clone");

$_->stop for reverse @nodes;
zk_stop($zk);
done_testing();
