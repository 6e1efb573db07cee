// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mpsockd's path manager decisions (daemon/policy.c) against a fake host:
 * for each policy, mode and event, the exact actions it queues.  A client
 * connection 10.0.1.1 -> 10.0.0.2:80 starts on eth0; eth1 (10.0.2.1) is
 * the second path, eth2 (10.0.3.1) comes and goes.  Every case builds the
 * same history (ESTABLISHED, the opens succeed, their SUB_ESTABLISHED
 * come), then applies its event and compares the queue with the table.
 *
 * TEST_POLICY_PRINT=1 prints what each case got, as a table row.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/mptcp.h>

#include "mpsock.h"
#include "kernel/kernel.h"
#include "../../daemon/actuator.h"
#include "../../daemon/policy.h"
#include "test.h"

#define TOKEN 0xa1
#define T0 1000000L

/* ------------------------------------------------------------ the host */

struct fake_addr {
	const char *ip;
	int ifindex;
	bool present;
};

static struct fake {
	long now;
	struct nw_link links[3];
	struct fake_addr addrs[3];
	struct nw_addr up[3];
	bool noroute[8]; /* by ifindex: no route to the peer through it */
	struct ep_table ep;
	int forgot, logs;
	char last_log[512];
} F;

static void ss_of(struct sockaddr_storage *ss, const char *ip, int port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	inet_pton(AF_INET, ip, &in->sin_addr);
}

static const struct fake_addr *addr_find(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
	struct in_addr a;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		inet_pton(AF_INET, F.addrs[i].ip, &a);
		if (ss->ss_family == AF_INET &&
		    in->sin_addr.s_addr == a.s_addr && F.addrs[i].present)
			return &F.addrs[i];
	}
	return NULL;
}

static long f_now(void *ctx)
{
	(void)ctx;
	return F.now;
}

static unsigned int f_addrs(void *ctx, const struct nw_addr **out)
{
	unsigned int i, n = 0;

	(void)ctx;
	for (i = 0; i < 3; i++) {
		if (!F.addrs[i].present || !F.links[i].up)
			continue;
		F.up[n].ifindex = F.addrs[i].ifindex;
		ss_of(&F.up[n].addr, F.addrs[i].ip, 0);
		n++;
	}
	*out = F.up;
	return n;
}

static const struct nw_link *f_link(void *ctx, int ifindex)
{
	(void)ctx;
	return ifindex >= 2 && ifindex <= 4 ? &F.links[ifindex - 2] : NULL;
}

static int f_addr_ifindex(void *ctx, const struct sockaddr_storage *addr)
{
	const struct fake_addr *a = addr_find(addr);

	(void)ctx;
	return a ? a->ifindex : 0;
}

static int f_egress(void *ctx, const struct sockaddr_storage *local,
		    const struct sockaddr_storage *remote, int ifindex)
{
	const struct nw_link *l;

	(void)remote;
	if (!ifindex)
		ifindex = f_addr_ifindex(ctx, local);
	l = f_link(ctx, ifindex);
	/* a link that is down has no route through it */
	return F.noroute[ifindex & 7] || (l && !l->up) ? 0 : ifindex;
}

static int f_source(void *ctx, const struct sockaddr_storage *remote,
		    struct sockaddr_storage *src)
{
	(void)ctx;
	(void)remote;
	ss_of(src, "10.0.1.1", 0);
	return 0;
}

static const struct ep_table *f_endpoints(void *ctx)
{
	(void)ctx;
	return &F.ep;
}

static int f_saved_mode(void *ctx, __u32 token)
{
	(void)ctx;
	(void)token;
	return MPSOCK_MODE_DEFAULT;
}

static int f_cookie_mode(void *ctx, __u32 token, __u64 cookie, int mode)
{
	(void)ctx;
	(void)token;
	(void)cookie;
	return mode;
}

static void f_forget(void *ctx, __u32 token)
{
	(void)ctx;
	(void)token;
	F.forgot++;
}

static void f_log(void *ctx, int prio, const char *msg)
{
	(void)ctx;
	(void)prio;
	F.logs++;
	snprintf(F.last_log, sizeof(F.last_log), "%s", msg);
}

static const struct pm_env env = {
	.now_ms = f_now,
	.addrs = f_addrs,
	.link = f_link,
	.addr_ifindex = f_addr_ifindex,
	.egress = f_egress,
	.source = f_source,
	.endpoints = f_endpoints,
	.saved_mode = f_saved_mode,
	.cookie_mode = f_cookie_mode,
	.forget = f_forget,
	.log = f_log,
};

static void fake_reset(void)
{
	static const struct nw_link links[3] = {
		{2, "eth0", true}, {3, "eth1", true}, {4, "eth2", true}};
	static const struct fake_addr addrs[3] = {{"10.0.1.1", 2, true},
						  {"10.0.2.1", 3, true},
						  {"10.0.3.1", 4, false}};

	memset(&F, 0, sizeof(F));
	F.now = T0;
	memcpy(F.links, links, sizeof(links));
	memcpy(F.addrs, addrs, sizeof(addrs));
	/* one "subflow" endpoint: eth1's address, as NetworkManager sets */
	ss_of(&F.ep.ep[0].addr, "10.0.2.1", 0);
	F.ep.ep[0].id = 5;
	F.ep.ep[0].flags = MPTCP_PM_ADDR_FLAG_SUBFLOW;
	F.ep.n = 1;
	F.ep.subflows_max = 4;
	F.ep.add_addr_accepted_max = 2;
}

