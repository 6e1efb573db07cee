// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Learns which path serves each per-subflow option on the running kernel,
 * by trying them: kernels differ (upstream 846c76ecc029 made the
 * header-option callback refuse TCP_NODELAY, and stable kernels took it),
 * so nothing is assumed from a version.  The test runs on a loopback TCP
 * connection in a network namespace of its own, created by a thread that
 * nobody else sees, so it touches no real connection and needs no
 * configured interface; the program acts on that plain TCP socket exactly
 * as on a subflow.
 */
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "kernel/bpf_sockopt.h"

struct probe_conn {
	int lis, cli, srv;
	struct mps_sf_key key;
};

/* A new namespace's loopback starts down; it is ours to bring up. */
static int lo_up(void)
{
	struct ifreq ifr = {0};
	int s, err = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		err = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		err = -errno;
	close(s);
	return err;
}

static socklen_t loopback(int family, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = family;
	if (family == AF_INET) {
		((struct sockaddr_in *)ss)->sin_addr.s_addr =
			htonl(INADDR_LOOPBACK);
		return sizeof(struct sockaddr_in);
	}
	((struct sockaddr_in6 *)ss)->sin6_addr = in6addr_loopback;
	return sizeof(struct sockaddr_in6);
}

static int bound_socket(int family, __u16 *port)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, &ss);
	int s;

	s = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (bind(s, (struct sockaddr *)&ss, len) < 0 ||
	    getsockname(s, (struct sockaddr *)&ss, &len) < 0) {
		close(s);
		return -errno;
	}
	*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return s;
}

static int connect_trigger(void *arg)
{
	struct probe_conn *pc = arg;
	struct sockaddr_storage ss;
	socklen_t len = loopback(pc->key.family, &ss);

	((struct sockaddr_in *)&ss)->sin_port = htons(pc->key.rport);
	if (connect(pc->cli, (struct sockaddr *)&ss, len) < 0)
		return -errno;
	pc->srv = accept4(pc->lis, NULL, NULL, SOCK_CLOEXEC);
	return pc->srv < 0 ? -errno : 0;
}

/* One byte out: building its header runs the header-option callback. */
static int send_trigger(void *arg)
{
	struct probe_conn *pc = arg;
	char c = 'p';

	if (send(pc->cli, &c, 1, MSG_NOSIGNAL) != 1 ||
	    recv(pc->srv, &c, 1, 0) != 1)
		return -EIO;
	return 0;
}

static void conn_close(struct probe_conn *pc)
{
	if (pc->srv >= 0)
		close(pc->srv);
	if (pc->cli >= 0)
		close(pc->cli);
	if (pc->lis >= 0)
		close(pc->lis);
}

/*
 * A connection whose client socket the program treats as a subflow: the
 * mark request makes the ESTABLISHED callback ask for the header-option
 * callback on it, and proves the program sees this thread's sockets.
 */
static int conn_open(struct probe_conn *pc, int family)
{
	struct mps_sf_req mark = {.via = MPS_SOCKOPT_VIA_MARK};
	struct sockaddr_storage lo;
	__u16 lport, cport;
	int one = 1, err;

	memset(pc, 0, sizeof(*pc));
	pc->lis = pc->cli = pc->srv = -1;
	pc->lis = bound_socket(family, &lport);
	if (pc->lis < 0 || listen(pc->lis, 1) < 0)
		return -errno;
	pc->cli = bound_socket(family, &cport);
	if (pc->cli < 0)
		return pc->cli;
	/* each byte leaves at once, not after the peer's delayed ACK */
	setsockopt(pc->cli, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	err = mps_netns_cookie(pc->cli, &pc->key.netns);
	if (err)
		return err;
	pc->key.family = family;
	loopback(family, &lo);
	if (family == AF_INET) {
		memcpy(pc->key.local, &((struct sockaddr_in *)&lo)->sin_addr,
		       4);
	} else {
		memcpy(pc->key.local, &((struct sockaddr_in6 *)&lo)->sin6_addr,
		       16);
	}
	memcpy(pc->key.remote, pc->key.local, sizeof(pc->key.remote));
	pc->key.lport = cport;
	pc->key.rport = lport;
	err = mps_sockopt_run(&pc->key, &mark, connect_trigger, pc);
	return err;
}

/* One option, read then written back, by @via: the program's result. */
static int try_option(struct probe_conn *pc, int level, int optname, bool set,
		      __u8 *val, __u32 len, __u32 via)
{
	struct mps_sf_req req = {.level = level, .optname = optname};
	int err;

	req.op = set ? MPS_SOCKOPT_SET : MPS_SOCKOPT_GET;
	req.optlen = len;
	req.via = via;
	memcpy(req.val, val, len);
	err = mps_sockopt_run(&pc->key, &req,
			      via == MPS_SOCKOPT_VIA_HDR
				      ? send_trigger
				      : mps_sockopt_iter_pass,
			      pc);
	if (err)
		return err;
	if (!set && !req.result)
		memcpy(val, req.val, len);
	return req.result;
}

static __u8 probe_path(struct probe_conn *pc, int level, int optname, bool set,
		       __u8 *val, __u32 len)
{
	int r;

	r = try_option(pc, level, optname, set, val, len, MPS_SOCKOPT_VIA_HDR);
	if (r == -EIO)
		return MPS_PATH_UNKNOWN; /* the hook never ran: no verdict */
	if (!mps_sockopt_refused(r))
		return MPS_PATH_HDR;
	r = try_option(pc, level, optname, set, val, len, MPS_SOCKOPT_VIA_ITER);
	if (r == -EIO)
		return MPS_PATH_UNKNOWN;
	return mps_sockopt_refused(r) ? MPS_PATH_NONE : MPS_PATH_ITER;
}

static void probe_family(struct mps_sockopt_caps *caps, int family)
{
	struct probe_conn pc;
	unsigned int i;

	if (conn_open(&pc, family) == 0) {
		for (i = 0; i < MPS_SUBOPT_COUNT; i++) {
			__u8 val[MPS_SOCKOPT_VAL_MAX] = {1};
			const char *name;
			int level, optname;
			__u32 len;

			mps_subopt_at(i, &level, &optname, &name);
			if ((level == IPPROTO_IPV6) != (family == AF_INET6))
				continue;
			len = mps_subopt_len(level, optname,
					     MPS_SOCKOPT_VAL_MAX);
			/* what it reads is written back: a value it takes */
			caps->path[i][0] = probe_path(&pc, level, optname,
						      false, val, len);
			caps->path[i][1] =
				probe_path(&pc, level, optname, true, val, len);
		}
		caps->probed = true;
	}
	conn_close(&pc);
}

static void *probe_thread(void *arg)
{
	/* the namespace is this thread's only, and goes with its sockets */
	if (unshare(CLONE_NEWNET) < 0) {
		mps_log("per-subflow options: no namespace to probe in (%s): "
			"each option's path is learnt on first use",
			strerror(errno));
		return NULL;
	}
	if (lo_up() < 0)
		return NULL;
	probe_family(arg, AF_INET);
	probe_family(arg, AF_INET6);
	return NULL;
}

void mps_sockopt_probe(struct mps_sockopt_caps *caps)
{
	pthread_t t;

	if (pthread_create(&t, NULL, probe_thread, caps) == 0)
		pthread_join(t, NULL);
}
