# TcpForwarder: a small TCP relay a test can cut, to partition one node from
# ZooKeeper while everything else still reaches it.
#
# Cutting blackholes the relay: open connections stay open but carry no
# more bytes (no RST, like a real partition), new connections are accepted
# and starved.  Healing relays again (ZooKeeper's client then reconnects).
# It runs in a child process; cut/heal are signals to it.  Bounded: it exits
# by itself after `lifetime` seconds.
#
# Options: target_port (required), target_host (default 127.0.0.1),
# listen_host (default 127.0.0.1), listen_port (default: any free one),
# netns_pid: the relay listens here but connects from inside that process's
# user and network namespaces (a ZooKeeper server in its own network
# namespace, tests/perl/ZkEnsemble.pm).
package TcpForwarder;

use strict;
use warnings;
use IO::Select;
use IO::Socket::INET;
use POSIX ();

sub new
{
	my ($class, %opt) = @_;
	my $listen = IO::Socket::INET->new(
		LocalAddr => $opt{listen_host} // '127.0.0.1',
		LocalPort => $opt{listen_port} // 0,
		Listen => 64,
		ReuseAddr => 1) or die "forwarder: cannot listen: $!";
	my $port = $listen->sockport;
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		# the listening socket stays in this namespace; only new sockets
		# (the connections to the target) are made in the other one
		_enter_namespaces($opt{netns_pid}) if $opt{netns_pid};
		_serve($listen, $opt{target_host} // '127.0.0.1', $opt{target_port}, $opt{lifetime} // 1800);
		POSIX::_exit(0);
	}
	close $listen;
	return bless { pid => $pid, port => $port }, $class;
}

sub port { $_[0]{port} }
sub cut { kill 'USR1', $_[0]{pid} }
sub heal { kill 'USR2', $_[0]{pid} }

sub stop
{
	my ($self) = @_;
	return unless $self->{pid};
	kill 'TERM', $self->{pid};
	waitpid($self->{pid}, 0);
	$self->{pid} = undef;
}

sub DESTROY { $_[0]->stop }

# setns(2) into the user namespace, then the network namespace, of $pid
# (one we own: an unprivileged process may enter them).
sub _enter_namespaces
{
	my ($pid) = @_;
	require 'syscall.ph';
	for my $ns (['user', 0x10000000], ['net', 0x40000000])    # CLONE_NEWUSER, CLONE_NEWNET
	{
		open my $fh, '<', "/proc/$pid/ns/$ns->[0]" or die "forwarder: /proc/$pid/ns/$ns->[0]: $!";
		syscall(&SYS_setns, fileno($fh), $ns->[1]) == 0 or die "forwarder: setns $ns->[0] of $pid: $!";
		close $fh;
	}
}

sub _serve
{
	my ($listen, $target_host, $target_port, $lifetime) = @_;
	my $cut = 0;
	local $SIG{USR1} = sub { $cut = 1 };
	local $SIG{USR2} = sub { $cut = 0 };
	local $SIG{TERM} = sub { POSIX::_exit(0) };
	my %peer;    # fileno => socket at the other end
	my %sock;    # fileno => socket
	my $sel = IO::Select->new($listen);
	my $deadline = time + $lifetime;

	while (time < $deadline)
	{
		my @ready = $sel->can_read(0.05);
		for my $s (@ready)
		{
			if ($s == $listen)
			{
				my $c = $listen->accept or next;
				my $t = IO::Socket::INET->new(PeerAddr => $target_host, PeerPort => $target_port);
				if (!$t)
				{
					close $c;
					next;
				}
				$peer{fileno $c} = $t;
				$peer{fileno $t} = $c;
				$sock{fileno $c} = $c;
				$sock{fileno $t} = $t;
				$sel->add($c, $t);
				next;
			}
			next if $cut;    # blackhole: leave the bytes unread
			my $n = sysread($s, my $buf, 65536);
			my $p = $peer{fileno $s};
			if (!$n)
			{
				for my $x ($s, $p)
				{
					next unless $x;
					$sel->remove($x);
					delete $peer{fileno $x};
					delete $sock{fileno $x};
					close $x;
				}
				next;
			}
			syswrite($p, $buf) if $p;
		}
		select(undef, undef, undef, 0.05) if $cut;
	}
}

1;
