// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Generic netlink plumbing for the kernel's MPTCP path manager family
 * ("mptcp_pm"): socket, family and event group resolution, and one
 * request/answer exchange that returns the kernel's extended-ack text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

#include "kernel/kernel.h"

/* Family and group ids are global to the kernel, not per namespace. */
static __u16 genl_family_cache;
static __u32 genl_events_cache;
static __u64 genl_ops_cache;

struct genl_resolve {
	__u16 family;
	__u32 events;
	__u64 ops;
};

/* One command the kernel offers: its id as a bit (ids stay below 64). */
static void genl_op_cb(const struct nlattr *op, struct genl_resolve *r)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, op)
	{
		if (mnl_attr_get_type(a) == CTRL_ATTR_OP_ID &&
		    mnl_attr_validate(a, MNL_TYPE_U32) == 0 &&
		    mnl_attr_get_u32(a) < 64)
			r->ops |= 1ULL << mnl_attr_get_u32(a);
	}
}

static int genl_group_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr *a;
	struct genl_resolve *r = data;
	const char *name = NULL;
	__u32 id = 0;

	mnl_attr_for_each_nested(a, attr)
	{
		if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GRP_NAME &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			name = mnl_attr_get_str(a);
		else if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GRP_ID &&
			 mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			id = mnl_attr_get_u32(a);
	}
	if (name && !strcmp(name, MPTCP_PM_EV_GRP_NAME))
		r->events = id;
	return MNL_CB_OK;
}

static int genl_family_attr_cb(const struct nlattr *attr, void *data)
{
	struct genl_resolve *r = data;
	const struct nlattr *grp;

	switch (mnl_attr_get_type(attr)) {
	case CTRL_ATTR_FAMILY_ID:
		if (mnl_attr_validate(attr, MNL_TYPE_U16) == 0)
			r->family = mnl_attr_get_u16(attr);
		break;
	case CTRL_ATTR_MCAST_GROUPS:
		mnl_attr_for_each_nested(grp, attr) genl_group_cb(grp, r);
		break;
	case CTRL_ATTR_OPS:
		mnl_attr_for_each_nested(grp, attr) genl_op_cb(grp, r);
		break;
	}
	return MNL_CB_OK;
}

static int genl_family_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr),
			      genl_family_attr_cb, data);
}

struct genl_exchange {
	struct mps_nl_ack ack; /* first: mps_nl_run() reads it */
	mnl_cb_t cb;
	void *data;
};

static int genl_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct genl_exchange *x = data;

	return x->cb ? x->cb(nlh, x->data) : MNL_CB_OK;
}

int mps_genl_talk(struct mps_genl *g, struct nlmsghdr *nlh, mnl_cb_t cb,
		  void *data, char *msg, size_t msglen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct genl_exchange x = {
		.ack = {.msg = msg, .msglen = msglen}, .cb = cb, .data = data};
	ssize_t n;
	int r;

	if (msg && msglen)
		msg[0] = '\0';
	nlh->nlmsg_seq = ++g->seq;
	/* a dump ends with NLMSG_DONE; anything else is acknowledged */
	if (!(nlh->nlmsg_flags & NLM_F_DUMP))
		nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(g->nl, nlh, nlh->nlmsg_len) < 0) {
		g->broken = true;
		return -errno;
	}
	do {
		n = mnl_socket_recvfrom(g->nl, buf, sizeof(buf));
		if (n < 0) {
			/* replies may be left behind: never reuse it */
			g->broken = true;
			return -errno;
		}
		r = mps_nl_run(buf, n, g->seq, g->portid, genl_data_cb, &x.ack);
	} while (r == MNL_CB_OK);
	if (r >= 0)
		return 0;
	return x.ack.err ? x.ack.err : -errno;
}

