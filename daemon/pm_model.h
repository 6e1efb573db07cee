/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the path manager believes about each connection: its subflows, the
 * peer's addresses, the local address ids the kernel holds for it, and the
 * attempts that failed and wait.  Plain records with their lookups, and no
 * input or output: the policy (policy.c) changes them, discovery fills
 * them after a restart.
 */
#ifndef MPSOCKD_PM_MODEL_H
#define MPSOCKD_PM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <linux/types.h>

#include "pm_timers.h"

#define PM_MAX_SF 9 /* the initial subflow and 8 more, the kernel's limit */
#define PM_MAX_REM 4
#define PM_MAX_TRY 16
#define PM_MAX_IDS 8
#define PM_TOMBSTONES PM_MAX_SF /* per connection: all its subflows */
#define PM_CLOSED_RING 256
#define PM_BUCKETS 4096

/* An address and port, compactly: 10,000 connections hold many. */
struct paddr {
	__u8 family;
	__be16 port;
	__u8 a[16];
};

struct pm_sf {
	struct paddr local, remote;
	long since_ms;
	__u32 rtt_us; /* interactive mode: from the last ranking */
	__u32 rtt_age_ms; /* how long ago it last had an ACK */
	int ifindex; /* the device it is bound to, 0 if none */
	int egress; /* the interface it leaves through, 0 if unknown */
	__u8 loc_id;
	bool up; /* established; else an attempt of ours */
	bool backup;
	bool seen; /* rediscovery: still in the kernel's list */
};

struct pm_try {
	struct paddr local, remote;
	__u8 fails;
	bool noroute; /* no route through the address's interface */
	long next_ms;
};

/* A local address the kernel's table holds for the connection, its id. */
struct pm_id {
	struct paddr addr; /* port 0 unless the subflow asked for one */
	__u8 id;
};

struct pm_conn {
	struct pm_conn *next;
	__u32 token;
	__u8 mode; /* MPSOCK_MODE_* */
	bool server_side, established, announced;
	bool foreign; /* under another path manager: nothing to do */
	bool init_remote_gone; /* the peer withdrew its first address */
	bool seen; /* rediscovery: still a connection */
	bool cookie_checked;
	__u8 nsf, nrem, ntry, nids;
	struct paddr init_local, init_remote;
	struct pm_sf sf[PM_MAX_SF];
	struct paddr rem[PM_MAX_REM];
	__u8 rem_id[PM_MAX_REM];
	struct pm_try tries[PM_MAX_TRY];
	struct pm_id ids[PM_MAX_IDS];
	/*
	 * Subflows we reset: their SUB_CLOSED comes later and must not be
	 * taken for the end of a new attempt over the same addresses.
	 */
	struct {
		struct paddr local, remote;
		bool used;
	} tomb[PM_TOMBSTONES];
	__u8 tomb_next;
	long retry_at; /* the soonest retry, 0 if none (pm_timers.h) */
	unsigned int heap_pos; /* its place in the timers, 1-based; 0: none */
};

struct pm_model {
	struct pm_conn *buckets[PM_BUCKETS];
	unsigned int nconns;
	/*
	 * Connections that closed: the kernel can report a connection's
	 * CLOSED before its ESTABLISHED, which must not bring it back.
	 */
	__u32 closed[PM_CLOSED_RING];
	unsigned int closed_next;
	struct pm_timers timers; /* the connections whose retry waits */
};

#define PM_FOR_EACH_CONN(m, c, b) PM_FOR_EACH_CONN_IN(m, c, b, 0, PM_BUCKETS)
/* the connections of buckets [@from, @to): a sweep spread over turns */
#define PM_FOR_EACH_CONN_IN(m, c, b, from, to)                                 \
	for ((b) = (from); (b) < (to) && (b) < PM_BUCKETS; (b)++)              \
		for ((c) = (m)->buckets[(b)]; (c); (c) = (c)->next)

void paddr_from(struct paddr *p, const struct sockaddr_storage *in);
void paddr_to(const struct paddr *p, struct sockaddr_storage *ss);
bool paddr_eq(const struct paddr *x, const struct paddr *y, bool ports);
const char *paddr_str(const struct paddr *p, char *buf, size_t len);

struct pm_conn *pm_conn_find(const struct pm_model *m, __u32 token);
/*
 * The record of @token, made if there is none (NULL: no memory), with its
 * slot in the timers.
 */
struct pm_conn *pm_conn_get(struct pm_model *m, __u32 token, bool *fresh);
/* Frees @token's record, its retry disarmed. */
void pm_conn_free(struct pm_model *m, __u32 token);
/* Every record and the timers. */
void pm_model_clear(struct pm_model *m);

void pm_closed_note(struct pm_model *m, __u32 token);
bool pm_closed_recently(const struct pm_model *m, __u32 token);

struct pm_sf *pm_sf_find(struct pm_conn *c, const struct paddr *l,
			 const struct paddr *r);
struct pm_sf *pm_sf_add(struct pm_conn *c, const struct paddr *l,
			const struct paddr *r, long now);
void pm_sf_remove(struct pm_conn *c, struct pm_sf *sf);
unsigned int pm_count_pair(const struct pm_conn *c, const struct paddr *l,
			   const struct paddr *r);

struct pm_try *pm_try_find(struct pm_conn *c, const struct paddr *l,
			   const struct paddr *r, bool create);

/* The id the kernel's table gives local address @l, -1 if none yet. */
int pm_id_of(const struct pm_conn *c, const struct paddr *l);
void pm_id_note(struct pm_conn *c, const struct paddr *l, __u8 id);
void pm_id_forget(struct pm_conn *c, __u8 id);
/* The lowest id neither the table nor a subflow uses (0 never). */
int pm_id_free(const struct pm_conn *c);

void pm_tombstone_add(struct pm_conn *c, const struct paddr *l,
		      const struct paddr *r);
bool pm_tombstone_take(struct pm_conn *c, const struct paddr *l,
		       const struct paddr *r);

#endif
