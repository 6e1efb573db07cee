// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Records the kernel's own bytes for the parser tests and the fuzzers'
 * seeds (tests/data/kernel/, tests/fuzz/corpus/): mptcp_pm events and
 * rtnetlink link and address messages as they arrive, one file each, and
 * for one connection of its own its FULL_INFO reply and sock_diag dumps.
 * record-kernel-messages.sh drives it in namespaces it makes; see
 * tests/fuzz/README.
 *
 *   mpsock-record events DIR SECONDS   mptcp_pm events, genl-NNN-TYPE.bin
 *   mpsock-record rtnl DIR SECONDS     links, addresses: rtnl-NNN-TYPE.bin
 *   mpsock-record serve PORT           an MPTCP sink, until killed
 *   mpsock-record connect LOCAL REMOTE PORT DIR
 *       connects, waits for two subflows, writes full_info.bin,
 *       diag-msk.bin and diag-subflows.bin, creates DIR/connected, then
 *       holds the connection until DIR/release appears (at most 30 s).
 *
 * Each recorder creates DIR/ready-KIND once it listens, and stops after
 * SECONDS or on SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/genetlink.h>
#include <linux/inet_diag.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <libmnl/libmnl.h>

#include "kernel/kernel.h"

#ifndef SOL_MPTCP
#define SOL_MPTCP 284
#endif

#define BUF_SIZE 32768
#define SUBFLOWS_MAX 8
#define TCPI_MAX 512

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "mpsock-record: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void write_file(const char *dir, const char *name, const void *p,
		       size_t len)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, p, len) != (ssize_t)len || close(fd))
		die(path);
}

static void touch(const char *dir, const char *name)
{
	write_file(dir, name, "", 0);
}

static const char *genl_name(unsigned int type)
{
	switch (type) {
	case MPTCP_EVENT_CREATED:
		return "created";
	case MPTCP_EVENT_ESTABLISHED:
		return "established";
	case MPTCP_EVENT_CLOSED:
		return "closed";
	case MPTCP_EVENT_ANNOUNCED:
		return "announced";
	case MPTCP_EVENT_REMOVED:
		return "removed";
	case MPTCP_EVENT_SUB_ESTABLISHED:
		return "sub_established";
	case MPTCP_EVENT_SUB_CLOSED:
		return "sub_closed";
	case MPTCP_EVENT_SUB_PRIORITY:
		return "sub_priority";
	}
	return "other";
}

static const char *rtnl_name(unsigned int type)
{
	switch (type) {
	case RTM_NEWLINK:
		return "newlink";
	case RTM_DELLINK:
		return "dellink";
	case RTM_NEWADDR:
		return "newaddr";
	case RTM_DELADDR:
		return "deladdr";
	}
	return "other";
}

/* Each message of every datagram on @s into a file of its own. */
static void record(int s, const char *dir, const char *kind, int seconds,
		   bool genl)
{
	time_t end = time(NULL) + seconds;
	char buf[BUF_SIZE], name[64];
	unsigned int n = 0;

	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	snprintf(name, sizeof(name), "ready-%s", kind);
	touch(dir, name);
	while (!stop && time(NULL) < end) {
		struct pollfd p = {.fd = s, .events = POLLIN};
		const struct nlmsghdr *nlh;
		ssize_t len;
		int left;

		if (poll(&p, 1, 200) <= 0)
			continue;
		len = recv(s, buf, sizeof(buf), 0);
		if (len < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			die("recv");
		}
		left = (int)len;
		for (nlh = (void *)buf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			unsigned int type = nlh->nlmsg_type;

			if (genl)
				type = ((const struct genlmsghdr *)
						mnl_nlmsg_get_payload(nlh))
					       ->cmd;
			snprintf(name, sizeof(name), "%s-%03u-%s.bin", kind,
				 n++, genl ? genl_name(type) : rtnl_name(type));
			write_file(dir, name, nlh, nlh->nlmsg_len);
		}
	}
}

static void events(const char *dir, int seconds)
{
	struct mps_genl g;
	int err;

	err = mps_genl_open(&g);
	if (!err)
		err = mps_events_subscribe(&g);
	if (err) {
		errno = -err;
		die("mptcp_pm events");
	}
	record(mnl_socket_get_fd(g.nl), dir, "genl", seconds, true);
	mps_genl_close(&g);
}

static void rtnl(const char *dir, int seconds)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);

	if (!nl || mnl_socket_bind(nl,
				   RTMGRP_LINK | RTMGRP_IPV4_IFADDR |
					   RTMGRP_IPV6_IFADDR,
				   MNL_SOCKET_AUTOPID) < 0)
		die("rtnetlink");
	record(mnl_socket_get_fd(nl), dir, "rtnl", seconds, false);
	mnl_socket_close(nl);
}

static void sockaddr4(struct sockaddr_in *sin, const char *addr, int port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	if (addr && inet_pton(AF_INET, addr, &sin->sin_addr) != 1) {
		fprintf(stderr, "mpsock-record: not an IPv4 address: %s\n",
			addr);
		exit(2);
	}
}

static void serve(int port)
{
	struct sockaddr_in sin;
	int s, one = 1;
	char buf[4096];

	sockaddr4(&sin, NULL, port);
	s = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
	if (s < 0)
		die("MPTCP socket");
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) || listen(s, 8))
		die("listen");
	for (;;) {
		int c = accept(s, NULL, NULL);

		if (c < 0)
			die("accept");
		while (read(c, buf, sizeof(buf)) > 0)
			;
		close(c);
	}
}

