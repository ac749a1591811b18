/*-------------------------------------------------------------------------
 *
 * ha_stranded.c
 *	  A replica stranded without the WAL it needs (README "Stranded
 *	  replicas"): the agent gathers the facts stranded_rule.c judges, says
 *	  so once (the log, the state "stranded"), and asks its supervisor to
 *	  re-clone this node through the reinit action (ha_reinit.c's checks:
 *	  at most one at a time).
 *
 * The automatic re-clones asked for are counted in a file in the data
 * directory (HA_RECLONE_FILE: name, the directory's inode, count, time),
 * which back-off reads: a clone that fails brings the old directory back,
 * with the file, so the next attempt waits; a clone that works is a new
 * directory (another inode: a copy of the leader's file does not count)
 * and starts from nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <time.h>

#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "access/xlogrecovery.h"
#include "miscadmin.h"
#include "storage/fd.h"

#include "ha_agent.h"
#include "ha_guc.h"
#include "ha_http.h"
#include "ha_local.h"
#include "stranded_rule.h"

/* With no segment removed since postgres started, pg_wal is read this often. */
#define WAL_SCAN_EVERY_MS		10000

static uint64 still_lsn;		/* the position last seen ... */
static int64 still_since_ms;	/* ... and since when it has not moved */
static HaReclone last_reclone = HA_RECLONE_NONE;

/* The oldest WAL segment in pg_wal (0: none found). */
static XLogSegNo
oldest_segment_in_pg_wal(void)
{
	DIR		   *dir = AllocateDir(XLOGDIR);
	struct dirent *de;
	XLogSegNo	oldest = 0;

	while ((de = ReadDir(dir, XLOGDIR)) != NULL)
	{
		TimeLineID	tli;
		XLogSegNo	segno;

		if (!IsXLogFileName(de->d_name))
			continue;
		XLogFromFileName(de->d_name, &tli, &segno, wal_segment_size);
		if (oldest == 0 || segno < oldest)
			oldest = segno;
	}
	FreeDir(dir);
	return oldest;
}

uint64
stranded_wal_oldest(void)
{
	static int64 scanned_ms = 0;
	static XLogSegNo scanned = 0;
	XLogSegNo	removed = XLogGetLastRemovedSegno();
	XLogSegNo	oldest;
	XLogRecPtr	lsn;
	int64		now;

	if (removed != 0)
		oldest = removed + 1;
	else
	{
		/* none removed since postgres started: the oldest file says it */
		now = ha_mono_ms();
		if (scanned_ms == 0 || now - scanned_ms >= WAL_SCAN_EVERY_MS)
		{
			scanned = oldest_segment_in_pg_wal();
			scanned_ms = now;
		}
		oldest = scanned;
	}
	if (oldest == 0)
		return 0;
	XLogSegNoOffsetToRecPtr(oldest, 0, wal_segment_size, lsn);
	return lsn;
}

/* The automatic re-clones of this data directory (0: none, or not ours). */
static void
read_attempts(int *attempts, int64 *last_s)
{
	char		path[MAXPGPATH];
	char		line[3 * HA_NAME_LEN + 64];
	char		name[HA_NAME_LEN];
	unsigned long long inode;
	int			n;
	long long	when;
	struct stat st;
	FILE	   *f;

	*attempts = 0;
	*last_s = 0;
	snprintf(path, sizeof(path), "%s/%s", DataDir, HA_RECLONE_FILE);
	if (stat(DataDir, &st) != 0 || (f = AllocateFile(path, "r")) == NULL)
		return;
	if (fgets(line, sizeof(line), f) &&
		sscanf(line, "%63s %llu %d %lld", name, &inode, &n, &when) == 4 &&
		strcmp(name, agent.view.self.name) == 0 && inode == (unsigned long long) st.st_ino &&
		n > 0)
	{
		*attempts = n;
		*last_s = (int64) when;
	}
	FreeFile(f);
}

static bool
write_attempts(int attempts, int64 now_s)
{
	char		path[MAXPGPATH];
	char		text[3 * HA_NAME_LEN + 64];
	struct stat st;

	if (stat(DataDir, &st) != 0)
		return false;
	snprintf(path, sizeof(path), "%s/%s", DataDir, HA_RECLONE_FILE);
	snprintf(text, sizeof(text), "%s %llu %d %lld\n", agent.view.self.name,
			 (unsigned long long) st.st_ino, attempts, (long long) now_s);
	return ha_write_file_durably(path, text);
}

static const char *
reclone_hint(HaReclone r, int attempts, int64 wait_s, char *buf, size_t cap)
{
	switch (r)
	{
		case HA_RECLONE_ASK:
			return "Its supervisor re-clones it from the leader now (pg_ha.auto_reclone).";
		case HA_RECLONE_OFF:
			return "pg_ha.auto_reclone is off: re-clone it with patronictl reinit or ha_reinitialize().";
		case HA_RECLONE_PAUSED:
			return "The cluster is paused: re-clone it with patronictl reinit, or resume and its supervisor does.";
		case HA_RECLONE_UNSUPERVISED:
			return "It is not run by pg_ha_supervisor: re-clone it by hand (pg_basebackup from the leader).";
		case HA_RECLONE_BACKOFF:
			snprintf(buf, cap, "It was re-cloned automatically %d time(s) in this data directory; the next attempt in " INT64_FORMAT " s at the earliest.",
					 attempts, wait_s);
			return buf;
		case HA_RECLONE_NONE:
			break;
	}
	return NULL;
}

