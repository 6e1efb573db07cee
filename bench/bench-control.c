// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench-control: what opening, closing (gracefully) and re-prioritising a
 * subflow costs through libmpsock, directly and through mpsockd, against
 * the bare netlink command (design.md, "Performance targets", second row;
 * kernel-facts.md Q2).
 *
 * Usage: bench-control [-i ITERS] [-w WARMUP] [-b BLOCK] [-p PAUSE_US]
 *                      [-P FIRST_PORT] [-n PARTS] HOST PORT LOCAL REMOTE
 *
 * Connects to HOST:PORT (an echo server) with IPPROTO_MPTCP, under the
 * userspace path manager, and exchanges data until the connection is fully
 * established.  Then runs cycles on it: open a subflow LOCAL:port ->
 * REMOTE:PORT, make it a backup, make it a regular subflow again, close it
 * with SHUT_RDWR (FIN), pause PAUSE_US.  Each cycle takes the next local
 * port from FIRST_PORT on, in every mode, so that all modes do the same
 * work on fresh 4-tuples (no TIME_WAIT clash).  Four modes:
 *
 *   (1) raw     the bare netlink commands, written here with libmnl, not
 *               ours: one MPTCP_PM_CMD_SUBFLOW_CREATE / SET_FLAGS /
 *               SUBFLOW_DESTROY request on a generic netlink socket opened
 *               once, token and tuple known in advance; timed from the send
 *               to the kernel's ack
 *   (2) direct  mpsock_subflow_open() / mpsock_subflow_set_backup() /
 *               mpsock_subflow_close(SHUT_RDWR) with CAP_NET_ADMIN
 *   (3) broker  the same calls with MPSOCK_USE_BROKER=1: through mpsockd,
 *               which must serve this network namespace
 *   (4) helper  a reference, not part of mpsock: the commands of (1) run
 *               by a forked helper process that the benchmark asks over an
 *               already connected Unix socket, passing its MPTCP socket
 *               (SCM_RIGHTS) and messages of mpsockd's sizes, as a broker
 *               would: a minimal broker, one process hop and nothing else
 *
 * Only the calls are timed.  Between them, untimed, every result is
 * checked with mpsock_subflow_list()/mpsock_subflow_get(): the subflow an
 * open made is listed (under the id open returned) and becomes ESTABLISHED
 * and fully established, its local backup flag follows each change, and a
 * close makes it disappear.  A wrong result stops the run.  In modes (3)
 * and (4) each cycle also times one null request after the close (a
 * request mpsockd refuses without touching the kernel; a no-op for the
 * helper): the process hop alone, in the same conditions as the calls.
 * Modes take turns in blocks of BLOCK cycles, rotating which goes first,
 * so that drift hits them alike; WARMUP untimed cycles per mode come first.
 *
 * Then, to split the library's overhead, its parts are timed on their own,
 * back to back (PARTS times each, interleaved in blocks), while one extra
 * subflow exists: MPTCP_INFO (the token), FULL_INFO (mps_snapshot_take()),
 * opening and closing a generic netlink socket, the GET_ADDR dump of the
 * connection's address table, the privileged-port check of every open
 * (mps_port_privileged(): reads ip_unprivileged_port_start), and the two
 * null requests.
 *
 * Output: one line per mode and operation,
 *   mode=M op=OP n=N p50_us=X p90_us=Y p99_us=Z max_us=W
 * one per part,
 *   part=P n=N p50_us=X p90_us=Y p99_us=Z
 * then a summary with the ratios.  Exit status: 0, 2 on errors or a wrong
 * result, 3 when the connection did not come up in time, 64 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

#include "bench.h"
#include "bench-util.h"

#ifndef SOL_MPTCP
#define SOL_MPTCP 284
#endif
#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

#define MAXSF 16
#define SETTLE_MS 2000 /* for each checked state change */
#define CHECK_POLL_US 100 /* between two checks of a state change */
#define HELPER_REPLY_MS 5000
#define PART_BLOCK 200

enum mode { M_RAW, M_DIRECT, M_BROKER, M_HELPER, M_COUNT };

static const char *const mode_name[M_COUNT] = {
	[M_RAW] = "raw",
	[M_DIRECT] = "direct",
	[M_BROKER] = "broker",
	[M_HELPER] = "helper",
};

/*
 * O_HOP: the null request, timed in modes (3) and (4) only.  O_BACKUP
 * (reports only) merges the on and off samples: "a priority change".
 */
enum op {
	O_OPEN,
	O_BACKUP_ON,
	O_BACKUP_OFF,
	O_CLOSE,
	O_HOP,
	O_COUNT,
	O_BACKUP = O_COUNT,
};

static const char *const op_name[O_COUNT + 1] = {
	[O_OPEN] = "open",
	[O_BACKUP_ON] = "backup_on",
	[O_BACKUP_OFF] = "backup_off",
	[O_CLOSE] = "close",
	[O_HOP] = "null_hop",
	[O_BACKUP] = "backup",
};

enum part {
	P_MPTCP_INFO,
	P_FULL_INFO,
	P_GENL_SOCKET,
	P_GET_ADDR,
	P_PORT_CHECK,
	P_BROKER_NULL,
	P_HELPER_NULL,
	P_COUNT,
};

