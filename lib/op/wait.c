// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * An open's outcome: what an event says of the subflow being opened, the
 * wait for it on the events socket of a privileged caller (mpsockd waits
 * in its loop with the same verdict), and cancelling an attempt that ran
 * out of time.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "op/op.h"

/* The errno a SUB_CLOSED event stands for (its error is a positive errno). */
static int ev_close_errno(const struct mps_event *ev)
{
	if (!ev->has_error || !ev->error)
		return -ECONNRESET; /* closed by the peer, e.g. join refused */
	return -(int)ev->error;
}

/*
 * A local port of 0 matches any port (the subflow vanished before its port
 * was read).
 */
int mps_event_open_outcome(const struct mps_event *ev, __u32 token,
			   const struct sockaddr_storage *local,
			   const struct sockaddr_storage *remote)
{
	struct sockaddr_storage l = ev->local, r = ev->remote;

	if (ev->token != token || (ev->type != MPTCP_EVENT_SUB_ESTABLISHED &&
				   ev->type != MPTCP_EVENT_SUB_CLOSED))
		return 0;
	mps_addr_unmap(&l);
	mps_addr_unmap(&r);
	if (!mps_addr_equal(&l, local, !!mps_addr_port(local)))
		return 0;
	/* a SUB_CLOSED before the handshake can report port 0 */
	if (!mps_addr_equal(&r, remote, !!ev->dport))
		return 0;
	if (ev->type == MPTCP_EVENT_SUB_ESTABLISHED)
		return 1;
	return ev_close_errno(ev);
}

void mps_open_cancel(const struct mps_ctrl_result *res)
{
	char msg[MPS_MSG_LEN];
	struct mps_genl *g;

	if (!res->id || mps_genl_cached(&g))
		return;
	mps_pm_subflow_destroy(g, res->token, &res->local, &res->remote, msg,
			       sizeof(msg));
}

struct wait_ctx {
	struct mps_nl_ack ack; /* first: mps_nl_run() reads it */
	const struct mps_ctrl_result *res;
	int outcome;
};

static int wait_event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct wait_ctx *w = data;
	struct mps_event ev;

	if (mps_event_parse(nlh, &ev) == 0 && !w->outcome)
		w->outcome = mps_event_open_outcome(
			&ev, w->res->token, &w->res->local, &w->res->remote);
	return MNL_CB_OK;
}

/*
 * Wait on the events socket @ev (subscribed before the subflow was
 * created, so nothing is missed) for the outcome of the open in @res:
 * 0, the failure's -errno, or -ETIME when @timeout_ms ran out.
 */
int mps_open_wait(struct mps_genl *ev, struct mps_ctrl_result *res,
		  int timeout_ms)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct wait_ctx w = {.res = res};
	long deadline = mps_now_ms() + timeout_ms;
	struct pollfd pfd = {.fd = mnl_socket_get_fd(ev->nl), .events = POLLIN};
	ssize_t n;
	int r;

	while (!w.outcome) {
		long left = deadline - mps_now_ms();

		if (left <= 0)
			return -ETIME; /* ours, not the kernel's SYN timeout */
		r = poll(&pfd, 1, left);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		n = mnl_socket_recvfrom(ev->nl, buf, sizeof(buf));
		if (n < 0)
			return errno == ENOBUFS ? -EIO : -errno;
		mps_nl_run(buf, n, 0, 0, wait_event_cb, &w.ack);
	}
	return w.outcome > 0 ? 0 : w.outcome;
}
