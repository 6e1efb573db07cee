// SPDX-License-Identifier: LGPL-2.1-or-later
/* Whether this thread holds a capability (capget: no /proc read). */
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>

#include "util/util.h"

bool mps_have_cap(int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return false;
	return data[cap / 32].effective & (1u << (cap % 32));
}
