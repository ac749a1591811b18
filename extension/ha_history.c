/*-------------------------------------------------------------------------
 *
 * ha_history.c
 *	  The /history key: every timeline switch of the cluster, in Patroni's
 *	  format ([[timeline, lsn, reason, timestamp, new_leader], ...], see
 *	  common/cluster_keys.h), so that patronictl history, GET /history and
 *	  ha_history() show it.  Every agent reads it (watched) into its view;
 *	  the leader rewrites it from its own timeline history file whenever it
 *	  lacks the switch to the leader's timeline, with a compare-and-set on
 *	  the key's version (a lost race is read again and retried).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <zookeeper/zookeeper.h>

#include "utils/timestamp.h"

#include "cluster_keys.h"
#include "ha_agent.h"
#include "ha_clock.h"
#include "ha_guc.h"
#include "ha_local.h"

#define HISTORY_FILE_CAP	65536	/* the newest part of a longer file */

static HaHistoryRow history_rows[HA_HISTORY_MAX];
static int	history_nrows;
static int32 history_version = -1;	/* -1: the key does not exist */
static int64 history_next_write_ms;

/*
 * Renders rows into out (cap bytes), dropping the oldest rows until the
 * rest fit.
 */
static void
render_fitting(const HaHistoryRow *rows, int n, char *out, size_t cap)
{
	for (int first = 0; first <= n; first++)
	{
		JsonBuf		jb;

		json_init(&jb, out, cap);
		history_key_render(rows + first, n - first, &jb);
		if (!jb.overflow)
			return;
	}
	strlcpy(out, "[]", cap);
}

/* ZooKeeper answered our read of /history (absent: data NULL). */
void
history_handle_read(const ZkEvent *ev)
{
	char		err[128];
	int			n = 0;

	agent.history_known = true;
	agent.history_stale = false;
	history_version = -1;
	if (ev->rc == ZOK && ev->has_stat)
		history_version = ev->version;
	if (ev->rc == ZOK && ev->data && ev->datalen > 0)
	{
		n = history_key_parse(ev->data, (size_t) ev->datalen, history_rows,
							  HA_HISTORY_MAX, err, sizeof(err));
		if (n < 0)
		{
			ereport(LOG,
					(errmsg("pg_ha: the /history key is not readable: %s", err),
					 errdetail("The leader rewrites it from its timeline history file.")));
			n = 0;
		}
	}
	history_nrows = n;
	render_fitting(history_rows, n, agent.view.history_json,
				   sizeof(agent.view.history_json));
	agent.view_dirty = true;
}

/* Our write of /history was answered: read it again either way. */
void
history_handle_written(const ZkEvent *ev)
{
	if (ev->rc != ZOK)
	{
		ereport(DEBUG1,
				(errmsg("pg_ha: /history not written: %s", zk_error_name(ev->rc))));
		history_next_write_ms = 0;	/* retry on the fresh copy */
	}
	agent.history_stale = true;
}

/*
 * The leader's duty: /history must end with the switch to its timeline.
 * Called on every pass while it leads; writes at most once a loop_wait.
 */
void
history_update(int64 now)
{
	uint32		tli = agent.view.self.timeline;
	HaHistoryRow *file;
	HaHistoryRow *merged;
	char	   *text;
	char	   *json;
	int			nfile = 0;
	int			n;
	char		stamp[ISO_TIME_LEN];

	if (!agent.history_known || agent.history_stale ||
		agent.inflight[OP_HISTORY_GET] > 0 || agent.inflight[OP_HISTORY_SET] > 0 ||
		agent.inflight[OP_HISTORY_CREATE] > 0 || now < history_next_write_ms ||
		tli == 0 || !history_needs_update(history_rows, history_nrows, tli))
		return;
	history_next_write_ms = now + (int64) ha_loop_wait * 1000;

	file = palloc(sizeof(HaHistoryRow) * HA_HISTORY_MAX);
	merged = palloc(sizeof(HaHistoryRow) * HA_HISTORY_MAX);
	text = palloc(HISTORY_FILE_CAP);
	json = palloc(HA_HISTORY_JSON_CAP);
	if (tli > 1)
	{
		int			len = ha_read_timeline_history(tli, text, HISTORY_FILE_CAP);

		nfile = len < 0 ? -1 : history_file_parse(text, (size_t) len, file, HA_HISTORY_MAX);
		if (nfile < 0)
			ereport(LOG,
					(errmsg("pg_ha: /history not updated: the history file of timeline %u is not readable", tli)));
	}
	if (nfile >= 0)
	{
		iso_time_format(ha_timestamptz_to_unix_us(GetCurrentTimestamp()), stamp, sizeof(stamp));
		n = history_merge(file, nfile, history_rows, history_nrows, tli, stamp,
						  agent.view.self.name, merged);
		render_fitting(merged, n, json, HA_HISTORY_JSON_CAP);
		if (history_version >= 0)
			session_issue(OP_HISTORY_SET,
						  zk_set(OP_HISTORY_SET, agent.history_path, json, strlen(json),
								 history_version));
		else
			session_issue(OP_HISTORY_CREATE,
						  zk_create(OP_HISTORY_CREATE, agent.history_path, json,
									strlen(json), false));
		ereport(DEBUG1, (errmsg("pg_ha: writing /history: %s", json)));
	}
	pfree(file);
	pfree(merged);
	pfree(text);
	pfree(json);
}
