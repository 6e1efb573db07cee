// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The path manager's driver: the one policy (policy.c) fed by the kernel's
 * events, rtnetlink (netwatch) and sock_diag (discover.c), its actions
 * carried out by the actuator a slice per loop turn, the periodic work
 * (retries, the endpoint table, the interactive ranking) on the clock.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mpsock.h"
#include "util/util.h"
#include "endpoints.h"
#include "log.h"
#include "netwatch.h"
#include "pm.h"
#include "pm_driver.h"
#include "policy_state.h"
#include "route.h"
#include "yield.h"

/* the endpoint table is read again this often (the kernel tells nothing) */
#define EP_REFRESH_MS 2000

struct policy pm_policy;
struct pm_actions pm_queue;
static long next_rank_ms, next_ep_ms;

/*
 * Under the endpoints policy, the table again; what changed is applied
 * (an endpoint that went away takes its subflows with it).
 */
static void endpoints_follow(void)
{
	struct ep_table old = *endpoints();
	int r;

	if (pm_policy.cfg.policy != MPSD_POLICY_ENDPOINTS)
		return;
	next_ep_ms = mps_now_ms() + EP_REFRESH_MS;
	r = endpoints_refresh();
	if (r < 0)
		mpsd_log(LOG_WARNING, "policy: reading the endpoints: %s",
			 strerror(-r));
	if (r > 0)
		pol_endpoints_changed(&pm_policy, &old);
}

/*
 * A change of the host (an address, a link, the routes) is decided for
 * every connection, PM_SWEEP_BUCKETS hash buckets at a time and for at most
 * PM_SWEEP_US per loop turn: with 10,000 connections one address took
 * 17 ms of decisions in one turn.  Sweeps run in the order the changes
 * came, each over all buckets before the next starts; a connection's
 * events in between are decided as they come (a connection not swept yet
 * already sees the host as it is now, through pm_env).
 *
 * The back-offs that end are no sweep: the connections that wait are in
 * a timer heap (pm_timers.h), and only those due are taken, soonest first,
 * PM_RETRY_CHUNK at a time in what is left of the same PM_SWEEP_US (10,000
 * may end together).
 */
#define PM_SWEEP_BUCKETS 64
#define PM_SWEEP_US 1000
#define PM_SWEEPS_MAX 32
#define PM_RETRY_CHUNK 64

enum sweep_kind {
	SW_ADDR_ADDED,
	SW_ADDR_REMOVED,
	SW_LINK,
	SW_ROUTES,
};

struct sweep {
	enum sweep_kind kind;
	struct sockaddr_storage addr;
	int ifindex;
	bool up;
};

static struct sweep sweeps[PM_SWEEPS_MAX];
static unsigned int nsweeps, sweep_bucket;

static void sweep_step(const struct sweep *w, unsigned int from,
		       unsigned int to)
{
	switch (w->kind) {
	case SW_ADDR_ADDED:
		pol_addr_added_in(&pm_policy, &w->addr, from, to);
		break;
	case SW_ADDR_REMOVED:
		pol_addr_removed_in(&pm_policy, &w->addr, from, to);
		break;
	case SW_LINK:
		pol_link_changed_in(&pm_policy, w->ifindex, w->up, from, to);
		break;
	case SW_ROUTES:
		pol_routes_changed_in(&pm_policy, from, to);
		break;
	}
}

/* The oldest sweep's next @nbuckets buckets; true when it is done. */
static bool sweep_advance(unsigned int nbuckets)
{
	unsigned int to = sweep_bucket + nbuckets;

	sweep_step(&sweeps[0], sweep_bucket, to);
	sweep_bucket = to;
	if (sweep_bucket < PM_BUCKETS)
		return false;
	memmove(sweeps, sweeps + 1, --nsweeps * sizeof(sweeps[0]));
	sweep_bucket = 0;
	return true;
}

static void sweep_push(const struct sweep *w)
{
	/* routes changing again before a sweep of them began: one will do */
	if (w->kind == SW_ROUTES && nsweeps > 1 &&
	    sweeps[nsweeps - 1].kind == SW_ROUTES)
		return;
	/* a storm of changes: the oldest is finished now, not dropped */
	if (nsweeps == PM_SWEEPS_MAX)
		sweep_advance(PM_BUCKETS);
	sweeps[nsweeps++] = *w;
}

/* Until @end (mps_now_us()), and a run of buckets at least. */
static void sweeps_run(long long end)
{
	while (nsweeps) {
		sweep_advance(PM_SWEEP_BUCKETS);
		if (mps_now_us() >= end)
			break;
		mpsd_yield();
	}
}

/* Back-offs that ended: until @end, and a chunk at least. */
static void retries_run(long long end)
{
	while (pol_retries_run(&pm_policy, PM_RETRY_CHUNK) == PM_RETRY_CHUNK) {
		if (mps_now_us() >= end)
			break;
		mpsd_yield();
	}
}

static bool retries_due(long now)
{
	long due = pol_next_retry_ms(&pm_policy);

	return due && due <= now;
}

