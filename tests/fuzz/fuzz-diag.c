// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A sock_diag reply as the library reads it: through the one netlink
 * outcome reader, every message parsed both as an MPTCP socket and as a
 * TCP subflow (mps_diag_parse_msk, mps_diag_parse_subflow).
 */
#include <string.h>
#include <sys/socket.h>

#include "kernel/kernel.h"
#include "fuzz.h"

static int diag_cb(const struct nlmsghdr *nlh, void *data)
{
	struct mps_diag_subflow sf;
	struct mps_msk msk;

	(void)data;
	if (mps_diag_parse_msk(nlh, &msk) > 0)
		FUZZ_ASSERT(msk.token == msk.info.mptcpi_token);
	if (mps_diag_parse_subflow(nlh, &sf) > 0)
		FUZZ_ASSERT(sf.mptcp.found && sf.tcpi_len <= sizeof(sf.tcpi));
	return MNL_CB_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[64] = "";
	struct mps_nl_ack ack = {.msg = text, .msglen = sizeof(text)};

	mps_nl_run(data, size, 0, 0, diag_cb, &ack);
	FUZZ_ASSERT(memchr(text, '\0', sizeof(text)));
	return 0;
}
