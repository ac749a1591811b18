/*-------------------------------------------------------------------------
 *
 * text.h
 *	  Small character-level helpers shared by the agent, the supervisor and
 *	  the router: a hex digit's value, the node-name syntax, a plain
 *	  decimal number, and visible ASCII.  Pure C, unit-tested in tests/unit/test_text.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef HA_TEXT_H
#define HA_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The value of a hex digit (0-9, a-f, A-F), or -1. */
extern int	text_hex_value(int c);

/*
 * A node, scope or server name: one or more of [A-Za-z0-9_.-], and, when
 * cap is not 0, shorter than cap (so that it fits a cap-byte field).
 */
extern bool text_valid_name(const char *s, size_t cap);

/*
 * A plain decimal number (digits only: no sign, blank or unit) up to max.
 * False, *out untouched, for anything else.
 */
extern bool text_parse_uint(const char *s, uint64_t max, uint64_t *out);

/*
 * Every byte of s[0..n) is visible ASCII (0x21..0x7e): no blank, control
 * byte, DEL or non-ASCII byte, which an HTTP request line cannot carry.
 */
extern bool text_visible_ascii(const char *s, size_t n);

#endif							/* HA_TEXT_H */