/* ---------------------------------------------------------- the harness */

static struct policy P;
static struct pm_actions Q;
static int next_port;

static void event(__u8 type, const char *lip, int lport, const char *rip,
		  int rport, __u8 loc_id, int ifindex)
{
	struct mps_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.token = TOKEN;
	ss_of(&ev.local, lip, lport);
	ss_of(&ev.remote, rip, rport);
	ev.loc_id = loc_id;
	ev.ifindex = ifindex;
	pol_event(&P, &ev);
}

/* The steps the actuator would run the last queue taken in (act_phase.c). */
static unsigned int taken_steps;

/* The queue, as one line, emptied. */
static const char *taken(void)
{
	static char out[4096];
	unsigned int step[64];
	char one[256];
	size_t len = 0;

	out[0] = '\0';
	taken_steps =
		pm_actions_pending(&Q) <= 64
			? act_steps(Q.v + Q.head, pm_actions_pending(&Q), step)
			: ~0U;
	while (pm_actions_pending(&Q)) {
		pm_action_str(&Q.v[Q.head++], one, sizeof(one));
		/* the rest is taken all the same, and not shown */
		if (len < sizeof(out))
			len += snprintf(out + len, sizeof(out) - len, "%s%s",
					len ? "; " : "", one);
	}
	if (len >= sizeof(out))
		memcpy(out + sizeof(out) - 4, "...", 4);
	pm_actions_reset(&Q);
	return out;
}

/*
 * What the kernel would do: every open works and its subflow comes up
 * (from the next port), every MP_PRIO is sent, a reset subflow's
 * SUB_CLOSED comes.
 */
static void settle(void)
{
	char lip[INET_ADDRSTRLEN], rip[INET_ADDRSTRLEN];

	while (pm_actions_pending(&Q)) {
		struct pm_action a = Q.v[Q.head++];

		inet_ntop(AF_INET, a.local.a, lip, sizeof(lip));
		inet_ntop(AF_INET, a.remote.a, rip, sizeof(rip));
		switch (a.type) {
		case PM_ACT_OPEN:
			pol_opened(&P, &a, 0, "");
			event(MPTCP_EVENT_SUB_ESTABLISHED, lip, next_port++,
			      rip, ntohs(a.remote.port), a.id, a.ifindex);
			break;
		case PM_ACT_BACKUP:
			pol_backup_done(&P, &a, 0, "");
			break;
		case PM_ACT_RESET:
			event(MPTCP_EVENT_SUB_CLOSED, lip, ntohs(a.local.port),
			      rip, ntohs(a.remote.port), 0, a.ifindex);
			break;
		}
	}
	pm_actions_reset(&Q);
}

enum { FULLMESH, NDIFFPORTS, ENDPOINTS, SINGLE, NPOLICIES };
static const enum mpsd_policy policies[] = {
	[FULLMESH] = MPSD_POLICY_FULLMESH,
	[NDIFFPORTS] = MPSD_POLICY_NDIFFPORTS,
	[ENDPOINTS] = MPSD_POLICY_ENDPOINTS,
	[SINGLE] = MPSD_POLICY_SINGLE,
};
static const char *const policy_names[] = {"fullmesh", "ndiffports",
					   "endpoints", "single"};
static const char *const mode_names[] = {"aggregate", "handover",
					 "interactive"};

static void start(int policy, int mode)
{
	struct mpsd_config cfg;

	mpsd_config_defaults(&cfg);
	cfg.policy = policies[policy];
	cfg.ndiffports = policy == NDIFFPORTS ? 3 : 0;
	cfg.mode = mode;
	cfg.max_subflows = 4;
	cfg.backoff_min_ms = 100;
	cfg.backoff_max_ms = 30000;
	fake_reset();
	next_port = 50000;
	pm_actions_reset(&Q);
	if (P.env)
		pol_fini(&P); /* the case before */
	pol_init(&P, &cfg, &env, &Q);
}

static void established(void)
{
	event(MPTCP_EVENT_CREATED, "10.0.1.1", 40000, "10.0.0.2", 80, 0, 0);
	event(MPTCP_EVENT_ESTABLISHED, "10.0.1.1", 40000, "10.0.0.2", 80, 0, 0);
}

/* ------------------------------------------------------------ the events */

enum ev {
	EV_ESTABLISHED, /* the connection: what it opens */
	EV_SUB_ESTABLISHED, /* its first extra subflow comes up */
	EV_SUB_CLOSED, /* the first subflow dies young */
	EV_RETRY, /* ... and its back-off ends */
	EV_ADDR_ADDED, /* 10.0.3.1 on eth2 */
	EV_ADDR_REMOVED, /* 10.0.1.1, the first subflow's */
	EV_ADDR2_REMOVED, /* 10.0.2.1 */
	EV_LINK_DOWN, /* eth1 */
	EV_LINK_UP, /* eth1 back */
	EV_ROUTES, /* eth2 had no route to the peer, now has */
	EV_RANK, /* eth1 is 40 ms faster */
	EV_RANK_NOISE, /* eth1 is faster, but by less than the hysteresis */
	EV_RANK_SMALL, /* eth1 is 20% faster, but by less than 5 ms */
	NEVENTS
};

