// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench-pm: mpsockd as the namespace's path manager against the kernel's
 * own (in-kernel) path manager, on the test network.  run-pm.sh drives it;
 * each subcommand is one measurement (or the report of several runs):
 *
 *   bench-pm join [-n N] [-w WARMUP] [-p PAUSE_US] [-l LABEL] [-o FILE]
 *                 [-q] [-e] HOST PORT
 *	N connections, one after the other, to an MPTCP echo server.  The
 *	benchmark is subscribed to the kernel's "mptcp_pm_events" group (as
 *	root) and stamps (CLOCK_MONOTONIC) each event of the connection when
 *	it reads it.  Per connection: t0 just before connect(); 64 bytes are
 *	echoed (the client is fully established, and the path manager told
 *	so, only once the server has acknowledged data: ESTABLISHED); the
 *	second subflow's SUB_ESTABLISHED is t1.  Then close(), the
 *	connection's CLOSED event, and PAUSE_US (default 5000).  Samples go
 *	to FILE as "join LABEL total_ns established_ns pm_ns" (t1 - t0,
 *	ESTABLISHED - t0, t1 - ESTABLISHED); per-run figures are printed
 *	(-q: only the first).  -e (a diagnostic): stop at ESTABLISHED, for a
 *	path manager that opens no subflow.
 *
 *   bench-pm serve [-P PORT]
 *	An MPTCP listener on [::]:PORT (default 5301) that writes to every
 *	accepted connection, as fast as it drains, until it fails: the
 *	server side of a download.  Run in the server namespace.
 *
 *   bench-pm failover [-b BEFORE_MS] [-a AFTER_MS] [-d IFNAME] [-l LABEL]
 *                     [-o FILE] [-v] HOST PORT
 *	Connects to a "serve" server, waits (10 s at most) for two
 *	established subflows, receives for BEFORE_MS (default 3000), then
 *	takes IFNAME (default wifi) down with the RTM_NEWLINK request "ip
 *	link set IFNAME down" sends (t_down: just before the request), and
 *	goes on receiving until the rate is back and 1 s more, or AFTER_MS
 *	(default 6000) after t_down.  Every read() that returned data is
 *	stamped.  Figures (defined in run-pm.sh's output and bench/README.md):
 *	the longest receive gap, the stall, the rates before and after, and
 *	how much the namespace's MPTcpExtRmAddrTx and MPPrioTx grew (whether
 *	RM_ADDR and MP_PRIO went out).  The connection's events are read
 *	along (stamped when read) and printed as a timeline with -v or when
 *	the stall reaches 100 ms.  Appends "failover LABEL gap_ms gap_at_ms
 *	stall_ms pre_mbps post_mbps pre_gap_ms rm_addr_tx" to FILE.  The link
 *	is left down.
 *
 *   bench-pm rss -D PID [-n HOLD] [-N CHURN] [-c INFLIGHT] HOST PORT
 *	mpsockd's (PID's) VmRSS idle, with HOLD (default 10000) live MPTCP
 *	connections to an echo server, after closing them, and after CHURN
 *	(default 100000) connections opened and closed (INFLIGHT at a time,
 *	default 64), with its CPU time (utime + stime, /proc/PID/stat) per
 *	connection.  Each connection echoes one byte (so it is fully
 *	established and mpsockd sees its ESTABLISHED) and is closed with a
 *	reset (SO_LINGER 0: no TIME_WAIT).  Figures are read once mpsockd has
 *	settled (its run time, /proc/PID/schedstat, unchanged for 300 ms);
 *	during the churn, RSS is also read at every fifth of it.
 *
 *   bench-pm ready -D PID HOST PORT
 *	Waits until mpsockd (PID) reacts to a connection's events: a probe
 *	connection to the echo server every 100 ms (5 s at most), reacting
 *	being scheduled within 50 ms of one (/proc/PID/schedstat); prints
 *	how long that took.
 *
 *   bench-pm report join|failover FILE
 *	The summary of the samples in FILE: "kernel" (the in-kernel path
 *	manager) against "mpsockd", with the ratios and the targets.
 *
 * Exit status: 0, 2 on a failed measurement, 64 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/mptcp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "bench.h"
#include "mpsock.h"
#include "bench-util.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull

static void usage(void)
{
	fprintf(stderr,
		"usage: bench-pm join [-n N] [-w WARMUP] [-p PAUSE_US] [-l LABEL] "
		"[-o FILE] [-q] HOST PORT\n"
		"       bench-pm serve [-P PORT]\n"
		"       bench-pm failover [-b BEFORE_MS] [-a AFTER_MS] [-d IFNAME] "
		"[-l LABEL] [-o FILE] [-v] HOST PORT\n"
		"       bench-pm rss -D PID [-n HOLD] [-N CHURN] [-c INFLIGHT] "
		"HOST PORT\n"
		"       bench-pm ready -D PID HOST PORT\n"
		"       bench-pm scale [-n N] -a ADDR/LEN -d IFNAME -s PROBE_SRC "
		"[-r CMD] HOST PORT\n"
		"       bench-pm report join|failover FILE\n");
	exit(64);
}

static FILE *open_out(const char *path)
{
	FILE *f;

	if (!path)
		return NULL;
	f = fopen(path, "a");
	if (!f)
		die(path);
	return f;
}

