/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mpsockd's log lines: one call per line, each with a syslog priority. */
#ifndef MPSOCKD_LOG_H
#define MPSOCKD_LOG_H

#include <syslog.h>

/*
 * Write "mpsockd: " and the message to standard error, one line per '\n'
 * in it; when standard error is the journal (JOURNAL_STREAM), each line
 * starts with "<PRIO>" so that journald files it at @prio (LOG_ERR,
 * LOG_WARNING, LOG_NOTICE, LOG_INFO).
 */
void mpsd_log(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The same for what a client can cause (a failed request, a refusal):
 * at most a burst and then a few lines a second per call site (its @fmt)
 * and for all sites together; the rest is counted and reported as "N
 * similar messages suppressed".
 */
void mpsd_log_limited(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One client's own allowance (zeroed: full). */
struct mpsd_log_bucket {
	long tokens_ms; /* tokens in thousandths, refilled by the ms */
	long last_ms;
};

/* The same, first within @who's allowance (NULL: none). */
void mpsd_log_from(struct mpsd_log_bucket *who, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Report what was suppressed, once a site has been calm for a second. */
void mpsd_log_flush(void);
/* When mpsd_log_flush() has something to say: ms from now, or -1. */
long mpsd_log_next_ms(void);

#endif
