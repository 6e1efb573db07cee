/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private declarations shared by libmpsock's files; never installed.
 * Internal functions return 0 (or a count) on success and -errno on failure.
 */
#ifndef MPSOCK_INTERNAL_H
#define MPSOCK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <linux/types.h>
#include <linux/mptcp.h>

#include "mpsock.h"

/* Subflows read with one FULL_INFO call without touching the heap. */
#define MPS_SF_INLINE 16

/*
 * A snapshot of a connection's subflows as MPTCP_FULL_INFO reports them, in
 * the kernel's own layout (no conversion on the read path).  info and state
 * point at the inline arrays for up to MPS_SF_INLINE subflows and at the
 * heap beyond; mps_snapshot_release() frees what was allocated.
 */
struct mps_snapshot {
	struct mptcp_subflow_info *info;
	__u8 *state; /* tcpi_state of each entry */
	unsigned int count; /* entries, CLOSE ones included */
	struct mptcp_subflow_info inline_info[MPS_SF_INLINE];
	__u8 inline_state[MPS_SF_INLINE];
};

/* What sock_diag tells about one subflow. */
struct mps_sf_diag {
	__u32 flags; /* MPTCP_SUBFLOW_FLAG_* */
	__u8 local_addr_id;
	__u8 remote_addr_id;
	bool found;
};

/* full_info.c */
int mps_snapshot_take(int fd, struct mps_snapshot *snap);
void mps_snapshot_release(struct mps_snapshot *snap);
int mps_full_info_errno(int fd, int err);
int mps_subflow_tcp_info(int fd, __u32 id, void *info, socklen_t *len);

/*
 * The kernel keeps a closed initial subflow listed, and a listening MPTCP
 * socket lists its own listener: neither is a live subflow.
 */
static inline bool mps_snapshot_live(const struct mps_snapshot *snap,
				     unsigned int i)
{
	return snap->state[i] != TCP_CLOSE && snap->state[i] != TCP_LISTEN;
}

/* diag.c */
int mps_diag_lookup(const struct mps_snapshot *snap, const unsigned int *idx,
		    unsigned int n, struct mps_sf_diag *out);

/* draft_id.c */
__u8 mps_draft_id(__u32 kernel_id);
bool mps_draft_id_shadowed(const struct mps_snapshot *snap, unsigned int idx);
int mps_draft_find(const struct mps_snapshot *snap, __u8 draft_id);

/* subflow.c */
void mps_subflow_fill(struct mpsock_subflow *out,
		      const struct mps_snapshot *snap, unsigned int i,
		      const struct mps_sf_diag *d);
socklen_t mps_sockaddr_len(sa_family_t family);

/* draft.c */
bool mps_draft_is_ours(int level, int optname);

/* log.c */
void mps_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Set errno from an internal -errno result and return -1. */
static inline int mps_fail(int neg_errno)
{
	errno = -neg_errno;
	return -1;
}

#endif /* MPSOCK_INTERNAL_H */
