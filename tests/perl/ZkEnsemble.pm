# ZkEnsemble: a real three-server ZooKeeper ensemble (Debian's zookeeper,
# QuorumPeerMain) for the TAP tests, each server in its own network
# namespace, so that a test can stop one server, or really cut one from the
# other two (its quorum and election connections included).
#
# No root needed: the test runs as the postgres user, so the namespaces are
# an unprivileged user namespace ("hub", mapped to root inside) with a
# bridge, and one network namespace per server, joined to the bridge by a
# veth pair (server N is 10.77.0.1N, ports 2181/2888/3888).  Nothing of
# this is visible outside: the namespaces vanish with their processes.
#
# The agents reach the servers through TcpForwarder relays that listen on
# 127.0.0.1N in the test's own namespace and connect from inside server N's
# namespace: client_hosts($tag) gives one node its own relays (a zk_hosts
# value), which the test can cut per node and server, independently of the
# links between the servers (isolate/rejoin: an nftables drop on the
# bridge, packets lost without a reset, like a real partition).
#
# Everything started is ended by PID (an END block too, when a test dies);
# every process is bounded by `lifetime`; every wait is bounded.
package ZkEnsemble;

use strict;
use warnings;
use POSIX ();
use PostgreSQL::Test::Utils ();
use Time::HiRes qw(time sleep);
use PgHaTest;
use TcpForwarder;

my @live;    # ensembles to clean up at exit

my $jar = '/usr/share/java/zookeeper.jar';

# %opt: servers (3), lifetime (s, default 900)
sub new
{
	my ($class, %opt) = @_;
	my $self = bless {
		n => $opt{servers} // 3,
		lifetime => $opt{lifetime} // 900,
		dir => PostgreSQL::Test::Utils::tempdir('zk_ensemble'),
		relays => {},
		zk => {},
		ns => {},
		owner => $$,
	}, $class;
	push @live, $self;
	$self->_net_up;
	$self->_configure($_) for 1 .. $self->{n};
	# zk_cli/zk_get (PgHaTest) read {hosts}: relays of the test's own
	$self->{hosts} = $self->client_hosts('admin');
	return $self;
}

# Why an ensemble cannot run here (no unprivileged user and network
# namespaces, no nft), or undef when it can.
sub unavailable
{
	my $probe = 'ip link add br0 type bridge && nft add table bridge probe';
	return undef if system('unshare', '--user', '--map-root-user', '--net', 'sh', '-c', "$probe 2>/dev/null") == 0;
	return 'unprivileged user and network namespaces with a bridge and nftables are not available '
	  . '(unshare --user --map-root-user --net; ip; nft)';
}

sub servers { 1 .. $_[0]{n} }
sub address { "10.77.0.1$_[1]" }

# --- processes and namespaces ---------------------------------------------

# fork + exec, output appended to $log; returns the PID (exec keeps it).
sub _spawn
{
	my ($log, @cmd) = @_;
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		open STDIN, '<', '/dev/null';
		open STDOUT, '>>', $log or POSIX::_exit(127);
		open STDERR, '>&', \*STDOUT;
		{ no warnings 'exec'; exec { $cmd[0] } @cmd; }
		POSIX::_exit(127);
	}
	return $pid;
}

sub _ns_cmd
{
	my ($pid, @cmd) = @_;
	return ('nsenter', '-t', $pid, '-U', '-n', '--preserve-credentials', @cmd);
}

# Runs a command inside the namespaces of $pid; dies on failure.
sub _in_ns
{
	my ($self, $pid, $sh) = @_;
	system(_ns_cmd($pid, 'sh', '-ec', $sh)) == 0 or die "in namespace of $pid: '$sh' failed";
}

# Waits until $pid has exec'd sleep (its namespaces then exist).
sub _wait_holder
{
	my ($pid, $what) = @_;
	PgHaTest::wait_until(sub {
		open my $fh, '<', "/proc/$pid/comm" or return 0;
		my $c = <$fh> // '';
		return $c =~ /^sleep/;
	}, 10, $what) or die "namespace holder for $what did not start";
}

