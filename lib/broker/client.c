// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The client side of mpsockd: one request with the application's socket
 * attached, one reply, over a connection each thread keeps (connecting for
 * every request would cost more than the request).  Fails fast when no
 * broker serves this network namespace, and refuses a broker that is not
 * root (anyone may bind an abstract name first, and would then receive our
 * sockets).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "broker/broker.h"

/* A broker answers control requests at once; waits have their own bound. */
#define BROKER_REPLY_MS 5000

static __u32 broker_seq;

struct broker_conn {
	int s; /* 0: none (the block starts zeroed), else fd + 1 */
	pid_t pid;
};

static void broker_conn_free(void *p)
{
	struct broker_conn *c = p;

	if (c->s)
		close(c->s - 1);
	free(c);
}

static struct mps_tls broker_tls = MPS_TLS_INIT(broker_conn_free);

static void broker_drop(struct broker_conn *c)
{
	if (c->s)
		close(c->s - 1);
	c->s = 0;
}

static int broker_connect(struct mps_reply *rep)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	socklen_t len = offsetof(struct sockaddr_un, sun_path) + 1 +
			strlen(MPS_BROKER_NAME);
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int s;

	/* sun_path[0] stays NUL: an abstract name, per network namespace */
	memcpy(sun.sun_path + 1, MPS_BROKER_NAME, strlen(MPS_BROKER_NAME));
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&sun, len) < 0) {
		int err = errno;

		close(s);
		snprintf(rep->msg, sizeof(rep->msg),
			 "no mpsockd in this network namespace, and this "
			 "process cannot act itself (%s)",
			 strerror(err));
		return -EPERM;
	}
	/* a stopped broker with a full queue must not block us forever */
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO,
		   &(struct timeval){.tv_sec = BROKER_REPLY_MS / 1000},
		   sizeof(struct timeval));
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
	    cred.uid != 0) {
		close(s);
		snprintf(rep->msg, sizeof(rep->msg),
			 "the broker's socket is not held by root: refused");
		return -EPERM;
	}
	return s;
}

/* @req with @fd and, if not -1, @proof (a proof of privilege) attached. */
static int broker_send(int s, int fd, int proof, const struct mps_req *req)
{
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = (void *)req, .iov_len = sizeof(*req)};
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = CMSG_SPACE(sizeof(int)),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	int fds[2] = {fd, proof};
	int n = proof < 0 ? 1 : 2;

	if (fd < 0) { /* a request about the caller, not about a socket */
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		if (sendmsg(s, &mh, MSG_NOSIGNAL) != (ssize_t)sizeof(*req))
			return -errno;
		return 0;
	}
	mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	if (sendmsg(s, &mh, MSG_NOSIGNAL) != (ssize_t)sizeof(*req))
		return -errno;
	return 0;
}

/*
 * Most replies come within tens of microseconds: wait for them awake.  A
 * caller that sleeps at once lets its CPU go idle, mpsockd then runs on
 * the other one, and on a virtual machine waking an idle CPU costs more
 * than the request itself (bench/run-sockopt.sh: a median of ~60 us
 * spinning, ~100 us sleeping when mpsockd is on the other CPU).  Only
 * requests answered at once spin; an open-and-wait sleeps.  Returns 1 when
 * a reply (or an error) is there, 0 to go on with poll().
 */
#define BROKER_SPIN_NS 100000

static int broker_spin(int s, int wait_ms)
{
	struct timespec t0, t;
	char c;

	if (wait_ms)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (recv(s, &c, 1, MSG_PEEK | MSG_DONTWAIT) >= 0 ||
		    (errno != EAGAIN && errno != EINTR))
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000000000L +
			 (t.tv_nsec - t0.tv_nsec) <
		 BROKER_SPIN_NS);
	return 0;
}

/* The thread's connection, made now if there is none (or a forked one). */
static int broker_get(struct broker_conn *c, struct mps_reply *rep, bool *fresh)
{
	int s;

	*fresh = false;
	if (c->s && c->pid == getpid())
		return c->s - 1;
	/*
	 * Inherited from the parent across fork(): not ours to use, and its
	 * number may name another file of the child's by now: forget it.
	 */
	c->s = 0;
	s = broker_connect(rep);
	if (s < 0)
		return s;
	c->s = s + 1;
	c->pid = getpid();
	*fresh = true;
	return s;
}

