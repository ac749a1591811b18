/*-------------------------------------------------------------------------
 *
 * slot_name.h
 *	  A member's physical replication slot name, built in one place for
 *	  the agent (which creates the slots and writes primary_slot_name when
 *	  it follows a leader) and the supervisor (which writes
 *	  primary_slot_name when it prepares a standby): postgres restarts the
 *	  WAL receiver whenever primary_slot_name changes, so both must write
 *	  the very same name.  Pure C.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SLOT_NAME_H
#define SLOT_NAME_H

#include <stdbool.h>
#include <stddef.h>

/* NAMEDATALEN: a slot name has at most 63 bytes */
#define SLOT_NAME_LEN	64

/*
 * Patroni's slot_name_from_member_name: the member name in lower case,
 * every character but [a-z0-9_] replaced by '_', cut to 63 bytes.
 * (Patroni writes u<code> for characters other than '-' and '.'; a pg_ha
 * node name has none.)  False, with "" in out, if name is empty or cap is
 * too small for the result.
 */
extern bool slot_name_for_member(const char *name, char *out, size_t cap);

#endif							/* SLOT_NAME_H */
