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
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>
#include <unistd.h>

#include "access/transam.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "postmaster/autovacuum.h"
#include "storage/fd.h"
#include "storage/proc.h"
#include "tcop/utility.h"

#include "ha_gate.h"
#include "ha_guc.h"
#include "ha_http.h"
#include "ha_local.h"
#include "ha_shmem.h"

#define REFUSED_HINT \
	"Connect to the current primary, the node whose GET /primary answers 200; this one serves reads."

static ProcessUtility_hook_type prev_process_utility = NULL;

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
static void
refuse_if_fenced(void)
{
	HaWriteGate *gate;
	uint64		lease;
	int64		now;

	if (ha_shared == NULL)
		return;
	gate = &ha_shared->gate;
	/* pairs with the agent's exchange: a closed gate is seen from here on */
	pg_memory_barrier();
	switch ((HaGateState) pg_atomic_read_u32(&gate->state))
	{
		case HA_GATE_OPEN:
			break;
		case HA_GATE_FENCED:
			ereport(ERROR,
					(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
					 errmsg("pg_ha: writes are refused: this node is fenced"),
					 errdetail("It cannot prove that it leads cluster \"%s\": ZooKeeper is out of reach, or another node leads.",
							   ha_scope),
					 errhint(REFUSED_HINT)));
			break;
		case HA_GATE_UNPROVEN:
			ereport(ERROR,
					(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
					 errmsg("pg_ha: writes are refused: this node does not lead cluster \"%s\" yet", ha_scope),
					 errdetail("After a start of postgres a primary takes writes once its agent holds the leader key in ZooKeeper."),
					 errhint(REFUSED_HINT)));
			break;
	}
	lease = pg_atomic_read_u64(&gate->lease_until_ms);
	if (lease == 0)
		return;
	now = ha_mono_ms();
	if (now > (int64) lease)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("pg_ha: writes are refused: this node's leader lease ran out " INT64_FORMAT " ms ago",
						now - (int64) lease),
				 errdetail("Its leadership has not been confirmed since: ZooKeeper is out of reach, or the agent does not act (GET /patroni says why)."),
				 errhint(REFUSED_HINT)));
}

static void
gate_xact_callback(XactEvent event, void *arg)
{
	if (event != XACT_EVENT_PRE_COMMIT && event != XACT_EVENT_PRE_PREPARE)
		return;
	/* read-only transactions, and vacuum's own bookkeeping, pass */
	if (!TransactionIdIsValid(GetTopTransactionIdIfAny()) || IsAutoVacuumWorkerProcess())
		return;
	refuse_if_fenced();
}

/* COMMIT PREPARED commits a write without a pre-commit event of its own. */
static void
gate_process_utility(PlannedStmt *pstmt, const char *queryString,
					 bool readOnlyTree, ProcessUtilityContext context,
					 ParamListInfo params, QueryEnvironment *queryEnv,
					 DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;

	if (IsA(stmt, TransactionStmt) &&
		((TransactionStmt *) stmt)->kind == TRANS_STMT_COMMIT_PREPARED)
		refuse_if_fenced();
	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context,
							 params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
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
