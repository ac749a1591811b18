/*-------------------------------------------------------------------------
 *
 * ha_gate.c
 *	  The write gate (see ha_gate.h): the commit check every backend runs,
 *	  and the agent's side, which renews the lease, fences and lifts it.
 *
 * Why at commit: a write is acknowledged by its commit, and a transaction
 * that wrote has a transaction id by then.  An error raised before the
 * commit record is written aborts the transaction like any other error,
 * so nothing refused ever reaches the WAL as committed.  Transactions that
 * only read have no transaction id and pass untouched.
 *
 * Why twice: between the first check and the reply to the client, the
 * commit record is flushed and, in synchronous mode, waits for the standby;
 * a node frozen or cut off there can come back after another node was
 * promoted.  So the gate is asked again once the commit is durable and
 * replicated, before the reply leaves: a commit made outside the lease is
 * never acknowledged; its session ends instead (the outcome in doubt).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "libpq/libpq-be.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "postmaster/autovacuum.h"
#include "replication/syncrep.h"
#include "replication/walsender.h"
#include "replication/walsender_private.h"
#include "storage/fd.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "tcop/dest.h"
#include "tcop/utility.h"
#include "utils/wait_event.h"

#include "ha_gate.h"
#include "ha_guc.h"
#include "ha_http.h"
#include "ha_local.h"
#include "ha_shmem.h"
#include "role.h"

#define REFUSED_HINT \
	"Connect to the current primary, the node whose GET /primary answers 200; this one serves reads."

static ProcessUtility_hook_type prev_process_utility = NULL;

/*
 * Set at pre-commit: the commit will wait for its synchronous standby (it
 * wrote WAL before its commit record, as RecordTransactionCommit requires).
 */
static bool commit_waits_for_standby = false;

void
ha_gate_shmem_init(HaWriteGate *gate)
{
	HaGateState state = HA_GATE_OPEN;

	if (access(HA_FENCE_FILE, F_OK) == 0)
		state = HA_GATE_FENCED;
	else if (access(HA_NODE_ID_FILE, F_OK) == 0)
		state = HA_GATE_UNPROVEN;
	pg_atomic_init_u32(&gate->state, state);
	pg_atomic_init_u64(&gate->lease_until_ms, 0);
	if (state == HA_GATE_FENCED)
		ereport(LOG,
				(errmsg("pg_ha: this node was fenced (\"%s\" exists): it refuses writes until it leads again",
						HA_FENCE_FILE)));
}

const char *
ha_gate_state_name(HaGateState s)
{
	switch (s)
	{
		case HA_GATE_OPEN:
			return "open";
		case HA_GATE_FENCED:
			return "fenced";
		case HA_GATE_UNPROVEN:
			return "unproven";
	}
	return "unknown";
}

/* ---------------------------------------------------------------------
 * The check, in every backend
 * ---------------------------------------------------------------------
 */

/* What the gate says now; *late_ms: how long ago the lease ran out. */
static HaGateVerdict
gate_verdict_now(int64 *late_ms)
{
	HaWriteGate *gate = &ha_shared->gate;
	HaGateState state;
	uint64		lease;
	int64		now = 0;

	/* pairs with the agent's exchange: a closed gate is seen from here on */
	pg_memory_barrier();
	state = (HaGateState) pg_atomic_read_u32(&gate->state);
	lease = pg_atomic_read_u64(&gate->lease_until_ms);
	/* the clock only when it can matter */
	if (state == HA_GATE_OPEN && lease != 0)
		now = ha_mono_ms();
	*late_ms = now - (int64) lease;
	return ha_gate_verdict(state, lease, now);
}

