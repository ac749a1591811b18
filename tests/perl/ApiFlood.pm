# ApiFlood: a connection flood against an HTTP port, in a child process.
#
# It holds `idle` connections that never send a byte and `slow` ones that
# send one byte of an endless request every `byte_ms`, all from `source`
# (127.0.0.1 unless given), reopening each one at once when the server
# closes it -- what an attacker with a ten-line script does.  A status file
# reports how many are open, how often they were reopened and how many
# bytes the slow ones sent.  Used by tests/t/030_api_flood.pl and
# bench/api-flood/ (against an agent), tests/router/stats_flood.sh (against
# the router's stats port).  The child ends by itself after `seconds` (+30 s).
package ApiFlood;

use strict;
use warnings;
use Errno qw(EAGAIN EINPROGRESS EWOULDBLOCK);
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);
use IO::Poll qw(POLLIN POLLERR POLLHUP);
use Socket qw(AF_INET SOCK_STREAM IPPROTO_TCP TCP_NODELAY MSG_DONTWAIT MSG_NOSIGNAL
  inet_aton pack_sockaddr_in);
use Time::HiRes qw(time sleep);

# ApiFlood->new(port => P, idle => 1000, slow => 50, seconds => 60,
#               byte_ms => 20, source => '127.0.0.1', dir => DIR | status => FILE,
#               first_byte => 0|1)
# first_byte: each idle connection sends one byte ("G") as soon as it is
# connected, then nothing (defeats a server's TCP_DEFER_ACCEPT).
sub new
{
	my ($class, %o) = @_;
	my $self = bless {
		port => $o{port}, idle => $o{idle} // 1000, slow => $o{slow} // 50,
		seconds => $o{seconds} // 60, byte_ms => $o{byte_ms} // 20,
		host => $o{host} // '127.0.0.1', source => $o{source}, first_byte => $o{first_byte},
		status => $o{status} // ($o{dir} // '/tmp') . "/flood.$$.$o{port}.status" }, $class;
	unlink $self->{status};
	my $pid = fork() // die "fork: $!";
	if ($pid == 0)
	{
		eval { $self->_run };
		print STDERR "flood: $@" if $@;
		POSIX::_exit(0);
	}
	$self->{pid} = $pid;
	return $self;
}

# The child's last report: { open, idle_open, slow_open, reopened, max_open, bytes }.
sub status
{
	my ($self) = @_;
	open my $fh, '<', $self->{status} or return {};
	my %st = map { /^(\w+)=(\d+)$/ ? ($1, $2) : () } <$fh>;
	return \%st;
}

sub stop
{
	my ($self) = @_;
	my $pid = delete $self->{pid} or return;
	kill 'TERM', $pid;
	waitpid($pid, 0);
}

sub DESTROY { $_[0]->stop }

# One health request on a new connection: (status, seconds, reply or error).
sub probe
{
	my ($port, $path, $timeout) = @_;
	require PgHaTest;
	my $t0 = time;
	my ($status, $reply) = PgHaTest::http_request($port, "GET $path HTTP/1.0\r\n\r\n",
		timeout => $timeout // 1);
	return ($status, time - $t0, $reply);
}

# p50, p99 and max of a list of seconds, in milliseconds.
sub percentiles
{
	my @s = sort { $a <=> $b } @_;
	return (0, 0, 0) unless @s;
	my $at = sub { $s[ int($_[0] * $#s + 0.5) ] * 1000 };
	return ($at->(0.50), $at->(0.99), $s[-1] * 1000);
}

sub _open_one
{
	my ($self) = @_;
	socket(my $s, AF_INET, SOCK_STREAM, 0) or return undef;
	if ($self->{source})
	{
		bind($s, pack_sockaddr_in(0, inet_aton($self->{source}))) or return undef;
	}
	my $flags = fcntl($s, F_GETFL, 0);
	fcntl($s, F_SETFL, $flags | O_NONBLOCK);
	setsockopt($s, IPPROTO_TCP, TCP_NODELAY, 1);
	return $s if connect($s, pack_sockaddr_in($self->{port}, inet_aton($self->{host})));
	return $s if $! == EINPROGRESS || $! == EAGAIN;
	close $s;
	return undef;
}

sub _run
{
	my ($self) = @_;
	require POSIX;
	$SIG{TERM} = sub { POSIX::_exit(0) };
	$SIG{PIPE} = 'IGNORE';
	alarm($self->{seconds} + 30);
	# a soft limit of 1024 descriptors (runuser's default) is too few
	my $want = $self->{idle} + $self->{slow} + 64;
	system('prlimit', "--pid=$$", "--nofile=$want:") == 0
	  or die "prlimit --nofile=$want failed\n";
	my $end = time + $self->{seconds};
	my $request = "GET /health HTTP/1.0\r\nX-Slow: ";
	my (@conns, %st);    # conn: { sock, slow, pos }
	$st{$_} = 0 for qw(reopened max_open bytes);
	push @conns, { slow => 0 } for 1 .. $self->{idle};
	push @conns, { slow => 1 } for 1 .. $self->{slow};
	my ($next_byte, $next_report) = (0, 0);
	while (time < $end)
	{
		my $poll = IO::Poll->new;
		my $open = 0;
		for my $c (@conns)
		{
			if (!$c->{sock})
			{
				$c->{sock} = $self->_open_one or next;
				$c->{pos} = 0;
				$c->{first} = $self->{first_byte} && !$c->{slow};
				$st{reopened}++ if $c->{opened}++;
			}
			$open++;
			$poll->mask($c->{sock} => POLLIN);
		}
		$st{max_open} = $open if $open > $st{max_open};
		$poll->poll(0.01);
		for my $c (@conns)
		{
			next unless $c->{sock} && ($poll->events($c->{sock}) & (POLLIN | POLLERR | POLLHUP));
			my $n = sysread($c->{sock}, my $buf, 4096);
			next if !defined $n && ($! == EAGAIN || $! == EWOULDBLOCK);
			close $c->{sock};    # EOF, a reset, or an answer: the server is done with it
			$c->{sock} = undef;
		}
		for my $c (grep { $_->{first} && $_->{sock} } @conns)
		{
			# until the connect completes, send fails: try again next turn
			$c->{first} = 0 if send($c->{sock}, 'G', MSG_DONTWAIT | MSG_NOSIGNAL);
		}
		my $now = time;
		if ($now >= $next_byte)
		{
			for my $c (grep { $_->{slow} && $_->{sock} } @conns)
			{
				my $i = $c->{pos}++;
				my $byte = $i < length($request) ? substr($request, $i, 1) : 'a';
				my $n = send($c->{sock}, $byte, MSG_DONTWAIT | MSG_NOSIGNAL);
				$st{bytes}++ if $n;
			}
			$next_byte = $now + $self->{byte_ms} / 1000;
		}
		if ($now >= $next_report)
		{
			my $idle_open = grep { !$_->{slow} && $_->{sock} } @conns;
			my $slow_open = grep { $_->{slow} && $_->{sock} } @conns;
			open my $fh, '>', "$self->{status}.tmp" or die "status: $!";
			print $fh "open=$open\nidle_open=$idle_open\nslow_open=$slow_open\n",
			  map { "$_=$st{$_}\n" } sort keys %st;
			close $fh;
			rename "$self->{status}.tmp", $self->{status};
			$next_report = $now + 0.2;
		}
	}
}

1;
