/*-------------------------------------------------------------------------
 *
 * json_merge.h
 *	  JSON Merge Patch (RFC 7386) on text, for PATCH /config: what the
 *	  patch sets replaces, what it sets to null goes, objects merge member
 *	  by member.  Pure C, bounded (nesting, members per object), no
 *	  allocation beyond the caller's output buffer.
 *
 *-------------------------------------------------------------------------
 */
#ifndef JSON_MERGE_H
#define JSON_MERGE_H

#include "json_writer.h"

#define JSON_MERGE_MAX_MEMBERS	64	/* per object, in either document */

/*
 * Writes target merged with patch into jb.  Both must be valid JSON (a
 * target that is not an object is replaced, as the RFC says); members keep
 * the target's order, new ones follow in the patch's.  False, with the
 * reason in err, when either is not valid JSON or an object has more than
 * JSON_MERGE_MAX_MEMBERS members; jb->overflow tells when the output did
 * not fit.
 */
extern bool json_merge_patch(const char *target, size_t target_len,
							 const char *patch, size_t patch_len,
							 JsonBuf *jb, char *err, size_t errlen);

#endif							/* JSON_MERGE_H */