static const char *const part_name[P_COUNT] = {
	[P_MPTCP_INFO] = "mptcp_info", /* mps_conn_token() */
	[P_FULL_INFO] = "full_info", /* mps_snapshot_take() + release */
	[P_GENL_SOCKET] = "genl_socket", /* mps_genl_open() + close */
	[P_GET_ADDR] = "get_addr", /* mps_pm_local_ids() */
	[P_PORT_CHECK] = "port_check", /* mps_port_privileged() */
	[P_BROKER_NULL] = "broker_null", /* a request mpsockd refuses */
	[P_HELPER_NULL] = "helper_null", /* a no-op for the helper */
};

/* The baseline's own generic netlink socket, opened once. */
struct raw_nl {
	struct mnl_socket *nl;
	unsigned int portid;
	uint32_t seq;
	uint16_t family;
	char msg[256]; /* the kernel's extended-ack text of a failure */
};

/* Mode (4): what the helper is asked; the sizes of mpsockd's messages. */
enum helper_op { H_NULL, H_CREATE, H_BACKUP, H_DESTROY };

struct helper_req {
	uint32_t op;
	uint32_t port; /* local port of the subflow */
	uint32_t backup;
	uint8_t pad[sizeof(struct mps_req) - 12];
};

struct helper_rep {
	int32_t err; /* 0 or -errno */
	char msg[sizeof(struct mps_reply) - 4];
};

struct bench {
	int fd;
	__u32 token;
	__u8 local_id; /* the address id libmpsock picks for LOCAL:port */
	struct sockaddr_storage local; /* port set per cycle */
	struct sockaddr_storage remote;
	socklen_t addrlen;
	unsigned int next_port, cycle;
	unsigned int pause_us;
	struct raw_nl raw;
	int helper_sock; /* mode (4) */
	pid_t helper_pid;
	char helper_msg[sizeof(((struct helper_rep *)0)->msg)];
	uint64_t *samples[M_COUNT][O_COUNT];
	unsigned int nsamples[M_COUNT];
	unsigned int lingered; /* closes still listed at the first check */
};

/* A failed call in a cycle: say which, with every explanation we have. */
static void fail_call(const struct bench *b, enum mode m, const char *op,
		      int err, const char *msg)
{
	fprintf(stderr,
		"bench-control: cycle %u, mode %s, %s (local port %u): "
		"%s%s%s\n",
		b->cycle, mode_name[m], op, b->next_port - 1, strerror(err),
		msg && *msg ? ": " : "", msg ? msg : "");
	exit(2);
}

static void fail_check(const struct bench *b, enum mode m, const char *what)
{
	fprintf(stderr,
		"bench-control: cycle %u, mode %s (local port %u): wrong "
		"result: %s\n",
		b->cycle, mode_name[m], b->next_port - 1, what);
	exit(2);
}

/* ---- (1) the bare netlink commands, libmnl only ---- */

static int raw_extack_cb(const struct nlattr *attr, void *data)
{
	struct raw_nl *r = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		snprintf(r->msg, sizeof(r->msg), "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

static int raw_error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	unsigned int off = sizeof(*e);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
		mnl_attr_parse(nlh, off, raw_extack_cb, data);
	if (e->error) {
		errno = -e->error;
		return MNL_CB_ERROR;
	}
	return MNL_CB_STOP;
}

static mnl_cb_t raw_ctl_cb[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR] = raw_error_cb,
};

/* Send @nlh, read until the ack: 0 or -errno (text in r->msg). */
static int raw_talk(struct raw_nl *r, struct nlmsghdr *nlh, mnl_cb_t cb,
		    void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;
	int ret;

	r->msg[0] = '\0';
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = ++r->seq;
	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(r->nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run2(buf, n, r->seq, r->portid, cb, data,
				  raw_ctl_cb, NLMSG_MIN_TYPE);
	} while (ret == MNL_CB_OK);
	return ret < 0 ? -errno : 0;
}

static struct nlmsghdr *raw_put(void *buf, uint16_t type, uint8_t cmd,
				uint8_t version)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *gh;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	gh = mnl_nlmsg_put_extra_header(nlh, sizeof(*gh));
	gh->cmd = cmd;
	gh->version = version;
	return nlh;
}

static int raw_family_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID &&
	    mnl_attr_validate(attr, MNL_TYPE_U16) == 0)
		*(uint16_t *)data = mnl_attr_get_u16(attr);
	return MNL_CB_OK;
}

static int raw_family_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr),
			      raw_family_attr_cb, data);
}

static void raw_open(struct raw_nl *r)
{
	char buf[256];
	struct nlmsghdr *nlh;
	int one = 1, err;

	memset(r, 0, sizeof(*r));
	r->nl = mnl_socket_open(NETLINK_GENERIC);
	if (!r->nl)
		die("mnl_socket_open(NETLINK_GENERIC)");
	if (mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		die("mnl_socket_bind");
	/* as libmpsock does: the error text, without the echoed request */
	mnl_socket_setsockopt(r->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(r->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	r->portid = mnl_socket_get_portid(r->nl);
	r->seq = (uint32_t)time(NULL);
	nlh = raw_put(buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, MPTCP_PM_NAME);
	err = raw_talk(r, nlh, raw_family_cb, &r->family);
	if (err)
		die_neg("resolving the " MPTCP_PM_NAME " netlink family", err);
	if (!r->family) {
		fprintf(stderr, "bench-control: no " MPTCP_PM_NAME
				" family id in the answer\n");
		exit(2);
	}
}

/* One address nest, with the attributes libmpsock's pm.c puts. */
static void raw_put_addr(struct nlmsghdr *nlh, int type,
			 const struct sockaddr_storage *ss, int id,
			 const uint32_t *flags)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, type);
	uint16_t port;

	mnl_attr_put_u16(nlh, MPTCP_PM_ADDR_ATTR_FAMILY, ss->ss_family);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

		mnl_attr_put(nlh, MPTCP_PM_ADDR_ATTR_ADDR4, 4, &s->sin_addr);
		port = ntohs(s->sin_port);
	} else {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;

		mnl_attr_put(nlh, MPTCP_PM_ADDR_ATTR_ADDR6, 16, &s->sin6_addr);
		port = ntohs(s->sin6_port);
	}
	if (id >= 0)
		mnl_attr_put_u8(nlh, MPTCP_PM_ADDR_ATTR_ID, id);
	mnl_attr_put_u16(nlh, MPTCP_PM_ADDR_ATTR_PORT, port); /* host order */
	if (flags)
		mnl_attr_put_u32(nlh, MPTCP_PM_ADDR_ATTR_FLAGS, *flags);
	mnl_attr_nest_end(nlh, nest);
}

