// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The native control API: arguments checked and turned into an operation
 * (op/dispatch.c decides whether this process or mpsockd carries it out),
 * and a failure's explanation kept for mpsock_errmsg().
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "op/op.h"

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

static int control_open(int fd, const struct sockaddr *local,
			const struct sockaddr *remote, socklen_t addrlen,
			unsigned int flags, int timeout_ms, __u32 *id)
{
	struct sockaddr_storage l, r;
	struct mps_ctrl_result res;
	unsigned int how;
	int err;

	if (flags & ~(MPSOCK_OPEN_BACKUP | MPSOCK_OPEN_UNBOUND))
		return control_result(-EINVAL, "open", "unknown flags");
	how = (flags & MPSOCK_OPEN_BACKUP ? MPS_CTRL_OPEN_BACKUP : 0) |
	      (flags & MPSOCK_OPEN_UNBOUND ? MPS_CTRL_OPEN_UNBOUND : 0);
	err = mps_ctrl_check_open_args(local, remote, addrlen, &l, &r);
	if (err)
		return control_result(err, "open", "bad address arguments");
	if (timeout_ms < 0 || timeout_ms > MPS_OPEN_WAIT_MAX_MS)
		timeout_ms = MPS_OPEN_WAIT_MAX_MS;
	err = mps_op_open(fd, &l, &r, how, timeout_ms, &res);
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

int mpsock_set_mode(int fd, int mode)
{
	char msg[MPS_MSG_LEN] = "";

	return control_result(mps_mode_set(fd, mode, msg, sizeof(msg)), "mode",
			      msg);
}

int mpsock_subflow_close(int fd, __u32 id, int how)
{
	struct mps_ctrl_result res;

	return control_result(mps_op_close(fd, id, how, &res), "close",
			      res.msg);
}

int mpsock_subflow_set_backup(int fd, __u32 id, bool backup)
{
	struct mps_ctrl_result res;

	return control_result(mps_op_backup(fd, id, backup, &res), "backup",
			      res.msg);
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

/* One subflow's option, with the API's checks and the rate's width. */
static int subflow_sockopt(int fd, __u32 id, bool set, int level, int optname,
			   void *val, socklen_t *len)
{
	const char *what = set ? "setsockopt" : "getsockopt";
	struct mps_ctrl_result res;
	socklen_t klen;
	bool rate64;
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
	err = mps_op_sockopt(fd, id, set, level, optname, val, &klen, &res);
	if (!err && !set)
		*len = rate64 ? rate_widen(val) : klen;
	return control_result(err, what, res.msg);
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