/* A new network: try it now, whatever failed before. */
static void on_addr_added(const struct nw_addr *a)
{
	struct sweep w = {.kind = SW_ADDR_ADDED, .addr = a->addr};

	route_invalidate();
	endpoints_follow();
	sweep_push(&w);
}

static void on_addr_removed(const struct nw_addr *a)
{
	struct sweep w = {.kind = SW_ADDR_REMOVED, .addr = a->addr};

	route_invalidate();
	sweep_push(&w);
	endpoints_follow();
}

static void on_link_changed(const struct nw_link *l)
{
	struct sweep w = {.kind = SW_LINK, .ifindex = l->ifindex, .up = l->up};

	route_invalidate();
	sweep_push(&w);
}

static void on_routes_changed(void)
{
	struct sweep w = {.kind = SW_ROUTES};

	route_invalidate();
	sweep_push(&w);
}

static const struct nw_ops nw_ops = {
	.addr_added = on_addr_added,
	.addr_removed = on_addr_removed,
	.link_changed = on_link_changed,
	.routes_changed = on_routes_changed,
};

void policy_netwatch_readable(void)
{
	netwatch_readable();
}

void policy_event(const struct mps_event *ev)
{
	pol_event(&pm_policy, ev);
}

void policy_tick(void)
{
	long now = mps_now_ms();
	long long end;

	netwatch_tick();
	/* the sweeps first: a connection they apply has its retry decided */
	end = mps_now_us() + PM_SWEEP_US;
	sweeps_run(end);
	retries_run(end);
	policy_state_flush(false);
	if (pm_policy.cfg.policy == MPSD_POLICY_ENDPOINTS && now >= next_ep_ms)
		endpoints_follow();
	if (now >= next_rank_ms) {
		pm_rank(&pm_policy);
		next_rank_ms = now + pm_policy.cfg.interactive_ms;
	}
	actuator_run(&pm_policy, &pm_queue, PM_SLICE, PM_SLICE_US);
}

int policy_next_timeout_ms(void)
{
	long soonest = next_rank_ms, now = mps_now_ms();
	long retry = pol_next_retry_ms(&pm_policy);
	int nw = netwatch_next_timeout_ms();

	if (pm_actions_pending(&pm_queue) || nsweeps || retries_due(now))
		return 0;
	if (retry && retry < soonest)
		soonest = retry;
	if (pm_policy.cfg.policy == MPSD_POLICY_ENDPOINTS &&
	    next_ep_ms < soonest)
		soonest = next_ep_ms;
	if (nw >= 0 && now + nw < soonest)
		soonest = now + nw;
	return soonest > now ? (int)(soonest - now) : 0;
}

void policy_resync(void)
{
	int err = pm_discover(&pm_policy);

	if (err)
		mpsd_log(LOG_WARNING, "policy: rereading connections: %s",
			 strerror(-err));
}

int policy_start(const struct mpsd_config *cfg, const char *state_path)
{
	unsigned int n;
	int fd, err;

	pol_init(&pm_policy, cfg, &pm_env_host, &pm_queue);
	next_rank_ms = mps_now_ms() + cfg->interactive_ms;
	policy_state_open(state_path);
	fd = netwatch_open(&nw_ops);
	if (fd < 0)
		return fd;
	/* the table first: discovery applies the policy to what it finds */
	endpoints_follow();
	err = pm_discover(&pm_policy);
	if (err) {
		netwatch_close();
		return err;
	}
	n = pm_policy.m.nconns;
	mpsd_log(LOG_NOTICE,
		 "path manager: policy %s, mode %s, %u connection%s found",
		 mpsd_policy_name(cfg->policy), mpsd_mode_name(cfg->mode), n,
		 n == 1 ? "" : "s");
	return fd;
}

void policy_stop(void)
{
	netwatch_close();
	nsweeps = sweep_bucket = 0;
	pol_fini(&pm_policy);
	pm_actions_free(&pm_queue);
}

void policy_reload(const struct mpsd_config *cfg)
{
	pm_policy.cfg = *cfg;
	endpoints_follow();
	pol_configure(&pm_policy, cfg);
}

int policy_set_mode(__u32 token, __u64 cookie, int mode, char *msg, size_t len)
{
	int err;

	if (mode < MPSOCK_MODE_DEFAULT || mode > MPSOCK_MODE_INTERACTIVE) {
		snprintf(msg, len, "unknown mode %d", mode);
		return -EINVAL;
	}
	if (!token)
		return policy_state_set_cookie(cookie, mode, msg, len);
	err = policy_state_set(token, mode);
	if (err) {
		snprintf(msg, len, "cannot record the mode");
		return err;
	}
	pol_set_mode(&pm_policy, token, mode);
	return 0;
}

void policy_describe(char *policy, size_t plen, char *mode, size_t mlen)
{
	pol_describe(&pm_policy, policy, plen, mode, mlen);
}

void policy_claim(__u32 token)
{
	if (pol_claim(&pm_policy, token))
		policy_state_set(token, MPSOCK_MODE_MANUAL);
}
