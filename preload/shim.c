// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libmpsock-preload.so: with LD_PRELOAD, programs written for the draft's
 * API run unmodified.  getsockopt()/setsockopt() with the draft's options
 * are served by libmpsock; everything else goes to libc untouched.  With
 * MPSOCK_PRELOAD_MPTCP=1, TCP stream sockets the program creates become
 * MPTCP sockets, as every TCP socket was on the draft's reference kernel.
 * MPSOCK_MODE=manual|aggregate|handover|interactive asks mpsockd, the
 * namespace's path manager, for that service mode on every MPTCP socket.
 * MPSOCK_PRELOAD_DEBUG=1 says on stderr what the shim does.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "op/op.h"

#define DRAFT_FIRST MPTCP_GET_SUB_IDS
#define DRAFT_LAST MPTCP_SUB_PRIO

/* Everything else in here, libmpsock included, stays hidden. */
#define SHIM_EXPORT __attribute__((visibility("default")))

typedef int (*sockopt_get_t)(int, int, int, void *, socklen_t *);
typedef int (*sockopt_set_t)(int, int, int, const void *, socklen_t);
typedef int (*socket_t)(int, int, int);

static bool env_on(const char *name)
{
	const char *v = getenv(name);

	return v && *v && *v != '0';
}

static void *next(const char *sym)
{
	void *p = dlsym(RTLD_NEXT, sym);

	if (!p) {
		fprintf(stderr, "libmpsock-preload: no %s after us: %s\n", sym,
			dlerror());
		abort();
	}
	return p;
}

static bool is_draft(int level, int optname)
{
	return level == IPPROTO_TCP && optname >= DRAFT_FIRST &&
	       optname <= DRAFT_LAST;
}

SHIM_EXPORT int getsockopt(int fd, int level, int optname, void *optval,
			   socklen_t *optlen)
{
	static sockopt_get_t real;

	if (is_draft(level, optname))
		return mpsock_getsockopt(fd, level, optname, optval, optlen);
	if (!real)
		real = (sockopt_get_t)next("getsockopt");
	return real(fd, level, optname, optval, optlen);
}

SHIM_EXPORT int setsockopt(int fd, int level, int optname, const void *optval,
			   socklen_t optlen)
{
	static sockopt_set_t real;

	if (is_draft(level, optname))
		return mpsock_setsockopt(fd, level, optname, optval, optlen);
	if (!real)
		real = (sockopt_set_t)next("setsockopt");
	return real(fd, level, optname, optval, optlen);
}

/* MPSOCK_MODE: the service mode mpsockd gives the program's connections. */
static int env_mode(void)
{
	const char *v = getenv("MPSOCK_MODE");
	int mode;

	if (!v || !*v)
		return -1;
	mode = mps_mode_from_name(v);
	if (mode < 0 && env_on("MPSOCK_PRELOAD_DEBUG"))
		fprintf(stderr, "libmpsock-preload: unknown MPSOCK_MODE %s\n",
			v);
	return mode;
}

/*
 * Registered before connect(): mpsockd recognises the socket by its cookie
 * once it connects.  The program never sees a failure (errno is kept).
 */
static void apply_mode(int fd)
{
	int mode = env_mode(), saved = errno;

	if (mode >= 0 && mpsock_set_mode(fd, mode) < 0 &&
	    env_on("MPSOCK_PRELOAD_DEBUG"))
		fprintf(stderr, "libmpsock-preload: socket %d: mode: %s\n", fd,
			mpsock_errmsg());
	errno = saved;
}

SHIM_EXPORT int socket(int domain, int type, int protocol)
{
	static socket_t real;
	bool stream = (domain == AF_INET || domain == AF_INET6) &&
		      (type & 0xf) == SOCK_STREAM;
	int fd;

	if (!real)
		real = (socket_t)next("socket");
	if (stream && (protocol == 0 || protocol == IPPROTO_TCP) &&
	    env_on("MPSOCK_PRELOAD_MPTCP")) {
		fd = real(domain, type, IPPROTO_MPTCP);
		if (fd >= 0 || (errno != EPROTONOSUPPORT && errno != EINVAL &&
				errno != ENOPROTOOPT)) {
			if (env_on("MPSOCK_PRELOAD_DEBUG"))
				fprintf(stderr,
					"libmpsock-preload: socket %d is "
					"MPTCP\n",
					fd);
			if (fd >= 0)
				apply_mode(fd);
			return fd;
		}
		/* no MPTCP in this kernel or namespace: plain TCP, as asked */
	}
	fd = real(domain, type, protocol);
	if (fd >= 0 && stream && protocol == IPPROTO_MPTCP)
		apply_mode(fd);
	return fd;
}