/* Asks for the re-clone, counted first: no count, no request (no loop without back-off). */
static void
ask_reclone(int64 now, int attempts, const char *leader)
{
	char		reason[HA_NAME_LEN + 96];
	char		msg[256];
	int64		now_s = (int64) time(NULL);

	if (!write_attempts(attempts + 1, now_s))
	{
		ereport(WARNING,
				(errmsg("pg_ha: not re-cloning the stranded replica \"%s\": could not record the attempt in \"%s\"",
						agent.view.self.name, HA_RECLONE_FILE),
				 errhint("Re-clone it with patronictl reinit or ha_reinitialize().")));
		return;
	}
	snprintf(reason, sizeof(reason), "automatic re-clone %d: the WAL it needs is gone from \"%s\"",
			 attempts + 1, leader);
	if (reinit_ask(now, reason, msg, sizeof(msg)) != 200)
		ereport(LOG,
				(errmsg("pg_ha: the automatic re-clone of \"%s\" waits: %s",
						agent.view.self.name, msg),
				 errdetail("It is tried again after the back-off.")));
}

void
stranded_check(int64 now, bool following)
{
	const HaMember *self = &agent.view.self;
	const HaMember *leader = following && agent.view.leader[0] ?
		session_member(agent.view.leader) : NULL;
	HaStrandedFacts f;
	HaStranded	v;
	HaRecloneFacts r;
	HaReclone	rv;
	char		hint[256];

	memset(&f, 0, sizeof(f));
	f.in_recovery = RecoveryInProgress();
	f.leader_primary = leader != NULL && strcmp(leader->name, self->name) != 0 &&
		strcmp(leader->role, HA_ROLE_MASTER) == 0 && strcmp(leader->state, "running") == 0;
	f.behind_timeline = agent.cluster_timeline > self->timeline;
	f.replay_paused = agent.view.replay_paused;
	f.archive = recoveryRestoreCommand != NULL && recoveryRestoreCommand[0] != '\0';
	f.leader_wal_oldest = leader ? leader->wal_oldest : 0;
	f.resume_lsn = self->xlog_location;
	f.segment_size = (uint32) wal_segment_size;
	f.now_ms = now;
	if (!f.in_recovery || still_since_ms == 0 || f.resume_lsn != still_lsn)
	{
		still_lsn = f.resume_lsn;
		still_since_ms = now;
	}
	f.still_since_ms = still_since_ms;
	v = ha_stranded(&f);
	agent.wal_gone = v != HA_STRANDED_NO;

	if ((v == HA_STRANDED_YES) != agent.stranded)
	{
		agent.stranded = v == HA_STRANDED_YES;
		if (f.in_recovery)
			strlcpy(agent.view.self.state, agent.stranded ? HA_STATE_STRANDED : "running",
					sizeof(agent.view.self.state));
		agent.self_changed = true;
		agent.view_dirty = true;
		if (!agent.stranded)
			ereport(LOG,
					(errmsg("pg_ha: \"%s\" is no longer stranded: %s",
							self->name, f.in_recovery && f.leader_primary ?
							"the WAL it needs is available again" : "it no longer follows a running primary")));
	}
	if (v != HA_STRANDED_YES)
	{
		last_reclone = HA_RECLONE_NONE;
		return;
	}

	memset(&r, 0, sizeof(r));
	r.stranded = true;
	r.enabled = ha_auto_reclone;
	r.paused = agent.view.paused;
	r.supervised = agent.supervised;
	r.now_s = (int64) time(NULL);
	read_attempts(&r.attempts, &r.last_attempt_s);
	rv = ha_reclone_judge(&r);

	/*
	 * One line when it turns stranded, or what is done about it changes
	 * (not for the back-off after asking: the request says so itself).
	 */
	if (rv != last_reclone && !(last_reclone == HA_RECLONE_ASK && rv == HA_RECLONE_BACKOFF))
		ereport(WARNING,
				(errmsg("pg_ha: \"%s\" is stranded: it needs WAL from %X/%X, the leader \"%s\" keeps WAL from %X/%X on",
						self->name,
						LSN_FORMAT_ARGS((XLogRecPtr) (f.resume_lsn - f.resume_lsn % f.segment_size)),
						leader->name, LSN_FORMAT_ARGS((XLogRecPtr) f.leader_wal_oldest)),
				 errdetail("Its position has not advanced for " INT64_FORMAT " s%s.",
						   (now - f.still_since_ms) / 1000,
						   f.archive ? " and restore_command did not deliver the WAL either" :
						   " and there is no restore_command"),
				 errhint("%s", reclone_hint(rv, r.attempts,
											r.last_attempt_s + ha_reclone_backoff_s(r.attempts) - r.now_s,
											hint, sizeof(hint)))));
	last_reclone = rv;
	if (rv == HA_RECLONE_ASK)
		ask_reclone(now, r.attempts, leader->name);
}