static const char *const event_names[] = {
	"established",	       "sub established", "sub closed",
	"retry due",	       "addr added",	  "first addr removed",
	"second addr removed", "link down",	  "link up",
	"routes changed",      "rank sample",	  "rank noise",
	"rank small gain",
};

static void rank_sample(const char *lip, int lport, __u32 rtt_us)
{
	struct sockaddr_storage l, r;

	ss_of(&l, lip, lport);
	ss_of(&r, "10.0.0.2", 80);
	pol_rank_sample(&P, TOKEN, &l, &r, rtt_us, 10);
}

static const char *run(int policy, int mode, enum ev e)
{
	struct sockaddr_storage a;

	start(policy, mode);
	established();
	if (e == EV_ESTABLISHED)
		return taken();
	/* the first open's subflow, and only it */
	if (pm_actions_pending(&Q) && Q.v[Q.head].type == PM_ACT_OPEN) {
		struct pm_action first = Q.v[Q.head];
		char lip[INET_ADDRSTRLEN];

		Q.head++;
		pol_opened(&P, &first, 0, "");
		settle();
		inet_ntop(AF_INET, first.local.a, lip, sizeof(lip));
		event(MPTCP_EVENT_SUB_ESTABLISHED, lip, 49999, "10.0.0.2", 80,
		      first.id, first.ifindex);
		if (e == EV_SUB_ESTABLISHED)
			return taken();
	} else if (e == EV_SUB_ESTABLISHED) {
		return "(nothing opened)";
	}
	settle();
	switch (e) {
	case EV_SUB_CLOSED:
	case EV_RETRY:
		F.now += 1000;
		event(MPTCP_EVENT_SUB_CLOSED, "10.0.1.1", 40000, "10.0.0.2", 80,
		      0, 0);
		if (e == EV_SUB_CLOSED)
			break;
		taken();
		F.now += 99; /* backoff_min_ms is 100 */
		pol_retries_due(&P);
		if (pm_actions_pending(&Q))
			return "(too early)";
		F.now += 1;
		pol_retries_due(&P);
		break;
	case EV_ADDR_ADDED:
		F.addrs[2].present = true;
		ss_of(&a, "10.0.3.1", 0);
		pol_addr_added(&P, &a);
		break;
	case EV_ADDR_REMOVED:
		F.addrs[0].present = false;
		ss_of(&a, "10.0.1.1", 0);
		pol_addr_removed(&P, &a);
		break;
	case EV_ADDR2_REMOVED:
		F.addrs[1].present = false;
		ss_of(&a, "10.0.2.1", 0);
		pol_addr_removed(&P, &a);
		break;
	case EV_LINK_DOWN:
	case EV_LINK_UP:
		F.links[1].up = false;
		pol_link_changed(&P, 3, false);
		if (e == EV_LINK_DOWN)
			break;
		settle();
		F.links[1].up = true;
		pol_link_changed(&P, 3, true);
		break;
	case EV_ROUTES:
		F.noroute[4] = true;
		F.addrs[2].present = true;
		ss_of(&a, "10.0.3.1", 0);
		pol_addr_added(&P, &a);
		if (pm_actions_pending(&Q))
			return "(opened without a route)";
		F.noroute[4] = false;
		pol_routes_changed(&P);
		break;
	case EV_RANK:
	case EV_RANK_NOISE:
	case EV_RANK_SMALL:
		/* the first subflow, and eth1's (the first one opened) */
		rank_sample("10.0.1.1", 40000,
			    e == EV_RANK_SMALL ? 20000 : 50000);
		rank_sample("10.0.2.1", 49999,
			    e == EV_RANK	 ? 10000
			    : e == EV_RANK_NOISE ? 41000
						 : 15500);
		pol_rank(&P);
		break;
	default:
		break;
	}
	return taken();
}

/*
 * The expected actions, by policy, mode (aggregate, handover,
 * interactive) and event.
 */
#define O2 "000000a1 open 10.0.2.1:0 -> 10.0.0.2:80"
#define O3 "000000a1 open 10.0.3.1:0 -> 10.0.0.2:80"
#define O1 "000000a1 open 10.0.1.1:0 -> 10.0.0.2:80"
#define SF1 "10.0.1.1:40000 -> 10.0.0.2:80"
#define SF2 "10.0.2.1:50000 -> 10.0.0.2:80"

struct row {
	int policy, mode;
	enum ev e;
	const char *want;
};

#include "test-policy-table.h"

/* ------------------------------------------------- outcomes and control */

