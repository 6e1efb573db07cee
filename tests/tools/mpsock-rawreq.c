// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Sends mpsockd hand-made requests, good and bad, to test that the broker
 * refuses what it must with an error reply and keeps serving.
 *
 * Usage: mpsock-rawreq MODE [HOST PORT]
 *   nofd        a request without a socket
 *   pipefd      a pipe instead of a socket
 *   tcpfd       a plain TCP socket (connected to HOST PORT)
 *   listenfd    a listening MPTCP socket
 *   twofds      two MPTCP sockets in one request
 *   garbage     37 bytes of garbage with an MPTCP socket
 *   emptyfd     an empty message carrying an MPTCP socket (the broker
 *               drops the client; it must close the socket too)
 *   badversion  a request of version 99
 *   badtype     a request of an unknown type
 *   closedconn  an MPTCP connection already shut down by both sides
 *   valid       a backup request on subflow 1 of a live connection
 *   hold        valid, then close our socket and print the connection's
 *               local port (the test checks the kernel dropped it)
 *   stall       send requests without ever reading a reply, until the
 *               broker drops us
 *   execport LOCAL LPORT PROG [ARG...]
 *               ask for a subflow from LOCAL:LPORT without a proof, then
 *               exec PROG at once (a binary with file capabilities: the
 *               exec race of issue 15); prints "pid N" first
 *   execmark PROG [ARG...]
 *               the same with SO_MARK 7 on subflow 1
 *   forksend    connect, then let a child send a failing request: the
 *               log must name the child (prints "sender N")
 *   clients N   hold N connections to mpsockd, then ask once more on a
 *               new one and print that reply; then wait to be killed
 *   subs N      N owner subscriptions, each on its own connection: one
 *               reply line each; then wait to be killed
 *   lat N       N failing backup requests (subflow 999) one after the
 *               other on one connection: "p50 US p99 US max US"
 *   proof KIND LOCAL LPORT
 *               ask for a subflow from LOCAL:LPORT with a forged proof:
 *               KIND "udp-other" (a UDP socket on another port), "tcp" (a
 *               TCP socket on an unprivileged port), "mptcp" (the
 *               application's own socket again)
 *   register N  give N unconnected MPTCP sockets mode MANUAL (1) by
 *               cookie, print each one's cookie; then wait to be killed
 *   churn SECS  for SECS seconds, connect and ask again and again
 *               (refused once over quota): "churned N"
 *   fuzz N SEED N requests made from a valid one by random damage (any
 *               type, flipped bits, any length, no descriptor, a pipe,
 *               the socket twice, three of them), one at a time, each
 *               answered or the connection dropped (then a new one):
 *               "fuzzed N replies R dropped D noreply Q"
 * Prints "reply err=ERRNO msg", "dropped" or "noreply".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "broker/proto.h"

static int broker(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	socklen_t len = offsetof(struct sockaddr_un, sun_path) + 1 +
			strlen(MPS_BROKER_NAME);
	int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);

	memcpy(sun.sun_path + 1, MPS_BROKER_NAME, strlen(MPS_BROKER_NAME));
	if (s < 0 || connect(s, (struct sockaddr *)&sun, len) < 0) {
		perror("rawreq: connect to mpsockd");
		exit(2);
	}
	return s;
}

static int tcp_to(const char *host, const char *port, int proto)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM, proto);
	char b[8];

	sin.sin_port = htons(atoi(port));
	inet_pton(AF_INET, host, &sin.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("rawreq: connect");
		exit(2);
	}
	/* one echo: the connection is then fully established */
	if (write(fd, "x", 1) != 1 || read(fd, b, 1) != 1) {
		perror("rawreq: echo");
		exit(2);
	}
	return fd;
}

