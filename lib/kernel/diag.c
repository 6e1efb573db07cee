// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Reads the per-subflow MPTCP flags (backup, fully established, join) and
 * address ids with exact sock_diag lookups by 4-tuple: one request per
 * subflow, all sent in one send() and read back with recvmmsg().  Each
 * lookup is a hash lookup, so the cost does not depend on how many other
 * sockets exist (a dump would walk the whole TCP table).
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <libmnl/libmnl.h>

#include "kernel/kernel.h"

/* Lookups sent in one batch: their replies must fit the receive buffer. */
#define DIAG_BATCH 32
/* One reply: inet_diag_msg, tcp_info and the ULP nest, with room to grow. */
#define DIAG_REPLY_MAX 2048
#define DIAG_REQ_SIZE                                                          \
	(MNL_ALIGN(sizeof(struct nlmsghdr)) + sizeof(struct inet_diag_req_v2))

/* Local addresses whose subflows were found bound to a device. */
#define DIAG_BOUND_SLOTS 8

/*
 * One netlink socket per thread, kept between calls: opening and binding
 * one costs more than the lookups themselves.  A forked child must not
 * share its parent's socket (replies would be split between them), so the
 * owner's pid is checked on every use.
 *
 * A subflow bound to a device (mpsockd binds every subflow to its
 * address's interface) is found only by a lookup that names that device;
 * a lookup naming a device still finds an unbound socket.  So the device
 * each local address's subflows were found bound to is remembered, and
 * named in the next lookups from that address: after the first, listing
 * bound subflows costs what listing unbound ones does.
 */
struct diag_ctx {
	struct mnl_socket *nl;
	unsigned int portid;
	pid_t pid;
	unsigned int seq;
	struct {
		sa_family_t family;
		__u8 addr[16];
		int ifindex;
	} bound[DIAG_BOUND_SLOTS];
	unsigned int bound_next;
	char req[DIAG_BATCH * DIAG_REQ_SIZE];
	char reply[DIAG_BATCH][DIAG_REPLY_MAX];
};

static void diag_ctx_free(void *p)
{
	struct diag_ctx *ctx = p;

	if (ctx->nl)
		mnl_socket_close(ctx->nl);
	free(ctx);
}

static struct mps_tls diag_tls = MPS_TLS_INIT(diag_ctx_free);

