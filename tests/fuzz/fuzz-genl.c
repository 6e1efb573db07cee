// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A datagram of the mptcp_pm family as the library reads it: the one
 * netlink outcome reader (mps_nl_run: NLMSG_ERROR, NLMSG_DONE, extended
 * acks) with the event parser (mps_event_parse) for every other message.
 */
#include <string.h>
#include <sys/socket.h>

#include "kernel/kernel.h"
#include "fuzz.h"

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct mps_event ev;

	(void)data;
	if (mps_event_parse(nlh, &ev) == 0) {
		FUZZ_ASSERT(ev.local.ss_family == 0 ||
			    ev.local.ss_family == AF_INET ||
			    ev.local.ss_family == AF_INET6);
		FUZZ_ASSERT(ev.remote.ss_family == 0 ||
			    ev.remote.ss_family == AF_INET ||
			    ev.remote.ss_family == AF_INET6);
	}
	return MNL_CB_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[64] = "";
	struct mps_nl_ack ack = {.msg = text, .msglen = sizeof(text)};

	/* seq and portid 0: libmnl checks neither, as for multicast */
	mps_nl_run(data, size, 0, 0, event_cb, &ack);
	FUZZ_ASSERT(memchr(text, '\0', sizeof(text)));
	return 0;
}
