// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Proofs of privilege for mpsockd.  A caller that asks mpsockd for what
 * only a privileged process may do (section 5 of the draft) first does the
 * privileged part itself on a throwaway socket, and sends that socket along
 * with the request.  The kernel checked the caller's capabilities when it
 * bound the port or set the option, in the caller's own context and at the
 * caller's time; mpsockd only reads the result back.  Nothing is decided
 * from another process's /proc files, which change when it execs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "op/op.h"

static bool never_capable(void *ctx, int cap)
{
	(void)ctx;
	(void)cap;
	return false;
}

/*
 * A UDP socket bound to @port on the wildcard address: UDP's ports are not
 * TCP's, so the proof never takes the port the subflow is about to use,
 * and inet's bind checks CAP_NET_BIND_SERVICE for every protocol alike.
 */
int mps_proof_port(int family, __be16 port, char *msg, size_t msglen)
{
	struct sockaddr_storage ss = {.ss_family = family};
	socklen_t len = sizeof(struct sockaddr_in);
	int fd, err;

	if (family == AF_INET6) {
		((struct sockaddr_in6 *)&ss)->sin6_port = port;
		len = sizeof(struct sockaddr_in6);
	} else {
		((struct sockaddr_in *)&ss)->sin_port = port;
	}
	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &(int){1},
			   sizeof(int));
	if (bind(fd, (struct sockaddr *)&ss, len) == 0)
		return fd;
	err = -errno;
	close(fd);
	if (err == -EACCES || err == -EPERM)
		snprintf(msg, msglen,
			 "local port %u needs CAP_NET_BIND_SERVICE",
			 ntohs(port));
	else
		snprintf(msg, msglen,
			 "cannot prove the right to local port %u (%s)",
			 ntohs(port), strerror(-err));
	return err;
}

/* The option that shows the kernel let the caller go past the limit. */
static int proof_optname(int level, int optname)
{
	if (level == SOL_SOCKET && optname == SO_SNDBUF)
		return SO_SNDBUFFORCE;
	if (level == SOL_SOCKET && optname == SO_RCVBUF)
		return SO_RCVBUFFORCE;
	return optname;
}

int mps_proof_sockopt(int level, int optname, const void *val, socklen_t len,
		      char *msg, size_t msglen)
{
	char why[MPS_MSG_LEN] = "";
	int fd, err;

	err = mps_subopt_allowed(level, optname, val, len, never_capable, NULL,
				 why, sizeof(why));
	if (err != -EPERM)
		return err ? err
			   : -ENODATA; /* no proof needed, or none helps */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, level, proof_optname(level, optname), val, len) == 0)
		return fd;
	err = -errno;
	close(fd);
	snprintf(msg, msglen, "%s", why);
	return err == -EACCES ? -EPERM : err;
}
