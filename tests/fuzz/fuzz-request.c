// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The broker's request path without a socket: the first byte is how many
 * descriptors came with the datagram (0..3), the rest the datagram as
 * mpsockd reads it, through mps_req_decode(); the same bytes as a reply,
 * through mps_reply_decode().  What a decoded request promises is checked.
 */
#include <string.h>
#include <sys/socket.h>

#include "broker/broker.h"
#include "fuzz.h"

static void check_request(const struct mps_req *req)
{
	switch (req->type) {
	case MPS_REQ_OPEN:
		FUZZ_ASSERT(req->open.local.ss_family == AF_INET ||
			    req->open.local.ss_family == AF_INET6);
		FUZZ_ASSERT(req->open.remote.ss_family ==
			    req->open.local.ss_family);
		break;
	case MPS_REQ_SOCKOPT:
		FUZZ_ASSERT(req->sockopt.optlen <= sizeof(req->sockopt.val));
		FUZZ_ASSERT(mps_subopt_index(req->sockopt.level,
					     req->sockopt.optname) >= 0);
		break;
	default:
		FUZZ_ASSERT(req->type > 0 && req->type < __MPS_REQ_MAX);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mps_reply rep;
	struct mps_req req;
	char msg[128];
	int err;

	if (!size)
		return 0;
	msg[0] = '\0';
	err = mps_req_decode(data + 1, size - 1, data[0] & 3, &req, msg,
			     sizeof(msg));
	/* every refusal explains itself, in a terminated text */
	FUZZ_ASSERT(err <= 0 && memchr(msg, '\0', sizeof(msg)));
	FUZZ_ASSERT(!err || msg[0]);
	if (!err)
		check_request(&req);
	err = mps_reply_decode(data + 1, size - 1, req.seq, &rep);
	if (!err) {
		FUZZ_ASSERT(memchr(rep.msg, '\0', sizeof(rep.msg)));
		FUZZ_ASSERT(rep.optlen <= sizeof(rep.val));
	}
	return 0;
}