static int raw_create(struct bench *b, const struct sockaddr_storage *local)
{
	char buf[512];
	uint32_t flags = 0;
	struct nlmsghdr *nlh;

	nlh = raw_put(buf, b->raw.family, MPTCP_PM_CMD_SUBFLOW_CREATE,
		      MPTCP_PM_VER);
	mnl_attr_put_u32(nlh, MPTCP_PM_ATTR_TOKEN, b->token);
	raw_put_addr(nlh, MPTCP_PM_ATTR_ADDR, local, b->local_id, &flags);
	raw_put_addr(nlh, MPTCP_PM_ATTR_ADDR_REMOTE, &b->remote, -1, NULL);
	return raw_talk(&b->raw, nlh, NULL, NULL);
}

static int raw_set_backup(struct bench *b, const struct sockaddr_storage *local,
			  bool backup)
{
	char buf[512];
	uint32_t flags = backup ? MPTCP_PM_ADDR_FLAG_BACKUP : 0;
	struct nlmsghdr *nlh;

	nlh = raw_put(buf, b->raw.family, MPTCP_PM_CMD_SET_FLAGS, MPTCP_PM_VER);
	mnl_attr_put_u32(nlh, MPTCP_PM_ATTR_TOKEN, b->token);
	raw_put_addr(nlh, MPTCP_PM_ATTR_ADDR, local, -1, &flags);
	raw_put_addr(nlh, MPTCP_PM_ATTR_ADDR_REMOTE, &b->remote, -1, NULL);
	return raw_talk(&b->raw, nlh, NULL, NULL);
}

static int raw_destroy(struct bench *b, const struct sockaddr_storage *local)
{
	char buf[512];
	struct nlmsghdr *nlh;

	nlh = raw_put(buf, b->raw.family, MPTCP_PM_CMD_SUBFLOW_DESTROY,
		      MPTCP_PM_VER);
	mnl_attr_put_u32(nlh, MPTCP_PM_ATTR_TOKEN, b->token);
	raw_put_addr(nlh, MPTCP_PM_ATTR_ADDR, local, -1, NULL);
	raw_put_addr(nlh, MPTCP_PM_ATTR_ADDR_REMOTE, &b->remote, -1, NULL);
	return raw_talk(&b->raw, nlh, NULL, NULL);
}

/* ---- checks, untimed, through the library's read side ---- */

static bool sa_equal(const struct sockaddr_storage *a,
		     const struct sockaddr_storage *b)
{
	struct sockaddr_storage x = *a, y = *b;

	mps_addr_unmap(&x);
	mps_addr_unmap(&y);
	return mps_addr_equal(&x, &y, true);
}

static unsigned int sa_port(const struct sockaddr_storage *ss)
{
	return ntohs(mps_addr_port(ss));
}

static long ms_since(uint64_t t0)
{
	return (long)((now_ns() - t0) / 1000000);
}

/*
 * The subflow the open in this cycle made: listed with @local and the
 * remote address, under @id when the library told us one; waits until it
 * is ESTABLISHED and fully established.  Returns its id.
 */
static __u32 check_opened(struct bench *b, enum mode m,
			  const struct sockaddr_storage *local, __u32 id)
{
	struct mpsock_subflow sf[MAXSF];
	uint64_t t0 = now_ns();
	char what[160];
	int n, i, found;

	for (;;) {
		n = mpsock_subflow_list(b->fd, sf, MAXSF);
		if (n < 0)
			die("mpsock_subflow_list");
		for (i = 0, found = -1; i < n && i < MAXSF && found < 0; i++)
			if (sa_equal(&sf[i].local, local))
				found = i;
		if (found >= 0) {
			if (!sa_equal(&sf[found].remote, &b->remote))
				fail_check(b, m,
					   "the new subflow has another "
					   "remote address");
			if (id && sf[found].id != id) {
				snprintf(what, sizeof(what),
					 "open returned id %u, the subflow "
					 "from port %u has id %u",
					 id, sa_port(local), sf[found].id);
				fail_check(b, m, what);
			}
			if (sf[found].state == TCP_ESTABLISHED &&
			    (sf[found].flags &
			     MPSOCK_SUBFLOW_FULLY_ESTABLISHED))
				return sf[found].id;
		}
		if (ms_since(t0) > SETTLE_MS) {
			if (found >= 0)
				snprintf(what, sizeof(what),
					 "subflow %u (state %u, flags 0x%x) "
					 "not fully established after %d ms",
					 sf[found].id, sf[found].state,
					 sf[found].flags, SETTLE_MS);
			else
				snprintf(what, sizeof(what),
					 "no subflow listed from port %u "
					 "after %d ms",
					 sa_port(local), SETTLE_MS);
			fail_check(b, m, what);
		}
		sleep_us(CHECK_POLL_US);
	}
}

