// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mpsd_yield(): the loop's clients served between the steps of long work
 * (yield.h says why).
 */
#include <stdbool.h>
#include <stddef.h>

#include "util/util.h"
#include "yield.h"

static void (*yield_serve)(void);
static long long last_us;
static bool serving;

void mpsd_yield_set(void (*serve)(void))
{
	yield_serve = serve;
	last_us = mps_now_us();
}

void mpsd_yield(void)
{
	long long now;

	/* a request served here may start work that yields in turn */
	if (!yield_serve || serving)
		return;
	now = mps_now_us();
	if (now - last_us < MPSD_YIELD_US)
		return;
	serving = true;
	yield_serve();
	serving = false;
	last_us = mps_now_us();
}
