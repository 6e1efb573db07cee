/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The path manager's decisions, as pure functions: what mpsockd knows
 * (pm_model.h) and what happened (a kernel event, an address or link
 * change, a retry falling due, the outcome of an earlier action) go in;
 * the records change and actions come out, appended to a list that
 * actuator.c carries out.  Nothing here talks to the kernel: what the
 * policy must know of the host (addresses, links, routes, endpoints, the
 * modes kept across restarts) it asks through struct pm_env, so that each
 * decision can be tested with a table (tests/unit/test-policy.c).
 */
#ifndef MPSOCKD_POLICY_H
#define MPSOCKD_POLICY_H

#include <stdbool.h>
#include <sys/socket.h>
#include <linux/types.h>

#include "config.h"
#include "endpoints.h"
#include "netwatch.h"
#include "pm_model.h"

struct mps_event;

enum pm_act {
	PM_ACT_OPEN, /* SUBFLOW_CREATE local (id, ifindex) -> remote */
	PM_ACT_BACKUP, /* SET_FLAGS: MP_PRIO */
	PM_ACT_RESET, /* SOCK_DESTROY (RST) of local -> remote */
	PM_ACT_WITHDRAW, /* RM_ADDR of id (announced again just before) */
	PM_ACT_ANNOUNCE, /* ADD_ADDR of local as id */
	PM_ACT_RETRY, /* call policy_retry_due(token) at @when */
};

struct pm_action {
	__u8 type; /* enum pm_act */
	__u8 id;
	bool backup;
	__u32 token;
	int ifindex;
	long when;
	struct sockaddr_storage local, remote;
};

/* Actions in the order they must happen; a connection's stay together. */
struct pm_actions {
	struct pm_action *v;
	unsigned int head, n, cap; /* pending: v[head .. n) */
};

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
	/* the mode registered for @token's socket before it connected */
	int (*cookie_mode)(void *ctx, __u32 token, int mode);
	void (*forget)(void *ctx, __u32 token); /* it closed */
	void (*log)(void *ctx, int prio, const char *msg);
};

struct policy {
	struct pm_model m;
	struct mpsd_config cfg;
	const struct pm_env *env;
	struct pm_actions *out;
};

void policy_init(struct policy *p, const struct mpsd_config *cfg,
		 const struct pm_env *env, struct pm_actions *out);
void policy_fini(struct policy *p);
/* A new configuration: every connection gets what it wants now. */
void policy_configure(struct policy *p, const struct mpsd_config *cfg);

void policy_event(struct policy *p, const struct mps_event *ev);
void policy_addr_added(struct policy *p, const struct sockaddr_storage *a);
void policy_addr_removed(struct policy *p, const struct sockaddr_storage *a);
void policy_link_changed(struct policy *p, int ifindex, bool up);
void policy_routes_changed(struct policy *p);
/* The endpoint table changed (it was @old): apply the new one. */
void policy_endpoints_changed(struct policy *p, const struct ep_table *old);
/* A PM_ACT_RETRY fell due. */
void policy_retry_due(struct policy *p, __u32 token);

/* Outcomes of actions: what the kernel said (0 or -errno). */
void policy_opened(struct policy *p, const struct pm_action *a, int err,
		   const char *msg);
void policy_backup_done(struct policy *p, const struct pm_action *a, int err,
			const char *msg);

/* Interactive mode: the connections to sample, each subflow's figures. */
bool policy_wants_rank(const struct policy *p);
void policy_rank_sample(struct policy *p, __u32 token,
			const struct sockaddr_storage *local,
			const struct sockaddr_storage *remote, __u32 rtt_us,
			__u32 ack_age_ms);
void policy_rank(struct policy *p);

/* An application's word: a mode for @token, or a claim. */
void policy_set_mode(struct policy *p, __u32 token, int mode);
void policy_claim(struct policy *p, __u32 token);
bool policy_claimed(const struct policy *p, __u32 token);

/* After a restart or lost events: what the kernel lists now (sock_diag). */
struct pm_found_subflow {
	__u32 token;
	struct sockaddr_storage local, remote;
	__u8 state; /* TCP_* */
	int ifindex;
	__u32 flags; /* MPTCP_SUBFLOW_FLAG_* */
	__u8 loc_id, rem_id;
};

void policy_discover_begin(struct policy *p);
/* A connection; @server_side as the listeners tell; @cookie_mode, or -1. */
int policy_discover_conn(struct policy *p, __u32 token,
			 const struct sockaddr_storage *local,
			 const struct sockaddr_storage *remote,
			 bool server_side, int cookie_mode);
void policy_discover_subflow(struct policy *p,
			     const struct pm_found_subflow *f);
/* Forgets what was not found, then applies the policy to every connection. */
void policy_discover_end(struct policy *p);
bool policy_knows(const struct policy *p, __u32 token);

/* The configuration in force, as mpsockd.conf(5) spells it. */
void policy_describe(const struct policy *p, char *policy, size_t plen,
		     char *mode, size_t mlen);

/* The action list (actuator.c drains it). */
struct pm_action *pm_actions_push(struct pm_actions *q);
static inline unsigned int pm_actions_pending(const struct pm_actions *q)
{
	return q->n - q->head;
}
void pm_actions_reset(struct pm_actions *q);

#endif
