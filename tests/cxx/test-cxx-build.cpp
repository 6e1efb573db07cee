// SPDX-License-Identifier: LGPL-2.1-or-later
// The public header compiles as C++ and links from C++, in both layouts.
#include <cstddef>
#include <mpsock.h>

#ifdef MPSOCK_REFIMPL_LAYOUT
static_assert(sizeof(mptcp_close_sub_id) == 1, "the reference's close");
static_assert(offsetof(mptcp_sub_tuple, addrs) == 1, "no prio");
#else
static_assert(sizeof(mptcp_close_sub_id) == 8, "the draft's close");
static_assert(offsetof(mptcp_sub_tuple, addrs) == 2, "prio at 1");
#endif
static_assert(sizeof(mptcp_sub_status) == 2, "bit-fields next to id");

int main()
{
	mptcp_sub_tuple *t = nullptr;
	(void)t;
	return mpsock_version() ? 0 : 1;
}
