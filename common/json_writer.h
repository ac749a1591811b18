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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
/* s[0..n), which need not be NUL-terminated (a fixed-size field) */
extern void json_string_n(JsonBuf *jb, const char *s, size_t n);
extern void json_int(JsonBuf *jb, int64_t v);
extern void json_uint(JsonBuf *jb, uint64_t v);
extern void json_bool(JsonBuf *jb, bool v);
extern void json_null(JsonBuf *jb);
extern void json_raw(JsonBuf *jb, const char *raw);	/* already-valid JSON */
extern void json_raw_n(JsonBuf *jb, const char *raw, size_t n);

/*
 * The API's answer to a write: {"message": ...} (error false) or
 * {"error": ...}, with a "hint" when hint is neither NULL nor "".
 */
extern void json_answer(JsonBuf *jb, bool error, const char *message, const char *hint);

#endif							/* JSON_WRITER_H */