static void check_backup(struct bench *b, enum mode m, __u32 id, bool want)
{
	struct mpsock_subflow sf;
	uint64_t t0 = now_ns();
	char what[128];
	bool is;

	for (;;) {
		if (mpsock_subflow_get(b->fd, id, &sf) < 0)
			die("mpsock_subflow_get (backup check)");
		is = sf.flags & MPSOCK_SUBFLOW_BACKUP_LOCAL;
		if ((sf.flags & MPSOCK_SUBFLOW_FLAGS_KNOWN) && is == want)
			return;
		if (ms_since(t0) > SETTLE_MS) {
			snprintf(what, sizeof(what),
				 "subflow %u: local backup flag %s after "
				 "%d ms, wanted %s (flags 0x%x)",
				 id, is ? "set" : "clear", SETTLE_MS,
				 want ? "set" : "clear", sf.flags);
			fail_check(b, m, what);
		}
		sleep_us(CHECK_POLL_US);
	}
}

static void check_gone(struct bench *b, enum mode m, __u32 id)
{
	struct mpsock_subflow sf;
	uint64_t t0 = now_ns();
	char what[96];
	bool first = true;

	for (;;) {
		if (mpsock_subflow_get(b->fd, id, &sf) < 0) {
			if (errno != ESRCH)
				die("mpsock_subflow_get (close check)");
			return;
		}
		if (first)
			b->lingered++;
		first = false;
		if (ms_since(t0) > SETTLE_MS) {
			snprintf(what, sizeof(what),
				 "subflow %u still listed (state %u) %d ms "
				 "after its close",
				 id, sf.state, SETTLE_MS);
			fail_check(b, m, what);
		}
		sleep_us(CHECK_POLL_US);
	}
}

/* ---- (4) the helper process: the bare commands one process hop away ---- */

/* The helper's loop: one request, the command, the socket closed, a reply. */
static void helper_main(struct bench *b, int s)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct sockaddr_storage local;
	struct helper_req req;
	struct helper_rep rep;
	struct iovec iov = {.iov_base = &req, .iov_len = sizeof(req)};
	struct msghdr mh;
	struct cmsghdr *c;
	ssize_t n;
	int fd;

	close(b->fd); /* like mpsockd, hold the connection only per request */
	mnl_socket_close(b->raw.nl);
	raw_open(&b->raw);
	for (;;) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC);
		if (n <= 0)
			_exit(n < 0);
		c = CMSG_FIRSTHDR(&mh);
		if (n != sizeof(req) || !c || c->cmsg_type != SCM_RIGHTS)
			_exit(1);
		memcpy(&fd, CMSG_DATA(c), sizeof(fd));
		local = b->local;
		mps_addr_set_port(&local, htons(req.port));
		memset(&rep, 0, sizeof(rep));
		switch (req.op) {
		case H_NULL:
			break;
		case H_CREATE:
			rep.err = raw_create(b, &local);
			break;
		case H_BACKUP:
			rep.err = raw_set_backup(b, &local, req.backup);
			break;
		case H_DESTROY:
			rep.err = raw_destroy(b, &local);
			break;
		default:
			rep.err = -EINVAL;
		}
		close(fd);
		if (rep.err) /* the kernel's text, cut to mpsockd's size */
			memcpy(rep.msg, b->raw.msg,
			       strnlen(b->raw.msg, sizeof(rep.msg) - 1));
		if (send(s, &rep, sizeof(rep), MSG_NOSIGNAL) != sizeof(rep))
			_exit(1);
	}
}

static void helper_start(struct bench *b)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair");
	fflush(NULL);
	b->helper_pid = fork();
	if (b->helper_pid < 0)
		die("fork");
	if (b->helper_pid == 0) {
		close(sv[0]);
		helper_main(b, sv[1]);
	}
	close(sv[1]);
	b->helper_sock = sv[0];
}

/* The helper sees its socket closed, and exits. */
static void helper_stop(struct bench *b)
{
	int status;

	close(b->helper_sock);
	if (waitpid(b->helper_pid, &status, 0) < 0)
		die("waitpid (helper)");
}

/* One request to the helper, as mps_broker_call() makes one: 0 or -errno. */
static int helper_call(struct bench *b, enum helper_op op, unsigned int port,
		       bool backup)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct helper_req req;
	struct helper_rep rep;
	struct iovec iov = {.iov_base = &req, .iov_len = sizeof(req)};
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct pollfd pfd = {.fd = b->helper_sock, .events = POLLIN};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	int r;

	memset(&req, 0, sizeof(req));
	req.op = op;
	req.port = port;
	req.backup = backup;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &b->fd, sizeof(int));
	b->helper_msg[0] = '\0';
	if (sendmsg(b->helper_sock, &mh, MSG_NOSIGNAL) != sizeof(req))
		return -errno;
	do
		r = poll(&pfd, 1, HELPER_REPLY_MS);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return r ? -errno : -ETIMEDOUT;
	if (recv(b->helper_sock, &rep, sizeof(rep), 0) != sizeof(rep))
		return -EPROTO; /* the helper died: its message is above */
	memcpy(b->helper_msg, rep.msg, sizeof(b->helper_msg));
	b->helper_msg[sizeof(b->helper_msg) - 1] = '\0';
	return rep.err;
}

