# Patroni's callbacks, run by the supervisor: two supervised nodes whose
# callback script appends its arguments (action, role, scope) to a file.
#  - on_start with the role the node starts in (master, replica);
#  - a switchover: on_role_change master on the new leader; on_stop master
#    then on_role_change replica on the old one;
#  - a crash of a replica's postmaster: on_restart replica;
#  - on_reload after SIGHUP; one that runs longer than callback_timeout is
#    stopped (its whole process group) and that is logged;
#  - the script's output and exit status are in the supervisor's log;
#  - on_stop when the supervisor stops.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use PgHaTest;
use PgHaNode;

my $zk = zk_start();
my $dir = PostgreSQL::Test::Utils::tempdir('callbacks');

# One script per node: its calls go to $dir/<node>.calls
sub callback_script
{
	my ($name) = @_;
	my $path = "$dir/cb_$name.sh";
	open my $fh, '>', $path or die "$path: $!";
	print $fh <<"SH";
#!/bin/sh
echo "\$*" >> '$dir/$name.calls'
echo "callback says: \$1 as \$2"
echo "to stderr: \$1" >&2
if [ "\$1" = on_reload ] && [ -e '$dir/slow' ]; then
	sleep 120 &
	echo \$! > '$dir/sleep.pid'
	wait
fi
exit 3
SH
	close $fh;
	chmod 0755, $path;
	my $extra = join('', map { "$_ = $path\n" } qw(on_start on_stop on_restart on_reload on_role_change));
	return $extra . "callback_timeout = 3\n";
}

sub calls
{
	my ($name) = @_;
	open my $fh, '<', "$dir/$name.calls" or return ();
	my @lines = <$fh>;
	chomp @lines;
	return @lines;
}

sub has_call
{
	my ($name, $call) = @_;
	return scalar grep { $_ eq $call } calls($name);
}

my $n1 = PgHaNode->new(name => 'n1', zk_hosts => $zk->{hosts}, extra => callback_script('n1'));
my $n2 = PgHaNode->new(name => 'n2', zk_hosts => $zk->{hosts}, extra => callback_script('n2'));

# --- on_start, with the role
$n1->start;
ok(wait_until(sub { $n1->is_primary }, 60, 'n1 leads'), 'n1 bootstraps and leads');
ok(wait_until(sub { has_call('n1', 'on_start master pg_ha_test') }, 30, 'n1 on_start'),
	'n1: on_start master pg_ha_test');
$n2->start;
ok(wait_until(sub { $n2->is_replica }, 90, 'n2 replica'), 'n2 is a replica');
ok(wait_until(sub { has_call('n2', 'on_start replica pg_ha_test') }, 30, 'n2 on_start'),
	'n2: on_start replica pg_ha_test');
ok(wait_until(sub { $n1->supervisor_log =~ /callback on_start: exit code 3/ }, 30, 'exit code logged'),
	'the exit status is logged');
my $log = $n1->supervisor_log;
like($log, qr/callback on_start: running \Q$dir\E\/cb_n1\.sh on_start master pg_ha_test/,
	'the command line is logged (no shell: the arguments as given)');
like($log, qr/callback on_start: callback says: on_start as master/, 'its stdout is logged with the prefix');
like($log, qr/callback on_start: to stderr: on_start/, 'its stderr too');
is_deeply([ calls('n1') ], ['on_start master pg_ha_test'], 'n1: nothing else ran');

# --- a switchover: the new leader's role changes to master, the old one's to replica
$n1->psql('CREATE EXTENSION pg_ha');
ok(wait_until(sub { $n1->psql("SELECT count(*) FROM ha_status() WHERE state = 'running'") eq '2' }, 60,
	'both running'), 'the leader sees both members running');
my ($rc, $out, $err) = $n2->psql("SELECT ha_switchover('n2')", timeout => 90);
is($out, 'n2', 'switchover to n2') or diag($err);
ok(wait_until(sub { has_call('n2', 'on_role_change master pg_ha_test') }, 30, 'n2 on_role_change'),
	'n2: on_role_change master pg_ha_test');
