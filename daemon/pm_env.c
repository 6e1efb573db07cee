// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What the decisions know of the host (struct pm_env), from the modules
 * that keep it: netwatch (links and addresses), route (egress and source,
 * cached until routing changes), endpoints (the table last read),
 * policy_state (the modes kept across restarts), the clock and the log.
 */
#include <syslog.h>

#include "util/util.h"
#include "endpoints.h"
#include "log.h"
#include "netwatch.h"
#include "pm_driver.h"
#include "policy_state.h"
#include "route.h"

static long env_now_ms(void *ctx)
{
	(void)ctx;
	return mps_now_ms();
}

static unsigned int env_addrs(void *ctx, const struct nw_addr **out)
{
	(void)ctx;
	return netwatch_addrs(out);
}

static const struct nw_link *env_link(void *ctx, int ifindex)
{
	(void)ctx;
	return netwatch_link(ifindex);
}

static int env_addr_ifindex(void *ctx, const struct sockaddr_storage *addr)
{
	(void)ctx;
	return netwatch_addr_ifindex(addr);
}

static int env_egress(void *ctx, const struct sockaddr_storage *local,
		      const struct sockaddr_storage *remote, int ifindex)
{
	(void)ctx;
	return route_egress(local, remote, ifindex);
}

static int env_source(void *ctx, const struct sockaddr_storage *remote,
		      struct sockaddr_storage *src)
{
	(void)ctx;
	return route_source(remote, src);
}

static const struct ep_table *env_endpoints(void *ctx)
{
	(void)ctx;
	return endpoints();
}

static int env_saved_mode(void *ctx, __u32 token)
{
	(void)ctx;
	return policy_state_mode(token);
}

static int env_cookie_mode(void *ctx, __u32 token, __u64 cookie, int mode)
{
	(void)ctx;
	if (cookie)
		return policy_state_match_cookie_value(token, cookie, mode);
	/* the socket's cookie, asked of sock_diag only if one is waiting */
	if (!policy_state_has_cookies())
		return mode;
	return policy_state_match_cookie(token, mode);
}

static void env_forget(void *ctx, __u32 token)
{
	(void)ctx;
	policy_state_forget(token);
}

static void env_log(void *ctx, int prio, const char *msg)
{
	(void)ctx;
	mpsd_log(prio, "%s", msg);
}

const struct pm_env pm_env_host = {
	.now_ms = env_now_ms,
	.addrs = env_addrs,
	.link = env_link,
	.addr_ifindex = env_addr_ifindex,
	.egress = env_egress,
	.source = env_source,
	.endpoints = env_endpoints,
	.saved_mode = env_saved_mode,
	.cookie_mode = env_cookie_mode,
	.forget = env_forget,
	.log = env_log,
};
