/*-------------------------------------------------------------------------
 *
 * pg.h
 *	  The node's postgres, in three files: its data directory
 *	  (datadir.c), the postmaster child (postmaster.c), and the libpq link
 *	  to a leader that the rewind decision needs (leader_link.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef SUP_PG_H
#define SUP_PG_H

#include "datadir.h"
#include "leader_link.h"
#include "postmaster.h"

#endif							/* SUP_PG_H */
