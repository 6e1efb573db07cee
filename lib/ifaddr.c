// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The interface that owns a local address, from the kernel's address list
 * (RTM_GETADDR): a subflow from that address is bound to it, so that it
 * leaves through that interface whatever the routing table says.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "internal.h"

struct ifaddr_find {
	const struct sockaddr_storage *addr;
	int ifindex;
};

static int ifaddr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct ifaddr_find *f = data;
	const struct nlattr *attr;
	size_t len = f->addr->ss_family == AF_INET ? 4 : 16;
	const void *want;

	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    ifa->ifa_family != f->addr->ss_family || f->ifindex)
		return MNL_CB_OK;
	want = f->addr->ss_family == AF_INET
		       ? (const void *)&((const struct sockaddr_in *)f->addr)
				 ->sin_addr
		       : (const void *)&((const struct sockaddr_in6 *)f->addr)
				 ->sin6_addr;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa))
	{
		int type = mnl_attr_get_type(attr);

		/* IFA_LOCAL is the address itself on point-to-point links */
		if ((type == IFA_LOCAL || type == IFA_ADDRESS) &&
		    mnl_attr_get_payload_len(attr) == len &&
		    !memcmp(mnl_attr_get_payload(attr), want, len)) {
			f->ifindex = ifa->ifa_index;
			break;
		}
	}
	return MNL_CB_OK;
}

int mps_addr_ifindex(const struct sockaddr_storage *addr)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ifaddr_find f = {.addr = addr};
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	unsigned int portid;
	__u32 seq = time(NULL);
	ssize_t n;
	int r = 0;

	if (addr->ss_family == AF_INET6 &&
	    ((const struct sockaddr_in6 *)addr)->sin6_scope_id)
		return ((const struct sockaddr_in6 *)addr)->sin6_scope_id;
	if (addr->ss_family != AF_INET && addr->ss_family != AF_INET6)
		return -EAFNOSUPPORT;
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = addr->ss_family;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto fail;
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			goto fail;
		r = mnl_cb_run(buf, n, seq, portid, ifaddr_cb, &f);
	} while (r > MNL_CB_STOP);
	if (r < 0)
		goto fail;
	mnl_socket_close(nl);
	return f.ifindex;
fail:
	r = -errno;
	mnl_socket_close(nl);
	return r;
}