/* ---- one cycle ---- */

static void set_use_broker(bool on)
{
	if (on ? setenv("MPSOCK_USE_BROKER", "1", 1)
	       : unsetenv("MPSOCK_USE_BROKER"))
		die("setenv(MPSOCK_USE_BROKER)");
}

/* The explanation of a failed call in mode @m. */
static const char *mode_msg(const struct bench *b, enum mode m)
{
	switch (m) {
	case M_RAW:
		return b->raw.msg;
	case M_HELPER:
		return b->helper_msg;
	default:
		return mpsock_errmsg();
	}
}

static uint64_t op_open(struct bench *b, enum mode m,
			const struct sockaddr_storage *local, __u32 *id)
{
	uint64_t t0, t1;
	int r;

	*id = 0;
	t0 = now_ns();
	if (m == M_RAW)
		r = raw_create(b, local);
	else if (m == M_HELPER)
		r = helper_call(b, H_CREATE, sa_port(local), false);
	else
		r = mpsock_subflow_open(b->fd, (const struct sockaddr *)local,
					(const struct sockaddr *)&b->remote,
					b->addrlen, 0, id) < 0
			    ? -errno
			    : 0;
	t1 = now_ns();
	if (r)
		fail_call(b, m, "open", -r, mode_msg(b, m));
	if ((m == M_DIRECT || m == M_BROKER) && !*id)
		fail_check(b, m, "open succeeded without an id");
	return t1 - t0;
}

static uint64_t op_backup(struct bench *b, enum mode m,
			  const struct sockaddr_storage *local, __u32 id,
			  bool backup)
{
	uint64_t t0, t1;
	int r;

	t0 = now_ns();
	if (m == M_RAW)
		r = raw_set_backup(b, local, backup);
	else if (m == M_HELPER)
		r = helper_call(b, H_BACKUP, sa_port(local), backup);
	else
		r = mpsock_subflow_set_backup(b->fd, id, backup) < 0 ? -errno
								     : 0;
	t1 = now_ns();
	if (r)
		fail_call(b, m, backup ? "backup on" : "backup off", -r,
			  mode_msg(b, m));
	return t1 - t0;
}

static uint64_t op_close(struct bench *b, enum mode m,
			 const struct sockaddr_storage *local, __u32 id)
{
	uint64_t t0, t1;
	int r;

	t0 = now_ns();
	if (m == M_RAW)
		r = raw_destroy(b, local);
	else if (m == M_HELPER)
		r = helper_call(b, H_DESTROY, sa_port(local), false);
	else
		r = mpsock_subflow_close(b->fd, id, SHUT_RDWR) < 0 ? -errno : 0;
	t1 = now_ns();
	if (r)
		fail_call(b, m, "close", -r, mode_msg(b, m));
	return t1 - t0;
}

static void helper_null(struct bench *b)
{
	int err = helper_call(b, H_NULL, 0, false);

	if (err)
		die_neg("null request to the helper", err);
}

/* The process hop alone, timed where the calls are: after a check. */
static uint64_t op_hop(struct bench *b, enum mode m)
{
	uint64_t t0;

	sleep_us(CHECK_POLL_US);
	t0 = now_ns();
	if (m == M_BROKER)
		broker_null(b->fd);
	else
		helper_null(b);
	return now_ns() - t0;
}

static void cycle(struct bench *b, enum mode m, bool timed)
{
	struct sockaddr_storage local = b->local;
	uint64_t t[O_COUNT] = {0};
	__u32 id;
	unsigned int k;

	mps_addr_set_port(&local, htons(b->next_port++));
	t[O_OPEN] = op_open(b, m, &local, &id);
	id = check_opened(b, m, &local, id);
	t[O_BACKUP_ON] = op_backup(b, m, &local, id, true);
	check_backup(b, m, id, true);
	t[O_BACKUP_OFF] = op_backup(b, m, &local, id, false);
	check_backup(b, m, id, false);
	t[O_CLOSE] = op_close(b, m, &local, id);
	check_gone(b, m, id);
	if (m == M_BROKER || m == M_HELPER)
		t[O_HOP] = op_hop(b, m);
	if (timed) {
		for (k = 0; k < O_COUNT; k++)
			b->samples[m][k][b->nsamples[m]] = t[k];
		b->nsamples[m]++;
	}
	b->cycle++;
	sleep_us(b->pause_us);
}

/* ---- the connection ---- */

/*
 * The address id libmpsock gives LOCAL:port when the connection's table
 * has no entry for it: the lowest free one (lib/op/subflow_ctrl.c, local_id_for()).
 * Destroying a subflow deletes its entry (Q2), so it is the same in every
 * cycle; the raw CREATE uses it too.
 */
static void pick_local_id(struct bench *b)
{
	struct mps_local_id tab[64];
	bool used[256] = {false};
	struct mps_genl g;
	int n, i, err;

	err = mps_genl_open(&g);
	if (err)
		die_neg("mps_genl_open", err);
	n = mps_pm_local_ids(&g, b->token, tab, 64, NULL, 0);
	mps_genl_close(&g);
	if (n < 0)
		die_neg("GET_ADDR (the connection's address table)", n);
	for (i = 0; i < n; i++)
		used[tab[i].id] = true;
	for (i = 1; i < 256 && used[i]; i++)
		;
	if (i == 256) {
		fprintf(stderr, "bench-control: no free address id\n");
		exit(2);
	}
	b->local_id = i;
}

