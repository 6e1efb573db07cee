// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Whole-namespace views through sock_diag, for tools and mpsockd rather
 * than the per-socket fast path (diag.c): every MPTCP connection (the MPTCP
 * protocol's own dump, which carries mptcp_info and thus the token), every
 * MPTCP subflow (the TCP dump with ULP info, which carries the token the
 * subflow belongs to), and one connection looked up by its token.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <libmnl/libmnl.h>

#include "kernel/kernel.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

/* libmnl 1.0.4 lacks MNL_SOCKET_DUMP_SIZE; the kernel fills up to 32 KiB */
#define DUMP_BUF_SIZE 32768

/* Everything but LISTEN: listeners are not connections. */
#define STATES_NOT_LISTEN (~0U & ~(1U << TCP_LISTEN))

struct dump_ctx {
	struct mps_nl_ack ack; /* first: mps_nl_run() reads it */
	bool mptcp; /* parsing MPTCP sockets (else TCP subflows) */
	mps_msk_cb msk_cb;
	mps_subflow_cb sf_cb;
	void *data;
	int err; /* the callback's */
	struct mps_msk msk;
	struct mps_diag_subflow sf;
};

static void put_sockaddr(struct sockaddr_storage *ss, __u8 family,
			 const __be32 *addr, __be16 port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_family = AF_INET;
		s->sin_port = port;
		memcpy(&s->sin_addr, addr, 4);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = port;
		memcpy(&s->sin6_addr, addr, 16);
	}
	mps_addr_unmap(ss);
}

/* A shorter structure from an older kernel stays zero-filled at its end. */
static void copy_info(void *dst, size_t dst_len, const struct nlattr *attr)
{
	size_t len = mnl_attr_get_payload_len(attr);

	memcpy(dst, mnl_attr_get_payload(attr), len < dst_len ? len : dst_len);
}

/* What one answer carries, into either @msk or @sf (the other NULL). */
struct parse_ctx {
	struct mps_msk *msk;
	struct mps_diag_subflow *sf;
};

static int dump_attr_cb(const struct nlattr *attr, void *data)
{
	struct parse_ctx *p = data;

	switch (mnl_attr_get_type(attr)) {
	case INET_DIAG_INFO:
		if (p->msk) {
			copy_info(&p->msk->info, sizeof(p->msk->info), attr);
			p->msk->has_info = true;
		} else {
			copy_info(p->sf->tcpi, sizeof(p->sf->tcpi), attr);
			p->sf->tcpi_len = mnl_attr_get_payload_len(attr);
			if (p->sf->tcpi_len > sizeof(p->sf->tcpi))
				p->sf->tcpi_len = sizeof(p->sf->tcpi);
		}
		break;
	case INET_DIAG_ULP_INFO:
		if (p->sf)
			return mps_diag_parse_ulp(attr, &p->sf->mptcp);
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

static int parse_sock(const struct nlmsghdr *nlh, struct mps_diag_sock *s,
		      struct parse_ctx *p)
{
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*m)))
		return 0;
	s->state = m->idiag_state;
	s->uid = m->idiag_uid;
	s->inode = m->idiag_inode;
	s->ifindex = m->id.idiag_if;
	s->cookie = (__u64)m->id.idiag_cookie[1] << 32 | m->id.idiag_cookie[0];
	put_sockaddr(&s->local, m->idiag_family, m->id.idiag_src,
		     m->id.idiag_sport);
	put_sockaddr(&s->remote, m->idiag_family, m->id.idiag_dst,
		     m->id.idiag_dport);
	if (mnl_attr_parse(nlh, sizeof(*m), dump_attr_cb, p) < 0)
		return -EBADMSG;
	return 1;
}

int mps_diag_parse_msk(const struct nlmsghdr *nlh, struct mps_msk *out)
{
	struct parse_ctx p = {.msk = out};
	int r;

	memset(out, 0, sizeof(*out));
	r = parse_sock(nlh, &out->sock, &p);
	out->token = out->info.mptcpi_token;
	return r;
}

