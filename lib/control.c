// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The native control API.  A process holding CAP_NET_ADMIN talks to the
 * kernel itself; any other process asks mpsockd, passing its own socket.
 * MPSOCK_USE_BROKER=1 sends a privileged process through mpsockd too.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <libmnl/libmnl.h>

#include "broker_proto.h"
#include "internal.h"

/* The longest open-and-wait mpsockd accepts; a caller's -1 means this. */
#define OPEN_WAIT_MAX_MS 120000

static _Thread_local char last_msg[MPS_MSG_LEN];

const char *mpsock_errmsg(void)
{
	return last_msg;
}

/* Keep the explanation of a failure for mpsock_errmsg() and the log. */
static int control_result(int err, const char *what, const char *msg)
{
	snprintf(last_msg, sizeof(last_msg), "%s", err ? msg : "");
	if (err)
		mps_log("%s: %s%s%s", what, strerror(-err), *msg ? ": " : "",
			msg);
	return err ? mps_fail(err) : 0;
}

bool mps_have_cap(int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return false;
	return data[cap / 32].effective & (1u << (cap % 32));
}

bool mps_have_net_admin(void)
{
	const char *env = getenv("MPSOCK_USE_BROKER");

	if (env && *env && *env != '0')
		return false;
	return mps_have_cap(CAP_NET_ADMIN);
}

/*
 * Section 5 of the draft: a subflow on a privileged local port only for a
 * caller that could bind that port itself.  mpsockd checks its callers the
 * same way.
 */
int mps_port_privileged(__be16 port)
{
	FILE *f;
	int first = 1024;

	if (!port)
		return 0; /* the kernel picks an unprivileged one */
	f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "re");
	if (f) {
		if (fscanf(f, "%d", &first) != 1)
			first = 1024;
		fclose(f);
	}
	return port && ntohs(port) < first;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

struct wait_ctx {
	const struct mps_ctrl_result *res;
	int outcome;
};

static int wait_event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct wait_ctx *w = data;
	struct mps_event ev;

	if (mps_event_parse(nlh, &ev) == 0 && !w->outcome)
		w->outcome = mps_event_open_outcome(
			&ev, w->res->token, &w->res->local, &w->res->remote);
	return MNL_CB_OK;
}

/*
 * Wait on the events socket @ev (subscribed before the subflow was
 * created, so nothing is missed) for the outcome of the open in @res.
 */
static int direct_wait(struct mps_genl *ev, struct mps_ctrl_result *res,
		       int timeout_ms)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct wait_ctx w = {.res = res};
	long deadline = now_ms() + timeout_ms;
	struct pollfd pfd = {.fd = mnl_socket_get_fd(ev->nl), .events = POLLIN};
	ssize_t n;
	int r;

	while (!w.outcome) {
		long left = deadline - now_ms();

		if (left <= 0)
			return -ETIME; /* ours, not the kernel's SYN timeout */
		r = poll(&pfd, 1, left);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		n = mnl_socket_recvfrom(ev->nl, buf, sizeof(buf));
		if (n < 0)
			return errno == ENOBUFS ? -EIO : -errno;
		mnl_cb_run(buf, n, 0, 0, wait_event_cb, &w);
	}
	return w.outcome > 0 ? 0 : w.outcome;
}

/* Give up on a subflow still connecting (a SYN_SENT subflow is cancelled). */
static void cancel_open(const struct mps_ctrl_result *res)
{
	struct mps_genl *g;
	char msg[MPS_MSG_LEN];

	if (!res->id || mps_genl_cached(&g))
		return;
	mps_pm_subflow_destroy(g, res->token, &res->local, &res->remote, msg,
			       sizeof(msg));
}

static int direct_open(int fd, const struct sockaddr_storage *l,
		       const struct sockaddr_storage *r, unsigned int how,
		       int timeout_ms, struct mps_ctrl_result *res)
{
	struct mps_genl ev;
	int err;

	if (timeout_ms == 0)
		return mps_ctrl_open(fd, l, r, how, res);
	err = mps_genl_open(&ev);
	if (err)
		return err;
	err = mps_events_subscribe(&ev);
	if (!err)
		err = mps_ctrl_open(fd, l, r, how, res);
	/* gone before we saw its port: its SUB_CLOSED tells why */
	if (!err || (err == -ECONNREFUSED && !res->id)) {
		err = direct_wait(&ev, res, timeout_ms);
		if (err && err != -ETIME)
			snprintf(res->msg, sizeof(res->msg), "%s",
				 mps_event_error_msg(err));
	}
	if (err == -ETIME) {
		snprintf(res->msg, sizeof(res->msg),
			 "not established within %d ms: cancelled", timeout_ms);
		cancel_open(res);
		err = -ETIMEDOUT;
	}
	mps_genl_close(&ev);
	return err;
}

