// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * An rtnetlink datagram as mpsockd's netwatch reads it: each link and
 * address message through nw_parse_link() and nw_parse_addr(), whatever
 * its type says, since a wrong type must not make either read past it.
 */
#include <string.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>

#include "kernel/kernel.h"
#include "netwatch.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct nlmsghdr *nlh = (const void *)data;
	int left = size > 65536 ? 65536 : (int)size;
	struct nw_link l;
	struct nw_addr a;
	bool usable;

	/* netwatch walks a datagram only once mps_nl_valid() passed it */
	if ((uintptr_t)data % 4 || !mps_nl_valid(data, size))
		return 0;
	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nw_parse_link(nlh, &l) == 0)
			FUZZ_ASSERT(memchr(l.name, '\0', sizeof(l.name)));
		if (nw_parse_addr(nlh, &a, &usable) > 0)
			FUZZ_ASSERT(a.addr.ss_family == AF_INET ||
				    a.addr.ss_family == AF_INET6);
		else
			FUZZ_ASSERT(!usable);
	}
	return 0;
}
