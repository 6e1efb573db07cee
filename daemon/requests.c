// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The request table: per request type, the descriptors it carries, what it
 * must prove, whether it claims the connection, and its handler.  Every
 * request passes, in this order, before anything acts: its size and
 * version, its descriptors (count, then the application's socket), its
 * authorization (a proof of privilege where the draft's section 5 asks
 * for one); then the claim, then the handler.  The application's socket is
 * closed by the caller right after: no handler may keep it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "broker_int.h"
#include "pm.h"
#include "policy_state.h"
#include "proof.h"
#include "subflow_cap.h"

/*
 * The socket an application passed: an MPTCP stream socket that is not
 * listening.  Anything else is refused before a handler sees it.
 */
static int check_app_socket(int fd, char *msg, size_t len)
{
	int v = 0;
	socklen_t vl = sizeof(v);
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		snprintf(msg, len, "the descriptor passed is not a socket");
		return -ENOTSOCK;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &vl) < 0 ||
	    v != IPPROTO_MPTCP) {
		snprintf(msg, len, "the socket passed is not an MPTCP socket");
		return -EOPNOTSUPP;
	}
	if (!mpsd_same_netns(fd)) {
		snprintf(
			msg, len,
			"the socket passed belongs to another network namespace");
		return -EXDEV;
	}
	vl = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) < 0 || v) {
		snprintf(msg, len, "the socket passed is listening");
		return -EINVAL;
	}
	return 0;
}

static bool never_capable(void *ctx, int cap)
{
	(void)ctx;
	(void)cap;
	return false;
}

/*
 * Section 5 of the draft: a privileged local port only for a caller that
 * proved it may bind it (proof.c), never from what its /proc says now.
 */
static int authorize_open(const struct mps_req *req, int proof, char *msg,
			  size_t len)
{
	__be16 port = mps_addr_port(&req->open.local);

	if (req->open.local.ss_family != AF_INET &&
	    req->open.local.ss_family != AF_INET6) {
		snprintf(msg, len, "unknown address family");
		return -EINVAL;
	}
	if (req->open.flags &
	    ~(MPS_OPEN_F_BACKUP | MPS_OPEN_F_WAIT | MPS_OPEN_F_UNBOUND)) {
		snprintf(msg, len, "unknown open flags");
		return -EINVAL;
	}
	if (!mps_port_privileged(port))
		return 0;
	return mpsd_proof_port(proof, req->open.local.ss_family, port, msg,
			       len);
}

/*
 * A per-subflow option: its size, then what an unprivileged caller may
 * set; beyond that only with a proof that the caller's kernel let it set
 * the same value on a socket of its own.
 */
static int authorize_sockopt(const struct mps_req *req, int proof, char *msg,
			     size_t len)
{
	socklen_t optlen = req->sockopt.optlen;
	int err;

	err = mps_subopt_check(req->sockopt.level, req->sockopt.optname,
			       req->sockopt.set, optlen);
	if (!err && optlen > sizeof(req->sockopt.val))
		err = -EINVAL;
	if (err) {
		snprintf(msg, len, "%s",
			 err == -ENOPROTOOPT ? "not an option of one subflow"
					     : "wrong option length");
		return err;
	}
	if (!req->sockopt.set)
		return 0;
	err = mps_subopt_allowed(req->sockopt.level, req->sockopt.optname,
				 req->sockopt.val, optlen, never_capable, NULL,
				 msg, len);
	if (err != -EPERM)
		return err;
	if (proof < 0)
		return err; /* @msg says which rule */
	return mpsd_proof_sockopt(proof, req->sockopt.level,
				  req->sockopt.optname, req->sockopt.val,
				  optlen, msg, len);
}

/*
 * Returns 1 when the reply is parked (open-and-wait), else 0 with @rep
 * filled.
 */
static int handle_open(struct client *c, int fd, const struct mps_req *req,
		       struct mps_reply *rep)
{
	bool wait = req->open.flags & MPS_OPEN_F_WAIT;
	struct mps_ctrl_result res;
	int err;

	err = mpsd_subflow_cap(fd, &limits, rep->msg, sizeof(rep->msg));
	if (err)
		goto out;
	if (wait) {
		err = wait_room(c, rep->msg, sizeof(rep->msg));
		if (err)
			goto out;
		/* subscribe first: the outcome may come inside the create */
		err = events_enable(rep->msg, sizeof(rep->msg));
		if (err)
			goto out;
	}
	err = mps_ctrl_open(fd, &req->open.local, &req->open.remote,
			    (req->open.flags & MPS_OPEN_F_BACKUP
				     ? MPS_CTRL_OPEN_BACKUP
				     : 0) |
				    (req->open.flags & MPS_OPEN_F_UNBOUND
					     ? MPS_CTRL_OPEN_UNBOUND
					     : 0),
			    &res);
	rep->id = res.id;
	snprintf(rep->msg, sizeof(rep->msg), "%s", res.msg);
	if (!wait || (err && !(err == -ECONNREFUSED && !res.id)))
		goto out;
	if (wait_park(c, rep, &res, req->open.timeout_ms))
		return 1;
	err = -EAGAIN;
	snprintf(rep->msg, sizeof(rep->msg),
		 "mpsockd: no open-and-wait slot left");
out:
	rep->err = err;
	return 0;
}