static const char *addr_str(const struct sockaddr_storage *ss, char *buf,
			    size_t len)
{
	const void *a =
		ss->ss_family == AF_INET6
			? (const void *)&((const struct sockaddr_in6 *)ss)
				  ->sin6_addr
			: (const void *)&((const struct sockaddr_in *)ss)
				  ->sin_addr;

	if (!ss->ss_family || !inet_ntop(ss->ss_family, a, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

static bool same_addr(const struct sockaddr_storage *x,
		      const struct sockaddr_storage *y)
{
	return mps_addr_equal(x, y, false);
}

/* ================================================================= join */

struct join_state {
	__u32 token; /* 0: not known yet */
	uint64_t t_est, t_sf, t_closed;
	struct sockaddr_storage est_local, sf_local;
};

struct join_cb {
	struct join_state *st;
	uint64_t stamp;
};

static int join_event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct join_cb *cb = data;
	struct join_state *st = cb->st;
	struct mps_event ev;

	if (mps_event_parse(nlh, &ev) || !st->token || ev.token != st->token)
		return MNL_CB_OK;
	switch (ev.type) {
	case MPTCP_EVENT_ESTABLISHED:
		if (!st->t_est) {
			st->t_est = cb->stamp;
			st->est_local = ev.local;
		}
		break;
	case MPTCP_EVENT_SUB_ESTABLISHED:
		if (!st->t_sf) {
			st->t_sf = cb->stamp;
			st->sf_local = ev.local;
		}
		break;
	case MPTCP_EVENT_CLOSED:
		st->t_closed = cb->stamp;
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

/* Read every queued event, each stamped when it was read. */
static void join_read_events(struct mps_genl *g, struct join_state *st)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct join_cb cb = {.st = st};
	ssize_t n;

	for (;;) {
		n = recv(mnl_socket_get_fd(g->nl), buf, sizeof(buf),
			 MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0)
			die("recv (events; ENOBUFS: events were lost)");
		cb.stamp = now_ns();
		if (mnl_cb_run(buf, n, 0, 0, join_event_cb, &cb) < 0)
			die("parsing events");
	}
}

static int cmd_join(int argc, char **argv)
{
	unsigned int n = 200, warmup = 10, pause_us = 5000, i, got, nfail = 0,
		     nsame = 0, nrec = 0;
	bool quiet = false, est_only = false;
	const char *label = "run", *out_path = NULL;
	struct sockaddr_storage srv;
	uint64_t *total, *est, *pm;
	char out[64], in[64], a[64];
	struct mps_genl g;
	socklen_t slen;
	FILE *out_f;
	int opt, err;

	while ((opt = getopt(argc, argv, "n:w:p:l:o:qe")) != -1) {
		switch (opt) {
		case 'e':
			est_only = true;
			break;
		case 'n':
			n = parse_uint(optarg, 10000000, usage);
			break;
		case 'q':
			quiet = true;
			break;
		case 'w':
			warmup = parse_uint(optarg, 100000, usage);
			break;
		case 'p':
			pause_us = parse_uint(optarg, 10000000, usage);
			break;
		case 'l':
			label = optarg;
			break;
		case 'o':
			out_path = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 || !n)
		usage();
	parse_addr(argv[optind], parse_uint(argv[optind + 1], 65535, usage),
		   &srv, &slen);
	out_f = open_out(out_path);
	total = calloc(n, sizeof(*total));
	est = calloc(n, sizeof(*est));
	pm = calloc(n, sizeof(*pm));
	if (!total || !est || !pm)
		die("calloc");

	err = mps_genl_open(&g);
	if (err)
		die_neg("mps_genl_open", err);
	err = mps_events_subscribe(&g);
	if (err)
		die_neg("subscribing to the MPTCP events (root?)", err);
	memset(out, 'x', sizeof(out));

	for (i = 0; i < warmup + n; i++) {
		struct join_state st;
		uint64_t t0, deadline;
		int fd;

		memset(&st, 0, sizeof(st));
		join_read_events(&g, &st); /* the previous ones: discarded */
		fd = socket(srv.ss_family, SOCK_STREAM | SOCK_CLOEXEC,
			    IPPROTO_MPTCP);
		if (fd < 0)
			die("socket(IPPROTO_MPTCP)");
		t0 = now_ns();
		if (connect(fd, (struct sockaddr *)&srv, slen) < 0)
			die("connect");
		err = mps_conn_token(fd, &st.token);
		if (err)
			die_neg("the connection's token (fell back to TCP?)",
				err);
		if (write(fd, out, sizeof(out)) != (ssize_t)sizeof(out))
			die("write");
		got = 0;
		deadline = t0 + 3 * NS_PER_S;
		while (got < sizeof(in) || (est_only ? !st.t_est : !st.t_sf)) {
			struct pollfd p[2] = {
				{.fd = mnl_socket_get_fd(g.nl),
				 .events = POLLIN},
				{.fd = got < sizeof(in) ? fd : -1,
				 .events = POLLIN},
			};
			uint64_t now = now_ns();
			ssize_t r;

			if (now >= deadline)
				break;
			if (poll(p, 2,
				 (int)((deadline - now) / NS_PER_MS) + 1) < 0 &&
			    errno != EINTR)
				die("poll");
			if (p[0].revents)
				join_read_events(&g, &st);
			if (p[1].revents) {
				r = recv(fd, in + got, sizeof(in) - got,
					 MSG_DONTWAIT);
				if (r == 0)
					errno = ECONNRESET;
				if (r <= 0 && errno != EAGAIN)
					die("read (echo)");
				if (r > 0)
					got += r;
			}
		}
		if (got < sizeof(in)) {
			fprintf(stderr, "bench-pm: no echo within 3 s\n");
			exit(2);
		}
		close(fd);
		/* its CLOSED (1 s at most), so that nothing overlaps */
		deadline = now_ns() + NS_PER_S;
		while (!st.t_closed && now_ns() < deadline) {
			struct pollfd p = {.fd = mnl_socket_get_fd(g.nl),
					   .events = POLLIN};

			poll(&p, 1, 100);
			join_read_events(&g, &st);
		}
		if (est_only && st.t_est)
			st.t_sf = st.t_est, st.sf_local.ss_family = AF_UNSPEC;
		if (!st.t_sf || !st.t_est) {
			nfail++;
			fprintf(stderr,
				"bench-pm: %s: connection %u (token %08x): %s "
				"within 3 s of connect()\n",
				label, i, st.token,
				!st.t_est ? "no ESTABLISHED event"
					  : "no second subflow");
		} else if (i >= warmup) {
			if (!est_only && same_addr(&st.sf_local, &st.est_local))
				nsame++;
			total[nrec] = st.t_sf - t0;
			est[nrec] = st.t_est - t0;
			pm[nrec] = st.t_sf - st.t_est;
			if (out_f)
				fprintf(out_f, "join %s %llu %llu %llu\n",
					label, (unsigned long long)total[nrec],
					(unsigned long long)est[nrec],
					(unsigned long long)pm[nrec]);
			nrec++;
		}
		if (i + 1 == warmup + n && !quiet)
			printf("# %s: last second subflow from %s\n", label,
			       addr_str(&st.sf_local, a, sizeof(a)));
		sleep_us(pause_us);
	}
	if (out_f && fclose(out_f))
		die(out_path);
	mps_genl_close(&g);
	if (nrec) {
		struct stats s;

		s = stats_of(total, nrec);
		printf("join pm=%s n=%u what=connect_to_sf2 p50_us=%.1f "
		       "p90_us=%.1f p99_us=%.1f max_us=%.1f\n",
		       label, s.n, s.p50, s.p90, s.p99, s.max);
		s = stats_of(est, nrec);
		if (!quiet)
			printf("join pm=%s n=%u what=connect_to_established p50_us=%.1f "
			       "p90_us=%.1f p99_us=%.1f max_us=%.1f\n",
			       label, s.n, s.p50, s.p90, s.p99, s.max);
		s = stats_of(pm, nrec);
		if (!quiet)
			printf("join pm=%s n=%u what=established_to_sf2 p50_us=%.1f "
			       "p90_us=%.1f p99_us=%.1f max_us=%.1f\n",
			       label, s.n, s.p50, s.p90, s.p99, s.max);
	}
	if (nsame)
		printf("# %s: %u second subflows from the initial subflow's "
		       "address (expected: another address)\n",
		       label, nsame);
	if (nfail) {
		printf("# %s: %u of %u connections had no second subflow "
		       "within 3 s\n",
		       label, nfail, warmup + n);
		return 2;
	}
	return 0;
}

/* ================================================================ serve */

static void *serve_conn(void *arg)
{
	static char buf[65536];
	int fd = (int)(long)arg;

	for (;;) {
		ssize_t w = write(fd, buf, sizeof(buf));

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
	}
	close(fd);
	return NULL;
}

static int cmd_serve(int argc, char **argv)
{
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6,
				  .sin6_addr = IN6ADDR_ANY_INIT};
	unsigned int port = 5301;
	int opt, lfd, one = 1, zero = 0;

	while ((opt = getopt(argc, argv, "P:")) != -1) {
		if (opt == 'P')
			port = parse_uint(optarg, 65535, usage);
		else
			usage();
	}
	if (argc != optind)
		usage();
	signal(SIGPIPE, SIG_IGN);
	sa.sin6_port = htons(port);
	lfd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
	if (lfd < 0)
		die("socket(IPPROTO_MPTCP)");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind");
	if (listen(lfd, 64) < 0)
		die("listen");
	printf("bench-pm: streaming on port %u\n", port);
	fflush(stdout);
	for (;;) {
		pthread_attr_t attr;
		pthread_t th;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept");
		}
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&th, &attr, serve_conn, (void *)(long)fd))
			close(fd);
		pthread_attr_destroy(&attr);
	}
}

/* ============================================================= failover */

struct rtnl {
	struct mnl_socket *nl;
	unsigned int portid;
	__u32 seq;
};

static void rtnl_open(struct rtnl *r)
{
	r->nl = mnl_socket_open(NETLINK_ROUTE);
	if (!r->nl || mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		die("rtnetlink socket");
	r->portid = mnl_socket_get_portid(r->nl);
	r->seq = 1;
}

/* What "ip link set IFNAME up|down" sends: RTM_NEWLINK, IFF_UP changed. */
static void link_set(struct rtnl *r, unsigned int ifindex, bool up)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;
	ssize_t n;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++r->seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)ifindex;
	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = up ? IFF_UP : 0;
	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0)
		die("RTM_NEWLINK");
	n = mnl_socket_recvfrom(r->nl, buf, sizeof(buf));
	if (n < 0 || mnl_cb_run(buf, n, r->seq, r->portid, NULL, NULL) < 0)
		die("RTM_NEWLINK (ip link set)");
}

struct sample {
	uint64_t t;
	uint32_t bytes;
};

