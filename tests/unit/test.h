/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Minimal TAP helpers for the unit tests: named subtests, one binary each. */
#ifndef MPSOCK_TEST_H
#define MPSOCK_TEST_H

#include <stdio.h>

static int test_n, test_failed;

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

static inline int test_done(void)
{
	printf("1..%d\n", test_n);
	return test_failed ? 1 : 0;
}

#endif
