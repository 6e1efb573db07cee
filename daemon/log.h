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

#endif
