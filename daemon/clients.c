// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The broker's clients: accepted on the namespace's abstract socket within
 * --max-clients and their user's share, read one request per datagram
 * (with its descriptors and the sender's credentials), answered without
 * ever blocking: a client whose queue is full is dropped, so nobody can
 * stall anybody else.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "broker_int.h"
#include "log.h"

bool listen_paused;
int listen_fd;
char tag_listen; /* marks the listening socket in epoll data */

void client_drop(int ep, struct client *c)
{
	waits_drop(c);
	subscription_end(c);
	epoll_ctl(ep, EPOLL_CTL_DEL, c->s, NULL);
	close(c->s);
	c->used = false;
	if (listen_paused) {
		struct epoll_event e = {.events = EPOLLIN,
					.data.ptr = &tag_listen};

		if (epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &e) == 0)
			listen_paused = false;
	}
}

/* A reply that does not fit the client's queue drops the client. */
void reply_send(int ep, struct client *c, struct mps_reply *rep)
{
	rep->version = MPS_PROTO_VERSION;
	rep->msg[sizeof(rep->msg) - 1] = '\0';
	if (rep->err)
		mpsd_log_from(&c->log, LOG_WARNING,
			      "%s request from pid %d uid %u failed: %s%s%s",
			      req_name(rep->type), (int)peer_pid(&c->peer),
			      c->peer.cred.uid, strerror(-rep->err),
			      rep->msg[0] ? ": " : "", rep->msg);
	else if (opts->verbose)
		mpsd_log_from(&c->log, LOG_INFO,
			      "%s request from pid %d uid %u: ok",
			      req_name(rep->type), (int)peer_pid(&c->peer),
			      c->peer.cred.uid);
	if (send(c->s, rep, sizeof(*rep), MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(*rep))
		client_drop(ep, c);
}

static void close_fds(int *fds, unsigned int n)
{
	while (n--)
		close(fds[n]);
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
	if (request_run(c, &req, n, mh.msg_flags, fds, nfds, &rep)) {
		close_fds(fds,
			  nfds ? 1 : 0); /* parked: the reply comes later */
		return;
	}
	close_fds(fds, nfds ? 1 : 0);
	reply_send(ep, c, &rep);
}

void client_ready(int ep, struct client *c, unsigned int events)
{
	/* room again after a full queue: tell what was lost */
	if ((events & EPOLLOUT) && c->lost)
		event_send(ep, c, NULL);
	else if (events & EPOLLOUT)
		client_watch(ep, c, false);
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->used)
		client_readable(ep, c);
}

void client_watch(int ep, struct client *c, bool out)
{
	struct epoll_event e = {.events = EPOLLIN | (out ? EPOLLOUT : 0),
				.data.ptr = c};

	epoll_ctl(ep, EPOLL_CTL_MOD, c->s, &e);
}

/* Counted when asked, never kept: a count apart could drift. */
static unsigned int uid_clients(uid_t uid)
{
	unsigned int i, n = 0;

	for (i = 0; i < opts->max_clients; i++)
		n += clients[i].used && clients[i].peer.cred.uid == uid;
	return n;
}

/*
 * A connection we cannot serve: one reply of sequence 0 says why (the
 * library takes it as the answer to whatever it sent), then it is closed.
 * Nothing is kept, so a refused client costs nothing after this.
 */
static void client_refuse(int s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void client_refuse(int s, int err, const char *fmt, ...)
{
	struct mps_reply rep = {.version = MPS_PROTO_VERSION, .err = err};
	struct ucred cred = {0};
	struct mps_req junk;
	unsigned int i;
	socklen_t len = sizeof(cred);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rep.msg, sizeof(rep.msg), fmt, ap);
	va_end(ap);
	getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len);
	mpsd_log_limited(LOG_WARNING, "refused a client, pid %d uid %u: %s",
			 (int)cred.pid, cred.uid, rep.msg);
	/*
	 * Closing over an unread request would make the client's next read
	 * fail with ECONNRESET before it reads our reply: read it first
	 * (descriptors in it are closed by the kernel: no room for them).
	 */
	for (i = 0; i < MAX_PENDING_PER_CLIENT; i++)
		if (recv(s, &junk, sizeof(junk), MSG_DONTWAIT) <= 0)
			break;
	send(s, &rep, sizeof(rep), MSG_DONTWAIT | MSG_NOSIGNAL);
	close(s);
}

void accept_client(int ep, int ls)
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
		client_refuse(s, -EAGAIN,
			      "mpsockd: all %u client connections "
			      "in use",
			      opts->max_clients);
		return;
	}
	memset(&clients[i], 0, sizeof(clients[i]));
	/* the kernel then vouches for the sender of every request */
	setsockopt(s, SOL_SOCKET, SO_PASSCRED, &(int){1}, sizeof(int));
	if (peer_identify(s, &clients[i].peer) < 0) {
		close(s);
		return;
	}
	if (uid_clients(clients[i].peer.cred.uid) >= limits.user_clients) {
		client_refuse(s, -EUSERS,
			      "mpsockd: per-user limit of %u clients reached",
			      limits.user_clients);
		return;
	}
	clients[i].used = true;
	clients[i].s = s;
	ev.data.ptr = &clients[i];
	if (epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) < 0) {
		close(s);
		clients[i].used = false;
	}
}

int listen_abstract(void)
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
