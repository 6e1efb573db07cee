// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * How many subflows an application may have opened through mpsockd on one
 * connection.  The kernel applies "ip mptcp limits subflow" only to its
 * own path manager: without this, one connection got 3,000 subflows
 * through mpsockd (issue 15) and they took the namespace's local ports,
 * counted against nobody's RLIMIT_NOFILE.  The connection's live subflows
 * are counted as its socket shows them now (MPTCP_FULL_INFO), however
 * they were opened, so nothing is kept that could drift.
 */
#include <errno.h>
#include <stdio.h>
#include <netinet/tcp.h>

#include "op/op.h"
#include "subflow_cap.h"

/* The namespace's "ip mptcp limits" subflow value, or -errno. */
static int ns_subflow_limit(void)
{
	char msg[MPS_MSG_LEN];
	__u32 subflows, accepted;
	struct mps_genl *g;
	int err;

	err = mps_genl_cached(&g);
	if (!err)
		err = mps_pm_limits(g, &subflows, &accepted, msg, sizeof(msg));
	return err ? err : (int)subflows;
}

int mpsd_subflow_cap(int fd, const struct mpsd_limits *lim, char *msg,
		     size_t len)
{
	unsigned int i, live = 0, connecting = 0, cap = lim->conn_subflows;
	struct mps_snapshot snap;
	int err;

	if (!cap) {
		err = ns_subflow_limit();
		if (err < 0) {
			snprintf(msg, len,
				 "mpsockd: cannot read the "
				 "namespace's subflow limit");
			return err;
		}
		cap = err;
	}
	err = mps_snapshot_take(fd, &snap);
	if (err)
		return 0; /* the open itself will say what is wrong */
	for (i = 0; i < snap.count; i++) {
		live += mps_snapshot_live(&snap, i);
		connecting += snap.state[i] == TCP_SYN_SENT;
	}
	mps_snapshot_release(&snap);
	/* the limit counts the subflows besides the initial one */
	if (live >= cap + 1) {
		snprintf(msg, len,
			 "mpsockd: connection already has %u subflows (limit "
			 "%u besides the initial one)",
			 live, cap);
		return -ENOSPC;
	}
	if (connecting >= lim->conn_syn_sent) {
		snprintf(msg, len,
			 "mpsockd: connection already has %u subflows "
			 "connecting (limit %u)",
			 connecting, lim->conn_syn_sent);
		return -ENOSPC;
	}
	return 0;
}
