/*
 * fuzz_check.h
 *	  The fuzz targets' assertion: a failed check aborts, so libFuzzer keeps
 *	  the input that broke an invariant (plain assert may be compiled out).
 */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

/*
 * The input after its first byte (which picks what a target fuzzes), in a
 * malloc'd buffer of exactly its size, so a read past its end is an ASan
 * report.  NULL for an empty input.
 */
static inline char *
fuzz_tail(const uint8_t *data, size_t size, size_t *n)
{
	char	   *s;

	if (size < 1)
		return NULL;
	*n = size - 1;
	s = malloc(*n ? *n : 1);
	CHECK(s != NULL);
	memcpy(s, data + 1, *n);
	return s;
}

#endif							/* FUZZ_CHECK_H */