static int diag_ctx_open(struct diag_ctx *ctx)
{
	ctx->nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	if (!ctx->nl)
		return -errno;
	if (mnl_socket_bind(ctx->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = -errno;

		mnl_socket_close(ctx->nl);
		ctx->nl = NULL;
		return err;
	}
	ctx->portid = mnl_socket_get_portid(ctx->nl);
	ctx->pid = getpid();
	mps_nl_batch_rcvbuf(ctx->nl);
	return 0;
}

static int diag_ctx_get(struct diag_ctx **out)
{
	struct diag_ctx *ctx = mps_tls_get(&diag_tls, sizeof(*ctx));
	int err;

	if (!ctx)
		return -errno;
	if (ctx->nl && ctx->pid != getpid()) {
		/* inherited across fork(): close our copy, keep the parent's */
		mnl_socket_close(ctx->nl);
		ctx->nl = NULL;
	}
	if (!ctx->nl) {
		err = diag_ctx_open(ctx);
		if (err)
			return err;
	}
	*out = ctx;
	return 0;
}

static void diag_put_addr(__be32 *dst, const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		memcpy(dst, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	else
		memcpy(dst, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
}

static __be16 diag_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_port;
	return ((const struct sockaddr_in6 *)ss)->sin6_port;
}

static size_t diag_put_request(char *buf, __u32 seq, __u16 type,
			       const struct mptcp_subflow_info *sfi,
			       int ifindex)
{
	const struct sockaddr_storage *local =
		(const struct sockaddr_storage *)&sfi->addrs.ss_local;
	const struct sockaddr_storage *remote =
		(const struct sockaddr_storage *)&sfi->addrs.ss_remote;
	struct inet_diag_req_v2 *req;
	struct nlmsghdr *nlh;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = local->ss_family;
	req->sdiag_protocol = IPPROTO_TCP;
	/* without INET_DIAG_INFO the kernel leaves out the ULP info */
	req->idiag_ext = 1 << (INET_DIAG_INFO - 1);
	req->idiag_states = ~0U;
	req->id.idiag_sport = diag_port(local);
	req->id.idiag_dport = diag_port(remote);
	diag_put_addr(req->id.idiag_src, local);
	diag_put_addr(req->id.idiag_dst, remote);
	req->id.idiag_if = ifindex;
	req->id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	return nlh->nlmsg_len;
}

static const __u8 *sfi_local(const struct mptcp_subflow_info *sfi)
{
	const struct sockaddr_storage *l =
		(const struct sockaddr_storage *)&sfi->addrs.ss_local;

	if (l->ss_family == AF_INET)
		return (const __u8 *)&((const struct sockaddr_in *)l)->sin_addr;
	return (const __u8 *)&((const struct sockaddr_in6 *)l)->sin6_addr;
}

/* The device @sfi's local address was last found bound to, 0 if none. */
static int diag_hint(const struct diag_ctx *ctx,
		     const struct mptcp_subflow_info *sfi)
{
	sa_family_t family = sfi->addrs.sa_family;
	size_t len = family == AF_INET ? 4 : 16;
	unsigned int i;

	for (i = 0; i < DIAG_BOUND_SLOTS; i++)
		if (ctx->bound[i].ifindex && ctx->bound[i].family == family &&
		    !memcmp(ctx->bound[i].addr, sfi_local(sfi), len))
			return ctx->bound[i].ifindex;
	return 0;
}

static void diag_learn(struct diag_ctx *ctx,
		       const struct mptcp_subflow_info *sfi, int ifindex)
{
	sa_family_t family = sfi->addrs.sa_family;
	size_t len = family == AF_INET ? 4 : 16;
	unsigned int i;

	if (!ifindex || diag_hint(ctx, sfi) == ifindex)
		return;
	for (i = 0; i < DIAG_BOUND_SLOTS; i++)
		if (ctx->bound[i].family == family &&
		    !memcmp(ctx->bound[i].addr, sfi_local(sfi), len))
			break;
	if (i == DIAG_BOUND_SLOTS)
		i = ctx->bound_next++ % DIAG_BOUND_SLOTS;
	memset(&ctx->bound[i], 0, sizeof(ctx->bound[i]));
	ctx->bound[i].family = family;
	memcpy(ctx->bound[i].addr, sfi_local(sfi), len);
	ctx->bound[i].ifindex = ifindex;
}

struct diag_parse {
	/*
	 * first: mps_nl_run() reads it; the kernel's answer to the last
	 * request (ENOENT: the subflow closed since FULL_INFO, or is bound
	 * to a device the request did not name)
	 */
	struct mps_nl_ack ack;
	struct mps_sf_diag *out;
	unsigned int n;
	__u32 seq0;
};

static int diag_mptcp_attr_cb(const struct nlattr *attr, void *data)
{
	struct mps_sf_diag *d = data;

	switch (mnl_attr_get_type(attr)) {
	case MPTCP_SUBFLOW_ATTR_TOKEN_LOC:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			d->token = mnl_attr_get_u32(attr);
		break;
	case MPTCP_SUBFLOW_ATTR_TOKEN_REM:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			d->token_remote = mnl_attr_get_u32(attr);
		break;
	case MPTCP_SUBFLOW_ATTR_FLAGS:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			d->flags = mnl_attr_get_u32(attr);
		break;
	case MPTCP_SUBFLOW_ATTR_ID_LOC:
		if (mnl_attr_validate(attr, MNL_TYPE_U8) == 0)
			d->local_addr_id = mnl_attr_get_u8(attr);
		break;
	case MPTCP_SUBFLOW_ATTR_ID_REM:
		if (mnl_attr_validate(attr, MNL_TYPE_U8) == 0)
			d->remote_addr_id = mnl_attr_get_u8(attr);
		break;
	default: /* newer kernels may add attributes: skip them */
		break;
	}
	return MNL_CB_OK;
}

static int diag_ulp_attr_cb(const struct nlattr *attr, void *data)
{
	struct mps_sf_diag *d = data;

	if (mnl_attr_get_type(attr) == INET_ULP_INFO_MPTCP) {
		d->found = true;
		return mnl_attr_parse_nested(attr, diag_mptcp_attr_cb, d);
	}
	return MNL_CB_OK;
}

int mps_diag_parse_ulp(const struct nlattr *attr, struct mps_sf_diag *d)
{
	return mnl_attr_parse_nested(attr, diag_ulp_attr_cb, d);
}

static int diag_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == INET_DIAG_ULP_INFO)
		return mnl_attr_parse_nested(attr, diag_ulp_attr_cb, data);
	return MNL_CB_OK;
}