static int send_req(int s, const void *buf, size_t len, const int *fds,
		    int nfds)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *c;

	if (nfds) {
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	return sendmsg(s, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ? -errno : 0;
}

static const char *errname(int e)
{
	switch (e) {
	case 0:
		return "0";
	case EBADF:
		return "EBADF";
	case ENOTSOCK:
		return "ENOTSOCK";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	case EINVAL:
		return "EINVAL";
	case EPROTONOSUPPORT:
		return "EPROTONOSUPPORT";
	case ENOTCONN:
		return "ENOTCONN";
	case ESRCH:
		return "ESRCH";
	case EUSERS:
		return "EUSERS";
	case EAGAIN:
		return "EAGAIN";
	case EACCES:
		return "EACCES";
	case EPERM:
		return "EPERM";
	default:
		return strerror(e);
	}
}

static void print_reply(int s)
{
	struct pollfd p = {.fd = s, .events = POLLIN};
	struct mps_reply rep;
	ssize_t n;

	if (poll(&p, 1, 3000) <= 0) {
		printf("noreply\n");
		return;
	}
	n = recv(s, &rep, sizeof(rep), 0);
	if (n <= 0) {
		printf("dropped\n");
		return;
	}
	if (n != sizeof(rep)) {
		printf("badreply %zd\n", n);
		return;
	}
	rep.msg[sizeof(rep.msg) - 1] = '\0';
	printf("reply err=%s %s\n", errname(-rep.err), rep.msg);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/*
 * One damaged request: a valid backup request of another (or no) type,
 * a few bits flipped anywhere, sometimes cut short or padded, with one of
 * several sets of descriptors.
 */
static void fuzz_one(int s, int sock, const int *pipe_fds, long i,
		     unsigned int *seed)
{
	unsigned char buf[sizeof(struct mps_req) + 16] = {0};
	struct mps_req r = {.version = MPS_PROTO_VERSION, .seq = (__u32)i};
	size_t len = sizeof(r);
	int f[3], nf, k;

	r.type = rand_r(seed) % (__MPS_REQ_MAX + 2);
	r.backup.id = 1;
	memcpy(buf, &r, sizeof(r));
	for (k = rand_r(seed) % 8; k > 0; k--)
		buf[rand_r(seed) % sizeof(buf)] ^= 1u << (rand_r(seed) % 8);
	switch (rand_r(seed) % 8) {
	case 0:
		len = rand_r(seed) % sizeof(buf);
		break;
	case 1:
		len = sizeof(buf);
		break;
	}
	switch (rand_r(seed) % 6) {
	case 0:
		nf = 0;
		break;
	case 1:
		f[0] = pipe_fds[0];
		nf = 1;
		break;
	case 2:
		f[0] = f[1] = sock;
		nf = 2;
		break;
	case 3:
		f[0] = sock;
		f[1] = f[2] = pipe_fds[1];
		nf = 3;
		break;
	default:
		f[0] = sock;
		nf = 1;
	}
	send_req(s, buf, len, f, nf);
}

static int fuzz(int s, int sock, long n, unsigned int seed)
{
	long i, replies = 0, dropped = 0, noreply = 0;
	int pipe_fds[2];

	if (pipe(pipe_fds))
		return 2;
	for (i = 0; i < n; i++) {
		struct pollfd p = {.fd = s, .events = POLLIN};
		struct mps_reply rep;
		ssize_t got = -1;
		bool again = true;

		fuzz_one(s, sock, pipe_fds, i, &seed);
		if (poll(&p, 1, 500) > 0)
			got = recv(s, &rep, sizeof(rep), 0);
		if (got == (ssize_t)sizeof(rep)) {
			replies++;
			/* a stream of events would follow a subscription */
			again = rep.err == 0 &&
				(rep.type == MPS_REQ_SUBSCRIBE ||
				 rep.type == MPS_REQ_SUBSCRIBE_OWNER);
		} else if (got == 0) {
			dropped++;
		} else {
			noreply++; /* no answer in 500 ms, or not a reply */
		}
		if (again) {
			close(s);
			s = broker();
		}
	}
	printf("fuzzed %ld replies %ld dropped %ld noreply %ld\n", n, replies,
	       dropped, noreply);
	return 0;
}

int main(int argc, char **argv)
{
	struct mps_req req = {
		.version = MPS_PROTO_VERSION, .type = MPS_REQ_BACKUP, .seq = 1};
	const char *mode = argc > 1 ? argv[1] : "";
	const char *host = argc > 3 ? argv[2] : "10.0.1.1";
	const char *port_arg = argc > 3 ? argv[3] : "5201";
	int s, fds[2], r;

	req.backup.id = 1;
	s = broker();
	if (!strcmp(mode, "nofd")) {
		send_req(s, &req, sizeof(req), NULL, 0);
	} else if (!strcmp(mode, "pipefd")) {
		if (pipe(fds))
			return 2;
		send_req(s, &req, sizeof(req), fds, 1);
	} else if (!strcmp(mode, "tcpfd")) {
		fds[0] = tcp_to(host, port_arg, IPPROTO_TCP);
		send_req(s, &req, sizeof(req), fds, 1);
	} else if (!strcmp(mode, "listenfd")) {
		fds[0] = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
		if (fds[0] < 0 || listen(fds[0], 1) < 0)
			return 2;
		send_req(s, &req, sizeof(req), fds, 1);
	} else if (!strcmp(mode, "twofds")) {
		fds[0] = tcp_to(host, port_arg, IPPROTO_MPTCP);
		fds[1] = tcp_to(host, port_arg, IPPROTO_MPTCP);
		send_req(s, &req, sizeof(req), fds, 2);
	} else if (!strcmp(mode, "garbage")) {
		char junk[37];

		for (r = 0; r < (int)sizeof(junk); r++)
			junk[r] = rand();
		fds[0] = tcp_to(host, port_arg, IPPROTO_MPTCP);
		send_req(s, junk, sizeof(junk), fds, 1);
	} else if (!strcmp(mode, "emptyfd")) {
		fds[0] = tcp_to(host, port_arg, IPPROTO_MPTCP);
		send_req(s, &req, 0, fds, 1);
	} else if (!strcmp(mode, "badversion") || !strcmp(mode, "badtype")) {
		if (!strcmp(mode, "badversion"))
			req.version = 99;
		else
			req.type = 77;
		fds[0] = tcp_to(host, port_arg, IPPROTO_MPTCP);
		send_req(s, &req, sizeof(req), fds, 1);
	} else if (!strcmp(mode, "closedconn")) {
		char b[8];

		fds[0] = tcp_to(host, port_arg, IPPROTO_MPTCP);
		shutdown(fds[0], SHUT_WR);
		while (read(fds[0], b, sizeof(b)) > 0)
			;
		usleep(100000);
		send_req(s, &req, sizeof(req), fds, 1);
	} else if (!strcmp(mode, "valid") || !strcmp(mode, "hold")) {
		struct sockaddr_in me;
		socklen_t ml = sizeof(me);

		fds[0] = tcp_to(host, port_arg, IPPROTO_MPTCP);
		getsockname(fds[0], (struct sockaddr *)&me, &ml);
		send_req(s, &req, sizeof(req), fds, 1);
		print_reply(s);
		if (!strcmp(mode, "hold")) {
			close(fds[0]);
			printf("closed port=%u\n", ntohs(me.sin_port));
		}
		return 0;
	} else if (!strcmp(mode, "stall")) {
		int sent = 0;

		fds[0] = tcp_to(host, port_arg, IPPROTO_MPTCP);
		req.backup.id = 999; /* fails fast, still gets a reply */
		while (sent < 100000) {
			r = send_req(s, &req, sizeof(req), fds, 1);
			if (r == -EAGAIN) {
				usleep(1000);
				/* the broker stops reading or drops us */
				if (recv(s, &req, 0, MSG_DONTWAIT | MSG_PEEK) ==
					    0 ||
				    errno == ECONNRESET)
					break;
				continue;
			}
			if (r)
				break;
			sent++;
		}
		printf("stalled after %d requests\n", sent);
		fflush(stdout);
		pause(); /* never read: the test kills us */
		return 0;
	} else if (!strcmp(mode, "execport") || !strcmp(mode, "execmark")) {
		bool port = !strcmp(mode, "execport");
		char **prog = argv + (port ? 6 : 4);

		if (argc < (port ? 7 : 5))
			return 64;
		fds[0] = tcp_to(host, port_arg, IPPROTO_MPTCP);
		if (port) {
			struct sockaddr_in *l = (void *)&req.open.local;
			struct sockaddr_in *r = (void *)&req.open.remote;

			req.type = MPS_REQ_OPEN;
			l->sin_family = AF_INET;
			inet_pton(AF_INET, argv[4], &l->sin_addr);
			l->sin_port = htons(atoi(argv[5]));
			r->sin_family = AF_INET;
			inet_pton(AF_INET, host, &r->sin_addr);
			r->sin_port = htons(atoi(port_arg));
		} else {
			int mark = 7;

			req.type = MPS_REQ_SOCKOPT;
			req.sockopt.id = 1;
			req.sockopt.set = 1;
			req.sockopt.level = SOL_SOCKET;
			req.sockopt.optname = SO_MARK;
			req.sockopt.optlen = sizeof(mark);
			memcpy(req.sockopt.val, &mark, sizeof(mark));
		}
		printf("pid %d\n", (int)getpid());
		fflush(stdout);
		if (send_req(s, &req, sizeof(req), fds, 1))
			return 2;
		execv(prog[0], prog);
		perror("rawreq: exec");
		return 2;
	} else if (!strcmp(mode, "forksend")) {
		pid_t child;

		fds[0] = tcp_to(host, port_arg, IPPROTO_MPTCP);
		req.backup.id = 999; /* fails: the broker logs it */
		child = fork();
		if (child < 0)
			return 2;
		if (child) {
			waitpid(child, NULL, 0);
			return 0;
		}
		printf("sender %d\n", (int)getpid());
		send_req(s, &req, sizeof(req), fds, 1);
	} else if (!strcmp(mode, "clients") || !strcmp(mode, "subs")) {
		int i, n = argc > 4 ? atoi(argv[4]) : 1;

		fds[0] = tcp_to(host, port_arg, IPPROTO_MPTCP);
		if (!strcmp(mode, "subs")) {
			req.type = MPS_REQ_SUBSCRIBE_OWNER;
			for (i = 0; i < n; i++) {
				int t = broker();

				send_req(t, &req, sizeof(req), NULL, 0);
				print_reply(t);
			}
		} else {
			for (i = 0; i < n; i++)
				broker();
			usleep(300000); /* all accepted */
			send_req(s = broker(), &req, sizeof(req), fds, 1);
			print_reply(s);
		}
		fflush(stdout);
		pause();
		return 0;
	} else if (!strcmp(mode, "lat")) {
		int i, n = argc > 4 ? atoi(argv[4]) : 100;
		static long us[100000];
		struct timespec a, b;
		struct mps_reply rep;

		if (n < 1 || n > 100000)
			return 64;
		fds[0] = tcp_to(host, port_arg, IPPROTO_MPTCP);
		req.backup.id = 999;
		for (i = 0; i < n; i++) {
			clock_gettime(CLOCK_MONOTONIC, &a);
			req.seq = i + 1;
			if (send_req(s, &req, sizeof(req), fds, 1) ||
			    recv(s, &rep, sizeof(rep), 0) != sizeof(rep))
				return 2;
			clock_gettime(CLOCK_MONOTONIC, &b);
			us[i] = (b.tv_sec - a.tv_sec) * 1000000L +
				(b.tv_nsec - a.tv_nsec) / 1000;
		}
		qsort(us, n, sizeof(us[0]), cmp_long);
		printf("p50 %ld p99 %ld max %ld\n", us[n / 2],
		       us[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1],
		       us[n - 1]);
		return 0;
	} else if (!strcmp(mode, "proof")) {
		struct sockaddr_in *l = (void *)&req.open.local;
		struct sockaddr_in *r = (void *)&req.open.remote;
		struct sockaddr_in b = {.sin_family = AF_INET};

		if (argc < 7)
			return 64;
		fds[0] = tcp_to(host, port_arg, IPPROTO_MPTCP);
		req.type = MPS_REQ_OPEN;
		l->sin_family = AF_INET;
		inet_pton(AF_INET, argv[5], &l->sin_addr);
		l->sin_port = htons(atoi(argv[6]));
		r->sin_family = AF_INET;
		inet_pton(AF_INET, host, &r->sin_addr);
		r->sin_port = htons(atoi(port_arg));
		if (!strcmp(argv[4], "mptcp")) {
			fds[1] = fds[0];
		} else {
			fds[1] = socket(AF_INET,
					strcmp(argv[4], "tcp") ? SOCK_DGRAM
							       : SOCK_STREAM,
					0);
			if (fds[1] < 0 ||
			    bind(fds[1], (struct sockaddr *)&b, sizeof(b)) < 0)
				return 2;
		}
		send_req(s, &req, sizeof(req), fds, 2);
	} else if (!strcmp(mode, "register")) {
		int i, n = argc > 4 ? atoi(argv[4]) : 1;

		req.type = MPS_REQ_MODE;
		req.mode.mode = 1; /* MPSOCK_MODE_MANUAL */
		for (i = 0; i < n; i++) {
			unsigned long long cookie = 0;
			socklen_t cl = sizeof(cookie);
			int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);

			getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &cl);
			printf("cookie %llu ", cookie);
			send_req(s, &req, sizeof(req), &fd, 1);
			print_reply(s);
		}
		fflush(stdout);
		pause();
		return 0;
	} else if (!strcmp(mode, "churn")) {
		time_t end = time(NULL) + (argc > 4 ? atoi(argv[4]) : 1);
		long n = 0;

		fds[0] = tcp_to(host, port_arg, IPPROTO_MPTCP);
		close(s);
		while (time(NULL) < end) {
			struct mps_reply rep;
			int t = broker();

			send_req(t, &req, sizeof(req), fds, 1);
			if (recv(t, &rep, sizeof(rep), 0) > 0)
				n++;
			close(t);
		}
		printf("churned %ld\n", n);
		return 0;
	} else if (!strcmp(mode, "fuzz")) {
		return fuzz(s, tcp_to(host, port_arg, IPPROTO_MPTCP),
			    argc > 4 ? atol(argv[4]) : 1000,
			    argc > 5 ? strtoul(argv[5], NULL, 0) : 1);
	} else {
		fprintf(stderr, "rawreq: unknown mode '%s'\n", mode);
		return 64;
	}
	print_reply(s);
	return 0;
}
