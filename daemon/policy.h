/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The path manager's decisions, as pure functions: what mpsockd knows
 * (pm_model.h) and what happened (a kernel event, an address or link
 * change, a retry falling due, the outcome of an earlier action) go in;
 * the records change and actions come out, appended to a queue that
 * actuator.c carries out.  Nothing here talks to the kernel or reads a
 * clock: what the policy must know of the host (time, addresses, links,
 * routes, endpoints, the modes kept across restarts) it asks through
 * struct pm_env, so that each decision can be tested with a table
 * (tests/unit/test-policy.c).
 *
 * The names start with pol_: policy_* is the driver's interface (pm.h),
 * which mpsockd's loop calls.
 */
#ifndef MPSOCKD_POLICY_H
#define MPSOCKD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <linux/types.h>

#include "config.h"
#include "endpoints.h"
#include "netwatch.h"
#include "pm_model.h"

struct mps_event;

enum pm_act {
	PM_ACT_OPEN, /* SUBFLOW_CREATE local (id, ifindex) -> remote */
	PM_ACT_BACKUP, /* SET_FLAGS: MP_PRIO of local -> remote */
	PM_ACT_RESET, /* SOCK_DESTROY (RST) of local -> remote on ifindex */
	PM_ACT_WITHDRAW, /* RM_ADDR of id (announced again just before) */
	PM_ACT_ANNOUNCE, /* ADD_ADDR of local as id */
};

struct pm_action {
	__u8 type; /* enum pm_act */
	__u8 id;
	bool backup;
	__u32 token;
	int ifindex;
	struct paddr local, remote;
	struct paddr initial; /* OPEN: the connection's first local address */
};

/* Actions in the order they must happen; a connection's stay together. */
struct pm_actions {
	struct pm_action *v;
	unsigned int head, n, cap; /* pending: v[head .. n) */
};

struct pm_action *pm_actions_push(struct pm_actions *q);
static inline unsigned int pm_actions_pending(const struct pm_actions *q)
{
	return q->n - q->head;
}
void pm_actions_reset(struct pm_actions *q);
void pm_actions_free(struct pm_actions *q);
/* "open 10.0.0.1:0 -> 10.0.0.2:80 id 1 dev 3 backup", for logs and tests */
const char *pm_action_str(const struct pm_action *a, char *buf, size_t len);

/* What the policy may ask of the host; every call is answered from memory. */
struct pm_env {
	void *ctx;
	long (*now_ms)(void *ctx);
	/* the addresses a subflow may start from */
	unsigned int (*addrs)(void *ctx, const struct nw_addr **out);
	const struct nw_link *(*link)(void *ctx, int ifindex);
	int (*addr_ifindex)(void *ctx, const struct sockaddr_storage *addr);
	/* route.h's route_egress() and route_source() */
	int (*egress)(void *ctx, const struct sockaddr_storage *local,
		      const struct sockaddr_storage *remote, int ifindex);
	int (*source)(void *ctx, const struct sockaddr_storage *remote,
		      struct sockaddr_storage *src);
	const struct ep_table *(*endpoints)(void *ctx);
	/* the mode kept for @token, MPSOCK_MODE_DEFAULT if none */
	int (*saved_mode)(void *ctx, __u32 token);
	/*
	 * The mode registered for @token's socket before it connected, by
	 * its @cookie (0: looked up by token), else @mode.
	 */
	int (*cookie_mode)(void *ctx, __u32 token, __u64 cookie, int mode);
	void (*forget)(void *ctx, __u32 token); /* it closed */
	void (*log)(void *ctx, int prio, const char *msg);
};

/*
 * A pair found without a route through its interface: logged for the first
 * connection only, and the others counted, until something that changes
 * routes (an address, a link, a route) clears the table: an address back
 * before its routes would otherwise log one line per connection.
 */
#define PM_NOROUTE_PAIRS 8
struct pm_noroute {
	struct paddr l, r;
	int ifindex;
	unsigned int more; /* connections not logged */
};