static struct mps_sf_diag *diag_slot(struct diag_parse *p, __u32 seq)
{
	__u32 i = seq - p->seq0;

	return i < p->n ? &p->out[i] : NULL;
}

static int diag_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct diag_parse *p = data;
	struct mps_sf_diag *d = diag_slot(p, nlh->nlmsg_seq);

	if (!d)
		return MNL_CB_OK; /* a stale reply of an earlier, failed call */
	if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(struct inet_diag_msg))) {
		const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);

		d->ifindex = m->id.idiag_if;
	}
	return mnl_attr_parse(nlh, sizeof(struct inet_diag_msg), diag_attr_cb,
			      d);
}

/*
 * One batch of at most DIAG_BATCH lookups; replies land in @p->out.
 * @ifindex -1: each names the device its address was last found bound to.
 */
static int diag_batch(struct diag_ctx *ctx, const struct mps_snapshot *snap,
		      const unsigned int *idx, unsigned int n, int ifindex,
		      struct diag_parse *p)
{
	struct mmsghdr msgs[DIAG_BATCH];
	struct iovec iov[DIAG_BATCH];
	unsigned int i, got = 0;
	size_t len = 0;
	int r;

	p->seq0 = ++ctx->seq;
	ctx->seq += n;
	p->n = n;
	for (i = 0; i < n; i++)
		len += diag_put_request(
			ctx->req + len, p->seq0 + i, SOCK_DIAG_BY_FAMILY,
			&snap->info[idx[i]],
			ifindex < 0 ? diag_hint(ctx, &snap->info[idx[i]])
				    : ifindex);
	if (mnl_socket_sendto(ctx->nl, ctx->req, len) < 0)
		return -errno;

	/* the kernel answers every request inside send(): one reply each */
	while (got < n) {
		for (i = 0; i < n - got; i++) {
			iov[i].iov_base = ctx->reply[i];
			iov[i].iov_len = DIAG_REPLY_MAX;
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		r = recvmmsg(mnl_socket_get_fd(ctx->nl), msgs, n - got,
			     MSG_DONTWAIT, NULL);
		if (r < 0)
			return errno == EAGAIN ? -EIO : -errno;
		for (i = 0; i < (unsigned int)r; i++) {
			if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
				return -EMSGSIZE;
			/* a request's refusal is its answer, not a failure */
			p->ack.err = 0;
			if (mps_nl_run(ctx->reply[i], msgs[i].msg_len, 0,
				       ctx->portid, diag_msg_cb, &p->ack) < 0 &&
			    !p->ack.err)
				return -errno;
		}
		got += r;
	}
	return 0;
}

/* One lookup naming @ifindex: 1 found, 0 not, -errno. */
static int diag_try_dev(struct diag_ctx *ctx, const struct mps_snapshot *snap,
			unsigned int idx, int ifindex, struct mps_sf_diag *out)
{
	struct mps_sf_diag tmp = {0};
	struct diag_parse p = {.out = &tmp};
	int err;

	err = diag_batch(ctx, snap, &idx, 1, ifindex, &p);
	if (err || !tmp.found)
		return err;
	*out = tmp;
	diag_learn(ctx, &snap->info[idx], tmp.ifindex);
	return 1;
}

/*
 * A subflow bound to a device is only found with its ifindex in the
 * request.  Retry the missing ones with the interface that owns their
 * local address (where mpsockd and the library bind them), then with
 * every interface: rare once the device is remembered, and still no
 * table walk.
 */
static int diag_retry_bound(struct diag_ctx *ctx,
			    const struct mps_snapshot *snap,
			    const unsigned int *idx, unsigned int n,
			    struct mps_sf_diag *out)
{
	struct if_nameindex *ifs = NULL, *it;
	struct sockaddr_storage local;
	unsigned int i;
	int err = 0, own;

