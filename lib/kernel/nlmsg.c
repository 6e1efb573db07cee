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
#include <sys/socket.h>
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

/*
 * A batch's acks: each NLMSG_ERROR goes to its request's slot, found by
 * seq, through the same reader as a single exchange's.
 */
struct nl_batch_read {
	struct mps_nl_ack *acks;
	__u32 seq0;
	unsigned int n, got;
};

static int batch_error_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_batch_read *r = data;
	__u32 i = nlh->nlmsg_seq - r->seq0;

	if (i >= r->n || r->acks[i].err <= 0)
		return MNL_CB_OK; /* not ours, or read already */
	r->acks[i].err = 0;
	r->got++;
	if (ack_error_cb(nlh, &r->acks[i]) == MNL_CB_ERROR && !r->acks[i].err)
		r->acks[i].err = -EBADMSG;
	return MNL_CB_OK;
}

static mnl_cb_t batch_ctl_cb[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR] = batch_error_cb,
};

/*
 * A datagram libmnl cannot walk safely (cut short: longer than what the
 * caller read) is no ack of ours: a request it might have answered stays
 * unanswered.
 */
int mps_nl_batch_read(const void *buf, size_t len, unsigned int portid,
		      __u32 seq0, unsigned int n, struct mps_nl_ack *acks)
{
	struct nl_batch_read r = {.acks = acks, .seq0 = seq0, .n = n};

	if (!mps_nl_valid(buf, len))
		return 0;
	if (mnl_cb_run2(buf, len, 0, portid, NULL, &r, batch_ctl_cb,
			NLMSG_MIN_TYPE) < 0)
		return -errno;
	return r.got;
}

bool mps_nl_batch_next(struct mnl_nlmsg_batch *b, __u32 seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_batch_current(b);

	nlh->nlmsg_seq = seq;
	nlh->nlmsg_flags |= NLM_F_ACK;
	return mnl_nlmsg_batch_next(b);
}

/*
 * Room for a full batch's acks, error texts included (~1 KB each as the
 * kernel counts them, against the 36 bytes of the smallest request):
 * above the usual default, which the kernel drops acks beyond.  FORCE
 * passes net.core.rmem_max with CAP_NET_ADMIN; best effort either way.
 */
void mps_nl_batch_rcvbuf(struct mnl_socket *nl)
{
	int size = MPS_NL_BATCH / 32 * 2048;
	int fd = mnl_socket_get_fd(nl);

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

/*
 * An ack is at most a few hundred bytes: NLMSG_ERROR, the request's header
 * (the whole request where NETLINK_CAP_ACK is unknown, a few hundred
 * bytes) and the kernel's text.  A longer message is no ack of ours.
 */
#define NL_ACK_MAX 512
#define NL_ACKS_PER_READ 32

/*
 * The kernel runs every request of a sendmsg() inside it, in order, and
 * queues each one's ack before returning: so the acks are read without
 * waiting, and one missing means it was dropped (a full receive buffer).
 */
int mps_nl_batch_talk(struct mnl_socket *nl, unsigned int portid,
		      struct mnl_nlmsg_batch *b, __u32 seq0, unsigned int n,
		      struct mps_nl_ack *acks)
{
	char buf[NL_ACKS_PER_READ][NL_ACK_MAX];
	struct mmsghdr msgs[NL_ACKS_PER_READ];
	struct iovec iov[NL_ACKS_PER_READ];
	unsigned int i, answered = 0;
	int err = 0, got, r;

	for (i = 0; i < n; i++) {
		acks[i].err = 1; /* not answered yet */
		if (acks[i].msg && acks[i].msglen)
			acks[i].msg[0] = '\0';
	}
	if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b),
			      mnl_nlmsg_batch_size(b)) < 0)
		err = -errno;
	/* one ack a datagram: read them by the dozen */
	while (!err && answered < n) {
		for (i = 0; i < NL_ACKS_PER_READ; i++) {
			iov[i].iov_base = buf[i];
			iov[i].iov_len = NL_ACK_MAX;
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		got = recvmmsg(mnl_socket_get_fd(nl), msgs, NL_ACKS_PER_READ,
			       MSG_DONTWAIT, NULL);
		if (got < 0) {
			err = errno == EAGAIN ? -EIO : -errno;
			break;
		}
		for (i = 0; i < (unsigned int)got && !err; i++) {
			r = mps_nl_batch_read(buf[i], msgs[i].msg_len, portid,
					      seq0, n, acks);
			if (r < 0)
				err = r;
			else
				answered += r;
		}
	}
	for (i = 0; i < n; i++)
		if (acks[i].err > 0)
			acks[i].err = err ? err : -EIO;
	return err;
}
