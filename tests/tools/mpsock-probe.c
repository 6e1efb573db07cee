// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Test client: opens an MPTCP connection, waits for the path manager's
 * subflows, then prints what libmpsock reports (draft and native layers) in
 * a line format the namespace tests compare with ss -tiM.
 *
 * Usage: mpsock-probe [-4|-6|-m] [-n SUBFLOWS] [-t SECONDS] [-H] [-g]
 *                     [-p] HOST PORT
 *   -4 / -6   socket family (default: from HOST); -m: AF_INET6 socket
 *             connecting to a v4-mapped HOST
 *   -P        plain TCP socket instead of MPTCP
 *   -n N      wait until N live, fully established subflows are listed
 *   -H        after printing, print READY and hold until SIGTERM
 *   -g        check the grow-and-retry loop of GET_SUB_IDS from every start
 *             size 0..64
 *   -e        print the errno (name) of each draft call instead of failing
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "mpsock.h"

#define MAXSF 64

static const char *errname(int e)
{
	switch (e) {
	case 0:
		return "OK";
	case EINVAL:
		return "EINVAL";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	case EBADF:
		return "EBADF";
	case ENOTSOCK:
		return "ENOTSOCK";
	case ENOPROTOOPT:
		return "ENOPROTOOPT";
	case EFAULT:
		return "EFAULT";
	case ESRCH:
		return "ESRCH";
	case ENOSYS:
		return "ENOSYS";
	default:
		return strerror(e);
	}
}

static void fmt_addr(const void *sa, char *out, size_t len)
{
	const struct sockaddr *s = sa;
	char host[INET6_ADDRSTRLEN];
	unsigned short port;

	if (s->sa_family == AF_INET) {
		struct sockaddr_in sin;

		memcpy(&sin, sa, sizeof(sin));
		inet_ntop(AF_INET, &sin.sin_addr, host, sizeof(host));
		port = ntohs(sin.sin_port);
		snprintf(out, len, "%s:%u", host, port);
	} else if (s->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, sa, sizeof(sin6));
		inet_ntop(AF_INET6, &sin6.sin6_addr, host, sizeof(host));
		port = ntohs(sin6.sin6_port);
		snprintf(out, len, "[%s]:%u", host, port);
	} else {
		snprintf(out, len, "family%d", s->sa_family);
	}
}

static int connect_to(const char *host, const char *port, int fam, bool plain)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	char mapped[64];
	int fd, r, proto = plain ? IPPROTO_TCP : IPPROTO_MPTCP;

	if (fam == 'm') {
		snprintf(mapped, sizeof(mapped), "::ffff:%s", host);
		host = mapped;
		hints.ai_family = AF_INET6;
	} else if (fam == '4') {
		hints.ai_family = AF_INET;
	} else if (fam == '6') {
		hints.ai_family = AF_INET6;
	}
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	r = getaddrinfo(host, port, &hints, &ai);
	if (r) {
		fprintf(stderr, "probe: %s: %s\n", host, gai_strerror(r));
		exit(2);
	}
	fd = socket(ai->ai_family, SOCK_STREAM, proto);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		perror("probe: connect");
		exit(2);
	}
	freeaddrinfo(ai);
	return fd;
}

static void echo_once(int fd)
{
	char buf[8];

	if (write(fd, "ping\n", 5) != 5 || read(fd, buf, sizeof(buf)) <= 0) {
		perror("probe: echo");
		exit(2);
	}
}

static int live_established(int fd, int *total)
{
	struct mpsock_subflow sf[MAXSF];
	int n, i, ok = 0;

	n = mpsock_subflow_list(fd, sf, MAXSF);
	if (n < 0)
		return -1;
	*total = n;
	for (i = 0; i < n && i < MAXSF; i++)
		if (sf[i].state == TCP_ESTABLISHED &&
		    (sf[i].flags & MPSOCK_SUBFLOW_FULLY_ESTABLISHED))
			ok++;
	return ok;
}