ok(wait_until(sub { $n1->is_replica }, 60, 'n1 replica'), 'n1 rejoins as a replica');
ok(wait_until(sub { has_call('n1', 'on_role_change replica pg_ha_test') }, 30, 'n1 on_role_change'),
	'n1: on_role_change replica pg_ha_test');
is_deeply([ calls('n1') ],
	[ 'on_start master pg_ha_test', 'on_stop master pg_ha_test', 'on_role_change replica pg_ha_test' ],
	'n1: on_stop as master when it stopped for the hand-over, then the role change (no on_start)');
is_deeply([ calls('n2') ], [ 'on_start replica pg_ha_test', 'on_role_change master pg_ha_test' ],
	'n2: the promotion is one on_role_change');

# --- a crash of the replica's postmaster: restarted in place, on_restart
my $pm = $n1->postmaster_pid;
ok($pm, 'n1 has a postmaster');
kill 'KILL', $pm;
ok(wait_until(sub { has_call('n1', 'on_restart replica pg_ha_test') }, 60, 'n1 on_restart'),
	'n1: on_restart replica pg_ha_test after its postmaster was killed');
like($n1->supervisor_log, qr/crash: restarting postgres in place/, 'it was a restart in place');

# --- on_reload, and one that runs too long is stopped
kill 'HUP', $n2->supervisor_pid;
ok(wait_until(sub { has_call('n2', 'on_reload master pg_ha_test') }, 30, 'n2 on_reload'),
	'n2: on_reload master pg_ha_test after SIGHUP');
open my $slow, '>', "$dir/slow" or die;
close $slow;
kill 'HUP', $n2->supervisor_pid;
ok(wait_until(sub { $n2->supervisor_log =~ /callback on_reload: still running after 3000 ms, stopping it/ }, 30,
	'timeout'), 'a callback running longer than callback_timeout (3 s) is stopped');
like($n2->supervisor_log, qr/callback on_reload: stopped: it ran longer than callback_timeout \(3 s\)/,
	'and that is logged');
my $sleep_pid = PostgreSQL::Test::Utils::slurp_file("$dir/sleep.pid");
chomp $sleep_pid;
ok(wait_until(sub { !kill(0, $sleep_pid) }, 20, 'sleep gone'), "the callback's child (pid $sleep_pid) is gone too");

# a new callback stops the previous one if it still runs (as Patroni does)
unlink "$dir/sleep.pid";
kill 'HUP', $n2->supervisor_pid;
ok(wait_until(sub { -s "$dir/sleep.pid" }, 30, 'slow on_reload runs'), 'a slow on_reload runs again');
$sleep_pid = PostgreSQL::Test::Utils::slurp_file("$dir/sleep.pid");
chomp $sleep_pid;
unlink "$dir/slow";
kill 'HUP', $n2->supervisor_pid;
ok(wait_until(sub { $n2->supervisor_log =~ /callback on_reload: still running; stopping it to run on_reload/ }, 30,
	'replaced'), 'the next callback stops the one still running, and says so');
ok(wait_until(sub { !kill(0, $sleep_pid) }, 20, 'sleep gone'), "the stopped callback's child (pid $sleep_pid) is gone");
ok(wait_until(sub { $n2->supervisor_log =~ /callback on_reload: stopped before its end\n(?s:.*)callback on_reload: exit code 3/ }, 30,
	'the next ran'), 'the stopped one is logged, the next one ran to its end');
is(scalar(grep { $_ eq 'on_reload master pg_ha_test' } calls('n2')), 4, 'n2: four on_reload calls');
ok($n2->is_primary, 'n2 still leads');

# --- on_stop when the supervisor stops
ok($n1->stop, 'n1 stops');
is((calls('n1'))[-1], 'on_stop replica pg_ha_test', 'n1: on_stop replica pg_ha_test, its last call');
like($n1->supervisor_log, qr/on_stop replica pg_ha_test\n.*callback on_stop: exit code 3\n.*exiting \(code 0\)/s,
	'the supervisor let on_stop end before it exited');
ok($n2->stop, 'n2 stops');
is((calls('n2'))[-1], 'on_stop master pg_ha_test', 'n2: on_stop master pg_ha_test');

zk_stop($zk);
done_testing();
