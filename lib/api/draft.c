// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The draft layer: getsockopt()/setsockopt() at IPPROTO_TCP with the
 * draft's options, as a thin adapter over the native read path.  Draft
 * errors win where the draft names one (unknown id: EINVAL).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "op/op.h"

/* The numbers of the draft's reference implementation, plus our 73. */
#define DRAFT_FIRST MPTCP_GET_SUB_IDS
#define DRAFT_LAST 73

bool mps_draft_is_ours(int level, int optname)
{
	return level == IPPROTO_TCP && optname >= DRAFT_FIRST &&
	       optname <= DRAFT_LAST;
}

/* No id is ever 0 or shadowed at the draft layer (see draft_id.c). */
static unsigned int draft_visible(const struct mps_snapshot *snap,
				  unsigned int *idx)
{
	unsigned int i, n = 0;

	for (i = 0; i < snap->count; i++)
		if (mps_snapshot_live(snap, i) &&
		    !mps_draft_id_shadowed(snap, i))
			idx[n++] = i;
	return n;
}

static void draft_status(struct mptcp_sub_status *st,
			 const struct mps_snapshot *snap, unsigned int i,
			 const struct mps_sf_diag *d)
{
	__u8 state = snap->state[i];

	memset(st, 0, sizeof(*st));
	st->id = mps_draft_id(snap->info[i].id);
	st->slave_sk = !!(d->flags & (MPTCP_SUBFLOW_FLAG_JOIN_LOC |
				      MPTCP_SUBFLOW_FLAG_JOIN_REM));
	st->fully_established =
		!!(d->flags & MPTCP_SUBFLOW_FLAG_FULLY_ESTABLISHED);
	/* FULL_INFO walks the connection's subflow list: all are in it */
	st->attached = 1;
	st->low_prio = !!(d->flags & MPTCP_SUBFLOW_FLAG_BKUP_LOC);
	st->pre_established = state == TCP_SYN_SENT || state == TCP_SYN_RECV;
}

static int draft_get_sub_ids(int fd, void *optval, socklen_t *optlen)
{
	const size_t head = offsetof(struct mptcp_sub_ids, sub_status);
	struct mps_sf_diag diag[255];
	unsigned int idx[255];
	struct mps_snapshot snap;
	struct mptcp_sub_status st;
	unsigned int n, i, done, chunk, count = 0;
	size_t needed;
	int err;

	err = mps_snapshot_take(fd, &snap);
	if (err)
		return err;
	/* at most 255 visible: draft ids are distinct */
	n = draft_visible(&snap, idx);
	needed = head + n * sizeof(st);
	if (*optlen < needed) {
		/* the grow-and-retry loop of existing programs reads this */
		*optlen = needed;
		err = -EINVAL;
		goto out;
	}
	for (done = 0; done < n; done += chunk) {
		chunk = n - done < MPS_SF_INLINE ? n - done : MPS_SF_INLINE;
		err = mps_diag_lookup(&snap, idx + done, chunk, diag + done);
		if (err)
			goto out;
	}
	memset(optval, 0, needed);
	for (i = 0; i < n; i++) {
		if (!diag[i].found)
			continue; /* closed since FULL_INFO */
		draft_status(&st, &snap, idx[i], &diag[i]);
		memcpy((char *)optval + head + count * sizeof(st), &st,
		       sizeof(st));
		count++;
	}
	*(__u8 *)optval = count;
	*optlen = head + count * sizeof(st);
out:
	mps_snapshot_release(&snap);
	return err;
}

/*
 * struct mptcp_sub_tuple has two layouts, told apart by the request's size
 * alone, never by its bytes: the draft's (id, prio, then the addresses at
 * offset 2), and the reference implementation's, which had no prio (the
 * addresses at offset 1).  A request of exactly 1 + two sockaddr_in (33
 * bytes) or 1 + two sockaddr_in6 (57) is the latter, any other size the
 * former.  Returns the offset of the addresses.
 */
static size_t draft_tuple_head(socklen_t len)
{
	if (len == 1 + 2 * sizeof(struct sockaddr_in) ||
	    len == 1 + 2 * sizeof(struct sockaddr_in6))
		return offsetof(struct mptcp_sub_tuple, prio);
	return offsetof(struct mptcp_sub_tuple, addrs);
}

/*
 * MPTCP_GET_SUB_TUPLE: the addresses in the layout the buffer's size names;
 * the size needed, when it is too small, is one of the same layout.
 */
