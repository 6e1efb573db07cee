// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The policy's actions, carried out with the path manager commands and
 * sock_diag, a slice at a time: an address lost under thousands of
 * connections becomes thousands of resets and withdrawals, and the loop
 * must still answer clients and read events between slices.  A
 * connection's consecutive actions are never split: the MP_PRIO, resets
 * and RM_ADDR of one loss go out together, as fast as they can.
 *
 * A slice runs by kind (act_phase.c), each kind's requests in netlink
 * batches (act_batch.c): one sendmsg() carries a hundred requests, which
 * the kernel runs in order, each acknowledged on its own; a round trip
 * each cost more than most of the commands themselves.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op/op.h"
#include "act_batch.h"
#include "actuator.h"
#include "log.h"
#include "pm_driver.h"
#include "yield.h"

/*
 * The slice being run: its actions, copied (an outcome may queue more,
 * which can move the queue), each one's step, the order by step, and the
 * ack slot of each of a step's actions.
 */
static struct {
	struct pm_action *v;
	unsigned int *step, *order, *slot;
	unsigned int cap;
} sl;
static struct act_batch batch;

static void log_fail(__u32 token, const char *what, int err, const char *msg)
{
	mpsd_log(LOG_WARNING, "policy: %08x: %s: %s%s%s", token, what,
		 strerror(-err), msg[0] ? ": " : "", msg);
}

/*
 * An open the kernel refused because its table holds the id the policy
 * chose for another address (or this address under another id): again,
 * alone, with the id the table gives, as an application's own open would.
 */
static int open_again(struct mps_genl *g, struct pm_action *a, char *msg)
{
	struct sockaddr_storage local, remote, initial;
	int err, id;

	paddr_to(&a->local, &local);
	paddr_to(&a->remote, &remote);
	paddr_to(&a->initial, &initial);
	msg[0] = '\0';
	id = mps_local_id_for(g, a->token, &initial, &local, msg, MPS_MSG_LEN);
	err = id < 0 ? id
		     : mps_pm_subflow_create(g, a->token, &local, id,
					     a->ifindex, &remote, a->backup,
					     msg, MPS_MSG_LEN);
	if (id >= 0)
		a->id = id;
	return mps_pm_errno(err, msg);
}

/* SUBFLOW_CREATE with the id the policy chose, for all of @ix at once. */
static void phase_open(struct policy *p, struct mps_genl *g,
		       struct pm_action *v, const unsigned int *ix,
		       unsigned int n)
{
	struct sockaddr_storage l, r;
	struct pm_action *a;
	unsigned int i;
	int err;

	if (!g || !act_batch_begin(&batch, g, n)) {
		for (i = 0; i < n; i++)
			pol_opened(p, &v[ix[i]], g ? -ENOMEM : -ENOTCONN, "");
		return;
	}
	for (i = 0; i < n; i++) {
		a = &v[ix[i]];
		paddr_to(&a->local, &l);
		paddr_to(&a->remote, &r);
		act_batch_put(&batch, mps_pm_subflow_create_put(
					      g, batch.b, act_batch_seq(&batch),
					      a->token, &l, a->id, a->ifindex,
					      &r, a->backup));
	}
	act_batch_flush(&batch);
	for (i = 0; i < n; i++) {
		a = &v[ix[i]];
		err = mps_pm_errno(batch.ack[i].err, batch.msg[i]);
		if (err == -EADDRINUSE)
			err = open_again(g, a, batch.msg[i]);
		pol_opened(p, a, err, batch.msg[i]);
	}
}

static void phase_backup(struct policy *p, struct mps_genl *g,
			 const struct pm_action *v, const unsigned int *ix,
			 unsigned int n)
{
	struct sockaddr_storage l, r;
	const struct pm_action *a;
	unsigned int i;

	if (!g || !act_batch_begin(&batch, g, n)) {
		for (i = 0; i < n; i++)
			pol_backup_done(p, &v[ix[i]], g ? -ENOMEM : -ENOTCONN,
					"");
		return;
	}
	for (i = 0; i < n; i++) {
		a = &v[ix[i]];
		paddr_to(&a->local, &l);
		paddr_to(&a->remote, &r);
		act_batch_put(&batch, mps_pm_set_backup_put(
					      g, batch.b, act_batch_seq(&batch),
					      a->token, &l, &r, a->backup));
	}
	act_batch_flush(&batch);
	for (i = 0; i < n; i++)
		pol_backup_done(p, &v[ix[i]], batch.ack[i].err, batch.msg[i]);
}

