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
 * Each decision changes the records (pm_model.h) as if its actions had
 * worked, and queues them; the outcome comes back through pol_opened()
 * and pol_backup_done(), which undo what failed.  Nothing is assumed to
 * have been established until an event says so.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <netinet/tcp.h>
#include <linux/mptcp.h>

#include "mpsock.h"
#include "kernel/kernel.h"
#include "util/util.h"
#include "policy.h"

/* a new best path must be this much faster to take over (interactive) */
#define RANK_HYSTERESIS 0.8
/* ... and this much in absolute terms: no switching on noise */
#define RANK_MIN_GAIN_US 5000
/* a subflow that lived this long was not a failed attempt */
#define SF_HEALTHY_MS 10000
/* an attempt younger than this may be missing from a dump */
#define SF_ATTEMPT_MS 2000

/* ------------------------------------------------------------ the queue */

struct pm_action *pm_actions_push(struct pm_actions *q)
{
	struct pm_action *v;

	if (q->head && q->head == q->n)
		q->head = q->n = 0;
	if (q->n == q->cap) {
		/* the done ones at the front make room first */
		if (q->head > q->cap / 2) {
			memmove(q->v, q->v + q->head,
				sizeof(*v) * (q->n - q->head));
			q->n -= q->head;
			q->head = 0;
		} else {
			unsigned int cap = q->cap ? q->cap * 2 : 64;

			v = realloc(q->v, sizeof(*v) * cap);
			if (!v)
				return NULL;
			q->v = v;
			q->cap = cap;
		}
	}
	v = &q->v[q->n++];
	memset(v, 0, sizeof(*v));
	return v;
}

void pm_actions_reset(struct pm_actions *q)
{
	q->head = q->n = 0;
}

void pm_actions_free(struct pm_actions *q)
{
	free(q->v);
	memset(q, 0, sizeof(*q));
}

const char *pm_action_str(const struct pm_action *a, char *buf, size_t len)
{
	static const char *const names[] = {
		[PM_ACT_OPEN] = "open",		[PM_ACT_BACKUP] = "backup",
		[PM_ACT_RESET] = "reset",	[PM_ACT_WITHDRAW] = "withdraw",
		[PM_ACT_ANNOUNCE] = "announce",
	};
	char l[64], r[64];

	paddr_str(&a->local, l, sizeof(l));
	paddr_str(&a->remote, r, sizeof(r));
	switch (a->type) {
	case PM_ACT_OPEN:
		snprintf(buf, len, "%08x open %s -> %s id %u dev %d%s",
			 a->token, l, r, a->id, a->ifindex,
			 a->backup ? " backup" : "");
		break;
	case PM_ACT_BACKUP:
		snprintf(buf, len, "%08x %s %s -> %s", a->token,
			 a->backup ? "backup" : "active", l, r);
		break;
	case PM_ACT_RESET:
		snprintf(buf, len, "%08x reset %s -> %s dev %d", a->token, l, r,
			 a->ifindex);
		break;
	case PM_ACT_WITHDRAW:
	case PM_ACT_ANNOUNCE:
		snprintf(buf, len, "%08x %s %s id %u", a->token, names[a->type],
			 l, a->id);
		break;
	default:
		snprintf(buf, len, "%08x ?%u", a->token, a->type);
	}
	return buf;
}

/* ------------------------------------------------------------ the host */

static long now(const struct policy *p)
{
	return p->env->now_ms(p->env->ctx);
}

__attribute__((format(printf, 3, 4))) static void
plog(struct policy *p, int prio, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->env->log(p->env->ctx, prio, msg);
}

static const struct nw_link *link_of(const struct policy *p, int ifindex)
{
	return p->env->link(p->env->ctx, ifindex);
}

static int paddr_ifindex(const struct policy *p, const struct paddr *a)
{
	struct sockaddr_storage ss;

	paddr_to(a, &ss);
	return p->env->addr_ifindex(p->env->ctx, &ss);
}

static const struct mps_local_id *ep_of(const struct policy *p,
					const struct paddr *a)
{
	const struct ep_table *t = p->env->endpoints(p->env->ctx);
	struct paddr e;
	unsigned int i;

	for (i = 0; t && i < t->n; i++) {
		paddr_from(&e, &t->ep[i].addr);
		if (paddr_eq(&e, a, false))
			return &t->ep[i];
	}
	return NULL;
}

/*
 * The rule of the interface an address is on; under the endpoints policy
 * an endpoint with the backup flag makes it a backup address too.
 */
static enum mpsd_if_use addr_use(const struct policy *p, const struct paddr *a)
{
	const struct mps_local_id *ep;
	const struct nw_link *l = link_of(p, paddr_ifindex(p, a));
	enum mpsd_if_use use;

	use = l ? mpsd_config_if_use(&p->cfg, l->name) : MPSD_IF_USE;
	if (use == MPSD_IF_USE && p->cfg.policy == MPSD_POLICY_ENDPOINTS &&
	    (ep = ep_of(p, a)) && (ep->flags & MPTCP_PM_ADDR_FLAG_BACKUP))
		use = MPSD_IF_BACKUP;
	return use;
}

static void log_fail(struct policy *p, const struct pm_conn *c,
		     const char *what, int err, const char *msg)
{
	plog(p, LOG_WARNING, "policy: %08x: %s: %s%s%s", c->token, what,
	     strerror(-err), msg && msg[0] ? ": " : "", msg ? msg : "");
}

/* --------------------------------------------------------- connections */

static enum mpsd_mode conn_mode(const struct policy *p, const struct pm_conn *c)
{
	switch (c->mode) {
	case MPSOCK_MODE_AGGREGATE:
		return MPSD_MODE_AGGREGATE;
	case MPSOCK_MODE_HANDOVER:
		return MPSD_MODE_HANDOVER;
	case MPSOCK_MODE_INTERACTIVE:
		return MPSD_MODE_INTERACTIVE;
	default:
		return p->cfg.mode;
	}
}

