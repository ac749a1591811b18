/*-------------------------------------------------------------------------
 *
 * pg_ha.c
 *	  Module entry point: settings, shared memory, the write gate's hooks
 *	  and the agent worker.
 *
 * pg_ha must be in shared_preload_libraries: the agent is a background
 * worker started with the postmaster, so that it answers health checks
 * from the first moment and needs no database connection.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/shmem.h"

#include "ha_guc.h"
#include "ha_shmem.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
pg_ha_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	ha_shmem_request();
}

/* The parts' own shared state, once, when ha_shmem.c creates the segment. */
static void
init_new_shmem(HaSharedState *shared)
{
	ha_gate_shmem_init(&shared->gate);
}

static void
pg_ha_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	ha_shmem_startup(init_new_shmem);
}

void
_PG_init(void)
{
	BackgroundWorker worker;

	ha_define_gucs();

	/*
	 * Loaded by a backend only (CREATE EXTENSION without preloading): the
	 * settings exist so that SHOW works, but there is no agent.
	 */
	if (!process_shared_preload_libraries_in_progress)
		return;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = pg_ha_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = pg_ha_shmem_startup;
	ha_gate_install_hooks();

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_PostmasterStart;
	worker.bgw_restart_time = 1;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_ha");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "ha_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_ha agent");
	snprintf(worker.bgw_type, BGW_MAXLEN, "pg_ha agent");
	RegisterBackgroundWorker(&worker);
}
