# A three-server ZooKeeper ensemble under faults (tests/perl/ZkEnsemble.pm:
# real Debian zookeeper servers, each in its own network namespace; each
# agent lists all three in pg_ha.zk_hosts, through relays of its own).
#
# (a) a follower server stopped: nothing changes for the cluster (no fence,
#     writes acknowledged throughout, same leader, same session);
# (b) the ZooKeeper leader stopped: when the two others elect a new leader
#     within retry_timeout, no fence either (the election's time is printed);
# (c) quorum lost (two servers stopped): the primary fences within
#     retry_timeout, nobody is promoted, writes resume when the quorum is
#     back, and no acknowledged write is lost;
# (d) the primary cut from the majority while it still reaches the third
#     server, itself cut from the other two (no quorum): the primary fences,
#     the replica takes over after ttl, the old primary acknowledged nothing
#     after that, and after healing it rejoins as a replica; twice, with the
#     ZooKeeper leader as the minority server, and with a follower.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use Time::Local qw(timegm);
use PgHaTest;
use PgHaNode;
use Writer;
use ZkEnsemble;

if (my $why = ZkEnsemble::unavailable())
{
	plan skip_all => $why;
}

my ($ttl, $retry) = (6, 3);
my $ens = ZkEnsemble->new(lifetime => 900);
ok($ens->start_all(90), 'a three-server ZooKeeper ensemble serves');
diag('ZooKeeper modes: ' . join(' ', map { "$_=" . $ens->mode($_) } $ens->servers));

my $n1 = PgHaNode->new(name => 'e1', zk_hosts => $ens->client_hosts('e1'));
my $n2 = PgHaNode->new(name => 'e2', zk_hosts => $ens->client_hosts('e2'));
my @nodes = ($n1, $n2);
like($n1->{zk_hosts}, qr/^127\.0\.0\.11:\d+,127\.0\.0\.12:\d+,127\.0\.0\.13:\d+$/,
	'each agent lists the three servers');
$n1->start;
ok(wait_until(sub { $n1->is_primary }, 60, 'e1 leads'), 'e1 bootstraps and leads');
$n2->start;
ok(wait_until(sub { $n2->is_replica && $n2->streams_from($n1) }, 90, 'e2 replica'), 'e2 is a streaming replica');
$n1->psql('CREATE TABLE pg_ha_acked (v int PRIMARY KEY, node text, at timestamptz DEFAULT now())');

my $leader_key = '/service/pg_ha_test/leader';

# The ephemeral owner (session id) of a znode, as a number; undef if none.
sub owner_of
{
	my ($path) = @_;
	my $out = '';
	# zkCli runs its command even when the server it tried first is down
	# (ConnectionLoss): ask again, bounded, until it got an answer
	wait_until(sub { $out = zk_cli($ens, 'stat', $path); $out =~ /ephemeralOwner|Node does not exist/ }, 30,
		"zkCli stat $path");
	return $out =~ /ephemeralOwner = 0x([0-9a-f]+)/i ? hex($1) : undef;
}

sub fences { scalar(() = $_[0]->postgres_log =~ /role change: "\Q$_[0]{name}\E" stops accepting writes \(fence\)/g) }

# The longest time without an acknowledgement between $t0 and $t1 (the
# last acknowledgement before $t0 counts as the start).
sub ack_gap
{
	my ($w, $t0, $t1) = @_;
	my @t = map { $_->[2] } $w->acked;
	my ($prev) = reverse grep { $_ <= $t0 } @t;
	$prev //= $t0;
	my $gap = 0;
	for my $t ((grep { $_ > $t0 && $_ <= $t1 } @t), $t1)
	{
		$gap = $t - $prev if $t - $prev > $gap;
		$prev = $t;
	}
	return $gap;
}

