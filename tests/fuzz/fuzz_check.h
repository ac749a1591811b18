/*
 * fuzz_check.h
 *	  The fuzz targets' assertion: a failed check aborts, so libFuzzer keeps
 *	  the input that broke an invariant (plain assert may be compiled out).
 */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

#endif							/* FUZZ_CHECK_H */
