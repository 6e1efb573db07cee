/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Minimal TAP helpers for the unit tests: named subtests, one binary each. */
#ifndef MPSOCK_TEST_H
#define MPSOCK_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_n, test_failed, test_planned = -1;

#define CHECK(name, cond)                                                      \
	do {                                                                   \
		test_n++;                                                      \
		if (cond) {                                                    \
			printf("ok %d - %s\n", test_n, name);                  \
		} else {                                                       \
			test_failed++;                                         \
			printf("not ok %d - %s (%s:%d: %s)\n", test_n, name,   \
			       __FILE__, __LINE__, #cond);                     \
		}                                                              \
	} while (0)

/* A check that cannot run here: counted, so that the plan stays whole. */
static inline void test_skip(const char *name, const char *why)
{
	printf("ok %d - %s # SKIP %s\n", ++test_n, name, why);
}

/*
 * The plan, up front: a program that stops early, or runs a check less,
 * then fails instead of passing with the checks it happened to run.
 */
static inline void test_plan(int n)
{
	test_planned = n;
	printf("1..%d\n", n);
}

/*
 * Nothing of the program can run here.  Exit 0, not 77: meson runs these
 * with protocol 'tap', which reads the SKIP plan and counts any non-zero
 * status as an error (meson 1.0).  MPSOCK_TEST_STRICT=1 (CI) fails it.
 */
static inline int test_skip_all(const char *why)
{
	const char *strict = getenv("MPSOCK_TEST_STRICT");

	if (strict && !strcmp(strict, "1")) {
		printf("1..1\nnot ok 1 - skipped under MPSOCK_TEST_STRICT: %s\n",
		       why);
		return 1;
	}
	printf("1..0 # SKIP %s\n", why);
	return 0;
}

static inline int test_done(void)
{
	if (test_planned < 0) {
		printf("1..%d\n", test_n);
	} else if (test_n != test_planned) {
		printf("# planned %d checks, ran %d\n", test_planned, test_n);
		return 1;
	}
	return test_failed ? 1 : 0;
}

#endif