/* The first sample after @t (samples are in time order). */
static size_t after(const struct sample *s, size_t n, uint64_t t)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s[mid].t <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Bytes read in (from, to]; @sum[i]: the bytes of s[0..i-1]. */
static uint64_t bytes_in(const struct sample *s, const uint64_t *sum, size_t n,
			 uint64_t from, uint64_t to)
{
	return sum[after(s, n, to)] - sum[after(s, n, from)];
}

static void print_subflows(int fd, const char *when)
{
	struct mpsock_subflow sf[8];
	char l[64], r[64];
	int n, i;

	n = mpsock_subflow_list(fd, sf, 8);
	if (n < 0) {
		printf("#   subflows %s: %s\n", when, strerror(errno));
		return;
	}
	printf("#   subflows %s: %d:", when, n);
	for (i = 0; i < n && i < 8; i++)
		printf(" [%s -> %s%s%s]", addr_str(&sf[i].local, l, sizeof(l)),
		       addr_str(&sf[i].remote, r, sizeof(r)),
		       sf[i].flags & MPSOCK_SUBFLOW_BACKUP_LOCAL ? " backup"
								 : "",
		       sf[i].flags & MPSOCK_SUBFLOW_BACKUP_REMOTE
			       ? " backup-remote"
			       : "");
	printf("\n");
}

static int count_established(int fd)
{
	struct mpsock_subflow sf[8];
	int n, i, up = 0;

	n = mpsock_subflow_list(fd, sf, 8);
	for (i = 0; i < n && i < 8; i++)
		if (sf[i].state == TCP_ESTABLISHED &&
		    (sf[i].flags & MPSOCK_SUBFLOW_FULLY_ESTABLISHED))
			up++;
	return up;
}

/* One MPTcpExt counter of this namespace (/proc/net/netstat), -1 if none. */
static long long mib_read(const char *name)
{
	char names[4096], values[4096], *sn, *sv, *n, *v;
	long long val = -1;
	FILE *fp = fopen("/proc/net/netstat", "r");

	if (!fp)
		return -1;
	while (fgets(names, sizeof(names), fp) &&
	       fgets(values, sizeof(values), fp)) {
		if (strncmp(names, "MPTcpExt:", 9))
			continue;
		n = strtok_r(names, " \n", &sn);
		v = strtok_r(values, " \n", &sv);
		while ((n = strtok_r(NULL, " \n", &sn)) &&
		       (v = strtok_r(NULL, " \n", &sv)))
			if (!strcmp(n, name)) {
				val = strtoll(v, NULL, 10);
				break;
			}
		break;
	}
	fclose(fp);
	return val;
}

#define STALL_WINDOW_NS (100 * NS_PER_MS)
#define STALL_FRACTION 0.5
#define MAX_TIMELINE 64

/* The connection's events, stamped when read: the failover's timeline. */
struct timeline {
	struct mps_genl g;
	__u32 token;
	unsigned int n, lost;
	struct {
		uint64_t t;
		struct mps_event ev;
	} e[MAX_TIMELINE];
	uint64_t stamp;
};

static int timeline_cb(const struct nlmsghdr *nlh, void *data)
{
	struct timeline *tl = data;
	struct mps_event ev;

	if (mps_event_parse(nlh, &ev) || !tl->token || ev.token != tl->token)
		return MNL_CB_OK;
	if (tl->n == MAX_TIMELINE) {
		tl->lost++;
		return MNL_CB_OK;
	}
	tl->e[tl->n].t = tl->stamp;
	tl->e[tl->n].ev = ev;
	tl->n++;
	return MNL_CB_OK;
}

static void timeline_read(struct timeline *tl)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;

	for (;;) {
		n = recv(mnl_socket_get_fd(tl->g.nl), buf, sizeof(buf),
			 MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0)
			die("recv (events; ENOBUFS: events were lost)");
		tl->stamp = now_ns();
		mnl_cb_run(buf, n, 0, 0, timeline_cb, tl);
	}
}

static const char *event_name(__u8 type)
{
	switch (type) {
	case MPTCP_EVENT_CREATED:
		return "CREATED";
	case MPTCP_EVENT_ESTABLISHED:
		return "ESTABLISHED";
	case MPTCP_EVENT_CLOSED:
		return "CLOSED";
	case MPTCP_EVENT_ANNOUNCED:
		return "ANNOUNCED";
	case MPTCP_EVENT_REMOVED:
		return "REMOVED";
	case MPTCP_EVENT_SUB_ESTABLISHED:
		return "SF_ESTABLISHED";
	case MPTCP_EVENT_SUB_CLOSED:
		return "SF_CLOSED";
	case MPTCP_EVENT_SUB_PRIORITY:
		return "SF_PRIORITY";
	default:
		return "OTHER";
	}
}

static void timeline_print(const struct timeline *tl, uint64_t t_conn,
			   uint64_t t_down)
{
	char l[64], r[64];
	unsigned int i;

	for (i = 0; i < tl->n; i++) {
		const struct mps_event *ev = &tl->e[i].ev;
		bool after = t_down && tl->e[i].t >= t_down;
		double ms = ((double)tl->e[i].t -
			     (double)(after ? t_down : t_conn)) /
			    1e6;

		printf("#   event %s %+9.3f ms: %s",
		       after ? "t_down" : "connect", ms, event_name(ev->type));
		if (ev->type != MPTCP_EVENT_CLOSED &&
		    ev->type != MPTCP_EVENT_REMOVED)
			printf(" %s -> %s", addr_str(&ev->local, l, sizeof(l)),
			       addr_str(&ev->remote, r, sizeof(r)));
		if (ev->type == MPTCP_EVENT_SUB_ESTABLISHED ||
		    ev->type == MPTCP_EVENT_SUB_PRIORITY)
			printf(" backup=%u", ev->backup);
		if (ev->type == MPTCP_EVENT_REMOVED)
			printf(" id %u", ev->rem_id);
		if (ev->has_error)
			printf(" error=%u", ev->error);
		printf("\n");
	}
	if (tl->lost)
		printf("#   (%u more events)\n", tl->lost);
}

