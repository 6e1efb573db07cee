// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Links and addresses of the namespace from rtnetlink: a dump at start,
 * then the link and address groups.  The path manager hears of an address
 * that becomes usable or stops being so, and of a link going down or up,
 * as soon as the kernel says it.  On an overrun everything is read again
 * and the differences reported, but only from a dump that went through
 * whole: a failed or interrupted one changes nothing and is tried again
 * after a pause, since a partial view would make every address it missed
 * look removed.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "op/op.h"
#include "log.h"
#include "netwatch.h"

/* a link with many VFs describes itself in more than a page */
#define NW_BUF_SIZE 32768

#define NW_MAX_LINKS 256
#define NW_MAX_ADDRS 1024

/* a failed resync is tried again after this, doubling up to the maximum */
#define NW_RETRY_MIN_MS 100
#define NW_RETRY_MAX_MS 2000
/* at start: a few tries, then mpsockd does not start (see netwatch_open) */
#define NW_START_TRIES 5
/* bounds the reading of a queue that someone keeps filling */
#define NW_DRAIN_MAX 65536

struct nw_state {
	struct nw_link links[NW_MAX_LINKS];
	unsigned int nlinks;
	struct nw_addr addrs[NW_MAX_ADDRS];
	unsigned int naddrs;
};

/*
 * What the path manager sees (cur), and what a dump fills (fresh): only a
 * dump that went through whole is swapped in.
 */
static struct nw_state states[2];
static struct nw_state *cur = &states[0], *fresh = &states[1];
static struct nw_addr usable[NW_MAX_ADDRS];
static struct mnl_socket *nl;
static const struct nw_ops *ops;
static bool routes_changed;

/* A resync owed since an overrun, retried until a dump goes through. */
static struct {
	bool pending;
	unsigned int attempts;
	unsigned int delay_ms; /* the pause after the last failure */
	long next_ms; /* when to try (again) */
	long done_ms; /* when the last one succeeded */
} rs;

/* MPSOCKD_TEST_FAIL_DUMPS: resync dumps still to fail on purpose */
static unsigned long fail_dumps;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

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
	return link_find(cur, ifindex);
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
	const struct nw_link *l = link_find(cur, ifindex);

	return l && l->up;
}

unsigned int netwatch_addrs(const struct nw_addr **out)
{
	unsigned int i, n = 0;

	for (i = 0; i < cur->naddrs; i++)
		if (link_up(cur->addrs[i].ifindex))
			usable[n++] = cur->addrs[i];
	*out = usable;
	return n;
}

int netwatch_addr_ifindex(const struct sockaddr_storage *addr)
{
	unsigned int i;

	for (i = 0; i < cur->naddrs; i++)
		if (mps_addr_equal(&cur->addrs[i].addr, addr, false))
			return cur->addrs[i].ifindex;
	return 0;
}

/* Into @st; the path manager hears of it only when @st is what it sees. */
static void on_link(struct nw_state *st, const struct nlmsghdr *nlh)
{
	struct nw_link l, *old;

	if (nw_parse_link(nlh, &l))
		return;
	old = link_find(st, l.ifindex);
	if (nlh->nlmsg_type == RTM_DELLINK) {
		if (old)
			*old = st->links[--st->nlinks];
	} else if (old) {
		bool changed = old->up != l.up;

		*old = l;
		if (!changed)
			return;
	} else if (st->nlinks < NW_MAX_LINKS) {
		st->links[st->nlinks++] = l;
	}
	if (st == cur && ops->link_changed)
		ops->link_changed(&l);
}

static void on_addr(struct nw_state *st, const struct nlmsghdr *nlh)
{
	struct nw_addr a;
	bool usable;
	int i;

	if (nw_parse_addr(nlh, &a, &usable) <= 0)
		return;
	i = addr_find(st, &a);
	if (nlh->nlmsg_type == RTM_NEWADDR && usable) {
		if (i >= 0 || st->naddrs == NW_MAX_ADDRS)
			return;
		st->addrs[st->naddrs++] = a;
		if (st == cur && ops->addr_added)
			ops->addr_added(&a);
	} else if (i >= 0) {
		/* deleted, or tentative again (DAD after a link flap) */
		st->addrs[i] = st->addrs[--st->naddrs];
		if (st == cur && ops->addr_removed)
			ops->addr_removed(&a);
	}
}

static int msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nw_state *st = data;

	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(struct ifinfomsg)))
			on_link(st, nlh);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(struct ifaddrmsg)))
			on_addr(st, nlh);
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
	case RTM_NEWRULE:
	case RTM_DELRULE:
		routes_changed = true; /* told once per batch read */
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

/*
 * A dump into @st, on a socket of its own so that it never mixes with the
 * groups.  -EINTR: the kernel marked it interrupted (NLM_F_DUMP_INTR, the
 * list changed between two of its parts), which libmnl reports so.
 */