sub _net_up
{
	my ($self) = @_;
	my $log = "$self->{dir}/net.log";
	$self->{hub} = _spawn($log, 'unshare', '--user', '--map-root-user', '--net', 'sleep', $self->{lifetime});
	_wait_holder($self->{hub}, 'hub');
	$self->_in_ns($self->{hub}, 'ip link set lo up; ip link add br0 type bridge; '
		  . 'ip addr add 10.77.0.1/24 dev br0; ip link set br0 up; '
		  . 'nft add table bridge pgha; '
		  . "nft add chain bridge pgha cut '{ type filter hook forward priority 0; }'");
	for my $i ($self->servers)
	{
		my $pid = _spawn($log, _ns_cmd($self->{hub}, 'unshare', '--net', 'sleep', $self->{lifetime}));
		_wait_holder($pid, "server $i");
		$self->{ns}{$i} = $pid;
		$self->_in_ns($self->{hub}, "ip link add vz$i type veth peer name eth0 netns $pid; "
			  . "ip link set vz$i master br0; ip link set vz$i up");
		$self->_in_ns($pid, 'ip link set lo up; ip addr add ' . $self->address($i)
			  . '/24 dev eth0; ip link set eth0 up');
	}
}

sub _configure
{
	my ($self, $i) = @_;
	my $d = "$self->{dir}/zk$i";
	mkdir $d;
	mkdir "$d/data";
	open my $id, '>', "$d/data/myid" or die "$d/data/myid: $!";
	print $id "$i\n";
	close $id;
	# tickTime 500 ms as scripts/zk.sh (sessions from 1 s to 60 s); a
	# follower gives up on a silent leader after syncLimit (2 s)
	open my $cfg, '>', "$d/zoo.cfg" or die "$d/zoo.cfg: $!";
	print $cfg "tickTime=500\ninitLimit=10\nsyncLimit=4\ndataDir=$d/data\n"
	  . "clientPort=2181\nclientPortAddress=" . $self->address($i) . "\n"
	  . "minSessionTimeout=1000\nmaxSessionTimeout=60000\nadmin.enableServer=false\n"
	  . "4lw.commands.whitelist=ruok,srvr,stat,mntr,cons\n"
	  . join('', map { "server.$_=" . $self->address($_) . ":2888:3888\n" } $self->servers);
	close $cfg;
}

# Starts server $i (QuorumPeerMain) in its namespace; does not wait.
sub start
{
	my ($self, $i) = @_;
	return if $self->{zk}{$i};
	my $d = "$self->{dir}/zk$i";
	# timeout bounds the server's life and passes our SIGTERM on to it
	$self->{zk}{$i} = _spawn("$d/zookeeper.out", _ns_cmd($self->{ns}{$i},
		'timeout', $self->{lifetime}, 'java', '-Xmx128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1',
		"-Dzookeeper.log.dir=$d", '-Dlog4j.configuration=file:/etc/zookeeper/conf/log4j.properties',
		# a peer that does not answer costs an election 1 s, not 5 s
		'-Dzookeeper.cnxTimeout=1000',
		'-cp', "$jar:/etc/zookeeper/conf", 'org.apache.zookeeper.server.quorum.QuorumPeerMain', "$d/zoo.cfg"));
}

sub start_all
{
	my ($self, $seconds) = @_;
	$self->start($_) for $self->servers;
	return PgHaTest::wait_until(sub { $self->leader && $self->serving == $self->{n} }, $seconds // 60,
		'the ensemble to serve');
}

# Stops server $i (SIGTERM, then SIGKILL after 10 s) and reaps it.
sub stop
{
	my ($self, $i) = @_;
	my $pid = delete $self->{zk}{$i} or return;
	kill 'TERM', $pid;
	my $gone = PgHaTest::wait_until(sub { waitpid($pid, POSIX::WNOHANG()) != 0 }, 10, "ZooKeeper $i to exit");
	if (!$gone)
	{
		kill 'KILL', $pid;
		waitpid($pid, 0);
	}
}