# How long $node's agent was without a ZooKeeper connection after log
# offset $from: the longest time from "lost the connection" to "connected"
# in its log (0 if it never lost it).
sub zk_outage
{
	my ($node, $from) = @_;
	my ($lost, $longest) = (undef, 0);
	for (split /\n/, substr($node->postgres_log, $from))
	{
		next unless /^(\d+)-(\d+)-(\d+) (\d+):(\d+):(\d+(?:\.\d+)?) UTC .*pg_ha: (lost the connection|connected to ZooKeeper)/;
		my $t = timegm(0, $5, $4, $3, $2 - 1, $1) + $6;
		if ($7 eq 'lost the connection') { $lost //= $t }
		elsif (defined $lost)
		{
			$longest = $t - $lost if $t - $lost > $longest;
			$lost = undef;
		}
	}
	return $longest;
}

sub log_len { length($_[0]->postgres_log) }

# Samples both nodes every ~0.1 s for $seconds: how often e1 did not answer
# 200 on /primary, and how often e2 did.
sub watch_roles
{
	my ($seconds) = @_;
	my ($e1_not, $e2_primary, $samples) = (0, 0, 0);
	my $end = time + $seconds;
	while (time < $end)
	{
		$samples++;
		$e1_not++ unless $n1->is_primary;
		$e2_primary++ if $n2->is_primary;
		sleep 0.1;
	}
	return ($e1_not, $e2_primary, $samples);
}

my $dir = PostgreSQL::Test::Utils::tempdir('writers');
my %spec = map { $_->name => { name => $_->name, port => $_->port, api_port => $_->api_port } } @nodes;
my $w = Writer->new(dir => $dir, ackfile => "$dir/main.txt", nodes => [ @spec{qw(e1 e2)} ], seconds => 400);
ok(wait_until(sub { $w->acked >= 20 }, 30, 'acks'), 'a writer is writing through /primary');

my $session = owner_of($leader_key);
ok($session, sprintf('the leader key is held by session 0x%x', $session // 0));
is(zk_get($ens, $leader_key), 'e1', 'e1 holds the leader key');
my $fences0 = fences($n1);

# --- (a) one follower stopped ------------------------------------------------
{
	my $zl = $ens->leader;
	my $on = $ens->server_of_session($session);
	my $on2 = $ens->server_of_session(owner_of('/service/pg_ha_test/members/e2') // 0);
	my @followers = grep { $_ != $zl } $ens->servers;
	# the follower the primary is connected to, else the replica's
	my ($f) = (grep({ defined $on && $_ == $on } @followers), grep({ defined $on2 && $_ == $on2 } @followers),
		@followers);
	diag("(a) ZooKeeper leader is server $zl; e1's session is on server " . ($on // '?') . ", e2's on server "
		  . ($on2 // '?') . "; stopping follower $f");
	my ($t0, $log0) = (time, log_len($n1));
	$ens->stop($f);
	my ($e1_not, $e2_primary, $samples) = watch_roles($ttl + 1);
	my $gap = ack_gap($w, $t0, time);
	diag(sprintf('(a) follower %d stopped: longest time without an acknowledged write %.2f s; '
		  . 'e1 without a ZooKeeper connection for %.3f s; not 200 on /primary in %d of %d samples',
		$f, $gap, zk_outage($n1, $log0), $e1_not, $samples));
	is($ens->serving, 2, '(a) the other two servers still serve');
	like($ens->four($zl, 'mntr'), qr/^zk_synced_followers\s+1$/m, '(a) the ZooKeeper leader has one follower left');
	ok($gap < $retry, "(a) writes kept being acknowledged (no gap of retry_timeout, ${retry} s)");
	is(fences($n1), $fences0, '(a) no fence');
	is($e2_primary, 0, '(a) e2 never answered 200 on /primary');
	is($n2->in_recovery, 't', '(a) e2 is still a replica (no promotion)');
	ok($n1->is_primary, '(a) e1 is the primary');
	is(owner_of($leader_key), $session, '(a) the same session holds the leader key');
	my $now = $ens->server_of_session($session);
	ok(defined $now && $now != $f, "(a) e1's session is on a running server (" . ($now // '?') . ')');
	$ens->start($f);
	ok(wait_until(sub { $ens->serving == 3 }, 60, 'all three serve'), "(a) server $f is back in the ensemble");
}

# --- (b) the ZooKeeper leader stopped ------------------------------------------
{
	my $zl = $ens->leader;
	diag("(b) stopping the ZooKeeper leader, server $zl; e1's session is on server "
		  . ($ens->server_of_session($session) // '?'));
	my ($t0, $log0) = (time, log_len($n1));
	$ens->stop($zl);
	my $elected = wait_until(sub { $ens->leader && $ens->serving == 2 }, 30, 'a new ZooKeeper leader');
	my $election = time - $t0;
	ok($elected, '(b) the two other servers elect a new leader');
	diag(sprintf('(b) ZooKeeper leader %d stopped -> server %s leads: election took %.2f s',
		$zl, $ens->leader // '?', $election));
	my ($e1_not, $e2_primary, $samples) = watch_roles($ttl + 1);
	my $gap = ack_gap($w, $t0, time);
	diag(sprintf('(b) longest time without an acknowledged write %.2f s; '
		  . 'e1 without a ZooKeeper connection for %.3f s; not 200 on /primary in %d of %d samples',
		$gap, zk_outage($n1, $log0), $e1_not, $samples));
	SKIP:
	{
		skip(sprintf('the election took %.2f s, not within retry_timeout', $election), 5) if $election >= $retry;
		is(fences($n1), $fences0, '(b) the election was within retry_timeout: no fence');
		ok($gap < $retry, '(b) writes kept being acknowledged');
		is($e2_primary, 0, '(b) e2 never answered 200 on /primary');
		is($n2->in_recovery, 't', '(b) e2 is still a replica');
		is(owner_of($leader_key), $session, '(b) the same session holds the leader key');
	}
	ok($n1->is_primary, '(b) e1 is the primary');
	$ens->start($zl);
	ok(wait_until(sub { $ens->serving == 3 }, 60, 'all three serve'), "(b) server $zl is back in the ensemble");
}

# --- (c) quorum lost ---------------------------------------------------------------
{
	my $zl = $ens->leader;
	my ($f) = grep { $_ != $zl } $ens->servers;
	diag("(c) stopping servers $zl (leader) and $f");
	my $t0 = time;
	$ens->stop($_) for $zl, $f;
	my $fenced = wait_until(sub { (http_request($n1->api_port, "GET /patroni HTTP/1.0\r\n\r\n"))[1] =~ /"fenced":true/ },
		$retry + 2, 'e1 fenced');
	my $t_fence = time - $t0;
	ok($fenced, '(c) e1 fences itself');
	diag(sprintf('(c) quorum lost -> e1 fenced (/patroni) after %.2f s', $t_fence));
	ok($t_fence <= $retry + 1, "(c) within retry_timeout (${retry} s) + 1 s");
	my ($last) = reverse grep { $_->[2] >= $t0 - 1 } $w->acked;
	my $last_after = $last ? $last->[2] - $t0 : 0;
	diag(sprintf('(c) the last write acknowledged %.2f s after the quorum was lost', $last_after));
	ok($last_after <= $retry + 0.5, '(c) nothing acknowledged later than retry_timeout after it');
	is($ens->mode(6 - $zl - $f), 'down', '(c) the remaining server does not serve (no quorum)');
	# past ttl: still nobody is promoted
	my ($e1_not, $e2_primary) = watch_roles($ttl + 2 - (time - $t0));
	is($e2_primary, 0, '(c) past ttl, e2 never answered 200 on /primary');
	is($n2->in_recovery, 't', '(c) e2 was not promoted');
	my $acked_out = scalar $w->acked;
	my $t1 = time;
	$ens->start($_) for $zl, $f;
	ok(wait_until(sub { $ens->serving == 3 }, 60, 'quorum back'), '(c) the quorum is back');
	ok(wait_until(sub { $n1->is_primary }, $ttl + 15, 'e1 leads'), '(c) e1 leads again');
	ok(wait_until(sub { $w->acked > $acked_out }, 30, 'acks again'), '(c) writes are acknowledged again');
	my ($first) = grep { $_->[2] > $t1 } $w->acked;
	diag(sprintf('(c) servers started again -> first acknowledged write %.2f s later (on %s)',
		$first ? $first->[2] - $t1 : -1, $first ? $first->[1] : '?'));
	is($n2->in_recovery, 't', '(c) e2 is still a replica');
	is(zk_get($ens, $leader_key), 'e1', '(c) e1 holds the leader key');
	$w->stop;
	$w->check_no_loss($n1, '(c) after the quorum loss');
}

# --- (d) the primary cut from the majority, reaching one minority server ------------
#
# Twice: the old primary's own server as the minority (after (c) it is the
# ZooKeeper leader), then, the roles swapped, a follower.  $round names the
# tests; $offset keeps the writers' values apart.
sub partition_round
{
	my ($round, $old, $new, $want_follower, $offset) = @_;
	my ($o, $nn) = ($old->name, $new->name);
	my $wo = Writer->new(dir => $dir, ackfile => "$dir/$round-$o.txt", fixed => $spec{$o}, seconds => 200,
		offset => $offset);
	my $wn = Writer->new(dir => $dir, ackfile => "$dir/$round-$nn.txt", fixed => $spec{$nn}, seconds => 200,
		offset => $offset + 500_000);
	ok(wait_until(sub { $wo->acked >= 20 }, 30, "$o acks"), "$round a writer on $o is writing");
	my $on = $ens->server_of_session(owner_of($leader_key)) // 0;
	my $zl0 = $ens->leader // 0;
	my ($m) = $want_follower ? ((grep { $_ == $on && $_ != $zl0 } $ens->servers), grep { $_ != $zl0 } $ens->servers)
	  : ($on || 3);
	my @majority = grep { $_ != $m } $ens->servers;
	diag("$round $o\'s session is on server $on; server $m (ZooKeeper " . $ens->mode($m)
		  . ") will be the minority: cutting $o from servers @majority and server $m from them");
	my $t_cut = time;
	$ens->isolate($m);
	$ens->cut_client($o, @majority);
	ok(wait_until(sub { $ens->mode($m) eq 'down' }, 10, 'minority down'),
		"$round server $m has no quorum: it stops serving");
	diag(sprintf('%s server %d stopped serving %.2f s after the cut', $round, $m, time - $t_cut));
	ok(wait_until(sub { $ens->serving == 2 && $ens->leader }, 15, 'majority serves'),
		"$round servers @majority keep (or elect) a leader and serve");
	my $zl = $ens->leader // 0;
	like($ens->four($zl, 'mntr'), qr/^zk_synced_followers\s+1$/m,
		"$round their leader, server $zl, has one follower in sync: server $m is cut from it");
	ok(wait_until(sub { !$old->is_primary }, $retry + 1, "$o not primary"), "$round $o stops answering 200 on /primary");
	ok(wait_until(sub { $new->is_primary }, $ttl + 10, "$nn leads"), "$round $nn takes over once $o\'s session expired");
	my $t_new = time;
	diag(sprintf('%s cut -> %s answers 200 on /primary: %.2f s', $round, $nn, $t_new - $t_cut));
	ok(wait_until(sub { $wn->acked > 0 }, 15, "$nn acks"), "$round the writer on $nn gets acknowledgements");
	my @ao = $wo->acked;
	my @an = $wn->acked;
	my $last_o = @ao ? $ao[-1][2] : 0;
	my $first_n = @an ? $an[0][2] : 0;
	diag(sprintf('%s %s acknowledged its last write %.2f s after the cut; %s its first %.2f s after',
		$round, $o, $last_o - $t_cut, $nn, $first_n - $t_cut));
	like($old->postgres_log, qr/role change: "$o" stops accepting writes \(fence\)/, "$round $o fenced itself");
	ok($last_o - $t_cut <= $retry + 0.5, "$round $o acknowledged nothing later than retry_timeout after the cut");
	ok($last_o < $t_new && $last_o < $first_n, "$round nor after $nn was promoted");

	my $t_heal = time;
	$ens->rejoin;
	$ens->heal_client($o, @majority);
	ok(wait_until(sub { $ens->serving == 3 }, 60, 'all serve'), "$round healed: server $m is back in the ensemble");
	like($ens->four($ens->leader // 0, 'mntr'), qr/^zk_synced_followers\s+2$/m, "$round with two followers in sync");
	ok(wait_until(sub { $old->streams_from($new) }, 90, "$o streams from $nn"), "$round $o rejoins and streams from $nn");
	diag(sprintf('%s healed -> %s streams from %s: %.2f s', $round, $o, $nn, time - $t_heal));
	is($old->in_recovery, 't', "$round $o is a replica");
	is(scalar(grep { $_->is_primary } @nodes), 1, "$round exactly one primary");
	$wo->stop;
	$wn->stop;
	my @lost = $wn->missing_on($new, $wn->acked, grep { $_->[2] < $t_cut } $wo->acked);
	is(scalar(@lost), 0, "$round no write acknowledged by $nn, nor by $o before the cut, is lost")
	  or diag('lost: ' . join(',', @lost[0 .. ($#lost < 20 ? $#lost : 19)]));
	my @after = grep { $_->[2] >= $t_cut } $wo->acked;
	my @gone = @after ? $wn->missing_on($new, @after) : ();
	diag("$round $o acknowledged " . scalar(@after) . ' writes after the cut (before its lease ran out); '
		  . (@after - @gone) . " of them are on $nn");
}

partition_round('(d)', $n1, $n2, 0, 1_000_000);
partition_round('(d2)', $n2, $n1, 1, 2_000_000);

$_->stop for @nodes;
$ens->shutdown;
done_testing();
