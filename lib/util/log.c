// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Diagnostics: libmpsock runs inside other people's programs, so it prints
 * nothing unless the environment variable MPSOCK_DEBUG is set.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/util.h"

static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static bool log_enabled;

static void log_init(void)
{
	const char *v = getenv("MPSOCK_DEBUG");

	log_enabled = v && *v && *v != '0';
}

void mps_log(const char *fmt, ...)
{
	va_list ap;

	pthread_once(&log_once, log_init);
	if (!log_enabled)
		return;
	va_start(ap, fmt);
	fputs("libmpsock: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
