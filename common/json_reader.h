/*-------------------------------------------------------------------------
 *
 * json_reader.h
 *	  The JSON reader: lookups for the agent, the supervisor and the
 *	  router, and the strict parser they are made of, for format readers
 *	  (member_json.c).  Pure C, no allocation; the input is untrusted.
 *
 *-------------------------------------------------------------------------
 */
#ifndef JSON_READER_H
#define JSON_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* Is data one valid JSON object (nesting at most 8 deep)? */
extern bool json_is_object(const char *data, size_t len);

/* Is data one valid JSON value of any kind (nesting at most 8 deep)? */
extern bool json_is_value(const char *data, size_t len);

/*
 * An array of rows, each an array of scalars (json_rows.c; Patroni's /history:
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

/*
 * The parser, for a reader of one format: jp_parse_document parses an
 * object and calls fn for each of its members, which must consume the
 * value (jp_get_*, jp_parse_object for a nested object, jp_parse_array
 * for an array, jp_skip_value for anything else).  Every function returns
 * false on an error, recording the first one in the parser (jp_error);
 * jp_parse_document then writes it with its offset into err.
 */
typedef struct JsonParser
{
	const unsigned char *start;
	const unsigned char *p;
	const unsigned char *end;
	const char *error;			/* first error, a static string */
	size_t		error_at;
} JsonParser;

/* keys up to JSON_KEY_CAP - 1 bytes reach a JsonMemberFn; longer ones come as "" */
#define JSON_KEY_CAP	128

/* depth: that of the object holding the member (the document's is 1) */
typedef bool (*JsonMemberFn) (JsonParser *P, const char *key, size_t keylen,
							  int depth, void *arg);

extern bool jp_parse_document(const char *data, size_t len, JsonMemberFn fn,
							  void *arg, char *err, size_t errlen);
/* the object at P->p; fn NULL skips its members; keys too long come as "" */
extern bool jp_parse_object(JsonParser *P, int depth, JsonMemberFn fn,
							void *arg);

/* an element of an array, index from 0; depth: that of the array */
typedef bool (*JsonElementFn) (JsonParser *P, int index, int depth, void *arg);

/* the array at P->p; fn, which must consume the element, NULL skips them */
extern bool jp_parse_array(JsonParser *P, int depth, JsonElementFn fn,
						   void *arg);
/* any value; depth is that of the container holding it */
extern bool jp_skip_value(JsonParser *P, int depth);
extern bool jp_key_is(const char *key, size_t keylen, const char *name);

/*
 * Values of known keys: JSON null leaves the field as it was (jp_take_null
 * is true when it consumed one).  A string must fit cap with its NUL and
 * hold no NUL; an integer is non-negative, without fraction or exponent,
 * and at most max.
 */
extern bool jp_take_null(JsonParser *P);
extern bool jp_get_string(JsonParser *P, char *field, size_t cap);
extern bool jp_get_uint(JsonParser *P, uint64_t max, uint64_t *out);
extern bool jp_get_bool(JsonParser *P, bool *out);
/* jp_get_uint without null */
extern bool jp_parse_uint(JsonParser *P, uint64_t max, uint64_t *out);
extern bool jp_error(JsonParser *P, const char *msg);
extern void jp_skip_ws(JsonParser *P);
/* P at the start of data; jp_document_end: only blanks may follow, else (and on !ok) err says why */
extern void jp_init(JsonParser *P, const char *data, size_t len);
extern bool jp_document_end(JsonParser *P, bool ok, char *err, size_t errlen);

#endif							/* JSON_READER_H */