/* Before the commit record: a refusal aborts the transaction. */
static void
refuse_if_fenced(void)
{
	int64		late_ms;

	if (ha_shared == NULL)
		return;
	switch (gate_verdict_now(&late_ms))
	{
		case HA_GATE_PASS:
			break;
		case HA_GATE_REFUSE_FENCED:
			ereport(ERROR,
					(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
					 errmsg("pg_ha: writes are refused: this node is fenced"),
					 errdetail("It cannot prove that it leads cluster \"%s\": ZooKeeper is out of reach, or another node leads.",
							   ha_scope),
					 errhint(REFUSED_HINT)));
			break;
		case HA_GATE_REFUSE_UNPROVEN:
			ereport(ERROR,
					(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
					 errmsg("pg_ha: writes are refused: this node does not lead cluster \"%s\" yet", ha_scope),
					 errdetail("After a start of postgres a primary takes writes once its agent holds the leader key in ZooKeeper."),
					 errhint(REFUSED_HINT)));
			break;
		case HA_GATE_REFUSE_LEASE:
			ereport(ERROR,
					(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
					 errmsg("pg_ha: writes are refused: this node's leader lease ran out " INT64_FORMAT " ms ago",
							late_ms),
					 errdetail("Its leadership has not been confirmed since: ZooKeeper is out of reach, or the agent does not act (GET /patroni says why)."),
					 errhint(REFUSED_HINT)));
			break;
	}
}

/*
 * pg_ha.test_hold_after_commit_ms: sleeps where a freeze of the node would
 * hurt most, the commit durable and replicated but not yet acknowledged.
 * It does not check for interrupts (inside CommitTransaction they are held
 * anyway): the wait runs to its end unless postgres dies.
 */