static int cmd_failover(int argc, char **argv)
{
	unsigned int before_ms = 3000, after_ms = 6000, ifindex;
	const char *label = "run", *out_path = NULL, *ifname = "wifi";
	uint64_t t_conn, t_ready = 0, t_down = 0, t_down_ack = 0, t_end,
			 t_rec = 0;
	uint64_t pre_bytes = 0, gap = 0, gap_at = 0, pre_gap = 0, wsum = 0;
	uint64_t cand, *sum;
	size_t ns = 0, cap = 1 << 16, i, w = 0;
	double pre_rate = 0, stall_ms = -1, post_rate = 0;
	bool stop_early = false, verbose = false;
	long long rm0 = 0, rm1 = 0, prio0 = 0, prio1 = 0;
	static char buf[16384];
	static struct timeline tl;
	struct sample *s;
	struct rtnl rt;
	FILE *out_f;
	int opt, fd, err;

	while ((opt = getopt(argc, argv, "b:a:d:l:o:v")) != -1) {
		switch (opt) {
		case 'b':
			before_ms = parse_uint(optarg, 600000, usage);
			break;
		case 'a':
			after_ms = parse_uint(optarg, 600000, usage);
			break;
		case 'd':
			ifname = optarg;
			break;
		case 'l':
			label = optarg;
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 || before_ms < 1000)
		usage();
	ifindex = if_nametoindex(ifname);
	if (!ifindex)
		die(ifname);
	rtnl_open(&rt);
	err = mps_genl_open(&tl.g);
	if (err)
		die_neg("mps_genl_open", err);
	err = mps_events_subscribe(&tl.g);
	if (err)
		die_neg("subscribing to the MPTCP events (root?)", err);
	out_f = open_out(out_path);
	s = malloc(cap * sizeof(*s));
	if (!s)
		die("malloc");

	t_conn = now_ns();
	fd = connect_mptcp(argv[optind], argv[optind + 1]);
	err = mps_conn_token(fd, &tl.token);
	if (err)
		die_neg("the connection's token (fell back to TCP?)", err);
	t_end = t_conn + 10 * NS_PER_S; /* for the second subflow */

	for (;;) {
		uint64_t now = now_ns(), until;
		struct pollfd p[2] = {
			{.fd = fd, .events = POLLIN},
			{.fd = mnl_socket_get_fd(tl.g.nl), .events = POLLIN},
		};
		ssize_t r;
		int rc;

		if (!t_ready) {
			if (count_established(fd) >= 2) {
				t_ready = now_ns();
				printf("# %s: second subflow up %.1f ms after "
				       "connect()\n",
				       label, (t_ready - t_conn) / 1e6);
				print_subflows(fd, "before");
				t_end = t_ready +
					(uint64_t)(before_ms + after_ms) *
						NS_PER_MS;
				ns = 0; /* the samples start now */
			} else if (now >= t_end) {
				print_subflows(fd, "after 10 s");
				timeline_read(&tl);
				timeline_print(&tl, t_conn, 0);
				fprintf(stderr,
					"bench-pm: %s: no second subflow within "
					"10 s\n",
					label);
				exit(2);
			}
		}
		if (t_ready && !t_down &&
		    now >= t_ready + (uint64_t)before_ms * NS_PER_MS) {
			print_subflows(fd, "just before the failure");
			rm0 = mib_read("RmAddrTx");
			prio0 = mib_read("MPPrioTx");
			t_down = now_ns();
			link_set(&rt, ifindex, false);
			t_down_ack = now_ns();
			t_end = t_down + (uint64_t)after_ms * NS_PER_MS;
			/* the rate of the last second before */
			for (i = 0, pre_bytes = 0; i < ns; i++)
				if (s[i].t > t_down - NS_PER_S)
					pre_bytes += s[i].bytes;
			pre_rate = pre_bytes; /* bytes per second */
			w = ns;
			continue;
		}
		if (now >= t_end)
			break;
		until = !t_ready ? now + 10 * NS_PER_MS
			: t_down ? t_end
				 : t_ready + (uint64_t)before_ms * NS_PER_MS;
		if (until > t_end)
			until = t_end;
		rc = poll(p, 2, (int)((until - now) / NS_PER_MS) + 1);
		if (rc < 0 && errno != EINTR)
			die("poll");
		if (rc <= 0)
			continue;
		if (p[1].revents)
			timeline_read(&tl);
		if (!p[0].revents)
			continue;
		r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = ECONNRESET;
			fprintf(stderr,
				"bench-pm: %s: read %.1f ms after the "
				"link went down: %s\n",
				label,
				t_down ? (now_ns() - t_down) / 1e6 : -1.0,
				strerror(errno));
			timeline_print(&tl, t_conn, t_down);
			exit(2);
		}
		if (ns == cap) {
			cap *= 2;
			s = realloc(s, cap * sizeof(*s));
			if (!s)
				die("realloc");
		}
		s[ns].t = now_ns();
		s[ns].bytes = (uint32_t)r;
		ns++;
		if (!t_down || stop_early)
			continue;
		/* back at half the rate over the last 100 ms: 1 s more */
		wsum += (uint64_t)r;
		while (s[w].t <= s[ns - 1].t - STALL_WINDOW_NS)
			wsum -= s[w++].bytes;
		if (s[ns - 1].t >= t_down + STALL_WINDOW_NS &&
		    wsum >= STALL_FRACTION * pre_rate * STALL_WINDOW_NS /
				    NS_PER_S) {
			stop_early = true;
			if (s[ns - 1].t + NS_PER_S + STALL_WINDOW_NS < t_end)
				t_end = s[ns - 1].t + NS_PER_S +
					STALL_WINDOW_NS;
		}
	}
	print_subflows(fd, "after");
	timeline_read(&tl);
	rm1 = mib_read("RmAddrTx");
	prio1 = mib_read("MPPrioTx");
	close(fd);
	if (!ns || !t_down) {
		fprintf(stderr, "bench-pm: %s: nothing received\n", label);
		exit(2);
	}

	sum = malloc((ns + 1) * sizeof(*sum));
	if (!sum)
		die("malloc");
	sum[0] = 0;
	for (i = 0; i < ns; i++)
		sum[i + 1] = sum[i] + s[i].bytes;
	/*
	 * The stall: from t_down to the first instant t (t_down itself or a
	 * read after it) from which the next 100 ms receive at least half
	 * the rate of the second before t_down.
	 */
	for (i = after(s, ns, t_down), cand = t_down;;) {
		if (cand + STALL_WINDOW_NS > s[ns - 1].t)
			break; /* not a whole window left */
		if (bytes_in(s, sum, ns, cand, cand + STALL_WINDOW_NS) >=
		    STALL_FRACTION * pre_rate * STALL_WINDOW_NS / NS_PER_S) {
			t_rec = cand;
			break;
		}
		if (i >= ns)
			break;
		cand = s[i++].t;
	}
	if (t_rec) {
		uint64_t to = t_rec + NS_PER_S;

		stall_ms = (t_rec - t_down) / 1e6;
		if (to > s[ns - 1].t)
			to = s[ns - 1].t;
		if (to > t_rec)
			post_rate = bytes_in(s, sum, ns, t_rec, to) *
				    (double)NS_PER_S / (double)(to - t_rec);
	}
	/* the longest gap between reads, from 1 s before t_down on */
	for (i = 1; i < ns; i++) {
		uint64_t d;

		if (s[i].t <= t_down - NS_PER_S)
			continue;
		d = s[i].t - s[i - 1].t;
		if (s[i].t <= t_down && d > pre_gap)
			pre_gap = d;
		if (d > gap) {
			gap = d;
			gap_at = s[i - 1].t;
		}
	}
	/* a link that stays silent to the end: the gap runs to the end */
	if (t_end > s[ns - 1].t && t_end - s[ns - 1].t > gap) {
		gap = t_end - s[ns - 1].t;
		gap_at = s[ns - 1].t;
	}
	if (verbose || stall_ms < 0 || stall_ms >= 100)
		timeline_print(&tl, t_conn, t_down);
	printf("failover pm=%s link_down_call_us=%.0f pre_mbps=%.2f "
	       "pre_gap_max_ms=%.2f gap_max_ms=%.2f gap_start_ms=%+.2f "
	       "stall_ms=%.2f post_mbps=%.2f rm_addr_tx=%lld mp_prio_tx=%lld\n",
	       label, (t_down_ack - t_down) / 1e3, pre_rate * 8 / 1e6,
	       pre_gap / 1e6, gap / 1e6,
	       ((double)gap_at - (double)t_down) / 1e6, stall_ms,
	       post_rate * 8 / 1e6, rm1 - rm0, prio1 - prio0);
	if (!t_rec)
		printf("# %s: the rate did not come back to %.0f%% within "
		       "%u ms (stall_ms=-1)\n",
		       label, STALL_FRACTION * 100, after_ms);
	if (out_f) {
		fprintf(out_f,
			"failover %s %.3f %.3f %.3f %.3f %.3f %.3f %lld\n",
			label, gap / 1e6,
			((double)gap_at - (double)t_down) / 1e6, stall_ms,
			pre_rate * 8 / 1e6, post_rate * 8 / 1e6, pre_gap / 1e6,
			rm1 - rm0);
		if (fclose(out_f))
			die(out_path);
	}
	free(sum);
	free(s);
	mps_genl_close(&tl.g);
	mnl_socket_close(rt.nl);
	return 0;
}

/* ================================================================== rss */

struct proc_fig {
	long rss_kb, hwm_kb;
	unsigned long long cpu_ticks; /* utime + stime */
	unsigned long long run_ns; /* schedstat: time on a CPU */
};

static struct proc_fig proc_read(pid_t pid)
{
	struct proc_fig f = {-1, -1, 0, 0};
	char path[64], line[512], *p;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fp = fopen(path, "r");
	if (!fp)
		die(path);
	while (fgets(line, sizeof(line), fp)) {
		if (!strncmp(line, "VmRSS:", 6))
			f.rss_kb = strtol(line + 6, NULL, 10);
		else if (!strncmp(line, "VmHWM:", 6))
			f.hwm_kb = strtol(line + 6, NULL, 10);
	}
	fclose(fp);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fp = fopen(path, "r");
	if (!fp || !fgets(line, sizeof(line), fp))
		die(path);
	fclose(fp);
	p = strrchr(line, ')');
	if (p) {
		unsigned long long ut = 0, st = 0;

		/* after ") ": state(3) ... utime(14) stime(15) */
		if (sscanf(p + 2,
			   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu "
			   "%llu",
			   &ut, &st) == 2)
			f.cpu_ticks = ut + st;
	}
	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	fp = fopen(path, "r");
	if (fp) {
		if (fscanf(fp, "%llu", &f.run_ns) != 1)
			f.run_ns = 0;
		fclose(fp);
	}
	return f;
}

