/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What mpsockd tells systemd (sd_notify): serving, reloading, stopping. */
#ifndef MPSOCKD_NOTIFY_H
#define MPSOCKD_NOTIFY_H

/* serving: the socket is bound and the path manager runs */
void mpsd_notify_ready(void);
/* SIGHUP: before the file is read; mpsd_notify_reloaded() when done */
void mpsd_notify_reloading(void);
/* after a reload; @status says what came of it */
void mpsd_notify_reloaded(const char *status);
/* SIGTERM or SIGINT: the clients are being let go */
void mpsd_notify_stopping(void);

#endif
