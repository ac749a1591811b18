# Writer: a client that keeps inserting unique values into the cluster's
# current primary (or, with `fixed`, into one given node) and records every acknowledged commit, to check that no
# acknowledged commit is ever lost (S2) and to measure unavailability.
#
# It runs in a child process.  It finds the primary by asking each node's
# /primary (like a router would), connects with DBD::Pg (autocommit), and
# inserts v = 1, 2, 3, ... into pg_ha_acked(v, node, at).  Each success is
# appended to the ack file as "v node epoch_seconds"; failures reconnect.
# Bounded: stops after `seconds` or on stop().
package Writer;

use strict;
use warnings;
use DBI;
use DBD::Pg qw(:async);
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Test::More;
use Time::HiRes qw(time sleep);

sub new
{
	my ($class, %opt) = @_;
	my $self = bless {%opt}, $class;
	$self->{ackfile} //= "$opt{dir}/acked.txt";
	unlink $self->{ackfile};
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		$self->_run;
		POSIX::_exit(0);
	}
	$self->{pid} = $pid;
	return $self;
}

sub stop
{
	my ($self) = @_;
	return unless $self->{pid};
	kill 'TERM', $self->{pid};
	waitpid($self->{pid}, 0);
	$self->{pid} = undef;
}

sub DESTROY { $_[0]->stop }

# The acknowledged commits: list of [v, node, time].
sub acked
{
	my ($self) = @_;
	open my $fh, '<', $self->{ackfile} or return ();
	return map { chomp; [split / /] } <$fh>;
}

# Which of the given acknowledged commits ([v, node, time], default: all of
# this writer's) are missing from $node's pg_ha_acked: their values.
sub missing_on
{
	my ($self, $node, @acked) = @_;
	@acked = $self->acked unless @acked;
	my %have = map { $_ => 1 } split /\n/, $node->psql('SELECT v FROM pg_ha_acked');
	return grep { !$have{$_} } map { $_->[0] } @acked;
}

# One test: every commit acknowledged so far is on $node (S2).
sub check_no_loss
{
	my ($self, $node, $what) = @_;
	my @acked = $self->acked;
	my @lost = $self->missing_on($node, @acked);
	is(scalar(@lost), 0, "$what: all " . scalar(@acked) . ' acknowledged commits are on ' . $node->name)
	  or diag('lost: ' . join(',', @lost[0 .. ($#lost < 20 ? $#lost : 19)]));
}

sub _primary_status
{
	my ($api_port) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $api_port, Timeout => 1)
	  or return 0;
	print $s "GET /primary HTTP/1.0\r\n\r\n";
	# a frozen node accepts (its kernel does) but never answers: bound the wait
	my $line = IO::Select->new($s)->can_read(1) ? (<$s> // '') : '';
	close $s;
	return $line =~ m{^HTTP/1\.\d (\d+)} ? $1 : 0;
}

my $last_error = '';

# One INSERT with a client-side timeout (the server's statement_timeout
# does not help when the server itself is frozen).  True when committed.
sub _insert
{
	my ($dbh, $v, $node, $timeout) = @_;
	# (no bind values: DBD::Pg runs a statement with them synchronously)
	$dbh->do('INSERT INTO pg_ha_acked(v, node) VALUES (' . int($v) . ', ' . $dbh->quote($node) . ')',
		{ pg_async => PG_ASYNC }) or return 0;
	my $deadline = time + $timeout;
	while (!$dbh->pg_ready)
	{
		if (time > $deadline)
		{
			$last_error = 'client-side timeout';
			return 0;
		}
		sleep 0.001;
	}
	my $rv = $dbh->pg_result;
	return 1 if defined $rv && $rv == 1;
	$last_error = $dbh->errstr // 'no result';
	return 0;
}

sub _run
{
	my ($self) = @_;
	my $stop = 0;
	local $SIG{TERM} = sub { $stop = 1 };
	my $deadline = time + ($self->{seconds} // 300);
	my ($dbh, $node);
	my $v = 0;
	open my $ack, '>>', $self->{ackfile} or die "ack file: $!";
	$ack->autoflush(1);

	while (!$stop && time < $deadline)
	{
		if (!$dbh)
		{
			# a fixed node (a client that only knows this server), or the primary
			($node) = $self->{fixed} ? ($self->{fixed})
			  : grep { _primary_status($_->{api_port}) == 200 } @{ $self->{nodes} };
			if (!$node)
			{
				sleep 0.02;
				next;
			}
			$dbh = DBI->connect("dbi:Pg:host=127.0.0.1;port=$node->{port};dbname=postgres;connect_timeout=2",
				'postgres', '', { AutoCommit => 1, RaiseError => 0, PrintError => 0 });
			if (!$dbh)
			{
				sleep 0.02;
				next;
			}
		}
		$v++;
		$v += $self->{offset} // 0 if $v == 1;
		my $ok = _insert($dbh, $v, $node->{name}, $self->{timeout} // 3);
		if ($ok)
		{
			printf $ack "%d %s %.3f\n", $v, $node->{name}, time;
		}
		else
		{
			# errors go to a side file, for a test that wants to know why
			if (open my $err, '>>', "$self->{ackfile}.errors")
			{
				printf $err "%d %s %.3f %s\n", $v, $node->{name}, time, $last_error =~ s/\s+/ /gr;
				close $err;
			}
			if ($last_error eq 'client-side timeout')
			{
				# a hung server (frozen, partitioned) must not hang the
				# client: close the socket without talking to it
				POSIX::close($dbh->{pg_socket});
				$dbh->{InactiveDestroy} = 1;
			}
			else
			{
				$dbh->disconnect;
			}
			$dbh = undef;
		}
		sleep($self->{interval} // 0.01);
	}
	close $ack;
}

1;
