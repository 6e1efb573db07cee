/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The broker layer: the client side of mpsockd (one request, one reply,
 * over a connection each thread keeps; an event stream on a connection of
 * its own) and the one codec of the wire's messages.  The wire format
 * itself is proto.h.  It calls only util/ (and kernel/'s event struct);
 * see ARCHITECTURE.md.
 */
#ifndef MPSOCK_BROKER_H
#define MPSOCK_BROKER_H

#include <stdbool.h>

#include "broker/proto.h"
#include "kernel/kernel.h"

/*
 * One request with @fd attached (-1: a request about the caller, none),
 * its reply in @rep; @wait_ms more than the usual bound for an
 * open-and-wait.  Returns rep->err, or -errno when mpsockd could not be
 * asked (EPERM: none serves this namespace, or it is not root's).
 */
int mps_broker_call(int fd, struct mps_req *req, struct mps_reply *rep,
		    int wait_ms);
/*
 * The same with @proof, a socket on which the caller did the privileged
 * part of the request itself (op/proof.c), sent after @fd; -1: none.
 */
int mps_broker_call_proof(int fd, int proof, struct mps_req *req,
			  struct mps_reply *rep, int wait_ms);
/*
 * Was there no mpsockd to ask, or none to trust (nothing bound to its name
 * in this namespace, or a process other than root holding it)?  Told by a
 * call's result and its reply: mpsockd's own replies carry its version.
 */
static inline bool mps_broker_absent(int err, const struct mps_reply *rep)
{
	return err == -EPERM && !rep->version;
}

/*
 * An event stream: a connection of its own, which after the reply carries
 * struct mps_event_msg; *@sock is it.
 */
int mps_broker_subscribe(int fd, struct mps_req *req, struct mps_reply *rep,
			 int *sock);

/* codec.c: the event message both ways (lost: the count it carries) */
void mps_event_encode(struct mps_event_msg *m, const struct mps_event *ev,
		      __u32 lost);
/* 0 and the event (type 0 when it only carries a loss), or -EPROTO. */
int mps_event_decode(const struct mps_event_msg *m, size_t len,
		     struct mps_event *ev, __u32 *lost);

/* How many descriptors a request of @type carries: 1, or 0 for none. */
unsigned int mps_req_fds(unsigned int type);
/* How many proofs of privilege (lib/op/proof.c) may follow them: 0 or 1. */
unsigned int mps_req_proofs(unsigned int type);
/* The request type's name, for logs and messages ("unknown" if none). */
const char *mps_req_name(unsigned int type);
/*
 * A request as mpsockd received it (@n bytes, @nfds descriptors) into
 * *@req, checked before anything acts on it: its size, version, the
 * descriptors its type carries (its socket, then at most its proofs), and
 * the fields that need neither the socket nor the caller's rights.
 * mpsockd's request table (daemon/requests.c) starts with this.  0, or -errno with @msg for the reply:
 * EINVAL (size, unknown type, a field out of range), EPROTONOSUPPORT
 * (version), EBADF (descriptors), ENOPROTOOPT (not an option of one
 * subflow).  *@req holds what arrived either way, so that the reply can
 * echo its type and sequence number.
 */
int mps_req_decode(const void *buf, size_t n, unsigned int nfds,
		   struct mps_req *req, char *msg, size_t msglen);
/*
 * mpsockd's reply to request @seq (@n bytes) into *@rep: 0, or -EPROTO
 * for the wrong size, version or sequence number.  The text is
 * NUL-terminated and optlen bounded by the value's room.
 */
int mps_reply_decode(const void *buf, size_t n, __u32 seq,
		     struct mps_reply *rep);

#endif
