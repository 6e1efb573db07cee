// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Links and addresses of the namespace from rtnetlink: a dump at start,
 * then the link and address groups.  The path manager hears of an address
 * that becomes usable or stops being so, and of a link going down or up,
 * as soon as the kernel says it.  On an overrun everything is read again
 * and the differences reported.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "internal.h"
#include "netwatch.h"

/* carrier; in <linux/if.h>, which clashes with glibc's <net/if.h> */
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

/* a link with many VFs describes itself in more than a page */
#define NW_BUF_SIZE 32768

#define NW_MAX_LINKS 256
#define NW_MAX_ADDRS 1024

struct nw_state {
	struct nw_link links[NW_MAX_LINKS];
	unsigned int nlinks;
	struct nw_addr addrs[NW_MAX_ADDRS];
	unsigned int naddrs;
};

static struct nw_state cur;
static struct nw_addr usable[NW_MAX_ADDRS];
static struct mnl_socket *nl;
static const struct nw_ops *ops;
static bool quiet; /* while dumping: no callbacks */

static struct nw_link *link_find(struct nw_state *st, int ifindex)
{
	unsigned int i;

	for (i = 0; i < st->nlinks; i++)
		if (st->links[i].ifindex == ifindex)
			return &st->links[i];
	return NULL;
}

const struct nw_link *netwatch_link(int ifindex)
{
	return link_find(&cur, ifindex);
}

static int addr_find(const struct nw_state *st, const struct nw_addr *a)
{
	unsigned int i;

	for (i = 0; i < st->naddrs; i++)
		if (st->addrs[i].ifindex == a->ifindex &&
		    mps_addr_equal(&st->addrs[i].addr, &a->addr, false))
			return i;
	return -1;
}

static bool link_up(int ifindex)
{
	const struct nw_link *l = link_find(&cur, ifindex);

	return l && l->up;
}

unsigned int netwatch_addrs(const struct nw_addr **out)
{
	unsigned int i, n = 0;

	for (i = 0; i < cur.naddrs; i++)
		if (link_up(cur.addrs[i].ifindex))
			usable[n++] = cur.addrs[i];
	*out = usable;
	return n;
}

int netwatch_addr_ifindex(const struct sockaddr_storage *addr)
{
	unsigned int i;

	for (i = 0; i < cur.naddrs; i++)
		if (mps_addr_equal(&cur.addrs[i].addr, addr, false))
			return cur.addrs[i].ifindex;
	return 0;
}

static void on_link(const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	struct nw_link l = {.ifindex = ifi->ifi_index}, *old;

	mnl_attr_for_each(attr, nlh,
			  sizeof(*ifi)) if (mnl_attr_get_type(attr) ==
					    IFLA_IFNAME)
		snprintf(l.name, sizeof(l.name), "%s", mnl_attr_get_str(attr));
	l.up = nlh->nlmsg_type == RTM_NEWLINK && (ifi->ifi_flags & IFF_UP) &&
	       (ifi->ifi_flags & IFF_LOWER_UP);
	old = link_find(&cur, l.ifindex);
	if (nlh->nlmsg_type == RTM_DELLINK) {
		if (old)
			*old = cur.links[--cur.nlinks];
	} else if (old) {
		bool changed = old->up != l.up;

		*old = l;
		if (!changed)
			return;
	} else if (cur.nlinks < NW_MAX_LINKS) {
		cur.links[cur.nlinks++] = l;
	}
	if (!quiet && ops->link_changed)
		ops->link_changed(&l);
}

static bool addr_usable(const struct ifaddrmsg *ifa, __u32 flags)
{
	if (ifa->ifa_scope != RT_SCOPE_UNIVERSE)
		return false; /* host and link scope: loopback, fe80::/10 */
	return !(flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED));
}

