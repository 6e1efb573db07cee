// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kernel's MPTCP events (the "mptcp_pm_events" multicast group; joining
 * it needs CAP_NET_ADMIN): subscribing, parsing one event, and deciding
 * what an event means for a subflow being opened.
 */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

#include "kernel/kernel.h"

/* Room for bursts: the kernel's worker announces closes in batches. */
#define EVENTS_RCVBUF (8 << 20)

int mps_events_subscribe(struct mps_genl *g)
{
	int grp = g->events_group, size = EVENTS_RCVBUF;

	if (!grp)
		return -EOPNOTSUPP;
	/* subscribing needs CAP_NET_ADMIN, which may also force the size */
	if (setsockopt(mnl_socket_get_fd(g->nl), SOL_SOCKET, SO_RCVBUFFORCE,
		       &size, sizeof(size)) < 0)
		setsockopt(mnl_socket_get_fd(g->nl), SOL_SOCKET, SO_RCVBUF,
			   &size, sizeof(size));
	if (mnl_socket_setsockopt(g->nl, NETLINK_ADD_MEMBERSHIP, &grp,
				  sizeof(grp)) < 0)
		return -errno;
	return 0;
}

static void ev_put_addr(struct sockaddr_storage *ss, int family,
			const void *addr, size_t len)
{
	if (family == AF_INET && len == 4) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_family = AF_INET;
		memcpy(&s->sin_addr, addr, 4);
	} else if (family == AF_INET6 && len == 16) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

		s->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, addr, 16);
	}
}

static int ev_attr_cb(const struct nlattr *attr, void *data)
{
	const void *p = mnl_attr_get_payload(attr);
	size_t len = mnl_attr_get_payload_len(attr);
	struct mps_event *ev = data;

	switch (mnl_attr_get_type(attr)) {
	case MPTCP_ATTR_TOKEN:
		if (len == 4)
			ev->token = mnl_attr_get_u32(attr);
		break;
	case MPTCP_ATTR_SADDR4:
		ev_put_addr(&ev->local, AF_INET, p, len);
		break;
	case MPTCP_ATTR_SADDR6:
		ev_put_addr(&ev->local, AF_INET6, p, len);
		break;
	case MPTCP_ATTR_DADDR4:
		ev_put_addr(&ev->remote, AF_INET, p, len);
		break;
	case MPTCP_ATTR_DADDR6:
		ev_put_addr(&ev->remote, AF_INET6, p, len);
		break;
	case MPTCP_ATTR_SPORT:
		if (len == 2)
			ev->sport = mnl_attr_get_u16(attr); /* network order */
		break;
	case MPTCP_ATTR_DPORT:
		if (len == 2)
			ev->dport = mnl_attr_get_u16(attr);
		break;
	case MPTCP_ATTR_BACKUP:
		if (len >= 1)
			ev->backup = mnl_attr_get_u8(attr);
		break;
	case MPTCP_ATTR_ERROR:
		if (len >= 1) {
			ev->error = mnl_attr_get_u8(attr);
			ev->has_error = true;
		}
		break;
	case MPTCP_ATTR_SERVER_SIDE:
		if (len >= 1)
			ev->server_side = mnl_attr_get_u8(attr);
		break;
	case MPTCP_ATTR_LOC_ID:
		if (len >= 1)
			ev->loc_id = mnl_attr_get_u8(attr);
		break;
	case MPTCP_ATTR_REM_ID:
		if (len >= 1)
			ev->rem_id = mnl_attr_get_u8(attr);
		break;
	case MPTCP_ATTR_IF_IDX:
		if (len == 4)
			ev->ifindex = (int)mnl_attr_get_u32(attr);
		break;
	default: /* newer kernels add attributes: skip them */
		break;
	}
	return MNL_CB_OK;
}

int mps_event_parse(const struct nlmsghdr *nlh, struct mps_event *ev)
{
	const struct genlmsghdr *gh = mnl_nlmsg_get_payload(nlh);

	memset(ev, 0, sizeof(*ev));
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*gh)))
		return -EBADMSG;
	ev->type = gh->cmd;
	if (mnl_attr_parse(nlh, sizeof(*gh), ev_attr_cb, ev) < 0)
		return -EBADMSG;
	mps_addr_set_port(&ev->local, ev->sport);
	mps_addr_set_port(&ev->remote, ev->dport);
	return 0;
}

/* What a failed open's SUB_CLOSED means, for mpsock_errmsg(). */
const char *mps_event_error_msg(int err)
{
	switch (err) {
	case -ECONNREFUSED:
		return "the peer refused the subflow (RST to its SYN)";
	case -ETIMEDOUT:
		return "no answer to the subflow's SYN (the kernel gave up)";
	case -ECONNRESET:
		return "the subflow was closed as it was being established "
		       "(a reset, or no MPTCP on that port)";
	default:
		return "the subflow was closed as it was being established";
	}
}
