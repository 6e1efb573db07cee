// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Netlink batches without a kernel (lib/kernel/nlmsg.c, pm.c): requests
 * put into an mnl_nlmsg_batch until it is full, each with its seq and
 * NLM_F_ACK; acks, as the kernel sends them, read back into their slots
 * by seq, with the kernel's text; stale, repeated and cut acks left out.
 */
#include <errno.h>
#include <string.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

#include "kernel/kernel.h"
#include "test.h"

#define SEQ0 1000

/* An ack as the kernel sends it with NETLINK_CAP_ACK and NETLINK_EXT_ACK. */
static size_t put_ack(void *buf, __u32 seq, int error, const char *text)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlmsgerr *e;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_CAPPED | (text ? NLM_F_ACK_TLVS : 0);
	nlh->nlmsg_seq = seq;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = error;
	e->msg.nlmsg_len = sizeof(e->msg);
	e->msg.nlmsg_seq = seq;
	if (text)
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, text);
	return nlh->nlmsg_len;
}

static void test_read(void)
{
	static char buf[2048] __attribute__((aligned(8)));
	char msg[3][MPS_MSG_LEN];
	struct mps_nl_ack acks[3];
	size_t len;
	int i;

	for (i = 0; i < 3; i++) {
		acks[i].err = 1;
		acks[i].msg = msg[i];
		acks[i].msglen = sizeof(msg[i]);
		msg[i][0] = '\0';
	}
	len = put_ack(buf, SEQ0 + 1, 0, NULL);
	CHECK("an ack fills its own slot",
	      mps_nl_batch_read(buf, len, 0, SEQ0, 3, acks) == 1 &&
		      acks[1].err == 0 && acks[0].err > 0 && acks[2].err > 0);
	len = put_ack(buf, SEQ0, -EINVAL, "userspace PM not selected");
	CHECK("a refusal: its errno and the kernel's text",
	      mps_nl_batch_read(buf, len, 0, SEQ0, 3, acks) == 1 &&
		      acks[0].err == -EINVAL &&
		      !strcmp(msg[0], "userspace PM not selected") &&
		      mps_pm_errno(acks[0].err, msg[0]) == -EOPNOTSUPP);
	len = put_ack(buf, SEQ0 + 3, -ENOENT, NULL);
	len += put_ack(buf + len, SEQ0 - 1, -ENOENT, NULL);
	CHECK("acks of other seqs (an earlier exchange's) are left out",
	      mps_nl_batch_read(buf, len, 0, SEQ0, 3, acks) == 0 &&
		      acks[2].err > 0);
	len = put_ack(buf, SEQ0 + 1, -EBUSY, "again");
	CHECK("a second ack for a slot does not overwrite the first",
	      mps_nl_batch_read(buf, len, 0, SEQ0, 3, acks) == 0 &&
		      acks[1].err == 0 && msg[1][0] == '\0');
	len = put_ack(buf, SEQ0 + 2, -ENOENT, "cut");
	CHECK("an ack cut short is not read",
	      mps_nl_batch_read(buf, len - 4, 0, SEQ0, 3, acks) == 0 &&
		      acks[2].err > 0);
	CHECK("... and read whole, it is",
	      mps_nl_batch_read(buf, len, 0, SEQ0, 3, acks) == 1 &&
		      acks[2].err == -ENOENT && !strcmp(msg[2], "cut"));
}

static void test_put(void)
{
	static char buf[2 * MPS_NL_BATCH] __attribute__((aligned(8)));
	struct mps_genl g = {.family = 0x1d};
	struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(buf, MPS_NL_BATCH);
	const struct nlmsghdr *nlh;
	unsigned int n = 0, seqs_ok = 1;
	size_t len;

	while (mps_pm_remove_put(&g, b, SEQ0 + n, 0xa1, 2))
		n++;
	len = mnl_nlmsg_batch_size(b);
	nlh = mnl_nlmsg_batch_head(b);
	for (unsigned int i = 0; i < n; i++) {
		seqs_ok &= nlh->nlmsg_seq == SEQ0 + i &&
			   (nlh->nlmsg_flags & NLM_F_ACK) &&
			   nlh->nlmsg_type == g.family;
		nlh = (const struct nlmsghdr *)((const char *)nlh +
						nlh->nlmsg_len);
	}
	CHECK("a batch takes requests up to MPS_NL_BATCH bytes",
	      n > 50 && len <= MPS_NL_BATCH &&
		      len + nlh->nlmsg_len > MPS_NL_BATCH &&
		      mps_nl_valid(mnl_nlmsg_batch_head(b), len));
	CHECK("each with its own seq and NLM_F_ACK, in order", seqs_ok);
	mnl_nlmsg_batch_reset(b);
	nlh = mnl_nlmsg_batch_head(b);
	CHECK("the one that did not fit is the next batch's first",
	      mnl_nlmsg_batch_size(b) == nlh->nlmsg_len &&
		      nlh->nlmsg_seq == SEQ0 + n);
	mnl_nlmsg_batch_stop(b);
}

int main(void)
{
	test_plan(9);
	test_read();
	test_put();
	return test_done();
}
