// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A pollable stream of one connection's events.  A process with
 * CAP_NET_ADMIN reads the kernel's event group itself and keeps its own
 * connection's events; any other process subscribes at mpsockd, which
 * forwards only the events of the connection whose socket it was shown.
 * Either way the library turns the kernel's 4-tuples into subflow ids
 * (FULL_INFO on the application's socket) and notices when the last
 * subflow is gone, which the kernel does not announce.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>

#include "broker_proto.h"
#include "internal.h"

#define EV_QUEUE 32 /* events decoded from one datagram, waiting to be read */
#define EV_KNOWN 64 /* subflows whose ids are remembered for their close */

struct ev_known {
	__u32 id;
	struct sockaddr_storage local, remote;
};

struct mpsock_events {
	int app_fd;
	int sock; /* netlink (direct) or the connection to mpsockd */
	bool direct;
	__u32 token;
	struct mps_genl g; /* direct only */
	struct mpsock_event queue[EV_QUEUE];
	unsigned int head, count;
	struct ev_known known[EV_KNOWN];
	unsigned int nknown;
	__u32 dropped; /* events the queue had no room for */
};

static void ev_push(struct mpsock_events *e, const struct mpsock_event *ev)
{
	if (e->count == EV_QUEUE) {
		/* counted, and reported once the queue has drained */
		e->dropped += ev->type == MPSOCK_EVENT_LOST ? ev->lost : 1;
		return;
	}
	e->queue[(e->head + e->count) % EV_QUEUE] = *ev;
	e->count++;
}

/* The kernel id of the subflow @local -> @remote: listed now, or known. */
static __u32 ev_subflow_id(struct mpsock_events *e,
			   const struct sockaddr_storage *local,
			   const struct sockaddr_storage *remote, bool forget,
			   unsigned int *live)
{
	struct sockaddr_storage l, r;
	struct mps_snapshot snap;
	unsigned int i;
	bool known;
	__u32 id = 0;

	*live = ~0U;
	known = false;
	for (i = 0; i < e->nknown; i++) {
		if (mps_addr_equal(&e->known[i].local, local, true) &&
		    mps_addr_equal(&e->known[i].remote, remote, true)) {
			id = e->known[i].id;
			known = true;
			if (forget)
				e->known[i] = e->known[--e->nknown];
			break;
		}
	}
	if (mps_snapshot_take(e->app_fd, &snap))
		return id;
	*live = 0;
	for (i = 0; i < snap.count; i++) {
		bool same;

		if (!mps_snapshot_live(&snap, i))
			continue;
		memset(&l, 0, sizeof(l));
		memset(&r, 0, sizeof(r));
		memcpy(&l, &snap.info[i].addrs.ss_local,
		       mps_sockaddr_len(snap.info[i].addrs.sa_family));
		memcpy(&r, &snap.info[i].addrs.ss_remote,
		       mps_sockaddr_len(snap.info[i].addrs.sa_family));
		mps_addr_unmap(&l);
		mps_addr_unmap(&r);
		same = mps_addr_equal(&l, local, true) &&
		       mps_addr_equal(&r, remote, true);
		if (same && !id)
			id = snap.info[i].id;
		/* a subflow being closed may still be listed: not live */
		if (!(same && forget))
			(*live)++;
	}
	mps_snapshot_release(&snap);
	if (id && !known && !forget && e->nknown < EV_KNOWN) {
		e->known[e->nknown].id = id;
		e->known[e->nknown].local = *local;
		e->known[e->nknown].remote = *remote;
		e->nknown++;
	}
	return id;
}

/* The subflows there are now (the initial one has no event of its own). */
static void ev_learn(struct mpsock_events *e)
{
	struct mps_snapshot snap;
	unsigned int i;

	if (mps_snapshot_take(e->app_fd, &snap))
		return;
	for (i = 0; i < snap.count && e->nknown < EV_KNOWN; i++) {
		struct ev_known *k = &e->known[e->nknown];

		if (!mps_snapshot_live(&snap, i))
			continue;
		memset(k, 0, sizeof(*k));
		k->id = snap.info[i].id;
		memcpy(&k->local, &snap.info[i].addrs.ss_local,
		       mps_sockaddr_len(snap.info[i].addrs.sa_family));
		memcpy(&k->remote, &snap.info[i].addrs.ss_remote,
		       mps_sockaddr_len(snap.info[i].addrs.sa_family));
		mps_addr_unmap(&k->local);
		mps_addr_unmap(&k->remote);
		e->nknown++;
	}
	mps_snapshot_release(&snap);
}

/* One kernel event of our connection, as the application sees it. */
static void ev_convert(struct mpsock_events *e, const struct mps_event *k)
{
	struct mpsock_event ev;
	struct sockaddr_storage l = k->local, r = k->remote;
	unsigned int live;

	memset(&ev, 0, sizeof(ev));
	mps_addr_unmap(&l);
	mps_addr_unmap(&r);
	ev.local = l;
	ev.remote = r;
	ev.backup = k->backup;
	switch (k->type) {
	case MPTCP_EVENT_SUB_ESTABLISHED:
		ev.type = MPSOCK_EVENT_SUBFLOW_ESTABLISHED;
		ev.subflow_id = ev_subflow_id(e, &l, &r, false, &live);
		break;
	case MPTCP_EVENT_SUB_PRIORITY:
		ev.type = MPSOCK_EVENT_SUBFLOW_PRIORITY;
		ev.subflow_id = ev_subflow_id(e, &l, &r, false, &live);
		break;
	case MPTCP_EVENT_SUB_CLOSED:
		ev.type = MPSOCK_EVENT_SUBFLOW_CLOSED;
		ev.subflow_id = ev_subflow_id(e, &l, &r, true, &live);
		ev.error = k->has_error ? k->error : 0;
		ev_push(e, &ev);
		if (live == 0) {
			/* the kernel keeps the connection, silently */
			memset(&ev, 0, sizeof(ev));
			ev.type = MPSOCK_EVENT_NO_SUBFLOW;
			ev_push(e, &ev);
		}
		return;
	case MPTCP_EVENT_ANNOUNCED:
		ev.type = MPSOCK_EVENT_ADDR_ANNOUNCED;
		ev.addr_id = k->rem_id;
		memset(&ev.local, 0, sizeof(ev.local));
		break;
	case MPTCP_EVENT_REMOVED:
		ev.type = MPSOCK_EVENT_ADDR_REMOVED;
		ev.addr_id = k->rem_id;
		memset(&ev.local, 0, sizeof(ev.local));
		memset(&ev.remote, 0, sizeof(ev.remote));
		break;
	case MPTCP_EVENT_CLOSED:
		ev.type = MPSOCK_EVENT_CLOSED;
		/* a token may come back for another connection later */
		e->token = 0;
		memset(&ev.local, 0, sizeof(ev.local));
		memset(&ev.remote, 0, sizeof(ev.remote));
		break;
	default:
		return; /* the connection's own CREATED/ESTABLISHED */
	}
	ev_push(e, &ev);
}

static int ev_netlink_cb(const struct nlmsghdr *nlh, void *data)
{
	struct mpsock_events *e = data;
	struct mps_event k;

	if (mps_event_parse(nlh, &k) == 0 && k.token == e->token)
		ev_convert(e, &k);
	return MNL_CB_OK;
}

static int ev_fill_direct(struct mpsock_events *e)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mpsock_event lost = {.type = MPSOCK_EVENT_LOST, .lost = 1};
	ssize_t n;

	n = recv(e->sock, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && errno == ENOBUFS) {
		/* the kernel dropped events for us: say so */
		ev_push(e, &lost);
		return 0;
	}
	if (n < 0)
		return -errno;
	mnl_cb_run(buf, n, 0, 0, ev_netlink_cb, e);
	return 0;
}

