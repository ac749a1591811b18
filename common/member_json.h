/*-------------------------------------------------------------------------
 *
 * member_json.h
 *	  Member znode body <-> HaMember (the format every node reads and
 *	  writes, Patroni's with pg_ha's extra fields).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEMBER_JSON_H
#define MEMBER_JSON_H

#include "ha_types.h"
#include "json_writer.h"

extern void member_to_json(const HaMember *m, JsonBuf *jb);

/*
 * Parses a member body (untrusted: any bytes may be in a znode).  The name
 * is not in the body (it is the znode's name) and is left untouched.
 * Returns true on success; on failure returns false and writes a short
 * reason into err (errlen bytes).  Unknown keys are ignored; nesting deeper
 * than 8 and strings longer than the fields are errors, never overflows.
 */
extern bool member_from_json(const char *data, size_t len, HaMember *m,
							 char *err, size_t errlen);

#endif							/* MEMBER_JSON_H */