	for (i = 0; i < n && err >= 0; i++) {
		if (out[i].found)
			continue;
		memset(&local, 0, sizeof(local));
		memcpy(&local, &snap->info[idx[i]].addrs.ss_local,
		       sizeof(snap->info[idx[i]].addrs.ss_local));
		own = mps_addr_ifindex(&local);
		if (own > 0) {
			err = diag_try_dev(ctx, snap, idx[i], own, &out[i]);
			if (err)
				continue;
		}
		if (!ifs)
			ifs = if_nameindex();
		if (!ifs) {
			err = -errno;
			break;
		}
		for (it = ifs; it->if_index; it++) {
			if ((int)it->if_index == own)
				continue;
			err = diag_try_dev(ctx, snap, idx[i], it->if_index,
					   &out[i]);
			if (err)
				break;
		}
	}
	if (ifs)
		if_freenameindex(ifs);
	return err < 0 ? err : 0;
}

int mps_diag_lookup(const struct mps_snapshot *snap, const unsigned int *idx,
		    unsigned int n, struct mps_sf_diag *out)
{
	struct diag_ctx *ctx;
	struct diag_parse p = {0};
	unsigned int done, chunk, i;
	bool missing = false;
	int err;

	memset(out, 0, n * sizeof(*out));
	if (!n)
		return 0;
	err = diag_ctx_get(&ctx);
	if (err)
		return err;
	for (done = 0; done < n; done += chunk) {
		chunk = n - done < DIAG_BATCH ? n - done : DIAG_BATCH;
		p.out = out + done;
		err = diag_batch(ctx, snap, idx + done, chunk, -1, &p);
		if (err)
			goto fail;
	}
	for (i = 0; i < n; i++) {
		missing |= !out[i].found;
		if (out[i].found)
			diag_learn(ctx, &snap->info[idx[i]], out[i].ifindex);
	}
	if (missing)
		err = diag_retry_bound(ctx, snap, idx, n, out);
	if (!err)
		return 0;
fail:
	/* replies may be left in the socket: start the next call afresh */
	mnl_socket_close(ctx->nl);
	ctx->nl = NULL;
	return err;
}

/*
 * Reset one subflow (SOCK_DESTROY, CAP_NET_ADMIN): the kernel sends an RST
 * with MP_TCPRST and the connection goes on over its other subflows.  The
 * one builder of the request, alone or in a batch; naming a device still
 * finds an unbound subflow.
 */
static size_t diag_put_destroy(const struct diag_ctx *ctx, void *buf, __u32 seq,
			       const struct mptcp_subflow_info *sfi,
			       __u32 ifindex)
{
	size_t n;

	if (!ifindex && ctx)
		ifindex = diag_hint(ctx, sfi);
	n = diag_put_request(buf, seq, SOCK_DESTROY, sfi, ifindex);
	((struct nlmsghdr *)buf)->nlmsg_flags |= NLM_F_ACK;
	return n;
}

int mps_diag_destroy(const struct mps_snapshot *snap, unsigned int i,
		     __u32 ifindex)
{
	struct diag_ctx *ctx;
	struct diag_parse p = {0};
	struct mps_sf_diag d = {0};
	ssize_t n;
	int err;

	err = diag_ctx_get(&ctx);
	if (err)
		return err;
	p.out = &d;
	p.n = 1;
	p.seq0 = ++ctx->seq;
	n = diag_put_destroy(ctx, ctx->req, p.seq0, &snap->info[i], ifindex);
	if (mnl_socket_sendto(ctx->nl, ctx->req, n) < 0)
		return -errno;
	n = mnl_socket_recvfrom(ctx->nl, ctx->reply[0], DIAG_REPLY_MAX);
	if (n < 0)
		return -errno;
	if (mps_nl_run(ctx->reply[0], n, p.seq0, ctx->portid, diag_msg_cb,
		       &p.ack) < 0 &&
	    !p.ack.err)
		return -errno;
	return p.ack.err;
}

/*
 * A tuple as FULL_INFO would give it.  A v6 connection's initial subflow
 * to an IPv4 peer is a v4-mapped IPv6 socket while its joins are IPv4
 * ones: @mapped gives that form of an IPv4 tuple.
 */
static void diag_tuple(const struct sockaddr_storage *local,
		       const struct sockaddr_storage *remote, bool mapped,
		       struct mptcp_subflow_info *sfi)
{
	struct mptcp_subflow_addrs *a = &sfi->addrs;
	struct sockaddr_in6 *l6 = (struct sockaddr_in6 *)&a->ss_local;
	struct sockaddr_in6 *r6 = (struct sockaddr_in6 *)&a->ss_remote;
	const struct sockaddr_in *l4 = (const struct sockaddr_in *)local;
	const struct sockaddr_in *r4 = (const struct sockaddr_in *)remote;