int mps_genl_batch_talk(struct mps_genl *g, struct mnl_nlmsg_batch *b,
			__u32 seq0, unsigned int n, struct mps_nl_ack *acks)
{
	int err = mps_nl_batch_talk(g->nl, g->portid, b, seq0, n, acks);

	if (err)
		g->broken = true; /* replies may be left behind */
	return err;
}

struct nlmsghdr *mps_genl_put(struct mps_genl *g, void *buf, __u8 cmd,
			      __u16 flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *gh;

	nlh->nlmsg_type = g->family;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	gh = mnl_nlmsg_put_extra_header(nlh, sizeof(*gh));
	gh->cmd = cmd;
	gh->version = MPTCP_PM_VER;
	return nlh;
}

static int genl_resolve(struct mps_genl *g)
{
	char buf[256];
	struct genl_resolve r = {0};
	struct nlmsghdr *nlh;
	struct genlmsghdr *gh;
	int err;

	g->family = __atomic_load_n(&genl_family_cache, __ATOMIC_RELAXED);
	g->events_group = __atomic_load_n(&genl_events_cache, __ATOMIC_RELAXED);
	g->ops = __atomic_load_n(&genl_ops_cache, __ATOMIC_RELAXED);
	if (g->family && g->events_group)
		return 0;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	gh = mnl_nlmsg_put_extra_header(nlh, sizeof(*gh));
	gh->cmd = CTRL_CMD_GETFAMILY;
	gh->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, MPTCP_PM_NAME);
	err = mps_genl_talk(g, nlh, genl_family_cb, &r, NULL, 0);
	if (err == -ENOENT) {
		mps_log("kernel has no %s netlink family (MPTCP disabled?)",
			MPTCP_PM_NAME);
		return -EOPNOTSUPP;
	}
	if (err)
		return err;
	if (!r.family)
		return -EPROTO;
	g->family = r.family;
	g->events_group = r.events;
	g->ops = r.ops;
	__atomic_store_n(&genl_ops_cache, r.ops, __ATOMIC_RELAXED);
	__atomic_store_n(&genl_family_cache, r.family, __ATOMIC_RELAXED);
	__atomic_store_n(&genl_events_cache, r.events, __ATOMIC_RELAXED);
	return 0;
}

int mps_genl_open(struct mps_genl *g)
{
	int one = 1, err;

	memset(g, 0, sizeof(*g));
	g->nl = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	if (!g->nl)
		return -errno;
	if (mnl_socket_bind(g->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto fail;
	}
	/* best effort: the kernel's error text, without the echoed request */
	mnl_socket_setsockopt(g->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(g->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	mps_nl_batch_rcvbuf(g->nl);
	g->portid = mnl_socket_get_portid(g->nl);
	g->seq = time(NULL);
	err = genl_resolve(g);
	if (err)
		goto fail;
	return 0;
fail:
	mnl_socket_close(g->nl);
	g->nl = NULL;
	return err;
}

void mps_genl_close(struct mps_genl *g)
{
	if (g->nl)
		mnl_socket_close(g->nl);
	g->nl = NULL;
}

/*
 * One command socket per thread, kept between calls (opening one costs
 * more than a SET_FLAGS round trip).  Replaced after a fork, or after a
 * failure that may have left replies unread.
 */
struct genl_tls {
	struct mps_genl g;
	pid_t pid;
};

static void genl_tls_free(void *p)
{
	struct genl_tls *t = p;

	mps_genl_close(&t->g);
	free(t);
}

static struct mps_tls genl_tls = MPS_TLS_INIT(genl_tls_free);

int mps_genl_cached(struct mps_genl **out)
{
	struct genl_tls *t = mps_tls_get(&genl_tls, sizeof(*t));
	int err;

	if (!t)
		return -errno;
	if (t->g.nl && (t->g.broken || t->pid != getpid()))
		mps_genl_close(&t->g); /* after fork: the parent's stays open */
	if (!t->g.nl) {
		err = mps_genl_open(&t->g);
		if (err)
			return err;
		t->pid = getpid();
	}
	*out = &t->g;
	return 0;
}
