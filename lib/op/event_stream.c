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
#include <stdlib.h>
#include <string.h>

#include "op/op.h"

#define EV_QUEUE 32 /* events decoded from one datagram, waiting to be read */
#define EV_KNOWN 64 /* subflows whose ids are remembered for their close */

struct ev_known {
	__u32 id;
	struct sockaddr_storage local, remote;
};

struct mpsock_events {
	int app_fd;
	__u32 token;
	struct mps_subscription sub;
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
		mps_snapshot_tuple(&snap, i, &l, &r);
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
		k->id = snap.info[i].id;
		mps_snapshot_tuple(&snap, i, &k->local, &k->remote);
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

static void ev_received(const struct mps_event *k, __u32 lost, void *data)
{
	struct mpsock_events *e = data;
	struct mpsock_event ev = {.type = MPSOCK_EVENT_LOST, .lost = lost};

	if (lost)
		ev_push(e, &ev);
	/* the kernel's whole group arrives on a direct subscription */
	if (k && k->token == e->token)
		ev_convert(e, k);
}

struct mpsock_events *mps_stream_open(int fd)
{
	struct mpsock_events *e = calloc(1, sizeof(*e));
	char msg[MPS_MSG_LEN] = "";
	int err;

	if (!e)
		return NULL;
	e->app_fd = fd;
	err = mps_conn_token(fd, &e->token);
	if (err)
		goto fail;
	ev_learn(e);
	err = mps_op_subscribe(fd, &e->sub, msg, sizeof(msg));
	if (!err)
		return e;
	mps_log("events: %s", msg);
fail:
	free(e);
	errno = -err;
	return NULL;
}

int mps_stream_fd(const struct mpsock_events *e)
{
	return e->sub.sock;
}

int mps_stream_read(struct mpsock_events *e, struct mpsock_event *out)
{
	int err;

	if (!e->count && e->dropped) {
		struct mpsock_event lost = {.type = MPSOCK_EVENT_LOST,
					    .lost = e->dropped};

		e->dropped = 0;
		ev_push(e, &lost);
	}
	/* a datagram may carry nothing of ours: go on until one does */
	while (!e->count) {
		err = mps_op_sub_read(&e->sub, ev_received, e);
		if (err)
			return err;
	}
	*out = e->queue[e->head];
	e->head = (e->head + 1) % EV_QUEUE;
	e->count--;
	return 0;
}

void mps_stream_close(struct mpsock_events *e)
{
	mps_op_unsubscribe(&e->sub);
	free(e);
}