struct policy {
	struct pm_model m;
	struct mpsd_config cfg;
	const struct pm_env *env;
	struct pm_actions *out;
	struct pm_noroute noroute[PM_NOROUTE_PAIRS];
	unsigned int n_noroute;
};

void pol_init(struct policy *p, const struct mpsd_config *cfg,
	      const struct pm_env *env, struct pm_actions *out);
void pol_fini(struct policy *p);
/* A new configuration: every connection gets what it wants now. */
void pol_configure(struct policy *p, const struct mpsd_config *cfg);

void pol_event(struct policy *p, const struct mps_event *ev);
void pol_addr_added(struct policy *p, const struct sockaddr_storage *a);
void pol_addr_removed(struct policy *p, const struct sockaddr_storage *a);
void pol_link_changed(struct policy *p, int ifindex, bool up);
void pol_routes_changed(struct policy *p);
/*
 * The same, for the connections of hash buckets [@from, @to) of
 * PM_BUCKETS only: the driver spreads one change over 10,000 connections
 * across loop turns.  A sweep's buckets must be covered in order, from 0.
 */
void pol_addr_added_in(struct policy *p, const struct sockaddr_storage *a,
		       unsigned int from, unsigned int to);
void pol_addr_removed_in(struct policy *p, const struct sockaddr_storage *a,
			 unsigned int from, unsigned int to);
void pol_link_changed_in(struct policy *p, int ifindex, bool up,
			 unsigned int from, unsigned int to);
void pol_routes_changed_in(struct policy *p, unsigned int from,
			   unsigned int to);
/* The endpoint table changed (it was @old): apply the new one. */
void pol_endpoints_changed(struct policy *p, const struct ep_table *old);
/*
 * Back-offs that ended by now, soonest first, for at most @max connections
 * (the driver's slices): how many were taken.  The connections that wait
 * on are not looked at (pm_timers.h).
 */
unsigned int pol_retries_run(struct policy *p, unsigned int max);
/* Every back-off that ended by now. */
void pol_retries_due(struct policy *p);
/* The soonest retry left, 0 if none. */
static inline long pol_next_retry_ms(const struct policy *p)
{
	return pm_timer_next(&p->m);
}

/* Outcomes of actions: what the kernel said (0 or -errno, as meant). */
void pol_opened(struct policy *p, const struct pm_action *a, int err,
		const char *msg);
void pol_backup_done(struct policy *p, const struct pm_action *a, int err,
		     const char *msg);

/* Interactive mode: whether to sample, each subflow's figures, a ranking. */
bool pol_wants_rank(const struct policy *p);
void pol_rank_sample(struct policy *p, __u32 token,
		     const struct sockaddr_storage *local,
		     const struct sockaddr_storage *remote, __u32 rtt_us,
		     __u32 ack_age_ms);
void pol_rank(struct policy *p);

/* An application's word: a mode for @token, or a claim. */
void pol_set_mode(struct policy *p, __u32 token, int mode);
/* false if it was claimed already */
bool pol_claim(struct policy *p, __u32 token);

/* After a restart or lost events: what the kernel lists now (sock_diag). */
struct pm_found_subflow {
	__u32 token;
	struct sockaddr_storage local, remote;
	__u8 state; /* TCP_* */
	int ifindex;
	__u32 flags; /* MPTCP_SUBFLOW_FLAG_* */
	__u8 loc_id, rem_id;
};

void pol_discover_begin(struct policy *p);
/* An established connection; @server_side as the listeners tell. */
int pol_discover_conn(struct policy *p, __u32 token,
		      const struct sockaddr_storage *local,
		      const struct sockaddr_storage *remote, bool server_side,
		      __u64 cookie);
void pol_discover_subflow(struct policy *p, const struct pm_found_subflow *f);
/* Forgets what was not found, then applies the policy to every connection. */
void pol_discover_end(struct policy *p);
bool pol_knows(const struct policy *p, __u32 token);

/* The configuration in force, as mpsockd.conf(5) spells it. */
void pol_describe(const struct policy *p, char *policy, size_t plen, char *mode,
		  size_t mlen);

#endif
