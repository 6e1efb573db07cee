/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The connections' retries in time order: a binary min-heap of the
 * connections that wait for a back-off to end, by their retry_at.  The
 * soonest is found at once and each one due is taken in O(log n), so
 * that 10,000 connections waiting cost nothing until one of them is due
 * (a sweep of every connection did, each time one was).
 *
 * Each connection records its place in the heap (heap_pos, 1-based, 0:
 * not armed) and is in it at most once; pm_conn_get() reserves its slot,
 * so that arming a connection of the model never allocates.
 */
#ifndef MPSOCKD_PM_TIMERS_H
#define MPSOCKD_PM_TIMERS_H

struct pm_conn;
struct pm_model;

struct pm_timers {
	struct pm_conn **v; /* v[0] the soonest; v[i]'s children 2i+1, 2i+2 */
	unsigned int n, cap;
};

/* Room for @n connections (pm_conn_get(): one per connection); -ENOMEM. */
int pm_timers_reserve(struct pm_model *m, unsigned int n);
/* The heap's memory, once no connection is left in it. */
void pm_timers_free(struct pm_model *m);

/*
 * @c's retry at @when (> 0), or at the one it had if that is sooner.
 * 0, or -ENOMEM if the heap had no room (never for a connection that
 * pm_conn_get() made): @c is then not armed.
 */
int pm_timer_arm(struct pm_model *m, struct pm_conn *c, long when);
/* No retry for @c (armed or not): retry_at becomes 0. */
void pm_timer_disarm(struct pm_model *m, struct pm_conn *c);
/* The soonest retry of any connection, 0 if none. */
long pm_timer_next(const struct pm_model *m);
/* The connection whose retry is soonest, if due by @now: disarmed. */
struct pm_conn *pm_timer_pop_due(struct pm_model *m, long now);

#endif
