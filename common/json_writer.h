/*-------------------------------------------------------------------------
 *
 * json_writer.h
 *	  A bounded JSON writer into a caller-owned buffer.  Pure C, no
 *	  allocation: when the buffer is full, further output is dropped and
 *	  `overflow` is set, so a caller can tell and never writes past cap.
 *
 *-------------------------------------------------------------------------
 */
#ifndef JSON_WRITER_H
#define JSON_WRITER_H

#include "ha_types.h"

typedef struct JsonBuf
{
	char	   *data;			/* always NUL-terminated (cap >= 1) */
	size_t		len;
	size_t		cap;
	bool		overflow;
	bool		need_comma;		/* internal: a value precedes in this container */
} JsonBuf;

extern void json_init(JsonBuf *jb, char *buf, size_t cap);
extern void json_object_begin(JsonBuf *jb);
extern void json_object_end(JsonBuf *jb);
extern void json_array_begin(JsonBuf *jb);
extern void json_array_end(JsonBuf *jb);
/* key: emits "key": (with a comma first if needed); then a value call */
extern void json_key(JsonBuf *jb, const char *key);
extern void json_string(JsonBuf *jb, const char *s);	/* escapes " \ and control chars */
extern void json_int(JsonBuf *jb, int64_t v);
extern void json_uint(JsonBuf *jb, uint64_t v);
extern void json_bool(JsonBuf *jb, bool v);
extern void json_null(JsonBuf *jb);
extern void json_raw(JsonBuf *jb, const char *raw);	/* already-valid JSON */

/* Member znode body <-> HaMember (the format every node reads and writes). */
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

/* Is data one valid JSON object (nesting at most 8 deep)? */
extern bool json_is_object(const char *data, size_t len);

/*
 * A top-level string field of a JSON object (a request body): copies it
 * into out ("" if absent or null).  False with a reason in err when the
 * document is not a valid object or the value is not a string that fits.
 */
extern bool json_get_string(const char *data, size_t len, const char *key,
							char *out, size_t cap, char *err, size_t errlen);

/*
 * One scalar of a JSON object by its path: keys of nested objects joined
 * with '.' ("xlog.received_location").  The supervisor and the router read
 * the agent's HTTP replies with these.  True only when the first member on
 * the path has a value of the asked type (a non-negative integer that fits
 * uint64_t; true or false); false when it is absent, null, of another type
 * or out of range, or when the document is not valid JSON up to there.
 * Reading stops at that first member: what follows is not checked, so a
 * reply cut short by its reader's buffer still yields the fields before
 * the cut (a value at the very end of the input is not complete: false).
 */
extern bool json_find_uint(const char *data, size_t len, const char *path,
						   uint64_t *out);
extern bool json_find_bool(const char *data, size_t len, const char *path,
						   bool *out);

/*
 * An array of rows, each an array of scalars (Patroni's /history:
 * [[timeline, lsn, reason, timestamp, new_leader], ...]).  For each row,
 * fn gets its cells (at most maxcells, in the caller's cells array); a
 * false from fn stops reading with an error.  Strings must fit a cell's
 * text (an error otherwise, never a truncation); integers are read as
 * non-negative uint64; other values are checked and passed as OTHER.
 */
typedef enum JsonCellKind
{
	JSON_CELL_NULL,
	JSON_CELL_UINT,
	JSON_CELL_STRING,
	JSON_CELL_OTHER
} JsonCellKind;

typedef struct JsonCell
{
	JsonCellKind kind;
	uint64_t	uint_value;
	char		text[256];
} JsonCell;

typedef bool (*JsonRowFn) (void *arg, const JsonCell *cells, int ncells);

extern bool json_read_rows(const char *data, size_t len, int maxcells,
						   JsonCell *cells, JsonRowFn fn, void *arg,
						   char *err, size_t errlen);

#endif							/* JSON_WRITER_H */
