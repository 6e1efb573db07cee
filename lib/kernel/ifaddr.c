// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The interface that owns a local address, from the kernel's address list
 * (RTM_GETADDR): a subflow from that address is bound to it, so that it
 * leaves through that interface whatever the routing table says.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "kernel/kernel.h"

struct ifaddr_find {
	struct mps_nl_ack ack; /* first: mps_nl_run() reads it */
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

/*
 * One route netlink socket per thread, kept between calls (an open costs
 * as much as the dump, and allocates); a forked child opens its own.
 */
struct ifaddr_conn {
	struct mnl_socket *nl;
	unsigned int portid;
	pid_t pid;
	__u32 seq;
};

static void ifaddr_conn_free(void *p)
{
	struct ifaddr_conn *c = p;

	if (c->nl)
		mnl_socket_close(c->nl);
	free(c);
}

static struct mps_tls ifaddr_tls = MPS_TLS_INIT(ifaddr_conn_free);

static int ifaddr_conn_get(struct ifaddr_conn **out)
{
	struct ifaddr_conn *c = mps_tls_get(&ifaddr_tls, sizeof(*c));
	int err;

	if (!c)
		return -errno;
	if (c->nl && c->pid != getpid())
		c->nl = NULL; /* the parent's: not ours to close or use */
	if (!c->nl) {
		c->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
		if (!c->nl)
			return -errno;
		if (mnl_socket_bind(c->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
			err = -errno;
			mnl_socket_close(c->nl);
			c->nl = NULL;
			return err;
		}
		c->portid = mnl_socket_get_portid(c->nl);
		c->pid = getpid();
		c->seq = time(NULL);
	}
	*out = c;
	return 0;
}

int mps_addr_ifindex(const struct sockaddr_storage *addr)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ifaddr_find f = {.addr = addr};
	struct ifaddr_conn *c = NULL;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	ssize_t n;
	int r;

	if (addr->ss_family == AF_INET6 &&
	    ((const struct sockaddr_in6 *)addr)->sin6_scope_id)
		return ((const struct sockaddr_in6 *)addr)->sin6_scope_id;
	if (addr->ss_family != AF_INET && addr->ss_family != AF_INET6)
		return -EAFNOSUPPORT;
	r = ifaddr_conn_get(&c);
	if (r)
		return r;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++c->seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = addr->ss_family;
	if (mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0)
		goto fail;
	do {
		n = mnl_socket_recvfrom(c->nl, buf, sizeof(buf));
		if (n < 0)
			goto fail;
		r = mps_nl_run(buf, n, c->seq, c->portid, ifaddr_cb, &f.ack);
	} while (r > MNL_CB_STOP);
	if (r < 0)
		goto fail;
	return f.ifindex;
fail:
	/* the rest of the dump may be left behind: start afresh next time */
	r = -errno;
	mnl_socket_close(c->nl);
	c->nl = NULL;
	return r;
}
