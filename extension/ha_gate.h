/*-------------------------------------------------------------------------
 *
 * ha_gate.h
 *	  The write gate: a primary that cannot prove it leads refuses to
 *	  commit writes, in every backend, while postgres keeps running.
 *
 * Two conditions close it, both checked by each backend when a
 * transaction that wrote is about to commit (or prepare):
 *
 *	- the lease: while this node leads, the agent publishes until when its
 *	  leadership is proven (last reply from ZooKeeper + the fence delay, on
 *	  ha_mono_ms()'s clock).  Once that passes, commits fail even if the
 *	  agent itself is late (a node thawing from SIGSTOP, a stalled agent);
 *	- the fence: the agent closes the gate when it stops leading for want
 *	  of ZooKeeper or because another node leads.  It is recorded in the
 *	  data directory, so a restart of postgres keeps it closed.
 *
 * Reads are never refused: a fenced primary goes on serving them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef HA_GATE_H
#define HA_GATE_H

#include "port/atomics.h"

/* in the data directory while the gate is closed */
#define HA_FENCE_FILE		"pg_ha.fenced"

typedef struct HaWriteGate
{
	pg_atomic_uint32 closed;	/* 1: fenced */
	pg_atomic_uint64 lease_until_ms;	/* ha_mono_ms(); 0: no lease */
} HaWriteGate;

/* postmaster: shared memory set up (closed if the fence file exists) */
extern void ha_gate_shmem_init(HaWriteGate *gate);

/* postmaster, from _PG_init: the commit check in every backend */
extern void ha_gate_install_hooks(void);

/* the agent */
extern bool ha_gate_is_closed(void);
extern void ha_gate_set_lease(int64 until_ms);
extern int	ha_gate_close(const char *why);
extern void ha_gate_open(void);

#endif							/* HA_GATE_H */
