// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The path manager's decisions.  Under the userspace path manager the
 * kernel opens no subflow by itself, so mpsockd does it for every
 * connection no application steers: which subflows (the policy: single,
 * fullmesh, ndiffports, per-interface rules), which of them carry data
 * (the service mode: aggregate, handover, interactive), what happens when
 * an address or a link goes away (its subflows are reset at once and the
 * peer told with RM_ADDR), and how failed attempts back off.
 *
 * Everything it knows comes from the kernel's events, rtnetlink and, at
 * start and after lost events, sock_diag; nothing is assumed to have
 * worked until an event says so.  State per connection is a fixed-size
 * record, freed when the connection closes.
 */
#include <errno.h>
#include <stdio.h>
#include <malloc.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "endpoints.h"
#include "op/op.h"
#include "log.h"
#include "netwatch.h"
#include "policy.h"
#include "policy_state.h"
#include "route.h"
#include "util/tcp_stats.h"

#define PM_MAX_SF 9 /* the initial subflow and 8 more, the kernel's limit */
#define PM_MAX_REM 4
#define PM_MAX_TRY 16
#define PM_TOMBSTONES 64
#define PM_BUCKETS 4096
/* a new best path must be this much faster to take over (interactive) */
#define RANK_HYSTERESIS 0.8
/* ... and this much in absolute terms: no switching on noise */
#define RANK_MIN_GAIN_US 5000
/* a subflow that lived this long was not a failed attempt */
#define SF_HEALTHY_MS 10000
/* the endpoint table is read again this often (the kernel tells nothing) */
#define EP_REFRESH_MS 2000

/* An address and port, compactly: 10,000 connections hold many. */
struct paddr {
	__u8 family;
	__be16 port;
	__u8 a[16];
};

struct pm_sf {
	struct paddr local, remote;
	long since_ms;
	__u32 rtt_us; /* interactive mode: from the last ranking */
	__u32 rtt_age_ms; /* how long ago it last had an ACK */
	int ifindex; /* the device it is bound to, 0 if none */
	int egress; /* the interface it leaves through, 0 if unknown */
	__u8 loc_id;
	bool up; /* established; else an attempt of ours */
	bool backup;
	bool seen; /* rediscovery: still in the kernel's list */
};

struct pm_try {
	struct paddr local, remote;
	__u8 fails;
	bool noroute; /* no route through the address's interface */
	long next_ms;
};

struct pm_conn {
	struct pm_conn *next;
	__u32 token;
	__u8 mode; /* MPSOCK_MODE_* */
	bool server_side, established, announced;
	bool foreign; /* under another path manager: nothing to do */
	bool init_remote_gone; /* the peer withdrew its first address */
	bool seen; /* rediscovery: still a connection */
	bool cookie_checked;
	__u8 nsf, nrem, ntry;
	struct paddr init_local, init_remote;
	struct pm_sf sf[PM_MAX_SF];
	struct paddr rem[PM_MAX_REM];
	__u8 rem_id[PM_MAX_REM];
	struct pm_try tries[PM_MAX_TRY];
	long retry_at; /* the soonest retry, 0 if none */
};

static struct pm_conn *buckets[PM_BUCKETS];
static unsigned int nconns;
static struct mpsd_config cfg;
static long next_rank_ms, next_ep_ms;
static long retry_soonest; /* the soonest retry of any connection, 0: none */

/*
 * Subflows we reset: their SUB_CLOSED comes later, on another socket than
 * the rtnetlink news that made us act, and must not be taken for the end
 * of a new attempt over the same addresses.
 */
static struct {
	__u32 token;
	struct paddr local, remote;
} tombstones[PM_TOMBSTONES];
static unsigned int tomb_next;

/*
 * Connections that closed: the kernel can report a connection's CLOSED
 * before its ESTABLISHED (one that dies during the handshake), which must
 * not bring a record back.
 */
#define PM_CLOSED_RING 256
static __u32 closed_ring[PM_CLOSED_RING];
static unsigned int closed_next;

static bool recently_closed(__u32 token)
{
	unsigned int i;

	for (i = 0; i < PM_CLOSED_RING; i++)
		if (closed_ring[i] == token)
			return true;
	return false;
}