static void test_outcomes(void)
{
	struct pm_action a;
	struct sockaddr_storage s;

	/* the kernel says the connection is under its own path manager */
	start(FULLMESH, MPSD_MODE_AGGREGATE);
	established();
	a = Q.v[Q.head];
	taken();
	pol_opened(&P, &a, -EOPNOTSUPP, "userspace PM not selected");
	F.addrs[2].present = true;
	ss_of(&s, "10.0.3.1", 0);
	pol_addr_added(&P, &s);
	CHECK("EOPNOTSUPP: the connection is not ours, nothing more",
	      !strcmp(taken(), ""));

	/* a failed open: logged, backs off, the next round tries again */
	start(FULLMESH, MPSD_MODE_AGGREGATE);
	established();
	a = Q.v[Q.head];
	taken();
	F.logs = 0;
	pol_opened(&P, &a, -EHOSTUNREACH, "");
	CHECK("a failed open is logged once",
	      F.logs == 1 && strstr(F.last_log, "open 10.0.2.1:0"));
	CHECK("a failed open waits backoff_min_ms",
	      pol_next_retry_ms(&P) == T0 + 100);
	F.now += 100;
	pol_retries_due(&P);
	CHECK("after the back-off, the pair is tried again",
	      !strcmp(taken(), O2 " id 1 dev 3"));
	pol_opened(&P, &a, -EHOSTUNREACH, "");
	CHECK("the second failure waits twice as long",
	      pol_next_retry_ms(&P) == T0 + 100 + 200);
	CHECK("the second failure is not logged again", F.logs == 1);

	/* the kernel's table had another id: the policy learns it */
	start(FULLMESH, MPSD_MODE_AGGREGATE);
	established();
	a = Q.v[Q.head];
	taken();
	a.id = 7;
	pol_opened(&P, &a, 0, "");
	F.addrs[1].present = false;
	ss_of(&s, "10.0.2.1", 0);
	settle();
	pol_addr_removed(&P, &s);
	CHECK("an attempt lost with its address: its id is withdrawn",
	      !strcmp(taken(), "000000a1 withdraw 10.0.2.1:0 id 7"));

	/* a failed MP_PRIO: believed not done */
	start(FULLMESH, MPSD_MODE_HANDOVER);
	established();
	settle();
	F.addrs[0].present = false;
	ss_of(&s, "10.0.1.1", 0);
	pol_addr_removed(&P, &s);
	a = Q.v[Q.head];
	taken();
	pol_backup_done(&P, &a, -EIO, "");
	pol_configure(&P, &P.cfg);
	CHECK("a failed MP_PRIO is sent again",
	      !strcmp(taken(), "000000a1 active " SF2));
}

static void test_control(void)
{
	struct sockaddr_storage s;
	struct mpsd_config cfg;
	char pol[32], mode[32];

	start(FULLMESH, MPSD_MODE_AGGREGATE);
	established();
	settle();
	CHECK("claim: a first claim", pol_claim(&P, TOKEN));
	CHECK("claim: a second one changes nothing", !pol_claim(&P, TOKEN));
	F.addrs[2].present = true;
	ss_of(&s, "10.0.3.1", 0);
	pol_addr_added(&P, &s);
	CHECK("claimed: the policy leaves it alone", !strcmp(taken(), ""));

	start(FULLMESH, MPSD_MODE_AGGREGATE);
	established();
	settle();
	pol_set_mode(&P, TOKEN, MPSOCK_MODE_HANDOVER);
	CHECK("set_mode handover: one path carries the data",
	      !strcmp(taken(), "000000a1 backup " SF2));

	start(FULLMESH, MPSD_MODE_HANDOVER);
	established();
	settle();
	event(MPTCP_EVENT_SUB_ESTABLISHED, "10.0.2.1", 50001, "10.0.0.2", 80, 1,
	      0);
	CHECK("handover: a subflow that joined active becomes a backup",
	      !strcmp(taken(),
		      "000000a1 backup 10.0.2.1:50001 -> 10.0.0.2:80"));

	start(FULLMESH, MPSD_MODE_AGGREGATE);
	established();
	settle();
	cfg = P.cfg;
	cfg.mode = MPSD_MODE_HANDOVER;
	pol_configure(&P, &cfg);
	CHECK("reload in handover: one path carries the data",
	      !strcmp(taken(), "000000a1 backup " SF2));
	pol_describe(&P, pol, sizeof(pol), mode, sizeof(mode));
	CHECK("describe",
	      !strcmp(pol, "fullmesh") && !strcmp(mode, "handover"));

	start(FULLMESH, MPSD_MODE_AGGREGATE);
	P.cfg.rules[0] = (struct mpsd_if_rule){"eth1", MPSD_IF_BACKUP};
	P.cfg.nrules = 1;
	established();
	CHECK("aggregate: a backup interface joins as a backup",
	      !strcmp(taken(), O2 " id 1 dev 3 backup"));

	start(FULLMESH, MPSD_MODE_AGGREGATE);
	P.cfg.rules[0] = (struct mpsd_if_rule){"eth1", MPSD_IF_NEVER};
	P.cfg.nrules = 1;
	established();
	CHECK("an interface never used opens nothing", !strcmp(taken(), ""));

	/* closed: forgotten, and a late ESTABLISHED brings nothing back */
	start(FULLMESH, MPSD_MODE_AGGREGATE);
	established();
	settle();
	event(MPTCP_EVENT_CLOSED, "10.0.1.1", 40000, "10.0.0.2", 80, 0, 0);
	CHECK("CLOSED: the saved mode is forgotten",
	      F.forgot == 1 && !pol_knows(&P, TOKEN));
	established();
	CHECK("CLOSED then ESTABLISHED: nothing",
	      !strcmp(taken(), "") && !pol_knows(&P, TOKEN));

	/* server side: the configured addresses, announced once */
	start(FULLMESH, MPSD_MODE_AGGREGATE);
	ss_of(&P.cfg.announce[0].addr, "10.0.9.1", 0);
	P.cfg.announce[0].id = 3;
	ss_of(&P.cfg.announce[1].addr, "10.0.1.1", 0); /* its own: not */
	P.cfg.announce[1].id = 4;
	P.cfg.nannounce = 2;
	{
		struct mps_event ev;

		memset(&ev, 0, sizeof(ev));
		ev.type = MPTCP_EVENT_ESTABLISHED;
		ev.token = TOKEN;
		ev.server_side = 1;
		ss_of(&ev.local, "10.0.1.1", 80);
		ss_of(&ev.remote, "10.0.0.2", 40000);
		pol_event(&P, &ev);
		CHECK("server side: ANNOUNCE the configured address",
		      !strcmp(taken(), "000000a1 announce 10.0.9.1:0 id 3"));
		pol_event(&P, &ev);
		CHECK("server side: announced once", !strcmp(taken(), ""));
	}

	/* the peer announces an address: fullmesh joins it */
	start(FULLMESH, MPSD_MODE_AGGREGATE);
	established();
	settle();
	event(MPTCP_EVENT_ANNOUNCED, "0.0.0.0", 0, "10.0.5.2", 0, 0, 0);
	CHECK("ANNOUNCED: fullmesh joins the new address from each local one",
	      !strcmp(taken(), "000000a1 open 10.0.1.1:0 -> 10.0.5.2:80 id 0 "
			       "dev 2; 000000a1 open 10.0.2.1:0 -> "
			       "10.0.5.2:80 id 1 dev 3"));

	/* the endpoint table loses eth1's endpoint: its subflow goes */
	start(ENDPOINTS, MPSD_MODE_AGGREGATE);
	established();
	settle();
	{
		struct ep_table old = F.ep;

		F.ep.n = 0;
		pol_endpoints_changed(&P, &old);
		CHECK("endpoint deleted: its subflow reset, its id withdrawn",
		      !strcmp(taken(), "000000a1 reset " SF2 " dev 3; "
				       "000000a1 withdraw 10.0.2.1:0 id 5"));
	}

	/* a reset subflow's SUB_CLOSED is not a failure of a new attempt */
	start(FULLMESH, MPSD_MODE_AGGREGATE);
	established();
	settle();
	F.links[1].up = false;
	pol_link_changed(&P, 3, false);
	settle(); /* the SUB_CLOSED of the reset */
	CHECK("a reset subflow's SUB_CLOSED: no back-off",
	      pol_next_retry_ms(&P) == 0);
}

