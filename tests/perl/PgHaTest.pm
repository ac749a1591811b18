# PgHaTest: helpers for pg_ha's TAP tests.
#
# Real parts only: a real ZooKeeper server (scripts/zk.sh), real
# PostgreSQL 15 nodes (PostgreSQL::Test::Cluster) with pg_ha preloaded,
# and raw HTTP over TCP to the agents.  Every wait is bounded.
package PgHaTest;

use strict;
use warnings;
use Exporter 'import';
use File::Temp ();
use IO::Select;
use IO::Socket::INET;
use IPC::Run ();
use Time::HiRes qw(time sleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(zk_start zk_stop zk_restart zk_get zk_cli pg_ha_node http_request http_status
  wait_until agent_pid rss_kb json_field patronictl_config run_patronictl haproxy_status haproxy_config);

my $srcdir = $ENV{PGHA_SRCDIR} // die "PGHA_SRCDIR must point at the source tree";
my %zk;    # dir => port

# Starts a real ZooKeeper on 127.0.0.1 and a free port; returns "host:port".
sub zk_start
{
	my $dir = PostgreSQL::Test::Utils::tempdir('zk');
	my $port = PostgreSQL::Test::Cluster::get_free_port();
	system("$srcdir/scripts/zk.sh", 'start', $dir, $port) == 0
	  or BAIL_OUT("ZooKeeper did not start");
	$zk{$dir} = $port;
	return { dir => $dir, port => $port, hosts => "127.0.0.1:$port" };
}

sub zk_stop
{
	my ($zk) = @_;
	system("$srcdir/scripts/zk.sh", 'stop', $zk->{dir});
}

sub zk_restart
{
	my ($zk) = @_;
	system("$srcdir/scripts/zk.sh", 'start', $zk->{dir}, $zk->{port}) == 0
	  or BAIL_OUT("ZooKeeper did not restart");
}

END
{
	# keep the test's exit status: system() would overwrite $?
	local $?;
	system("$srcdir/scripts/zk.sh", 'stop', $_) for keys %zk;
}

# Reads a znode with ZooKeeper's own Java client (independent of pg_ha).
# Returns the data, or undef if the node does not exist.
sub zk_get
{
	my ($zk, $path) = @_;
	my $out = `timeout 30 java -cp /usr/share/java/zookeeper.jar:/etc/zookeeper/conf -Dlog4j.configuration=file:/dev/null org.apache.zookeeper.ZooKeeperMain -server $zk->{hosts} get $path 2>&1`;
	return undef if $out =~ /Node does not exist/;
	my @lines = grep { $_ ne '' && !/^(WATCHER|WatchedEvent|Connecting|SLF4J|log4j|JLine)/ } split /\n/, $out;
	return $lines[-1];
}

# Runs one zkCli command (create, delete, set ...) with ZooKeeper's own client.
sub zk_cli
{
	my ($zk, @args) = @_;
	return `timeout 30 java -cp /usr/share/java/zookeeper.jar:/etc/zookeeper/conf -Dlog4j.configuration=file:/dev/null org.apache.zookeeper.ZooKeeperMain -server $zk->{hosts} @args 2>&1`;
}

# A node with pg_ha loaded.  %opts: name, zk, api_port, extra (conf text),
# primary (a node to clone from: streaming replica).
sub pg_ha_node
{
	my (%opts) = @_;
	my $name = $opts{name};
	my $api_port = $opts{api_port} // PostgreSQL::Test::Cluster::get_free_port();
	my $node = PostgreSQL::Test::Cluster->new($name);
	if ($opts{primary})
	{
		my $backup = "bk_$name";
		$opts{primary}->backup($backup);
		$node->init_from_backup($opts{primary}, $backup, has_streaming => 1);
	}
	else
	{
		$node->init(allows_streaming => 1);
	}
	my $port = $node->port;
	$node->append_conf('pg_hba.conf',
		"host all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n")
	  unless $opts{primary};
	$node->append_conf('postgresql.conf', <<"CONF" . ($opts{extra} // ''));
listen_addresses = '127.0.0.1'
shared_preload_libraries = 'pg_ha'
pg_ha.name = '$name'
pg_ha.zk_hosts = '$opts{zk}{hosts}'
pg_ha.api_listen = '127.0.0.1:$api_port'
pg_ha.connect_address = '127.0.0.1:$port'
pg_ha.ttl = 6
pg_ha.retry_timeout = 3
wal_log_hints = on
CONF
	$node->append_conf('postgresql.conf',
		"include_if_exists 'pg_ha.dynamic.conf'\ninclude_if_exists 'pg_ha.runtime.conf'\n");
	$node->{pg_ha_api_port} = $api_port;
	return $node;
}

# Sends raw bytes (or a method+path) and returns the whole reply (status,
# raw text).  Closes after one reply, like Patroni's HTTP/1.0.
sub http_request
{
	my ($port, $raw, %opt) = @_;
	my $sock = IO::Socket::INET->new(
		PeerAddr => '127.0.0.1',
		PeerPort => $port,
		Proto => 'tcp',
		Timeout => 5) or return (0, "connect failed: $!");
	$sock->autoflush(1);
	print $sock $raw if defined $raw;
	shutdown($sock, 1) if $opt{half_close};
	my $reply = '';
	my $deadline = time + ($opt{timeout} // 10);
	my $sel = IO::Select->new($sock);
	while ((my $left = $deadline - time) > 0)
	{
		last unless $sel->can_read($left);
		my $n = sysread($sock, my $buf, 65536);
		last if !$n;    # EOF or error
		$reply .= $buf;
	}
	close $sock;
	my ($status) = $reply =~ m{^HTTP/1\.\d (\d{3})};
	return ($status // 0, $reply);
}

sub http_status
{
	my ($port, $method, $path) = @_;
	# health probes give up quickly: a frozen node must look down, not hang the test
	my ($status) = http_request($port, "$method $path HTTP/1.0\r\n\r\n", timeout => 2);
	return $status;
}

# An haproxy.cfg: TCP defaults, a stats page on stats_port, then listen (the
# test's "listen postgres" block).  connect and check: those timeouts
# (default 4s and 5s); defaults: more lines for the defaults section.
sub haproxy_config
{
	my (%o) = @_;
	my $connect = $o{connect} // '4s';
	my $check = $o{check} // '5s';
	return <<"CFG" . $o{listen};
global
  maxconn 100

defaults
@{[ $o{defaults} // '' ]}  mode tcp
  timeout client 30m
  timeout connect $connect
  timeout server 30m
  timeout check $check

listen stats
  mode http
  bind 127.0.0.1:$o{stats_port}
  stats enable
  stats uri /

CFG
}

# HAProxy's view of a proxy's servers, from its stats page's CSV:
# { server name => status (UP, DOWN, ...) }.
sub haproxy_status
{
	my ($stats_port, $proxy) = @_;
	my (undef, $csv) = http_request($stats_port, "GET /;csv HTTP/1.0\r\n\r\n");
	my %st;
	for (split /\n/, $csv)
	{
		my @f = split /,/;
		$st{$f[1]} = $f[17] if @f > 17 && $f[0] eq $proxy;
	}
	return \%st;
}

# Polls $cond every 0.1 s until true or $seconds pass.
sub wait_until
{
	my ($cond, $seconds, $what) = @_;
	my $deadline = time + $seconds;
	while (time < $deadline)
	{
		return 1 if $cond->();
		sleep 0.1;
	}
	diag("timed out after ${seconds}s waiting for: $what");
	return 0;
}

# The agent has no database connection (it is not in pg_stat_activity):
# find it among the postmaster's children by its process title.
sub agent_pid
{
	my ($node) = @_;
	my $pid = `pgrep -P $node->{_pid} -f 'pg_ha agent'`;
	chomp $pid;
	return $pid;
}

# Resident memory of a process in kB: (VmRSS, RssAnon).
sub rss_kb
{
	my ($pid) = @_;
	open my $fh, '<', "/proc/$pid/status" or return (undef, undef);
	my ($rss, $anon);
	while (<$fh>)
	{
		$rss = $1 if /^VmRSS:\s+(\d+)/;
		$anon = $1 if /^RssAnon:\s+(\d+)/;
	}
	return ($rss, $anon);
}

# A scalar field of a flat-ish JSON text ("key": value).
sub json_field
{
	my ($json, $key) = @_;
	return $1 if $json =~ /"\Q$key\E"\s*:\s*"((?:[^"\\]|\\.)*)"/;
	return $1 if $json =~ /"\Q$key\E"\s*:\s*([-\w.]+)/;
	return undef;
}

# A patronictl.yml for the test cluster (scope pg_ha_test) on $zk; its path.
sub patronictl_config
{
	my ($zk) = @_;
	my $conf = PostgreSQL::Test::Utils::tempdir('patronictl') . '/patronictl.yml';
	open my $fh, '>', $conf or die "$conf: $!";
	print $fh "scope: pg_ha_test\nnamespace: /service/\nzookeeper:\n  hosts: ['$zk->{hosts}']\n";
	close $fh;
	return $conf;
}

# Runs Debian's patronictl with that configuration (at most 90 s); returns
# (exit code, stdout, stderr).
sub run_patronictl
{
	my ($conf, @args) = @_;
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run(['timeout', '90', 'patronictl', '-c', $conf, @args],
		'<', \undef, '>', \$out, '2>', \$err);
	return ($ok ? 0 : $? >> 8, $out, $err);
}

1;
