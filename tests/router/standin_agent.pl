#!/usr/bin/perl
# standin_agent.pl - TEMPORARY STAND-IN for the pg_ha agent's HTTP health API,
# used by the router tests and bench until the real agent is ready (the lead
# will switch the tests to real agents).  It is NOT the agent: it serves
# what a state file says, so a test can flip roles by rewriting one file.
#
#   standin_agent.pl --port 16411 --state-file /tmp/x/state [--no-watch]
#
# State file: first word primary | replica | down | garbage | hang, optional
# second word a leader epoch.  Endpoints (GET/HEAD/OPTIONS, HTTP/1.0, closed
# after the reply): /, /master, /primary, /leader -> 200 when primary;
# /replica -> 200 when replica; /watch?primary=0|1&timeout=S -> held until the
# primary state differs from the given value or S seconds pass, then 200/503
# with {"role":..,"primary":..,"leader_epoch":..} (404 with --no-watch).
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Getopt::Long;
use Time::HiRes qw(time);

my ($port, $state_file, $no_watch) = (0, '', 0);
GetOptions('port=i' => \$port, 'state-file=s' => \$state_file, 'no-watch' => \$no_watch)
	or die "usage: $0 --port P --state-file F [--no-watch]\n";
die "need --port and --state-file\n" unless $port && $state_file;
$SIG{PIPE} = 'IGNORE';

my $listener = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
	Listen => 128, ReuseAddr => 1, Blocking => 0) or die "listen $port: $!\n";
my $select = IO::Select->new($listener);
my %conns;	# fileno -> { sock, buf, watch => { primary, deadline } }

sub read_state {
	open(my $fh, '<', $state_file) or return ('down', 0);
	my $line = <$fh> // '';
	close $fh;
	my ($state, $epoch) = split ' ', $line;
	return ($state // 'down', $epoch // 0);
}

sub finish {
	my ($fd, $text) = @_;
	my $c = delete $conns{$fd} or return;
	$select->remove($c->{sock});
	$c->{sock}->blocking(1);
	print {$c->{sock}} $text if defined $text;
	close $c->{sock};
}

sub reply {
	my ($fd, $code, $body, $head_only) = @_;
	my $reason = $code == 200 ? 'OK' : $code == 404 ? 'Not Found' : 'Service Unavailable';
	return finish($fd, "HTTP/1.0 $code $reason\r\n\r\n") if $head_only;
	finish($fd, "HTTP/1.0 $code $reason\r\nContent-Type: application/json\r\n"
		. "Content-Length: " . length($body) . "\r\n\r\n$body");
}

sub watch_body {
	my ($state, $epoch) = @_;
	my $primary = $state eq 'primary' ? 'true' : 'false';
	my $role = $state eq 'primary' ? 'master' : 'replica';
	return qq({"role":"$role","primary":$primary,"leader_epoch":$epoch});
}

sub handle_request {
	my ($fd) = @_;
	my $c = $conns{$fd};
	my ($method, $target) = $c->{buf} =~ m{^(\S+) (\S+) HTTP/1\.\d} or return finish($fd);
	my ($path, $query) = split /\?/, $target, 2;
	my ($state, $epoch) = read_state();
	return finish($fd, "garbage\r\n\r\n") if $state eq 'garbage';
	if ($state eq 'hang') { $c->{hang} = 1; return; }
	my $head_only = $method ne 'GET';
	if ($path eq '/watch') {
		return reply($fd, 404, '{}', $head_only) if $no_watch;
		my ($want) = ($query // '') =~ /primary=([01])/;
		my ($timeout) = ($query // '') =~ /timeout=(\d+)/;
		$c->{watch} = { primary => $want // 0, deadline => time + ($timeout // 30) };
		return;
	}
	my $code = 503;
	$code = 200 if $state eq 'primary' && $path =~ m{^/(master|primary|leader|read-write)?$};
	$code = 200 if $state eq 'replica' && $path =~ m{^/(replica|read-only)$};
	reply($fd, $code, qq({"state":"running","role":"$state"}), $head_only);
}

for (my $i = 0; ; $i++) {
	for my $sock ($select->can_read(0.02)) {
		if ($sock == $listener) {
			while (my $client = $listener->accept) {
				$client->blocking(0);
				$select->add($client);
				$conns{fileno $client} = { sock => $client, buf => '' };
			}
			next;
		}
		my $fd = fileno $sock;
		my $c = $conns{$fd} or next;
		my $n = sysread($sock, my $chunk, 4096);
		if (!defined $n || $n == 0) { finish($fd); next; }
		$c->{buf} .= $chunk;
		next if $c->{watch} || $c->{hang};
		if (length($c->{buf}) > 8192) { finish($fd); next; }
		handle_request($fd) if $c->{buf} =~ /\r?\n\r?\n/;
	}
	# held /watch requests: answer on a change of the primary state or at the deadline
	my ($state, $epoch) = read_state();
	my $is_primary = $state eq 'primary' ? 1 : 0;
	for my $fd (keys %conns) {
		my $w = $conns{$fd}{watch} or next;
		next unless $is_primary != $w->{primary} || time >= $w->{deadline};
		reply($fd, $is_primary ? 200 : 503, watch_body($state, $epoch), 0);
	}
}
