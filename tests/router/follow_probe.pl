#!/usr/bin/perl
# follow_probe.pl - the two measuring sides of tests/router/router_follow.sh:
#
#   follow_probe.pl master API_PORT OUTFILE SECONDS
#     polls GET /master on 127.0.0.1:API_PORT every 50 ms (each request bounded
#     to 0.5 s) until the first 200, then writes
#     "<ms the 200 arrived> <ms the poll before it was sent>" (epoch ms) to
#     OUTFILE and exits; the agent began answering 200 between the two.
#     Exits 1 after SECONDS without a 200.
#
#   follow_probe.pl writer PORT OUTFILE SECONDS
#     a write client through the router's write port 127.0.0.1:PORT (DBD::Pg,
#     autocommit; user postgres, password in PGPASSWORD): inserts into
#     follow_writes every 10 ms and appends
#     "<server port> <server clock, epoch ms>" per acknowledged insert to
#     OUTFILE; on any error it reconnects at once (the router holds it while
#     there is no primary).  Stops after SECONDS or on SIGTERM.
#
# Both use the machine's clock (the servers run on the same machine).
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);

my ($mode, $port, $out, $seconds) = @ARGV;
die "usage: $0 master|writer PORT OUTFILE SECONDS\n" unless defined $seconds;
my $deadline = time + $seconds;
my $stop = 0;
$SIG{TERM} = $SIG{INT} = sub { $stop = 1 };

sub ms { int(time * 1000) }

# One GET /master: the HTTP status, or 0 (no answer within 0.5 s).
sub master_status
{
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 0.5) or return 0;
	my $end = time + 0.5;
	print $s "GET /master HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
	my $sel = IO::Select->new($s);
	my $buf = '';
	while ($buf !~ /\r?\n/ && (my $left = $end - time) > 0)
	{
		last unless $sel->can_read($left);
		my $n = sysread($s, $buf, 256, length $buf);
		last unless $n;
	}
	close $s;
	return $buf =~ m{^HTTP/1\.\d (\d{3})} ? $1 : 0;
}

if ($mode eq 'master')
{
	my $prev_sent = ms();
	while (!$stop && time < $deadline)
	{
		my $sent = ms();
		if (master_status() == 200)
		{
			open my $fh, '>', "$out.tmp" or die "$out: $!";
			print $fh ms(), " $prev_sent\n";
			close $fh;
			rename "$out.tmp", $out or die "rename $out: $!";
			exit 0;
		}
		$prev_sent = $sent;
		my $pause = $sent / 1000 + 0.05 - time;
		sleep $pause if $pause > 0;
	}
	exit 1;
}
elsif ($mode eq 'writer')
{
	require DBI;
	open my $fh, '>>', $out or die "$out: $!";
	$fh->autoflush(1);
	my $dsn = "dbi:Pg:host=127.0.0.1;port=$port;dbname=postgres;connect_timeout=15";
	my $dbh;
	my $attempts = 0;
	while (!$stop && time < $deadline && $attempts < 1_000_000)
	{
		$attempts++;
		$dbh //= DBI->connect($dsn, 'postgres', $ENV{PGPASSWORD},
			{ AutoCommit => 1, RaiseError => 0, PrintError => 0 });
		if (!$dbh)
		{
			sleep 0.01;		# refused at once (no router?): do not spin
			next;
		}
		my $row = $dbh->selectrow_arrayref(
			"insert into follow_writes default values returning current_setting('port'), "
			  . "(extract(epoch from clock_timestamp()) * 1000)::bigint");
		if ($row)
		{
			print $fh "$row->[0] $row->[1]\n";
			sleep 0.01;
		}
		else
		{
			$dbh->disconnect;
			$dbh = undef;
		}
	}
	exit 0;
}
die "unknown mode $mode\n";
