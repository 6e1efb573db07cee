// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One subflow's socket option, as the draft's MPTCP_SUB_GETSOCKOPT and
 * MPTCP_SUB_SETSOCKOPT want it: the subflow is found by its id on the
 * application's socket, then the BPF program (kernel/bpf_sockopt.c) reads
 * or sets the option on exactly that subflow.  Runs with CAP_NET_ADMIN,
 * CAP_BPF and CAP_PERFMON: in mpsockd, or in a privileged application.
 */
#include <stdio.h>
#include <string.h>

#include "op/op.h"

static int refused(const char *name, bool set, struct mps_ctrl_result *res)
{
	snprintf(res->msg, sizeof(res->msg),
		 "this kernel refuses %s%s on a subflow from BPF",
		 set ? "setting " : "reading ", name);
	return -EOPNOTSUPP;
}

int mps_ctrl_sockopt(int fd, __u32 id, bool set, int level, int optname,
		     void *val, socklen_t *len, struct mps_ctrl_result *res)
{
	struct mps_sockopt_req r = {
		.level = level,
		.optname = optname,
		.set = set,
		.val = val,
		.len = *len,
		.msg = res->msg,
	};
	struct mps_snapshot snap;
	struct mps_sf_diag d;
	const char *name;
	unsigned int i;
	int err, opt, l, o, result;

	memset(res, 0, sizeof(*res));
	if (*len < 1 || *len > MPS_SUBOPT_VAL_MAX)
		return -EINVAL;
	opt = mps_subopt_index(level, optname);
	if (opt < 0)
		return -ENOPROTOOPT;
	mps_subopt_at(opt, &l, &o, &name);
	err = mps_sockopt_prepare();
	if (err) {
		/* the whole reason matters more than its tail */
		snprintf(res->msg, sizeof(res->msg), "%.*s",
			 (int)sizeof(res->msg) - 1, mps_sockopt_status());
		return -EOPNOTSUPP;
	}
	if (mps_sockopt_path(opt, set) == MPS_PATH_NONE)
		return refused(name, set, res);
	err = mps_netns_cookie(fd, &r.netns);
	if (err)
		return err;
	err = mps_ctrl_find(fd, id, &snap, &i, res);
	if (err)
		return err;
	r.sfi = &snap.info[i];
	r.token = res->token;
	r.local = &res->local;
	r.remote = &res->remote;
	if (mps_sockopt_path(opt, set) != MPS_PATH_ITER) {
		/* SET_FLAGS always sets the flag: send the one it has */
		err = mps_diag_lookup(&snap, &i, 1, &d);
		if (!err && !d.found)
			err = -ESRCH;
		if (err)
			goto out;
		r.backup = d.flags & MPTCP_SUBFLOW_FLAG_BKUP_LOC;
	}
	err = mps_sockopt_run_req(&r, opt, &result);
	if (err == -EIO)
		snprintf(res->msg, sizeof(res->msg),
			 "the subflow's option hook did not run");
	if (err)
		goto out;
	err = mps_sockopt_refused(result) ? refused(name, set, res) : result;
out:
	mps_snapshot_release(&snap);
	return err;
}
