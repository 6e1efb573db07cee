// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A connection's service mode, and claims: both go to mpsockd, which is the
 * namespace's path manager, whoever the caller is.  A privileged process
 * that controls subflows itself still tells mpsockd it does (once per
 * connection and thread), so that the policy does not act beside it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include "op/op.h"

#define CLAIM_CACHE 8

static _Thread_local __u32 claimed[CLAIM_CACHE];
static _Thread_local unsigned int claimed_next;
/* no mpsockd answered: do not knock for every call of the next second */
static _Thread_local time_t no_broker_until;

int mps_mode_from_name(const char *name)
{
	/* the words of MPSOCK_MODE and of mpsock run --mode */
	static const char *const names[] = {
		[MPSOCK_MODE_DEFAULT] = "default",
		[MPSOCK_MODE_MANUAL] = "manual",
		[MPSOCK_MODE_AGGREGATE] = "aggregate",
		[MPSOCK_MODE_HANDOVER] = "handover",
		[MPSOCK_MODE_INTERACTIVE] = "interactive",
	};
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return i;
	return -EINVAL;
}

static int mode_request(int fd, int mode, struct mps_reply *rep)
{
	struct mps_req req = {.type = MPS_REQ_MODE};

	req.mode.mode = mode;
	return mps_broker_call(fd, &req, rep, 0);
}

int mps_mode_set(int fd, int mode, char *msg, size_t len)
{
	struct mps_reply rep;
	int v = 0, err;
	socklen_t vl = sizeof(v);

	if (mode < MPSOCK_MODE_DEFAULT || mode > MPSOCK_MODE_INTERACTIVE) {
		snprintf(msg, len, "unknown mode %d", mode);
		return -EINVAL;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &vl) < 0)
		return -errno;
	if (v != IPPROTO_MPTCP) {
		snprintf(msg, len, "not an MPTCP socket");
		return -EOPNOTSUPP;
	}
	/* a connection handed back is claimed again by the next call */
	memset(claimed, 0, sizeof(claimed));
	err = mode_request(fd, mode, &rep);
	snprintf(msg, len, "%s", rep.msg);
	/* no broker: no path manager to tell, which the caller should know */
	if (mps_broker_absent(err, &rep)) {
		snprintf(msg, len,
			 "no mpsockd path manager serves this network "
			 "namespace");
		return -EOPNOTSUPP;
	}
	return err;
}

void mps_mode_claim(int fd)
{
	struct mps_reply rep;
	unsigned int i;
	__u32 token;
	int err;

	/* no broker lately: not even the token is worth reading */
	if (time(NULL) < no_broker_until || mps_conn_token(fd, &token))
		return;
	for (i = 0; i < CLAIM_CACHE; i++)
		if (claimed[i] == token)
			return;
	/*
	 * Best effort: without a broker there is no policy to stop.  Only a
	 * claim that was heard is remembered: one made while mpsockd is
	 * down is made again by a later call.
	 */
	err = mode_request(fd, MPSOCK_MODE_MANUAL, &rep);
	if (err == 0)
		claimed[claimed_next++ % CLAIM_CACHE] = token;
	else if (mps_broker_absent(err, &rep))
		no_broker_until = time(NULL) + 1;
}