static bool conn_managed(const struct pm_conn *c)
{
	return c->established && !c->foreign && c->mode != MPSOCK_MODE_MANUAL;
}

static struct pm_conn *conn_get(struct policy *p, __u32 token)
{
	bool fresh;
	struct pm_conn *c = pm_conn_get(&p->m, token, &fresh);

	if (c && fresh)
		c->mode = p->env->saved_mode(p->env->ctx, token);
	return c;
}

static void retry_at(struct policy *p, struct pm_conn *c, long when)
{
	/* cannot fail: pm_conn_get() reserved the connection's slot */
	if (pm_timer_arm(&p->m, c, when))
		plog(p, LOG_ERR, "policy: %08x: no memory for a retry",
		     c->token);
}

/* A failed attempt: the next one waits, twice as long each time. */
static struct pm_try *try_failed(struct policy *p, struct pm_conn *c,
				 const struct paddr *l, const struct paddr *r)
{
	struct pm_try *t = pm_try_find(c, l, r, true);
	unsigned long delay = p->cfg.backoff_min_ms;
	unsigned int i;

	if (t->fails < 30)
		t->fails++;
	for (i = 1; i < t->fails && delay < p->cfg.backoff_max_ms; i++)
		delay *= 2;
	if (delay > p->cfg.backoff_max_ms)
		delay = p->cfg.backoff_max_ms;
	t->next_ms = now(p) + delay;
	retry_at(p, c, t->next_ms);
	return t;
}

static bool try_allowed(struct policy *p, struct pm_conn *c,
			const struct paddr *l, const struct paddr *r,
			long t_now)
{
	struct pm_try *t = pm_try_find(c, l, r, false);

	if (!t || t->next_ms <= t_now)
		return true;
	retry_at(p, c, t->next_ms);
	return false;
}

static struct pm_action *act(struct policy *p, const struct pm_conn *c,
			     enum pm_act type)
{
	struct pm_action *a = pm_actions_push(p->out);

	if (!a) {
		plog(p, LOG_ERR, "policy: %08x: no memory for an action",
		     c->token);
		return NULL;
	}
	a->type = type;
	a->token = c->token;
	return a;
}

/* ------------------------------------------------------------- subflows */

/* MP_PRIO, if it changes anything; believed done until told otherwise. */
static void set_backup(struct policy *p, struct pm_conn *c, struct pm_sf *sf,
		       bool backup)
{
	struct pm_action *a;

	if (sf->backup == backup || !sf->up)
		return;
	a = act(p, c, PM_ACT_BACKUP);
	if (!a)
		return;
	a->local = sf->local;
	a->remote = sf->remote;
	a->backup = backup;
	sf->backup = backup;
}

/*
 * The id the kernel's table gives @l for this connection: the one it has,
 * 0 for the first subflow's address (the kernel's id for it), else the
 * lowest free one; the actuator asks the kernel if it disagrees.
 */
static int local_id(struct pm_conn *c, const struct paddr *l)
{
	unsigned int i;
	int id = pm_id_of(c, l);

	if (id >= 0)
		return id;
	if (paddr_eq(l, &c->init_local, false)) {
		for (i = 0; i < c->nids && c->ids[i].id; i++)
			;
		if (i == c->nids)
			return 0;
	}
	id = pm_id_free(c);
	if (id > 0)
		pm_id_note(c, l, id);
	return id;
}

/* Whether @l -> @r through @ifindex is the first such pair to be logged. */
static bool noroute_first(struct policy *p, const struct paddr *l,
			  const struct paddr *r, int ifindex)
{
	struct pm_noroute *n;
	unsigned int i;

	for (i = 0; i < p->n_noroute; i++) {
		n = &p->noroute[i];
		if (n->ifindex == ifindex && paddr_eq(&n->l, l, false) &&
		    paddr_eq(&n->r, r, false)) {
			n->more++;
			return false;
		}
	}
	if (p->n_noroute == PM_NOROUTE_PAIRS)
		return true; /* more pairs than that: each logged */
	n = &p->noroute[p->n_noroute++];
	n->l = *l;
	n->r = *r;
	n->ifindex = ifindex;
	n->more = 0;
	return true;
}

/* Routes may change: how many were not logged, and a fresh table. */
static void noroute_reset(struct policy *p)
{
	char sa[64], sb[64];
	unsigned int i;

	for (i = 0; i < p->n_noroute; i++)
		if (p->noroute[i].more)
			plog(p, LOG_NOTICE,
			     "policy: open %s -> %s: no route for %u more "
			     "connections",
			     paddr_str(&p->noroute[i].l, sa, sizeof(sa)),
			     paddr_str(&p->noroute[i].r, sb, sizeof(sb)),
			     p->noroute[i].more);
	p->n_noroute = 0;
}

/*
 * A subflow leaves through the interface of its local address, whatever
 * routing says of that source (a host without source-based rules would
 * send the cell address out through wifi): it is bound to that interface,
 * and opened only if a route through it reaches the peer.  A pair without
 * one waits, as a failed attempt does, until routes change.
 */
