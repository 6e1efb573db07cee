// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The userspace path manager's commands (SUBFLOW_CREATE, SUBFLOW_DESTROY,
 * SET_FLAGS) and the connection's local address table (GET_ADDR by token).
 * All of them need CAP_NET_ADMIN: mpsockd, or a privileged application.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/genetlink.h>
#include <libmnl/libmnl.h>

#include "kernel/kernel.h"

#define PM_BUF 512

static void pm_put_addr(struct nlmsghdr *nlh, int type,
			const struct sockaddr_storage *ss, int id,
			const __u32 *flags, int ifindex)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, type);
	__be16 port = mps_addr_port(ss);

	mnl_attr_put_u16(nlh, MPTCP_PM_ADDR_ATTR_FAMILY, ss->ss_family);
	if (ss->ss_family == AF_INET)
		mnl_attr_put(nlh, MPTCP_PM_ADDR_ATTR_ADDR4, 4,
			     &((const struct sockaddr_in *)ss)->sin_addr);
	else
		mnl_attr_put(nlh, MPTCP_PM_ADDR_ATTR_ADDR6, 16,
			     &((const struct sockaddr_in6 *)ss)->sin6_addr);
	if (id >= 0)
		mnl_attr_put_u8(nlh, MPTCP_PM_ADDR_ATTR_ID, id);
	/* the kernel takes the port in host order here */
	if (port)
		mnl_attr_put_u16(nlh, MPTCP_PM_ADDR_ATTR_PORT, ntohs(port));
	if (flags)
		mnl_attr_put_u32(nlh, MPTCP_PM_ADDR_ATTR_FLAGS, *flags);
	/* the subflow is bound to it, as SO_BINDTODEVICE would */
	if (ifindex > 0)
		mnl_attr_put_u32(nlh, MPTCP_PM_ADDR_ATTR_IF_IDX, ifindex);
	mnl_attr_nest_end(nlh, nest);
}

/*
 * Each command has one message builder, at @buf: sent alone by
 * mps_genl_talk(), or appended to a batch (mps_nl_batch_next()).
 *
 * @ifindex: the interface the subflow is bound to, 0 for none (routing
 * chooses); a link-local IPv6 source needs its own in any case.
 */
static struct nlmsghdr *
pm_create_msg(struct mps_genl *g, void *buf, __u32 token,
	      const struct sockaddr_storage *local, __u8 local_id, int ifindex,
	      const struct sockaddr_storage *remote, bool backup)
{
	const struct sockaddr_in6 *l6 = (const struct sockaddr_in6 *)local;
	__u32 flags = backup ? MPTCP_PM_ADDR_FLAG_BACKUP : 0;
	struct nlmsghdr *nlh;

	if (!ifindex && local->ss_family == AF_INET6 && l6->sin6_scope_id)
		ifindex = l6->sin6_scope_id;
	nlh = mps_genl_put(g, buf, MPTCP_PM_CMD_SUBFLOW_CREATE, 0);
	mnl_attr_put_u32(nlh, MPTCP_PM_ATTR_TOKEN, token);
	pm_put_addr(nlh, MPTCP_PM_ATTR_ADDR, local, local_id, &flags, ifindex);
	pm_put_addr(nlh, MPTCP_PM_ATTR_ADDR_REMOTE, remote, -1, NULL, 0);
	return nlh;
}

int mps_pm_subflow_create(struct mps_genl *g, __u32 token,
			  const struct sockaddr_storage *local, __u8 local_id,
			  int ifindex, const struct sockaddr_storage *remote,
			  bool backup, char *msg, size_t msglen)
{
	char buf[PM_BUF];
	struct nlmsghdr *nlh;

	nlh = pm_create_msg(g, buf, token, local, local_id, ifindex, remote,
			    backup);
	return mps_genl_talk(g, nlh, NULL, NULL, msg, msglen);
}