/* Put the resets of @ix, in their v4-mapped form if @mapped. */
static void put_resets(const struct pm_action *v, const unsigned int *ix,
		       unsigned int n, bool mapped)
{
	struct sockaddr_storage l, r;
	unsigned int i;

	for (i = 0; i < n; i++) {
		paddr_to(&v[ix[i]].local, &l);
		paddr_to(&v[ix[i]].remote, &r);
		act_batch_put(&batch,
			      mps_diag_destroy_tuple_put(
				      batch.b, act_batch_seq(&batch), &l, &r,
				      v[ix[i]].ifindex, mapped));
	}
	act_batch_flush(&batch);
}

/*
 * SOCK_DESTROY of each, as mps_diag_destroy_tuple(): an IPv4 tuple not
 * found may be a v6 connection's v4-mapped initial subflow, tried next in
 * a second batch.  @ix is reused for those.
 */
static void phase_reset(const struct pm_action *v, unsigned int *ix,
			unsigned int n)
{
	unsigned int i, m = 0;

	if (!act_batch_begin(&batch, NULL, n))
		return;
	put_resets(v, ix, n, false);
	for (i = 0; i < n; i++)
		if (batch.ack[i].err == -ENOENT &&
		    v[ix[i]].local.family == AF_INET)
			ix[m++] = ix[i];
	if (m && act_batch_begin(&batch, NULL, m))
		put_resets(v, ix, m, true);
}

/*
 * Withdraw address @id (RM_ADDR): the peer drops its subflows to it at
 * once instead of waiting for their retransmission timeouts.  The kernel
 * (6.18) puts RM_ADDR on the first subflow that can send, and sends it
 * only for an address a listed subflow or an announcement uses; the dead
 * subflows were reset just before, so they cannot carry it and have left
 * the list: announcing the address again just before withdrawing it makes
 * the withdrawal go out on a live path (the two requests are consecutive
 * in the batch, which the kernel runs in order).  Id 0 (the first
 * subflow's address) cannot be announced: withdrawing it works only while
 * the reset first subflow is still listed, which we try to be first for
 * (a real-time task for the slice).
 */
static void put_withdraw(struct mps_genl *g, const struct pm_action *a,
			 unsigned int *slot)
{
	struct sockaddr_storage l;

	if (a->id) {
		paddr_to(&a->local, &l);
		act_batch_put(&batch, mps_pm_announce_put(g, batch.b,
							  act_batch_seq(&batch),
							  a->token, &l, a->id));
	}
	*slot = act_batch_put(&batch, mps_pm_remove_put(g, batch.b,
							act_batch_seq(&batch),
							a->token, a->id));
}

static void phase_addr(struct mps_genl *g, const struct pm_action *v,
		       unsigned int *ix, unsigned int n)
{
	struct sockaddr_storage l;
	const struct pm_action *a;
	unsigned int i;
	int err;

	/* up to two requests each */
	if (!g || !act_batch_begin(&batch, g, 2 * n))
		return;
	for (i = 0; i < n; i++) {
		a = &v[ix[i]];
		if (a->type == PM_ACT_WITHDRAW) {
			put_withdraw(g, a, &sl.slot[i]);
			continue;
		}
		paddr_to(&a->local, &l);
		sl.slot[i] = act_batch_put(
			&batch,
			mps_pm_announce_put(g, batch.b, act_batch_seq(&batch),
					    a->token, &l, a->id));
	}
	act_batch_flush(&batch);
	for (i = 0; i < n; i++) {
		a = &v[ix[i]];
		err = batch.ack[sl.slot[i]].err;
		if (!err)
			continue;
		if (a->type == PM_ACT_ANNOUNCE)
			log_fail(a->token, "announce", err,
				 batch.msg[sl.slot[i]]);
		else if (a->id)
			log_fail(a->token, "withdraw the address", err,
				 batch.msg[sl.slot[i]]);
		else /* lost the race described above */
			log_fail(a->token,
				 "withdraw the first address (the peer keeps "
				 "its side until it times out)",
				 err, batch.msg[sl.slot[i]]);
	}
}

/* One step's actions (@ix[0..n), all of one phase), as one batch. */
static void run_step(struct policy *p, struct pm_action *v, unsigned int *ix,
		     unsigned int n, unsigned int phase)
{
	struct mps_genl *g = NULL;

	/* per step: a failed batch leaves a broken socket, replaced here */
	if (phase != ACT_PH_RESET && mps_genl_cached(&g))
		g = NULL;
	switch (phase) {
	case ACT_PH_BACKUP:
		phase_backup(p, g, v, ix, n);
		break;
	case ACT_PH_RESET:
		phase_reset(v, ix, n);
		break;
	case ACT_PH_ADDR:
		phase_addr(g, v, ix, n);
		break;
	default:
		phase_open(p, g, v, ix, n);
		break;
	}
}