static void open_subflow(struct policy *p, struct pm_conn *c,
			 const struct paddr *l, const struct paddr *r,
			 bool backup, const struct mps_local_id *ep)
{
	struct sockaddr_storage local, remote;
	struct pm_try *t = pm_try_find(c, l, r, false);
	int id, ifindex, egress;
	struct pm_action *a;
	struct pm_sf *sf;
	char sa[64], sb[64];

	paddr_to(l, &local);
	paddr_to(r, &remote);
	/* an endpoint's device, as "dev" gives it, or the address's own */
	ifindex = ep && ep->ifindex ? ep->ifindex : paddr_ifindex(p, l);
	egress = ifindex ? p->env->egress(p->env->ctx, &local, &remote, ifindex)
			 : 0;
	if (!egress && ifindex) {
		if ((!t || !t->noroute) && noroute_first(p, l, r, ifindex)) {
			const struct nw_link *lk = link_of(p, ifindex);

			plog(p, LOG_NOTICE,
			     "policy: %08x: open %s -> %s: no route through "
			     "%s, not tried until routes change (nor logged "
			     "for other connections)",
			     c->token, paddr_str(l, sa, sizeof(sa)),
			     paddr_str(r, sb, sizeof(sb)),
			     lk ? lk->name : "its interface");
		}
		try_failed(p, c, l, r)->noroute = true;
		return;
	}
	/* an endpoint's id, as the in-kernel path manager would use */
	id = ep ? ep->id : local_id(c, l);
	if (id < 0) {
		log_fail(p, c, "open: no free address id", -ENOSPC, NULL);
		try_failed(p, c, l, r)->noroute = false;
		return;
	}
	sf = pm_sf_add(c, l, r, now(p));
	if (!sf)
		return;
	a = act(p, c, PM_ACT_OPEN);
	if (!a) {
		pm_sf_remove(c, sf);
		return;
	}
	sf->local.port = 0; /* the kernel chooses it */
	sf->backup = backup;
	sf->loc_id = id;
	sf->ifindex = ifindex;
	sf->egress = egress > 0 ? egress : 0;
	a->local = sf->local;
	a->remote = *r;
	a->initial = c->init_local;
	a->id = id;
	a->ifindex = ifindex;
	a->backup = backup;
}

/*
 * The interface @sf leaves through: the device it is bound to, or, for
 * the initial subflow and any other unbound one, the one routing picks
 * (asked once, while the route still exists: after a link goes down, the
 * answer would be another interface).
 */
static void sf_learn_egress(struct policy *p, struct pm_sf *sf)
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
	e = p->env->egress(p->env->ctx, &l, &r, 0);
	sf->egress = e > 0 ? e : 0;
}

/* Established, and its interface up: it can carry the data. */
static bool sf_usable(const struct policy *p, const struct pm_sf *sf)
{
	const struct nw_link *link;
	int ifindex = sf->egress;

	if (!sf->up)
		return false;
	if (!ifindex)
		ifindex = paddr_ifindex(p, &sf->local);
	link = link_of(p, ifindex);
	return !link || link->up;
}

/* Whether a new subflow from @l should join as a backup. */
static bool wants_backup(const struct policy *p, const struct pm_conn *c,
			 const struct paddr *l)
{
	if (addr_use(p, l) == MPSD_IF_BACKUP)
		return true;
	return conn_mode(p, c) != MPSD_MODE_AGGREGATE;
}

static bool room(const struct policy *p, const struct pm_conn *c)
{
	const struct ep_table *t;

	if (p->cfg.policy == MPSD_POLICY_NDIFFPORTS)
		return c->nsf < PM_MAX_SF; /* N in total, as configured */
	if (p->cfg.policy == MPSD_POLICY_ENDPOINTS) { /* ip mptcp limits */
		t = p->env->endpoints(p->env->ctx);
		return c->nsf < PM_MAX_SF && c->nsf < 1 + t->subflows_max;
	}
	return c->nsf < PM_MAX_SF && c->nsf < 1 + p->cfg.max_subflows;
}

/* --------------------------------------------------------- the policies */

static void apply_fullmesh(struct policy *p, struct pm_conn *c, long t_now)
{
	const struct nw_addr *locals;
	struct paddr remotes[1 + PM_MAX_REM], l;
	unsigned int nl, nr = 0, i, j;

	if (!c->init_remote_gone)
		remotes[nr++] = c->init_remote;
	for (i = 0; i < c->nrem; i++)
		remotes[nr++] = c->rem[i];
	nl = p->env->addrs(p->env->ctx, &locals);
	for (i = 0; i < nl && room(p, c); i++) {
		paddr_from(&l, &locals[i].addr);
		if (l.family != c->init_remote.family ||
		    addr_use(p, &l) == MPSD_IF_NEVER)
			continue;
		for (j = 0; j < nr && room(p, c); j++) {
			if (remotes[j].family != l.family ||
			    pm_count_pair(c, &l, &remotes[j]) ||
			    !try_allowed(p, c, &l, &remotes[j], t_now))
				continue;
			open_subflow(p, c, &l, &remotes[j],
				     wants_backup(p, c, &l), NULL);
		}
	}
}

static void apply_ndiffports(struct policy *p, struct pm_conn *c, long t_now)
{
	struct paddr l = c->init_local;

	l.port = 0;
	while (room(p, c) &&
	       pm_count_pair(c, &l, &c->init_remote) < p->cfg.ndiffports &&
	       try_allowed(p, c, &l, &c->init_remote, t_now)) {
		unsigned int before = c->nsf;

		open_subflow(p, c, &l, &c->init_remote, wants_backup(p, c, &l),
			     NULL);
		if (c->nsf == before)
			break;
	}
}

/* Pair @l -> @r unless it exists, is backing off, or leaves no room. */
static void open_pair(struct policy *p, struct pm_conn *c,
		      const struct paddr *l, const struct paddr *r,
		      const struct mps_local_id *ep, long t_now)
{
	if (!room(p, c) || pm_count_pair(c, l, r) ||
	    !try_allowed(p, c, l, r, t_now) || addr_use(p, l) == MPSD_IF_NEVER)
		return;
	open_subflow(p, c, l, r, wants_backup(p, c, l), ep);
}

/*
 * The endpoints policy, as the in-kernel path manager applies its table:
 * every "subflow" endpoint joins the peer's first address, a "fullmesh"
 * one every address the peer announced as well, and when no endpoint is
 * "fullmesh", each announced address (up to the add_addr_accepted limit)
 * gets one subflow from the source address routing picks for it; at most
 * "ip mptcp limits subflow" of them.  The endpoint's id, device and backup
 * flag go with its subflows.
 */