static int dump(int type, struct nw_state *st)
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
		r = mps_nl_valid(buf, n)
			    ? mnl_cb_run(buf, n, seq, portid, msg_cb, st)
			    : (errno = EBADMSG, MNL_CB_ERROR);
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

/*
 * Links and addresses, whole, into @st.  *@injected: the failure was
 * MPSOCKD_TEST_FAIL_DUMPS's, made where a real one hurts most (links read,
 * no address yet).
 */
static int fetch(struct nw_state *st, bool may_inject, bool *injected)
{
	int err;

	*injected = false;
	memset(st, 0, sizeof(*st));
	err = dump(RTM_GETLINK, st);
	if (!err && may_inject && fail_dumps) {
		fail_dumps--;
		*injected = true;
		return -EINTR;
	}
	if (!err)
		err = dump(RTM_GETADDR, st);
	return err;
}

/*
 * What the group socket holds is older than the dump about to start, which
 * supersedes it: read after the dump, a message that a lost one had undone
 * would undo the dump's newer truth.
 */
static void drain(void)
{
	unsigned int i;
	char c;

	for (i = 0; i < NW_DRAIN_MAX; i++)
		if (recv(mnl_socket_get_fd(nl), &c, 1,
			 MSG_DONTWAIT | MSG_TRUNC) < 0 &&
		    errno != ENOBUFS)
			break;
}

struct nw_diff {
	unsigned int added, removed, links;
};

/* The fresh state becomes cur; with @report, the path manager hears why. */
static void commit(bool report, struct nw_diff *d)
{
	struct nw_state *old = cur;
	unsigned int i;

	cur = fresh;
	fresh = old;
	memset(d, 0, sizeof(*d));
	if (!report)
		return;
	/* cur first: the callbacks read the new state */
	for (i = 0; i < old->naddrs; i++) {
		if (addr_find(cur, &old->addrs[i]) >= 0)
			continue;
		d->removed++;
		if (ops->addr_removed)
			ops->addr_removed(&old->addrs[i]);
	}
	for (i = 0; i < cur->nlinks; i++) {
		struct nw_link *l = link_find(old, cur->links[i].ifindex);

		if (l && l->up == cur->links[i].up)
			continue;
		d->links++;
		if (ops->link_changed)
			ops->link_changed(&cur->links[i]);
	}
	for (i = 0; i < cur->naddrs; i++) {
		if (addr_find(old, &cur->addrs[i]) >= 0)
			continue;
		d->added++;
		if (ops->addr_added)
			ops->addr_added(&cur->addrs[i]);
	}
}

/* Read everything again; report what changed while we were not told. */
static void resync_attempt(void)
{
	struct nw_diff d;
	bool injected;
	int err;

	rs.attempts++;
	drain();
	err = fetch(fresh, true, &injected);
	if (err) {
		rs.delay_ms = rs.delay_ms ? 2 * rs.delay_ms : NW_RETRY_MIN_MS;
		if (rs.delay_ms > NW_RETRY_MAX_MS)
			rs.delay_ms = NW_RETRY_MAX_MS;
		rs.next_ms = now_ms() + rs.delay_ms;
		mpsd_log(LOG_WARNING,
			 "netwatch: rereading links and addresses: "
			 "%s%s (attempt %u), again in %u ms",
			 err == -EINTR ? "dump interrupted by a change"
				       : strerror(-err),
			 injected ? " (injected: MPSOCKD_TEST_FAIL_DUMPS)" : "",
			 rs.attempts, rs.delay_ms);
		return;
	}
	rs.pending = false;
	commit(true, &d);
	/* route news may have been lost with the rest */
	if (ops->routes_changed)
		ops->routes_changed();
	rs.done_ms = now_ms();
	mpsd_log(LOG_NOTICE,
		 "netwatch: resynced after %u attempt%s: %u address%s "
		 "added, %u removed, %u link%s changed",
		 rs.attempts, rs.attempts == 1 ? "" : "s", d.added,
		 d.added == 1 ? "" : "es", d.removed, d.links,
		 d.links == 1 ? "" : "s");
}

/*
 * Events were lost.  One resync covers every loss until it succeeds, and
 * under a storm of overruns they come at most every NW_RETRY_MIN_MS, so
 * that the broker keeps serving.
 */
static void resync_request(void)
{
	long now = now_ms();

	if (rs.pending)
		return;
	rs.pending = true;
	rs.attempts = 0;
	rs.delay_ms = 0;
	rs.next_ms = now;
	if (rs.done_ms && now < rs.done_ms + NW_RETRY_MIN_MS)
		rs.next_ms = rs.done_ms + NW_RETRY_MIN_MS;
	else
		resync_attempt();
}