/* Connection @i of many (its own token) created and established. */
static void one_established(unsigned int i, unsigned int port)
{
	struct mps_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.token = 0x1000 + i * 7919; /* spread over the buckets */
	ss_of(&ev.local, "10.0.1.1", port);
	ss_of(&ev.remote, "10.0.0.2", 80);
	ev.type = MPTCP_EVENT_CREATED;
	pol_event(&P, &ev);
	ev.type = MPTCP_EVENT_ESTABLISHED;
	pol_event(&P, &ev);
}

/* @n connections of their own tokens, each established with its subflows */
static void many_established(unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		one_established(i, 30000 + i);
	settle();
}

/* The actions' lines, sorted: a sweep's order of connections is the hash's. */
static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *sorted(const char *list)
{
	static char out[2][65536];
	static int which;
	char *copy = strdup(list), *v[1024], *tok, *save = NULL;
	size_t n = 0, len = 0, i;
	char *o = out[which++ & 1];

	for (tok = strtok_r(copy, ";", &save); tok && n < 1024;
	     tok = strtok_r(NULL, ";", &save))
		v[n++] = tok + (*tok == ' ');
	qsort(v, n, sizeof(v[0]), line_cmp);
	o[0] = '\0';
	for (i = 0; i < n; i++)
		len += snprintf(o + len, sizeof(out[0]) - len, "%s%s",
				i ? "; " : "", v[i]);
	free(copy);
	return o;
}

/*
 * The driver spreads a host change over loop turns, a run of hash buckets
 * at a time (pol_*_in): the same decisions as at once, whatever the runs.
 */
static void test_sweeps(void)
{
	static char whole[65536];
	struct sockaddr_storage s;
	unsigned int b;
	int mode;

	for (mode = MPSD_MODE_AGGREGATE; mode <= MPSD_MODE_HANDOVER; mode++) {
		start(FULLMESH, mode);
		many_established(40);
		F.addrs[1].present = false;
		ss_of(&s, "10.0.2.1", 0);
		pol_addr_removed(&P, &s);
		snprintf(whole, sizeof(whole), "%s", sorted(taken()));

		start(FULLMESH, mode);
		many_established(40);
		F.addrs[1].present = false;
		for (b = 0; b < PM_BUCKETS; b += 64)
			pol_addr_removed_in(&P, &s, b, b + 64);
		CHECK(mode == MPSD_MODE_AGGREGATE
			      ? "address removed, swept 64 buckets at a time: the same actions (aggregate)"
			      : "address removed, swept 64 buckets at a time: the same actions (handover)",
		      whole[0] && !strcmp(whole, sorted(taken())));
	}
	start(FULLMESH, MPSD_MODE_AGGREGATE);
	many_established(40);
	F.links[1].up = false;
	pol_link_changed(&P, F.links[1].ifindex, false);
	snprintf(whole, sizeof(whole), "%s", sorted(taken()));
	start(FULLMESH, MPSD_MODE_AGGREGATE);
	many_established(40);
	F.links[1].up = false;
	for (b = 0; b < PM_BUCKETS; b += 100)
		pol_link_changed_in(&P, F.links[1].ifindex, false, b, b + 100);
	CHECK("link down, swept 100 buckets at a time: the same actions",
	      whole[0] && !strcmp(whole, sorted(taken())));
}

