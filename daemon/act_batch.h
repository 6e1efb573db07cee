/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A phase's netlink batch (act_batch.c): requests put with the seq of
 * their slot, sent MPS_NL_BATCH bytes at a time, each slot's ack read
 * back.  For the path manager (a genl socket) or sock_diag (NULL).
 */
#ifndef MPSOCKD_ACT_BATCH_H
#define MPSOCKD_ACT_BATCH_H

#include "kernel/kernel.h"

struct act_batch {
	struct mnl_nlmsg_batch *b;
	struct mps_genl *g; /* NULL: this thread's sock_diag socket */
	__u32 seq0; /* slot i's request has seq seq0 + i */
	unsigned int n, sent; /* slots put; sent and acknowledged */
	unsigned int cap;
	struct mps_nl_ack *ack; /* [slot]: its outcome once flushed */
	char (*msg)[MPS_MSG_LEN];
	char buf[2 * MPS_NL_BATCH]; /* libmnl's rule: twice the limit */
};

/* For at most @nreq requests; false without memory. */
bool act_batch_begin(struct act_batch *bt, struct mps_genl *g,
		     unsigned int nreq);
/* The seq the next request is put with. */
static inline __u32 act_batch_seq(const struct act_batch *bt)
{
	return bt->seq0 + bt->n;
}
/* After a mps_*_put() with act_batch_seq(): @fit as it said; its slot. */
unsigned int act_batch_put(struct act_batch *bt, bool fit);
/* Send what is left: every slot's ack is then read. */
void act_batch_flush(struct act_batch *bt);

#endif
