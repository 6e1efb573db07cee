// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Route lookups (RTM_GETROUTE, as "ip route get" makes them) for the path
 * manager.  A host without source-based policy routing sends a subflow
 * from the cell address out through wifi if wifi has the default route:
 * the source address does not choose the interface, routing does.  So the
 * path manager binds each subflow to its address's interface and opens
 * only pairs that have a route through it, and knows for every subflow,
 * bound or not, which interface it really leaves through.
 *
 * The answers are cached per (local, remote, interface) until netwatch
 * reports a change of routes, rules, links or addresses: a thousand
 * connections over the same paths cost one lookup per path.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "op/op.h"
#include "route.h"

#define ROUTE_CACHE 1024

struct route_key {
	__u8 family;
	__u8 local[16], remote[16];
	int ifindex;
};

struct route_entry {
	struct route_key key;
	unsigned int gen; /* valid while it is route_gen */
	int egress;
};

static struct route_entry cache[ROUTE_CACHE];
static unsigned int route_gen = 1;
static struct mnl_socket *nl;
static unsigned int portid;
static __u32 seq;

void route_invalidate(void)
{
	route_gen++;
}

void route_close(void)
{
	if (nl)
		mnl_socket_close(nl);
	nl = NULL;
}

static const void *addr_bytes(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return &((const struct sockaddr_in *)ss)->sin_addr;
	return &((const struct sockaddr_in6 *)ss)->sin6_addr;
}

static size_t addr_size(int family)
{
	return family == AF_INET ? 4 : 16;
}

struct route_reply {
	__u32 table;
	__u32 oif;
	bool has_table;
	__u8 prefsrc[16]; /* the source address routing picks */
	bool has_prefsrc;
};

static int reply_attr_cb(const struct nlattr *attr, void *data)
{
	struct route_reply *r = data;

	switch (mnl_attr_get_type(attr)) {
	case RTA_TABLE:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0) {
			r->table = mnl_attr_get_u32(attr);
			r->has_table = true;
		}
		break;
	case RTA_OIF:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			r->oif = mnl_attr_get_u32(attr);
		break;
	case RTA_PREFSRC:
		if (mnl_attr_get_payload_len(attr) <= sizeof(r->prefsrc)) {
			memcpy(r->prefsrc, mnl_attr_get_payload(attr),
			       mnl_attr_get_payload_len(attr));
			r->has_prefsrc = true;
		}
		break;
	}
	return MNL_CB_OK;
}

static int reply_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	return mnl_attr_parse(nlh, sizeof(struct rtmsg), reply_attr_cb, data);
}

/* One lookup; a source and an interface only where given. */
static int lookup(int family, const void *src, const void *dst, int oif,
		  struct route_reply *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	ssize_t n;
	int r;

	if (!nl) {
		nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
		if (!nl)
			return -errno;
		if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
			r = -errno;
			route_close();
			return r;
		}
		portid = mnl_socket_get_portid(nl);
		seq = time(NULL);
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	/* the acknowledgement ends the exchange after the route */
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = family;
	rtm->rtm_dst_len = addr_size(family) * 8;
	/* the table that matched: 0 when the kernel only assumed a link */
	rtm->rtm_flags = RTM_F_LOOKUP_TABLE;
	mnl_attr_put(nlh, RTA_DST, addr_size(family), dst);
	if (src) {
		rtm->rtm_src_len = addr_size(family) * 8;
		mnl_attr_put(nlh, RTA_SRC, addr_size(family), src);
	}
	if (oif)
		mnl_attr_put_u32(nlh, RTA_OIF, oif);
	memset(out, 0, sizeof(*out));
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		route_close();
		return r;
	}
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			r = -errno;
			route_close(); /* a late answer must not meet the next
					*/
			return r;
		}
		r = mps_nl_valid(buf, n)
			    ? mnl_cb_run(buf, n, seq, portid, reply_cb, out)
			    : (errno = EBADMSG, MNL_CB_ERROR);
	} while (r == MNL_CB_OK);
	return r < 0 ? -errno : 0;
}

/*
 * A route through @ifindex.  IPv4 answers an interface without a route
 * with a guess that the destination is on that link (no table); IPv6
 * honours the interface strictly only for a lookup without a source, as
 * for a socket bound to a device.
 */
static int egress_bound(int family, const void *src, const void *dst,
			int ifindex)
{
	struct route_reply r;
	int err;

	err = lookup(family, src, dst, ifindex, &r);
	if (err && err != -ENETUNREACH && err != -EHOSTUNREACH)
		return err;
	if (!err && (int)r.oif == ifindex && (!r.has_table || r.table))
		return family == AF_INET && !r.table ? 0 : ifindex;
	if (family == AF_INET)
		return 0;
	err = lookup(family, NULL, dst, ifindex, &r);
	if (err == -ENETUNREACH || err == -EHOSTUNREACH)
		return 0;
	if (err)
		return err;
	return (int)r.oif == ifindex ? ifindex : 0;
}

static int egress_routed(int family, const void *src, const void *dst)
{
	struct route_reply r;
	int err;

	err = lookup(family, src, dst, 0, &r);
	if (err == -ENETUNREACH || err == -EHOSTUNREACH)
		return 0;
	return err ? err : (int)r.oif;
}

static unsigned int key_hash(const struct route_key *k)
{
	unsigned int h = k->family * 31u + (unsigned int)k->ifindex;
	size_t i;

	for (i = 0; i < 16; i++)
		h = h * 131u + k->local[i] * 7u + k->remote[i];
	return h & (ROUTE_CACHE - 1);
}

int route_egress(const struct sockaddr_storage *local,
		 const struct sockaddr_storage *remote, int ifindex)
{
	struct route_entry *e;
	struct route_key k;
	int family = remote->ss_family, egress;

	if (local->ss_family != family ||
	    (family != AF_INET && family != AF_INET6))
		return -EAFNOSUPPORT;
	memset(&k, 0, sizeof(k));
	k.family = family;
	k.ifindex = ifindex;
	memcpy(k.local, addr_bytes(local), addr_size(family));
	memcpy(k.remote, addr_bytes(remote), addr_size(family));
	e = &cache[key_hash(&k)];
	if (e->gen == route_gen && !memcmp(&e->key, &k, sizeof(k)))
		return e->egress;
	egress = ifindex ? egress_bound(family, k.local, k.remote, ifindex)
			 : egress_routed(family, k.local, k.remote);
	if (egress >= 0) {
		e->key = k;
		e->gen = route_gen;
		e->egress = egress;
	}
	return egress;
}

int route_source(const struct sockaddr_storage *remote,
		 struct sockaddr_storage *src)
{
	struct route_reply r;
	int family = remote->ss_family, err;

	err = lookup(family, NULL, addr_bytes(remote), 0, &r);
	if (err)
		return err;
	if (!r.has_prefsrc)
		return -EADDRNOTAVAIL;
	memset(src, 0, sizeof(*src));
	src->ss_family = family;
	if (family == AF_INET)
		memcpy(&((struct sockaddr_in *)src)->sin_addr, r.prefsrc, 4);
	else
		memcpy(&((struct sockaddr_in6 *)src)->sin6_addr, r.prefsrc, 16);
	return 0;
}
