/*-------------------------------------------------------------------------
 *
 * unit_member.h
 *	  A member for the unit tests of the pure rules: running, on timeline
 *	  2, at lsn, with the role given; tests change what they look at.
 *
 *-------------------------------------------------------------------------
 */
#ifndef UNIT_MEMBER_H
#define UNIT_MEMBER_H

#include <string.h>

#include "ha_types.h"

static inline HaMember
unit_member(const char *name, const char *role, uint64_t lsn)
{
	HaMember	m;

	memset(&m, 0, sizeof(m));
	strcpy(m.name, name);
	strcpy(m.role, role);
	strcpy(m.state, "running");
	m.timeline = 2;
	m.xlog_location = lsn;
	return m;
}

#endif							/* UNIT_MEMBER_H */