/* ---- the parts of the overhead, back to back ---- */

struct parts {
	struct bench *b;
	struct mps_genl g; /* open, for the GET_ADDR dump */
};

static void part_call(struct parts *p, enum part k)
{
	struct mps_local_id tab[64];
	struct mps_snapshot snap;
	struct mps_genl g;
	__u32 token;
	int err;

	switch (k) {
	case P_MPTCP_INFO:
		err = mps_conn_token(p->b->fd, &token);
		if (err || token != p->b->token)
			die_neg("mps_conn_token", err ? err : -EPROTO);
		break;
	case P_FULL_INFO:
		err = mps_snapshot_take(p->b->fd, &snap);
		if (err || snap.count != 2)
			die_neg("mps_snapshot_take", err ? err : -EPROTO);
		mps_snapshot_release(&snap);
		break;
	case P_GENL_SOCKET:
		err = mps_genl_open(&g);
		if (err)
			die_neg("mps_genl_open", err);
		mps_genl_close(&g);
		break;
	case P_GET_ADDR:
		err = mps_pm_local_ids(&p->g, p->b->token, tab, 64, NULL, 0);
		if (err < 0)
			die_neg("mps_pm_local_ids", err);
		break;
	case P_PORT_CHECK:
		if (mps_port_privileged(htons(p->b->next_port))) {
			fprintf(stderr, "bench-control: port %u privileged?\n",
				p->b->next_port);
			exit(2);
		}
		break;
	case P_BROKER_NULL:
		broker_null(p->b->fd);
		break;
	case P_HELPER_NULL:
		helper_null(p->b);
		break;
	case P_COUNT:
		break;
	}
}

static void measure_parts(struct bench *b, unsigned int iters,
			  uint64_t *samples[P_COUNT])
{
	struct sockaddr_storage local = b->local;
	struct parts p = {.b = b};
	unsigned int k, i, done, chunk;
	uint64_t t0;
	int err;

	err = mps_genl_open(&p.g);
	if (err)
		die_neg("mps_genl_open", err);
	/* one extra subflow, as while a control call runs */
	mps_addr_set_port(&local, htons(b->next_port++));
	err = raw_create(b, &local);
	if (err)
		fail_call(b, M_RAW, "open (parts)", -err, b->raw.msg);
	check_opened(b, M_RAW, &local, 0);

	for (k = 0; k < P_COUNT; k++)
		for (i = 0; i < iters / 10 + 1; i++)
			part_call(&p, k);
	for (done = 0; done < iters; done += chunk) {
		chunk = iters - done < PART_BLOCK ? iters - done : PART_BLOCK;
		for (k = 0; k < P_COUNT; k++) {
			for (i = 0; i < chunk; i++) {
				t0 = now_ns();
				part_call(&p, k);
				samples[k][done + i] = now_ns() - t0;
			}
		}
	}

	err = raw_destroy(b, &local);
	if (err)
		fail_call(b, M_RAW, "close (parts)", -err, b->raw.msg);
	mps_genl_close(&p.g);
}

/* ---- statistics and report ---- */