/* Until mpsockd has been idle for 300 ms (10 s at most). */
static struct proc_fig settle(pid_t pid)
{
	struct proc_fig a = proc_read(pid), b;
	uint64_t t0 = now_ns();

	for (;;) {
		sleep_us(300000);
		b = proc_read(pid);
		if (b.run_ns == a.run_ns && b.cpu_ticks == a.cpu_ticks)
			return b;
		if (now_ns() - t0 > 10 * NS_PER_S) {
			printf("# mpsockd still busy after 10 s: figures read "
			       "anyway\n");
			return b;
		}
		a = b;
	}
}

enum cstate { C_FREE, C_CONNECTING, C_ECHO, C_HELD };

struct cslot {
	int fd;
	enum cstate st;
};

struct churner {
	int ep;
	struct sockaddr_storage srv;
	socklen_t slen;
	unsigned long started, done, errors, fallbacks;
};

static void conn_start(struct churner *ch, struct cslot *c, uint32_t idx)
{
	struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = idx};

	c->fd = socket(ch->srv.ss_family,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       IPPROTO_MPTCP);
	if (c->fd < 0)
		die("socket(IPPROTO_MPTCP)");
	if (connect(c->fd, (struct sockaddr *)&ch->srv, ch->slen) < 0 &&
	    errno != EINPROGRESS)
		die("connect");
	if (epoll_ctl(ch->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		die("epoll_ctl");
	c->st = C_CONNECTING;
	ch->started++;
}

static void conn_reset(struct cslot *c)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c->fd);
	c->fd = -1;
	c->st = C_FREE;
}

/*
 * Drive the slots' connections one step on an event: connected -> write
 * one byte -> its echo read -> C_HELD (taken out of epoll).
 */
static void conn_step(struct churner *ch, struct cslot *c, uint32_t ev_mask)
{
	socklen_t len = sizeof(int);
	int err = 0;
	char b = 'x';
	__u32 token;

	if (c->st == C_CONNECTING) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			errno = err;
			die("connect (nonblocking)");
		}
		if (write(c->fd, &b, 1) != 1)
			die("write");
		c->st = C_ECHO;
		return;
	}
	if (c->st == C_ECHO && (ev_mask & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
		ssize_t r = read(c->fd, &b, 1);

		if (r < 0 && errno == EAGAIN)
			return;
		if (r != 1) {
			if (r == 0)
				errno = ECONNRESET;
			die("read (echo)");
		}
		if (mps_conn_token(c->fd, &token))
			ch->fallbacks++;
		epoll_ctl(ch->ep, EPOLL_CTL_DEL, c->fd, NULL);
		c->st = C_HELD;
		ch->done++;
	}
}