static void wait_subflows(int fd, int want, int secs)
{
	struct timespec t0, now;
	int ok, total = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		echo_once(fd);
		ok = live_established(fd, &total);
		if (ok < 0) {
			perror("probe: mpsock_subflow_list");
			exit(2);
		}
		if (ok == want && total == want)
			return;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= secs) {
			fprintf(stderr, "probe: %d/%d subflows after %ds\n",
				total, want, secs);
			exit(3);
		}
		usleep(20000);
	}
}

static int print_draft(int fd, bool soft)
{
	unsigned char buf[2 + 255 * sizeof(struct mptcp_sub_status)];
	struct mptcp_sub_ids *ids = (struct mptcp_sub_ids *)buf;
	socklen_t len = sizeof(buf);
	char l[80], r[80];
	int i;

	if (mpsock_getsockopt(fd, IPPROTO_TCP, MPTCP_GET_SUB_IDS, ids, &len)) {
		printf("draft get_sub_ids %s\n", errname(errno));
		if (!soft)
			exit(4);
		return -1;
	}
	printf("draft count=%u optlen=%u\n", ids->sub_count, (unsigned)len);
	for (i = 0; i < ids->sub_count; i++) {
		struct mptcp_sub_status *st = &ids->sub_status[i];
		unsigned char tb[2 + 2 * sizeof(struct sockaddr_in6)];
		struct mptcp_sub_tuple *t = (struct mptcp_sub_tuple *)tb;
		socklen_t tl = sizeof(tb);
		struct sockaddr_storage ss;
		size_t salen;

		t->id = st->id;
		if (mpsock_getsockopt(fd, IPPROTO_TCP, MPTCP_GET_SUB_TUPLE, t,
				      &tl)) {
			printf("draft tuple id=%u %s\n", st->id,
			       errname(errno));
			exit(4);
		}
		memcpy(&ss, t->addrs, sizeof(sa_family_t));
		salen = (tl - 2) / 2;
		memcpy(&ss, t->addrs, salen);
		fmt_addr(&ss, l, sizeof(l));
		memcpy(&ss, t->addrs + salen, salen);
		fmt_addr(&ss, r, sizeof(r));
		printf("draft id=%u low_prio=%u fully_established=%u "
		       "slave_sk=%u attached=%u pre_established=%u local=%s "
		       "remote=%s tuple_optlen=%u\n",
		       st->id, st->low_prio, st->fully_established,
		       st->slave_sk, st->attached, st->pre_established, l, r,
		       (unsigned)tl);
	}
	return 0;
}

static void print_native(int fd)
{
	struct mpsock_subflow sf[MAXSF];
	char l[80], r[80];
	int n, i;

	n = mpsock_subflow_list(fd, sf, MAXSF);
	if (n < 0) {
		printf("native list %s\n", errname(errno));
		return;
	}
	printf("native count=%d\n", n);
	for (i = 0; i < n && i < MAXSF; i++) {
		struct tcp_info ti;
		socklen_t tl = sizeof(ti);

		fmt_addr(&sf[i].local, l, sizeof(l));
		fmt_addr(&sf[i].remote, r, sizeof(r));
		if (mpsock_subflow_tcp_info(fd, sf[i].id, &ti, &tl)) {
			perror("probe: mpsock_subflow_tcp_info");
			exit(4);
		}
		printf("native id=%u state=%u local=%s remote=%s "
		       "backup_local=%d backup_remote=%d "
		       "fully_established=%d joined=%d known=%d loc_id=%u "
		       "rem_id=%u tcpi_state=%u tcpi_rtt=%u\n",
		       sf[i].id, sf[i].state, l, r,
		       !!(sf[i].flags & MPSOCK_SUBFLOW_BACKUP_LOCAL),
		       !!(sf[i].flags & MPSOCK_SUBFLOW_BACKUP_REMOTE),
		       !!(sf[i].flags & MPSOCK_SUBFLOW_FULLY_ESTABLISHED),
		       !!(sf[i].flags & MPSOCK_SUBFLOW_JOINED),
		       !!(sf[i].flags & MPSOCK_SUBFLOW_FLAGS_KNOWN),
		       sf[i].local_addr_id, sf[i].remote_addr_id, ti.tcpi_state,
		       ti.tcpi_rtt);
	}
}