sub running { exists $_[0]{zk}{$_[1]} }

# --- what the servers say ---------------------------------------------------

# A four-letter word to server $i, asked inside its own namespace (so it
# answers even while the server is cut off).  Returns the reply ('' if none).
sub four
{
	my ($self, $i, $word) = @_;
	my $addr = $self->address($i);
	# (a server starting or stopped refuses: no reply, and no noise)
	my @cmd = _ns_cmd($self->{ns}{$i}, 'timeout', '2', 'bash', '-c',
		"exec 2>/dev/null; exec 3<>/dev/tcp/$addr/2181 && printf $word >&3 && cat <&3");
	open my $fh, '-|', @cmd or return '';
	local $/;
	my $out = <$fh> // '';
	close $fh;
	return $out;
}

# 'leader', 'follower', 'down' (no quorum, not serving) or 'stopped'.
sub mode
{
	my ($self, $i) = @_;
	return 'stopped' unless $self->running($i);
	my $srvr = $self->four($i, 'srvr');
	return $1 if $srvr =~ /^Mode: (\w+)/m;
	return 'down';
}

sub leader
{
	my ($self) = @_;
	my @l = grep { $self->mode($_) eq 'leader' } $self->servers;
	return @l == 1 ? $l[0] : undef;
}

# How many servers serve clients (leader or follower).
sub serving
{
	my ($self) = @_;
	return scalar grep { $self->mode($_) =~ /^(leader|follower)$/ } $self->servers;
}

# The server a session (its id as a number) is connected to, or undef.
sub server_of_session
{
	my ($self, $session) = @_;
	my $hex = sprintf('0x%x', $session);
	for my $i (grep { $self->running($_) } $self->servers)
	{
		return $i if $self->four($i, 'cons') =~ /sid=\Q$hex\E\b/i;
	}
	return undef;
}

# --- the network -------------------------------------------------------------

# Relays for one client (a node): a zk_hosts value listing all servers.
sub client_hosts
{
	my ($self, $tag) = @_;
	my @hosts;
	for my $i ($self->servers)
	{
		my $f = TcpForwarder->new(listen_host => "127.0.0.1$i", target_host => $self->address($i),
			target_port => 2181, netns_pid => $self->{ns}{$i}, lifetime => $self->{lifetime});
		$self->{relays}{$tag}{$i} = $f;
		push @hosts, "127.0.0.1$i:" . $f->port;
	}
	return join(',', @hosts);
}

# Blackholes (cut) or relays again (heal) client $tag's path to servers @s.
sub cut_client { my ($self, $tag, @s) = @_; $self->{relays}{$tag}{$_}->cut for @s }
sub heal_client { my ($self, $tag, @s) = @_; $self->{relays}{$tag}{$_}->heal for @s }

# Cuts server $i off from the other servers (quorum and election links):
# every frame from or to its bridge port is dropped.
sub isolate
{
	my ($self, $i) = @_;
	$self->_in_ns($self->{hub}, "nft add rule bridge pgha cut iifname vz$i drop; "
		  . "nft add rule bridge pgha cut oifname vz$i drop");
}

sub rejoin
{
	my ($self) = @_;
	$self->_in_ns($self->{hub}, 'nft flush chain bridge pgha cut');
}

# --- cleanup -----------------------------------------------------------------

sub shutdown
{
	my ($self) = @_;
	# a forked child (a Writer that dies) must not end the parent's servers
	return unless $$ == $self->{owner};
	$self->stop($_) for keys %{ $self->{zk} };
	for my $tag (keys %{ $self->{relays} })
	{
		$_->stop for values %{ $self->{relays}{$tag} };
	}
	$self->{relays} = {};
	for my $pid (grep { defined } (values %{ $self->{ns} }), $self->{hub})
	{
		kill 'TERM', $pid;
		waitpid($pid, 0);
	}
	$self->{ns} = {};
	$self->{hub} = undef;
}

END
{
	local $?;
	$_->shutdown for @live;
	@live = ();
}

1;