/* The events set for a slot: EPOLLOUT while connecting, then EPOLLIN. */
static void conn_rearm(struct churner *ch, struct cslot *c, uint32_t idx)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = idx};

	if (c->st == C_ECHO && epoll_ctl(ch->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		die("epoll_ctl(MOD)");
}

/*
 * Run until @target connections are held (hold: slots are the
 * connections) or done (churn: slots are reused after a reset).
 */
static void drive(struct churner *ch, struct cslot *slots, unsigned long nslots,
		  unsigned long target, unsigned int inflight, bool churn,
		  void (*tick)(struct churner *, void *), void *tick_data)
{
	struct epoll_event evs[256];
	unsigned long next = 0, active = 0, i;
	int n;

	while (ch->done < target) {
		/* keep INFLIGHT attempts going */
		while (active < inflight && ch->started < target) {
			unsigned long idx;

			if (churn) {
				for (idx = next;
				     slots[idx % nslots].st != C_FREE; idx++)
					;
				idx %= nslots;
				next = idx + 1;
			} else {
				idx = ch->started;
			}
			conn_start(ch, &slots[idx], (uint32_t)idx);
			active++;
		}
		n = epoll_wait(ch->ep, evs, 256, 10000);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		if (n == 0) {
			fprintf(stderr,
				"bench-pm: no progress for 10 s (%lu of %lu "
				"connections)\n",
				ch->done, target);
			exit(2);
		}
		for (i = 0; i < (unsigned long)(n > 0 ? n : 0); i++) {
			uint32_t idx = evs[i].data.u32;
			struct cslot *c = &slots[idx];
			enum cstate was = c->st;

			conn_step(ch, c, evs[i].events);
			if (was == C_CONNECTING)
				conn_rearm(ch, c, idx);
			if (c->st == C_HELD) {
				active--;
				if (churn)
					conn_reset(c);
				if (tick)
					tick(ch, tick_data);
			}
		}
	}
}

struct churn_tick {
	pid_t pid;
	unsigned long every, next;
	uint64_t t0;
};

static void churn_checkpoint(struct churner *ch, void *data)
{
	struct churn_tick *t = data;
	struct proc_fig f;

	if (ch->done < t->next)
		return;
	t->next += t->every;
	f = proc_read(t->pid);
	printf("rss phase=churn connections=%lu rss_kB=%ld cpu_ticks=%llu "
	       "rate_per_s=%.0f (read during the churn)\n",
	       ch->done, f.rss_kb, f.cpu_ticks,
	       ch->done / ((now_ns() - t->t0) / 1e9));
	fflush(stdout);
}

static int cmd_rss(int argc, char **argv)
{
	unsigned long hold = 10000, churn = 100000, i;
	unsigned int inflight = 64;
	struct proc_fig f0, f1, f2, f3;
	struct churner ch;
	struct cslot *slots;
	struct churn_tick tick;
	double tick_us = 1e6 / sysconf(_SC_CLK_TCK);
	uint64_t t0;
	pid_t pid = 0;
	int opt;

	while ((opt = getopt(argc, argv, "D:n:N:c:")) != -1) {
		switch (opt) {
		case 'D':
			pid = (pid_t)parse_uint(optarg, 1u << 30, usage);
			break;
		case 'n':
			hold = parse_uint(optarg, 1000000, usage);
			break;
		case 'N':
			churn = parse_uint(optarg, 100000000, usage);
			break;
		case 'c':
			inflight = parse_uint(optarg, 4096, usage);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 || !pid || !inflight)
		usage();
	memset(&ch, 0, sizeof(ch));
	parse_addr(argv[optind], parse_uint(argv[optind + 1], 65535, usage),
		   &ch.srv, &ch.slen);
	raise_nofile(hold + inflight + 64);
	ch.ep = epoll_create1(EPOLL_CLOEXEC);
	if (ch.ep < 0)
		die("epoll_create1");
	slots = calloc(hold > inflight ? hold : inflight, sizeof(*slots));
	if (!slots)
		die("calloc");

	f0 = settle(pid);
	printf("rss phase=idle rss_kB=%ld hwm_kB=%ld cpu_ticks=%llu\n",
	       f0.rss_kb, f0.hwm_kb, f0.cpu_ticks);
	fflush(stdout);

	/* HOLD live connections */
	t0 = now_ns();
	drive(&ch, slots, hold, hold, inflight, false, NULL, NULL);
	printf("# %lu connections established in %.2f s (%lu fell back to "
	       "TCP)\n",
	       ch.done, (now_ns() - t0) / 1e9, ch.fallbacks);
	f1 = settle(pid);
	printf("rss phase=held connections=%lu rss_kB=%ld hwm_kB=%ld "
	       "cpu_ticks=%llu growth_kB=%ld bytes_per_conn=%.0f\n",
	       hold, f1.rss_kb, f1.hwm_kb, f1.cpu_ticks, f1.rss_kb - f0.rss_kb,
	       hold ? (f1.rss_kb - f0.rss_kb) * 1024.0 / hold : 0);
	fflush(stdout);
	for (i = 0; i < hold; i++)
		conn_reset(&slots[i]);
	f2 = settle(pid);
	printf("rss phase=held_closed rss_kB=%ld hwm_kB=%ld cpu_ticks=%llu "
	       "vs_idle_kB=%+ld cpu_us_per_conn=%.2f\n",
	       f2.rss_kb, f2.hwm_kb, f2.cpu_ticks, f2.rss_kb - f0.rss_kb,
	       hold ? (f2.cpu_ticks - f0.cpu_ticks) * tick_us / hold : 0);
	fflush(stdout);

	/* CHURN connections opened and closed */
	memset(slots, 0, inflight * sizeof(*slots));
	for (i = 0; i < inflight; i++)
		slots[i].fd = -1;
	ch.started = ch.done = ch.fallbacks = 0;
	tick.pid = pid;
	tick.every = churn / 5 ? churn / 5 : 1;
	tick.next = tick.every;
	tick.t0 = t0 = now_ns();
	if (churn)
		drive(&ch, slots, inflight, churn, inflight, true,
		      churn_checkpoint, &tick);
	printf("# %lu connections opened and closed in %.2f s (%lu fell back "
	       "to TCP)\n",
	       ch.done, (now_ns() - t0) / 1e9, ch.fallbacks);
	f3 = settle(pid);
	printf("rss phase=churned connections=%lu rss_kB=%ld hwm_kB=%ld "
	       "cpu_ticks=%llu vs_idle_kB=%+ld cpu_us_per_conn=%.2f\n",
	       churn, f3.rss_kb, f3.hwm_kb, f3.cpu_ticks, f3.rss_kb - f0.rss_kb,
	       churn ? (f3.cpu_ticks - f2.cpu_ticks) * tick_us / churn : 0);
	printf("rss summary idle_kB=%ld held_kB=%ld held_closed_kB=%ld "
	       "churned_kB=%ld per_held_conn_B=%.0f "
	       "cpu_us_per_conn_hold=%.2f cpu_us_per_conn_churn=%.2f "
	       "run_ns_per_conn_churn=%.0f\n",
	       f0.rss_kb, f1.rss_kb, f2.rss_kb, f3.rss_kb,
	       hold ? (f1.rss_kb - f0.rss_kb) * 1024.0 / hold : 0,
	       hold ? (f2.cpu_ticks - f0.cpu_ticks) * tick_us / hold : 0,
	       churn ? (f3.cpu_ticks - f2.cpu_ticks) * tick_us / churn : 0,
	       churn ? (double)(f3.run_ns - f2.run_ns) / churn : 0);
	printf("target: back to the idle figure after %lu connections: "
	       "%+ld kB (%s)\n",
	       churn, f3.rss_kb - f0.rss_kb,
	       f3.rss_kb - f0.rss_kb <= 64 ? "met, within 64 kB" : "missed");
	return 0;
}

/* ================================================================ scale */

/*
 * The path manager under load: N connections under "policy fullmesh",
 * each with a subflow from the second address; that address is removed
 * and added again, and the run times how long until every connection has
 * lost its subflow from it (mpsockd's resets), then has one again.
 * Meanwhile one thread asks mpsockd for its status (MPS_REQ_STATUS) in a
 * loop, and another opens and closes a subflow of a probe connection of
 * its own (claimed, so that the policy leaves it alone) and reads the
 * SUB_CLOSED through mpsockd: how long a client request, and an event,
 * wait behind the storm of actions.  -r gives a command run right after
 * the address is added again (its routes), inside the timed window.
 */
struct scale_probe {
	pthread_t th;
	volatile bool stop, recording;
	uint64_t *lat;
	unsigned int n, cap;
	/* the event probe's */
	int fd;
	__u32 token;
	struct sockaddr_storage local, remote;
	struct mpsock_events *ev;
	unsigned int timeouts;
};

static void probe_note(struct scale_probe *p, uint64_t ns)
{
	if (!p->recording)
		return;
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 4096;
		p->lat = realloc(p->lat, p->cap * sizeof(*p->lat));
		if (!p->lat)
			die("realloc");
	}
	p->lat[p->n++] = ns;
}

static void *status_loop(void *data)
{
	struct scale_probe *p = data;
	struct mps_reply rep;
	struct mps_req req;
	uint64_t t0;
	int err;

	while (!p->stop) {
		memset(&req, 0, sizeof(req));
		req.type = MPS_REQ_STATUS;
		t0 = now_ns();
		err = mps_broker_call(-1, &req, &rep, 0);
		if (err)
			die_neg("status request to mpsockd", err);
		probe_note(p, now_ns() - t0);
		sleep_us(2000);
	}
	return NULL;
}

/* The next event of the probe's stream of @type, 2 s at most: 0 or -1. */
static int probe_wait(struct scale_probe *p, __u32 type,
		      struct mpsock_event *out)
{
	struct pollfd pfd = {.fd = mpsock_events_fd(p->ev), .events = POLLIN};
	uint64_t until = now_ns() + 2000000000ull;

	for (;;) {
		while (mpsock_events_read(p->ev, out) == 0)
			if (out->type == type)
				return 0;
		if (now_ns() >= until)
			return -1;
		poll(&pfd, 1, 100);
	}
}

static void *event_loop(void *data)
{
	struct scale_probe *p = data;
	struct mpsock_event e;
	struct mps_genl *g;
	char msg[256];
	uint64_t t0;
	int err;

	err = mps_genl_cached(&g);
	if (err)
		die_neg("generic netlink", err);
	while (!p->stop) {
		err = mps_pm_subflow_create(g, p->token, &p->local, 0, 0,
					    &p->remote, false, msg,
					    sizeof(msg));
		if (err ||
		    probe_wait(p, MPSOCK_EVENT_SUBFLOW_ESTABLISHED, &e)) {
			p->timeouts++;
			sleep_us(10000);
			continue;
		}
		/* SUBFLOW_DESTROY emits SUB_CLOSED inside the command */
		t0 = now_ns();
		err = mps_pm_subflow_destroy(g, p->token, &e.local, &e.remote,
					     msg, sizeof(msg));
		if (err || probe_wait(p, MPSOCK_EVENT_SUBFLOW_CLOSED, &e)) {
			p->timeouts++;
			continue;
		}
		probe_note(p, now_ns() - t0);
		sleep_us(5000);
	}
	return NULL;
}

struct scale_state {
	__u32 *tokens; /* sorted */
	uint64_t *since; /* per connection: when first seen settled */
	unsigned long n, have;
	struct sockaddr_storage addr; /* the second address */
	bool want; /* settled: a subflow from it (true), or none (false) */
	uint64_t t0;
};

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static int scale_cb(const struct mps_diag_subflow *d, void *data)
{
	struct scale_state *s = data;
	__u32 *t;

	if (!mps_addr_equal(&d->sock.local, &s->addr, false))
		return 0;
	t = bsearch(&d->mptcp.token, s->tokens, s->n, sizeof(*t), cmp_u32);
	if (t && d->sock.state == TCP_ESTABLISHED)
		s->since[t - s->tokens] |= 1ull << 63; /* seen in this dump */
	return 0;
}

/*
 * Dumps until every connection is settled (60 s at most): returns the
 * time it took, and each connection's time in s->since (from s->t0, to
 * the dump that first showed it settled).
 */
static double scale_wait(struct scale_state *s)
{
	uint64_t now;
	unsigned long i, settled;
	int err;

	for (i = 0; i < s->n; i++)
		s->since[i] = 0;
	for (;;) {
		err = mps_diag_subflow_dump(scale_cb, s);
		if (err)
			die_neg("sock_diag dump", err);
		now = now_ns();
		settled = 0;
		for (i = 0; i < s->n; i++) {
			bool has = s->since[i] >> 63;
			uint64_t t = s->since[i] & ~(1ull << 63);

			if (has == s->want && !t)
				t = now - s->t0;
			else if (has != s->want)
				t = 0;
			s->since[i] = t;
			settled += t != 0;
		}
		if (settled == s->n)
			return (now - s->t0) / 1e6;
		if (now - s->t0 > 60000000000ull) {
			fprintf(stderr,
				"bench-pm: %lu of %lu connections settled "
				"after 60 s\n",
				settled, s->n);
			exit(2);
		}
		sleep_us(5000);
	}
}

static void scale_print(const char *what, struct scale_state *s, double ms)
{
	struct stats st = stats_of(s->since, (unsigned int)s->n);

	printf("scale %s connections=%lu all_ms=%.1f conn_p50_ms=%.1f "
	       "conn_p99_ms=%.1f\n",
	       what, s->n, ms, st.p50 / 1e3, st.p99 / 1e3);
}

static void probe_print(const char *what, struct scale_probe *p)
{
	struct stats st;

	if (!p->n) {
		printf("scale %s during=remove+add n=0\n", what);
		return;
	}
	st = stats_of(p->lat, p->n);
	printf("scale %s during=remove+add n=%u p50_us=%.0f p99_us=%.0f "
	       "max_us=%.0f\n",
	       what, st.n, st.p50, st.p99, st.max);
}

static void ip_addr(const char *verb, const char *cidr, const char *dev)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "ip addr %s %s dev %s", verb, cidr, dev);
	if (system(cmd))
		die(cmd);
}

