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

#endif							/* SUP_REJOIN_H */
