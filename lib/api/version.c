// SPDX-License-Identifier: LGPL-2.1-or-later
/* The library's version, for run-time checks by applications. */
#include "op/op.h"
#include "mpsock-build.h"

const char *mpsock_version(void)
{
	return MPSOCK_VERSION;
}
