// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Struct layouts: the draft's structures as programs written for the
 * reference implementation see them, and our completed uapi copy as the
 * 6.18 kernel's BTF defines it.  test-refimpl checks the layouts of
 * MPSOCK_REFIMPL_LAYOUT.
 */
#include <stddef.h>

#include "kernel/kernel.h"
#include "refimpl.h"
#include "test.h"

int main(void)
{
	check_shared_layouts();
	CHECK("MPTCP_CLOSE_SUBFLOW is the draft's other name",
	      MPTCP_CLOSE_SUBFLOW == MPTCP_CLOSE_SUB_ID);
	CHECK("RST constant is not a SHUT_* value",
	      MPTCP_SHUT_RST != SHUT_RD && MPTCP_SHUT_RST != SHUT_WR &&
		      MPTCP_SHUT_RST != SHUT_RDWR);
	/* gcc packs the __u16 bit-fields next to id, as in the fork */
	CHECK("mptcp_sub_status is 2 bytes",
	      sizeof(struct mptcp_sub_status) == 2);
	CHECK("sub_status array at offset 2",
	      offsetof(struct mptcp_sub_ids, sub_status) == 2);
	CHECK("sub_tuple: id, prio, addrs at 2",
	      offsetof(struct mptcp_sub_tuple, prio) == 1 &&
		      offsetof(struct mptcp_sub_tuple, addrs) == 2);
	CHECK("sub_tuple: the reference's id, then prio where its addrs began",
	      SAME_FIELD(mptcp_sub_tuple, refimpl_sub_tuple, id) &&
		      offsetof(struct mptcp_sub_tuple, prio) ==
			      offsetof(struct refimpl_sub_tuple, addrs));
	CHECK("sub_tuple requests: 34 and 58 bytes, not the reference's 33, 57",
	      sizeof(struct mptcp_sub_tuple) + 2 * sizeof(struct sockaddr_in) ==
			      34 &&
		      sizeof(struct mptcp_sub_tuple) +
				      2 * sizeof(struct sockaddr_in6) ==
			      58 &&
		      sizeof(struct refimpl_sub_tuple) +
				      2 * sizeof(struct sockaddr_in) ==
			      33);
	CHECK("close_sub_id: how is an int at 4",
	      offsetof(struct mptcp_close_sub_id, how) == 4);
	CHECK("close_sub_id: 8 bytes, the reference's 1",
	      sizeof(struct mptcp_close_sub_id) == 8 &&
		      sizeof(struct refimpl_close_sub_id) == 1);
	CHECK("sub_getsockopt layout",
	      offsetof(struct mptcp_sub_getsockopt, level) == 4 &&
		      offsetof(struct mptcp_sub_getsockopt, optname) == 8 &&
		      offsetof(struct mptcp_sub_getsockopt, optval) == 16 &&
		      offsetof(struct mptcp_sub_getsockopt, optlen) == 24);
	CHECK("sub_setsockopt: optlen by value",
	      offsetof(struct mptcp_sub_setsockopt, optlen) == 24 &&
		      sizeof(((struct mptcp_sub_setsockopt *)0)->optlen) == 4);
	CHECK("mpsock_subflow addresses hold any sockaddr",
	      sizeof(((struct mpsock_subflow *)0)->local) >=
		      sizeof(struct sockaddr_in6));
	/* from the 6.18 kernel's BTF */
	CHECK("mptcp_full_info head is 40 bytes",
	      offsetof(struct mptcp_full_info, mptcp_info) == 40);
	CHECK("mptcp_full_info pointers at 24 and 32",
	      offsetof(struct mptcp_full_info, subflow_info) == 24 &&
		      offsetof(struct mptcp_full_info, tcp_info) == 32);
	CHECK("mptcp_subflow_info is 264 bytes",
	      sizeof(struct mptcp_subflow_info) == 264);
	CHECK("remote address at 128 in mptcp_subflow_addrs",
	      offsetof(struct mptcp_subflow_addrs, ss_remote) == 128);
	return test_done();
}
