/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inside the driver (pm.c): the one policy, its action queue, and the
 * pieces that connect them to the host: the environment the decisions
 * read (pm_env.c), discovery (discover.c) and the actuator (actuator.c).
 */
#ifndef MPSOCKD_PM_DRIVER_H
#define MPSOCKD_PM_DRIVER_H

#include "policy.h"

/*
 * Per loop turn, at most PM_SLICE actions or PM_SLICE_US of them, whichever
 * comes first (a connection's run is finished past either): a client's
 * request or a kernel event waits behind at most one slice.  The time
 * bound is the one that matters: an action costs from a few us (an
 * MP_PRIO in a batch) to over 1 ms (a SOCK_DESTROY that walks a busy hash
 * chain), and a batch cannot stop half way: the actuator sizes its slices
 * by what actions cost lately.
 */
#define PM_SLICE 256
#define PM_SLICE_US 2000

extern struct policy pm_policy;
extern struct pm_actions pm_queue;

/* netwatch, route, endpoints, policy_state and the log, as struct pm_env */
extern const struct pm_env pm_env_host;

/* The connections the kernel lists now, into the policy: 0 or -errno. */
int pm_discover(struct policy *p);
/* Interactive mode: the subflows' round trips, then a ranking. */
void pm_rank(struct policy *p);

/*
 * At most about @max of the queued actions, or @budget_us of them, a
 * connection's consecutive ones never split, their outcomes told to @p:
 * how many were done.
 */
unsigned int actuator_run(struct policy *p, struct pm_actions *q,
			  unsigned int max, long long budget_us);

#endif