static void on_addr(const struct nlmsghdr *nlh)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	struct nw_addr a = {.ifindex = ifa->ifa_index};
	__u32 flags = ifa->ifa_flags;
	const void *addr = NULL;
	int i;

	mnl_attr_for_each(attr, nlh, sizeof(*ifa))
	{
		int type = mnl_attr_get_type(attr);

		/* IFA_LOCAL is the address itself on point-to-point links */
		if (type == IFA_LOCAL || (type == IFA_ADDRESS && !addr))
			addr = mnl_attr_get_payload(attr);
		if (type == IFA_FLAGS &&
		    mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			flags = mnl_attr_get_u32(attr);
	}
	if (!addr ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return;
	a.addr.ss_family = ifa->ifa_family;
	if (ifa->ifa_family == AF_INET)
		memcpy(&((struct sockaddr_in *)&a.addr)->sin_addr, addr, 4);
	else
		memcpy(&((struct sockaddr_in6 *)&a.addr)->sin6_addr, addr, 16);
	i = addr_find(&cur, &a);
	if (nlh->nlmsg_type == RTM_NEWADDR && addr_usable(ifa, flags)) {
		if (i >= 0 || cur.naddrs == NW_MAX_ADDRS)
			return;
		cur.addrs[cur.naddrs++] = a;
		if (!quiet && ops->addr_added)
			ops->addr_added(&a);
	} else if (i >= 0) {
		/* deleted, or tentative again (DAD after a link flap) */
		cur.addrs[i] = cur.addrs[--cur.naddrs];
		if (!quiet && ops->addr_removed)
			ops->addr_removed(&a);
	}
}

static int msg_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)data;
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(struct ifinfomsg)))
			on_link(nlh);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(struct ifaddrmsg)))
			on_addr(nlh);
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

/* A dump on a socket of its own, so that it never mixes with the groups. */
static int dump(int type)
{
	char buf[NW_BUF_SIZE];
	struct mnl_socket *d;
	struct nlmsghdr *nlh;
	struct rtgenmsg *g;
	unsigned int portid;
	__u32 seq = time(NULL);
	int r = -1;
	ssize_t n;

	d = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!d)
		return -errno;
	if (mnl_socket_bind(d, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(d);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->rtgen_family = AF_UNSPEC;
	if (mnl_socket_sendto(d, nlh, nlh->nlmsg_len) < 0)
		goto out;
	while ((n = mnl_socket_recvfrom(d, buf, sizeof(buf))) > 0) {
		r = mnl_cb_run(buf, n, seq, portid, msg_cb, NULL);
		if (r <= MNL_CB_STOP)
			break;
	}
	if (n < 0)
		r = -1;
out:
	r = r < 0 ? -errno : 0;
	mnl_socket_close(d);
	return r;
}

/* Read everything again; report what changed while we were not told. */
static void resync(void)
{
	struct nw_state old = cur;
	unsigned int i;

	memset(&cur, 0, sizeof(cur));
	quiet = true;
	dump(RTM_GETLINK);
	dump(RTM_GETADDR);
	quiet = false;
	for (i = 0; i < old.naddrs; i++)
		if (addr_find(&cur, &old.addrs[i]) < 0 && ops->addr_removed)
			ops->addr_removed(&old.addrs[i]);
	for (i = 0; i < cur.nlinks; i++) {
		struct nw_link *l = link_find(&old, cur.links[i].ifindex);

		if ((!l || l->up != cur.links[i].up) && ops->link_changed)
			ops->link_changed(&cur.links[i]);
	}
	for (i = 0; i < cur.naddrs; i++)
		if (addr_find(&old, &cur.addrs[i]) < 0 && ops->addr_added)
			ops->addr_added(&cur.addrs[i]);
}

int netwatch_open(const struct nw_ops *o)
{
	int err;

	ops = o;
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(
		    nl, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
		    MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		mnl_socket_close(nl);
		nl = NULL;
		return err;
	}
	memset(&cur, 0, sizeof(cur));
	quiet = true;
	err = dump(RTM_GETLINK);
	if (!err)
		err = dump(RTM_GETADDR);
	quiet = false;
	if (err) {
		netwatch_close();
		return err;
	}
	return mnl_socket_get_fd(nl);
}

void netwatch_readable(void)
{
	char buf[NW_BUF_SIZE];
	ssize_t n;

	while (nl) {
		n = recv(mnl_socket_get_fd(nl), buf, sizeof(buf),
			 MSG_DONTWAIT | MSG_TRUNC);
		if (n > (ssize_t)sizeof(buf))
			resync(); /* a message we could not read whole */
		else if (n > 0)
			mnl_cb_run(buf, n, 0, 0, msg_cb, NULL);
		else if (n < 0 && errno == ENOBUFS)
			resync();
		else
			break;
	}
}

void netwatch_close(void)
{
	if (nl)
		mnl_socket_close(nl);
	nl = NULL;
}