static void
test_hold(const char *what)
{
	int64		until;
	int64		left;

	if (ha_test_hold_after_commit_ms <= 0)
		return;
	ereport(LOG_SERVER_ONLY,
			(errmsg("pg_ha: holding %s for %d ms before its acknowledgement is checked (pg_ha.test_hold_after_commit_ms)",
					what, ha_test_hold_after_commit_ms)));
	until = ha_mono_ms() + ha_test_hold_after_commit_ms;
	while ((left = until - ha_mono_ms()) > 0)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 (long) left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/* Synchronous standbys are configured, as the commit's wait saw it. */
static bool
sync_standbys_defined_now(void)
{
#ifdef SYNC_STANDBY_DEFINED
	bits8		status = WalSndCtl->sync_standbys_status;

	if (status & SYNC_STANDBY_INIT)
		return (status & SYNC_STANDBY_DEFINED) != 0;
	/* the checkpointer has not taken the setting yet: the wait read it */
	return SyncRepStandbyNames != NULL && SyncRepStandbyNames[0] != '\0';
#else
	return WalSndCtl->sync_standbys_defined;
#endif
}

/*
 * Has synchronous replication released the commit ending at commit_lsn?
 * A wait that was cancelled (a cancel request, statement_timeout) lets the
 * commit through unconfirmed, and postgres reports it with only a warning:
 * see ha_commit_replicated.
 */
static bool
commit_replicated(bool waited, XLogRecPtr commit_lsn)
{
	int			mode;
	bool		defined;
	XLogRecPtr	released;

	if (!waited || !SyncRepRequested())
		return true;
	switch (synchronous_commit)
	{
		case SYNCHRONOUS_COMMIT_REMOTE_WRITE:
			mode = SYNC_REP_WAIT_WRITE;
			break;
		case SYNCHRONOUS_COMMIT_REMOTE_APPLY:
			mode = SYNC_REP_WAIT_APPLY;
			break;
		default:
			mode = SYNC_REP_WAIT_FLUSH;
			break;
	}
	LWLockAcquire(SyncRepLock, LW_SHARED);
	defined = sync_standbys_defined_now();
	released = WalSndCtl->lsn[mode];
	LWLockRelease(SyncRepLock);
	return ha_commit_replicated(true, defined, commit_lsn, released);
}

/*
 * After the commit record is flushed, and confirmed by the synchronous
 * standby: postgres has committed, and nothing can undo it, but the client
 * has not been answered yet (the reply is queued, and sent, only after the
 * transaction ends).  If the gate would refuse now, the commit may have
 * happened outside the lease: another node may lead, without it.  Then the
 * session ends and the client gets no acknowledgement, the outcome of its
 * commit in doubt, as when a connection breaks at commit.
 *
 * No error may be raised here: the transaction is committed, and an ERROR
 * would turn into "cannot abort transaction ..., it was already committed"
 * (a PANIC).  So it shuts the client's socket, which nothing queued or
 * still to be queued can pass, logs one line and leaves an interrupt pending
 * that ends the session as soon as the transaction is over, as for a client
 * lost in the middle of a reply.  The log lines are LOG_SERVER_ONLY: a
 * message to the client is flushed at once, and would carry along a reply
 * already queued.
 */
static void
check_before_acknowledgement(const char *what, const char *done,
							 bool waited, XLogRecPtr commit_lsn)
{
	HaGateVerdict verdict;
	int64		late_ms;
	bool		replicated;
	char		why[128];

	if (ha_shared == NULL)
		return;
	test_hold(what);
	verdict = gate_verdict_now(&late_ms);
	replicated = commit_replicated(waited, commit_lsn);
	if (verdict == HA_GATE_PASS && replicated)
		return;

	/*
	 * Once the socket is shut, every later write to it fails, and postgres
	 * treats the client as lost ("could not send data to client", then the
	 * FATAL).  Without a socket to shut, it stops sending instead, as the
	 * synchronous-replication wait does (then the session ends at its next
	 * read of a command, with a "backend>" prompt in the log).
	 */
	if (MyProcPort == NULL || MyProcPort->sock == PGINVALID_SOCKET ||
		shutdown(MyProcPort->sock, SHUT_RDWR) != 0)
		whereToSendOutput = DestNone;

	switch (verdict)
	{
		case HA_GATE_PASS:
			Assert(!replicated);
			snprintf(why, sizeof(why),
					 "its wait for the synchronous standby ended before the standby confirmed it");
			break;
		case HA_GATE_REFUSE_LEASE:
			snprintf(why, sizeof(why), "this node's leader lease ran out " INT64_FORMAT " ms ago",
					 late_ms);
			break;
		case HA_GATE_REFUSE_UNPROVEN:
			snprintf(why, sizeof(why), "this node does not lead");
			break;
		default:
			snprintf(why, sizeof(why), "this node was fenced");
			break;
	}
	if (verdict == HA_GATE_PASS)
		ereport(LOG_SERVER_ONLY,
				(errcode(ERRCODE_TRANSACTION_RESOLUTION_UNKNOWN),
				 errmsg("pg_ha: ending the session without acknowledging %s: %s", what, why),
				 errdetail("The transaction %s locally, but no synchronous standby has it for sure: a failover could lose it, so the client gets no reply, the outcome is in doubt for it.",
						   done)));
	else
		ereport(LOG_SERVER_ONLY,
				(errcode(ERRCODE_TRANSACTION_RESOLUTION_UNKNOWN),
				 errmsg("pg_ha: ending the session without acknowledging %s: %s", what, why),
				 errdetail("The transaction %s locally after it passed the commit check, but another node may lead cluster \"%s\" and may not have it: the client gets no reply, the outcome is in doubt for it.",
						   done, ha_scope)));

	/* a lost connection, for postgres: FATAL at the next interrupt check */
	if (MyProcPort != NULL)
		ClientConnectionLost = true;
	else
		ProcDiePending = true;
	InterruptPending = true;
}

static void
gate_xact_callback(XactEvent event, void *arg)
{
	TransactionId xid;

	if (event != XACT_EVENT_PRE_COMMIT && event != XACT_EVENT_PRE_PREPARE &&
		event != XACT_EVENT_COMMIT && event != XACT_EVENT_PREPARE)
		return;
	/* read-only transactions, and vacuum's own bookkeeping, pass */
	xid = GetTopTransactionIdIfAny();
	if (!TransactionIdIsValid(xid) || IsAutoVacuumWorkerProcess())
		return;
	if (event == XACT_EVENT_PRE_COMMIT || event == XACT_EVENT_PRE_PREPARE)
	{
		refuse_if_fenced();
		commit_waits_for_standby = event == XACT_EVENT_PRE_COMMIT && XactLastRecEnd != 0;
	}
	else
	{
		bool		commit = event == XACT_EVENT_COMMIT;
		char		what[64];

		snprintf(what, sizeof(what), "the %s of transaction %u",
				 commit ? "commit" : "PREPARE", xid);
		/* the PREPARE record's position is gone by now: its wait is not checked */
		check_before_acknowledgement(what, commit ? "committed" : "was prepared",
									 commit && commit_waits_for_standby,
									 XactLastCommitEnd);
		commit_waits_for_standby = false;
	}
}

/*
 * COMMIT PREPARED commits a write without transaction events of its own:
 * checked before it, and after its commit record is flushed and replicated.
 */
static void
gate_process_utility(PlannedStmt *pstmt, const char *queryString,
					 bool readOnlyTree, ProcessUtilityContext context,
					 ParamListInfo params, QueryEnvironment *queryEnv,
					 DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;
	bool		commit_prepared;

	commit_prepared = IsA(stmt, TransactionStmt) &&
		((TransactionStmt *) stmt)->kind == TRANS_STMT_COMMIT_PREPARED;
	if (commit_prepared)
		refuse_if_fenced();
	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context,
							 params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
	if (commit_prepared)
	{
		char		what[GIDSIZE + 32];

		snprintf(what, sizeof(what), "the commit of prepared transaction \"%s\"",
				 ((TransactionStmt *) stmt)->gid);
		/* its commit record is the last this backend wrote; it always waits */
		check_before_acknowledgement(what, "committed", true, XactLastRecEnd);
	}
}

void
ha_gate_install_hooks(void)
{
	RegisterXactCallback(gate_xact_callback, NULL);
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = gate_process_utility;
}

/* ---------------------------------------------------------------------
 * The agent's side
 * ---------------------------------------------------------------------
 */
HaGateState
ha_gate_state(void)
{
	return (HaGateState) pg_atomic_read_u32(&ha_shared->gate.state);
}

void
ha_gate_set_lease(int64 until_ms)
{
	pg_atomic_write_u64(&ha_shared->gate.lease_until_ms, (uint64) until_ms);
}

/*
 * Ends the sessions in the middle of a write: they passed the commit check
 * before the gate closed, or wait for a synchronous standby.  A backend
 * ended while it waits for its standby reports no success to its client.
 */
static int
end_writers(void)
{
	int			ended = 0;

	LWLockAcquire(ProcArrayLock, LW_SHARED);
	for (uint32 i = 0; i < ProcGlobal->allProcCount; i++)
	{
		PGPROC	   *proc = &ProcGlobal->allProcs[i];

		if (proc->pid == 0 || proc->pid == MyProcPid ||
			!TransactionIdIsValid(proc->xid) ||
			(proc->statusFlags & PROC_IS_AUTOVACUUM) != 0)
			continue;
		if (kill(proc->pid, SIGTERM) == 0)
			ended++;
	}
	LWLockRelease(ProcArrayLock);
	return ended;
}

/*
 * Fences: records it in the data directory first, so a crash right after
 * cannot reopen the gate, then closes it.  Returns the number of sessions
 * ended, -1 when the node was fenced already.
 */
int
ha_gate_close(const char *why)
{
	char		contents[512];

	if (ha_gate_state() == HA_GATE_FENCED)
		return -1;
	snprintf(contents, sizeof(contents), "%s\n", why);
	(void) ha_write_file_durably(HA_FENCE_FILE, contents);
	/* a full barrier: backends that check after this see it closed */
	(void) pg_atomic_exchange_u32(&ha_shared->gate.state, HA_GATE_FENCED);
	return end_writers();
}

/* Lifts the fence: only the leader, with a fresh lease, calls this. */
void
ha_gate_open(void)
{
	if (ha_gate_state() == HA_GATE_OPEN)
		return;
	(void) pg_atomic_exchange_u32(&ha_shared->gate.state, HA_GATE_OPEN);
	if (access(HA_FENCE_FILE, F_OK) == 0 && durable_unlink(HA_FENCE_FILE, LOG) != 0)
		ereport(WARNING,
				(errmsg("pg_ha: could not remove \"%s\": a restart of postgres would fence this node again",
						HA_FENCE_FILE)));
}