/* The draft's TCP_INFO through MPTCP_SUB_GETSOCKOPT, for the first id. */
static void print_sub_tcp_info(int fd)
{
	unsigned char buf[2 + 255 * sizeof(struct mptcp_sub_status)];
	struct mptcp_sub_ids *ids = (struct mptcp_sub_ids *)buf;
	struct mptcp_sub_getsockopt g;
	socklen_t len = sizeof(buf), gl = sizeof(g);
	unsigned int tl;
	struct tcp_info ti;
	int i;

	if (mpsock_getsockopt(fd, IPPROTO_TCP, MPTCP_GET_SUB_IDS, ids, &len))
		return;
	for (i = 0; i < ids->sub_count; i++) {
		memset(&g, 0, sizeof(g));
		memset(&ti, 0, sizeof(ti));
		tl = sizeof(ti);
		g.id = ids->sub_status[i].id;
		g.level = IPPROTO_TCP;
		g.optname = TCP_INFO;
		g.optval = (char *)&ti;
		g.optlen = &tl;
		if (mpsock_getsockopt(fd, IPPROTO_TCP, MPTCP_SUB_GETSOCKOPT, &g,
				      &gl)) {
			printf("draft sub_tcp_info id=%u %s\n", g.id,
			       errname(errno));
			exit(4);
		}
		printf("draft sub_tcp_info id=%u state=%u optlen=%u\n", g.id,
		       ti.tcpi_state, tl);
	}
}

/* Existing programs grow the buffer on EINVAL; start them anywhere. */
static void check_grow(int fd)
{
	unsigned int start, rounds;
	socklen_t len;
	void *buf;
	int r;

	for (start = 0; start <= 64; start++) {
		len = start;
		buf = malloc(len ? len : 1);
		for (rounds = 0; rounds < 4; rounds++) {
			r = mpsock_getsockopt(fd, IPPROTO_TCP,
					      MPTCP_GET_SUB_IDS, buf, &len);
			if (!r || errno != EINVAL)
				break;
			buf = realloc(buf, len);
		}
		if (r) {
			printf("grow start=%u FAILED %s\n", start,
			       errname(errno));
			exit(5);
		}
		free(buf);
	}
	printf("grow ok\n");
}

static void on_term(int sig)
{
	(void)sig;
	_exit(0);
}

int main(int argc, char **argv)
{
	int opt, fd, fam = 0, want = 0, secs = 10;
	bool hold = false, grow = false, soft = false, plain = false;

	while ((opt = getopt(argc, argv, "46mPn:t:Hge")) != -1) {
		switch (opt) {
		case '4':
		case '6':
		case 'm':
			fam = opt;
			break;
		case 'P':
			plain = true;
			break;
		case 'n':
			want = atoi(optarg);
			break;
		case 't':
			secs = atoi(optarg);
			break;
		case 'H':
			hold = true;
			break;
		case 'g':
			grow = true;
			break;
		case 'e':
			soft = true;
			break;
		default:
			fprintf(stderr,
				"usage: mpsock-probe [-4|-6|-m] [-P] "
				"[-n N] [-t S] [-H] [-g] [-e] HOST PORT\n");
			return 64;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: mpsock-probe [options] HOST PORT\n");
		return 64;
	}
	signal(SIGTERM, on_term);
	fd = connect_to(argv[optind], argv[optind + 1], fam, plain);
	echo_once(fd);
	if (want)
		wait_subflows(fd, want, secs);
	if (print_draft(fd, soft) == 0) {
		print_sub_tcp_info(fd);
		print_native(fd);
		if (grow)
			check_grow(fd);
	}
	fflush(stdout);
	if (hold) {
		printf("READY\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	close(fd);
	return 0;
}
