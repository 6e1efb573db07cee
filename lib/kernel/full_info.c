// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Reads a connection's subflows (ids, addresses, TCP state, tcp_info) with
 * getsockopt(SOL_MPTCP, MPTCP_FULL_INFO) on the application's own socket.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "kernel/kernel.h"

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
	return mps_full_info_reply(&mfi, ti_size);
}

int mps_full_info_reply(const struct mptcp_full_info *mfi, __u32 *ti_size)
{
	/* a kernel with a smaller subflow_info would use a stride we miss */
	if (mfi->size_sfinfo_user != sizeof(struct mptcp_subflow_info))
		return -EPROTO;
	/* the kernel only lowers it; more would overrun the caller's rows */
	if (mfi->size_tcpinfo_user > *ti_size)
		return -EPROTO;
	/* a count that is not an int is not a count */
	if (mfi->num_subflows > INT_MAX)
		return -EPROTO;
	*ti_size = mfi->size_tcpinfo_user;
	return mfi->num_subflows;
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

/*
 * FULL_INFO into the caller's arrays *@sfi and *@ti (@cap entries, a
 * tcp_info stride of @want bytes), or into larger heap arrays when the
 * connection has more subflows; the list can grow between two calls, so
 * a few tries.  Returns the count, *@size the stride the kernel used, or
 * -errno.  Either way the caller frees the arrays that are not its own.
 */
static int full_info_grow(int fd, struct mptcp_subflow_info **sfi,
			  unsigned char **ti, __u32 want, __u32 *size,
			  unsigned int cap)
{
	struct mptcp_subflow_info *own_sfi = *sfi;
	int n, tries;

	for (tries = 0; tries < 4; tries++) {
		*size = want;
		n = full_info_get(fd, *sfi, *ti, size, cap);
		if (n < 0 || (unsigned int)n <= cap)
			return n;
		if (*sfi != own_sfi) {
			free(*sfi);
			free(*ti);
		}
		cap = n + 8;
		*sfi = calloc(cap, sizeof(**sfi));
		*ti = calloc(cap, want);
		if (!*sfi || !*ti)
			return -ENOMEM;
	}
	return -EAGAIN;
}

int mps_snapshot_take(int fd, struct mps_snapshot *snap)
{
	__u32 size;
	int n;

	snap->info = snap->inline_info;
	snap->state = snap->inline_state;
	snap->count = 0;
	/* tcpi_state is the first byte of struct tcp_info */
	n = full_info_grow(fd, &snap->info, &snap->state, 1, &size,
			   MPS_SF_INLINE);
	if (n < 0) {
		mps_snapshot_release(snap);
		return n;
	}
	snap->count = n;
	return 0;
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
	int n, i, err = -ESRCH;
	__u32 want, size;

	/* at least the state byte, to skip closed entries */
	want = *len < TCP_INFO_MAX ? *len : TCP_INFO_MAX;
	if (!want)
		want = 1;
	n = full_info_grow(fd, &psfi, &pti, want, &size, MPS_SF_INLINE);
	if (n < 0)
		err = n;
	for (i = 0; i < n; i++) {
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

/* MPTCP_INFO up to and including mptcpi_token is all we read. */
#define INFO_FLAGS_OFF 8
#define INFO_TOKEN_OFF 12
#define INFO_TOKEN_END 16

int mps_conn_token(int fd, __u32 *token)
{
	unsigned char info[INFO_TOKEN_END];
	socklen_t len = sizeof(info);
	__u32 flags;

	if (getsockopt(fd, SOL_MPTCP, MPTCP_INFO, info, &len) < 0)
		return mps_full_info_errno(fd, errno);
	if (len < INFO_TOKEN_END)
		return -EPROTO;
	memcpy(&flags, info + INFO_FLAGS_OFF, 4);
	memcpy(token, info + INFO_TOKEN_OFF, 4);
	if (flags & MPTCP_INFO_FLAG_FALLBACK)
		return -EOPNOTSUPP;
	if (*token)
		return 0;
	/* no token yet: unconnected, or a listener (as mpsockd says) */
	len = sizeof(flags);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &flags, &len) == 0 &&
	    flags)
		return -EINVAL;
	return -ENOTCONN;
}