static int draft_get_sub_tuple(int fd, void *optval, socklen_t *optlen)
{
	const size_t head = draft_tuple_head(*optlen);
	const struct mptcp_subflow_addrs *a;
	struct mps_snapshot snap;
	socklen_t salen;
	size_t needed;
	int i, err;

	if (*optlen < head)
		return -EINVAL;
	err = mps_snapshot_take(fd, &snap);
	if (err)
		return err;
	i = mps_draft_find(&snap, *(const __u8 *)optval);
	if (i < 0) {
		err = -EINVAL; /* the draft's answer to an unknown id */
		goto out;
	}
	a = &snap.info[i].addrs;
	salen = mps_sockaddr_len(a->sa_family);
	needed = head + 2 * salen;
	if (*optlen < needed) {
		*optlen = needed;
		err = -EINVAL;
		goto out;
	}
	memcpy((char *)optval + head, &a->ss_local, salen);
	memcpy((char *)optval + head + salen, &a->ss_remote, salen);
	*optlen = needed;
out:
	mps_snapshot_release(&snap);
	return err;
}

/* The kernel id of the live subflow the draft calls @draft_id. */
static int draft_kernel_id(int fd, __u8 draft_id, __u32 *id)
{
	struct mps_snapshot snap;
	int i, err;

	err = mps_snapshot_take(fd, &snap);
	if (err)
		return err;
	i = mps_draft_find(&snap, draft_id);
	if (i >= 0)
		*id = snap.info[i].id;
	mps_snapshot_release(&snap);
	return i < 0 ? -EINVAL : 0;
}

/* A native call's errno, with the draft's EINVAL for an unknown id. */
static int draft_errno(int r)
{
	if (!r)
		return 0;
	return errno == ESRCH ? -EINVAL : -errno;
}

/*
 * MPTCP_SUB_GETSOCKOPT: TCP_INFO is served in process, without privilege;
 * the other options of one subflow as mpsock_subflow_getsockopt().
 */
static int draft_sub_getsockopt(int fd, void *optval, socklen_t *optlen)
{
	struct mptcp_sub_getsockopt req;
	socklen_t len;
	__u32 id;
	int err;

	if (*optlen < sizeof(req))
		return -EINVAL;
	memcpy(&req, optval, sizeof(req));
	if (!req.optval || !req.optlen)
		return -EFAULT;
	err = draft_kernel_id(fd, req.id, &id);
	if (err)
		return err;
	len = *req.optlen;
	err = draft_errno(mpsock_subflow_getsockopt(
		fd, id, req.level, req.optname, req.optval, &len));
	if (!err)
		*req.optlen = len;
	return err;
}

/* MPTCP_SUB_SETSOCKOPT: the option's value by pointer, its length by value. */
static int draft_sub_setsockopt(int fd, const void *optval, socklen_t optlen)
{
	struct mptcp_sub_setsockopt req;
	__u32 id;
	int err;

	if (optlen < sizeof(req))
		return -EINVAL;
	memcpy(&req, optval, sizeof(req));
	if (!req.optval)
		return -EFAULT;
	err = draft_kernel_id(fd, req.id, &id);
	if (err)
		return err;
	return draft_errno(mpsock_subflow_setsockopt(
		fd, id, req.level, req.optname, req.optval, req.optlen));
}

/*
 * MPTCP_OPEN_SUB_TUPLE: exactly a header and two sockaddrs of one family.
 * A request in the reference implementation's layout has no prio: the
 * subflow is a regular one, as there.  @optlen is NULL through
 * setsockopt(), which cannot return the id.
 */
static int draft_open_sub_tuple(int fd, void *optval, socklen_t len,
				socklen_t *optlen)
{
	const size_t head = draft_tuple_head(len);
	struct mptcp_sub_tuple t = {0};
	struct sockaddr_storage l, r;
	socklen_t salen;
	__u32 id = 0;
	int err;

	if (len == head + 2 * sizeof(struct sockaddr_in))
		salen = sizeof(struct sockaddr_in);
	else if (len == head + 2 * sizeof(struct sockaddr_in6))
		salen = sizeof(struct sockaddr_in6);
	else
		return -EINVAL;
	/* id and, in the draft's layout only, prio (else it stays 0) */
	memcpy(&t, optval, head);
	memset(&l, 0, sizeof(l));
	memset(&r, 0, sizeof(r));
	memcpy(&l, (char *)optval + head, salen);
	memcpy(&r, (char *)optval + head + salen, salen);
	if (mps_sockaddr_len(l.ss_family) != salen ||
	    l.ss_family != r.ss_family)
		return -EINVAL;
	err = draft_errno(mpsock_subflow_open(
		fd, (struct sockaddr *)&l, (struct sockaddr *)&r, salen,
		t.prio ? MPSOCK_OPEN_BACKUP : 0, &id));
	if (err)
		return err;
	if (optlen) {
		*(__u8 *)optval = mps_draft_id(id);
		*optlen = len;
	}
	return 0;
}