/*
 * mpsockd refuses a connection it cannot serve (a per-user or overall
 * limit) with one reply of sequence 0, then closes it: that reply, not
 * "closed the connection", is the answer to what we sent.
 */
static bool broker_refused(struct mps_reply *rep, ssize_t n)
{
	if (n != (ssize_t)sizeof(*rep) || rep->version != MPS_PROTO_VERSION ||
	    rep->seq || rep->err >= 0)
		return false;
	rep->msg[sizeof(rep->msg) - 1] = '\0';
	return true;
}

/* A send failed: was the connection refused before we could send? */
static int broker_send_failed(int s, int err, struct mps_reply *rep)
{
	ssize_t n = recv(s, rep, sizeof(*rep), MSG_DONTWAIT);

	if (broker_refused(rep, n))
		return rep->err;
	memset(rep, 0, sizeof(*rep));
	snprintf(rep->msg, sizeof(rep->msg), "cannot send to mpsockd (%s)",
		 strerror(-err));
	return err;
}

/*
 * The reply to @req on @s, within the usual bound plus @wait_ms: 0 with
 * @rep filled (its err is the broker's answer), or -errno with @rep->msg
 * saying what went wrong; the caller drops @s then, a late reply must not
 * meet the next request.
 */
static int broker_reply(int s, const struct mps_req *req, struct mps_reply *rep,
			int wait_ms, bool spin)
{
	struct pollfd pfd = {.fd = s, .events = POLLIN};
	struct mps_reply raw;
	ssize_t n;
	int r = 1;

	if (!spin || !broker_spin(s, wait_ms)) {
		do
			r = poll(&pfd, 1, BROKER_REPLY_MS + wait_ms);
		while (r < 0 && errno == EINTR);
	}
	if (r <= 0) {
		snprintf(rep->msg, sizeof(rep->msg), "mpsockd did not answer");
		return r ? -errno : -ETIMEDOUT;
	}
	n = recv(s, &raw, sizeof(raw), 0);
	/* mpsockd closed over our request: its refusal may still be there */
	if (n < 0 && errno == ECONNRESET)
		n = recv(s, &raw, sizeof(raw), MSG_DONTWAIT);
	if (broker_refused(&raw, n)) {
		*rep = raw;
		return rep->err;
	}
	r = n < 0 ? -ECONNRESET : mps_reply_decode(&raw, n, req->seq, rep);
	if (r)
		snprintf(rep->msg, sizeof(rep->msg), "%s",
			 n == 0 ? "mpsockd closed the connection"
				: "bad reply from mpsockd");
	return r;
}

static void broker_stamp(struct mps_req *req, struct mps_reply *rep)
{
	memset(rep, 0, sizeof(*rep));
	req->version = MPS_PROTO_VERSION;
	/* 0 is mpsockd's refusal of a connection: never a request's */
	do
		req->seq = __atomic_add_fetch(&broker_seq, 1, __ATOMIC_RELAXED);
	while (!req->seq);
}

int mps_broker_call(int fd, struct mps_req *req, struct mps_reply *rep,
		    int wait_ms)
{
	return mps_broker_call_proof(fd, -1, req, rep, wait_ms);
}

int mps_broker_call_proof(int fd, int proof, struct mps_req *req,
			  struct mps_reply *rep, int wait_ms)
{
	struct broker_conn *c = mps_tls_get(&broker_tls, sizeof(*c));
	bool fresh;
	int s, err;

	broker_stamp(req, rep);
	if (!c)
		return -errno;
	for (;;) {
		s = broker_get(c, rep, &fresh);
		if (s < 0)
			return s;
		err = broker_send(s, fd, proof, req);
		/* a kept connection may have died with an earlier broker */
		if (!err || fresh)
			break;
		broker_drop(c);
	}
	if (err)
		err = broker_send_failed(s, err, rep);
	else
		err = broker_reply(s, req, rep, wait_ms, true);
	if (!err)
		return rep->err;
	broker_drop(c);
	return err;
}

int mps_broker_subscribe(int fd, struct mps_req *req, struct mps_reply *rep,
			 int *sock)
{
	int s, err;

	broker_stamp(req, rep);
	s = broker_connect(rep);
	if (s < 0)
		return s;
	err = broker_send(s, fd, -1, req);
	if (err)
		err = broker_send_failed(s, err, rep);
	else
		err = broker_reply(s, req, rep, 0, false);
	if (!err)
		err = rep->err;
	if (err) {
		close(s);
		return err;
	}
	*sock = s;
	return 0;
}
