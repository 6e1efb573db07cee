// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Open-and-wait requests parked until the kernel reports their outcome: at
 * most MAX_PENDING_PER_CLIENT per connection, the user's share (per-user
 * waits) and MAX_PENDING in all.  Each is answered from its event, with
 * ETIMEDOUT at its deadline, or with EIO when events were lost; a subflow
 * still connecting is cancelled when nobody will hear its outcome.
 */
#include <errno.h>
#include <stdio.h>

#include "broker_int.h"

/* An open-and-wait parked until the kernel reports its outcome. */
struct pending {
	struct client *c;
	struct mps_reply rep;
	struct mps_ctrl_result res;
	long deadline_ms;
	bool used;
};

static struct pending pendings[MAX_PENDING];
static unsigned int npending;

static void pending_cancel(const struct pending *p)
{
	char msg[MPS_MSG_LEN];
	struct mps_genl *g;

	if (p->res.id && mps_genl_cached(&g) == 0)
		mps_pm_subflow_destroy(g, p->res.token, &p->res.local,
				       &p->res.remote, msg, sizeof(msg));
}

/* Counted when asked, never kept: a count apart could drift. */
static unsigned int uid_waits(uid_t uid)
{
	unsigned int i, n = 0;

	for (i = 0; i < MAX_PENDING && npending; i++)
		n += pendings[i].used && pendings[i].c->peer.cred.uid == uid;
	return n;
}

static struct pending *pending_free(void)
{
	unsigned int i;

	for (i = 0; i < MAX_PENDING && npending < MAX_PENDING; i++)
		if (!pendings[i].used)
			return &pendings[i];
	return NULL;
}

int wait_room(const struct client *c, char *msg, size_t len)
{
	if (c->pending >= MAX_PENDING_PER_CLIENT) {
		snprintf(msg, len,
			 "mpsockd: limit of %u open-and-wait requests per "
			 "connection reached",
			 MAX_PENDING_PER_CLIENT);
		return -EAGAIN;
	}
	if (uid_waits(c->peer.cred.uid) >= limits.user_waits) {
		snprintf(msg, len,
			 "mpsockd: per-user limit of %u open-and-wait "
			 "requests reached",
			 limits.user_waits);
		return -EAGAIN;
	}
	if (!pending_free()) {
		snprintf(msg, len, "mpsockd: all %u open-and-wait slots in use",
			 MAX_PENDING);
		return -EAGAIN;
	}
	return 0;
}

bool wait_park(struct client *c, const struct mps_reply *rep,
	       const struct mps_ctrl_result *res, int timeout_ms)
{
	struct pending *p = pending_free();

	if (!p)
		return false; /* wait_room() found one: cannot happen */
	p->used = true;
	p->c = c;
	p->rep = *rep;
	p->res = *res;
	/* bounded here too: a raw client may ask for anything */
	p->deadline_ms = mps_now_ms() + OPEN_WAIT_MAX_MS;
	if (timeout_ms > 0 && timeout_ms < OPEN_WAIT_MAX_MS)
		p->deadline_ms = mps_now_ms() + timeout_ms;
	c->pending++;
	npending++;
	return true;
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

void waits_event(int ep, const struct mps_event *ev)
{
	unsigned int i;
	int r;

	for (i = 0; i < MAX_PENDING && npending; i++) {
		if (!pendings[i].used)
			continue;
		r = mps_event_open_outcome(ev, pendings[i].res.token,
					   &pendings[i].res.local,
					   &pendings[i].res.remote);
		if (r > 0)
			pending_finish(ep, &pendings[i], 0, "");
		else if (r < 0)
			pending_finish(ep, &pendings[i], r,
				       mps_event_error_msg(r));
	}
}

/* Their outcome may have been among the lost events: say so now. */
void waits_fail_all(int ep)
{
	unsigned int i;

	for (i = 0; i < MAX_PENDING && npending; i++)
		if (pendings[i].used)
			pending_finish(ep, &pendings[i], -EIO,
				       "MPTCP events were lost: the subflow's "
				       "state is unknown, list the subflows");
}

void waits_expire(int ep)
{
	long now = mps_now_ms();
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

/* Nobody will hear the outcome: cancel what is still connecting. */
void waits_drop(struct client *c)
{
	unsigned int i;

	for (i = 0; i < MAX_PENDING && c->pending; i++) {
		if (pendings[i].used && pendings[i].c == c) {
			pending_cancel(&pendings[i]);
			pendings[i].used = false;
			c->pending--;
			npending--;
		}
	}
}

long waits_deadline(void)
{
	long soonest = -1;
	unsigned int i;

	for (i = 0; i < MAX_PENDING && npending; i++)
		if (pendings[i].used &&
		    (soonest < 0 || pendings[i].deadline_ms < soonest))
			soonest = pendings[i].deadline_ms;
	return soonest;
}