/*
 * MPTCP_CLOSE_SUB_ID, told apart by size: a one-byte request is the
 * reference implementation's struct, which had no "how" and meant a forced
 * close, a reset; 8 bytes or more the draft's; anything between is neither.
 */
static int draft_close_sub_id(int fd, const void *optval, socklen_t len)
{
	struct mptcp_close_sub_id c = {0};
	__u32 id;
	int err;

	if (len == 1) {
		memcpy(&c.id, optval, 1);
		c.how = MPTCP_SHUT_RST;
	} else if (len >= sizeof(c)) {
		memcpy(&c, optval, sizeof(c));
	} else {
		return -EINVAL;
	}
	if (c.how != SHUT_RD && c.how != SHUT_WR && c.how != SHUT_RDWR &&
	    c.how != MPTCP_SHUT_RST)
		return -EINVAL;
	err = draft_kernel_id(fd, c.id, &id);
	if (err)
		return err;
	return draft_errno(mpsock_subflow_close(fd, id, c.how));
}

/* MPTCP_SUB_PRIO, our extension: backup priority of one subflow. */
static int draft_sub_prio(int fd, const void *optval, socklen_t len)
{
	struct mptcp_sub_prio p;
	__u32 id;
	int err;

	if (len < sizeof(p))
		return -EINVAL;
	memcpy(&p, optval, sizeof(p));
	err = draft_kernel_id(fd, p.id, &id);
	if (err)
		return err;
	return draft_errno(mpsock_subflow_set_backup(fd, id, p.low_prio));
}

int mpsock_getsockopt(int fd, int level, int optname, void *optval,
		      socklen_t *optlen)
{
	int err;

	if (!mps_draft_is_ours(level, optname))
		return getsockopt(fd, level, optname, optval, optlen);
	if (!optlen || (!optval && *optlen))
		return mps_fail(-EFAULT);

	switch (optname) {
	case MPTCP_GET_SUB_IDS:
		err = draft_get_sub_ids(fd, optval, optlen);
		break;
	case MPTCP_GET_SUB_TUPLE:
		err = draft_get_sub_tuple(fd, optval, optlen);
		break;
	case MPTCP_SUB_GETSOCKOPT:
		err = draft_sub_getsockopt(fd, optval, optlen);
		break;
	/* the reference implementation used getsockopt() for everything */
	case MPTCP_OPEN_SUB_TUPLE:
		err = draft_open_sub_tuple(fd, optval, *optlen, optlen);
		break;
	case MPTCP_CLOSE_SUB_ID:
		err = draft_close_sub_id(fd, optval, *optlen);
		break;
	case MPTCP_SUB_PRIO:
		err = draft_sub_prio(fd, optval, *optlen);
		break;
	case MPTCP_SUB_SETSOCKOPT:
		/* the reference implementation used getsockopt() for it too */
		err = draft_sub_setsockopt(fd, optval, *optlen);
		break;
	default:
		err = -ENOPROTOOPT;
		break;
	}
	return err ? mps_fail(err) : 0;
}

int mpsock_setsockopt(int fd, int level, int optname, const void *optval,
		      socklen_t optlen)
{
	int err;

	if (!mps_draft_is_ours(level, optname))
		return setsockopt(fd, level, optname, optval, optlen);
	if (!optval && optlen)
		return mps_fail(-EFAULT);

	switch (optname) {
	case MPTCP_OPEN_SUB_TUPLE:
		err = draft_open_sub_tuple(fd, (void *)optval, optlen, NULL);
		break;
	case MPTCP_CLOSE_SUB_ID:
		err = draft_close_sub_id(fd, optval, optlen);
		break;
	case MPTCP_SUB_PRIO:
		err = draft_sub_prio(fd, optval, optlen);
		break;
	case MPTCP_SUB_SETSOCKOPT:
		err = draft_sub_setsockopt(fd, optval, optlen);
		break;
	default:
		/* read-only options */
		err = -ENOPROTOOPT;
		break;
	}
	return err ? mps_fail(err) : 0;
}