bool mps_pm_subflow_create_put(struct mps_genl *g, struct mnl_nlmsg_batch *b,
			       __u32 seq, __u32 token,
			       const struct sockaddr_storage *local,
			       __u8 local_id, int ifindex,
			       const struct sockaddr_storage *remote,
			       bool backup)
{
	pm_create_msg(g, mnl_nlmsg_batch_current(b), token, local, local_id,
		      ifindex, remote, backup);
	return mps_nl_batch_next(b, seq);
}

/* SUBFLOW_DESTROY and SET_FLAGS name one subflow the same way. */
static struct nlmsghdr *pm_subflow_msg(struct mps_genl *g, void *buf, __u8 cmd,
				       __u32 token,
				       const struct sockaddr_storage *local,
				       const __u32 *flags,
				       const struct sockaddr_storage *remote)
{
	struct nlmsghdr *nlh = mps_genl_put(g, buf, cmd, 0);

	mnl_attr_put_u32(nlh, MPTCP_PM_ATTR_TOKEN, token);
	pm_put_addr(nlh, MPTCP_PM_ATTR_ADDR, local, -1, flags, 0);
	pm_put_addr(nlh, MPTCP_PM_ATTR_ADDR_REMOTE, remote, -1, NULL, 0);
	return nlh;
}

int mps_pm_subflow_destroy(struct mps_genl *g, __u32 token,
			   const struct sockaddr_storage *local,
			   const struct sockaddr_storage *remote, char *msg,
			   size_t msglen)
{
	char buf[PM_BUF];
	struct nlmsghdr *nlh;

	nlh = pm_subflow_msg(g, buf, MPTCP_PM_CMD_SUBFLOW_DESTROY, token, local,
			     NULL, remote);
	return mps_genl_talk(g, nlh, NULL, NULL, msg, msglen);
}

bool mps_pm_subflow_destroy_put(struct mps_genl *g, struct mnl_nlmsg_batch *b,
				__u32 seq, __u32 token,
				const struct sockaddr_storage *local,
				const struct sockaddr_storage *remote)
{
	pm_subflow_msg(g, mnl_nlmsg_batch_current(b),
		       MPTCP_PM_CMD_SUBFLOW_DESTROY, token, local, NULL,
		       remote);
	return mps_nl_batch_next(b, seq);
}

/*
 * Both ports select exactly one subflow; the kernel sends MP_PRIO on it.
 * A FLAGS value without the backup bit clears backup.
 */
int mps_pm_set_backup(struct mps_genl *g, __u32 token,
		      const struct sockaddr_storage *local,
		      const struct sockaddr_storage *remote, bool backup,
		      char *msg, size_t msglen)
{
	char buf[PM_BUF];
	__u32 flags = backup ? MPTCP_PM_ADDR_FLAG_BACKUP : 0;
	struct nlmsghdr *nlh;

	nlh = pm_subflow_msg(g, buf, MPTCP_PM_CMD_SET_FLAGS, token, local,
			     &flags, remote);
	return mps_genl_talk(g, nlh, NULL, NULL, msg, msglen);
}

bool mps_pm_set_backup_put(struct mps_genl *g, struct mnl_nlmsg_batch *b,
			   __u32 seq, __u32 token,
			   const struct sockaddr_storage *local,
			   const struct sockaddr_storage *remote, bool backup)
{
	__u32 flags = backup ? MPTCP_PM_ADDR_FLAG_BACKUP : 0;

	pm_subflow_msg(g, mnl_nlmsg_batch_current(b), MPTCP_PM_CMD_SET_FLAGS,
		       token, local, &flags, remote);
	return mps_nl_batch_next(b, seq);
}

struct pm_table_parse {
	struct mps_local_id *out;
	unsigned int n, max;
};

