// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One phase's requests as netlink batches: put each with the seq of its
 * slot, and the batch goes out whenever it is full (libmnl keeps the
 * request that did not fit as the next one's first), then at the end;
 * every slot gets its request's ack.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "act_batch.h"

/* sock_diag's seqs: ours alone on this thread's socket between calls */
static __u32 diag_seq;

bool act_batch_begin(struct act_batch *bt, struct mps_genl *g,
		     unsigned int nreq)
{
	struct mps_nl_ack *ack;
	char(*msg)[MPS_MSG_LEN];
	unsigned int i;

	if (!bt->b) {
		bt->b = mnl_nlmsg_batch_start(bt->buf, MPS_NL_BATCH);
		if (!bt->b)
			return false;
	}
	if (nreq > bt->cap) {
		ack = realloc(bt->ack, nreq * sizeof(*ack));
		if (ack)
			bt->ack = ack;
		msg = realloc(bt->msg, nreq * sizeof(*msg));
		if (msg)
			bt->msg = msg;
		if (!ack || !msg)
			return false;
		bt->cap = nreq;
	}
	mnl_nlmsg_batch_reset(bt->b);
	bt->g = g;
	bt->n = bt->sent = 0;
	if (g) {
		bt->seq0 = g->seq + 1;
		g->seq += nreq;
	} else {
		bt->seq0 = diag_seq + 1;
		diag_seq += nreq;
	}
	for (i = 0; i < nreq; i++) {
		bt->ack[i].err = 0;
		bt->ack[i].msg = bt->msg[i];
		bt->ack[i].msglen = MPS_MSG_LEN;
		bt->msg[i][0] = '\0';
	}
	return true;
}

/* Send the requests put before slot @upto and read their acks. */
static void act_batch_send(struct act_batch *bt, unsigned int upto)
{
	if (upto > bt->sent) {
		if (bt->g)
			mps_genl_batch_talk(bt->g, bt->b, bt->seq0 + bt->sent,
					    upto - bt->sent,
					    bt->ack + bt->sent);
		else
			mps_diag_batch_talk(bt->b, bt->seq0 + bt->sent,
					    upto - bt->sent,
					    bt->ack + bt->sent);
		bt->sent = upto;
	}
	mnl_nlmsg_batch_reset(bt->b);
}

unsigned int act_batch_put(struct act_batch *bt, bool fit)
{
	unsigned int slot = bt->n++;

	/* the batch's requests go; this one stays, first of the next */
	if (!fit)
		act_batch_send(bt, slot);
	return slot;
}

void act_batch_flush(struct act_batch *bt)
{
	act_batch_send(bt, bt->n);
}
