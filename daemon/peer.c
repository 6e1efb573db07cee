// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Who is asking: the caller's credentials from the kernel (SO_PEERCRED) and
 * its effective capabilities, read from /proc through a pidfd so that a
 * recycled pid can never lend another process's privileges.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "mpsockd.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static unsigned long long read_cap_eff(pid_t pid)
{
	char path[64], line[256];
	unsigned long long caps = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps;
}

/* Capabilities count only in our own user namespace. */
static bool same_userns(pid_t pid)
{
	char path[64];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	return stat(path, &a) == 0 && stat("/proc/self/ns/user", &b) == 0 &&
	       a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

int peer_identify(int s, struct peer *p)
{
	socklen_t len = sizeof(p->cred);
	int pidfd = -1;

	memset(p, 0, sizeof(*p));
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &p->cred, &len) < 0)
		return -errno;
	len = sizeof(pidfd);
	if (getsockopt(s, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0)
		pidfd = -1; /* before Linux 6.5: fall back to the bare pid */
	if (same_userns(p->cred.pid))
		p->caps = read_cap_eff(p->cred.pid);
	/*
	 * The process we read must still be the one that connected.  Signal
	 * 0 tests existence; EPERM (another uid, and we keep no CAP_KILL)
	 * still means it exists.
	 */
	if (pidfd >= 0 &&
	    syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0 &&
	    errno == ESRCH)
		p->caps = 0;
	if (pidfd >= 0)
		close(pidfd);
	return 0;
}

bool peer_capable(const struct peer *p, int cap)
{
	return p->caps & (1ULL << cap);
}