/*
 * A pair without a route is logged for its first connection only, and the
 * others counted when routes may have changed: thousands of connections
 * must not mean thousands of lines.
 */
static void test_noroute_log(void)
{
	static const __u32 tokens[] = {0xb1, 0xb2, 0xb3, 0xb4, 0xb5};
	struct mps_event ev;
	unsigned int i, opens = 0;
	const char *q;

	start(FULLMESH, MPSD_MODE_AGGREGATE);
	F.noroute[3] = true; /* 10.0.2.1's eth1 reaches nothing */
	F.logs = 0;
	for (i = 0; i < 5; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.token = tokens[i];
		ss_of(&ev.local, "10.0.1.1", 40000 + i);
		ss_of(&ev.remote, "10.0.0.2", 80);
		ev.type = MPTCP_EVENT_CREATED;
		pol_event(&P, &ev);
		ev.type = MPTCP_EVENT_ESTABLISHED;
		pol_event(&P, &ev);
	}
	taken();
	CHECK("no route for five connections: one line",
	      F.logs == 1 && strstr(F.last_log, "no route through"));
	F.noroute[3] = false;
	pol_routes_changed(&P);
	CHECK("routes changed: the four others counted in one line",
	      F.logs == 2 &&
		      strstr(F.last_log, "no route for 4 more connections"));
	for (q = taken(); (q = strstr(q, "open 10.0.2.1")); q++)
		opens++;
	CHECK("and all five connections try the pair again", opens == 5);
}

/* ---------------------------------------------------------- the timers */

/* Each entry knows its place, and no parent is later than its children. */
static bool heap_ok(const struct pm_model *m)
{
	const struct pm_timers *h = &m->timers;
	unsigned int i;

	for (i = 0; i < h->n; i++) {
		if (h->v[i]->heap_pos != i + 1 || !h->v[i]->retry_at)
			return false;
		if (i && h->v[(i - 1) / 2]->retry_at > h->v[i]->retry_at)
			return false;
	}
	return h->n <= h->cap;
}

#define NTIMERS 10000

/* @n connections of tokens 1..@n, armed at random times from @base. */
static bool timers_fill(struct pm_model *m, struct pm_conn **c, long *when,
			unsigned int n, long base)
{
	unsigned int i;
	bool fresh, ok = true;

	for (i = 0; i < n; i++) {
		c[i] = pm_conn_get(m, i + 1, &fresh);
		if (!c[i])
			return false;
		when[i] = base + rand() % 100000;
		ok &= pm_timer_arm(m, c[i], when[i]) == 0;
	}
	return ok;
}

/* Pops everything: in time order, each at the time it was armed at. */
static unsigned int timers_drain(struct pm_model *m, const long *when,
				 bool *ordered)
{
	struct pm_conn *c;
	long t, prev = 0;
	unsigned int n = 0;

	*ordered = true;
	while ((t = pm_timer_next(m))) {
		c = pm_timer_pop_due(m, LONG_MAX);
		if (!c || c->retry_at || c->heap_pos || t < prev ||
		    when[c->token - 1] != t) {
			*ordered = false;
			break;
		}
		prev = t;
		n++;
	}
	return n;
}

