// SPDX-License-Identifier: LGPL-2.1-or-later
/* The connections' retries, a binary min-heap by retry_at (pm_timers.h). */
#include <errno.h>
#include <stdlib.h>

#include "pm_model.h"
#include "pm_timers.h"

#define PM_TIMERS_MIN 64

int pm_timers_reserve(struct pm_model *m, unsigned int n)
{
	struct pm_timers *h = &m->timers;
	unsigned int cap = h->cap ? h->cap : PM_TIMERS_MIN;
	struct pm_conn **v;

	if (n <= h->cap)
		return 0;
	while (cap < n) {
		if (cap > ~0U / 2)
			return -ENOMEM;
		cap *= 2;
	}
	v = realloc(h->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	h->v = v;
	h->cap = cap;
	return 0;
}

void pm_timers_free(struct pm_model *m)
{
	free(m->timers.v);
	m->timers.v = NULL;
	m->timers.n = m->timers.cap = 0;
}

static void place(struct pm_timers *h, unsigned int i, struct pm_conn *c)
{
	h->v[i] = c;
	c->heap_pos = i + 1;
}

static void sift_up(struct pm_timers *h, unsigned int i)
{
	struct pm_conn *c = h->v[i];

	while (i > 0) {
		unsigned int parent = (i - 1) / 2;

		if (h->v[parent]->retry_at <= c->retry_at)
			break;
		place(h, i, h->v[parent]);
		i = parent;
	}
	place(h, i, c);
}

static void sift_down(struct pm_timers *h, unsigned int i)
{
	struct pm_conn *c = h->v[i];

	for (;;) {
		unsigned int child = 2 * i + 1;

		if (child >= h->n)
			break;
		if (child + 1 < h->n &&
		    h->v[child + 1]->retry_at < h->v[child]->retry_at)
			child++;
		if (c->retry_at <= h->v[child]->retry_at)
			break;
		place(h, i, h->v[child]);
		i = child;
	}
	place(h, i, c);
}

int pm_timer_arm(struct pm_model *m, struct pm_conn *c, long when)
{
	struct pm_timers *h = &m->timers;

	if (c->heap_pos) {
		if (when < c->retry_at) {
			c->retry_at = when;
			sift_up(h, c->heap_pos - 1);
		}
		return 0;
	}
	if (h->n == h->cap && pm_timers_reserve(m, h->n + 1))
		return -ENOMEM;
	c->retry_at = when;
	h->v[h->n] = c;
	sift_up(h, h->n++);
	return 0;
}

void pm_timer_disarm(struct pm_model *m, struct pm_conn *c)
{
	struct pm_timers *h = &m->timers;
	unsigned int i = c->heap_pos - 1;
	struct pm_conn *last;

	c->retry_at = 0;
	if (!c->heap_pos)
		return;
	c->heap_pos = 0;
	last = h->v[--h->n];
	if (last == c)
		return;
	/* the last one fills the hole, then goes where its time says */
	h->v[i] = last;
	if (i > 0 && h->v[(i - 1) / 2]->retry_at > last->retry_at)
		sift_up(h, i);
	else
		sift_down(h, i);
}

long pm_timer_next(const struct pm_model *m)
{
	return m->timers.n ? m->timers.v[0]->retry_at : 0;
}

struct pm_conn *pm_timer_pop_due(struct pm_model *m, long now)
{
	struct pm_conn *c;

	if (!m->timers.n || m->timers.v[0]->retry_at > now)
		return NULL;
	c = m->timers.v[0];
	pm_timer_disarm(m, c);
	return c;
}
