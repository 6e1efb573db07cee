// SPDX-License-Identifier: LGPL-2.1-or-later
// The public header compiles as C++ and links from C++.
#include <mpsock.h>

int main()
{
	mptcp_sub_tuple *t = nullptr;
	(void)t;
	return mpsock_version() ? 0 : 1;
}
