// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The path manager's records (pm_model.h): a hash of connections by token,
 * each a fixed-size record freed when the connection closes, and those
 * whose retry waits in the timers (pm_timers.c).
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "util/util.h"
#include "pm_model.h"

void paddr_from(struct paddr *p, const struct sockaddr_storage *in)
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

void paddr_to(const struct paddr *p, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = p->family;
	if (p->family == AF_INET)
		memcpy(&((struct sockaddr_in *)ss)->sin_addr, p->a, 4);
	else
		memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr, p->a, 16);
	mps_addr_set_port(ss, p->port);
}

bool paddr_eq(const struct paddr *x, const struct paddr *y, bool ports)
{
	return x->family == y->family && !memcmp(x->a, y->a, 16) &&
	       (!ports || x->port == y->port);
}

const char *paddr_str(const struct paddr *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(p->family, p->a, a, sizeof(a));
	snprintf(buf, len, p->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a,
		 ntohs(p->port));
	return buf;
}

static unsigned int bucket_of(__u32 token)
{
	return mps_token_hash(token, 12);
}

_Static_assert(PM_BUCKETS == 1 << 12, "bucket_of() hashes to 12 bits");

struct pm_conn *pm_conn_find(const struct pm_model *m, __u32 token)
{
	struct pm_conn *c;

	for (c = m->buckets[bucket_of(token)]; c; c = c->next)
		if (c->token == token)
			return c;
	return NULL;
}

struct pm_conn *pm_conn_get(struct pm_model *m, __u32 token, bool *fresh)
{
	struct pm_conn *c = pm_conn_find(m, token);
	unsigned int b = bucket_of(token);

	*fresh = false;
	if (c || !token)
		return c;
	/* a slot in the timers for each connection: arming never fails */
	if (pm_timers_reserve(m, m->nconns + 1))
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->token = token;
	c->next = m->buckets[b];
	m->buckets[b] = c;
	m->nconns++;
	*fresh = true;
	return c;
}

void pm_conn_free(struct pm_model *m, __u32 token)
{
	struct pm_conn **pp = &m->buckets[bucket_of(token)], *c;

	for (; (c = *pp); pp = &c->next) {
		if (c->token == token) {
			*pp = c->next;
			pm_timer_disarm(m, c);
			free(c);
			/* a burst of connections is gone: give memory back */
			if (!--m->nconns) {
				pm_timers_free(m);
				malloc_trim(0);
			}
			return;
		}
	}
}

void pm_model_clear(struct pm_model *m)
{
	struct pm_conn *c, *next;
	unsigned int b;

	for (b = 0; b < PM_BUCKETS; b++) {
		for (c = m->buckets[b]; c; c = next) {
			next = c->next;
			free(c);
		}
		m->buckets[b] = NULL;
	}
	m->nconns = 0;
	pm_timers_free(m);
}

void pm_closed_note(struct pm_model *m, __u32 token)
{
	m->closed[m->closed_next++ % PM_CLOSED_RING] = token;
}

bool pm_closed_recently(const struct pm_model *m, __u32 token)
{
	unsigned int i;

	for (i = 0; i < PM_CLOSED_RING; i++)
		if (m->closed[i] == token)
			return true;
	return false;
}

struct pm_sf *pm_sf_find(struct pm_conn *c, const struct paddr *l,
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

struct pm_sf *pm_sf_add(struct pm_conn *c, const struct paddr *l,
			const struct paddr *r, long now)
{
	struct pm_sf *sf;

	if (c->nsf == PM_MAX_SF)
		return NULL;
	sf = &c->sf[c->nsf++];
	memset(sf, 0, sizeof(*sf));
	sf->local = *l;
	sf->remote = *r;
	sf->since_ms = now;
	return sf;
}

void pm_sf_remove(struct pm_conn *c, struct pm_sf *sf)
{
	*sf = c->sf[--c->nsf];
}

unsigned int pm_count_pair(const struct pm_conn *c, const struct paddr *l,
			   const struct paddr *r)
{
	unsigned int i, n = 0;

	for (i = 0; i < c->nsf; i++)
		if (paddr_eq(&c->sf[i].local, l, false) &&
		    paddr_eq(&c->sf[i].remote, r, true))
			n++;
	return n;
}

struct pm_try *pm_try_find(struct pm_conn *c, const struct paddr *l,
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

int pm_id_of(const struct pm_conn *c, const struct paddr *l)
{
	unsigned int i;

	for (i = 0; i < c->nids; i++)
		if (paddr_eq(&c->ids[i].addr, l, false))
			return c->ids[i].id;
	return -1;
}

void pm_id_note(struct pm_conn *c, const struct paddr *l, __u8 id)
{
	unsigned int i;

	for (i = 0; i < c->nids; i++) {
		if (paddr_eq(&c->ids[i].addr, l, false) || c->ids[i].id == id) {
			c->ids[i].addr = *l;
			c->ids[i].addr.port = 0;
			c->ids[i].id = id;
			return;
		}
	}
	/* full: the oldest entry goes (the kernel's answer corrects us) */
	if (c->nids == PM_MAX_IDS)
		memmove(&c->ids[0], &c->ids[1], sizeof(c->ids[0]) * --c->nids);
	c->ids[c->nids].addr = *l;
	c->ids[c->nids].addr.port = 0;
	c->ids[c->nids++].id = id;
}

void pm_id_forget(struct pm_conn *c, __u8 id)
{
	unsigned int i;

	for (i = 0; i < c->nids; i++) {
		if (c->ids[i].id == id) {
			c->ids[i] = c->ids[--c->nids];
			return;
		}
	}
}

int pm_id_free(const struct pm_conn *c)
{
	bool used[256] = {false};
	unsigned int i;

	for (i = 0; i < c->nids; i++)
		used[c->ids[i].id] = true;
	for (i = 0; i < c->nsf; i++)
		used[c->sf[i].loc_id] = true;
	for (i = 1; i < 256; i++)
		if (!used[i])
			return i;
	return -1;
}

void pm_tombstone_add(struct pm_conn *c, const struct paddr *l,
		      const struct paddr *r)
{
	unsigned int i = c->tomb_next++ % PM_TOMBSTONES;

	c->tomb[i].local = *l;
	c->tomb[i].remote = *r;
	c->tomb[i].used = true;
}

bool pm_tombstone_take(struct pm_conn *c, const struct paddr *l,
		       const struct paddr *r)
{
	unsigned int i;

	for (i = 0; i < PM_TOMBSTONES; i++) {
		if (!c->tomb[i].used || !paddr_eq(&c->tomb[i].local, l, true) ||
		    !paddr_eq(&c->tomb[i].remote, r, r->port != 0))
			continue;
		c->tomb[i].used = false;
		return true;
	}
	return false;
}
