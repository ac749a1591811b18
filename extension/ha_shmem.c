/*-------------------------------------------------------------------------
 *
 * ha_shmem.c
 *	  pg_ha's shared memory (ha_shmem.h): the segment every part reads, and
 *	  the names of its states.  It calls no other part of pg_ha: pg_ha.c
 *	  passes in what initialises the parts' own shares of a new segment.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"

#include "ha_shmem.h"

HaSharedState *ha_shared = NULL;

void
ha_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(HaSharedState)));
	RequestNamedLWLockTranche("pg_ha", 1);
}

void
ha_shmem_startup(void (*init_new) (HaSharedState *shared))
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	ha_shared = ShmemInitStruct("pg_ha", sizeof(HaSharedState), &found);
	if (!found)
	{
		memset(ha_shared, 0, sizeof(HaSharedState));
		ha_shared->lock = &(GetNamedLWLockTranche("pg_ha"))->lock;
		init_new(ha_shared);
	}
	LWLockRelease(AddinShmemInitLock);
}

const char *
ha_zk_state_name(HaZkState s)
{
	switch (s)
	{
		case HA_ZK_NOT_STARTED:
			return "not started";
		case HA_ZK_CONNECTING:
			return "connecting";
		case HA_ZK_CONNECTED:
			return "connected";
		case HA_ZK_EXPIRED:
			return "session expired";
		case HA_ZK_MISCONFIGURED:
			return "misconfigured";
	}
	return "unknown";
}

void
ha_restart_facts(const HaView *v, HaRestartFacts *f)
{
	const char *num = GetConfigOption("server_version_num", false, false);

	f->is_primary = strcmp(v->self.role, HA_ROLE_MASTER) == 0;
	f->server_version_num = num ? atoi(num) : PG_VERSION_NUM;
	f->pending_restart = v->self.pending_restart;
}
