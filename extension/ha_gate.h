/*-------------------------------------------------------------------------
 *
 * ha_gate.h
 *	  The write gate: a primary that cannot prove it leads refuses to
 *	  commit writes, in every backend, while postgres keeps running.
 *
 * Two conditions close it, both checked by each backend when a
 * transaction that wrote is about to commit (or prepare), and again after
 * its commit record is flushed and replicated, before the client is
 * answered (a refusal then ends the session: no acknowledgement):
 *
 *	- the lease: while this node leads, the agent publishes until when its
 *	  leadership is proven (last reply from ZooKeeper + the fence delay, on
 *	  ha_mono_ms()'s clock).  Once that passes, commits fail even if the
 *	  agent itself is late (a node thawing from SIGSTOP, a stalled agent);
 *	- the gate itself, closed
 *	  * "fenced": when the agent stops leading for want of ZooKeeper or
 *	    because another node leads.  It is recorded in the data directory,
 *	    so a restart of postgres keeps it;
 *	  * "unproven": from the start of postgres on a data directory where the
 *	    agent ran before, until the agent leads: a primary restarted while
 *	    cut off from ZooKeeper must not take writes another node's
 *	    promotion would discard.  (The very first start, at bootstrap, is
 *	    open: nobody else can lead a cluster that does not exist yet.)
 *
 * Reads are never refused: a fenced primary goes on serving them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef HA_GATE_H
#define HA_GATE_H

#include "port/atomics.h"

#include "ha_types.h"

/* in the data directory while the gate is closed */
#define HA_FENCE_FILE		"pg_ha.fenced"

typedef struct HaWriteGate
{
	pg_atomic_uint32 state;		/* an HaGateState */
	pg_atomic_uint64 lease_until_ms;	/* ha_mono_ms(); 0: no lease */
} HaWriteGate;

/* postmaster: shared memory set up (closed if the fence file exists) */
extern void ha_gate_shmem_init(HaWriteGate *gate);

/* postmaster, from _PG_init: the commit check in every backend */
extern void ha_gate_install_hooks(void);

/* the agent */
extern HaGateState ha_gate_state(void);
extern const char *ha_gate_state_name(HaGateState s);
extern void ha_gate_set_lease(int64 until_ms);
extern int	ha_gate_close(const char *why);
extern void ha_gate_open(void);

#endif							/* HA_GATE_H */
