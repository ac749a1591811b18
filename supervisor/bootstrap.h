/*-------------------------------------------------------------------------
 *
 * bootstrap.h
 *	  Bootstrap of an empty data directory: initdb when this node wins
 *	  the initialize key, else a clone (pg_basebackup) from a member.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SUP_BOOTSTRAP_H
#define SUP_BOOTSTRAP_H

#include "conf.h"
#include "node.h"

/* NODE_CONTINUE when postgres runs */
extern NodeOutcome bootstrap(const NodeConf *c);

#endif							/* SUP_BOOTSTRAP_H */