static int cmd_scale(int argc, char **argv)
{
	struct scale_probe status = {0}, events = {0};
	struct scale_state s = {0};
	const char *cidr = NULL, *dev = NULL, *probe_src = NULL, *after = NULL;
	unsigned long n = 10000, i;
	struct churner ch;
	struct cslot *slots;
	char addr[64], *slash;
	double ms;
	uint64_t t0;
	int opt;

	while ((opt = getopt(argc, argv, "n:a:d:s:r:")) != -1) {
		switch (opt) {
		case 'n':
			n = parse_uint(optarg, 1000000, usage);
			break;
		case 'a':
			cidr = optarg;
			break;
		case 'd':
			dev = optarg;
			break;
		case 's':
			probe_src = optarg;
			break;
		case 'r':
			after = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 || !n || !cidr || !dev || !probe_src)
		usage();
	snprintf(addr, sizeof(addr), "%s", cidr);
	slash = strchr(addr, '/');
	if (slash)
		*slash = '\0';
	/* the event stream and the claim through mpsockd, as a user's */
	setenv("MPSOCK_USE_BROKER", "1", 1);
	memset(&ch, 0, sizeof(ch));
	parse_addr(argv[optind], parse_uint(argv[optind + 1], 65535, usage),
		   &ch.srv, &ch.slen);
	parse_addr(addr, 0, &s.addr, &(socklen_t){0});
	raise_nofile(n + 256);
	ch.ep = epoll_create1(EPOLL_CLOEXEC);
	if (ch.ep < 0)
		die("epoll_create1");
	slots = calloc(n, sizeof(*slots));
	s.tokens = calloc(n, sizeof(*s.tokens));
	s.since = calloc(n, sizeof(*s.since));
	if (!slots || !s.tokens || !s.since)
		die("calloc");

	t0 = now_ns();
	drive(&ch, slots, n, n, 64, false, NULL, NULL);
	for (i = 0; i < n; i++)
		if (mps_conn_token(slots[i].fd, &s.tokens[s.n]) == 0)
			s.n++;
	qsort(s.tokens, s.n, sizeof(*s.tokens), cmp_u32);
	printf("# %lu connections established in %.2f s (%lu fell back to "
	       "TCP)\n",
	       ch.done, (now_ns() - t0) / 1e9, ch.fallbacks);
	s.want = true;
	s.t0 = t0;
	ms = scale_wait(&s);
	printf("# every one with a subflow from %s %.0f ms after the first "
	       "connect()\n",
	       addr, ms);

	/* the event probe: a connection of its own, claimed */
	events.fd = connect_mptcp(argv[optind], argv[optind + 1]);
	echo_once(events.fd);
	if (mps_conn_token(events.fd, &events.token))
		die("the probe connection's token (it fell back to TCP?)");
	if (mpsock_set_mode(events.fd, MPSOCK_MODE_MANUAL))
		die("claiming the probe connection");
	events.ev = mpsock_events_open(events.fd);
	if (!events.ev)
		die("mpsock_events_open (through mpsockd)");
	parse_addr(probe_src, 0, &events.local, &(socklen_t){0});
	events.remote = ch.srv;
	if (pthread_create(&status.th, NULL, status_loop, &status) ||
	    pthread_create(&events.th, NULL, event_loop, &events))
		die("pthread_create");
	sleep_us(200000);

	status.recording = events.recording = true;
	s.want = false;
	s.t0 = now_ns();
	ip_addr("del", cidr, dev);
	ms = scale_wait(&s);
	scale_print("remove", &s, ms);
	s.want = true;
	s.t0 = now_ns();
	ip_addr("add", cidr, dev);
	/* what else comes with the address (its routes), as a host adds it */
	if (after && system(after))
		die(after);
	ms = scale_wait(&s);
	scale_print("add", &s, ms);
	status.recording = events.recording = false;
	status.stop = events.stop = true;
	pthread_join(status.th, NULL);
	pthread_join(events.th, NULL);
	probe_print("status_request", &status);
	probe_print("event_delivery", &events);
	if (events.timeouts)
		printf("# the event probe missed %u open/close rounds\n",
		       events.timeouts);
	for (i = 0; i < n; i++)
		conn_reset(&slots[i]);
	return 0;
}

/* ================================================================ ready */

/* How many times PID has been scheduled in (/proc/PID/schedstat). */
static unsigned long long sched_count(pid_t pid)
{
	unsigned long long run, wait, count = 0;
	char path[64];
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	fp = fopen(path, "r");
	if (!fp)
		die(path);
	if (fscanf(fp, "%llu %llu %llu", &run, &wait, &count) != 3)
		count = 0;
	fclose(fp);
	return count;
}

/*
 * Until mpsockd reacts to a connection's events: a connection (one byte
 * echoed, closed with a reset) every 100 ms, 5 s at most; reacting is
 * being scheduled within 50 ms of it.  Prints how long that took.
 */
static int cmd_ready(int argc, char **argv)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	uint64_t t0 = now_ns();
	unsigned int tries = 0;
	pid_t pid = 0;
	int opt;

	while ((opt = getopt(argc, argv, "D:")) != -1) {
		if (opt == 'D')
			pid = (pid_t)parse_uint(optarg, 1u << 30, usage);
		else
			usage();
	}
	if (argc - optind != 2 || !pid)
		usage();
	sleep_us(100000); /* whatever it does at start */
	for (;;) {
		unsigned long long before = sched_count(pid);
		uint64_t t = now_ns();
		int fd = connect_mptcp(argv[optind], argv[optind + 1]);

		echo_once(fd);
		tries++;
		while (now_ns() - t < 50 * NS_PER_MS &&
		       sched_count(pid) == before)
			sleep_us(1000);
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
		if (sched_count(pid) != before) {
			printf("# mpsockd reacted to a connection's events %.0f "
			       "ms after the first probe (%u probe "
			       "connection%s)\n",
			       (now_ns() - t0) / 1e6 - 100, tries,
			       tries == 1 ? "" : "s");
			return 0;
		}
		if (now_ns() - t0 > 5 * NS_PER_S) {
			printf("# mpsockd did not react to %u connections in "
			       "5 s\n",
			       tries);
			return 2;
		}
		sleep_us(50000);
	}
}

/* =============================================================== report */

struct series {
	char label[32];
	uint64_t *v[3];
	double *d[7];
	unsigned int n, cap;
};

static struct series *series_get(struct series *s, unsigned int *ns,
				 const char *label)
{
	unsigned int i, k;

	for (i = 0; i < *ns; i++)
		if (!strcmp(s[i].label, label))
			return &s[i];
	if (*ns == 8) {
		fprintf(stderr, "bench-pm: more than 8 labels\n");
		exit(2);
	}
	memset(&s[*ns], 0, sizeof(s[*ns]));
	snprintf(s[*ns].label, sizeof(s[*ns].label), "%s", label);
	s[*ns].cap = 1024;
	for (k = 0; k < 3; k++)
		s[*ns].v[k] = malloc(s[*ns].cap * sizeof(uint64_t));
	for (k = 0; k < 7; k++)
		s[*ns].d[k] = malloc(s[*ns].cap * sizeof(double));
	return &s[(*ns)++];
}