	memset(sfi, 0, sizeof(*sfi));
	if (!mapped || local->ss_family != AF_INET) {
		memcpy(&a->ss_local, local, mps_sockaddr_len(local->ss_family));
		memcpy(&a->ss_remote, remote,
		       mps_sockaddr_len(remote->ss_family));
		return;
	}
	l6->sin6_family = r6->sin6_family = AF_INET6;
	l6->sin6_port = l4->sin_port;
	r6->sin6_port = r4->sin_port;
	l6->sin6_addr.s6_addr[10] = l6->sin6_addr.s6_addr[11] = 0xff;
	r6->sin6_addr.s6_addr[10] = r6->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&l6->sin6_addr.s6_addr[12], &l4->sin_addr, 4);
	memcpy(&r6->sin6_addr.s6_addr[12], &r4->sin_addr, 4);
}

/* RST one subflow known only by its tuple (mpsockd's view, from events). */
int mps_diag_destroy_tuple(const struct sockaddr_storage *local,
			   const struct sockaddr_storage *remote, __u32 ifindex)
{
	struct mps_snapshot snap = {.count = 1};
	int err;

	snap.info = snap.inline_info;
	snap.state = snap.inline_state;
	diag_tuple(local, remote, false, &snap.inline_info[0]);
	err = mps_diag_destroy(&snap, 0, ifindex);
	if (err != -ENOENT || local->ss_family != AF_INET)
		return err;
	diag_tuple(local, remote, true, &snap.inline_info[0]);
	return mps_diag_destroy(&snap, 0, ifindex);
}

bool mps_diag_destroy_tuple_put(struct mnl_nlmsg_batch *b, __u32 seq,
				const struct sockaddr_storage *local,
				const struct sockaddr_storage *remote,
				__u32 ifindex, bool mapped)
{
	struct mptcp_subflow_info sfi;
	struct diag_ctx *ctx;

	diag_tuple(local, remote, mapped, &sfi);
	/* without the socket, no device hint: the request still goes */
	if (diag_ctx_get(&ctx))
		ctx = NULL;
	diag_put_destroy(ctx, mnl_nlmsg_batch_current(b), seq, &sfi, ifindex);
	return mps_nl_batch_next(b, seq);
}

int mps_diag_batch_talk(struct mnl_nlmsg_batch *b, __u32 seq0, unsigned int n,
			struct mps_nl_ack *acks)
{
	struct diag_ctx *ctx = NULL;
	unsigned int i;
	int err;

	err = diag_ctx_get(&ctx);
	if (!err)
		err = mps_nl_batch_talk(ctx->nl, ctx->portid, b, seq0, n, acks);
	else
		for (i = 0; i < n; i++)
			acks[i].err = err;
	if (err && ctx && ctx->nl) {
		/* replies may be left in the socket: start afresh */
		mnl_socket_close(ctx->nl);
		ctx->nl = NULL;
	}
	return err;
}
