/*-------------------------------------------------------------------------
 *
 * rejoin.h
 *	  Rejoining a leader as its standby: the rewind decision (rewind.c),
 *	  pg_rewind, or a re-clone that keeps the old copy until the new one
 *	  runs.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SUP_REJOIN_H
#define SUP_REJOIN_H

#include <stdbool.h>

#include "conf.h"

typedef enum RejoinResult
{
	REJOIN_STARTED,				/* postgres runs as the leader's standby */
	REJOIN_NOT_STARTED,			/* postgres could not be started */
	REJOIN_REFUSED,				/* the leader belongs to another cluster: nothing changed */
} RejoinResult;

/* Makes this node a standby of leader (at leader_ci); postgres must be stopped. */
extern RejoinResult rejoin_steps(const NodeConf *c, const char *leader, const char *leader_ci);

/* Moves the data directory aside and clones leader again; true if postgres runs. */
extern bool reclone(const NodeConf *c, const char *leader, const char *leader_ci);

/* The same, with step ("rejoin", "reinit") starting its log lines. */
extern bool reclone_as(const NodeConf *c, const char *step, const char *leader,
					   const char *leader_ci);

/*
 * The agent's reinit request (postgres stopped): re-clone from leader; on a
 * failed clone the old data directory is back and starts again as its
 * standby.  True if postgres runs.
 */
extern bool reinit_steps(const NodeConf *c, const char *leader, const char *leader_ci);

#endif							/* SUP_REJOIN_H */