/*
 * The reply as the kernel wrote it: the structure (its user pointers
 * zeroed, they mean nothing elsewhere), then the subflow_info entries,
 * then the tcp_info rows at the stride the kernel used.
 */
static int full_info(int fd, const char *dir, bool save)
{
	static struct mptcp_subflow_info sfi[SUBFLOWS_MAX];
	static unsigned char ti[SUBFLOWS_MAX][TCPI_MAX];
	static unsigned char
		out[sizeof(struct mptcp_full_info) + sizeof(sfi) + sizeof(ti)];
	struct mptcp_full_info mfi = {0};
	socklen_t len = sizeof(mfi);
	unsigned int n, live = 0, i;
	size_t off;

	mfi.size_sfinfo_user = sizeof(sfi[0]);
	mfi.size_tcpinfo_user = TCPI_MAX;
	mfi.size_arrays_user = SUBFLOWS_MAX;
	mfi.subflow_info = (__u64)(unsigned long)sfi;
	mfi.tcp_info = (__u64)(unsigned long)ti;
	if (getsockopt(fd, SOL_MPTCP, MPTCP_FULL_INFO, &mfi, &len) < 0)
		die("MPTCP_FULL_INFO");
	n = mfi.num_subflows < SUBFLOWS_MAX ? mfi.num_subflows : SUBFLOWS_MAX;
	/* rows at the kernel's stride; tcpi_state is their first byte */
	for (i = 0; i < n; i++)
		live += (&ti[0][0])[i * mfi.size_tcpinfo_user] ==
			TCP_ESTABLISHED;
	if (!save)
		return live;
	mfi.subflow_info = 0;
	mfi.tcp_info = 0;
	memcpy(out, &mfi, sizeof(mfi));
	off = sizeof(mfi);
	memcpy(out + off, sfi, n * sizeof(sfi[0]));
	off += n * sizeof(sfi[0]);
	memcpy(out + off, ti, n * mfi.size_tcpinfo_user);
	off += n * mfi.size_tcpinfo_user;
	write_file(dir, "full_info.bin", out, off);
	return live;
}

/* A whole dump's datagrams, one after the other, NLMSG_DONE included. */
static void diag_dump(const char *dir, const char *name, bool mptcp)
{
	static char out[1 << 20];
	char buf[BUF_SIZE];
	struct inet_diag_req_v2 *req;
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	size_t off = 0;
	bool done = false;
	ssize_t n;

	nl = mnl_socket_open(NETLINK_SOCK_DIAG);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		die("sock_diag");
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = 1;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = AF_INET;
	req->idiag_ext = 1 << (INET_DIAG_INFO - 1);
	req->idiag_states = ~0U;
	if (mptcp)
		mnl_attr_put_u32(nlh, INET_DIAG_REQ_PROTOCOL, IPPROTO_MPTCP);
	else
		req->sdiag_protocol = IPPROTO_TCP;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		die("sock_diag request");
	while (!done && (n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		int left = (int)n;

		if (off + n > sizeof(out))
			break;
		memcpy(out + off, buf, n);
		off += n;
		for (nlh = (void *)buf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left))
			done |= nlh->nlmsg_type == NLMSG_DONE ||
				nlh->nlmsg_type == NLMSG_ERROR;
	}
	mnl_socket_close(nl);
	write_file(dir, name, out, off);
}

static void connect_and_hold(const char *local, const char *remote, int port,
			     const char *dir)
{
	struct sockaddr_in l, r;
	char path[512];
	int s, i;

	sockaddr4(&l, local, 0);
	sockaddr4(&r, remote, port);
	s = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
	if (s < 0)
		die("MPTCP socket");
	if (bind(s, (struct sockaddr *)&l, sizeof(l)) ||
	    connect(s, (struct sockaddr *)&r, sizeof(r)))
		die("connect");
	if (write(s, "x", 1) != 1) /* the peer's ack makes it fully MPTCP */
		die("write");
	for (i = 0; i < 500 && full_info(s, dir, false) < 2; i++)
		usleep(10000);
	if (full_info(s, dir, true) < 2) {
		fprintf(stderr, "mpsock-record: no second subflow\n");
		exit(1);
	}
	diag_dump(dir, "diag-msk.bin", true);
	diag_dump(dir, "diag-subflows.bin", false);
	touch(dir, "connected");
	snprintf(path, sizeof(path), "%s/release", dir);
	for (i = 0; i < 3000 && access(path, F_OK); i++)
		usleep(10000);
	close(s);
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "events"))
		events(argv[2], atoi(argv[3]));
	else if (argc == 4 && !strcmp(argv[1], "rtnl"))
		rtnl(argv[2], atoi(argv[3]));
	else if (argc == 3 && !strcmp(argv[1], "serve"))
		serve(atoi(argv[2]));
	else if (argc == 6 && !strcmp(argv[1], "connect"))
		connect_and_hold(argv[2], argv[3], atoi(argv[4]), argv[5]);
	else {
		fprintf(stderr,
			"usage: mpsock-record events|rtnl DIR SECONDS\n"
			"       mpsock-record serve PORT\n"
			"       mpsock-record connect LOCAL REMOTE PORT DIR\n");
		return 64; /* EX_USAGE */
	}
	return 0;
}
