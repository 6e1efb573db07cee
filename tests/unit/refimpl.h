/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The draft's structures as the reference implementation's uapi laid them
 * out (docs: reference-implementation.md), and checks that mpsock.h's
 * structures of the same names match them, field by field and bit by bit.
 */
#ifndef MPSOCK_TEST_REFIMPL_H
#define MPSOCK_TEST_REFIMPL_H

#include <stddef.h>
#include <string.h>

#include "mpsock.h"
#include "test.h"

struct refimpl_sub_status {
	__u8 id;
	__extension__ __u16 slave_sk : 1, fully_established : 1, attached : 1,
		low_prio : 1, pre_established : 1;
};

struct refimpl_sub_ids {
	__u8 sub_count;
	struct refimpl_sub_status sub_status[];
};

struct refimpl_sub_tuple {
	__u8 id;
	__extension__ __u8 addrs[0];
};

struct refimpl_close_sub_id {
	__u8 id;
};

struct refimpl_sub_getsockopt {
	__u8 id;
	int level;
	int optname;
	char *optval;
	unsigned int *optlen;
};

struct refimpl_sub_setsockopt {
	__u8 id;
	int level;
	int optname;
	char *optval;
	unsigned int optlen;
};

#define SAME_FIELD(a, b, f)                                                    \
	(offsetof(struct a, f) == offsetof(struct b, f) &&                     \
	 sizeof(((struct a *)0)->f) == sizeof(((struct b *)0)->f))

/* One bit-field set alone gives the same bytes in both structures. */
#define SAME_BIT(f)                                                            \
	do {                                                                   \
		struct mptcp_sub_status m;                                     \
		struct refimpl_sub_status r;                                   \
		memset(&m, 0, sizeof(m));                                      \
		memset(&r, 0, sizeof(r));                                      \
		m.f = 1;                                                       \
		r.f = 1;                                                       \
		CHECK("mptcp_sub_status." #f " is the reference's bit",        \
		      memcmp(&m, &r, sizeof(m)) == 0);                         \
	} while (0)

/* The structures whose layout the draft and the reference share. */
static inline void check_shared_layouts(void)
{
	CHECK("option numbers are the reference's 66..72",
	      MPTCP_GET_SUB_IDS == 66 && MPTCP_CLOSE_SUB_ID == 67 &&
		      MPTCP_GET_SUB_TUPLE == 68 && MPTCP_OPEN_SUB_TUPLE == 69 &&
		      MPTCP_SUB_GETSOCKOPT == 71 && MPTCP_SUB_SETSOCKOPT == 72);
	CHECK("mptcp_sub_status: the reference's size",
	      sizeof(struct mptcp_sub_status) ==
			      sizeof(struct refimpl_sub_status) &&
		      sizeof(struct mptcp_sub_status) == 2);
	CHECK("mptcp_sub_status: id at 0",
	      SAME_FIELD(mptcp_sub_status, refimpl_sub_status, id));
	SAME_BIT(slave_sk);
	SAME_BIT(fully_established);
	SAME_BIT(attached);
	SAME_BIT(low_prio);
	SAME_BIT(pre_established);
	CHECK("mptcp_sub_ids: sub_count and sub_status where the reference's are",
	      SAME_FIELD(mptcp_sub_ids, refimpl_sub_ids, sub_count) &&
		      offsetof(struct mptcp_sub_ids, sub_status) ==
			      offsetof(struct refimpl_sub_ids, sub_status) &&
		      sizeof(struct mptcp_sub_ids) ==
			      sizeof(struct refimpl_sub_ids));
	CHECK("mptcp_sub_getsockopt: the reference's layout, optlen a pointer",
	      sizeof(struct mptcp_sub_getsockopt) ==
			      sizeof(struct refimpl_sub_getsockopt) &&
		      SAME_FIELD(mptcp_sub_getsockopt, refimpl_sub_getsockopt,
				 id) &&
		      SAME_FIELD(mptcp_sub_getsockopt, refimpl_sub_getsockopt,
				 level) &&
		      SAME_FIELD(mptcp_sub_getsockopt, refimpl_sub_getsockopt,
				 optname) &&
		      SAME_FIELD(mptcp_sub_getsockopt, refimpl_sub_getsockopt,
				 optval) &&
		      SAME_FIELD(mptcp_sub_getsockopt, refimpl_sub_getsockopt,
				 optlen));
	CHECK("mptcp_sub_setsockopt: the reference's layout, optlen by value",
	      sizeof(struct mptcp_sub_setsockopt) ==
			      sizeof(struct refimpl_sub_setsockopt) &&
		      SAME_FIELD(mptcp_sub_setsockopt, refimpl_sub_setsockopt,
				 id) &&
		      SAME_FIELD(mptcp_sub_setsockopt, refimpl_sub_setsockopt,
				 level) &&
		      SAME_FIELD(mptcp_sub_setsockopt, refimpl_sub_setsockopt,
				 optname) &&
		      SAME_FIELD(mptcp_sub_setsockopt, refimpl_sub_setsockopt,
				 optval) &&
		      SAME_FIELD(mptcp_sub_setsockopt, refimpl_sub_setsockopt,
				 optlen));
}

#endif
