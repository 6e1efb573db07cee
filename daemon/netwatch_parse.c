// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One rtnetlink link or address message into what netwatch keeps, apart
 * from netwatch's state so that recorded messages and a fuzzer can reach
 * it: the kernel's bytes are checked here, lengths included.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "netwatch.h"

/* carrier; in <linux/if.h>, which clashes with glibc's <net/if.h> */
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

int nw_parse_link(const struct nlmsghdr *nlh, struct nw_link *l)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;

	memset(l, 0, sizeof(*l));
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return -EBADMSG;
	l->ifindex = ifi->ifi_index;
	mnl_attr_for_each(attr, nlh, sizeof(*ifi))
	{
		/* the name need not end in a NUL within its attribute */
		if (mnl_attr_get_type(attr) == IFLA_IFNAME)
			snprintf(l->name, sizeof(l->name), "%.*s",
				 (int)mnl_attr_get_payload_len(attr),
				 (const char *)mnl_attr_get_payload(attr));
	}
	l->up = nlh->nlmsg_type == RTM_NEWLINK && (ifi->ifi_flags & IFF_UP) &&
		(ifi->ifi_flags & IFF_LOWER_UP);
	return 0;
}

/* Host and link scope (loopback, fe80::/10) and addresses in DAD are not. */
static bool addr_usable(const struct ifaddrmsg *ifa, __u32 flags)
{
	if (ifa->ifa_scope != RT_SCOPE_UNIVERSE)
		return false;
	return !(flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED));
}

int nw_parse_addr(const struct nlmsghdr *nlh, struct nw_addr *a, bool *usable)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr, *addr = NULL;
	size_t want;
	__u32 flags;

	memset(a, 0, sizeof(*a));
	*usable = false;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
		return -EBADMSG;
	a->ifindex = ifa->ifa_index;
	flags = ifa->ifa_flags;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa))
	{
		int type = mnl_attr_get_type(attr);

		/* IFA_LOCAL is the address itself on point-to-point links */
		if (type == IFA_LOCAL || (type == IFA_ADDRESS && !addr))
			addr = attr;
		if (type == IFA_FLAGS &&
		    mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			flags = mnl_attr_get_u32(attr);
	}
	if (ifa->ifa_family == AF_INET)
		want = sizeof(struct in_addr);
	else if (ifa->ifa_family == AF_INET6)
		want = sizeof(struct in6_addr);
	else
		return 0;
	if (!addr || mnl_attr_get_payload_len(addr) < want)
		return 0;
	a->addr.ss_family = ifa->ifa_family;
	if (ifa->ifa_family == AF_INET)
		memcpy(&((struct sockaddr_in *)&a->addr)->sin_addr,
		       mnl_attr_get_payload(addr), want);
	else
		memcpy(&((struct sockaddr_in6 *)&a->addr)->sin6_addr,
		       mnl_attr_get_payload(addr), want);
	*usable = addr_usable(ifa, flags);
	return 1;
}
