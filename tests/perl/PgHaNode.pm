# PgHaNode: one pg_ha node run by pg_ha_supervisor, for the failover tests.
#
# The node's configuration is a real node.conf (the format users write);
# the supervisor bootstraps or clones the data directory itself.  Every
# wait is bounded; processes are ended by PID.
package PgHaNode;

use strict;
use warnings;
use IPC::Run ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Time::HiRes qw(time sleep);
use PgHaTest;

our $SUPERUSER_PASSWORD = 'pg-ha-test';
$ENV{PGPASSWORD} = $SUPERUSER_PASSWORD;
$ENV{PGCONNECT_TIMEOUT} = 3;

# %opt: name, zk_hosts, extra (conf lines), port, api_port, api_listen
# (default 127.0.0.1:api_port),
# ttl / loop_wait / retry_timeout (default 6 / 1 / 3), wal_keep_size and
# max_slot_wal_keep_size (default 256MB and 1GB; a node file sets a
# parameter only once), wal_keep (instead: the whole line that keeps WAL for
# replicas, default pg.wal_keep_size = 256MB)
sub new
{
	my ($class, %opt) = @_;
	my $self = bless {%opt}, $class;
	$self->{dir} = PostgreSQL::Test::Utils::tempdir("node_$opt{name}");
	$self->{port} //= PostgreSQL::Test::Cluster::get_free_port();
	$self->{api_port} //= PostgreSQL::Test::Cluster::get_free_port();
	$self->{data} = "$self->{dir}/data";
	$self->{conf} = "$self->{dir}/node.conf";
	$self->write_conf;
	return $self;
}

sub write_conf
{
	my ($self) = @_;
	open my $fh, '>', $self->{conf} or die "$self->{conf}: $!";
	print $fh <<"CONF" . ($self->{extra} // '');
name = $self->{name}
scope = pg_ha_test
zk_hosts = $self->{zk_hosts}
data_dir = $self->{data}
listen_addresses = 127.0.0.1
port = $self->{port}
connect_address = 127.0.0.1:$self->{port}
api_listen = @{[ $self->{api_listen} // "127.0.0.1:$self->{api_port}" ]}
superuser = postgres
superuser_password = $SUPERUSER_PASSWORD
replication_user = replicator
replication_password = rep-secret
ttl = @{[ $self->{ttl} // 6 ]}
loop_wait = @{[ $self->{loop_wait} // 1 ]}
retry_timeout = @{[ $self->{retry_timeout} // 3 ]}
log_file = $self->{dir}/postgres.log
pg.unix_socket_directories = '$self->{dir}'
@{[ $self->{wal_keep} // ('pg.wal_keep_size = ' . ($self->{wal_keep_size} // '256MB')) ]}
pg.max_slot_wal_keep_size = @{[ $self->{max_slot_wal_keep_size} // '1GB' ]}
pg.max_wal_senders = 10
pg.shared_buffers = 16MB
pg.fsync = off
hba = host all all 127.0.0.1/32 scram-sha-256
hba = host replication replicator 127.0.0.1/32 scram-sha-256
CONF
	close $fh;
}

sub name { $_[0]{name} }
sub port { $_[0]{port} }
sub api_port { $_[0]{api_port} }

sub start
{
	my ($self) = @_;
	open my $log, '>>', "$self->{dir}/supervisor.log";
	print $log "==== start " . localtime() . "\n";
	close $log;
	$self->{h} = IPC::Run::start(['pg_ha_supervisor', '-c', $self->{conf}],
		'<', '/dev/null', '>>', "$self->{dir}/supervisor.log", '2>>', "$self->{dir}/supervisor.log");
	$self->{pid} = $self->{h}{KIDS}[0]{PID};
	return $self;
}

sub supervisor_pid { $_[0]{pid} }

sub running { my $p = $_[0]{pid}; return $p && kill(0, $p) }

# SIGTERM to the supervisor (what docker stop sends); waits for it to exit.
sub stop
{
	my ($self, $seconds) = @_;
	return 1 unless $self->{h};
	kill 'TERM', $self->{pid};
	my $ok = PgHaTest::wait_until(sub { !$self->{h}->pumpable || !kill(0, $self->{pid}) }, $seconds // 60,
		"supervisor $self->{name} to exit");
	$self->{h}->finish if $ok;
	if (!$ok)
	{
		$self->{h}->kill_kill;
	}
	$self->{h} = undef;
	$self->{pid} = undef;
	return $ok;
}

sub postmaster_pid
{
	my ($self) = @_;
	open my $fh, '<', "$self->{data}/postmaster.pid" or return undef;
	my $pid = <$fh>;
	chomp $pid if defined $pid;
	return ($pid && kill(0, $pid)) ? $pid : undef;
}

# All processes of the node: the supervisor and postgres with its children.
sub all_pids
{
	my ($self) = @_;
	my @pids = grep { defined } ($self->{pid}, $self->postmaster_pid);
	my $pm = $self->postmaster_pid;
	push @pids, split /\s+/, `pgrep -P $pm` if $pm;
	return grep { /^\d+$/ } @pids;
}

sub psql
{
	my ($self, $sql, %opt) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run(['psql', '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1',
			'-h', '127.0.0.1', '-p', $self->{port}, '-U', 'postgres', '-d', 'postgres',
			'-c', $sql], '>', \$out, '2>', \$err, IPC::Run::timeout($opt{timeout} // 30));
	chomp $out;
	return wantarray ? ($?, $out, $err) : $out;
}

sub http { PgHaTest::http_status($_[0]{api_port}, 'GET', $_[1]) }
sub is_primary { $_[0]->http('/primary') == 200 }
sub is_replica { $_[0]->http('/replica') == 200 }

sub in_recovery { scalar $_[0]->psql('SELECT pg_is_in_recovery()') }

# Does this node stream from $leader (as the leader sees it)?  A node that
# answers /replica may still be on its way (fenced, or being rewound).
sub streams_from
{
	my ($self, $leader) = @_;
	return $leader->psql("SELECT count(*) FROM pg_stat_replication WHERE application_name = '$self->{name}' AND state = 'streaming'") eq '1';
}

sub supervisor_log { PostgreSQL::Test::Utils::slurp_file("$_[0]{dir}/supervisor.log") }
sub postgres_log { -f "$_[0]{dir}/postgres.log" ? PostgreSQL::Test::Utils::slurp_file("$_[0]{dir}/postgres.log") : '' }

sub DESTROY
{
	my ($self) = @_;
	if ($self->{pid} && kill(0, $self->{pid}))
	{
		kill 'QUIT', $self->{pid};
		my $pm = $self->postmaster_pid;
		kill 'QUIT', $pm if $pm;
	}
}

# --- the cluster as a whole --------------------------------------------

# Starts the nodes, the first alone until it leads, then the others as its
# replicas (two checks that count as tests); creates the extension on the
# leader.
sub start_cluster
{
	my ($first, @rest) = @_;
	my $names = join(' and ', map { $_->name } @rest);

	$first->start;
	Test::More::ok(PgHaTest::wait_until(sub { $first->is_primary }, 60, $first->name . ' leads'),
		$first->name . ' bootstraps and leads');
	$_->start for @rest;
	Test::More::ok(PgHaTest::wait_until(sub { !grep { !$_->is_replica } @rest }, 120, 'replicas'),
		"$names are replicas");
	$first->psql('CREATE EXTENSION pg_ha');
}

# The node answering 200 on /primary, when exactly one does.
sub primary_of
{
	my (@nodes) = @_;
	my @p = grep { $_->running && $_->is_primary } @nodes;
	return @p == 1 ? $p[0] : undef;
}

1;