static int pm_entry_attr_cb(const struct nlattr *attr, void *data)
{
	struct mps_local_id *e = data;
	struct sockaddr_in *sin = (struct sockaddr_in *)&e->addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&e->addr;

	switch (mnl_attr_get_type(attr)) {
	case MPTCP_PM_ADDR_ATTR_ID:
		if (mnl_attr_validate(attr, MNL_TYPE_U8) == 0)
			e->id = mnl_attr_get_u8(attr);
		break;
	case MPTCP_PM_ADDR_ATTR_ADDR4:
		if (mnl_attr_get_payload_len(attr) == 4) {
			sin->sin_family = AF_INET;
			memcpy(&sin->sin_addr, mnl_attr_get_payload(attr), 4);
		}
		break;
	case MPTCP_PM_ADDR_ATTR_ADDR6:
		if (mnl_attr_get_payload_len(attr) == 16) {
			sin6->sin6_family = AF_INET6;
			memcpy(&sin6->sin6_addr, mnl_attr_get_payload(attr),
			       16);
		}
		break;
	case MPTCP_PM_ADDR_ATTR_PORT:
		if (mnl_attr_validate(attr, MNL_TYPE_U16) == 0)
			e->port = htons(mnl_attr_get_u16(attr));
		break;
	case MPTCP_PM_ADDR_ATTR_FLAGS:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			e->flags = mnl_attr_get_u32(attr);
		break;
	case MPTCP_PM_ADDR_ATTR_IF_IDX:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			e->ifindex = (int)mnl_attr_get_u32(attr);
		break;
	}
	return MNL_CB_OK;
}

static int pm_table_attr_cb(const struct nlattr *attr, void *data)
{
	struct pm_table_parse *p = data;
	struct mps_local_id e;

	if (mnl_attr_get_type(attr) != MPTCP_PM_ATTR_ADDR || p->n >= p->max)
		return MNL_CB_OK;
	memset(&e, 0, sizeof(e));
	mnl_attr_parse_nested(attr, pm_entry_attr_cb, &e);
	if (e.addr.ss_family == AF_INET || e.addr.ss_family == AF_INET6) {
		mps_addr_set_port(&e.addr, e.port);
		p->out[p->n++] = e;
	}
	return MNL_CB_OK;
}

static int pm_table_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), pm_table_attr_cb,
			      data);
}

/*
 * The connection's local address table (@token): which id each local
 * address has; with @token 0, the namespace's endpoint table, the one
 * "ip mptcp endpoint" shows, with each entry's flags and device.
 */
int mps_pm_local_ids(struct mps_genl *g, __u32 token, struct mps_local_id *out,
		     unsigned int max, char *msg, size_t msglen)
{
	struct pm_table_parse p = {.out = out, .max = max};
	char buf[PM_BUF];
	struct nlmsghdr *nlh;
	int err;

	nlh = mps_genl_put(g, buf, MPTCP_PM_CMD_GET_ADDR, NLM_F_DUMP);
	if (token)
		mnl_attr_put_u32(nlh, MPTCP_PM_ATTR_TOKEN, token);
	err = mps_genl_talk(g, nlh, pm_table_cb, &p, msg, msglen);
	return err ? err : (int)p.n;
}

static int pm_limits_attr_cb(const struct nlattr *attr, void *data)
{
	__u32 *lim = data;

	if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return MNL_CB_OK;
	if (mnl_attr_get_type(attr) == MPTCP_PM_ATTR_SUBFLOWS)
		lim[0] = mnl_attr_get_u32(attr);
	else if (mnl_attr_get_type(attr) == MPTCP_PM_ATTR_RCV_ADD_ADDRS)
		lim[1] = mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

static int pm_limits_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), pm_limits_attr_cb,
			      data);
}

/* The namespace's "ip mptcp limits": extra subflows, addresses accepted. */
int mps_pm_limits(struct mps_genl *g, __u32 *subflows, __u32 *add_addr_accepted,
		  char *msg, size_t msglen)
{
	__u32 lim[2] = {0, 0};
	char buf[PM_BUF];
	struct nlmsghdr *nlh;
	int err;

	nlh = mps_genl_put(g, buf, MPTCP_PM_CMD_GET_LIMITS, 0);
	err = mps_genl_talk(g, nlh, pm_limits_cb, lim, msg, msglen);
	*subflows = lim[0];
	*add_addr_accepted = lim[1];
	return err;
}

