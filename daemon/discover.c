// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What the kernel lists, told to the policy: every connection and subflow
 * at start and after lost events (sock_diag dumps), and the established
 * subflows' round trips for the interactive mode's ranking.
 */
#include <netinet/tcp.h>

#include "op/op.h"
#include "pm_driver.h"
#include "policy_state.h"
#include "util/tcp_stats.h"

static int found_msk(const struct mps_msk *m, void *data)
{
	struct policy *p = data;

	if (!m->token || m->sock.state != TCP_ESTABLISHED)
		return 0;
	return pol_discover_conn(p, m->token, &m->sock.local, &m->sock.remote,
				 policy_state_listening(&m->sock.local),
				 m->sock.cookie);
}

static int found_subflow(const struct mps_diag_subflow *d, void *data)
{
	struct pm_found_subflow f = {
		.token = d->mptcp.token,
		.local = d->sock.local,
		.remote = d->sock.remote,
		.state = d->sock.state,
		.ifindex = d->sock.ifindex,
		.flags = d->mptcp.flags,
		.loc_id = d->mptcp.local_addr_id,
		.rem_id = d->mptcp.remote_addr_id,
	};

	pol_discover_subflow(data, &f);
	return 0;
}

static bool known(__u32 token)
{
	return pol_knows(&pm_policy, token);
}

/* A failed dump changes nothing: the records stay as they were. */
int pm_discover(struct policy *p)
{
	int err;

	policy_state_scan_listeners();
	pol_discover_begin(p);
	err = mps_diag_msk_dump(found_msk, p);
	if (!err)
		err = mps_diag_subflow_dump(found_subflow, p);
	if (err)
		return err;
	pol_discover_end(p);
	policy_state_prune(known);
	return 0;
}

static int rank_cb(const struct mps_diag_subflow *d, void *data)
{
	struct mps_tcp_stats st;

	mps_tcp_stats_read(d->tcpi, d->tcpi_len, &st);
	pol_rank_sample(data, d->mptcp.token, &d->sock.local, &d->sock.remote,
			st.rtt_us, st.last_ack_recv_ms);
	return 0;
}

/* One dump of the established sockets: cheaper than a lookup each. */
void pm_rank(struct policy *p)
{
	if (!pol_wants_rank(p) ||
	    mps_diag_subflow_dump_states(1 << TCP_ESTABLISHED, rank_cb, p))
		return;
	pol_rank(p);
}