static void run_cycles(struct bench *b, unsigned int iters, unsigned int warmup,
		       unsigned int block)
{
	unsigned int round, j, i, n, done, total;
	enum mode m;
	bool timed;

	/* warm-up first, then the timed cycles, both in rotating blocks */
	for (total = warmup, timed = false;; total = iters, timed = true) {
		for (round = 0, done = 0; done < total; round++, done += n) {
			n = total - done < block ? total - done : block;
			for (j = 0; j < M_COUNT; j++) {
				m = (round + j) % M_COUNT;
				set_use_broker(m == M_BROKER);
				for (i = 0; i < n; i++)
					cycle(b, m, timed);
			}
			set_use_broker(false);
			/* the connection itself still works */
			echo_once(b->fd);
		}
		if (timed)
			break;
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench-control [-i ITERS] [-w WARMUP] [-b BLOCK] "
		"[-p PAUSE_US] [-P FIRST_PORT] [-n PARTS]\n"
		"                     HOST PORT LOCAL REMOTE\n");
	exit(64);
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

static void print_stats(const char *key, const char *name,
			const struct stats *s)
{
	printf("%s op=%s n=%u p50_us=%.1f p90_us=%.1f p99_us=%.1f "
	       "max_us=%.1f\n",
	       key, name, s->n, s->p50, s->p90, s->p99, s->max);
}

/* The three operations of the summary. */
static const enum op shown[3] = {O_OPEN, O_BACKUP, O_CLOSE};

static void report_table(struct stats st[M_COUNT][O_COUNT + 1],
			 unsigned int iters)
{
	char cell[M_COUNT][32], key[32];
	unsigned int j;
	enum mode m;
	enum op o;
	double r;

	printf("\nsummary: %u timed cycles per mode; median (p90 / p99) in "
	       "microseconds\n",
	       iters);
	printf("  %-6s %-19s %-19s %-19s %-19s %7s %7s %7s %7s\n", "op",
	       "(1) raw netlink", "(2) lib direct", "(3) lib+mpsockd",
	       "(4) raw+helper", "(2)/(1)", "(3)/(1)", "(3)/(2)", "(4)/(1)");
	for (j = 0; j < 3; j++) {
		o = shown[j];
		for (m = 0; m < M_COUNT; m++)
			snprintf(cell[m], sizeof(cell[m]), "%.1f (%.0f / %.0f)",
				 st[m][o].p50, st[m][o].p90, st[m][o].p99);
		printf("  %-6s %-19s %-19s %-19s %-19s %7.2f %7.2f %7.2f "
		       "%7.2f\n",
		       op_name[o], cell[M_RAW], cell[M_DIRECT], cell[M_BROKER],
		       cell[M_HELPER],
		       ratio(st[M_DIRECT][o].p50, st[M_RAW][o].p50),
		       ratio(st[M_BROKER][o].p50, st[M_RAW][o].p50),
		       ratio(st[M_BROKER][o].p50, st[M_DIRECT][o].p50),
		       ratio(st[M_HELPER][o].p50, st[M_RAW][o].p50));
	}
	printf("  (backup = backup_on and backup_off samples together; (4) is "
	       "a reference, not mpsock)\n");
	printf("\ntarget (design.md): open / close / backup through the broker "
	       "at most 1.30x the bare netlink command\n");
	for (j = 0; j < 3; j++) {
		o = shown[j];
		r = ratio(st[M_BROKER][o].p50, st[M_RAW][o].p50);
		snprintf(key, sizeof(key), "%.2f", r);
		printf("  %-6s (3)/(1) = %5s  %-4s   [a minimal broker, "
		       "(4)/(1) = %.2f]\n",
		       op_name[o], key, r <= 1.30 ? "ok" : "MISS",
		       ratio(st[M_HELPER][o].p50, st[M_RAW][o].p50));
	}
}

static void report_split(struct stats st[M_COUNT][O_COUNT + 1],
			 const struct stats ps[P_COUNT])
{
	double lib, d21, d32, d41, hop3, hop4;
	unsigned int j;
	enum op o;

	hop3 = st[M_BROKER][O_HOP].p50;
	hop4 = st[M_HELPER][O_HOP].p50;
	printf("\nwhere the time goes (differences of medians, us)\n");
	printf("  %-6s %9s %10s   %9s %9s %9s   %9s %9s %9s\n", "op", "(2)-(1)",
	       "lib parts", "(3)-(2)", "null hop", "rest", "(4)-(1)",
	       "null hop", "rest");
	for (j = 0; j < 3; j++) {
		o = shown[j];
		/*
		 * What each library call does besides the command (op/dispatch.c,
		 * op/subflow_ctrl.c): open: the port check, MPTCP_INFO, FULL_INFO, a
		 * genl socket, GET_ADDR, FULL_INFO; close and backup:
		 * MPTCP_INFO, FULL_INFO, a genl socket.
		 */
		lib = ps[P_MPTCP_INFO].p50 + ps[P_FULL_INFO].p50 +
		      ps[P_GENL_SOCKET].p50;
		if (o == O_OPEN)
			lib += ps[P_PORT_CHECK].p50 + ps[P_GET_ADDR].p50 +
			       ps[P_FULL_INFO].p50;
		d21 = st[M_DIRECT][o].p50 - st[M_RAW][o].p50;
		d32 = st[M_BROKER][o].p50 - st[M_DIRECT][o].p50;
		d41 = st[M_HELPER][o].p50 - st[M_RAW][o].p50;
		printf("  %-6s %9.1f %10.1f   %9.1f %9.1f %9.1f   %9.1f %9.1f "
		       "%9.1f\n",
		       op_name[o], d21, lib, d32, hop3, d32 - hop3, d41, hop4,
		       d41 - hop4);
	}
	printf("  (2)-(1): the library's own work; \"lib parts\" adds up its "
	       "pieces timed back to back:\n"
	       "    open = port check + MPTCP_INFO + 2 x FULL_INFO + genl socket"
	       " + GET_ADDR,\n"
	       "    close and backup = MPTCP_INFO + FULL_INFO + genl socket\n");
	printf("  (3)-(2), (4)-(1): the process hop; \"null hop\" = median of "
	       "the null request timed in each cycle,\n"
	       "    \"rest\" = what remains: the command costing more when "
	       "another process issues it\n"
	       "    (scheduling: the wake-ups it causes, the other CPU)\n");
	printf("  parts, back to back, median (p90): MPTCP_INFO %.2f (%.2f), "
	       "FULL_INFO %.2f (%.2f), genl socket open+close %.2f (%.2f),\n"
	       "    GET_ADDR dump %.2f (%.2f), port check %.2f (%.2f), "
	       "null request to mpsockd %.2f (%.2f),\n"
	       "    null request to the helper %.2f (%.2f)\n",
	       ps[P_MPTCP_INFO].p50, ps[P_MPTCP_INFO].p90, ps[P_FULL_INFO].p50,
	       ps[P_FULL_INFO].p90, ps[P_GENL_SOCKET].p50,
	       ps[P_GENL_SOCKET].p90, ps[P_GET_ADDR].p50, ps[P_GET_ADDR].p90,
	       ps[P_PORT_CHECK].p50, ps[P_PORT_CHECK].p90,
	       ps[P_BROKER_NULL].p50, ps[P_BROKER_NULL].p90,
	       ps[P_HELPER_NULL].p50, ps[P_HELPER_NULL].p90);
}

static void report(struct bench *b, unsigned int iters, unsigned int parts_n,
		   uint64_t *parts[P_COUNT])
{
	struct stats st[M_COUNT][O_COUNT + 1], ps[P_COUNT];
	char key[32];
	uint64_t *merged;
	unsigned int k;
	enum mode m;

	merged = calloc(2 * (size_t)iters, sizeof(*merged));
	if (!merged)
		die("calloc");
	for (m = 0; m < M_COUNT; m++) {
		/* the merged backup figure, before the sort below */
		memcpy(merged, b->samples[m][O_BACKUP_ON],
		       iters * sizeof(*merged));
		memcpy(merged + iters, b->samples[m][O_BACKUP_OFF],
		       iters * sizeof(*merged));
		st[m][O_BACKUP] = stats_of(merged, 2 * iters);
		for (k = 0; k < O_COUNT; k++)
			st[m][k] = stats_of(b->samples[m][k], iters);
	}
	free(merged);
	for (m = 0; m < M_COUNT; m++) {
		snprintf(key, sizeof(key), "mode=%s", mode_name[m]);
		for (k = 0; k < 3; k++)
			print_stats(key, op_name[shown[k]], &st[m][shown[k]]);
		print_stats(key, op_name[O_BACKUP_ON], &st[m][O_BACKUP_ON]);
		print_stats(key, op_name[O_BACKUP_OFF], &st[m][O_BACKUP_OFF]);
		if (m == M_BROKER || m == M_HELPER)
			print_stats(key, op_name[O_HOP], &st[m][O_HOP]);
	}
	for (k = 0; k < P_COUNT; k++) {
		ps[k] = stats_of(parts[k], parts_n);
		printf("part=%s n=%u p50_us=%.2f p90_us=%.2f p99_us=%.2f\n",
		       part_name[k], parts_n, ps[k].p50, ps[k].p90, ps[k].p99);
	}
	report_table(st, iters);
	report_split(st, ps);
	printf("  closes still listed at the first check after the call: "
	       "%u of %u\n",
	       b->lingered, b->cycle);
}

int main(int argc, char **argv)
{
	unsigned int iters = 300, warmup = 20, block = 10, parts_n = 2000;
	unsigned int first_port = 40000, port, k, need;
	uint64_t *parts[P_COUNT];
	struct bench *b;
	uint64_t t0;
	enum mode m;
	int opt;

	b = calloc(1, sizeof(*b));
	if (!b)
		die("calloc");
	b->pause_us = 2000;
	while ((opt = getopt(argc, argv, "i:w:b:p:P:n:")) != -1) {
		switch (opt) {
		case 'i':
			iters = parse_uint(optarg, 100000, usage);
			break;
		case 'w':
			warmup = parse_uint(optarg, 100000, usage);
			break;
		case 'b':
			block = parse_uint(optarg, 100000, usage);
			break;
		case 'p':
			b->pause_us = parse_uint(optarg, 10000000, usage);
			break;
		case 'P':
			first_port = parse_uint(optarg, 65535, usage);
			break;
		case 'n':
			parts_n = parse_uint(optarg, 10000000, usage);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 4 || !iters || !block || !parts_n ||
	    first_port < 1024)
		usage();
	/* every cycle and the parts' subflow take a fresh local port */
	need = (iters + warmup) * M_COUNT + 1;
	if (first_port + need > 65536) {
		fprintf(stderr,
			"bench-control: %u subflows need local ports %u..%u: "
			"lower -P, -i or -w\n",
			need, first_port, first_port + need - 1);
		exit(64);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	set_use_broker(false);

	port = parse_uint(argv[optind + 1], 65535, usage);
	parse_addr(argv[optind + 2], 0, &b->local, &b->addrlen);
	parse_addr(argv[optind + 3], port, &b->remote, &b->addrlen);
	if (b->local.ss_family != b->remote.ss_family)
		usage();
	b->next_port = first_port;
	for (m = 0; m < M_COUNT; m++) {
		for (k = 0; k < O_COUNT; k++) {
			b->samples[m][k] = calloc(iters, sizeof(uint64_t));
			if (!b->samples[m][k])
				die("calloc");
		}
	}
	for (k = 0; k < P_COUNT; k++) {
		parts[k] = calloc(parts_n, sizeof(uint64_t));
		if (!parts[k])
			die("calloc");
	}

	t0 = now_ns();
	b->fd = connect_mptcp(argv[optind], argv[optind + 1]);
	b->token = wait_fully_established(b->fd, t0, NULL);
	raw_open(&b->raw);
	pick_local_id(b);
	helper_start(b);
	/* fail now, not in the middle, when no mpsockd serves us */
	broker_null(b->fd);
	printf("# subflows %s:%u.. -> %s:%u, address id %u, %u timed cycles "
	       "per mode after %u warm-up, blocks of %u, %u us pause\n",
	       argv[optind + 2], first_port, argv[optind + 3], port,
	       b->local_id, iters, warmup, block, b->pause_us);

	run_cycles(b, iters, warmup, block);
	measure_parts(b, parts_n, parts);
	echo_once(b->fd);

	report(b, iters, parts_n, parts);

	helper_stop(b);
	mnl_socket_close(b->raw.nl);
	close(b->fd);
	for (m = 0; m < M_COUNT; m++)
		for (k = 0; k < O_COUNT; k++)
			free(b->samples[m][k]);
	for (k = 0; k < P_COUNT; k++)
		free(parts[k]);
	free(b);
	return 0;
}
