// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A network namespace's cookie (SO_NETNS_COOKIE, Linux 5.14): unlike its
 * inode number, never given to another namespace while the system runs,
 * so it can name a namespace in a map key or a file.
 */
#include <errno.h>
#include <unistd.h>
#include <sys/socket.h>

#include "util/util.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

int mps_netns_cookie(int fd, __u64 *cookie)
{
	socklen_t len = sizeof(*cookie);
	int s = fd, err = 0;

	if (fd < 0) {
		s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			return -errno;
	}
	if (getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len) < 0)
		err = -errno;
	if (fd < 0)
		close(s);
	return err;
}
