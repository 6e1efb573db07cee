// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A FULL_INFO reply as mpsock-record stores it (struct mptcp_full_info,
 * then the subflow_info entries, then the tcp_info rows at the kernel's
 * stride): its head through mps_full_info_reply(), the entries through
 * the snapshot's readers as the library uses them.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "kernel/kernel.h"
#include "fuzz.h"

/* the stride the library asks for at most (full_info.c's TCP_INFO_MAX) */
#define TI_ASKED 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mps_snapshot snap = {0};
	struct sockaddr_storage l, r;
	struct mptcp_full_info mfi;
	__u32 stride = TI_ASKED;
	size_t rest, row, cap, i;
	int n;

	if (size < sizeof(mfi))
		return 0;
	memcpy(&mfi, data, sizeof(mfi));
	n = mps_full_info_reply(&mfi, &stride);
	if (n < 0)
		return 0;
	FUZZ_ASSERT(stride <= TI_ASKED);
	/* the rows the arrays given would have held */
	rest = size - sizeof(mfi);
	row = sizeof(struct mptcp_subflow_info) + (stride ? stride : 1);
	cap = rest / row;
	if ((size_t)n < cap)
		cap = n;
	snap.info = malloc((cap ? cap : 1) * sizeof(*snap.info));
	snap.state = malloc(cap ? cap : 1);
	FUZZ_ASSERT(snap.info && snap.state);
	memcpy(snap.info, data + sizeof(mfi), cap * sizeof(*snap.info));
	for (i = 0; i < cap; i++)
		snap.state[i] =
			stride ? data[sizeof(mfi) + cap * sizeof(*snap.info) +
				      i * stride]
			       : 0;
	snap.count = cap;
	for (i = 0; i < snap.count; i++) {
		/* v4-mapped unmapped side by side: families may differ */
		mps_snapshot_tuple(&snap, i, &l, &r);
		(void)mps_snapshot_live(&snap, i);
	}
	free(snap.info);
	free(snap.state);
	return 0;
}