/* Whether the slice from @from on resets anything: then it is urgent. */
static bool slice_urgent(const struct pm_actions *q, unsigned int from,
			 unsigned int n)
{
	unsigned int i;

	for (i = from; i < q->n && i < from + n; i++)
		if (q->v[i].type == PM_ACT_RESET ||
		    q->v[i].type == PM_ACT_WITHDRAW)
			return true;
	return false;
}

/*
 * What an action of each phase costs lately, in ns: a batch cannot stop
 * half way, so a slice is sized beforehand to the time left.  A guess at
 * first, then half the last batch's cost per action each time: an open
 * costs tens of times what an MP_PRIO does in a batch, and a loaded
 * machine more than an idle one.
 */
static long long cost_ns[ACT_PH_COUNT] = {50000, 50000, 50000, 50000};

/*
 * A slice is cut into batches of about this much work, the clients served
 * between them (mpsd_yield()): a request waits for one batch.
 */
#define ACT_BATCH_US 500

/*
 * The slice from the queue's head: at most @max actions, and what fits
 * @time_us as they cost lately; a connection's run whole, and one run at
 * least.
 */
static unsigned int slice_len(const struct pm_actions *q, unsigned int max,
			      long long time_us)
{
	unsigned int i = q->head;
	long long left_ns = time_us * 1000;

	do {
		left_ns -= cost_ns[act_phase_of(q->v[i].type)];
		i++;
	} while (i < q->n &&
		 (q->v[i].token == q->v[i - 1].token ||
		  (i - q->head < max &&
		   left_ns >= cost_ns[act_phase_of(q->v[i].type)])));
	return i - q->head;
}

static bool slice_grow(unsigned int n)
{
	struct pm_action *v;
	unsigned int *step, *order, *slot;

	if (n <= sl.cap)
		return true;
	v = realloc(sl.v, n * sizeof(*v));
	if (v)
		sl.v = v;
	step = realloc(sl.step, n * sizeof(*step));
	if (step)
		sl.step = step;
	order = realloc(sl.order, n * sizeof(*order));
	if (order)
		sl.order = order;
	slot = realloc(sl.slot, n * sizeof(*slot));
	if (slot)
		sl.slot = slot;
	if (!v || !step || !order || !slot)
		return false;
	sl.cap = n;
	return true;
}

static void learn_cost(unsigned int phase, unsigned int n, long long us)
{
	long long c = (cost_ns[phase] + us * 1000 / n) / 2;

	cost_ns[phase] = c < 100 ? 100 : c; /* never a slice of everything */
}

/*
 * The slice's @n actions leave the queue first: their outcomes may queue
 * more (a failed open backs off and the policy looks again), which the
 * next slice runs.
 */
static void run_slice(struct policy *p, struct pm_actions *q, unsigned int n)
{
	unsigned int i, k, s;
	long long t;

	memcpy(sl.v, q->v + q->head, n * sizeof(*sl.v));
	q->head += n;
	act_order(sl.v, n, sl.step, sl.order);
	for (i = 0; i < n; i = k) {
		s = sl.step[sl.order[i]];
		for (k = i; k < n && sl.step[sl.order[k]] == s; k++)
			;
		t = mps_now_us();
		run_step(p, sl.v, sl.order + i, k - i, s % ACT_PH_COUNT);
		learn_cost(s % ACT_PH_COUNT, k - i, mps_now_us() - t);
	}
}

unsigned int actuator_run(struct policy *p, struct pm_actions *q,
			  unsigned int max, long long budget_us)
{
	long long now = mps_now_us(), end = now + budget_us;
	struct sched_param fifo = {.sched_priority = 1}, other = {0};
	unsigned int done = 0, n;
	bool rt = false;

	while (q->head < q->n && done < max && (!done || now < end)) {
		n = slice_len(q, max - done,
			      end - now < ACT_BATCH_US ? end - now
						       : ACT_BATCH_US);
		if (!slice_grow(n)) {
			mpsd_log(LOG_ERR, "policy: %u actions: %s", n,
				 strerror(ENOMEM));
			break;
		}
		if (!rt && slice_urgent(q, q->head, n))
			rt = sched_setscheduler(0, SCHED_FIFO, &fifo) == 0;
		run_slice(p, q, n);
		done += n;
		/* not in the middle of a failover: that goes first */
		if (!rt)
			mpsd_yield();
		now = mps_now_us();
	}
	if (rt)
		sched_setscheduler(0, SCHED_OTHER, &other);
	if (q->head == q->n)
		pm_actions_reset(q);
	return done;
}