static void apply_endpoints(struct policy *p, struct pm_conn *c, long t_now)
{
	const struct ep_table *t = p->env->endpoints(p->env->ctx);
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
			open_pair(p, c, &l, &c->init_remote, ep, t_now);
		if (!(ep->flags & MPTCP_PM_ADDR_FLAG_FULLMESH))
			continue;
		for (j = 0; j < c->nrem && j < t->add_addr_accepted_max; j++)
			if (c->rem[j].family == l.family)
				open_pair(p, c, &l, &c->rem[j], ep, t_now);
	}
	if (any_fullmesh)
		return;
	nrem = c->nrem < t->add_addr_accepted_max ? c->nrem
						  : t->add_addr_accepted_max;
	for (j = 0; j < nrem; j++) {
		struct sockaddr_storage r, src;

		/* the kernel's "any" source: the one routing picks */
		paddr_to(&c->rem[j], &r);
		if (p->env->source(p->env->ctx, &r, &src))
			continue;
		paddr_from(&l, &src);
		open_pair(p, c, &l, &c->rem[j], NULL, t_now);
	}
}

static void announce_one(struct policy *p, struct pm_conn *c,
			 const struct sockaddr_storage *addr, __u8 id)
{
	struct pm_action *a;
	struct paddr pa;

	paddr_from(&pa, addr);
	if (pa.family != c->init_local.family ||
	    paddr_eq(&pa, &c->init_local, false))
		return;
	a = act(p, c, PM_ACT_ANNOUNCE);
	if (!a)
		return;
	a->local = pa;
	a->id = id;
}

/*
 * Server side: the configured addresses, or under the endpoints policy
 * the "signal" endpoints, announced once per connection.
 */
static void announce(struct policy *p, struct pm_conn *c)
{
	const struct ep_table *t;
	unsigned int i;

	if (c->announced)
		return;
	c->announced = true;
	if (p->cfg.policy != MPSD_POLICY_ENDPOINTS) {
		for (i = 0; i < p->cfg.nannounce; i++)
			announce_one(p, c, &p->cfg.announce[i].addr,
				     p->cfg.announce[i].id);
		return;
	}
	t = p->env->endpoints(p->env->ctx);
	for (i = 0; i < t->n; i++)
		if (t->ep[i].flags & MPTCP_PM_ADDR_FLAG_SIGNAL)
			announce_one(p, c, &t->ep[i].addr, t->ep[i].id);
}

static void apply(struct policy *p, struct pm_conn *c)
{
	long t_now = now(p);

	if (!conn_managed(c))
		return;
	/* what is still waiting arms it again (try_allowed) */
	pm_timer_disarm(&p->m, c);
	if (c->server_side) {
		announce(p, c);
		return;
	}
	if (p->cfg.policy == MPSD_POLICY_FULLMESH)
		apply_fullmesh(p, c, t_now);
	else if (p->cfg.policy == MPSD_POLICY_NDIFFPORTS)
		apply_ndiffports(p, c, t_now);
	else if (p->cfg.policy == MPSD_POLICY_ENDPOINTS)
		apply_endpoints(p, c, t_now);
}

/* ------------------------------------------------------------ the modes */

/*
 * Is @a a better path than @b: a regular interface, the connection's own
 * peer address, then the oldest.
 */
static bool better_path(const struct policy *p, const struct pm_conn *c,
			const struct pm_sf *a, const struct pm_sf *b)
{
	bool a_backup = addr_use(p, &a->local) == MPSD_IF_BACKUP,
	     b_backup = addr_use(p, &b->local) == MPSD_IF_BACKUP;
	bool a_home = paddr_eq(&a->remote, &c->init_remote, false),
	     b_home = paddr_eq(&b->remote, &c->init_remote, false);

	if (a_backup != b_backup)
		return !a_backup;
	if (a_home != b_home)
		return a_home;
	return a->since_ms < b->since_ms;
}

/* The subflow to carry the data: only one whose interface is up. */
static struct pm_sf *best_path(const struct policy *p, struct pm_conn *c)
{
	struct pm_sf *best = NULL;
	unsigned int i;

	for (i = 0; i < c->nsf; i++) {
		struct pm_sf *sf = &c->sf[i];

		if (!sf_usable(p, sf))
			continue;
		if (!best || better_path(p, c, sf, best))
			best = sf;
	}
	return best;
}

/*
 * The mode's rule for which subflows carry data: in aggregate every one
 * except those of backup interfaces; in handover and interactive exactly
 * one, the others ready as backups.
 */
static void fix_priorities(struct policy *p, struct pm_conn *c)
{
	struct pm_sf *active = NULL;
	unsigned int i;

	if (conn_mode(p, c) == MPSD_MODE_AGGREGATE) {
		for (i = 0; i < c->nsf; i++)
			set_backup(p, c, &c->sf[i],
				   addr_use(p, &c->sf[i].local) ==
					   MPSD_IF_BACKUP);
		return;
	}
	for (i = 0; i < c->nsf; i++)
		if (sf_usable(p, &c->sf[i]) && !c->sf[i].backup && !active)
			active = &c->sf[i];
	if (!active) {
		active = best_path(p, c);
		if (active)
			set_backup(p, c, active, false);
	}
	for (i = 0; i < c->nsf; i++)
		if (&c->sf[i] != active)
			set_backup(p, c, &c->sf[i], true);
}

/* --------------------------------------------------------------- events */

