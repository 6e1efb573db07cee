// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The policy's actions, carried out with the path manager commands and
 * sock_diag, a slice at a time: an address lost under thousands of
 * connections becomes thousands of resets and withdrawals, and the loop
 * must still answer clients and read events between slices.  A
 * connection's consecutive actions are never split: the MP_PRIO, resets
 * and RM_ADDR of one loss go out together, as fast as they can.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "op/op.h"
#include "log.h"
#include "pm_driver.h"

static void log_fail(__u32 token, const char *what, int err, const char *msg)
{
	mpsd_log(LOG_WARNING, "policy: %08x: %s: %s%s%s", token, what,
		 strerror(-err), msg[0] ? ": " : "", msg);
}

/*
 * SUBFLOW_CREATE with the id the policy chose; if the kernel's table
 * holds that id for another address (or this address under another id),
 * the id the table gives, as an application's own open would use.
 */
static void do_open(struct policy *p, struct mps_genl *g, struct pm_action *a)
{
	struct sockaddr_storage local, remote, initial;
	char msg[MPS_MSG_LEN] = "";
	int err, id;

	paddr_to(&a->local, &local);
	paddr_to(&a->remote, &remote);
	err = mps_pm_subflow_create(g, a->token, &local, a->id, a->ifindex,
				    &remote, a->backup, msg, sizeof(msg));
	err = mps_pm_errno(err, msg);
	if (err == -EADDRINUSE) {
		paddr_to(&a->initial, &initial);
		msg[0] = '\0';
		id = mps_local_id_for(g, a->token, &initial, &local, msg,
				      sizeof(msg));
		err = id < 0 ? id
			     : mps_pm_subflow_create(
				       g, a->token, &local, id, a->ifindex,
				       &remote, a->backup, msg, sizeof(msg));
		err = mps_pm_errno(err, msg);
		if (id >= 0)
			a->id = id;
	}
	pol_opened(p, a, err, msg);
}

static void do_backup(struct policy *p, struct mps_genl *g,
		      const struct pm_action *a)
{
	struct sockaddr_storage l, r;
	char msg[MPS_MSG_LEN] = "";
	int err;

	paddr_to(&a->local, &l);
	paddr_to(&a->remote, &r);
	err = mps_pm_set_backup(g, a->token, &l, &r, a->backup, msg,
				sizeof(msg));
	pol_backup_done(p, a, err, msg);
}

static void do_reset(const struct pm_action *a)
{
	struct sockaddr_storage l, r;

	paddr_to(&a->local, &l);
	paddr_to(&a->remote, &r);
	mps_diag_destroy_tuple(&l, &r, a->ifindex);
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
 * real-time task for the slice).
 */
static void do_withdraw(struct mps_genl *g, const struct pm_action *a)
{
	struct sockaddr_storage l;
	char msg[MPS_MSG_LEN] = "";
	int err;

	if (a->id) {
		paddr_to(&a->local, &l);
		mps_pm_announce(g, a->token, &l, a->id, msg, sizeof(msg));
		msg[0] = '\0';
	}
	err = mps_pm_remove(g, a->token, a->id, msg, sizeof(msg));
	if (err && a->id)
		log_fail(a->token, "withdraw the address", err, msg);
	else if (err) /* lost the race described above */
		log_fail(a->token,
			 "withdraw the first address (the peer keeps its "
			 "side until it times out)",
			 err, msg);
}

static void do_announce(struct mps_genl *g, const struct pm_action *a)
{
	struct sockaddr_storage l;
	char msg[MPS_MSG_LEN] = "";
	int err;

	paddr_to(&a->local, &l);
	err = mps_pm_announce(g, a->token, &l, a->id, msg, sizeof(msg));
	if (err)
		log_fail(a->token, "announce", err, msg);
}

static void run_one(struct policy *p, struct mps_genl *g, struct pm_action *a)
{
	switch (a->type) {
	case PM_ACT_OPEN:
		if (g)
			do_open(p, g, a);
		else
			pol_opened(p, a, -ENOTCONN, "");
		break;
	case PM_ACT_BACKUP:
		if (g)
			do_backup(p, g, a);
		else
			pol_backup_done(p, a, -ENOTCONN, "");
		break;
	case PM_ACT_RESET:
		do_reset(a);
		break;
	case PM_ACT_WITHDRAW:
		if (g)
			do_withdraw(g, a);
		break;
	case PM_ACT_ANNOUNCE:
		if (g)
			do_announce(g, a);
		break;
	}
}

/* Whether the slice from @from on resets anything: then it is urgent. */
static bool slice_urgent(const struct pm_actions *q, unsigned int from,
			 unsigned int max)
{
	unsigned int i;

	for (i = from; i < q->n && i < from + max; i++)
		if (q->v[i].type == PM_ACT_RESET ||
		    q->v[i].type == PM_ACT_WITHDRAW)
			return true;
	return false;
}

unsigned int actuator_run(struct policy *p, struct pm_actions *q,
			  unsigned int max, long long budget_us)
{
	long long end = mps_now_us() + budget_us;
	struct sched_param fifo = {.sched_priority = 1}, other = {0};
	struct mps_genl *g = NULL;
	unsigned int done = 0;
	bool rt = false;
	__u32 last = 0;

	if (!pm_actions_pending(q))
		return 0;
	if (mps_genl_cached(&g))
		g = NULL;
	if (slice_urgent(q, q->head, max))
		rt = sched_setscheduler(0, SCHED_FIFO, &fifo) == 0;
	/*
	 * An action's outcome may queue more (a failed open backs off and
	 * the policy looks again): they are appended, and run in turn.
	 */
	while (q->head < q->n) {
		struct pm_action a = q->v[q->head];

		/* a connection's run is never split; between runs, the bounds */
		if (a.token != last && done &&
		    (done >= max || mps_now_us() >= end))
			break;
		q->head++;
		run_one(p, g, &a);
		last = a.token;
		done++;
	}
	if (rt)
		sched_setscheduler(0, SCHED_OTHER, &other);
	if (q->head == q->n)
		pm_actions_reset(q);
	return done;
}
