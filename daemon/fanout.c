// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Event subscriptions: the kernel's MPTCP events, read once, go to the
 * path manager, to parked open-and-waits and to each subscriber that asked
 * for that connection (by its socket) or for its own uid's connections
 * (the owner cache).  Never blocking: a full queue counts what it lost.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>

#include "broker_int.h"
#include "log.h"
#include "pm.h"
#include "yield.h"

struct mps_genl events;
bool events_on, events_watched;
char tag_events; /* marks the events socket in epoll data */
static unsigned int nsubscribed;

int events_enable(char *msg, size_t len)
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

static unsigned int uid_subscriptions(uid_t uid)
{
	unsigned int i, n = 0;

	for (i = 0; i < opts->max_clients && nsubscribed; i++)
		n += clients[i].used && clients[i].subscribed &&
		     clients[i].peer.cred.uid == uid;
	return n;
}

int subscription_allowed(const struct client *c, char *msg, size_t len)
{
	if (c->subscribed)
		return -EALREADY;
	if (uid_subscriptions(c->peer.cred.uid) < limits.user_subscriptions)
		return 0;
	snprintf(msg, len,
		 "mpsockd: per-user limit of %u event subscriptions reached",
		 limits.user_subscriptions);
	return -EUSERS;
}

void subscription_start(struct client *c)
{
	c->subscribed = true;
	c->lost = 0;
	nsubscribed++;
}

void subscription_end(struct client *c)
{
	if (c->subscribed)
		nsubscribed--;
	c->subscribed = false;
	c->by_owner = false;
}

/*
 * One event to one subscriber, never blocking: a full queue drops it and
 * counts it; the count goes out with the next event, or on its own as soon
 * as the client reads again (EPOLLOUT).
 */
void event_send(int ep, struct client *c, const struct mps_event *ev)
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
	unsigned int i, left = nsubscribed;
	uid_t uid = 0;

	/* every subscriber seen: the rest of the slots need no look */
	for (i = 0; i < opts->max_clients && left; i++) {
		struct client *c = &clients[i];

		if (c->used && c->subscribed)
			left--;
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

	if (mps_event_parse(nlh, &ev))
		return MNL_CB_OK;
	events_fan_out(ep, &ev);
	policy_event(&ev);
	if (ev.type == MPTCP_EVENT_CLOSED)
		token_forget(ev.token);
	waits_event(ep, &ev);
	return MNL_CB_OK;
}

#define EVENTS_SLICE_US 2000

void events_readable(int ep)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;

	/*
	 * Each recv() is one event; with thousands of connections a burst
	 * (an address gone) is thousands of them: at most EVENTS_SLICE_US
	 * of them per loop turn, then the actuator gets its; waiting clients
	 * are served in between (mpsd_yield()).
	 */
	long long end = mps_now_us() + EVENTS_SLICE_US;

	while (events_on && mps_now_us() < end) {
		n = recv(mnl_socket_get_fd(events.nl), buf, sizeof(buf),
			 MSG_DONTWAIT);
		if (n > 0) {
			mnl_cb_run(buf, n, 0, 0, broker_event_cb, &ep);
			mpsd_yield();
		} else if (n < 0 && errno == ENOBUFS) {
			mpsd_log_limited(LOG_WARNING, "event queue overrun");
			events_fan_out(ep, NULL);
			waits_fail_all(ep);
			policy_resync();
		} else {
			break;
		}
	}
}