static void on_subflow_up(struct policy *p, struct pm_conn *c,
			  const struct mps_event *ev)
{
	struct paddr l, r;
	struct pm_sf *sf;

	paddr_from(&l, &ev->local);
	paddr_from(&r, &ev->remote);
	sf = pm_sf_find(c, &l, &r);
	if (!sf)
		sf = pm_sf_add(c, &l, &r, now(p));
	if (!sf)
		return;
	if (!sf->up)
		sf->since_ms = now(p);
	sf->local = l;
	sf->up = true;
	sf->loc_id = ev->loc_id;
	if (ev->loc_id)
		pm_id_note(c, &l, ev->loc_id);
	if (ev->ifindex)
		sf->ifindex = ev->ifindex;
	sf_learn_egress(p, sf);
	if (conn_managed(c) && !c->server_side)
		fix_priorities(p, c);
}

static void on_subflow_closed(struct policy *p, struct pm_conn *c,
			      const struct mps_event *ev)
{
	struct paddr l, r;
	struct pm_sf *sf;
	bool was_active, failed;

	paddr_from(&l, &ev->local);
	paddr_from(&r, &ev->remote);
	if (pm_tombstone_take(c, &l, &r))
		return;
	sf = pm_sf_find(c, &l, &r);
	if (!sf)
		return;
	was_active = sf->up && !sf->backup;
	failed = !sf->up || now(p) - sf->since_ms < SF_HEALTHY_MS;
	pm_sf_remove(c, sf);
	if (!conn_managed(c) || c->server_side)
		return;
	/*
	 * No storm: a path that failed, or died young, waits longer each
	 * time; even a healthy subflow comes back only after a pause.
	 */
	if (!failed)
		pm_try_find(c, &l, &r, true)->fails = 0;
	try_failed(p, c, &l, &r);
	if (was_active)
		fix_priorities(p, c);
	apply(p, c);
}

static void on_announced(struct policy *p, struct pm_conn *c,
			 const struct mps_event *ev)
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
	apply(p, c);
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

static void conn_start(struct policy *p, struct pm_conn *c,
		       const struct mps_event *ev)
{
	c->server_side = ev->server_side;
	paddr_from(&c->init_local, &ev->local);
	paddr_from(&c->init_remote, &ev->remote);
	/* at ESTABLISHED, a CREATED we did not see: its cookie may have one */
	if (!c->cookie_checked)
		c->mode =
			p->env->cookie_mode(p->env->ctx, c->token, 0, c->mode);
	c->cookie_checked = true;
}