static void test_timers(void)
{
	static struct pm_model m;
	static struct pm_conn *c[NTIMERS];
	static long when[NTIMERS];
	struct pm_conn *x;
	unsigned int i, n;
	bool ok;

	srand(1);
	ok = timers_fill(&m, c, when, NTIMERS, 1000);
	CHECK("timers: 10000 connections armed at random times, a heap",
	      ok && m.timers.n == NTIMERS && heap_ok(&m));
	n = timers_drain(&m, when, &ok);
	CHECK("timers: popped in time order, each once at its time",
	      ok && n == NTIMERS && !m.timers.n && !pm_timer_next(&m));

	pm_timer_arm(&m, c[0], 300);
	pm_timer_arm(&m, c[1], 100);
	pm_timer_arm(&m, c[2], 200);
	x = pm_timer_pop_due(&m, 150);
	CHECK("timers: only what is due by now is popped",
	      x == c[1] && !pm_timer_pop_due(&m, 150) &&
		      pm_timer_next(&m) == 200 && !pm_timer_pop_due(&m, 199));
	pm_timer_disarm(&m, c[0]);
	pm_timer_disarm(&m, c[2]);
	pm_timer_disarm(&m, c[2]); /* twice: nothing */
	CHECK("timers: disarmed, nothing left",
	      !m.timers.n && !c[0]->retry_at && !pm_timer_next(&m));

	ok = timers_fill(&m, c, when, NTIMERS, 1000);
	pm_timer_arm(&m, c[5000], 1000000);
	CHECK("timers: armed again later, the sooner time stays",
	      ok && c[5000]->retry_at == when[5000] && heap_ok(&m));
	pm_timer_arm(&m, c[7777], 1);
	when[7777] = 1;
	CHECK("timers: armed again sooner than all, it moves to the top",
	      m.timers.v[0] == c[7777] && pm_timer_next(&m) == 1 &&
		      m.timers.n == NTIMERS && heap_ok(&m));

	x = m.timers.v[m.timers.n / 2];
	pm_timer_disarm(&m, x);
	ok = !x->heap_pos && !x->retry_at && m.timers.n == NTIMERS - 1 &&
	     heap_ok(&m);
	/* and a thousand more, from anywhere */
	for (i = 0; i < 1000; i++) {
		pm_timer_disarm(&m, c[rand() % NTIMERS]);
		ok &= heap_ok(&m);
	}
	CHECK("timers: disarming from the middle keeps a heap", ok);
	n = m.timers.n;
	CHECK("timers: what was disarmed is not popped",
	      timers_drain(&m, when, &ok) == n && ok);

	ok = timers_fill(&m, c, when, NTIMERS, 1000);
	x = m.timers.v[0];
	n = x->token;
	pm_conn_free(&m, x->token);
	ok &= m.timers.n == NTIMERS - 1 && heap_ok(&m);
	pm_conn_free(&m, c[n % NTIMERS]->token); /* another, anywhere */
	CHECK("timers: a connection freed leaves the heap",
	      ok && m.timers.n == NTIMERS - 2 && heap_ok(&m));
	for (i = 0; i < NTIMERS; i++)
		pm_conn_free(&m, i + 1);
	CHECK("timers: the last connection freed frees the heap",
	      !m.nconns && !m.timers.n && !m.timers.v && !m.timers.cap);

	ok = timers_fill(&m, c, when, 100, 1000);
	pm_model_clear(&m);
	CHECK("timers: the model cleared, the heap too",
	      ok && !m.timers.n && !m.timers.v && !pm_timer_next(&m));
}

/* The opens queued, the queue emptied (taken()'s line is too short). */
static unsigned int opens_taken(void)
{
	unsigned int n = 0;

	while (pm_actions_pending(&Q))
		n += Q.v[Q.head++].type == PM_ACT_OPEN;
	pm_actions_reset(&Q);
	return n;
}

/*
 * The policy's retries through the heap: exactly when due, only those
 * due, at most as many as asked.
 */
static void test_retries(void)
{
	struct pm_action a, mine[16];
	unsigned int i, j, n, opens;

	start(FULLMESH, MPSD_MODE_AGGREGATE);
	established();
	a = Q.v[Q.head];
	taken();
	pol_opened(&P, &a, -EHOSTUNREACH, "");
	F.now += 99;
	CHECK("retries: 1 ms before its back-off ends, none is run",
	      pol_retries_run(&P, 64) == 0 && !strcmp(taken(), "") &&
		      pol_next_retry_ms(&P) == T0 + 100);
	F.now += 1;
	CHECK("retries: when it ends, the connection is run once",
	      pol_retries_run(&P, 64) == 1 &&
		      !strcmp(taken(), O2 " id 1 dev 3") &&
		      pol_next_retry_ms(&P) == 0);
	pol_fini(&P);

	/* 10,000 connections whose second path failed, a ms apart */
	start(FULLMESH, MPSD_MODE_AGGREGATE);
	for (i = 0; i < NTIMERS; i++) {
		one_established(i, 20000 + i);
		for (n = 0; pm_actions_pending(&Q) && n < 16; n++)
			mine[n] = Q.v[Q.head++];
		pm_actions_reset(&Q);
		for (j = 0; j < n; j++)
			if (mine[j].type == PM_ACT_OPEN)
				pol_opened(&P, &mine[j], -EHOSTUNREACH, "");
		taken();
		F.now++;
	}
	F.now = T0 + 100;
	n = pol_retries_run(&P, 64);
	opens = opens_taken();
	CHECK("retries: 10000 waiting, one due: that one alone is run",
	      P.m.nconns == NTIMERS && n == 1 && opens == 1 &&
		      P.m.timers.n == NTIMERS - 1 &&
		      pol_next_retry_ms(&P) == T0 + 101);
	F.now = T0 + 100 + NTIMERS;
	n = pol_retries_run(&P, 64);
	CHECK("retries: all due, a run takes at most the 64 asked",
	      n == 64 && P.m.timers.n == NTIMERS - 1 - 64 && heap_ok(&P.m));
	opens_taken();
	pol_retries_due(&P);
	opens = opens_taken();
	CHECK("retries: pol_retries_due runs the rest, each once",
	      opens == NTIMERS - 1 - 64 && !pol_next_retry_ms(&P));
}

/* The actuator's slices: a queue far longer than one slice. */
static void test_queue(void)
{
	struct pm_actions q = {0};
	unsigned int i;
	bool ok = true;

	for (i = 0; i < 10000; i++) {
		struct pm_action *a = pm_actions_push(&q);

		ok &= a != NULL;
		if (a)
			a->token = i;
		if (i % 3 == 2)
			q.head++;
	}
	CHECK("queue: 10000 actions, a third of them done",
	      ok && pm_actions_pending(&q) == 10000 - 3333 &&
		      q.v[q.head].token == 3333);
	pm_actions_free(&q);
}