/*
 * Server side: tell the peer about one more address (ADD_ADDR).  The
 * kernel wants a non-zero id and the signal flag.
 */
static struct nlmsghdr *pm_announce_msg(struct mps_genl *g, void *buf,
					__u32 token,
					const struct sockaddr_storage *addr,
					__u8 id)
{
	__u32 flags = MPTCP_PM_ADDR_FLAG_SIGNAL;
	struct nlmsghdr *nlh = mps_genl_put(g, buf, MPTCP_PM_CMD_ANNOUNCE, 0);

	mnl_attr_put_u32(nlh, MPTCP_PM_ATTR_TOKEN, token);
	pm_put_addr(nlh, MPTCP_PM_ATTR_ADDR, addr, id, &flags, 0);
	return nlh;
}

int mps_pm_announce(struct mps_genl *g, __u32 token,
		    const struct sockaddr_storage *addr, __u8 id, char *msg,
		    size_t msglen)
{
	char buf[PM_BUF];
	struct nlmsghdr *nlh = pm_announce_msg(g, buf, token, addr, id);

	return mps_genl_talk(g, nlh, NULL, NULL, msg, msglen);
}

bool mps_pm_announce_put(struct mps_genl *g, struct mnl_nlmsg_batch *b,
			 __u32 seq, __u32 token,
			 const struct sockaddr_storage *addr, __u8 id)
{
	pm_announce_msg(g, mnl_nlmsg_batch_current(b), token, addr, id);
	return mps_nl_batch_next(b, seq);
}

/*
 * Withdraw local address @id from the connection: the kernel sends
 * RM_ADDR, and the peer closes its subflows to that address at once
 * instead of waiting for their retransmission timeouts.
 */
static struct nlmsghdr *pm_remove_msg(struct mps_genl *g, void *buf,
				      __u32 token, __u8 id)
{
	struct nlmsghdr *nlh = mps_genl_put(g, buf, MPTCP_PM_CMD_REMOVE, 0);

	mnl_attr_put_u32(nlh, MPTCP_PM_ATTR_TOKEN, token);
	mnl_attr_put_u8(nlh, MPTCP_PM_ATTR_LOC_ID, id);
	return nlh;
}

int mps_pm_remove(struct mps_genl *g, __u32 token, __u8 id, char *msg,
		  size_t msglen)
{
	char buf[PM_BUF];
	struct nlmsghdr *nlh = pm_remove_msg(g, buf, token, id);

	return mps_genl_talk(g, nlh, NULL, NULL, msg, msglen);
}

bool mps_pm_remove_put(struct mps_genl *g, struct mnl_nlmsg_batch *b, __u32 seq,
		       __u32 token, __u8 id)
{
	pm_remove_msg(g, mnl_nlmsg_batch_current(b), token, id);
	return mps_nl_batch_next(b, seq);
}

/*
 * The kernel answers several path manager refusals with a bare EINVAL and
 * tells them apart only by its extended-ack text, which is not ABI.  This
 * table is the one place that reads it (net/mptcp/pm_userspace.c,
 * pm_netlink.c as of 6.x); a text it does not know leaves the errno as
 * the kernel gave it, so a changed wording costs precision, not safety.
 */
static const struct {
	int err; /* the kernel's */
	const char *text; /* a part of its extack message */
	int meaning; /* ours */
} pm_refusals[] = {
	/* the connection is under the in-kernel PM (pm_type 0) */
	{EINVAL, "userspace PM not selected", EOPNOTSUPP},
	/* another local address holds this id, or this address another id */
	{EINVAL, "did not match address and id", EADDRINUSE},
};

int mps_pm_errno(int err, const char *msg)
{
	unsigned int i;

	if (!msg)
		return err;
	for (i = 0; i < sizeof(pm_refusals) / sizeof(pm_refusals[0]); i++)
		if (-err == pm_refusals[i].err &&
		    strstr(msg, pm_refusals[i].text))
			return -pm_refusals[i].meaning;
	return err;
}
