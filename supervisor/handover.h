/*-------------------------------------------------------------------------
 *
 * handover.h
 *	  The graceful hand-over of a leader: name the target the synchronous
 *	  standby, stop postgres, wait for a replica to confirm the last WAL
 *	  position, then release the leader key.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SUP_HANDOVER_H
#define SUP_HANDOVER_H

#include <stdbool.h>

#include "conf.h"

extern bool handover_release(const NodeConf *c, const char *target_name, const char *target_api_url);

#endif							/* SUP_HANDOVER_H */