void netwatch_tick(void)
{
	if (nl && rs.pending && now_ms() >= rs.next_ms)
		resync_attempt();
}

int netwatch_next_timeout_ms(void)
{
	long now = now_ms();

	if (!nl || !rs.pending)
		return -1;
	return rs.next_ms > now ? (int)(rs.next_ms - now) : 0;
}

/* A number of bytes, or 0 (with a log line) when @name is unset or bad. */
static unsigned long env_number(const char *name, unsigned long max)
{
	const char *v = getenv(name);
	unsigned long n;
	char *end;

	if (!v || !*v)
		return 0;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || v[0] == '-' || n > max) {
		mpsd_log(LOG_WARNING, "netwatch: ignoring %s=%s", name, v);
		return 0;
	}
	return n;
}

/*
 * Testing aids, read once: a tiny receive buffer on the group socket
 * makes overruns easy to cause, and failed resync dumps on demand prove
 * every run that such a failure changes nothing.
 */
static void test_knobs(void)
{
	int fd = mnl_socket_get_fd(nl), size;
	socklen_t len = sizeof(size);

	size = env_number("MPSOCKD_NETWATCH_RCVBUF", INT_MAX);
	if (size) {
		/* FORCE goes beyond rmem_max, but needs CAP_NET_ADMIN */
		int r = setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, len);

		if (r < 0)
			r = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, len);
		if (r < 0)
			mpsd_log(LOG_WARNING,
				 "netwatch: MPSOCKD_NETWATCH_RCVBUF: "
				 "%s",
				 strerror(errno));
		else if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, &len) ==
			 0)
			mpsd_log(LOG_INFO,
				 "netwatch: group socket receive "
				 "buffer %d bytes (MPSOCKD_NETWATCH_RCVBUF)",
				 size);
	}
	fail_dumps = env_number("MPSOCKD_TEST_FAIL_DUMPS", ULONG_MAX);
	if (fail_dumps)
		mpsd_log(LOG_NOTICE,
			 "netwatch: the first %lu resync dump%s will "
			 "fail (MPSOCKD_TEST_FAIL_DUMPS)",
			 fail_dumps, fail_dumps == 1 ? "" : "s");
}

/*
 * Strict: an interrupted dump is tried again a few times, but mpsockd does
 * not start without a whole view.  The policy acts on it at once (the
 * rediscovered connections), a failure that outlasts the retries is not a
 * passing change, and a path manager blind to the namespace's addresses
 * had better say so by not starting than serve quietly.
 */
int netwatch_open(const struct nw_ops *o)
{
	unsigned int try, delay_ms = NW_RETRY_MIN_MS;
	struct nw_diff d;
	bool injected;
	int err;

	ops = o;
	memset(&rs, 0, sizeof(rs));
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl,
			    RTMGRP_LINK | RTMGRP_IPV4_IFADDR |
				    RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE |
				    RTMGRP_IPV6_ROUTE | RTMGRP_IPV4_RULE |
				    1u << (RTNLGRP_IPV6_RULE - 1),
			    MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		mnl_socket_close(nl);
		nl = NULL;
		return err;
	}
	test_knobs();
	memset(cur, 0, sizeof(*cur));
	for (try = 1;; try++) {
		drain();
		err = fetch(fresh, false, &injected);
		if (!err)
			break;
		mpsd_log(LOG_WARNING,
			 "netwatch: reading links and addresses: %s "
			 "(attempt %u of %u)",
			 err == -EINTR ? "dump interrupted by a change"
				       : strerror(-err),
			 try, NW_START_TRIES);
		if (try == NW_START_TRIES) {
			netwatch_close();
			return err;
		}
		nanosleep(&(struct timespec){.tv_nsec = delay_ms * 1000000L},
			  NULL);
		delay_ms *= 2;
	}
	commit(false, &d);
	return mnl_socket_get_fd(nl);
}

void netwatch_readable(void)
{
	char buf[NW_BUF_SIZE];
	ssize_t n;

	while (nl) {
		n = recv(mnl_socket_get_fd(nl), buf, sizeof(buf),
			 MSG_DONTWAIT | MSG_TRUNC);
		/* > sizeof(buf): a message we could not read whole */
		if (n > (ssize_t)sizeof(buf))
			resync_request();
		else if (n > 0 && mps_nl_valid(buf, n))
			mnl_cb_run(buf, n, 0, 0, msg_cb, cur);
		else if (n < 0 && errno == ENOBUFS)
			resync_request();
		else
			break;
	}
	if (routes_changed && ops->routes_changed) {
		routes_changed = false;
		ops->routes_changed();
	}
}

void netwatch_close(void)
{
	if (nl)
		mnl_socket_close(nl);
	nl = NULL;
	memset(&rs, 0, sizeof(rs));
}