static void retry_at(struct pm_conn *c, long when)
{
	if (!c->retry_at || when < c->retry_at)
		c->retry_at = when;
	if (!retry_soonest || when < retry_soonest)
		retry_soonest = when;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ addresses */

static void paddr_from(struct paddr *p, const struct sockaddr_storage *in)
{
	struct sockaddr_storage ss = *in;

	mps_addr_unmap(&ss);
	memset(p, 0, sizeof(*p));
	p->family = ss.ss_family;
	p->port = mps_addr_port(&ss);
	if (ss.ss_family == AF_INET)
		memcpy(p->a, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	else if (ss.ss_family == AF_INET6)
		memcpy(p->a, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
}

static void paddr_to(const struct paddr *p, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = p->family;
	if (p->family == AF_INET)
		memcpy(&((struct sockaddr_in *)ss)->sin_addr, p->a, 4);
	else
		memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr, p->a, 16);
	mps_addr_set_port(ss, p->port);
}

static bool paddr_eq(const struct paddr *x, const struct paddr *y, bool ports)
{
	return x->family == y->family && !memcmp(x->a, y->a, 16) &&
	       (!ports || x->port == y->port);
}

static const char *paddr_str(const struct paddr *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->family, p->a, a, sizeof(a));
	snprintf(buf, len, p->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a,
		 ntohs(p->port));
	return buf;
}

/* The rule of the interface an address is on. */
/*
 * The rule of the interface an address is on; under the endpoints policy
 * an endpoint with the backup flag makes it a backup address too.
 */
static enum mpsd_if_use addr_use(const struct paddr *p)
{
	const struct mps_local_id *ep;
	struct sockaddr_storage ss;
	const struct nw_link *l;
	enum mpsd_if_use use;

	paddr_to(p, &ss);
	l = netwatch_link(netwatch_addr_ifindex(&ss));
	use = l ? mpsd_config_if_use(&cfg, l->name) : MPSD_IF_USE;
	if (use == MPSD_IF_USE && cfg.policy == MPSD_POLICY_ENDPOINTS &&
	    (ep = endpoint_of(&ss)) && (ep->flags & MPTCP_PM_ADDR_FLAG_BACKUP))
		use = MPSD_IF_BACKUP;
	return use;
}

/* ---------------------------------------------------------- connections */

static unsigned int bucket_of(__u32 token)
{
	return (token * 2654435761u) >> 20 & (PM_BUCKETS - 1);
}

static struct pm_conn *conn_find(__u32 token)
{
	struct pm_conn *c;

	for (c = buckets[bucket_of(token)]; c; c = c->next)
		if (c->token == token)
			return c;
	return NULL;
}

static struct pm_conn *conn_get(__u32 token)
{
	struct pm_conn *c = conn_find(token);
	unsigned int b = bucket_of(token);

	if (c || !token)
		return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->token = token;
	c->mode = policy_state_mode(token);
	c->next = buckets[b];
	buckets[b] = c;
	nconns++;
	return c;
}

static void conn_free(__u32 token)
{
	struct pm_conn **pp = &buckets[bucket_of(token)], *c;

	for (; (c = *pp); pp = &c->next) {
		if (c->token == token) {
			*pp = c->next;
			free(c);
			/* a burst of connections is gone: give the memory back
			 */
			if (!--nconns)
				malloc_trim(0);
			return;
		}
	}
}

static enum mpsd_mode conn_mode(const struct pm_conn *c)
{
	switch (c->mode) {
	case MPSOCK_MODE_AGGREGATE:
		return MPSD_MODE_AGGREGATE;
	case MPSOCK_MODE_HANDOVER:
		return MPSD_MODE_HANDOVER;
	case MPSOCK_MODE_INTERACTIVE:
		return MPSD_MODE_INTERACTIVE;
	default:
		return cfg.mode;
	}
}

static bool conn_managed(const struct pm_conn *c)
{
	return c->established && !c->foreign && c->mode != MPSOCK_MODE_MANUAL;
}

static struct pm_sf *sf_find(struct pm_conn *c, const struct paddr *l,
			     const struct paddr *r)
{
	unsigned int i;

	for (i = 0; i < c->nsf; i++)
		if (paddr_eq(&c->sf[i].local, l, true) &&
		    paddr_eq(&c->sf[i].remote, r, r->port != 0))
			return &c->sf[i];
	/* an attempt of ours, whose source port the kernel chose */
	for (i = 0; i < c->nsf; i++)
		if (!c->sf[i].up && !c->sf[i].local.port &&
		    paddr_eq(&c->sf[i].local, l, false) &&
		    paddr_eq(&c->sf[i].remote, r, true))
			return &c->sf[i];
	return NULL;
}

static struct pm_sf *sf_add(struct pm_conn *c, const struct paddr *l,
			    const struct paddr *r)
{
	struct pm_sf *sf;

	if (c->nsf == PM_MAX_SF)
		return NULL;
	sf = &c->sf[c->nsf++];
	memset(sf, 0, sizeof(*sf));
	sf->local = *l;
	sf->remote = *r;
	sf->since_ms = now_ms();
	return sf;
}

static void sf_remove(struct pm_conn *c, struct pm_sf *sf)
{
	*sf = c->sf[--c->nsf];
}

static struct pm_try *try_find(struct pm_conn *c, const struct paddr *l,
			       const struct paddr *r, bool create)
{
	unsigned int i, oldest = 0;

	for (i = 0; i < c->ntry; i++)
		if (paddr_eq(&c->tries[i].local, l, false) &&
		    paddr_eq(&c->tries[i].remote, r, true))
			return &c->tries[i];
	if (!create)
		return NULL;
	if (c->ntry < PM_MAX_TRY) {
		i = c->ntry++;
	} else {
		/* the one whose pause ends first (ended ones first of all) */
		for (i = 1; i < PM_MAX_TRY; i++)
			if (c->tries[i].next_ms < c->tries[oldest].next_ms)
				oldest = i;
		i = oldest;
	}
	memset(&c->tries[i], 0, sizeof(c->tries[i]));
	c->tries[i].local = *l;
	c->tries[i].local.port = 0;
	c->tries[i].remote = *r;
	return &c->tries[i];
}

/* A failed attempt: the next one waits, twice as long each time. */
static struct pm_try *try_failed(struct pm_conn *c, const struct paddr *l,
				 const struct paddr *r)
{
	struct pm_try *t = try_find(c, l, r, true);
	unsigned long delay = cfg.backoff_min_ms;
	unsigned int i;

	if (t->fails < 30)
		t->fails++;
	for (i = 1; i < t->fails && delay < cfg.backoff_max_ms; i++)
		delay *= 2;
	if (delay > cfg.backoff_max_ms)
		delay = cfg.backoff_max_ms;
	t->next_ms = now_ms() + delay;
	retry_at(c, t->next_ms);
	return t;
}

static bool try_allowed(struct pm_conn *c, const struct paddr *l,
			const struct paddr *r, long now)
{
	struct pm_try *t = try_find(c, l, r, false);

	if (!t || t->next_ms <= now)
		return true;
	retry_at(c, t->next_ms);
	return false;
}

/* --------------------------------------------------------------- acting */

static void log_fail(const struct pm_conn *c, const char *what, int err,
		     const char *msg)
{
	mpsd_log(LOG_WARNING, "policy: %08x: %s: %s%s%s", c->token, what,
		 strerror(-err), msg[0] ? ": " : "", msg);
}

static void set_backup(struct pm_conn *c, struct pm_sf *sf, bool backup)
{
	struct sockaddr_storage l, r;
	char msg[MPS_MSG_LEN] = "";
	struct mps_genl *g;
	int err;

	if (sf->backup == backup || !sf->up)
		return;
	paddr_to(&sf->local, &l);
	paddr_to(&sf->remote, &r);
	err = mps_genl_cached(&g);
	if (!err)
		err = mps_pm_set_backup(g, c->token, &l, &r, backup, msg,
					sizeof(msg));
	if (err)
		log_fail(c, "set backup", err, msg);
	else
		sf->backup = backup;
}

/*
 * A subflow leaves through the interface of its local address, whatever
 * routing says of that source (a host without source-based rules would
 * send the cell address out through wifi): it is bound to that interface,
 * and opened only if a route through it reaches the peer.  A pair without
 * one waits, as a failed attempt does, until routes change.
 */
static void open_subflow_as(struct pm_conn *c, const struct paddr *l,
			    const struct paddr *r, bool backup,
			    const struct mps_local_id *ep)
{
	struct sockaddr_storage local, remote, initial;
	char msg[MPS_MSG_LEN] = "", a[64], b[64], what[224];
	struct pm_try *t = try_find(c, l, r, false);
	int id, err, ifindex, egress;
	struct mps_genl *g;
	struct pm_sf *sf;

	paddr_to(l, &local);
	paddr_to(r, &remote);
	paddr_to(&c->init_local, &initial);
	/* an endpoint's device, as "dev" gives it, or the address's own */
	ifindex =
		ep && ep->ifindex ? ep->ifindex : netwatch_addr_ifindex(&local);
	egress = ifindex ? route_egress(&local, &remote, ifindex) : 0;
	if (!egress && ifindex) {
		if (!t || !t->noroute) {
			snprintf(what, sizeof(what),
				 "open %s -> %s: no route through %s, not "
				 "tried until routes change",
				 paddr_str(l, a, sizeof(a)),
				 paddr_str(r, b, sizeof(b)),
				 netwatch_link(ifindex)
					 ? netwatch_link(ifindex)->name
					 : "its interface");
			mpsd_log(LOG_NOTICE, "policy: %08x: %s", c->token,
				 what);
		}
		try_failed(c, l, r)->noroute = true;
		return;
	}
	err = mps_genl_cached(&g);
	if (err)
		return;
	/* an endpoint's id, as the in-kernel path manager would use */
	id = ep ? ep->id
		: mps_local_id_for(g, c->token, &initial, &local, msg,
				   sizeof(msg));
	err = id < 0 ? id
		     : mps_pm_subflow_create(g, c->token, &local, id, ifindex,
					     &remote, backup, msg, sizeof(msg));
	if (err) {
		if (mps_pm_errno(err, msg) == -EOPNOTSUPP) {
			/* created under the in-kernel path manager */
			c->foreign = true;
			return;
		}
		/* once per path, not once per retry */
		if (!t || !t->fails) {
			snprintf(what, sizeof(what), "open %s -> %s",
				 paddr_str(l, a, sizeof(a)),
				 paddr_str(r, b, sizeof(b)));
			log_fail(c, what, err, msg);
		}
		try_failed(c, l, r)->noroute = false;
		return;
	}
	sf = sf_add(c, l, r);
	if (sf) {
		sf->backup = backup;
		sf->loc_id = id;
		sf->ifindex = ifindex;
		sf->egress = egress > 0 ? egress : 0;
	}
}

static void open_subflow(struct pm_conn *c, const struct paddr *l,
			 const struct paddr *r, bool backup)
{
	open_subflow_as(c, l, r, backup, NULL);
}

/*
 * The interface @sf leaves through: the device it is bound to, or, for
 * the initial subflow and any other unbound one, the one routing picks
 * (asked once, while the route still exists: after a link goes down, the
 * answer would be another interface).
 */
static void sf_learn_egress(struct pm_sf *sf)
{
	struct sockaddr_storage l, r;
	int e;

	if (sf->egress)
		return;
	if (sf->ifindex) {
		sf->egress = sf->ifindex;
		return;
	}
	paddr_to(&sf->local, &l);
	paddr_to(&sf->remote, &r);
	e = route_egress(&l, &r, 0);
	sf->egress = e > 0 ? e : 0;
}

/* Established, and its interface up: it can carry the data. */
static bool sf_usable(const struct pm_sf *sf)
{
	struct sockaddr_storage la;
	const struct nw_link *link;
	int ifindex = sf->egress;

	if (!sf->up)
		return false;
	if (!ifindex) {
		paddr_to(&sf->local, &la);
		ifindex = netwatch_addr_ifindex(&la);
	}
	link = netwatch_link(ifindex);
	return !link || link->up;
}

/* Whether a new subflow from @l should join as a backup. */
static bool wants_backup(const struct pm_conn *c, const struct paddr *l)
{
	if (addr_use(l) == MPSD_IF_BACKUP)
		return true;
	return conn_mode(c) != MPSD_MODE_AGGREGATE;
}

static unsigned int count_pair(const struct pm_conn *c, const struct paddr *l,
			       const struct paddr *r)
{
	unsigned int i, n = 0;

	for (i = 0; i < c->nsf; i++)
		if (paddr_eq(&c->sf[i].local, l, false) &&
		    paddr_eq(&c->sf[i].remote, r, true))
			n++;
	return n;
}

static bool room(const struct pm_conn *c)
{
	if (cfg.policy == MPSD_POLICY_NDIFFPORTS)
		return c->nsf < PM_MAX_SF; /* N in total, as configured */
	if (cfg.policy == MPSD_POLICY_ENDPOINTS) /* ip mptcp limits subflow */
		return c->nsf < PM_MAX_SF &&
		       c->nsf < 1 + endpoints()->subflows_max;
	return c->nsf < PM_MAX_SF && c->nsf < 1 + cfg.max_subflows;
}

static void apply_fullmesh(struct pm_conn *c, long now)
{
	const struct nw_addr *locals;
	struct paddr remotes[1 + PM_MAX_REM], l;
	unsigned int nl, nr = 0, i, j;

	if (!c->init_remote_gone)
		remotes[nr++] = c->init_remote;
	for (i = 0; i < c->nrem; i++)
		remotes[nr++] = c->rem[i];
	nl = netwatch_addrs(&locals);
	for (i = 0; i < nl && room(c); i++) {
		paddr_from(&l, &locals[i].addr);
		if (l.family != c->init_remote.family ||
		    addr_use(&l) == MPSD_IF_NEVER)
			continue;
		for (j = 0; j < nr && room(c); j++) {
			if (remotes[j].family != l.family ||
			    count_pair(c, &l, &remotes[j]) ||
			    !try_allowed(c, &l, &remotes[j], now))
				continue;
			open_subflow(c, &l, &remotes[j], wants_backup(c, &l));
		}
	}
}

static void apply_ndiffports(struct pm_conn *c, long now)
{
	struct paddr l = c->init_local;

	l.port = 0;
	while (room(c) && count_pair(c, &l, &c->init_remote) < cfg.ndiffports &&
	       try_allowed(c, &l, &c->init_remote, now)) {
		unsigned int before = c->nsf;

		open_subflow(c, &l, &c->init_remote, wants_backup(c, &l));
		if (c->nsf == before)
			break;
	}
}

/* Server side: the configured addresses, announced once per connection. */
static void announce_one(struct pm_conn *c, struct mps_genl *g,
			 const struct sockaddr_storage *a, __u8 id)
{
	char msg[MPS_MSG_LEN] = "";
	struct paddr pa;
	int err;

	paddr_from(&pa, a);
	if (a->ss_family != c->init_local.family ||
	    paddr_eq(&pa, &c->init_local, false))
		return;
	err = mps_pm_announce(g, c->token, a, id, msg, sizeof(msg));
	if (err)
		log_fail(c, "announce", err, msg);
}

/*
 * Server side: the configured addresses, or under the endpoints policy
 * the "signal" endpoints, announced once per connection.
 */
static void announce(struct pm_conn *c)
{
	const struct ep_table *t = endpoints();
	struct mps_genl *g;
	unsigned int i;

	if (c->announced || mps_genl_cached(&g))
		return;
	c->announced = true;
	if (cfg.policy != MPSD_POLICY_ENDPOINTS) {
		for (i = 0; i < cfg.nannounce; i++)
			announce_one(c, g, &cfg.announce[i].addr,
				     cfg.announce[i].id);
		return;
	}
	for (i = 0; i < t->n; i++)
		if (t->ep[i].flags & MPTCP_PM_ADDR_FLAG_SIGNAL)
			announce_one(c, g, &t->ep[i].addr, t->ep[i].id);
}

/* Is @a a better path than @b: a regular interface, the connection's own
 * peer address, then the oldest. */
static bool better_path(const struct pm_conn *c, const struct pm_sf *a,
			const struct pm_sf *b)
{
	bool a_backup = addr_use(&a->local) == MPSD_IF_BACKUP,
	     b_backup = addr_use(&b->local) == MPSD_IF_BACKUP;
	bool a_home = paddr_eq(&a->remote, &c->init_remote, false),
	     b_home = paddr_eq(&b->remote, &c->init_remote, false);

	if (a_backup != b_backup)
		return !a_backup;
	if (a_home != b_home)
		return a_home;
	return a->since_ms < b->since_ms;
}

/* The subflow to carry the data: only one whose interface is up. */
static struct pm_sf *best_path(struct pm_conn *c, const struct pm_sf *skip)
{
	struct pm_sf *best = NULL;
	unsigned int i;

	for (i = 0; i < c->nsf; i++) {
		struct pm_sf *sf = &c->sf[i];

		if (sf == skip || !sf_usable(sf))
			continue;
		if (!best || better_path(c, sf, best))
			best = sf;
	}
	return best;
}

/*
 * The mode's rule for which subflows carry data: in aggregate every one
 * except those of backup interfaces; in handover and interactive exactly
 * one, the others ready as backups.
 */
static void fix_priorities(struct pm_conn *c)
{
	struct pm_sf *active = NULL;
	unsigned int i;

	if (conn_mode(c) == MPSD_MODE_AGGREGATE) {
		for (i = 0; i < c->nsf; i++)
			set_backup(c, &c->sf[i],
				   addr_use(&c->sf[i].local) == MPSD_IF_BACKUP);
		return;
	}
	for (i = 0; i < c->nsf; i++)
		if (sf_usable(&c->sf[i]) && !c->sf[i].backup && !active)
			active = &c->sf[i];
	if (!active) {
		active = best_path(c, NULL);
		if (active)
			set_backup(c, active, false);
	}
	for (i = 0; i < c->nsf; i++)
		if (&c->sf[i] != active)
			set_backup(c, &c->sf[i], true);
}

/* Pair @l -> @r unless it exists, is backing off, or leaves no room. */
static void open_pair(struct pm_conn *c, const struct paddr *l,
		      const struct paddr *r, const struct mps_local_id *ep,
		      long now)
{
	if (!room(c) || count_pair(c, l, r) || !try_allowed(c, l, r, now) ||
	    addr_use(l) == MPSD_IF_NEVER)
		return;
	open_subflow_as(c, l, r, wants_backup(c, l), ep);
}

/*
 * The endpoints policy, as the in-kernel path manager applies its table:
 * every "subflow" endpoint joins the peer's first address, a "fullmesh"
 * one every address the peer announced as well, and when no endpoint is
 * "fullmesh", each announced address (up to the add_addr_accepted limit)
 * gets one subflow from the source address routing picks for it; at most
 * "ip mptcp limits subflow" of them.  The endpoint's id, device and backup flag
 * go with its subflows.
 */
static void apply_endpoints(struct pm_conn *c, long now)
{
	const struct ep_table *t = endpoints();
	bool any_fullmesh = false;
	unsigned int i, j, nrem;
	struct paddr l;

	for (i = 0; i < t->n; i++) {
		const struct mps_local_id *ep = &t->ep[i];

		if (!(ep->flags & MPTCP_PM_ADDR_FLAG_SUBFLOW))
			continue;
		paddr_from(&l, &ep->addr);
		if (l.family != c->init_remote.family ||
		    paddr_eq(&l, &c->init_local, false))
			continue;
		l.port = 0;
		any_fullmesh |= ep->flags & MPTCP_PM_ADDR_FLAG_FULLMESH;
		if (!c->init_remote_gone)
			open_pair(c, &l, &c->init_remote, ep, now);
		if (!(ep->flags & MPTCP_PM_ADDR_FLAG_FULLMESH))
			continue;
		for (j = 0; j < c->nrem && j < t->add_addr_accepted_max; j++)
			if (c->rem[j].family == l.family)
				open_pair(c, &l, &c->rem[j], ep, now);
	}
	if (any_fullmesh)
		return;
	nrem = c->nrem < t->add_addr_accepted_max ? c->nrem
						  : t->add_addr_accepted_max;
	for (j = 0; j < nrem; j++) {
		struct sockaddr_storage r, src;

		/* the kernel's "any" source: the one routing picks */
		paddr_to(&c->rem[j], &r);
		if (route_source(&r, &src))
			continue;
		paddr_from(&l, &src);
		open_pair(c, &l, &c->rem[j], NULL, now);
	}
}

static void apply(struct pm_conn *c)
{
	long now = now_ms();

	if (!conn_managed(c))
		return;
	c->retry_at = 0;
	if (c->server_side) {
		announce(c);
		return;
	}
	if (cfg.policy == MPSD_POLICY_FULLMESH)
		apply_fullmesh(c, now);
	else if (cfg.policy == MPSD_POLICY_NDIFFPORTS)
		apply_ndiffports(c, now);
	else if (cfg.policy == MPSD_POLICY_ENDPOINTS)
		apply_endpoints(c, now);
}

/* ---------------------------------------------------------------- events */

static void on_subflow_up(struct pm_conn *c, const struct mps_event *ev)
{
	struct paddr l, r;
	struct pm_sf *sf;

	paddr_from(&l, &ev->local);
	paddr_from(&r, &ev->remote);
	sf = sf_find(c, &l, &r);
	if (!sf)
		sf = sf_add(c, &l, &r);
	if (!sf)
		return;
	if (!sf->up)
		sf->since_ms = now_ms();
	sf->local = l;
	sf->up = true;
	sf->loc_id = ev->loc_id;
	if (ev->ifindex)
		sf->ifindex = ev->ifindex;
	sf_learn_egress(sf);
	if (conn_managed(c) && !c->server_side)
		fix_priorities(c);
}

static void tombstone_add(__u32 token, const struct paddr *l,
			  const struct paddr *r)
{
	unsigned int i = tomb_next++ % PM_TOMBSTONES;

	tombstones[i].token = token;
	tombstones[i].local = *l;
	tombstones[i].remote = *r;
}

static bool tombstone_take(__u32 token, const struct paddr *l,
			   const struct paddr *r)
{
	unsigned int i;

	for (i = 0; i < PM_TOMBSTONES; i++) {
		if (tombstones[i].token != token ||
		    !paddr_eq(&tombstones[i].local, l, true) ||
		    !paddr_eq(&tombstones[i].remote, r, r->port != 0))
			continue;
		tombstones[i].token = 0;
		return true;
	}
	return false;
}

static void on_subflow_closed(struct pm_conn *c, const struct mps_event *ev)
{
	struct paddr l, r;
	struct pm_sf *sf;
	bool was_active, failed;

	paddr_from(&l, &ev->local);
	paddr_from(&r, &ev->remote);
	if (tombstone_take(c->token, &l, &r))
		return;
	sf = sf_find(c, &l, &r);
	if (!sf)
		return;
	was_active = sf->up && !sf->backup;
	failed = !sf->up || now_ms() - sf->since_ms < SF_HEALTHY_MS;
	sf_remove(c, sf);
	if (!conn_managed(c) || c->server_side)
		return;
	/*
	 * No storm: a path that failed, or died young, waits longer each
	 * time; even a healthy subflow comes back only after a pause.
	 */
	if (!failed)
		try_find(c, &l, &r, true)->fails = 0;
	try_failed(c, &l, &r);
	if (was_active)
		fix_priorities(c);
	apply(c);
}

static void on_announced(struct pm_conn *c, const struct mps_event *ev)
{
	struct paddr r;
	unsigned int i;

	paddr_from(&r, &ev->remote);
	if (!r.port)
		r.port = c->init_remote.port;
	for (i = 0; i < c->nrem; i++)
		if (c->rem_id[i] == ev->rem_id ||
		    paddr_eq(&c->rem[i], &r, true))
			break;
	if (i == c->nrem && c->nrem == PM_MAX_REM)
		return;
	if (i == c->nrem)
		c->nrem++;
	c->rem[i] = r;
	c->rem_id[i] = ev->rem_id;
	apply(c);
}

static void on_removed(struct pm_conn *c, const struct mps_event *ev)
{
	unsigned int i;

	if (!ev->rem_id)
		c->init_remote_gone = true;
	for (i = 0; i < c->nrem; i++) {
		if (c->rem_id[i] == ev->rem_id) {
			c->rem[i] = c->rem[--c->nrem];
			c->rem_id[i] = c->rem_id[c->nrem];
			return;
		}
	}
}

void policy_event(const struct mps_event *ev)
{
	struct pm_conn *c;

	if (ev->type == MPTCP_EVENT_CLOSED) {
		closed_ring[closed_next++ % PM_CLOSED_RING] = ev->token;
		conn_free(ev->token);
		policy_state_forget(ev->token);
		return;
	}
	switch (ev->type) {
	case MPTCP_EVENT_CREATED:
	case MPTCP_EVENT_ESTABLISHED:
	case MPTCP_EVENT_SUB_ESTABLISHED:
	case MPTCP_EVENT_ANNOUNCED:
		c = conn_find(ev->token);
		if (!c && !recently_closed(ev->token))
			c = conn_get(ev->token);
		break;
	default: /* a late event of a connection we no longer know */
		c = conn_find(ev->token);
		break;
	}
	if (!c)
		return;
	switch (ev->type) {
	case MPTCP_EVENT_CREATED:
		c->server_side = ev->server_side;
		paddr_from(&c->init_local, &ev->local);
		paddr_from(&c->init_remote, &ev->remote);
		if (policy_state_has_cookies())
			c->mode = policy_state_match_cookie(c->token, c->mode);
		c->cookie_checked = true;
		break;
	case MPTCP_EVENT_ESTABLISHED:
		c->server_side = ev->server_side;
		paddr_from(&c->init_local, &ev->local);
		paddr_from(&c->init_remote, &ev->remote);
		/* a CREATED we did not see: its cookie may have a mode */
		if (!c->cookie_checked && policy_state_has_cookies())
			c->mode = policy_state_match_cookie(c->token, c->mode);
		c->cookie_checked = true;
		c->established = true;
		on_subflow_up(c, ev);
		apply(c);
		break;
	case MPTCP_EVENT_SUB_ESTABLISHED:
		on_subflow_up(c, ev);
		break;
	case MPTCP_EVENT_SUB_CLOSED:
		on_subflow_closed(c, ev);
		break;
	case MPTCP_EVENT_ANNOUNCED:
		on_announced(c, ev);
		break;
	case MPTCP_EVENT_REMOVED:
		on_removed(c, ev);
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------- network changes */

static void endpoints_follow(void);

#define FOR_EACH_CONN(c, b)                                                    \
	for ((b) = 0; (b) < PM_BUCKETS; (b)++)                                 \
		for ((c) = buckets[(b)]; (c); (c) = (c)->next)

/*
 * Does @sf die with address @addr, or with link @ifindex: its source is
 * there, or its packets leave there (an unbound subflow routed through
 * that link, whatever its source).
 */
static bool sf_dies(const struct pm_sf *sf, const struct paddr *addr,
		    int ifindex)
{
	struct sockaddr_storage la;

	if (addr)
		return paddr_eq(&sf->local, addr, false);
	if (sf->egress == ifindex || sf->ifindex == ifindex)
		return true;
	paddr_to(&sf->local, &la);
	return netwatch_addr_ifindex(&la) == ifindex;
}

/* Does a subflow that stays use address id @id? */
static bool id_kept(const struct pm_conn *c, const bool *dead, __u8 id)
{
	unsigned int i;

	for (i = 0; i < c->nsf; i++)
		if (!dead[i] && c->sf[i].loc_id == id)
			return true;
	return false;
}

/*
 * Withdraw address @id (RM_ADDR): the peer drops its subflows to it at
 * once instead of waiting for their retransmission timeouts.  The kernel
 * (6.18) puts RM_ADDR on the first subflow that can send, and sends it
 * only for an address a listed subflow or an announcement uses; the dead
 * subflows were reset just before, so they cannot carry it and have left
 * the list: announcing the address again just before withdrawing it makes
 * the withdrawal go out on a live path.  Id 0 (the first subflow's
 * address) cannot be announced: withdrawing it works only while the reset
 * first subflow is still listed, which we try to be first for (a
 * real-time task for these few calls).
 */
static void withdraw(struct pm_conn *c, const struct pm_sf *sf)
{
	struct sockaddr_storage l;
	char msg[MPS_MSG_LEN] = "";
	struct mps_genl *g;
	int err;

	err = mps_genl_cached(&g);
	if (!err && sf->loc_id) {
		paddr_to(&sf->local, &l);
		mps_addr_set_port(&l, 0);
		mps_pm_announce(g, c->token, &l, sf->loc_id, msg, sizeof(msg));
	}
	if (!err)
		err = mps_pm_remove(g, c->token, sf->loc_id, msg, sizeof(msg));
	if (err && sf->loc_id)
		log_fail(c, "withdraw the address", err, msg);
	else if (err) /* lost the race described above */
		log_fail(c,
			 "withdraw the first address (the peer keeps its side "
			 "until it times out)",
			 err, msg);
}

/*
 * Subflows whose source or interface went away: reset them at once (their
 * packets have nowhere to go), and withdraw their addresses from the peer,
 * except an address a live subflow still uses.  In handover and
 * interactive modes a subflow whose interface is up takes over first, so
 * that MP_PRIO goes out before anything else.
 */
static void drop_local(struct pm_conn *c, const struct paddr *addr, int ifindex)
{
	struct sched_param fifo = {.sched_priority = 1}, other = {0};
	bool lost_active = false, any = false, rt, dead[PM_MAX_SF] = {false};
	struct sockaddr_storage l, r;
	unsigned int i, j;

	/* first: none of them is a candidate any more */
	for (i = 0; i < c->nsf; i++) {
		struct pm_sf *sf = &c->sf[i];

		if (!sf_dies(sf, addr, ifindex))
			continue;
		if (sf->up && !sf->backup)
			lost_active = true;
		sf->up = false;
		dead[i] = any = true;
	}
	if (!any)
		return;
	if (lost_active && conn_mode(c) != MPSD_MODE_AGGREGATE) {
		struct pm_sf *next = best_path(c, NULL);

		if (next)
			set_backup(c, next, false);
	}
	rt = sched_setscheduler(0, SCHED_FIFO, &fifo) == 0;
	for (i = 0; i < c->nsf; i++) {
		struct pm_sf *sf = &c->sf[i];

		if (!dead[i] || !sf->local.port)
			continue;
		paddr_to(&sf->local, &l);
		paddr_to(&sf->remote, &r);
		/* a bound subflow is found only with its device */
		mps_diag_destroy_tuple(&l, &r, sf->ifindex);
		tombstone_add(c->token, &sf->local, &sf->remote);
	}
	/* RM_ADDR once per address id that no live subflow keeps */
	for (i = 0; i < c->nsf; i++) {
		for (j = 0; j < i; j++)
			if (dead[j] && c->sf[j].loc_id == c->sf[i].loc_id)
				break;
		if (!dead[i] || j < i)
			continue;
		if (!id_kept(c, dead, c->sf[i].loc_id))
			withdraw(c, &c->sf[i]);
	}
	if (rt)
		sched_setscheduler(0, SCHED_OTHER, &other);
	/* backwards: sf_remove() moves the last one into the hole */
	for (i = c->nsf; i-- > 0;)
		if (dead[i])
			sf_remove(c, &c->sf[i]);
	apply(c); /* room for the paths that remain */
}

/*
 * Something changed that may make failed pairs work: the attempts that
 * @match forget their back-off, and every managed connection gets what
 * its policy wants now.
 */
static void retry_now(bool (*match)(const struct pm_try *t, const void *arg),
		      const void *arg)
{
	struct pm_conn *c;
	unsigned int b, i;

	FOR_EACH_CONN(c, b)
	{
		if (!conn_managed(c))
			continue;
		for (i = 0; i < c->ntry; i++)
			if (match(&c->tries[i], arg))
				c->tries[i].fails = 0, c->tries[i].next_ms = 0;
		apply(c);
	}
}

static bool try_from_addr(const struct pm_try *t, const void *addr)
{
	return paddr_eq(&t->local, addr, false);
}

static bool try_on_link(const struct pm_try *t, const void *ifindex)
{
	struct sockaddr_storage la;

	paddr_to(&t->local, &la);
	return netwatch_addr_ifindex(&la) == *(const int *)ifindex;
}

static bool try_from_endpoint(const struct pm_try *t, const void *unused)
{
	struct sockaddr_storage la;

	(void)unused;
	paddr_to(&t->local, &la);
	return endpoint_of(&la) != NULL;
}

static bool try_without_route(const struct pm_try *t, const void *unused)
{
	(void)unused;
	return t->noroute;
}

/* A new network: try it now, whatever failed before. */
static void on_addr_added(const struct nw_addr *a)
{
	struct paddr p;

	route_invalidate();
	endpoints_follow();
	paddr_from(&p, &a->addr);
	retry_now(try_from_addr, &p);
}

static void on_addr_removed(const struct nw_addr *a)
{
	struct pm_conn *c;
	unsigned int b;
	struct paddr p;

	route_invalidate();
	paddr_from(&p, &a->addr);
	FOR_EACH_CONN(c, b)
	if (conn_managed(c))
		drop_local(c, &p, 0);
	endpoints_follow();
}

/* A link down takes its subflows; a link back is tried again at once. */
static void on_link_changed(const struct nw_link *l)
{
	struct pm_conn *c;
	unsigned int b;

	route_invalidate();
	if (l->up) {
		retry_now(try_on_link, &l->ifindex);
		return;
	}
	FOR_EACH_CONN(c, b)
	if (conn_managed(c))
		drop_local(c, NULL, l->ifindex);
}

/* Pairs that had no route through their interface may have one now. */
static void on_routes_changed(void)
{
	route_invalidate();
	retry_now(try_without_route, NULL);
}

/*
 * Under the endpoints policy, the table again: an endpoint that went away
 * takes its subflows with it (as "ip mptcp endpoint delete" does under the
 * in-kernel path manager), and a new or changed one is applied at once.
 */
static void endpoints_follow(void)
{
	struct ep_table old = *endpoints();
	const struct ep_table *t;
	struct pm_conn *c;
	unsigned int i, j, b;
	struct paddr p;
	int r;

	if (cfg.policy != MPSD_POLICY_ENDPOINTS)
		return;
	next_ep_ms = now_ms() + EP_REFRESH_MS;
	r = endpoints_refresh();
	if (r < 0)
		mpsd_log(LOG_WARNING, "policy: reading the endpoints: %s",
			 strerror(-r));
	if (r <= 0)
		return;
	t = endpoints();
	for (i = 0; i < old.n; i++) {
		for (j = 0; j < t->n; j++)
			if (mps_addr_equal(&t->ep[j].addr, &old.ep[i].addr,
					   false))
				break;
		if (j < t->n)
			continue;
		paddr_from(&p, &old.ep[i].addr);
		FOR_EACH_CONN(c, b)
		if (conn_managed(c) && !paddr_eq(&p, &c->init_local, false))
			drop_local(c, &p, 0);
	}
	retry_now(try_from_endpoint, NULL);
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

/* --------------------------------------------------- interactive ranking */

static int rank_cb(const struct mps_diag_subflow *d, void *data)
{
	struct mps_tcp_stats st;
	struct pm_conn *c = conn_find(d->mptcp.token);
	struct paddr l, r;
	struct pm_sf *sf;

	(void)data;
	if (!c || !conn_managed(c) || c->server_side ||
	    conn_mode(c) != MPSD_MODE_INTERACTIVE)
		return 0;
	paddr_from(&l, &d->sock.local);
	paddr_from(&r, &d->sock.remote);
	sf = sf_find(c, &l, &r);
	if (sf && sf->up) {
		mps_tcp_stats_read(d->tcpi, d->tcpi_len, &st);
		sf->rtt_us = st.rtt_us;
		sf->rtt_age_ms = st.last_ack_recv_ms;
	}
	return 0;
}

/*
 * A subflow's round trip as its interface has it now: that of the subflow
 * on the same interface that had an ACK last.  An idle backup keeps the
 * figure it had before its link got congested, a congestion the subflow
 * that carries the data measures for both.
 */
static __u32 link_rtt(const struct pm_conn *c, const struct pm_sf *sf)
{
	const struct pm_sf *fresh = sf;
	unsigned int i;

	for (i = 0; i < c->nsf; i++) {
		const struct pm_sf *o = &c->sf[i];

		if (sf_usable(o) && o->rtt_us && o->egress && sf->egress &&
		    o->egress == sf->egress &&
		    o->rtt_age_ms < fresh->rtt_age_ms)
			fresh = o;
	}
	return fresh->rtt_us;
}

/* The fastest path carries the data; a small difference changes nothing. */
static void rank(struct pm_conn *c)
{
	struct pm_sf *best = NULL, *active = NULL;
	__u32 best_rtt = 0, active_rtt = 0, rtt;
	unsigned int i;

	for (i = 0; i < c->nsf; i++) {
		struct pm_sf *sf = &c->sf[i];

		if (!sf_usable(sf) || !sf->rtt_us)
			continue;
		rtt = link_rtt(c, sf);
		if (!sf->backup) {
			active = sf;
			active_rtt = rtt;
		}
		if (addr_use(&sf->local) != MPSD_IF_BACKUP &&
		    (!best || rtt < best_rtt ||
		     (rtt == best_rtt && better_path(c, sf, best)))) {
			best = sf;
			best_rtt = rtt;
		}
	}
	if (!best || best == active)
		return;
	if (active && (best_rtt >= RANK_HYSTERESIS * active_rtt ||
		       best_rtt + RANK_MIN_GAIN_US > active_rtt))
		return;
	if (active) {
		char a[64], b[64];

		mpsd_log(LOG_INFO,
			 "policy: %08x: interactive: %s (%u us) takes "
			 "over from %s (%u us)",
			 c->token, paddr_str(&best->local, a, sizeof(a)),
			 best_rtt, paddr_str(&active->local, b, sizeof(b)),
			 active_rtt);
	}
	set_backup(c, best, false);
	if (active)
		set_backup(c, active, true);
}

static void rank_all(void)
{
	struct pm_conn *c;
	unsigned int b;
	bool any = false;

	FOR_EACH_CONN(c, b)
	if (conn_managed(c) && !c->server_side &&
	    conn_mode(c) == MPSD_MODE_INTERACTIVE)
		any = true;
	/* one dump of the established sockets: cheaper than a lookup each */
	if (!any ||
	    mps_diag_subflow_dump_states(1 << TCP_ESTABLISHED, rank_cb, NULL))
		return;
	FOR_EACH_CONN(c, b)
	if (conn_managed(c) && !c->server_side &&
	    conn_mode(c) == MPSD_MODE_INTERACTIVE)
		rank(c);
}

/* ------------------------------------------------------------- the clock */

void policy_tick(void)
{
	long now = now_ms();
	struct pm_conn *c;
	unsigned int b;

	netwatch_tick();
	if (retry_soonest && retry_soonest <= now) {
		retry_soonest = 0;
		FOR_EACH_CONN(c, b)
		{
			if (c->retry_at && c->retry_at <= now)
				apply(c);
			else if (c->retry_at)
				retry_at(c, c->retry_at);
		}
	}
	policy_state_flush(false);
	if (cfg.policy == MPSD_POLICY_ENDPOINTS && now >= next_ep_ms)
		endpoints_follow();
	if (now >= next_rank_ms) {
		rank_all();
		next_rank_ms = now + cfg.interactive_ms;
	}
}

int policy_next_timeout_ms(void)
{
	long soonest = next_rank_ms, now = now_ms();
	int nw = netwatch_next_timeout_ms();

	if (retry_soonest && retry_soonest < soonest)
		soonest = retry_soonest;
	if (cfg.policy == MPSD_POLICY_ENDPOINTS && next_ep_ms < soonest)
		soonest = next_ep_ms;
	if (nw >= 0 && now + nw < soonest)
		soonest = now + nw;
	return soonest > now ? (int)(soonest - now) : 0;
}

/* ------------------------------------------------ discovery and control */

static bool conn_known(__u32 token)
{
	return conn_find(token) != NULL;
}

static void forget_all(void)
{
	struct pm_conn *c, *next;
	unsigned int b;

	for (b = 0; b < PM_BUCKETS; b++) {
		for (c = buckets[b]; c; c = next) {
			next = c->next;
			free(c);
		}
		buckets[b] = NULL;
	}
	nconns = 0;
}

static int discover_msk(const struct mps_msk *m, void *data)
{
	struct pm_conn *c;
	bool fresh;

	(void)data;
	if (!m->token || m->sock.state != TCP_ESTABLISHED)
		return 0;
	fresh = !conn_find(m->token);
	c = conn_get(m->token);
	if (!c)
		return -ENOMEM;
	c->seen = true;
	if (!fresh && c->established)
		return 0;
	paddr_from(&c->init_local, &m->sock.local);
	paddr_from(&c->init_remote, &m->sock.remote);
	c->established = true;
	/* refined by the subflows' flags below */
	c->server_side = policy_state_listening(&m->sock.local);
	if (!c->cookie_checked)
		c->mode = policy_state_match_cookie_value(
			c->token, m->sock.cookie, c->mode);
	c->cookie_checked = true;
	return 0;
}

static void note_remote(struct pm_conn *c, const struct paddr *r, __u8 id)
{
	unsigned int i;

	if (paddr_eq(r, &c->init_remote, true) || c->nrem == PM_MAX_REM)
		return;
	for (i = 0; i < c->nrem; i++)
		if (paddr_eq(&c->rem[i], r, true))
			return;
	c->rem_id[c->nrem] = id;
	c->rem[c->nrem++] = *r;
}

static int discover_subflow(const struct mps_diag_subflow *d, void *data)
{
	struct pm_conn *c = conn_find(d->mptcp.token);
	struct paddr l, r;
	struct pm_sf *sf;

	(void)data;
	if (!c || !c->seen)
		return 0;
	if (d->sock.state != TCP_ESTABLISHED && d->sock.state != TCP_SYN_SENT)
		return 0;
	paddr_from(&l, &d->sock.local);
	paddr_from(&r, &d->sock.remote);
	sf = sf_find(c, &l, &r);
	if (!sf)
		sf = sf_add(c, &l, &r);
	if (!sf)
		return 0;
	sf->seen = true;
	sf->local = l; /* an attempt of ours gets its port */
	sf->up = d->sock.state == TCP_ESTABLISHED;
	sf->ifindex = d->sock.ifindex;
	sf_learn_egress(sf);
	sf->backup = d->mptcp.flags & MPTCP_SUBFLOW_FLAG_BKUP_LOC;
	sf->loc_id = d->mptcp.local_addr_id;
	/* only the side that opened the connection asked for MP_CAPABLE */
	if (paddr_eq(&l, &c->init_local, true) &&
	    paddr_eq(&r, &c->init_remote, true))
		c->server_side =
			!(d->mptcp.flags & MPTCP_SUBFLOW_FLAG_MCAP_LOC);
	note_remote(c, &r, d->mptcp.remote_addr_id);
	if (c->server_side)
		c->announced = true; /* done by the mpsockd before us */
	return 0;
}

/*
 * What the kernel lists now replaces what we believed, merged into the
 * records we have, so that back-off and attempts in flight survive; a
 * failed dump changes nothing.
 */
static int discover(void)
{
	long now = now_ms();
	struct pm_conn *c, *next;
	unsigned int b, i;
	int err;

	policy_state_scan_listeners();
	FOR_EACH_CONN(c, b)
	{
		c->seen = false;
		for (i = 0; i < c->nsf; i++)
			c->sf[i].seen = false;
	}
	err = mps_diag_msk_dump(discover_msk, NULL);
	if (!err)
		err = mps_diag_subflow_dump(discover_subflow, NULL);
	if (err)
		return err;
	for (b = 0; b < PM_BUCKETS; b++) {
		for (c = buckets[b]; c; c = next) {
			next = c->next;
			if (!c->seen) {
				/* closed while we were not listening */
				policy_state_forget(c->token);
				conn_free(c->token);
				continue;
			}
			/* gone, except attempts younger than the dump */
			for (i = 0; i < c->nsf;) {
				struct pm_sf *sf = &c->sf[i];

				if (!sf->seen &&
				    (sf->up || now - sf->since_ms > 2000))
					sf_remove(c, sf);
				else
					i++;
			}
		}
	}
	policy_state_prune(conn_known);
	FOR_EACH_CONN(c, b)
	apply(c);
	return 0;
}

void policy_resync(void)
{
	int err = discover();

	if (err)
		mpsd_log(LOG_WARNING, "policy: rereading connections: %s",
			 strerror(-err));
}

int policy_start(const struct mpsd_config *c, const char *state_path)
{
	int fd, err;

	cfg = *c;
	next_rank_ms = now_ms() + cfg.interactive_ms;
	policy_state_open(state_path);
	fd = netwatch_open(&nw_ops);
	if (fd < 0)
		return fd;
	/* the table first: discovery applies the policy to what it finds */
	endpoints_follow();
	err = discover();
	if (err) {
		netwatch_close();
		return err;
	}
	mpsd_log(LOG_NOTICE,
		 "path manager: policy %s, mode %s, %u connection%s "
		 "found",
		 mpsd_policy_name(cfg.policy), mpsd_mode_name(cfg.mode), nconns,
		 nconns == 1 ? "" : "s");
	return fd;
}

void policy_stop(void)
{
	netwatch_close();
	forget_all();
}

void policy_reload(const struct mpsd_config *c)
{
	struct pm_conn *conn;
	unsigned int b;

	cfg = *c;
	endpoints_follow();
	FOR_EACH_CONN(conn, b)
	{
		if (!conn_managed(conn) || conn->server_side)
			continue;
		fix_priorities(conn);
		apply(conn);
	}
}

int policy_set_mode(__u32 token, __u64 cookie, int mode, char *msg, size_t len)
{
	struct pm_conn *c;
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
	c = conn_find(token);
	if (!c)
		return 0; /* CREATED comes later, and reads the mode */
	c->mode = mode;
	if (conn_managed(c) && !c->server_side) {
		fix_priorities(c);
		apply(c);
	}
	return 0;
}

void policy_describe(char *policy, size_t plen, char *mode, size_t mlen)
{
	if (cfg.policy == MPSD_POLICY_NDIFFPORTS)
		snprintf(policy, plen, "%s %u", mpsd_policy_name(cfg.policy),
			 cfg.ndiffports);
	else
		snprintf(policy, plen, "%s", mpsd_policy_name(cfg.policy));
	snprintf(mode, mlen, "%s", mpsd_mode_name(cfg.mode));
}

void policy_claim(__u32 token)
{
	struct pm_conn *c = conn_find(token);

	if (c && c->mode == MPSOCK_MODE_MANUAL)
		return;
	if (c)
		c->mode = MPSOCK_MODE_MANUAL;
	policy_state_set(token, MPSOCK_MODE_MANUAL);
}