static int handle_close(struct client *c, int fd, const struct mps_req *req,
			struct mps_reply *rep)
{
	struct mps_ctrl_result res;

	(void)c;
	rep->err = mps_ctrl_close(fd, req->close.id, req->close.how, &res);
	snprintf(rep->msg, sizeof(rep->msg), "%s", res.msg);
	return 0;
}

static int handle_backup(struct client *c, int fd, const struct mps_req *req,
			 struct mps_reply *rep)
{
	struct mps_ctrl_result res;

	(void)c;
	rep->err =
		mps_ctrl_backup(fd, req->backup.id, req->backup.backup, &res);
	snprintf(rep->msg, sizeof(rep->msg), "%s", res.msg);
	return 0;
}

/* A per-subflow option, authorized already: through the BPF program. */
static int handle_sockopt(struct client *c, int fd, const struct mps_req *req,
			  struct mps_reply *rep)
{
	struct mps_ctrl_result res = {0};
	__u8 val[sizeof(req->sockopt.val)];
	socklen_t len = req->sockopt.optlen;

	memcpy(val, req->sockopt.val, len);
	rep->err = mps_ctrl_sockopt(fd, req->sockopt.id, req->sockopt.set,
				    req->sockopt.level, req->sockopt.optname,
				    val, &len, &res);
	if (!rep->err && !req->sockopt.set) {
		memcpy(rep->val, val, len);
		rep->optlen = len;
	}
	snprintf(rep->msg, sizeof(rep->msg), "%s", res.msg);
	(void)c;
	return 0;
}

/*
 * An event stream of the connection whose socket was shown: only its
 * token is kept, never the socket, and only its events are forwarded.
 */
static int handle_subscribe(struct client *c, int fd, const struct mps_req *req,
			    struct mps_reply *rep)
{
	__u32 token;
	int err;

	err = subscription_allowed(c, rep->msg, sizeof(rep->msg));
	if (!err)
		err = mps_conn_token(fd, &token);
	if (!err)
		err = events_enable(rep->msg, sizeof(rep->msg));
	if (!err) {
		if (c->lost)
			client_watch(broker_ep, c, false);
		subscription_start(c);
		c->token = token;
	}
	rep->err = err;
	(void)req;
	return 0;
}

/*
 * The events of every connection whose MPTCP socket belongs to the
 * caller's uid (as sock_diag reports it: the uid that created the socket),
 * for monitoring tools: nothing is shown that the caller could not see by
 * holding those sockets itself.
 */
static int handle_subscribe_owner(struct client *c, int fd,
				  const struct mps_req *req,
				  struct mps_reply *rep)
{
	int err;

	err = subscription_allowed(c, rep->msg, sizeof(rep->msg));
	if (!err)
		err = events_enable(rep->msg, sizeof(rep->msg));
	if (!err) {
		subscription_start(c);
		c->by_owner = true;
		c->owner = c->peer.cred.uid;
		c->token = 0;
	}
	rep->err = err;
	(void)fd;
	(void)req;
	return 0;
}

/*
 * A mode for the connection, or for the socket before it connects: an
 * unconnected socket has no token yet, so it is known by its cookie,
 * which sock_diag reports for it once it is a connection.
 */
static int handle_mode(struct client *c, int fd, const struct mps_req *req,
		       struct mps_reply *rep)
{
	socklen_t len = sizeof(__u64);
	__u64 cookie = 0;
	__u32 token;
	int err;

	err = mps_conn_token(fd, &token);
	if (err == -ENOTCONN) {
		token = 0;
		err = getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) < 0
			      ? -errno
			      : 0;
	}
	if (!err) {
		/* a registration by cookie counts against this user's share */
		policy_state_set_registrant(c->peer.cred.uid);
		err = policy_set_mode(token, cookie, req->mode.mode, rep->msg,
				      sizeof(rep->msg));
	}
	rep->err = err;
	return 0;
}

/* Anyone may ask: nothing here is about a connection or a user. */
static int handle_status(struct client *c, int fd, const struct mps_req *req,
			 struct mps_reply *rep)
{
	struct mps_status st = {0};
	struct mps_sockopt_caps caps;

