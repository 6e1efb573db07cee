/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inside the actuator (actuator.c): the order a slice's actions run in
 * (act_phase.c, pure, tested by tests/unit/test-policy.c).
 */
#ifndef MPSOCKD_ACTUATOR_H
#define MPSOCKD_ACTUATOR_H

#include "policy.h"

/* A slice runs in rounds of these phases, each one netlink batch. */
enum act_phase {
	ACT_PH_BACKUP, /* SET_FLAGS */
	ACT_PH_RESET, /* SOCK_DESTROY */
	ACT_PH_ADDR, /* WITHDRAW (ANNOUNCE, REMOVE) and ANNOUNCE */
	ACT_PH_OPEN, /* SUBFLOW_CREATE */
	ACT_PH_COUNT,
};

unsigned int act_phase_of(__u8 type); /* enum pm_act's phase */

/*
 * The step of each of @v[0..n): round * ACT_PH_COUNT + phase, never
 * before the step of the connection's previous action in @v; how many
 * steps there are (the highest + 1).
 */
unsigned int act_steps(const struct pm_action *v, unsigned int n,
		       unsigned int *step);
/* The same, and @order: the indexes by step, queue order within one. */
unsigned int act_order(const struct pm_action *v, unsigned int n,
		       unsigned int *step, unsigned int *order);

#endif
