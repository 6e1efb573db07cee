// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Who is asking: the caller's credentials from the kernel, SO_PEERCRED at
 * connect time (its uid: quotas, owner subscriptions) and SCM_CREDENTIALS
 * with each request (the sender, as logged).  Nothing is read from the
 * caller's /proc: what it may do beyond an unprivileged process's rights
 * it proves with each request (proof.c), since a process may exec a
 * binary with file capabilities between sending and our reading.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "mpsockd.h"

int peer_identify(int s, struct peer *p)
{
	socklen_t len = sizeof(p->cred);

	memset(p, 0, sizeof(*p));
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &p->cred, &len) < 0)
		return -errno;
	return 0;
}

pid_t peer_pid(const struct peer *p)
{
	return p->sender.pid ? p->sender.pid : p->cred.pid;
}
