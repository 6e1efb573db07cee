/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every fuzz target defines: libFuzzer calls it with each input, and
 * replay.c does the same over a corpus in the normal build.
 */
#ifndef MPSOCK_FUZZ_H
#define MPSOCK_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A check whose failure is a finding: abort, so that libFuzzer keeps it. */
#define FUZZ_ASSERT(cond)                                                      \
	do {                                                                   \
		if (!(cond))                                                   \
			__builtin_trap();                                      \
	} while (0)

#endif