static void series_grow(struct series *s)
{
	unsigned int k;

	if (s->n < s->cap)
		return;
	s->cap *= 2;
	for (k = 0; k < 3; k++)
		if (!(s->v[k] = realloc(s->v[k], s->cap * sizeof(uint64_t))))
			die("realloc");
	for (k = 0; k < 7; k++)
		if (!(s->d[k] = realloc(s->d[k], s->cap * sizeof(double))))
			die("realloc");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median_d(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static const char *met(bool ok)
{
	return ok ? "met" : "MISSED";
}

static void report_join(struct series *s, unsigned int ns)
{
	static const char *const what[3] = {"connect_to_sf2",
					    "connect_to_established",
					    "established_to_sf2"};
	struct stats st[8][3];
	struct series *k = NULL, *m = NULL;
	unsigned int i, j;

	for (i = 0; i < ns; i++) {
		for (j = 0; j < 3; j++) {
			st[i][j] = stats_of(s[i].v[j], s[i].n);
			printf("join pm=%s n=%u what=%s p50_us=%.1f p90_us=%.1f "
			       "p99_us=%.1f max_us=%.1f\n",
			       s[i].label, st[i][j].n, what[j], st[i][j].p50,
			       st[i][j].p90, st[i][j].p99, st[i][j].max);
		}
		if (!strcmp(s[i].label, "kernel"))
			k = &s[i];
		if (!strcmp(s[i].label, "mpsockd"))
			m = &s[i];
	}
	printf("\nsummary 1: µs, median (p90 / p99), all rounds\n");
	printf("%-9s %5s  %-26s %-26s %-26s\n", "pm", "n",
	       "connect -> 2nd subflow", "connect -> ESTABLISHED",
	       "ESTABLISHED -> 2nd subflow");
	for (i = 0; i < ns; i++) {
		char c[3][64];

		for (j = 0; j < 3; j++)
			snprintf(c[j], sizeof(c[j]), "%.1f (%.1f / %.1f)",
				 st[i][j].p50, st[i][j].p90, st[i][j].p99);
		printf("%-9s %5u  %-26s %-26s %-26s\n", s[i].label, s[i].n,
		       c[0], c[1], c[2]);
	}
	if (k && m) {
		struct stats *sk = st[k - s], *sm = st[m - s];
		double ratio = sm[0].p50 / sk[0].p50;

		printf("ratio mpsockd/kernel: connect -> 2nd subflow p50 %.2f, "
		       "p99 %.2f; ESTABLISHED -> 2nd subflow (the path "
		       "manager's reaction) p50 %.2f, p99 %.2f\n",
		       ratio, sm[0].p99 / sk[0].p99, sm[2].p50 / sk[2].p50,
		       sm[2].p99 / sk[2].p99);
		printf("target: p50 within 1.05x of the in-kernel PM: %.2fx "
		       "(%s); p99 under 1 ms: %.1f µs (%s)\n",
		       ratio, met(ratio <= 1.05), sm[0].p99,
		       met(sm[0].p99 < 1000));
	}
}

static void report_failover(struct series *s, unsigned int ns)
{
	static const char *const what[6] = {"gap_max_ms", "gap_start_ms",
					    "stall_ms",	  "pre_mbps",
					    "post_mbps",  "pre_gap_max_ms"};
	double med[8][6], mx[8][6];
	unsigned int i, j, r, rm[8], rm_known[8];
	struct series *m = NULL;

	for (i = 0; i < ns; i++) {
		bool never = false;

		rm[i] = rm_known[i] = 0;
		for (r = 0; r < s[i].n; r++) {
			if (s[i].d[2][r] < 0) {
				never = true;
				s[i].d[2][r] = INFINITY;
			}
			if (s[i].d[6][r] >= 0)
				rm_known[i]++;
			if (s[i].d[6][r] > 0)
				rm[i]++;
		}
		for (j = 0; j < 6; j++) {
			mx[i][j] = -INFINITY;
			for (r = 0; r < s[i].n; r++)
				if (s[i].d[j][r] > mx[i][j])
					mx[i][j] = s[i].d[j][r];
			med[i][j] = median_d(s[i].d[j], s[i].n);
			printf("failover pm=%s n=%u what=%s median=%.2f "
			       "max=%.2f\n",
			       s[i].label, s[i].n, what[j], med[i][j],
			       mx[i][j]);
		}
		if (rm_known[i])
			printf("failover pm=%s what=rm_addr_sent n=%u of %u\n",
			       s[i].label, rm[i], rm_known[i]);
		if (never)
			printf("# %s: in some repetitions the rate never came "
			       "back (stall counted as infinite)\n",
			       s[i].label);
		if (!strcmp(s[i].label, "mpsockd"))
			m = &s[i];
	}
	printf("\nsummary 2: median [max] over the repetitions\n");
	printf("%-9s %4s  %-18s %-18s %-14s %-14s %-14s %s\n", "pm", "reps",
	       "longest gap ms", "stall ms", "gap start ms", "before Mbit/s",
	       "after Mbit/s", "RM_ADDR sent");
	for (i = 0; i < ns; i++)
		printf("%-9s %4u  %7.1f [%7.1f]  %7.1f [%7.1f]  %+8.1f       "
		       "%6.1f         %6.1f         %u of %u\n",
		       s[i].label, s[i].n, med[i][0], mx[i][0], med[i][2],
		       mx[i][2], med[i][1], med[i][3], med[i][4], rm[i],
		       rm_known[i]);
	if (m)
		printf("target: stall under 100 ms with mpsockd: median %.1f "
		       "ms, max %.1f ms (%s)\n",
		       med[m - s][2], mx[m - s][2], met(mx[m - s][2] < 100));
}

static int cmd_report(int argc, char **argv)
{
	struct series s[8];
	unsigned int ns = 0;
	char line[512], kind[32], label[32];
	bool join;
	FILE *f;

	if (argc != 3)
		usage();
	join = !strcmp(argv[1], "join");
	if (!join && strcmp(argv[1], "failover"))
		usage();
	f = fopen(argv[2], "r");
	if (!f)
		die(argv[2]);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, b, c;
		double d[7] = {0, 0, 0, 0, 0, 0, -1};
		struct series *x;

		if (sscanf(line, "%31s %31s", kind, label) != 2 ||
		    strcmp(kind, argv[1]))
			continue;
		x = series_get(s, &ns, label);
		series_grow(x);
		if (join &&
		    sscanf(line, "%*s %*s %llu %llu %llu", &a, &b, &c) == 3) {
			x->v[0][x->n] = a;
			x->v[1][x->n] = b;
			x->v[2][x->n] = c;
			x->n++;
		} else if (!join &&
			   sscanf(line, "%*s %*s %lf %lf %lf %lf %lf %lf %lf",
				  &d[0], &d[1], &d[2], &d[3], &d[4], &d[5],
				  &d[6]) >= 6) {
			unsigned int k;

			for (k = 0; k < 7; k++)
				x->d[k][x->n] = d[k];
			x->n++;
		}
	}
	fclose(f);
	if (!ns) {
		fprintf(stderr, "bench-pm: no %s samples in %s\n", argv[1],
			argv[2]);
		return 2;
	}
	if (join)
		report_join(s, ns);
	else
		report_failover(s, ns);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "join"))
		return cmd_join(argc - 1, argv + 1);
	if (!strcmp(argv[1], "serve"))
		return cmd_serve(argc - 1, argv + 1);
	if (!strcmp(argv[1], "failover"))
		return cmd_failover(argc - 1, argv + 1);
	if (!strcmp(argv[1], "rss"))
		return cmd_rss(argc - 1, argv + 1);
	if (!strcmp(argv[1], "report"))
		return cmd_report(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ready"))
		return cmd_ready(argc - 1, argv + 1);
	if (!strcmp(argv[1], "scale"))
		return cmd_scale(argc - 1, argv + 1);
	usage();
}
