/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The broker's parts, shared among them only: broker.c (the loop),
 * clients.c (accept, read, reply, per-user counts of connections),
 * requests.c (the request table: checks, authorization, handlers),
 * fanout.c (event subscriptions and the owner cache), waits.c (parked
 * open-and-wait requests).  One thread: nothing here is locked.
 */
#ifndef MPSOCKD_BROKER_INT_H
#define MPSOCKD_BROKER_INT_H

#include <stdbool.h>
#include <sys/types.h>

#include "op/op.h"
#include "config.h"
#include "log.h"
#include "mpsockd.h"

#define MAX_PENDING_PER_CLIENT 8
#define OPEN_WAIT_MAX_MS 120000
#define MAX_PENDING 1024
#define MAX_FDS 4 /* more than two are refused; room to see and close them */

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
	struct mpsd_log_bucket log; /* its share of the log's lines */
};

/* broker.c */
extern struct client *clients; /* opts->max_clients of them */
extern const struct broker_opts *opts;
extern struct mpsd_limits limits; /* replaced whole on a reload */
extern int broker_ep;

/* clients.c */
extern bool listen_paused;
extern int listen_fd;
extern char tag_listen;
int listen_abstract(void);
void accept_client(int ep, int ls);
void client_ready(int ep, struct client *c, unsigned int events);
void client_watch(int ep, struct client *c, bool out);
void client_drop(int ep, struct client *c);
void reply_send(int ep, struct client *c, struct mps_reply *rep);

/*
 * requests.c: one request with its @nfds descriptors, checked against
 * the table, authorized, then handled.  Closes every descriptor but the
 * application's socket fds[0] before acting.  1 when the reply is parked,
 * else 0 with @rep filled.
 */
int request_run(struct client *c, const struct mps_req *req, ssize_t n,
		int msg_flags, int *fds, unsigned int nfds,
		struct mps_reply *rep);
const char *req_name(unsigned int type);

/* fanout.c */
extern struct mps_genl events;
extern bool events_on, events_watched;
extern char tag_events;
int events_enable(char *msg, size_t len);
void events_readable(int ep);
/* 0, or -EALREADY / -EUSERS with @msg: may @c open an event stream? */
int subscription_allowed(const struct client *c, char *msg, size_t len);
void subscription_start(struct client *c);
void subscription_end(struct client *c);
/* One event to @c, or only the count of those lost (@ev NULL). */
void event_send(int ep, struct client *c, const struct mps_event *ev);

/* waits.c */
struct mps_ctrl_result;
/* Room for one more wait of @c (0), or -EAGAIN with @msg. */
int wait_room(const struct client *c, char *msg, size_t len);
/*
 * Park @c's open until its outcome or @timeout_ms (0: the maximum); false
 * if there was no room after all (the caller answers at once).
 */
bool wait_park(struct client *c, const struct mps_reply *rep,
	       const struct mps_ctrl_result *res, int timeout_ms);
void waits_event(int ep, const struct mps_event *ev);
void waits_fail_all(int ep);
void waits_expire(int ep);
void waits_drop(struct client *c);
/* The soonest deadline (monotonic ms), or -1. */
long waits_deadline(void);

#endif
