/*-------------------------------------------------------------------------
 *
 * leader_link.h
 *	  The libpq link to a leader: what the rewind decision needs, over a
 *	  replication connection, and CHECKPOINT before pg_rewind.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SUP_LEADER_LINK_H
#define SUP_LEADER_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

typedef struct LeaderInfo
{
	uint64_t	system_id;
	uint32_t	timeline;
	uint64_t	xlogpos;
	bool		in_recovery;	/* still a standby (promotion not finished) */
	char		history[8192];	/* TIMELINE_HISTORY of timeline ("" for 1) */
} LeaderInfo;

/* leader_conninfo: "host=H port=P" */
extern bool pg_leader_info(const NodeConf *c, const char *leader_conninfo, LeaderInfo *li,
						   char *err, size_t errlen);

/* Runs CHECKPOINT on the leader as the superuser (pg_rewind reads its control file). */
extern bool pg_leader_checkpoint(const NodeConf *c, const char *leader_conninfo,
								 char *err, size_t errlen);

/*
 * Makes the physical replication slot slot on the leader (reserving WAL
 * now) unless it has one by that name: so that a standby about to start
 * can stream through its slot at once, before the leader's agent sees
 * its member key.  False, with the reason in err, if it could not.
 */
extern bool pg_leader_ensure_slot(const NodeConf *c, const char *leader_conninfo,
								  const char *slot, char *err, size_t errlen);

/* Password in the environment of a child: "PGPASSWORD=..." (static buffer). */
extern const char *pg_password_env(const char *password);

#endif							/* SUP_LEADER_LINK_H */
