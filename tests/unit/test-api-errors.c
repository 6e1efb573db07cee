// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The public API's errors that need no connection: bad descriptors, sockets
 * that are not MPTCP, unconnected MPTCP sockets, draft options of later
 * releases, pass-through of every other option.  Unprivileged.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "mpsock.h"
#include "mpsock-build.h"
#include "test.h"

/* Every check below, each run (or skipped) exactly once. */
#define TEST_PLAN 45

static int ids_errno(int fd)
{
	unsigned char buf[64];
	socklen_t len = sizeof(buf);

	if (mpsock_getsockopt(fd, IPPROTO_TCP, MPTCP_GET_SUB_IDS, buf, &len))
		return errno;
	return 0;
}

/* Whether an mpsockd serves this namespace (then it would answer). */
static bool broker_here(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	bool here;

	memcpy(sun.sun_path + 1, "mpsockd", 7);
	here = connect(s, (struct sockaddr *)&sun,
		       offsetof(struct sockaddr_un, sun_path) + 8) == 0;
	close(s);
	return here;
}

int main(void)
{
	unsigned char buf[64];
	struct mpsock_subflow sf;
	socklen_t len;
	int pfd[2] = {-1, -1}, tcp, udp, mp, v, r;
	char why[128];

	/* most checks need an MPTCP socket: without one, none runs */
	mp = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
	if (mp < 0) {
		snprintf(why, sizeof(why),
			 "no MPTCP in this kernel or namespace: %s",
			 strerror(errno));
		return test_skip_all(why);
	}
	close(mp);
	test_plan(TEST_PLAN);

	CHECK("fd -1: EBADF", ids_errno(-1) == EBADF);
	CHECK("native list, fd -1: EBADF",
	      mpsock_subflow_list(-1, NULL, 0) == -1 && errno == EBADF);
	CHECK("pipe: ENOTSOCK",
	      pipe(pfd) == 0 && ids_errno(pfd[0]) == ENOTSOCK);
	close(pfd[0]);
	close(pfd[1]);
	tcp = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	CHECK("plain TCP socket: EOPNOTSUPP", ids_errno(tcp) == EOPNOTSUPP);
	udp = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK("UDP socket: EOPNOTSUPP", ids_errno(udp) == EOPNOTSUPP);
	close(udp);

	/* every other option goes to libc untouched */
	v = 1;
	CHECK("pass-through setsockopt(TCP_NODELAY)",
	      mpsock_setsockopt(tcp, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)) ==
		      0);
	v = 0;
	len = sizeof(v);
	CHECK("pass-through getsockopt(TCP_NODELAY)",
	      mpsock_getsockopt(tcp, IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0 &&
		      v == 1);
	len = sizeof(v);
	CHECK("pass-through getsockopt(SO_TYPE)",
	      mpsock_getsockopt(tcp, SOL_SOCKET, SO_TYPE, &v, &len) == 0 &&
		      v == SOCK_STREAM);
	close(tcp);

	mp = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
	CHECK("MPTCP socket", mp >= 0);
	len = sizeof(buf);
	memset(buf, 0xff, sizeof(buf));
	r = mpsock_getsockopt(mp, IPPROTO_TCP, MPTCP_GET_SUB_IDS, buf, &len);
	CHECK("unconnected MPTCP socket: no subflow",
	      r == 0 && buf[0] == 0 && len == 2);
	len = 1;
	r = mpsock_getsockopt(mp, IPPROTO_TCP, MPTCP_GET_SUB_IDS, buf, &len);
	CHECK("GET_SUB_IDS too small: EINVAL and the needed length",
	      r == -1 && errno == EINVAL && len == 2);
	len = 0;
	r = mpsock_getsockopt(mp, IPPROTO_TCP, MPTCP_GET_SUB_IDS, NULL, &len);
	CHECK("GET_SUB_IDS with a zero length: EINVAL and the needed length",
	      r == -1 && errno == EINVAL && len == 2);
	r = mpsock_getsockopt(mp, IPPROTO_TCP, MPTCP_GET_SUB_IDS, buf, NULL);
	CHECK("NULL optlen: EFAULT", r == -1 && errno == EFAULT);

	len = sizeof(buf);
	buf[0] = 1;
	r = mpsock_getsockopt(mp, IPPROTO_TCP, MPTCP_GET_SUB_TUPLE, buf, &len);
	CHECK("GET_SUB_TUPLE unknown id: EINVAL", r == -1 && errno == EINVAL);
	len = 1;
	r = mpsock_getsockopt(mp, IPPROTO_TCP, MPTCP_GET_SUB_TUPLE, buf, &len);
	CHECK("GET_SUB_TUPLE shorter than its header: EINVAL",
	      r == -1 && errno == EINVAL);
	CHECK("native get of unknown id: ESRCH",
	      mpsock_subflow_get(mp, 1, &sf) == -1 && errno == ESRCH);
	len = sizeof(buf);
	CHECK("native tcp_info of unknown id: ESRCH",
	      mpsock_subflow_tcp_info(mp, 1, buf, &len) == -1 &&
		      errno == ESRCH);
	CHECK("native list of an unconnected socket: 0",
	      mpsock_subflow_list(mp, &sf, 1) == 0);

	{
		struct mptcp_sub_getsockopt g = {
			.id = 1, .level = IPPROTO_IP, .optname = 1};
		unsigned int gl = 4;
		int val;

		g.optval = (char *)&val;
		g.optlen = &gl;
		len = sizeof(g);
		r = mpsock_getsockopt(mp, IPPROTO_TCP, MPTCP_SUB_GETSOCKOPT, &g,
				      &len);
		CHECK("SUB_GETSOCKOPT of an unknown draft id: EINVAL",
		      r == -1 && errno == EINVAL);
		len = sizeof(g) - 1;
		r = mpsock_getsockopt(mp, IPPROTO_TCP, MPTCP_SUB_GETSOCKOPT, &g,
				      &len);
		CHECK("SUB_GETSOCKOPT short struct: EINVAL",
		      r == -1 && errno == EINVAL);
	}
	{
		bool all;

		len = sizeof(buf);
		all = mpsock_getsockopt(mp, IPPROTO_TCP, 70, buf, &len) == -1 &&
		      errno == ENOPROTOOPT;
		all &= mpsock_setsockopt(mp, IPPROTO_TCP, MPTCP_GET_SUB_IDS,
					 buf, sizeof(buf)) == -1 &&
		       errno == ENOPROTOOPT;
		CHECK("70, and read-only options set: ENOPROTOOPT", all);
	}
	{
		struct mptcp_sub_setsockopt s = {
			.id = 1, .level = IPPROTO_IP, .optname = IP_TOS};
		int tos = 0x10, ttl = 3;

		s.optval = (char *)&tos;
		s.optlen = sizeof(tos);
		CHECK("SUB_SETSOCKOPT short struct: EINVAL",
		      mpsock_setsockopt(mp, IPPROTO_TCP, MPTCP_SUB_SETSOCKOPT,
					&s, sizeof(s) - 1) == -1 &&
			      errno == EINVAL);
		CHECK("SUB_SETSOCKOPT of an unknown draft id: EINVAL",
		      mpsock_setsockopt(mp, IPPROTO_TCP, MPTCP_SUB_SETSOCKOPT,
					&s, sizeof(s)) == -1 &&
			      errno == EINVAL);
		CHECK("native per-subflow IP_TTL: ENOPROTOOPT",
		      mpsock_subflow_setsockopt(mp, 1, IPPROTO_IP, IP_TTL, &ttl,
						sizeof(ttl)) == -1 &&
			      errno == ENOPROTOOPT);
		CHECK("native per-subflow IP_TOS of 2 bytes: EINVAL",
		      mpsock_subflow_setsockopt(mp, 1, IPPROTO_IP, IP_TOS, &tos,
						2) == -1 &&
			      errno == EINVAL);
	}
	{
		struct sockaddr_in l = {.sin_family = AF_INET},
				   r = {.sin_family = AF_INET};
		struct sockaddr_in6 r6 = {.sin6_family = AF_INET6};
		unsigned char t[2 + 2 * sizeof(struct sockaddr_in6)] = {0};
		struct mptcp_close_sub_id c = {.id = 1, .how = 7};

		CHECK("open: unknown flags EINVAL",
		      mpsock_subflow_open(mp, (struct sockaddr *)&l,
					  (struct sockaddr *)&r, sizeof(l),
					  0x80, NULL) == -1 &&
			      errno == EINVAL);
		CHECK("open: families differ EINVAL",
		      mpsock_subflow_open(mp, (struct sockaddr *)&l,
					  (struct sockaddr *)&r6, sizeof(l), 0,
					  NULL) == -1 &&
			      errno == EINVAL);
		CHECK("open: address size wrong EINVAL",
		      mpsock_subflow_open(mp, (struct sockaddr *)&l,
					  (struct sockaddr *)&r, sizeof(l) + 1,
					  0, NULL) == -1 &&
			      errno == EINVAL);
		len = 2 + 2 * sizeof(l) + 1;
		CHECK("OPEN_SUB_TUPLE: optlen not header + 2 sockaddrs EINVAL",
		      mpsock_getsockopt(mp, IPPROTO_TCP, MPTCP_OPEN_SUB_TUPLE,
					t, &len) == -1 &&
			      errno == EINVAL);
		memcpy(t + 2, &l, sizeof(l));
		memcpy(t + 2 + sizeof(l), &r6, sizeof(l));
		len = 2 + 2 * sizeof(l);
		CHECK("OPEN_SUB_TUPLE: two families EINVAL",
		      mpsock_getsockopt(mp, IPPROTO_TCP, MPTCP_OPEN_SUB_TUPLE,
					t, &len) == -1 &&
			      errno == EINVAL);
		len = sizeof(c);
		CHECK("CLOSE_SUB_ID: bad how EINVAL",
		      mpsock_getsockopt(mp, IPPROTO_TCP, MPTCP_CLOSE_SUB_ID, &c,
					&len) == -1 &&
			      errno == EINVAL);
		c.how = SHUT_RDWR;
		CHECK("CLOSE_SUB_ID: unknown id EINVAL",
		      mpsock_setsockopt(mp, IPPROTO_TCP, MPTCP_CLOSE_SUB_ID, &c,
					sizeof(c)) == -1 &&
			      errno == EINVAL);
		/* root acts itself; others find no mpsockd in this test */
		CHECK("native close on an unconnected socket: ENOTCONN as "
		      "root, EPERM without broker",
		      mpsock_subflow_close(mp, 5, SHUT_RDWR) == -1 &&
			      errno == (geteuid() == 0 ? ENOTCONN : EPERM));
		CHECK("native close SHUT_WR: EOPNOTSUPP",
		      mpsock_subflow_close(mp, 5, SHUT_WR) == -1 &&
			      errno == EOPNOTSUPP);
		CHECK("native close with an unknown how: EINVAL",
		      mpsock_subflow_close(mp, 5, 9) == -1 && errno == EINVAL);
	}
	close(mp);
	CHECK("closed fd: EBADF", ids_errno(mp) == EBADF);

	/* a listener is not a subflow, though FULL_INFO lists it */
	mp = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
	{
		struct sockaddr_in lo = {.sin_family = AF_INET,
					 .sin_addr.s_addr =
						 htonl(INADDR_LOOPBACK)};

		bool listening =
			bind(mp, (struct sockaddr *)&lo, sizeof(lo)) == 0 &&
			listen(mp, 1) == 0;

		CHECK("listening MPTCP socket on the loopback", listening);
		len = 0;
		r = mpsock_getsockopt(mp, IPPROTO_TCP, MPTCP_GET_SUB_IDS, NULL,
				      &len);
		CHECK("listening socket: GET_SUB_IDS needs 2 bytes",
		      listening && r == -1 && errno == EINVAL && len == 2);
		CHECK("listening socket: no subflow listed",
		      listening && mpsock_subflow_list(mp, &sf, 1) == 0);
	}
	close(mp);
	/* modes: checked before anything is sent to mpsockd */
	CHECK("set_mode, fd -1: EBADF",
	      mpsock_set_mode(-1, MPSOCK_MODE_MANUAL) == -1 && errno == EBADF);
	tcp = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	CHECK("set_mode, plain TCP: EOPNOTSUPP",
	      mpsock_set_mode(tcp, MPSOCK_MODE_HANDOVER) == -1 &&
		      errno == EOPNOTSUPP);
	close(tcp);
	mp = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
	CHECK("set_mode, unknown mode 9: EINVAL",
	      mpsock_set_mode(mp, 9) == -1 && errno == EINVAL);
	CHECK("set_mode, mode -1: EINVAL",
	      mpsock_set_mode(mp, -1) == -1 && errno == EINVAL);
	if (!broker_here())
		CHECK("set_mode without mpsockd: EOPNOTSUPP and a message",
		      mpsock_set_mode(mp, MPSOCK_MODE_MANUAL) == -1 &&
			      errno == EOPNOTSUPP &&
			      strstr(mpsock_errmsg(), "no mpsockd"));
	else
		test_skip("set_mode without mpsockd: EOPNOTSUPP and a message",
			  "an mpsockd serves this namespace");
	close(mp);
	CHECK("mpsock_version is the project version",
	      strcmp(mpsock_version(), MPSOCK_VERSION) == 0);
	return test_done();
}