static int broker_open(int fd, const struct sockaddr_storage *l,
		       const struct sockaddr_storage *r, unsigned int how,
		       int timeout_ms, struct mps_ctrl_result *res)
{
	struct mps_reply rep;
	struct mps_req req;
	int err;

	memset(&req, 0, sizeof(req));
	req.type = MPS_REQ_OPEN;
	req.open.local = *l;
	req.open.remote = *r;
	req.open.flags =
		(how & MPS_CTRL_OPEN_BACKUP ? MPS_OPEN_F_BACKUP : 0) |
		(how & MPS_CTRL_OPEN_UNBOUND ? MPS_OPEN_F_UNBOUND : 0) |
		(timeout_ms ? MPS_OPEN_F_WAIT : 0);
	req.open.timeout_ms = timeout_ms;
	err = mps_broker_call(fd, &req, &rep, timeout_ms);
	res->id = rep.id;
	snprintf(res->msg, sizeof(res->msg), "%s", rep.msg);
	return err;
}

static int control_open(int fd, const struct sockaddr *local,
			const struct sockaddr *remote, socklen_t addrlen,
			unsigned int flags, int timeout_ms, __u32 *id)
{
	struct sockaddr_storage l, r;
	struct mps_ctrl_result res;
	unsigned int how;
	int err;

	memset(&res, 0, sizeof(res));
	if (flags & ~(MPSOCK_OPEN_BACKUP | MPSOCK_OPEN_UNBOUND))
		return control_result(-EINVAL, "open", "unknown flags");
	how = (flags & MPSOCK_OPEN_BACKUP ? MPS_CTRL_OPEN_BACKUP : 0) |
	      (flags & MPSOCK_OPEN_UNBOUND ? MPS_CTRL_OPEN_UNBOUND : 0);
	err = mps_ctrl_check_open_args(local, remote, addrlen, &l, &r);
	if (err)
		return control_result(err, "open", "bad address arguments");
	if (timeout_ms < 0 || timeout_ms > OPEN_WAIT_MAX_MS)
		timeout_ms = OPEN_WAIT_MAX_MS;
	if (mps_have_net_admin()) {
		if (mps_port_privileged(mps_addr_port(&l)) &&
		    !mps_have_cap(CAP_NET_BIND_SERVICE))
			return control_result(-EACCES, "open",
					      "a privileged local port needs "
					      "CAP_NET_BIND_SERVICE");
		mps_mode_claim(fd);
		err = direct_open(fd, &l, &r, how, timeout_ms, &res);
	} else {
		err = broker_open(fd, &l, &r, how, timeout_ms, &res);
	}
	if (res.id && id)
		*id = res.id;
	return control_result(err, "open", res.msg);
}

int mpsock_subflow_open(int fd, const struct sockaddr *local,
			const struct sockaddr *remote, socklen_t addrlen,
			unsigned int flags, __u32 *id)
{
	return control_open(fd, local, remote, addrlen, flags, 0, id);
}

int mpsock_subflow_open_wait(int fd, const struct sockaddr *local,
			     const struct sockaddr *remote, socklen_t addrlen,
			     unsigned int flags, int timeout_ms, __u32 *id)
{
	/* 0 would mean "do not wait" on the wire */
	if (timeout_ms == 0)
		timeout_ms = 1;
	return control_open(fd, local, remote, addrlen, flags, timeout_ms, id);
}

/*
 * A close or backup request, carried out here with CAP_NET_ADMIN or by
 * mpsockd: the same request either way (mps_ctrl_execute()).
 */
static int control_request(int fd, struct mps_req *req, const char *what)
{
	struct mps_ctrl_result res;
	struct mps_reply rep;
	int err;

	if (mps_have_net_admin()) {
		mps_mode_claim(fd);
		err = mps_ctrl_execute(fd, req, &res);
		return control_result(err, what, res.msg);
	}
	err = mps_broker_call(fd, req, &rep, 0);
	return control_result(err, what, rep.msg);
}

int mpsock_set_mode(int fd, int mode)
{
	char msg[MPS_MSG_LEN] = "";

	return control_result(mps_mode_set(fd, mode, msg, sizeof(msg)), "mode",
			      msg);
}

