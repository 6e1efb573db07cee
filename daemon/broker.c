// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mpsockd's loop: accepts applications on the namespace's abstract socket,
 * checks each request against one table (size, version, the socket passed,
 * the caller's rights) before its handler runs, acts on the application's
 * own socket, closes that socket at once, and replies.  Single-threaded and
 * non-blocking: an open-and-wait is parked until its kernel event, and a
 * client that does not read its replies is dropped, so nobody can stall
 * anybody else.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <libmnl/libmnl.h>

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

#include "op/op.h"
#include "log.h"
#include "mpsockd.h"
#include "notify.h"
#include "pm.h"

#define MAX_PENDING_PER_CLIENT 8
#define OPEN_WAIT_MAX_MS 120000
#define MAX_PENDING 1024
#define MAX_FDS 4 /* more than one is refused; room to see and close them */

struct client {
	int s;
	struct peer peer;
	unsigned int pending;
	bool used;
	bool subscribed; /* an event stream of connection token */
	bool by_owner; /* ... or of every connection of uid owner */
	__u32 token;
	uid_t owner;
	__u32 lost; /* events dropped since the client last kept up */
};

/* An open-and-wait parked until the kernel reports its outcome. */
struct pending {
	struct client *c;
	struct mps_reply rep;
	struct mps_ctrl_result res;
	long deadline_ms;
	bool used;
};

static volatile sig_atomic_t stopping, reloading;
static int broker_ep;
static void client_watch(int ep, struct client *c, bool out);
static void pending_fail_all(int ep);
static bool listen_paused;
static int listen_fd;
/* Marks the listening socket and the events socket in epoll data. */
static char tag_listen, tag_events, tag_netwatch;
static struct client *clients;
static struct pending pendings[MAX_PENDING];
static unsigned int npending, nsubscribed;
static struct mps_genl events;
static bool events_on, events_watched;
static const struct broker_opts *opts;

void broker_stop(void)
{
	stopping = 1;
}

void broker_reload(void)
{
	reloading = 1;
}

/* SIGHUP: a file that does not validate leaves everything as it was. */
static void reload_config(void)
{
	struct mpsd_config cfg;

	reloading = 0;
	mpsd_notify_reloading();
	if (!opts->load_config || opts->load_config(&cfg)) {
		mpsd_notify_reloaded("serving; the new configuration was "
				     "refused, the previous one is kept");
		return;
	}
	policy_reload(&cfg);
	mpsd_log(LOG_NOTICE, "configuration reloaded: policy %s, mode %s",
		 mpsd_policy_name(cfg.policy), mpsd_mode_name(cfg.mode));
	mpsd_notify_reloaded("serving");
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static const char *req_name(unsigned int type)
{
	static const char *const names[__MPS_REQ_MAX] = {
		[MPS_REQ_OPEN] = "open",
		[MPS_REQ_CLOSE] = "close",
		[MPS_REQ_BACKUP] = "backup",
		[MPS_REQ_SOCKOPT] = "sockopt",
		[MPS_REQ_SUBSCRIBE] = "subscribe",
		[MPS_REQ_SUBSCRIBE_OWNER] = "subscribe-owner",
		[MPS_REQ_MODE] = "mode",
		[MPS_REQ_STATUS] = "status",
	};

	return type < __MPS_REQ_MAX && names[type] ? names[type] : "unknown";
}

static void pending_cancel(const struct pending *p)
{
	char msg[MPS_MSG_LEN];
	struct mps_genl *g;

	if (p->res.id && mps_genl_cached(&g) == 0)
		mps_pm_subflow_destroy(g, p->res.token, &p->res.local,
				       &p->res.remote, msg, sizeof(msg));
}

static void client_drop(int ep, struct client *c)
{
	unsigned int i;

	/* nobody will hear the outcome: cancel what is still connecting */
	for (i = 0; i < MAX_PENDING && c->pending; i++) {
		if (pendings[i].used && pendings[i].c == c) {
			pending_cancel(&pendings[i]);
			pendings[i].used = false;
			c->pending--;
			npending--;
		}
	}
	if (c->subscribed)
		nsubscribed--;
	c->subscribed = false;
	c->by_owner = false;
	epoll_ctl(ep, EPOLL_CTL_DEL, c->s, NULL);
	close(c->s);
	peer_release(&c->peer);
	c->used = false;
	if (listen_paused) {
		struct epoll_event e = {.events = EPOLLIN,
					.data.ptr = &tag_listen};

		if (epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &e) == 0)
			listen_paused = false;
	}
}

/* A reply that does not fit the client's queue drops the client. */
static void reply_send(int ep, struct client *c, struct mps_reply *rep)
{
	rep->version = MPS_PROTO_VERSION;
	rep->msg[sizeof(rep->msg) - 1] = '\0';
	if (rep->err)
		mpsd_log(LOG_WARNING,
			 "%s request from pid %d uid %u failed: %s%s%s",
			 req_name(rep->type), (int)c->peer.cred.pid,
			 c->peer.cred.uid, strerror(-rep->err),
			 rep->msg[0] ? ": " : "", rep->msg);
	else if (opts->verbose)
		mpsd_log(LOG_INFO, "%s request from pid %d uid %u: ok",
			 req_name(rep->type), (int)c->peer.cred.pid,
			 c->peer.cred.uid);
	if (send(c->s, rep, sizeof(*rep), MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(*rep))
		client_drop(ep, c);
}

/*
 * The path manager acts by token in our namespace: a socket of another
 * namespace could name an unrelated connection there.
 */
static bool same_netns(int fd)
{
	static __u64 ours;
	__u64 theirs;

	if (!ours && mps_netns_cookie(-1, &ours))
		ours = 0;
	if (!ours || mps_netns_cookie(fd, &theirs))
		return true; /* no cookies (before Linux 5.14): cannot tell */
	return theirs == ours;
}

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
	if (!same_netns(fd)) {
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

/* Section 5 of the draft: privileged local ports for privileged callers. */
static int authorize_open(const struct client *c, const struct mps_req *req,
			  char *msg, size_t len)
{
	__be16 port = mps_addr_port(&req->open.local);

	if (mps_port_privileged(port) &&
	    !peer_capable(&c->peer, CAP_NET_BIND_SERVICE)) {
		snprintf(msg, len, "local port %u needs CAP_NET_BIND_SERVICE",
			 ntohs(port));
		return -EACCES;
	}
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
	return 0;
}

static int events_enable(char *msg, size_t len)
{
	int err;

	if (events_on)
		return 0;
	err = mps_genl_open(&events);
	if (!err)
		err = mps_events_subscribe(&events);
	if (err) {
		mps_genl_close(&events);
		snprintf(msg, len, "cannot subscribe to MPTCP events");
		return err;
	}
	events_on = true;
	return 0;
}

static struct pending *pending_get(struct client *c)
{
	unsigned int i;

	if (npending >= MAX_PENDING || c->pending >= MAX_PENDING_PER_CLIENT)
		return NULL;
	for (i = 0; i < MAX_PENDING; i++)
		if (!pendings[i].used)
			return &pendings[i];
	return NULL;
}

/*
 * Returns 1 when the reply is parked (open-and-wait), else 0 with @rep
 * filled.  The application's socket @fd is closed by the caller right
 * after: nothing here may keep it.
 */
static int handle_open(struct client *c, int fd, const struct mps_req *req,
		       struct mps_reply *rep)
{
	bool wait = req->open.flags & MPS_OPEN_F_WAIT;
	struct mps_ctrl_result res;
	struct pending *p = NULL;
	int err;

	err = authorize_open(c, req, rep->msg, sizeof(rep->msg));
	if (err)
		goto out;
	if (wait) {
		p = pending_get(c);
		if (!p) {
			err = -EAGAIN;
			snprintf(rep->msg, sizeof(rep->msg),
				 "too many open-and-wait requests in flight");
			goto out;
		}
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
	p->used = true;
	p->c = c;
	p->rep = *rep;
	p->res = res;
	/* bounded here too: a raw client may ask for anything */
	p->deadline_ms = now_ms() + OPEN_WAIT_MAX_MS;
	if (req->open.timeout_ms > 0 && req->open.timeout_ms < OPEN_WAIT_MAX_MS)
		p->deadline_ms = now_ms() + req->open.timeout_ms;
	c->pending++;
	npending++;
	return 1;
out:
	rep->err = err;
	return 0;
}

static bool peer_capable_cb(void *ctx, int cap)
{
	return peer_capable(ctx, cap);
}

/* A per-subflow option: the caller's rights, then the BPF program. */
static void handle_sockopt(struct client *c, int fd, const struct mps_req *req,
			   struct mps_reply *rep)
{
	struct mps_ctrl_result res = {0};
	__u8 val[sizeof(req->sockopt.val)];
	socklen_t len = req->sockopt.optlen;
	int err;

	err = mps_subopt_check(req->sockopt.level, req->sockopt.optname,
			       req->sockopt.set, len);
	if (!err && len > sizeof(val))
		err = -EINVAL;
	if (err) {
		snprintf(res.msg, sizeof(res.msg), "%s",
			 err == -ENOPROTOOPT ? "not an option of one subflow"
					     : "wrong option length");
		goto out;
	}
	memcpy(val, req->sockopt.val, len);
	if (req->sockopt.set)
		err = mps_subopt_allowed(
			req->sockopt.level, req->sockopt.optname, val, len,
			peer_capable_cb, &c->peer, res.msg, sizeof(res.msg));
	if (!err)
		err = mps_ctrl_sockopt(fd, req->sockopt.id, req->sockopt.set,
				       req->sockopt.level, req->sockopt.optname,
				       val, &len, &res);
	if (!err && !req->sockopt.set) {
		memcpy(rep->val, val, len);
		rep->optlen = len;
	}
out:
	rep->err = err;
	snprintf(rep->msg, sizeof(rep->msg), "%s", res.msg);
}

/*
 * An event stream of the connection whose socket was shown: only its
 * token is kept, never the socket, and only its events are forwarded.
 */
static void handle_subscribe(struct client *c, int fd, struct mps_reply *rep)
{
	__u32 token;
	int err;

	err = c->subscribed ? -EALREADY : mps_conn_token(fd, &token);
	if (!err)
		err = events_enable(rep->msg, sizeof(rep->msg));
	if (!err) {
		if (c->lost)
			client_watch(broker_ep, c, false);
		c->subscribed = true;
		c->token = token;
		c->lost = 0;
		nsubscribed++;
	}
	rep->err = err;
}

/*
 * The events of every connection whose MPTCP socket belongs to the
 * caller's uid (as sock_diag reports it: the uid that created the socket),
 * for monitoring tools: nothing is shown that the caller could not see by
 * holding those sockets itself.
 */
static void handle_subscribe_owner(struct client *c, struct mps_reply *rep)
{
	int err;

	err = c->subscribed ? -EALREADY : 0;
	if (!err)
		err = events_enable(rep->msg, sizeof(rep->msg));
	if (!err) {
		c->subscribed = true;
		c->by_owner = true;
		c->owner = c->peer.cred.uid;
		c->token = 0;
		c->lost = 0;
		nsubscribed++;
	}
	rep->err = err;
}

/*
 * A mode for the connection, or for the socket before it connects: an
 * unconnected socket has no token yet, so it is known by its cookie,
 * which sock_diag reports for it once it is a connection.
 */
static void handle_mode(int fd, const struct mps_req *req,
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
	if (!err)
		err = policy_set_mode(token, cookie, req->mode.mode, rep->msg,
				      sizeof(rep->msg));
	rep->err = err;
}

/* Anyone may ask: nothing here is about a connection or a user. */
static void handle_status(struct mps_reply *rep)
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
}

/* Steering a connection's subflows claims it from the policy. */
static void claim(int fd, const struct mps_req *req)
{
	__u32 token;

	if (req->type == MPS_REQ_SOCKOPT && !req->sockopt.set)
		return;
	if (mps_conn_token(fd, &token) == 0)
		policy_claim(token);
}

static int handle_request(struct client *c, int fd, const struct mps_req *req,
			  struct mps_reply *rep)
{
	struct mps_ctrl_result res;

	if (req->type == MPS_REQ_STATUS) {
		handle_status(rep);
		return 0;
	}
	if (req->type == MPS_REQ_MODE) {
		handle_mode(fd, req, rep);
		return 0;
	}
	if (req->type != MPS_REQ_SUBSCRIBE &&
	    req->type != MPS_REQ_SUBSCRIBE_OWNER)
		claim(fd, req);
	if (req->type == MPS_REQ_SUBSCRIBE_OWNER) {
		handle_subscribe_owner(c, rep);
		return 0;
	}
	if (req->type == MPS_REQ_SUBSCRIBE) {
		handle_subscribe(c, fd, rep);
		return 0;
	}
	if (req->type == MPS_REQ_OPEN)
		return handle_open(c, fd, req, rep);
	if (req->type == MPS_REQ_SOCKOPT) {
		handle_sockopt(c, fd, req, rep);
		return 0;
	}
	if (req->type == MPS_REQ_CLOSE)
		rep->err =
			mps_ctrl_close(fd, req->close.id, req->close.how, &res);
	else if (req->type == MPS_REQ_BACKUP)
		rep->err = mps_ctrl_backup(fd, req->backup.id,
					   req->backup.backup, &res);
	else {
		rep->err = -EINVAL;
		snprintf(res.msg, sizeof(res.msg), "unknown request type");
	}
	snprintf(rep->msg, sizeof(rep->msg), "%s", res.msg);
	return 0;
}

static void close_fds(int *fds, unsigned int n)
{
	while (n--)
		close(fds[n]);
}

static unsigned int fds_wanted(unsigned int type)
{
	return type == MPS_REQ_SUBSCRIBE_OWNER || type == MPS_REQ_STATUS ? 0
									 : 1;
}

/* One datagram: one request.  Everything is checked before acting. */
static void client_readable(int ep, struct client *c)
{
	union {
		char buf[CMSG_SPACE(MAX_FDS * sizeof(int)) +
			 CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} ctl;
	struct mps_req req;
	struct mps_reply rep;
	char extra;
	struct iovec iov[2] = {{&req, sizeof(req)}, {&extra, 1}};
	struct msghdr mh = {.msg_iov = iov,
			    .msg_iovlen = 2,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	struct cmsghdr *cm;
	int fds[MAX_FDS];
	unsigned int nfds = 0, k;
	ssize_t n;

	memset(&req, 0, sizeof(req));
	n = recvmsg(c->s, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	c->peer.sender.pid = 0;
	/* even an empty message may carry descriptors: collect them first */
	for (cm = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm;
	     cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_CREDENTIALS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(struct ucred)))
			memcpy(&c->peer.sender, CMSG_DATA(cm),
			       sizeof(struct ucred));
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (k = 0; k < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int) &&
			    nfds < MAX_FDS;
		     k++)
			memcpy(&fds[nfds++], CMSG_DATA(cm) + k * sizeof(int),
			       sizeof(int));
	}
	if (n <= 0) {
		close_fds(fds, nfds);
		client_drop(ep, c);
		return;
	}
	memset(&rep, 0, sizeof(rep));
	rep.seq = req.seq;
	rep.type = req.type;
	if (n != (ssize_t)sizeof(req) || (mh.msg_flags & MSG_TRUNC)) {
		rep.err = -EINVAL;
		snprintf(rep.msg, sizeof(rep.msg), "bad request size %zd", n);
	} else if (req.version != MPS_PROTO_VERSION) {
		rep.err = -EPROTONOSUPPORT;
		snprintf(rep.msg, sizeof(rep.msg),
			 "request version %u, this mpsockd speaks %u",
			 req.version, MPS_PROTO_VERSION);
	} else if (nfds != fds_wanted(req.type) ||
		   (mh.msg_flags & MSG_CTRUNC)) {
		rep.err = -EBADF;
		if (fds_wanted(req.type))
			snprintf(rep.msg, sizeof(rep.msg),
				 "a request carries exactly one socket "
				 "(got %u)",
				 nfds);
		else
			snprintf(rep.msg, sizeof(rep.msg),
				 "a %s request carries no socket (got %u)",
				 req_name(req.type), nfds);
	} else if (nfds) {
		rep.err = check_app_socket(fds[0], rep.msg, sizeof(rep.msg));
	}
	if (!rep.err && handle_request(c, nfds ? fds[0] : -1, &req, &rep)) {
		close_fds(fds, nfds); /* parked: the reply comes later */
		return;
	}
	close_fds(fds, nfds);
	reply_send(ep, c, &rep);
}

static void event_send(int ep, struct client *c, const struct mps_event *ev);

static void client_ready(int ep, struct client *c, unsigned int events)
{
	/* room again after a full queue: tell what was lost */
	if ((events & EPOLLOUT) && c->lost)
		event_send(ep, c, NULL);
	else if (events & EPOLLOUT)
		client_watch(ep, c, false);
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->used)
		client_readable(ep, c);
}

static void pending_finish(int ep, struct pending *p, int err, const char *msg)
{
	struct client *c = p->c;

	p->used = false;
	c->pending--;
	npending--;
	p->rep.err = err;
	if (msg)
		snprintf(p->rep.msg, sizeof(p->rep.msg), "%s", msg);
	reply_send(ep, c, &p->rep);
}

static void client_watch(int ep, struct client *c, bool out)
{
	struct epoll_event e = {.events = EPOLLIN | (out ? EPOLLOUT : 0),
				.data.ptr = c};

	epoll_ctl(ep, EPOLL_CTL_MOD, c->s, &e);
}

/*
 * One event to one subscriber, never blocking: a full queue drops it and
 * counts it; the count goes out with the next event, or on its own as soon
 * as the client reads again (EPOLLOUT).
 */
static void event_send(int ep, struct client *c, const struct mps_event *ev)
{
	struct mps_event_msg m = {.version = MPS_PROTO_VERSION};

	m.lost = c->lost;
	if (ev) {
		m.type = ev->type;
		m.token = ev->token;
		m.error = ev->error;
		m.has_error = ev->has_error;
		m.backup = ev->backup;
		m.loc_id = ev->loc_id;
		m.rem_id = ev->rem_id;
		m.server_side = ev->server_side;
		m.local = ev->local;
		m.remote = ev->remote;
	}
	if (send(c->s, &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL) ==
	    (ssize_t)sizeof(m)) {
		if (c->lost)
			client_watch(ep, c, false);
		c->lost = 0;
		return;
	}
	if (errno != EAGAIN) {
		client_drop(ep, c);
		return;
	}
	if (!c->lost)
		client_watch(ep, c, true);
	if (ev)
		c->lost++;
}

/*
 * Whose connection a token is: looked up once with sock_diag and
 * remembered until the connection closes, since its socket is gone by the
 * time CLOSED is read.  Only done while an owner subscription exists.
 */
#define OWNER_CACHE 1024

static struct {
	__u32 token;
	uid_t uid;
} owner_cache[OWNER_CACHE];

static bool token_owner(__u32 token, uid_t *uid)
{
	unsigned int slot = (token * 2654435761u) % OWNER_CACHE;
	struct mps_msk m;

	if (owner_cache[slot].token == token && token) {
		*uid = owner_cache[slot].uid;
		return true;
	}
	if (mps_diag_msk_get(token, &m))
		return false;
	owner_cache[slot].token = token;
	owner_cache[slot].uid = m.sock.uid;
	*uid = m.sock.uid;
	return true;
}

static void token_forget(__u32 token)
{
	unsigned int slot = (token * 2654435761u) % OWNER_CACHE;

	if (owner_cache[slot].token == token)
		owner_cache[slot].token = 0;
}

static bool client_wants(struct client *c, const struct mps_event *ev,
			 bool *looked_up, bool *known, uid_t *uid)
{
	if (!c->used || !c->subscribed)
		return false;
	if (!ev)
		return true;
	if (!c->by_owner)
		return c->token && c->token == ev->token;
	if (!*looked_up) {
		*known = token_owner(ev->token, uid);
		*looked_up = true;
	}
	return *known && *uid == c->owner;
}

static void events_fan_out(int ep, const struct mps_event *ev)
{
	bool looked_up = false, known = false;
	unsigned int i;
	uid_t uid = 0;

	for (i = 0; i < opts->max_clients && nsubscribed; i++) {
		struct client *c = &clients[i];

		if (!client_wants(c, ev, &looked_up, &known, &uid))
			continue;
		if (ev) {
			event_send(ep, c, ev);
		} else {
			/* the kernel dropped events: everybody lost some */
			if (!c->lost)
				client_watch(ep, c, true);
			c->lost++;
		}
		/*
		 * A token may come back for another connection later: the
		 * stream ends here (the client still reads what was sent).
		 */
		if (ev && ev->type == MPTCP_EVENT_CLOSED && c->used &&
		    !c->by_owner) {
			c->token = 0;
			c->subscribed = false;
			nsubscribed--;
		}
	}
}

static int broker_event_cb(const struct nlmsghdr *nlh, void *data)
{
	int ep = *(int *)data;
	struct mps_event ev;
	unsigned int i;
	int r;

	if (mps_event_parse(nlh, &ev))
		return MNL_CB_OK;
	events_fan_out(ep, &ev);
	policy_event(&ev);
	if (ev.type == MPTCP_EVENT_CLOSED)
		token_forget(ev.token);
	for (i = 0; i < MAX_PENDING && npending; i++) {
		if (!pendings[i].used)
			continue;
		r = mps_event_open_outcome(&ev, pendings[i].res.token,
					   &pendings[i].res.local,
					   &pendings[i].res.remote);
		if (r > 0)
			pending_finish(ep, &pendings[i], 0, "");
		else if (r < 0)
			pending_finish(ep, &pendings[i], r,
				       mps_event_error_msg(r));
	}
	return MNL_CB_OK;
}

#define EVENTS_SLICE_US 2000

static void events_readable(int ep)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;

	/*
	 * Each recv() is one event; with thousands of connections a burst
	 * (an address gone) is thousands of them: at most EVENTS_SLICE_US
	 * of them per loop turn, then the clients and the actuator get theirs.
	 */
	long long end = mps_now_us() + EVENTS_SLICE_US;

	while (events_on && mps_now_us() < end) {
		n = recv(mnl_socket_get_fd(events.nl), buf, sizeof(buf),
			 MSG_DONTWAIT);
		if (n > 0) {
			mnl_cb_run(buf, n, 0, 0, broker_event_cb, &ep);
		} else if (n < 0 && errno == ENOBUFS) {
			mpsd_log(LOG_WARNING, "event queue overrun");
			events_fan_out(ep, NULL);
			pending_fail_all(ep);
			policy_resync();
		} else {
			break;
		}
	}
}

/* Their outcome may have been among the lost events: say so now. */
static void pending_fail_all(int ep)
{
	unsigned int i;

	for (i = 0; i < MAX_PENDING && npending; i++)
		if (pendings[i].used)
			pending_finish(ep, &pendings[i], -EIO,
				       "MPTCP events were lost: the subflow's "
				       "state is unknown, list the subflows");
}

static void pending_expire(int ep)
{
	long now = now_ms();
	unsigned int i;

	for (i = 0; i < MAX_PENDING && npending; i++) {
		struct pending *p = &pendings[i];

		if (!p->used || p->deadline_ms > now)
			continue;
		/* cancel the attempt still in SYN_SENT, then say so */
		pending_cancel(p);
		pending_finish(ep, p, -ETIMEDOUT,
			       "not established in time: cancelled");
	}
}

static int next_timeout(void)
{
	long soonest = -1, now = now_ms();
	unsigned int i;

	int policy_ms = policy_next_timeout_ms(), ms;

	for (i = 0; i < MAX_PENDING && npending; i++)
		if (pendings[i].used &&
		    (soonest < 0 || pendings[i].deadline_ms < soonest))
			soonest = pendings[i].deadline_ms;
	if (soonest < 0)
		return policy_ms;
	ms = soonest > now ? (int)(soonest - now) : 0;
	return policy_ms >= 0 && policy_ms < ms ? policy_ms : ms;
}

static void accept_client(int ep, int ls)
{
	struct epoll_event ev = {.events = EPOLLIN};
	unsigned int i;
	int s;

	s = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (s < 0) {
		if (errno == EMFILE || errno == ENFILE) {
			/* out of descriptors: stop listening until one frees */
			epoll_ctl(ep, EPOLL_CTL_DEL, ls, NULL);
			listen_paused = true;
		}
		return;
	}
	for (i = 0; i < opts->max_clients; i++)
		if (!clients[i].used)
			break;
	if (i == opts->max_clients) {
		close(s); /* full: the client sees a closed connection */
		return;
	}
	memset(&clients[i], 0, sizeof(clients[i]));
	clients[i].used = true;
	clients[i].s = s;
	/* the kernel then vouches for the sender of every request */
	setsockopt(s, SOL_SOCKET, SO_PASSCRED, &(int){1}, sizeof(int));
	if (peer_identify(s, &clients[i].peer) < 0) {
		close(s);
		clients[i].used = false;
		return;
	}
	ev.data.ptr = &clients[i];
	if (epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) < 0) {
		close(s);
		peer_release(&clients[i].peer);
		clients[i].used = false;
	}
}

