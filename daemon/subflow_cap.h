/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Subflows per connection opened through mpsockd: the cap (issue 15). */
#ifndef MPSOCKD_SUBFLOW_CAP_H
#define MPSOCKD_SUBFLOW_CAP_H

#include <stddef.h>

#include "config.h"

/*
 * May connection @fd get one more subflow?  0, or -ENOSPC with @msg when
 * it has its limit of live subflows (@lim->conn_subflows, 0: the
 * namespace's "ip mptcp limits" subflow value) or of SYN_SENT ones.
 */
int mpsd_subflow_cap(int fd, const struct mpsd_limits *lim, char *msg,
		     size_t len);

#endif
