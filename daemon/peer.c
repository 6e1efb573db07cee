// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Who is asking: the caller's credentials from the kernel (SO_PEERCRED) at
 * connect time, and its effective capabilities, read from /proc only when
 * a request needs them, through a pidfd taken at connect time so that a
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
#include <sys/syscall.h>

#include "mpsockd.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
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

static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/*
 * Capabilities count only in our own user namespace.  Its /proc/PID/ns
 * link is closed to us once we keep no other capability, but uid_map is
 * world-readable, and only a process already privileged here can create a
 * namespace whose map equals ours.
 */
static bool same_userns(pid_t pid)
{
	char path[64], theirs[512], ours[512];

	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	return read_small(path, theirs, sizeof(theirs)) > 0 &&
	       read_small("/proc/self/uid_map", ours, sizeof(ours)) > 0 &&
	       !strcmp(theirs, ours);
}

int peer_identify(int s, struct peer *p)
{
	socklen_t len = sizeof(p->cred);

	memset(p, 0, sizeof(*p));
	p->pidfd = -1;
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &p->cred, &len) < 0)
		return -errno;
	len = sizeof(p->pidfd);
	if (getsockopt(s, SOL_SOCKET, SO_PEERPIDFD, &p->pidfd, &len) < 0)
		p->pidfd = -1; /* before Linux 6.5: the bare pid only */
	return 0;
}

void peer_release(struct peer *p)
{
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
}

/* Real and effective uid of @pid are both @uid (no set-user-ID exec). */
static bool uids_are(pid_t pid, uid_t uid)
{
	char path[64], line[256];
	unsigned int r, e;
	bool ok = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Uid: %u %u", &r, &e) == 2) {
			ok = r == uid && e == uid;
			break;
		}
	fclose(f);
	return ok;
}

/*
 * Judge the process that sent the request, as the kernel names it
 * (SCM_CREDENTIALS), not the one that connected: a connection may be
 * shared, and a process may exec since.  It must still run as the uid the
 * kernel reported, its capabilities count only in our user namespace, and
 * a pidfd taken first proves the pid was not reused while we read.
 */
bool peer_capable(const struct peer *p, int cap)
{
	const struct ucred *who = p->sender.pid ? &p->sender : &p->cred;
	unsigned long long caps;
	bool ok;
	int pidfd;

	pidfd = syscall(SYS_pidfd_open, who->pid, 0);
	if (pidfd < 0)
		return false;
	ok = same_userns(who->pid) && uids_are(who->pid, who->uid);
	caps = ok ? read_cap_eff(who->pid) : 0;
	/* EPERM (another uid; we keep no CAP_KILL) still means alive */
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0 &&
	    errno == ESRCH)
		caps = 0;
	close(pidfd);
	return caps & (1ULL << cap);
}
