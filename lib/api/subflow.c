// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The native read API: live subflows with kernel ids, TCP state, addresses,
 * both backup flags and address ids (FULL_INFO joined with sock_diag).
 */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>

#include "op/op.h"

static __u8 subflow_flags(const struct mps_sf_diag *d)
{
	__u8 f = 0;

	if (!d->found)
		return 0;
	f |= MPSOCK_SUBFLOW_FLAGS_KNOWN;
	if (d->flags & MPTCP_SUBFLOW_FLAG_BKUP_LOC)
		f |= MPSOCK_SUBFLOW_BACKUP_LOCAL;
	if (d->flags & MPTCP_SUBFLOW_FLAG_BKUP_REM)
		f |= MPSOCK_SUBFLOW_BACKUP_REMOTE;
	if (d->flags & MPTCP_SUBFLOW_FLAG_FULLY_ESTABLISHED)
		f |= MPSOCK_SUBFLOW_FULLY_ESTABLISHED;
	if (d->flags &
	    (MPTCP_SUBFLOW_FLAG_JOIN_LOC | MPTCP_SUBFLOW_FLAG_JOIN_REM))
		f |= MPSOCK_SUBFLOW_JOINED;
	return f;
}

void mps_subflow_fill(struct mpsock_subflow *out,
		      const struct mps_snapshot *snap, unsigned int i,
		      const struct mps_sf_diag *d)
{
	const struct mptcp_subflow_addrs *a = &snap->info[i].addrs;

	memset(out, 0, sizeof(*out));
	out->id = snap->info[i].id;
	out->state = snap->state[i];
	out->local_addr_id = d->local_addr_id;
	out->remote_addr_id = d->remote_addr_id;
	out->flags = subflow_flags(d);
	out->diag_flags = d->flags;
	memcpy(&out->local, &a->ss_local, mps_sockaddr_len(a->sa_family));
	memcpy(&out->remote, &a->ss_remote,
	       mps_sockaddr_len(a->sa_remote.sa_family));
}

int mpsock_subflow_list(int fd, struct mpsock_subflow *subs, unsigned int n)
{
	struct mps_sf_diag diag[MPS_SF_INLINE];
	unsigned int idx[MPS_SF_INLINE];
	struct mps_snapshot snap;
	unsigned int live, done, chunk, i;
	int err;

	if (!subs && n)
		return mps_fail(-EFAULT);
	err = mps_snapshot_take(fd, &snap);
	if (err)
		return mps_fail(err);

	/* a snapshot past MPS_SF_INLINE entries is walked in slices */
	live = 0;
	for (done = 0; done < snap.count; done += chunk) {
		unsigned int base = live, want;

		chunk = snap.count - done < MPS_SF_INLINE ? snap.count - done
							  : MPS_SF_INLINE;
		for (i = done, want = 0; i < done + chunk; i++)
			if (mps_snapshot_live(&snap, i))
				idx[want++] = i;
		live += want;
		if (base >= n)
			continue;
		if (want > n - base)
			want = n - base;
		err = mps_diag_lookup(&snap, idx, want, diag);
		if (err)
			goto out;
		for (i = 0; i < want; i++)
			mps_subflow_fill(&subs[base + i], &snap, idx[i],
					 &diag[i]);
	}
	err = live;
out:
	mps_snapshot_release(&snap);
	return err < 0 ? mps_fail(err) : err;
}

int mpsock_subflow_get(int fd, __u32 id, struct mpsock_subflow *sub)
{
	struct mps_snapshot snap;
	struct mps_sf_diag diag;
	unsigned int i;
	int err;

	if (!sub)
		return mps_fail(-EFAULT);
	err = mps_snapshot_take(fd, &snap);
	if (err)
		return mps_fail(err);
	err = -ESRCH;
	for (i = 0; i < snap.count; i++) {
		if (snap.info[i].id != id || !mps_snapshot_live(&snap, i))
			continue;
		err = mps_diag_lookup(&snap, &i, 1, &diag);
		if (!err)
			mps_subflow_fill(sub, &snap, i, &diag);
		break;
	}
	mps_snapshot_release(&snap);
	return err ? mps_fail(err) : 0;
}

int mpsock_subflow_tcp_info(int fd, __u32 id, void *info, socklen_t *len)
{
	int err;

	if (!info || !len)
		return mps_fail(-EFAULT);
	err = mps_subflow_tcp_info(fd, id, info, len);
	return err ? mps_fail(err) : 0;
}