static int ev_fill_broker(struct mpsock_events *e)
{
	struct mps_event_msg m;
	struct mps_event k;
	ssize_t n;

	n = recv(e->sock, &m, sizeof(m), MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET; /* mpsockd went away */
	if (n != sizeof(m) || m.version != MPS_PROTO_VERSION)
		return -EPROTO;
	if (m.lost) {
		struct mpsock_event lost = {.type = MPSOCK_EVENT_LOST,
					    .lost = m.lost};

		ev_push(e, &lost);
	}
	if (!m.type)
		return 0;
	memset(&k, 0, sizeof(k));
	k.type = m.type;
	k.token = m.token;
	k.local = m.local;
	k.remote = m.remote;
	k.backup = m.backup;
	k.error = m.error;
	k.has_error = m.has_error;
	k.loc_id = m.loc_id;
	k.rem_id = m.rem_id;
	ev_convert(e, &k);
	return 0;
}

struct mpsock_events *mpsock_events_open(int fd)
{
	struct mpsock_events *e = calloc(1, sizeof(*e));
	struct mps_reply rep;
	struct mps_req req;
	int err;

	if (!e)
		return NULL;
	e->app_fd = fd;
	err = mps_conn_token(fd, &e->token);
	if (err)
		goto fail;
	ev_learn(e);
	if (mps_have_net_admin()) {
		e->direct = true;
		err = mps_genl_open(&e->g);
		if (!err)
			err = mps_events_subscribe(&e->g);
		if (err) {
			mps_genl_close(&e->g);
			goto fail;
		}
		e->sock = mnl_socket_get_fd(e->g.nl);
		return e;
	}
	memset(&req, 0, sizeof(req));
	req.type = MPS_REQ_SUBSCRIBE;
	err = mps_broker_subscribe(fd, &req, &rep, &e->sock);
	if (err) {
		mps_log("events: %s", rep.msg);
		goto fail;
	}
	return e;
fail:
	free(e);
	errno = -err;
	return NULL;
}

int mpsock_events_fd(const struct mpsock_events *e)
{
	if (!e)
		return mps_fail(-EINVAL);
	return e->sock;
}

int mpsock_events_read(struct mpsock_events *e, struct mpsock_event *out)
{
	int err;

	if (!e || !out)
		return mps_fail(-EFAULT);
	if (!e->count && e->dropped) {
		struct mpsock_event lost = { .type = MPSOCK_EVENT_LOST,
					     .lost = e->dropped };

		e->dropped = 0;
		ev_push(e, &lost);
	}
	/* a datagram may carry nothing of ours: go on until one does */
	while (!e->count) {
		err = e->direct ? ev_fill_direct(e) : ev_fill_broker(e);
		if (err)
			return mps_fail(err);
	}
	*out = e->queue[e->head];
	e->head = (e->head + 1) % EV_QUEUE;
	e->count--;
	return 0;
}

void mpsock_events_close(struct mpsock_events *e)
{
	if (!e)
		return;
	if (e->direct)
		mps_genl_close(&e->g);
	else
		close(e->sock);
	free(e);
}