void pol_event(struct policy *p, const struct mps_event *ev)
{
	struct pm_conn *c;

	if (ev->type == MPTCP_EVENT_CLOSED) {
		pm_closed_note(&p->m, ev->token);
		pm_conn_free(&p->m, ev->token);
		p->env->forget(p->env->ctx, ev->token);
		return;
	}
	switch (ev->type) {
	case MPTCP_EVENT_CREATED:
	case MPTCP_EVENT_ESTABLISHED:
	case MPTCP_EVENT_SUB_ESTABLISHED:
	case MPTCP_EVENT_ANNOUNCED:
		c = pm_conn_find(&p->m, ev->token);
		if (!c && !pm_closed_recently(&p->m, ev->token))
			c = conn_get(p, ev->token);
		break;
	default: /* a late event of a connection we no longer know */
		c = pm_conn_find(&p->m, ev->token);
		break;
	}
	if (!c)
		return;
	switch (ev->type) {
	case MPTCP_EVENT_CREATED:
		c->cookie_checked = false; /* CREATED always looks */
		conn_start(p, c, ev);
		break;
	case MPTCP_EVENT_ESTABLISHED:
		conn_start(p, c, ev);
		c->established = true;
		on_subflow_up(p, c, ev);
		apply(p, c);
		break;
	case MPTCP_EVENT_SUB_ESTABLISHED:
		on_subflow_up(p, c, ev);
		break;
	case MPTCP_EVENT_SUB_CLOSED:
		on_subflow_closed(p, c, ev);
		break;
	case MPTCP_EVENT_ANNOUNCED:
		on_announced(p, c, ev);
		break;
	case MPTCP_EVENT_REMOVED:
		on_removed(c, ev);
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------ network changes */

/*
 * Does @sf die with address @addr, or with link @ifindex: its source is
 * there, or its packets leave there (an unbound subflow routed through
 * that link, whatever its source).
 */
static bool sf_dies(const struct policy *p, const struct pm_sf *sf,
		    const struct paddr *addr, int ifindex)
{
	if (addr)
		return paddr_eq(&sf->local, addr, false);
	if (sf->egress == ifindex || sf->ifindex == ifindex)
		return true;
	return paddr_ifindex(p, &sf->local) == ifindex;
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
 * Subflows whose source or interface went away: reset them at once (their
 * packets have nowhere to go), and withdraw their addresses from the peer
 * (RM_ADDR), except an address a live subflow still uses.  In handover
 * and interactive modes a subflow whose interface is up takes over first,
 * so that MP_PRIO goes out before anything else.  The actions stay
 * together in the queue: the actuator never splits them.
 */
static void drop_local(struct policy *p, struct pm_conn *c,
		       const struct paddr *addr, int ifindex)
{
	bool lost_active = false, any = false, dead[PM_MAX_SF] = {false};
	struct pm_action *a;
	unsigned int i, j;

	/* first: none of them is a candidate any more */
	for (i = 0; i < c->nsf; i++) {
		struct pm_sf *sf = &c->sf[i];

		if (!sf_dies(p, sf, addr, ifindex))
			continue;
		if (sf->up && !sf->backup)
			lost_active = true;
		sf->up = false;
		dead[i] = any = true;
	}
	if (!any)
		return;
	if (lost_active && conn_mode(p, c) != MPSD_MODE_AGGREGATE) {
		struct pm_sf *next = best_path(p, c);

		if (next)
			set_backup(p, c, next, false);
	}
	for (i = 0; i < c->nsf; i++) {
		struct pm_sf *sf = &c->sf[i];

		if (!dead[i] || !sf->local.port)
			continue;
		a = act(p, c, PM_ACT_RESET);
		if (a) {
			a->local = sf->local;
			a->remote = sf->remote;
			/* a bound subflow is found only with its device */
			a->ifindex = sf->ifindex;
		}
		pm_tombstone_add(c, &sf->local, &sf->remote);
	}
	/* RM_ADDR once per address id that no live subflow keeps */
	for (i = 0; i < c->nsf; i++) {
		for (j = 0; j < i; j++)
			if (dead[j] && c->sf[j].loc_id == c->sf[i].loc_id)
				break;
		if (!dead[i] || j < i || id_kept(c, dead, c->sf[i].loc_id))
			continue;
		a = act(p, c, PM_ACT_WITHDRAW);
		if (a) {
			a->local = c->sf[i].local;
			a->local.port = 0;
			a->id = c->sf[i].loc_id;
		}
		pm_id_forget(c, c->sf[i].loc_id);
	}
	/* backwards: pm_sf_remove() moves the last one into the hole */
	for (i = c->nsf; i-- > 0;)
		if (dead[i])
			pm_sf_remove(c, &c->sf[i]);
	apply(p, c); /* room for the paths that remain */
}

/*
 * Something changed that may make failed pairs work: the attempts that
 * @match forget their back-off, and every managed connection gets what
 * its policy wants now.
 */
static void retry_now(struct policy *p,
		      bool (*match)(const struct policy *p,
				    const struct pm_try *t, const void *arg),
		      const void *arg, unsigned int from, unsigned int to)
{
	struct pm_conn *c;
	unsigned int b, i;

	if (!from)
		noroute_reset(p);
	PM_FOR_EACH_CONN_IN(&p->m, c, b, from, to)
	{
		if (!conn_managed(c))
			continue;
		for (i = 0; i < c->ntry; i++)
			if (match(p, &c->tries[i], arg))
				c->tries[i].fails = 0, c->tries[i].next_ms = 0;
		apply(p, c);
	}
}

static bool try_from_addr(const struct policy *p, const struct pm_try *t,
			  const void *addr)
{
	(void)p;
	return paddr_eq(&t->local, addr, false);
}

static bool try_on_link(const struct policy *p, const struct pm_try *t,
			const void *ifindex)
{
	return paddr_ifindex(p, &t->local) == *(const int *)ifindex;
}

static bool try_from_endpoint(const struct policy *p, const struct pm_try *t,
			      const void *unused)
{
	(void)unused;
	return ep_of(p, &t->local) != NULL;
}

static bool try_without_route(const struct policy *p, const struct pm_try *t,
			      const void *unused)
{
	(void)p;
	(void)unused;
	return t->noroute;
}

/* A new network: try it now, whatever failed before. */
void pol_addr_added_in(struct policy *p, const struct sockaddr_storage *a,
		       unsigned int from, unsigned int to)
{
	struct paddr pa;

	paddr_from(&pa, a);
	retry_now(p, try_from_addr, &pa, from, to);
}

void pol_addr_removed_in(struct policy *p, const struct sockaddr_storage *a,
			 unsigned int from, unsigned int to)
{
	struct pm_conn *c;
	unsigned int b;
	struct paddr pa;

	paddr_from(&pa, a);
	PM_FOR_EACH_CONN_IN(&p->m, c, b, from, to)
	if (conn_managed(c))
		drop_local(p, c, &pa, 0);
}

/* A link down takes its subflows; a link back is tried again at once. */
void pol_link_changed_in(struct policy *p, int ifindex, bool up,
			 unsigned int from, unsigned int to)
{
	struct pm_conn *c;
	unsigned int b;

	if (up) {
		retry_now(p, try_on_link, &ifindex, from, to);
		return;
	}
	PM_FOR_EACH_CONN_IN(&p->m, c, b, from, to)
	if (conn_managed(c))
		drop_local(p, c, NULL, ifindex);
}

/* Pairs that had no route through their interface may have one now. */
void pol_routes_changed_in(struct policy *p, unsigned int from,
			   unsigned int to)
{
	retry_now(p, try_without_route, NULL, from, to);
}

void pol_addr_added(struct policy *p, const struct sockaddr_storage *a)
{
	pol_addr_added_in(p, a, 0, PM_BUCKETS);
}

void pol_addr_removed(struct policy *p, const struct sockaddr_storage *a)
{
	pol_addr_removed_in(p, a, 0, PM_BUCKETS);
}

void pol_link_changed(struct policy *p, int ifindex, bool up)
{
	pol_link_changed_in(p, ifindex, up, 0, PM_BUCKETS);
}

void pol_routes_changed(struct policy *p)
{
	pol_routes_changed_in(p, 0, PM_BUCKETS);
}

/*
 * Under the endpoints policy, the table again: an endpoint that went away
 * takes its subflows with it (as "ip mptcp endpoint delete" does under the
 * in-kernel path manager), and a new or changed one is applied at once.
 */
void pol_endpoints_changed(struct policy *p, const struct ep_table *old)
{
	const struct ep_table *t = p->env->endpoints(p->env->ctx);
	struct pm_conn *c;
	unsigned int i, j, b;
	struct paddr pa;

	if (p->cfg.policy != MPSD_POLICY_ENDPOINTS)
		return;
	for (i = 0; i < old->n; i++) {
		for (j = 0; j < t->n; j++)
			if (mps_addr_equal(&t->ep[j].addr, &old->ep[i].addr,
					   false))
				break;
		if (j < t->n)
			continue;
		paddr_from(&pa, &old->ep[i].addr);
		PM_FOR_EACH_CONN(&p->m, c, b)
		if (conn_managed(c) && !paddr_eq(&pa, &c->init_local, false))
			drop_local(p, c, &pa, 0);
	}
	retry_now(p, try_from_endpoint, NULL, 0, PM_BUCKETS);
}

/*
 * A connection whose retry is due is taken from the timers and gets what
 * its policy wants now; what still waits arms it again, always later than
 * now (try_allowed, try_failed: backoff_min_ms is at least 10), so that
 * no connection comes twice in one call.  @max bounds the call anyway.
 */
unsigned int pol_retries_run(struct policy *p, unsigned int max)
{
	long t_now = now(p);
	struct pm_conn *c;
	unsigned int n = 0;

	while (n < max && (c = pm_timer_pop_due(&p->m, t_now))) {
		apply(p, c);
		n++;
	}
	return n;
}

void pol_retries_due(struct policy *p)
{
	/* each connection is in the timers once */
	pol_retries_run(p, p->m.timers.n);
}

/* ------------------------------------------------------------ outcomes */

void pol_opened(struct policy *p, const struct pm_action *a, int err,
		const char *msg)
{
	struct pm_conn *c = pm_conn_find(&p->m, a->token);
	struct pm_try *t;
	struct pm_sf *sf;
	char sa[64], sb[64], what[160];

	if (!c)
		return;
	sf = pm_sf_find(c, &a->local, &a->remote);
	if (!err) {
		if (sf && !sf->up && sf->loc_id != a->id) {
			/* the kernel's table had another id for it */
			sf->loc_id = a->id;
			if (a->id)
				pm_id_note(c, &a->local, a->id);
		}
		return;
	}
	if (sf && !sf->up)
		pm_sf_remove(c, sf);
	if (err == -EADDRINUSE)
		pm_id_forget(c, a->id);
	if (err == -EOPNOTSUPP) {
		/* created under the in-kernel path manager */
		c->foreign = true;
		return;
	}
	t = pm_try_find(c, &a->local, &a->remote, false);
	/* once per path, not once per retry */
	if (!t || !t->fails) {
		snprintf(what, sizeof(what), "open %s -> %s",
			 paddr_str(&a->local, sa, sizeof(sa)),
			 paddr_str(&a->remote, sb, sizeof(sb)));
		log_fail(p, c, what, err, msg);
	}
	/* several attempts of one round count as one failure */
	if (t && t->next_ms > now(p) && !t->noroute)
		return;
	try_failed(p, c, &a->local, &a->remote)->noroute = false;
}

void pol_backup_done(struct policy *p, const struct pm_action *a, int err,
		     const char *msg)
{
	struct pm_conn *c = pm_conn_find(&p->m, a->token);
	struct pm_sf *sf;

	if (!err || !c)
		return;
	log_fail(p, c, "set backup", err, msg);
	sf = pm_sf_find(c, &a->local, &a->remote);
	if (sf && sf->backup == a->backup)
		sf->backup = !a->backup;
}

/* --------------------------------------------------- interactive ranking */

static bool conn_ranked(const struct policy *p, const struct pm_conn *c)
{
	return conn_managed(c) && !c->server_side &&
	       conn_mode(p, c) == MPSD_MODE_INTERACTIVE;
}

bool pol_wants_rank(const struct policy *p)
{
	struct pm_conn *c;
	unsigned int b;

	PM_FOR_EACH_CONN(&p->m, c, b)
	if (conn_ranked(p, c))
		return true;
	return false;
}

void pol_rank_sample(struct policy *p, __u32 token,
		     const struct sockaddr_storage *local,
		     const struct sockaddr_storage *remote, __u32 rtt_us,
		     __u32 ack_age_ms)
{
	struct pm_conn *c = pm_conn_find(&p->m, token);
	struct paddr l, r;
	struct pm_sf *sf;

	if (!c || !conn_ranked(p, c))
		return;
	paddr_from(&l, local);
	paddr_from(&r, remote);
	sf = pm_sf_find(c, &l, &r);
	if (sf && sf->up) {
		sf->rtt_us = rtt_us;
		sf->rtt_age_ms = ack_age_ms;
	}
}

/*
 * A subflow's round trip as its interface has it now: that of the subflow
 * on the same interface that had an ACK last.  An idle backup keeps the
 * figure it had before its link got congested, a congestion the subflow
 * that carries the data measures for both.
 */
static __u32 link_rtt(const struct policy *p, const struct pm_conn *c,
		      const struct pm_sf *sf)
{
	const struct pm_sf *fresh = sf;
	unsigned int i;

	for (i = 0; i < c->nsf; i++) {
		const struct pm_sf *o = &c->sf[i];

		if (sf_usable(p, o) && o->rtt_us && o->egress && sf->egress &&
		    o->egress == sf->egress &&
		    o->rtt_age_ms < fresh->rtt_age_ms)
			fresh = o;
	}
	return fresh->rtt_us;
}

/* The fastest path carries the data; a small difference changes nothing. */
static void rank(struct policy *p, struct pm_conn *c)
{
	struct pm_sf *best = NULL, *active = NULL;
	__u32 best_rtt = 0, active_rtt = 0, rtt;
	unsigned int i;
	char sa[64], sb[64];

	for (i = 0; i < c->nsf; i++) {
		struct pm_sf *sf = &c->sf[i];

		if (!sf_usable(p, sf) || !sf->rtt_us)
			continue;
		rtt = link_rtt(p, c, sf);
		if (!sf->backup) {
			active = sf;
			active_rtt = rtt;
		}
		if (addr_use(p, &sf->local) != MPSD_IF_BACKUP &&
		    (!best || rtt < best_rtt ||
		     (rtt == best_rtt && better_path(p, c, sf, best)))) {
			best = sf;
			best_rtt = rtt;
		}
	}
	if (!best || best == active)
		return;
	if (active && (best_rtt >= RANK_HYSTERESIS * active_rtt ||
		       best_rtt + RANK_MIN_GAIN_US > active_rtt))
		return;
	if (active)
		plog(p, LOG_INFO,
		     "policy: %08x: interactive: %s (%u us) takes over from "
		     "%s (%u us)",
		     c->token, paddr_str(&best->local, sa, sizeof(sa)),
		     best_rtt, paddr_str(&active->local, sb, sizeof(sb)),
		     active_rtt);
	set_backup(p, c, best, false);
	if (active)
		set_backup(p, c, active, true);
}

void pol_rank(struct policy *p)
{
	struct pm_conn *c;
	unsigned int b;

	PM_FOR_EACH_CONN(&p->m, c, b)
	if (conn_ranked(p, c))
		rank(p, c);
}

/* ------------------------------------------------------------- control */

void pol_init(struct policy *p, const struct mpsd_config *cfg,
	      const struct pm_env *env, struct pm_actions *out)
{
	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
	p->env = env;
	p->out = out;
}

void pol_fini(struct policy *p)
{
	pm_model_clear(&p->m);
}

void pol_configure(struct policy *p, const struct mpsd_config *cfg)
{
	struct pm_conn *c;
	unsigned int b;

	p->cfg = *cfg;
	PM_FOR_EACH_CONN(&p->m, c, b)
	{
		if (!conn_managed(c) || c->server_side)
			continue;
		fix_priorities(p, c);
		apply(p, c);
	}
}

void pol_set_mode(struct policy *p, __u32 token, int mode)
{
	struct pm_conn *c = pm_conn_find(&p->m, token);

	if (!c)
		return; /* CREATED comes later, and reads the mode */
	c->mode = mode;
	if (conn_managed(c) && !c->server_side) {
		fix_priorities(p, c);
		apply(p, c);
	}
}

bool pol_claim(struct policy *p, __u32 token)
{
	struct pm_conn *c = pm_conn_find(&p->m, token);

	if (c && c->mode == MPSOCK_MODE_MANUAL)
		return false;
	if (c)
		c->mode = MPSOCK_MODE_MANUAL;
	return true;
}

bool pol_knows(const struct policy *p, __u32 token)
{
	return pm_conn_find(&p->m, token) != NULL;
}

void pol_describe(const struct policy *p, char *policy, size_t plen, char *mode,
		  size_t mlen)
{
	if (p->cfg.policy == MPSD_POLICY_NDIFFPORTS)
		snprintf(policy, plen, "%s %u", mpsd_policy_name(p->cfg.policy),
			 p->cfg.ndiffports);
	else
		snprintf(policy, plen, "%s", mpsd_policy_name(p->cfg.policy));
	snprintf(mode, mlen, "%s", mpsd_mode_name(p->cfg.mode));
}

/* ----------------------------------------------------------- discovery */

/*
 * What the kernel lists now replaces what we believed, merged into the
 * records we have, so that back-off and attempts in flight survive.
 */
void pol_discover_begin(struct policy *p)
{
	struct pm_conn *c;
	unsigned int b, i;

	PM_FOR_EACH_CONN(&p->m, c, b)
	{
		c->seen = false;
		for (i = 0; i < c->nsf; i++)
			c->sf[i].seen = false;
	}
}

int pol_discover_conn(struct policy *p, __u32 token,
		      const struct sockaddr_storage *local,
		      const struct sockaddr_storage *remote, bool server_side,
		      __u64 cookie)
{
	bool fresh = !pm_conn_find(&p->m, token);
	struct pm_conn *c = conn_get(p, token);

	if (!c)
		return -ENOMEM;
	c->seen = true;
	if (!fresh && c->established)
		return 0;
	paddr_from(&c->init_local, local);
	paddr_from(&c->init_remote, remote);
	c->established = true;
	/* refined by the subflows' flags */
	c->server_side = server_side;
	if (!c->cookie_checked)
		c->mode = p->env->cookie_mode(p->env->ctx, token, cookie,
					      c->mode);
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

void pol_discover_subflow(struct policy *p, const struct pm_found_subflow *f)
{
	struct pm_conn *c = pm_conn_find(&p->m, f->token);
	struct paddr l, r;
	struct pm_sf *sf;

	if (!c || !c->seen)
		return;
	if (f->state != TCP_ESTABLISHED && f->state != TCP_SYN_SENT)
		return;
	paddr_from(&l, &f->local);
	paddr_from(&r, &f->remote);
	sf = pm_sf_find(c, &l, &r);
	if (!sf)
		sf = pm_sf_add(c, &l, &r, now(p));
	if (!sf)
		return;
	sf->seen = true;
	sf->local = l; /* an attempt of ours gets its port */
	sf->up = f->state == TCP_ESTABLISHED;
	sf->ifindex = f->ifindex;
	sf_learn_egress(p, sf);
	sf->backup = f->flags & MPTCP_SUBFLOW_FLAG_BKUP_LOC;
	sf->loc_id = f->loc_id;
	if (f->loc_id)
		pm_id_note(c, &l, f->loc_id);
	/* only the side that opened the connection asked for MP_CAPABLE */
	if (paddr_eq(&l, &c->init_local, true) &&
	    paddr_eq(&r, &c->init_remote, true))
		c->server_side = !(f->flags & MPTCP_SUBFLOW_FLAG_MCAP_LOC);
	note_remote(c, &r, f->rem_id);
	if (c->server_side)
		c->announced = true; /* done by the mpsockd before us */
}

void pol_discover_end(struct policy *p)
{
	long t_now = now(p);
	struct pm_conn *c, *next;
	unsigned int b, i;

	for (b = 0; b < PM_BUCKETS; b++) {
		for (c = p->m.buckets[b]; c; c = next) {
			next = c->next;
			if (!c->seen) {
				/* closed while we were not listening */
				p->env->forget(p->env->ctx, c->token);
				pm_conn_free(&p->m, c->token);
				continue;
			}
			/* gone, except attempts younger than the dump */
			for (i = 0; i < c->nsf;) {
				struct pm_sf *sf = &c->sf[i];

				if (!sf->seen &&
				    (sf->up ||
				     t_now - sf->since_ms > SF_ATTEMPT_MS))
					pm_sf_remove(c, sf);
				else
					i++;
			}
		}
	}
	PM_FOR_EACH_CONN(&p->m, c, b)
	apply(p, c);
}