	_Static_assert(sizeof(st.sockopt_path) == sizeof(caps.path),
		       "one path per option and direction");
	st.sockopt_loaded = mps_sockopt_prepare() == 0;
	mps_sockopt_get_caps(&caps);
	memcpy(st.sockopt_path, caps.path, sizeof(st.sockopt_path));
	st.sockopt_probed = caps.probed;
	policy_describe(st.policy, sizeof(st.policy), st.mode, sizeof(st.mode));
	memcpy(rep->val, &st, sizeof(st));
	rep->optlen = sizeof(st);
	snprintf(rep->msg, sizeof(rep->msg), "%.*s", (int)sizeof(rep->msg) - 1,
		 mps_sockopt_status());
	rep->err = 0;
	(void)c;
	(void)fd;
	(void)req;
	return 0;
}

/* Steering a connection's subflows claims it from the policy. */
static void claim(int fd, const struct mps_req *req)
{
	__u32 token;

	if (req->type == MPS_REQ_SOCKOPT && !req->sockopt.set)
		return; /* reading steers nothing */
	if (mps_conn_token(fd, &token) == 0)
		policy_claim(token);
}

/*
 * The rows: what mpsockd does per request type.  The request's shape (its
 * size, version, descriptors and fields) is the wire format's, checked by
 * mps_req_decode() (lib/broker/codec.c, fuzzed by tests/fuzz) before any
 * row is looked at; a type without a row is refused there.
 */
struct req_kind {
	/* 0, or -errno with @msg; @proof is -1 when none came */
	int (*authorize)(const struct mps_req *req, int proof, char *msg,
			 size_t len);
	bool claims; /* steering the connection takes it from the policy */
	int (*handle)(struct client *c, int fd, const struct mps_req *req,
		      struct mps_reply *rep);
};

static const struct req_kind kinds[__MPS_REQ_MAX] = {
	[MPS_REQ_OPEN] = {authorize_open, true, handle_open},
	[MPS_REQ_CLOSE] = {NULL, true, handle_close},
	[MPS_REQ_BACKUP] = {NULL, true, handle_backup},
	[MPS_REQ_SOCKOPT] = {authorize_sockopt, true, handle_sockopt},
	[MPS_REQ_SUBSCRIBE] = {NULL, false, handle_subscribe},
	[MPS_REQ_SUBSCRIBE_OWNER] = {NULL, false, handle_subscribe_owner},
	[MPS_REQ_MODE] = {NULL, false, handle_mode},
	[MPS_REQ_STATUS] = {NULL, false, handle_status},
};

const char *req_name(unsigned int type)
{
	return mps_req_name(type);
}

/*
 * The wire format's checks (size, version, descriptors, fields), then the
 * socket, then authorization: in this order, before anything acts.
 */
static int request_check(const struct mps_req *raw, ssize_t n, int msg_flags,
			 const int *fds, unsigned int nfds, struct mps_req *req,
			 const struct req_kind **kind, char *msg, size_t len)
{
	const struct req_kind *k;
	int err;

	if (msg_flags & MSG_TRUNC) {
		memcpy(req, raw, sizeof(*req));
		snprintf(msg, len, "bad request size %zd", n);
		return -EINVAL;
	}
	err = mps_req_decode(raw, n, nfds, req, msg, len);
	if (!err && (msg_flags & MSG_CTRUNC)) {
		snprintf(msg, len, "the request's descriptors were truncated");
		err = -EBADF;
	}
	if (err)
		return err;
	k = req->type < __MPS_REQ_MAX ? &kinds[req->type] : NULL;
	if (!k || !k->handle) {
		/* a type the wire format knows and this table does not */
		snprintf(msg, len, "unknown request type %u", req->type);
		return -EINVAL;
	}
	*kind = k;
	if (nfds)
		err = check_app_socket(fds[0], msg, len);
	if (!err && k->authorize)
		err = k->authorize(req, nfds > 1 ? fds[1] : -1, msg, len);
	return err;
}

int request_run(struct client *c, const struct mps_req *raw, ssize_t n,
		int msg_flags, int *fds, unsigned int nfds,
		struct mps_reply *rep)
{
	const struct req_kind *k = NULL;
	struct mps_req req;
	int fd;

	rep->err = request_check(raw, n, msg_flags, fds, nfds, &req, &k,
				 rep->msg, sizeof(rep->msg));
	/* a proof has served: nothing below may see or keep it */
	while (nfds > 1)
		close(fds[--nfds]);
	if (rep->err)
		return 0;
	fd = nfds ? fds[0] : -1;
	/* claimed only once authorized: a refused request steers nothing */
	if (k->claims)
		claim(fd, &req);
	return k->handle(c, fd, &req, rep);
}
