/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The namespace's MPTCP endpoint table ("ip mptcp endpoint", as
 * NetworkManager configures it) and limits ("ip mptcp limits"), which the
 * kernel ignores under the userspace path manager: read for the
 * "endpoints" policy, which applies them as the in-kernel one would.
 */
#ifndef MPSOCKD_ENDPOINTS_H
#define MPSOCKD_ENDPOINTS_H

#include <stdbool.h>
#include <sys/socket.h>
#include <linux/types.h>

#include "op/op.h"

/* the kernel keeps at most this many endpoints (MPTCP_PM_ADDR_MAX) */
#define EP_MAX 8

struct ep_table {
	struct mps_local_id ep[EP_MAX]; /* in the kernel's order */
	unsigned int n;
	__u32 subflows_max, add_addr_accepted_max;
};

/*
 * Read the table again: 1 if it differs from what was read before (the
 * caller then applies it), 0 if not, -errno if it could not be read (the
 * last good one stays).
 */
int endpoints_refresh(void);
const struct ep_table *endpoints(void);
/* The endpoint of @addr (the port not compared), NULL if none. */
const struct mps_local_id *endpoint_of(const struct sockaddr_storage *addr);

#endif