int mpsock_subflow_close(int fd, __u32 id, int how)
{
	struct mps_req req = {.type = MPS_REQ_CLOSE};

	if (how == SHUT_RD || how == SHUT_WR)
		return control_result(-EOPNOTSUPP, "close",
				      "no kernel interface half-closes one "
				      "subflow");
	if (how != SHUT_RDWR && how != MPTCP_SHUT_RST)
		return control_result(-EINVAL, "close", "unknown how");
	req.close.id = id;
	req.close.how = how;
	return control_request(fd, &req, "close");
}

int mpsock_subflow_set_backup(int fd, __u32 id, bool backup)
{
	struct mps_req req = {.type = MPS_REQ_BACKUP};

	req.backup.id = id;
	req.backup.backup = backup;
	return control_request(fd, &req, "backup");
}

/* A 32-bit pacing rate read back into a 64-bit buffer (~0: unlimited). */
static socklen_t rate_widen(void *val)
{
	__u32 r32;
	__u64 r;

	memcpy(&r32, val, sizeof(r32));
	r = r32 == UINT32_MAX ? ~0ULL : r32;
	memcpy(val, &r, sizeof(r));
	return sizeof(r);
}

static bool self_capable(void *ctx, int cap)
{
	(void)ctx;
	return mps_have_cap(cap);
}

/*
 * One subflow's option: acting itself needs CAP_NET_ADMIN and the BPF
 * program loaded (CAP_BPF, CAP_PERFMON); otherwise mpsockd does it.
 */
static int subflow_sockopt(int fd, __u32 id, bool set, int level, int optname,
			   void *val, socklen_t *len)
{
	const char *what = set ? "setsockopt" : "getsockopt";
	struct mps_ctrl_result res;
	bool rate64;
	struct mps_reply rep;
	struct mps_req req;
	socklen_t klen;
	int err;

	if (!val || !len)
		return control_result(-EFAULT, what, "");
	err = mps_subopt_check(level, optname, set, *len);
	if (err)
		return control_result(err, what,
				      err == -ENOPROTOOPT
					      ? "not an option of one subflow"
					      : "wrong option length");
	klen = mps_subopt_len(level, optname, *len);
	/* a 64-bit pacing rate, as setsockopt() takes it, goes as 32 bits */
	rate64 = level == SOL_SOCKET && optname == SO_MAX_PACING_RATE &&
		 *len >= sizeof(__u64);
	if (rate64 && set) {
		__u64 r;
		__u32 r32;

		memcpy(&r, val, sizeof(r));
		r32 = r > UINT32_MAX ? UINT32_MAX : r;
		memcpy(val, &r32, sizeof(r32));
	}
	if (mps_have_net_admin() && mps_sockopt_prepare() == 0) {
		if (set)
			mps_mode_claim(fd);
		memset(&res, 0, sizeof(res));
		if (set)
			err = mps_subopt_allowed(level, optname, val, klen,
						 self_capable, NULL, res.msg,
						 sizeof(res.msg));
		if (!err)
			err = mps_ctrl_sockopt(fd, id, set, level, optname, val,
					       &klen, &res);
		if (!err && !set)
			*len = rate64 ? rate_widen(val) : klen;
		return control_result(err, what, res.msg);
	}
	memset(&req, 0, sizeof(req));
	req.type = MPS_REQ_SOCKOPT;
	req.sockopt.id = id;
	req.sockopt.set = set;
	req.sockopt.level = level;
	req.sockopt.optname = optname;
	req.sockopt.optlen = klen;
	if (set)
		memcpy(req.sockopt.val, val, klen);
	err = mps_broker_call(fd, &req, &rep, 0);
	if (!err && !set) {
		if (rep.optlen > klen)
			rep.optlen = klen;
		memcpy(val, rep.val, rep.optlen);
		*len = rate64 ? rate_widen(val) : rep.optlen;
	}
	return control_result(err, what, rep.msg);
}

int mpsock_subflow_setsockopt(int fd, __u32 id, int level, int optname,
			      const void *optval, socklen_t optlen)
{
	unsigned char v[64];

	if (!optval)
		return control_result(-EFAULT, "setsockopt", "");
	if (optlen > sizeof(v))
		return control_result(-EINVAL, "setsockopt",
				      "wrong option length");
	memcpy(v, optval, optlen);
	return subflow_sockopt(fd, id, true, level, optname, v, &optlen);
}

int mpsock_subflow_getsockopt(int fd, __u32 id, int level, int optname,
			      void *optval, socklen_t *optlen)
{
	if (level == IPPROTO_TCP && optname == TCP_INFO) {
		int err;

		if (!optval || !optlen)
			return mps_fail(-EFAULT);
		err = mps_subflow_tcp_info(fd, id, optval, optlen);
		return err ? mps_fail(err) : 0;
	}
	return subflow_sockopt(fd, id, false, level, optname, optval, optlen);
}
