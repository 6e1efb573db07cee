// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Reads a connection's subflows (ids, addresses, TCP state, tcp_info) with
 * getsockopt(SOL_MPTCP, MPTCP_FULL_INFO) on the application's own socket.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "internal.h"

#ifndef SOL_MPTCP
#define SOL_MPTCP 284
#endif
#ifndef TCP_IS_MPTCP
#define TCP_IS_MPTCP 43
#endif

/* The fixed head of mptcp_full_info; asking for no more skips mptcp_info. */
#define FULL_INFO_HEAD offsetof(struct mptcp_full_info, mptcp_info)

/*
 * One MPTCP_FULL_INFO call.  @sfi and @ti (stride *@ti_size, may be 0) hold
 * @cap entries.  The kernel lowers *@ti_size to its own tcp_info size and
 * uses that as the stride.  Returns the kernel's subflow count, which may
 * exceed @cap.
 */
static int full_info_get(int fd, struct mptcp_subflow_info *sfi, void *ti,
			 __u32 *ti_size, unsigned int cap)
{
	struct mptcp_full_info mfi;
	socklen_t len = FULL_INFO_HEAD;

	memset(&mfi, 0, sizeof(mfi));
	mfi.size_sfinfo_user = sizeof(*sfi);
	mfi.size_tcpinfo_user = *ti_size;
	mfi.size_arrays_user = cap;
	mfi.subflow_info = (__u64)(unsigned long)sfi;
	mfi.tcp_info = (__u64)(unsigned long)ti;

	if (getsockopt(fd, SOL_MPTCP, MPTCP_FULL_INFO, &mfi, &len) < 0)
		return mps_full_info_errno(fd, errno);
	/* a kernel with a smaller subflow_info would use a stride we miss */
	if (mfi.size_sfinfo_user != sizeof(*sfi))
		return -EPROTO;
	*ti_size = mfi.size_tcpinfo_user;
	return mfi.num_subflows;
}

/*
 * Turn a failed MPTCP_FULL_INFO into the errno the API promises: the draft
 * wants EOPNOTSUPP for sockets that are not (or no longer) MPTCP; a real
 * MPTCP connection on a kernel without FULL_INFO (before 6.5) gets ENOSYS.
 */
int mps_full_info_errno(int fd, int err)
{
	int proto = 0, is_mptcp = 0;
	socklen_t len = sizeof(proto);

	if (err != EOPNOTSUPP && err != ENOPROTOOPT)
		return -err;
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0)
		return -errno;
	if (proto != IPPROTO_MPTCP)
		return -EOPNOTSUPP;
	len = sizeof(is_mptcp);
	if (getsockopt(fd, SOL_TCP, TCP_IS_MPTCP, &is_mptcp, &len) == 0 &&
	    !is_mptcp)
		return -EOPNOTSUPP; /* fell back to TCP */
	mps_log("kernel has no MPTCP_FULL_INFO: Linux 6.5 or later needed");
	return -ENOSYS;
}

int mps_snapshot_take(int fd, struct mps_snapshot *snap)
{
	unsigned int cap = MPS_SF_INLINE;
	int n, tries;
	__u32 one;

	snap->info = snap->inline_info;
	snap->state = snap->inline_state;
	snap->count = 0;

	/* The list can grow between two calls: retry a few times. */
	for (tries = 0; tries < 4; tries++) {
		one = 1; /* tcpi_state is the first byte of struct tcp_info */
		n = full_info_get(fd, snap->info, snap->state, &one, cap);
		if (n < 0)
			goto fail;
		if ((unsigned int)n <= cap) {
			snap->count = n;
			return 0;
		}
		mps_snapshot_release(snap);
		cap = n + 8;
		snap->info = calloc(cap, sizeof(*snap->info));
		snap->state = calloc(cap, sizeof(*snap->state));
		if (!snap->info || !snap->state) {
			n = -ENOMEM;
			goto fail;
		}
	}
	n = -EAGAIN;
fail:
	mps_snapshot_release(snap);
	return n;
}

void mps_snapshot_release(struct mps_snapshot *snap)
{
	if (snap->info != snap->inline_info)
		free(snap->info);
	if (snap->state != snap->inline_state)
		free(snap->state);
	snap->info = snap->inline_info;
	snap->state = snap->inline_state;
	snap->count = 0;
}

/* The kernel's struct tcp_info is 280 bytes in 6.18; leave room to grow. */
#define TCP_INFO_MAX 512

int mps_subflow_tcp_info(int fd, __u32 id, void *info, socklen_t *len)
{
	struct mptcp_subflow_info sfi[MPS_SF_INLINE];
	unsigned char ti[MPS_SF_INLINE][TCP_INFO_MAX];
	struct mptcp_subflow_info *psfi = sfi;
	unsigned char *pti = &ti[0][0];
	unsigned int cap = MPS_SF_INLINE, i;
	int n, tries, err = -ESRCH;
	__u32 want, size;

	/* at least the state byte, to skip closed entries */
	want = *len < TCP_INFO_MAX ? *len : TCP_INFO_MAX;
	if (!want)
		want = 1;

	for (tries = 0; tries < 4; tries++) {
		size = want;
		n = full_info_get(fd, psfi, pti, &size, cap);
		if (n < 0) {
			err = n;
			goto out;
		}
		if ((unsigned int)n <= cap)
			break;
		if (psfi != sfi) {
			free(psfi);
			free(pti);
		}
		cap = n + 8;
		psfi = calloc(cap, sizeof(*psfi));
		pti = calloc(cap, want);
		if (!psfi || !pti) {
			err = -ENOMEM;
			goto out;
		}
	}
	if (tries == 4) {
		err = -EAGAIN;
		goto out;
	}
	for (i = 0; i < (unsigned int)n; i++) {
		const unsigned char *entry = pti + (size_t)i * size;

		/* tcpi_state is the first byte of struct tcp_info */
		if (psfi[i].id != id || entry[0] == TCP_CLOSE)
			continue;
		/* min(asked, kernel's tcp_info), as getsockopt(TCP_INFO) */
		if (*len > size)
			*len = size;
		memcpy(info, entry, *len);
		err = 0;
		break;
	}
out:
	if (psfi != sfi) {
		free(psfi);
		free(pti);
	}
	return err;
}

/* Entry @i's addresses with their ports, v4-mapped ones as IPv4. */
void mps_snapshot_tuple(const struct mps_snapshot *snap, unsigned int i,
			struct sockaddr_storage *l, struct sockaddr_storage *r)
{
	const struct mptcp_subflow_addrs *a = &snap->info[i].addrs;

	memset(l, 0, sizeof(*l));
	memset(r, 0, sizeof(*r));
	memcpy(l, &a->ss_local, mps_sockaddr_len(a->sa_family));
	memcpy(r, &a->ss_remote, mps_sockaddr_len(a->sa_family));
	mps_addr_unmap(l);
	mps_addr_unmap(r);
}
