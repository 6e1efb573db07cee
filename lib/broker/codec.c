// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The wire's messages checked and converted in one place: the event
 * message (struct mps_event_msg) and the parsed kernel event (struct
 * mps_event) both ways, which mpsockd encodes and the library's event
 * stream and mpsock monitor decode; a request as mpsockd receives it, and
 * a reply as the library receives it.  Whatever comes off the wire is
 * another process's bytes: nothing here trusts a length or a family.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "broker/broker.h"

void mps_event_encode(struct mps_event_msg *m, const struct mps_event *ev,
		      __u32 lost)
{
	memset(m, 0, sizeof(*m));
	m->version = MPS_PROTO_VERSION;
	m->lost = lost;
	if (!ev)
		return;
	m->type = ev->type;
	m->token = ev->token;
	m->error = ev->error;
	m->has_error = ev->has_error;
	m->backup = ev->backup;
	m->loc_id = ev->loc_id;
	m->rem_id = ev->rem_id;
	m->server_side = ev->server_side;
	m->local = ev->local;
	m->remote = ev->remote;
}

int mps_event_decode(const struct mps_event_msg *m, size_t len,
		     struct mps_event *ev, __u32 *lost)
{
	if (len != sizeof(*m) || m->version != MPS_PROTO_VERSION)
		return -EPROTO;
	memset(ev, 0, sizeof(*ev));
	*lost = m->lost;
	ev->type = m->type;
	ev->token = m->token;
	ev->error = m->error;
	ev->has_error = m->has_error;
	ev->backup = m->backup;
	ev->loc_id = m->loc_id;
	ev->rem_id = m->rem_id;
	ev->server_side = m->server_side;
	ev->local = m->local;
	ev->remote = m->remote;
	/* the wire's addresses are whatever a peer sent: make them sane */
	if (ev->local.ss_family != AF_INET && ev->local.ss_family != AF_INET6)
		memset(&ev->local, 0, sizeof(ev->local));
	if (ev->remote.ss_family != AF_INET && ev->remote.ss_family != AF_INET6)
		memset(&ev->remote, 0, sizeof(ev->remote));
	return 0;
}

unsigned int mps_req_fds(unsigned int type)
{
	return type == MPS_REQ_SUBSCRIBE_OWNER || type == MPS_REQ_STATUS ? 0
									 : 1;
}

unsigned int mps_req_proofs(unsigned int type)
{
	return type == MPS_REQ_OPEN || type == MPS_REQ_SOCKOPT ? 1 : 0;
}

const char *mps_req_name(unsigned int type)
{
	static const char *const names[__MPS_REQ_MAX] = {
		[MPS_REQ_OPEN] = "open",
		[MPS_REQ_CLOSE] = "close",
		[MPS_REQ_BACKUP] = "backup",
		[MPS_REQ_SOCKOPT] = "sockopt",
		[MPS_REQ_SUBSCRIBE] = "subscribe",
		[MPS_REQ_SUBSCRIBE_OWNER] = "subscribe-owner",
		[MPS_REQ_MODE] = "mode",
		[MPS_REQ_STATUS] = "status",
	};

	return type < __MPS_REQ_MAX && names[type] ? names[type] : "unknown";
}

/* The descriptors: the application's socket, then at most its proofs. */
static int req_fds(unsigned int type, unsigned int nfds, char *msg,
		   size_t msglen)
{
	unsigned int min = mps_req_fds(type), max = min + mps_req_proofs(type);

	if (nfds >= min && nfds <= max)
		return 0;
	if (max > 1)
		snprintf(msg, msglen,
			 "a %s request carries its socket and at most one "
			 "proof (got %u)",
			 mps_req_name(type), nfds);
	else if (min)
		snprintf(msg, msglen,
			 "a request carries exactly one socket (got %u)", nfds);
	else
		snprintf(msg, msglen, "a %s request carries no socket (got %u)",
			 mps_req_name(type), nfds);
	return -EBADF;
}

/* The fields of one request type, all but what needs the socket or caller. */
static int req_fields(const struct mps_req *req, char *msg, size_t msglen)
{
	const sa_family_t lf = req->open.local.ss_family;
	int err;

	switch (req->type) {
	case MPS_REQ_OPEN:
		if (lf != AF_INET && lf != AF_INET6) {
			snprintf(msg, msglen, "unknown address family");
			return -EINVAL;
		}
		if (req->open.remote.ss_family != lf) {
			snprintf(msg, msglen, "the addresses' families differ");
			return -EINVAL;
		}
		if (req->open.flags & ~(MPS_OPEN_F_BACKUP | MPS_OPEN_F_WAIT |
					MPS_OPEN_F_UNBOUND)) {
			snprintf(msg, msglen, "unknown open flags");
			return -EINVAL;
		}
		return 0;
	case MPS_REQ_SOCKOPT:
		err = mps_subopt_check(req->sockopt.level, req->sockopt.optname,
				       req->sockopt.set, req->sockopt.optlen);
		if (!err && req->sockopt.optlen > sizeof(req->sockopt.val))
			err = -EINVAL;
		if (err)
			snprintf(msg, msglen, "%s",
				 err == -ENOPROTOOPT
					 ? "not an option of one subflow"
					 : "wrong option length");
		return err;
	case MPS_REQ_CLOSE:
	case MPS_REQ_BACKUP:
	case MPS_REQ_SUBSCRIBE:
	case MPS_REQ_SUBSCRIBE_OWNER:
	case MPS_REQ_MODE: /* the policy names the modes it takes */
	case MPS_REQ_STATUS:
		return 0;
	}
	snprintf(msg, msglen, "unknown request type %u", req->type);
	return -EINVAL;
}

int mps_req_decode(const void *buf, size_t n, unsigned int nfds,
		   struct mps_req *req, char *msg, size_t msglen)
{
	int err;

	memset(req, 0, sizeof(*req));
	/* the reply echoes type and seq: take them from any prefix */
	memcpy(req, buf, n < sizeof(*req) ? n : sizeof(*req));
	if (n != sizeof(*req)) {
		snprintf(msg, msglen, "bad request size %zu", n);
		return -EINVAL;
	}
	if (req->version != MPS_PROTO_VERSION) {
		snprintf(msg, msglen,
			 "request version %u, this mpsockd speaks %u",
			 req->version, MPS_PROTO_VERSION);
		return -EPROTONOSUPPORT;
	}
	err = req_fds(req->type, nfds, msg, msglen);
	return err ? err : req_fields(req, msg, msglen);
}

int mps_reply_decode(const void *buf, size_t n, __u32 seq,
		     struct mps_reply *rep)
{
	if (n != sizeof(*rep))
		return -EPROTO;
	memcpy(rep, buf, sizeof(*rep));
	if (rep->version != MPS_PROTO_VERSION || rep->seq != seq)
		return -EPROTO;
	rep->msg[sizeof(rep->msg) - 1] = '\0';
	/* a value longer than the room for it is not one */
	if (rep->optlen > sizeof(rep->val))
		rep->optlen = sizeof(rep->val);
	return 0;
}
