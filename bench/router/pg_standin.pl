#!/usr/bin/perl
# pg_standin.pl PORT - a connection-holding stand-in for postgres, for the
# idle-session memory test of bench/router/run.sh: it accepts connections,
# answers each startup packet with AuthenticationOk and ReadyForQuery (what
# a trust-authenticated postgres sends, less the parameters) and holds the
# connection until the client closes it.  10,000 real postgres backends do
# not fit this machine (about 2 MB each); the proxies relay bytes without
# looking at them, so what they spend per session is the same.
# Exits by itself after an hour at the latest.
use strict;
use warnings;
use IO::Socket::INET;

my $port = shift or die "usage: pg_standin.pl PORT\n";
$SIG{PIPE} = 'IGNORE';
alarm 3600;
my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port, Listen => 4096,
	ReuseAddr => 1) or die "listen $port: $!\n";
my @held;
while (my $c = $l->accept) {
	# the startup packet: length (4 bytes, itself included), then the rest
	my $got = '';
	while (length($got) < 4) { sysread($c, $got, 4 - length($got), length($got)) or last; }
	next if length($got) < 4;
	my $len = unpack('N', $got);
	while (length($got) < $len) { sysread($c, $got, $len - length($got), length($got)) or last; }
	syswrite($c, pack('aNN', 'R', 8, 0) . pack('aNa', 'Z', 5, 'I'));
	push @held, $c;
}
