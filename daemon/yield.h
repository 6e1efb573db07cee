/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Room for the clients inside long work.  A loop turn can hold several
 * bounded steps (a burst of kernel events, a sweep of the connections, the
 * actuator's batches): a request that arrives during the turn would wait
 * for all of them.  Work like that calls mpsd_yield() between its steps;
 * at most every MPSD_YIELD_US it runs what the loop registered (serving
 * the clients whose requests wait), so a request waits for one step.
 */
#ifndef MPSOCKD_YIELD_H
#define MPSOCKD_YIELD_H

#define MPSD_YIELD_US 500

/* What a yield runs (NULL: nothing); it must not itself do long work. */
void mpsd_yield_set(void (*serve)(void));
void mpsd_yield(void);

#endif
