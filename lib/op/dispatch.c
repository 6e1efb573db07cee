// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The one place that decides who acts: a process holding CAP_NET_ADMIN
 * acts on the kernel itself (after telling mpsockd, once, that it steers
 * the connection: mode.c's claim), any other process asks mpsockd with its
 * own socket attached.  MPSOCK_USE_BROKER=1 sends a privileged process
 * through mpsockd too.  The public API, the event streams and the CLI all
 * come through here, so the two ways cannot drift apart.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>

#include "op/op.h"

bool mps_op_direct(void)
{
	const char *env = getenv("MPSOCK_USE_BROKER");

	if (env && *env && *env != '0')
		return false;
	return mps_have_cap(CAP_NET_ADMIN);
}

/* The reply's text as the result's: mpsockd explains its own refusals. */
static int broker_result(int err, const struct mps_reply *rep,
			 struct mps_ctrl_result *res)
{
	res->id = rep->id;
	snprintf(res->msg, sizeof(res->msg), "%s", rep->msg);
	return err;
}

/*
 * Subscribe first, so that the outcome's event cannot pass before we
 * listen; a subflow gone before its port was read is waited for too (its
 * SUB_CLOSED says why).
 */
static int direct_open_wait(int fd, const struct sockaddr_storage *l,
			    const struct sockaddr_storage *r, unsigned int how,
			    int timeout_ms, struct mps_ctrl_result *res)
{
	struct mps_genl ev;
	int err;

	err = mps_genl_open(&ev);
	if (err)
		return err;
	err = mps_events_subscribe(&ev);
	if (!err)
		err = mps_ctrl_open(fd, l, r, how, res);
	if (!err || (err == -ECONNREFUSED && !res->id)) {
		err = mps_open_wait(&ev, res, timeout_ms);
		if (err && err != -ETIME)
			snprintf(res->msg, sizeof(res->msg), "%s",
				 mps_event_error_msg(err));
	}
	if (err == -ETIME) {
		snprintf(res->msg, sizeof(res->msg),
			 "not established within %d ms: cancelled", timeout_ms);
		mps_open_cancel(res);
		err = -ETIMEDOUT;
	}
	mps_genl_close(&ev);
	return err;
}

int mps_op_open(int fd, const struct sockaddr_storage *l,
		const struct sockaddr_storage *r, unsigned int how,
		int timeout_ms, struct mps_ctrl_result *res)
{
	struct mps_reply rep;
	struct mps_req req;
	int proof = -1, err;

	memset(res, 0, sizeof(*res));
	if (mps_op_direct()) {
		/* section 5: a port the caller could not bind itself */
		if (mps_port_privileged(mps_addr_port(l)) &&
		    !mps_have_cap(CAP_NET_BIND_SERVICE)) {
			snprintf(res->msg, sizeof(res->msg),
				 "a privileged local port needs "
				 "CAP_NET_BIND_SERVICE");
			return -EACCES;
		}
		mps_mode_claim(fd);
		if (!timeout_ms)
			return mps_ctrl_open(fd, l, r, how, res);
		return direct_open_wait(fd, l, r, how, timeout_ms, res);
	}
	memset(&req, 0, sizeof(req));
	req.type = MPS_REQ_OPEN;
	req.open.local = *l;
	req.open.remote = *r;
	req.open.flags =
		(how & MPS_CTRL_OPEN_BACKUP ? MPS_OPEN_F_BACKUP : 0) |
		(how & MPS_CTRL_OPEN_UNBOUND ? MPS_OPEN_F_UNBOUND : 0) |
		(timeout_ms ? MPS_OPEN_F_WAIT : 0);
	req.open.timeout_ms = timeout_ms;
	/* a privileged port: bind it here first, mpsockd checks the socket */
	if (mps_port_privileged(mps_addr_port(l))) {
		proof = mps_proof_port(l->ss_family, mps_addr_port(l), res->msg,
				       sizeof(res->msg));
		if (proof < 0)
			return proof;
	}
	err = mps_broker_call_proof(fd, proof, &req, &rep, timeout_ms);
	if (proof >= 0)
		close(proof);
	return broker_result(err, &rep, res);
}

int mps_op_close(int fd, __u32 id, int how, struct mps_ctrl_result *res)
{
	struct mps_req req = {.type = MPS_REQ_CLOSE};
	struct mps_reply rep;
	int err;

	memset(res, 0, sizeof(*res));
	/* refused alike either way, without a round trip */
	err = mps_ctrl_check_how(how, res->msg, sizeof(res->msg));
	if (err)
		return err;
	if (mps_op_direct()) {
		mps_mode_claim(fd);
		return mps_ctrl_close(fd, id, how, res);
	}
	req.close.id = id;
	req.close.how = how;
	return broker_result(mps_broker_call(fd, &req, &rep, 0), &rep, res);
}

int mps_op_backup(int fd, __u32 id, bool backup, struct mps_ctrl_result *res)
{
	struct mps_req req = {.type = MPS_REQ_BACKUP};
	struct mps_reply rep;

	memset(res, 0, sizeof(*res));
	if (mps_op_direct()) {
		mps_mode_claim(fd);
		return mps_ctrl_backup(fd, id, backup, res);
	}
	req.backup.id = id;
	req.backup.backup = backup;
	return broker_result(mps_broker_call(fd, &req, &rep, 0), &rep, res);
}

static bool self_capable(void *ctx, int cap)
{
	(void)ctx;
	return mps_have_cap(cap);
}

/*
 * Acting itself also needs the BPF program loaded here (CAP_BPF,
 * CAP_PERFMON); a process that cannot load it asks mpsockd, which can.
 */
int mps_op_sockopt(int fd, __u32 id, bool set, int level, int optname,
		   void *val, socklen_t *len, struct mps_ctrl_result *res)
{
	struct mps_reply rep;
	struct mps_req req;
	int err = 0, proof = -1;

	memset(res, 0, sizeof(*res));
	if (*len > sizeof(req.sockopt.val))
		return -EINVAL;
	if (mps_op_direct() && mps_sockopt_prepare() == 0) {
		if (set) {
			mps_mode_claim(fd);
			err = mps_subopt_allowed(level, optname, val, *len,
						 self_capable, NULL, res->msg,
						 sizeof(res->msg));
		}
		if (!err)
			err = mps_ctrl_sockopt(fd, id, set, level, optname, val,
					       len, res);
		return err;
	}
	memset(&req, 0, sizeof(req));
	req.type = MPS_REQ_SOCKOPT;
	req.sockopt.id = id;
	req.sockopt.set = set;
	req.sockopt.level = level;
	req.sockopt.optname = optname;
	req.sockopt.optlen = *len;
	if (set) {
		memcpy(req.sockopt.val, val, *len);
		/* beyond an unprivileged caller's rights: do it here first */
		proof = mps_proof_sockopt(level, optname, val, *len, res->msg,
					  sizeof(res->msg));
		if (proof < 0 && proof != -ENODATA && proof != -ENOENT)
			return proof;
	}
	err = mps_broker_call_proof(fd, proof, &req, &rep, 0);
	if (proof >= 0)
		close(proof);
	if (!err && !set) {
		if (rep.optlen < *len)
			*len = rep.optlen;
		memcpy(val, rep.val, *len);
	}
	return broker_result(err, &rep, res);
}

int mps_op_subscribe(int fd, struct mps_subscription *sub, char *msg,
		     size_t msglen)
{
	struct mps_reply rep;
	struct mps_req req;
	int err;

	memset(sub, 0, sizeof(*sub));
	sub->sock = -1;
	if (mps_op_direct()) {
		sub->direct = true;
		err = mps_genl_open(&sub->g);
		if (!err)
			err = mps_events_subscribe(&sub->g);
		if (err) {
			snprintf(msg, msglen,
				 "subscribing to the kernel's "
				 "MPTCP events failed");
			mps_genl_close(&sub->g);
			return err;
		}
		sub->sock = mnl_socket_get_fd(sub->g.nl);
		return 0;
	}
	memset(&req, 0, sizeof(req));
	req.type = fd < 0 ? MPS_REQ_SUBSCRIBE_OWNER : MPS_REQ_SUBSCRIBE;
	err = mps_broker_subscribe(fd, &req, &rep, &sub->sock);
	snprintf(msg, msglen, "%s", rep.msg);
	return err;
}

struct sub_read {
	struct mps_nl_ack ack; /* first: mps_nl_run() reads it */
	mps_sub_cb cb;
	void *data;
};

static int sub_netlink_cb(const struct nlmsghdr *nlh, void *data)
{
	struct sub_read *s = data;
	struct mps_event ev;

	if (mps_event_parse(nlh, &ev) == 0)
		s->cb(&ev, 0, s->data);
	return MNL_CB_OK;
}

static int sub_read_direct(struct mps_subscription *sub, mps_sub_cb cb,
			   void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct sub_read s = {.cb = cb, .data = data};
	ssize_t n;

	n = recv(sub->sock, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && errno == ENOBUFS) {
		/* the kernel dropped events for us: say so */
		cb(NULL, 1, data);
		return 0;
	}
	if (n < 0)
		return -errno;
	mps_nl_run(buf, n, 0, 0, sub_netlink_cb, &s.ack);
	return 0;
}

static int sub_read_broker(struct mps_subscription *sub, mps_sub_cb cb,
			   void *data)
{
	struct mps_event_msg m;
	struct mps_event ev;
	ssize_t n;
	__u32 lost;

	n = recv(sub->sock, &m, sizeof(m), MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET; /* mpsockd went away */
	if (mps_event_decode(&m, n, &ev, &lost))
		return -EPROTO;
	if (ev.type)
		cb(&ev, lost, data);
	else if (lost)
		cb(NULL, lost, data);
	return 0;
}

int mps_op_sub_read(struct mps_subscription *sub, mps_sub_cb cb, void *data)
{
	return sub->direct ? sub_read_direct(sub, cb, data)
			   : sub_read_broker(sub, cb, data);
}

void mps_op_unsubscribe(struct mps_subscription *sub)
{
	if (sub->direct)
		mps_genl_close(&sub->g);
	else if (sub->sock >= 0)
		close(sub->sock);
	sub->sock = -1;
}