/* Does @order keep each connection's order, and run each step's kind? */
static bool phases_ok(const struct pm_action *v, unsigned int n,
		      const unsigned int *step, const unsigned int *order)
{
	static const unsigned int phase[] = {
		[PM_ACT_OPEN] = ACT_PH_OPEN,
		[PM_ACT_BACKUP] = ACT_PH_BACKUP,
		[PM_ACT_RESET] = ACT_PH_RESET,
		[PM_ACT_WITHDRAW] = ACT_PH_ADDR,
		[PM_ACT_ANNOUNCE] = ACT_PH_ADDR,
	};
	unsigned int i, j;

	for (i = 0; i < n; i++) {
		if (step[order[i]] % ACT_PH_COUNT != phase[v[order[i]].type])
			return false;
		if (i && step[order[i]] < step[order[i - 1]])
			return false;
		for (j = i + 1; j < n; j++)
			if (v[order[j]].token == v[order[i]].token &&
			    order[j] < order[i])
				return false;
	}
	return true;
}

static void act(struct pm_action *a, __u32 token, enum pm_act type)
{
	memset(a, 0, sizeof(*a));
	a->token = token;
	a->type = type;
}

/*
 * The actuator's order: one batch per kind, each connection's actions in
 * their order (one that would go back waits for the next round).
 */
static void test_phases(void)
{
	struct pm_action v[10], r[1000];
	unsigned int step[1000], order[1000], i, steps;
	static const unsigned int want_order[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	bool ok = true;

	/* a loss (MP_PRIO, resets, RM_ADDR), a gain, and one going back */
	act(&v[0], 0xa, PM_ACT_BACKUP);
	act(&v[1], 0xa, PM_ACT_RESET);
	act(&v[2], 0xa, PM_ACT_RESET);
	act(&v[3], 0xa, PM_ACT_WITHDRAW);
	act(&v[4], 0xb, PM_ACT_OPEN);
	act(&v[5], 0xc, PM_ACT_ANNOUNCE);
	act(&v[6], 0xc, PM_ACT_OPEN);
	act(&v[7], 0xd, PM_ACT_OPEN);
	act(&v[8], 0xd, PM_ACT_BACKUP);
	act(&v[9], 0xe, PM_ACT_RESET);
	steps = act_order(v, 10, step, order);
	CHECK("phases: one batch per kind, a connection going back in round 2",
	      steps == 5 && step[0] == 0 && step[1] == 1 && step[2] == 1 &&
		      step[3] == 2 && step[4] == 3 && step[5] == 2 &&
		      step[6] == 3 && step[7] == 3 && step[8] == 4 &&
		      step[9] == 1);
	CHECK("phases: run as backup; resets; addresses; opens; backup",
	      order[0] == 0 && order[1] == 1 && order[2] == 2 &&
		      order[3] == 9 && order[4] == 3 && order[5] == 5 &&
		      order[6] == 4 && order[7] == 6 && order[8] == 7 &&
		      order[9] == 8 && phases_ok(v, 10, step, order));
	/* one kind only: the queue's own order, one step */
	for (i = 0; i < 10; i++)
		act(&v[i], i / 3, PM_ACT_RESET);
	steps = act_order(v, 10, step, order);
	CHECK("phases: resets only: one batch, in queue order",
	      steps == ACT_PH_RESET + 1 &&
		      !memcmp(order, want_order, sizeof(want_order)));

	/* any queue: each connection's order kept */
	srand(1);
	for (i = 0; i < 1000; i++)
		act(&r[i], rand() % 50, rand() % (PM_ACT_ANNOUNCE + 1));
	act_order(r, 1000, step, order);
	ok = phases_ok(r, 1000, step, order);
	CHECK("phases: 1000 random actions of 50 connections: orders kept", ok);
}

int main(void)
{
	bool one_round = true;
	bool print = getenv("TEST_POLICY_PRINT") != NULL;
	unsigned int i;
	char name[160];

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		const char *got = run(r->policy, r->mode, r->e);

		snprintf(name, sizeof(name), "%s, %s, %s",
			 policy_names[r->policy], mode_names[r->mode],
			 event_names[r->e]);
		if (print)
			printf("# %s\n#   %s\n", name, got);
		CHECK(name, !strcmp(got, r->want));
		if (taken_steps > ACT_PH_COUNT) {
			one_round = false;
			printf("# %s: %u steps\n", name, taken_steps);
		}
		if (strcmp(got, r->want))
			printf("#   got:  %s\n#   want: %s\n", got, r->want);
		pol_fini(&P);
	}
	CHECK("every case's actions run in one round of phases", one_round);
	test_outcomes();
	pol_fini(&P);
	test_control();
	pol_fini(&P);
	test_noroute_log();
	pol_fini(&P);
	test_sweeps();
	pol_fini(&P);
	test_timers();
	test_retries();
	pol_fini(&P);
	test_queue();
	test_phases();
	pm_actions_free(&Q);
	return test_done();
}
