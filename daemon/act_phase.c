// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The order a slice's actions run in: by kind, one netlink batch per
 * kind, as long as each connection's actions keep their order.  The
 * policy emits a loss as MP_PRIO, then resets, then RM_ADDR, and a gain
 * as announcements then opens: one round of phases in that order fits
 * both.  An action that would go before its connection's previous one
 * moves to the next round, so nothing is ever reordered within a
 * connection, whatever the policy emits.
 */
#include "actuator.h"

unsigned int act_phase_of(__u8 type)
{
	switch (type) {
	case PM_ACT_BACKUP:
		return ACT_PH_BACKUP;
	case PM_ACT_RESET:
		return ACT_PH_RESET;
	case PM_ACT_WITHDRAW:
	case PM_ACT_ANNOUNCE:
		return ACT_PH_ADDR;
	default:
		return ACT_PH_OPEN;
	}
}

/*
 * A connection's actions are mostly consecutive, so the search for its
 * previous one usually stops at once; connections seen once scan the
 * slice, a few hundred comparisons.
 */
unsigned int act_steps(const struct pm_action *v, unsigned int n,
		       unsigned int *step)
{
	unsigned int i, j, ph, s, steps = 0;

	for (i = 0; i < n; i++) {
		ph = act_phase_of(v[i].type);
		s = ph;
		for (j = i; j-- > 0;) {
			if (v[j].token != v[i].token)
				continue;
			s = step[j] - step[j] % ACT_PH_COUNT + ph;
			if (s < step[j])
				s += ACT_PH_COUNT;
			break;
		}
		step[i] = s;
		if (s + 1 > steps)
			steps = s + 1;
	}
	return steps;
}

unsigned int act_order(const struct pm_action *v, unsigned int n,
		       unsigned int *step, unsigned int *order)
{
	unsigned int i, s, k = 0, steps = act_steps(v, n, step);

	/* few steps (four, unless a connection goes back): a pass each */
	for (s = 0; s < steps; s++)
		for (i = 0; i < n; i++)
			if (step[i] == s)
				order[k++] = i;
	return steps;
}
