// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mpsockd's loop, and only the loop: the listening socket and the clients
 * (clients.c, which hands each request to the table in requests.c), the
 * kernel's MPTCP events (fanout.c, also for parked open-and-waits in
 * waits.c), the path manager's netlink watch and timers (policy.c).
 * Single-threaded and non-blocking; the clients are also served between
 * the steps of long work (yield.h), so a request never waits a whole turn.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <libmnl/libmnl.h>

#include "broker_int.h"
#include "log.h"
#include "notify.h"
#include "pm.h"
#include "policy_state.h"
#include "yield.h"

struct client *clients;
const struct broker_opts *opts;
struct mpsd_limits limits;
int broker_ep;

static volatile sig_atomic_t stopping, reloading;
static char tag_netwatch; /* marks the path manager's socket */
static char tag_clients; /* marks the clients' epoll set */

/*
 * The listening socket and the clients have an epoll set of their own
 * (broker_ep), nested in the loop's: the loop serves it when it wakes, and
 * long work serves it between its steps (yield.h).
 */
static void serve_clients(void)
{
	struct epoll_event evs[32];
	int n, i;

	n = epoll_wait(broker_ep, evs, 32, 0);
	for (i = 0; i < n; i++) {
		if (evs[i].data.ptr == &tag_listen)
			accept_client(broker_ep, listen_fd);
		else if (((struct client *)evs[i].data.ptr)->used)
			client_ready(broker_ep, evs[i].data.ptr, evs[i].events);
	}
}

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
	limits = cfg.limits;
	policy_state_set_share(limits.user_registrations);
	mpsd_log(LOG_NOTICE, "configuration reloaded: policy %s, mode %s",
		 mpsd_policy_name(cfg.policy), mpsd_mode_name(cfg.mode));
	mpsd_notify_reloaded("serving");
}

static int next_timeout(void)
{
	long soonest = waits_deadline(), now = mps_now_ms(), log_ms;
	int policy_ms = policy_next_timeout_ms(), ms;

	/* registrations are written coalesced: wake for that too */
	log_ms = policy_state_next_flush_ms();
	if (log_ms >= 0 && (soonest < 0 || now + log_ms < soonest))
		soonest = now + log_ms;
	log_ms = mpsd_log_next_ms();
	if (log_ms >= 0 && (soonest < 0 || now + log_ms < soonest))
		soonest = now + log_ms;
	if (soonest < 0)
		return policy_ms;
	ms = soonest > now ? (int)(soonest - now) : 0;
	return policy_ms >= 0 && policy_ms < ms ? policy_ms : ms;
}

int broker_run(const struct broker_opts *o)
{
	struct epoll_event ev, evs[8];
	char msg[MPS_MSG_LEN] = "";
	int ep, loop_ep, ls, n, i, nw = -1, err = 0;

	opts = o;
	limits = o->cfg->limits;
	clients = calloc(o->max_clients, sizeof(*clients));
	if (!clients)
		return -ENOMEM;
	ls = listen_fd = listen_abstract();
	if (ls < 0) {
		free(clients);
		return ls;
	}
	ep = broker_ep = epoll_create1(EPOLL_CLOEXEC);
	loop_ep = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.ptr = &tag_listen;
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	ev.data.ptr = &tag_clients;
	epoll_ctl(loop_ep, EPOLL_CTL_ADD, ep, &ev);
	/* the path manager hears every event, from before it looks */
	err = events_enable(msg, sizeof(msg));
	if (!err)
		nw = policy_start(o->cfg, o->state_path);
	policy_state_set_share(limits.user_registrations);
	if (err || nw < 0) {
		mpsd_log(LOG_ERR, "cannot act as the path manager: %s",
			 strerror(err ? -err : -nw));
		err = err ? err : nw;
		goto out;
	}
	ev.data.ptr = &tag_netwatch;
	epoll_ctl(loop_ep, EPOLL_CTL_ADD, nw, &ev);
	/* watched before the first wait: events from now on are acted on */
	ev.data.ptr = &tag_events;
	epoll_ctl(loop_ep, EPOLL_CTL_ADD, mnl_socket_get_fd(events.nl), &ev);
	events_watched = true;
	mpsd_yield_set(serve_clients);
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
		n = epoll_wait(loop_ep, evs, 8,
			       listen_paused ? 1000 : next_timeout());
		if (n < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == &tag_clients)
				serve_clients();
			else if (evs[i].data.ptr == &tag_events)
				events_readable(ep);
			else if (evs[i].data.ptr == &tag_netwatch)
				policy_netwatch_readable();
		}
		if (events_on && !events_watched) {
			/* subscribed by a handler just now: watch it */
			ev.events = EPOLLIN;
			ev.data.ptr = &tag_events;
			epoll_ctl(loop_ep, EPOLL_CTL_ADD,
				  mnl_socket_get_fd(events.nl), &ev);
			events_watched = true;
		}
		waits_expire(ep);
		mpsd_log_flush();
		policy_tick();
	}
	mpsd_notify_stopping();
	mpsd_yield_set(NULL);
out:
	for (i = 0; i < (int)o->max_clients; i++)
		if (clients[i].used)
			client_drop(ep, &clients[i]);
	policy_stop();
	policy_state_close();
	if (events_on)
		mps_genl_close(&events);
	close(loop_ep);
	close(ep);
	close(ls);
	free(clients);
	return err;
}