static int listen_abstract(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	socklen_t len = offsetof(struct sockaddr_un, sun_path) + 1 +
			strlen(MPS_BROKER_NAME);
	int s;

	memcpy(sun.sun_path + 1, MPS_BROKER_NAME, strlen(MPS_BROKER_NAME));
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (bind(s, (struct sockaddr *)&sun, len) < 0 || listen(s, 128) < 0) {
		int err = -errno;

		close(s);
		return err;
	}
	return s;
}

int broker_run(const struct broker_opts *o)
{
	struct epoll_event ev, evs[32];
	char msg[MPS_MSG_LEN] = "";
	int ep, ls, n, i, nw = -1, err = 0;

	opts = o;
	clients = calloc(o->max_clients, sizeof(*clients));
	if (!clients)
		return -ENOMEM;
	ls = listen_fd = listen_abstract();
	if (ls < 0) {
		free(clients);
		return ls;
	}
	ep = broker_ep = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.ptr = &tag_listen;
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	/* the path manager hears every event, from before it looks */
	err = events_enable(msg, sizeof(msg));
	if (!err)
		nw = policy_start(o->cfg, o->state_path);
	if (err || nw < 0) {
		mpsd_log(LOG_ERR, "cannot act as the path manager: %s",
			 strerror(err ? -err : -nw));
		err = err ? err : nw;
		goto out;
	}
	ev.data.ptr = &tag_netwatch;
	epoll_ctl(ep, EPOLL_CTL_ADD, nw, &ev);
	/* watched before the first wait: events from now on are acted on */
	ev.data.ptr = &tag_events;
	epoll_ctl(ep, EPOLL_CTL_ADD, mnl_socket_get_fd(events.nl), &ev);
	events_watched = true;
	mpsd_log(LOG_NOTICE, "serving @%s", MPS_BROKER_NAME);
	mpsd_notify_ready();

	while (!stopping) {
		if (reloading)
			reload_config();
		if (listen_paused) {
			struct epoll_event le = {.events = EPOLLIN,
						 .data.ptr = &tag_listen};

			if (epoll_ctl(ep, EPOLL_CTL_ADD, ls, &le) == 0)
				listen_paused = false;
		}
		n = epoll_wait(ep, evs, 32,
			       listen_paused ? 1000 : next_timeout());
		if (n < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == &tag_listen)
				accept_client(ep, ls);
			else if (evs[i].data.ptr == &tag_events)
				events_readable(ep);
			else if (evs[i].data.ptr == &tag_netwatch)
				policy_netwatch_readable();
			else if (((struct client *)evs[i].data.ptr)->used)
				client_ready(ep, evs[i].data.ptr,
					     evs[i].events);
		}
		if (events_on && !events_watched) {
			/* subscribed by a handler just now: watch it */
			ev.events = EPOLLIN;
			ev.data.ptr = &tag_events;
			epoll_ctl(ep, EPOLL_CTL_ADD,
				  mnl_socket_get_fd(events.nl), &ev);
			events_watched = true;
		}
		pending_expire(ep);
		policy_tick();
	}
	mpsd_notify_stopping();
out:
	for (i = 0; i < (int)o->max_clients; i++)
		if (clients[i].used)
			client_drop(ep, &clients[i]);
	policy_stop();
	if (events_on)
		mps_genl_close(&events);
	close(ep);
	close(ls);
	free(clients);
	return err;
}
