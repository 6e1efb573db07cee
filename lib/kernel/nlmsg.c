// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The one place that reads a netlink exchange's outcome: NLMSG_ERROR (an
 * acknowledgement, or the kernel's errno with its extended-ack text) and
 * NLMSG_DONE (the end of a dump, or the error that cut it short).  libmnl
 * runs no default handler once a control array is given, and its defaults
 * drop the kernel's text.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/netlink.h>

#include "kernel/kernel.h"

static int ack_attr_cb(const struct nlattr *attr, void *data)
{
	struct mps_nl_ack *ack = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG && ack->msg &&
	    ack->msglen && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		snprintf(ack->msg, ack->msglen, "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

/*
 * The kernel's errno, negative.  Anything else (positive, or beyond the
 * errno range: negating INT_MIN is undefined) is a message we cannot read.
 */
static int ack_errno(int err)
{
	return err < 0 && err >= -4095 ? err : -EBADMSG;
}

static int ack_error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t len = mnl_nlmsg_get_payload_len(nlh);
	struct mps_nl_ack *ack = data;
	size_t off = sizeof(*e);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	/*
	 * The request is echoed unless NETLINK_CAP_ACK capped it; the text
	 * follows it, and only an echo within the message leads to one.
	 */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len >= sizeof(e->msg) &&
		    e->msg.nlmsg_len - sizeof(e->msg) <= len - off)
			off += e->msg.nlmsg_len - sizeof(e->msg);
		else
			off = len;
	}
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && off < len)
		mnl_attr_parse(nlh, off, ack_attr_cb, ack);
	if (e->error) {
		ack->err = ack_errno(e->error);
		errno = -ack->err;
		return MNL_CB_ERROR;
	}
	return MNL_CB_STOP;
}

static int ack_done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct mps_nl_ack *ack = data;
	int err;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(int))
		return MNL_CB_STOP;
	memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(int));
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
		mnl_attr_parse(nlh, sizeof(int), ack_attr_cb, ack);
	if (err < 0) {
		ack->err = ack_errno(err);
		errno = -ack->err;
		return MNL_CB_ERROR;
	}
	return MNL_CB_STOP;
}

/* libmnl takes the table as non-const */
static mnl_cb_t ack_ctl_cb[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR] = ack_error_cb,
	[NLMSG_DONE] = ack_done_cb,
};

bool mps_nl_valid(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t step;
	__u32 n;

	while (len >= sizeof(struct nlmsghdr)) {
		memcpy(&n, p, sizeof(n));
		/* libmnl also reads attributes up to the aligned end */
		step = ((size_t)n + NLMSG_ALIGNTO - 1) &
		       ~(size_t)(NLMSG_ALIGNTO - 1);
		if (n < sizeof(struct nlmsghdr) || step > len)
			return false;
		p += step;
		len -= step;
	}
	return true;
}

int mps_nl_run(const void *buf, size_t len, unsigned int seq,
	       unsigned int portid, mnl_cb_t cb, struct mps_nl_ack *ack)
{
	if (!mps_nl_valid(buf, len)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	return mnl_cb_run2(buf, len, seq, portid, cb, ack, ack_ctl_cb,
			   NLMSG_MIN_TYPE);
}