int mps_diag_parse_subflow(const struct nlmsghdr *nlh,
			   struct mps_diag_subflow *out)
{
	struct parse_ctx p = {.sf = out};
	int r;

	memset(out, 0, sizeof(*out));
	r = parse_sock(nlh, &out->sock, &p);
	return r > 0 && !out->mptcp.found ? 0 : r;
}

static int dump_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *d = data;
	int r;

	if (d->mptcp)
		r = mps_diag_parse_msk(nlh, &d->msk);
	else
		r = mps_diag_parse_subflow(nlh, &d->sf);
	if (r < 0)
		return MNL_CB_ERROR;
	if (!r)
		return MNL_CB_OK;
	r = d->mptcp ? d->msk_cb(&d->msk, d->data) : d->sf_cb(&d->sf, d->data);
	if (r) {
		d->err = r;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/*
 * One request (a dump, or one lookup by token) and its answer.  The
 * protocol travels in INET_DIAG_REQ_PROTOCOL, since MPTCP's number does not
 * fit the request's 8-bit field.
 */
static int diag_exchange(struct dump_ctx *d, __u8 family, bool dump,
			 __u32 token, __u32 states)
{
	char buf[DUMP_BUF_SIZE];
	struct inet_diag_req_v2 *req;
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	unsigned int portid;
	int err = -EINVAL;
	ssize_t n;
	__u32 seq = 1;

	nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto close_socket;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0);
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->idiag_ext = 1 << (INET_DIAG_INFO - 1);
	req->idiag_states = states;
	if (d->mptcp) {
		req->sdiag_protocol = 0;
		mnl_attr_put_u32(nlh, INET_DIAG_REQ_PROTOCOL, IPPROTO_MPTCP);
		req->id.idiag_cookie[0] = token;
	} else {
		req->sdiag_protocol = IPPROTO_TCP;
	}
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto close_socket;
	}
	d->err = 0;
	d->ack.err = 0;
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			err = -errno;
			break;
		}
		err = mps_nl_run(buf, n, seq, portid, dump_msg_cb, &d->ack);
		if (err <= MNL_CB_STOP) {
			if (err < 0 && d->err)
				err = d->err;
			else if (err < 0)
				err = d->ack.err ? d->ack.err : -errno;
			break;
		}
		if (!dump) /* one answer, no NLMSG_DONE */
			break;
	}
	if (err > 0)
		err = 0;
close_socket:
	mnl_socket_close(nl);
	return err;
}

int mps_diag_msk_dump(mps_msk_cb cb, void *data)
{
	struct dump_ctx d = {.mptcp = true, .msk_cb = cb, .data = data};
	int err;

	/* sock_diag dispatches on the family: one dump per family */
	err = diag_exchange(&d, AF_INET, true, 0, STATES_NOT_LISTEN);
	if (!err)
		err = diag_exchange(&d, AF_INET6, true, 0, STATES_NOT_LISTEN);
	return err;
}

static int msk_copy(const struct mps_msk *m, void *data)
{
	*(struct mps_msk *)data = *m;
	return 0;
}

int mps_diag_msk_get(__u32 token, struct mps_msk *out)
{
	struct dump_ctx d = {.mptcp = true, .msk_cb = msk_copy, .data = out};
	int err;

	memset(out, 0, sizeof(*out));
	/* the kernel finds the socket by token whatever the family */
	err = diag_exchange(&d, AF_INET, false, token, STATES_NOT_LISTEN);
	if (!err && !out->has_info)
		err = -ENOENT;
	return err;
}

int mps_diag_subflow_dump_states(__u32 states, mps_subflow_cb cb, void *data)
{
	struct dump_ctx d = {.sf_cb = cb, .data = data};
	int err;

	err = diag_exchange(&d, AF_INET, true, 0, states);
	if (!err)
		err = diag_exchange(&d, AF_INET6, true, 0, states);
	return err;
}

int mps_diag_subflow_dump(mps_subflow_cb cb, void *data)
{
	return mps_diag_subflow_dump_states(STATES_NOT_LISTEN, cb, data);
}
