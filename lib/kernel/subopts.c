// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The socket options one subflow takes: those the kernel's
 * bpf_setsockopt() and bpf_getsockopt() serve and that make sense per
 * subflow, with their value's kind and length.  Who may set them is
 * op/permissions.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <linux/capability.h>

#include "kernel/kernel.h"

#define TCP_CA_NAME_MAX 16

enum subopt_kind {
	SUBOPT_INT, /* an int, exactly */
	SUBOPT_NAME, /* a congestion control name */
	SUBOPT_RATE, /* an unsigned int or a 64-bit rate */
};

struct subopt {
	int level;
	int optname;
	enum subopt_kind kind;
	const char *name;
};

#define SUBOPT(level, name, kind)                                              \
	{                                                                      \
		level, name, kind, #name                                       \
	}

static const struct subopt subopts[MPS_SUBOPT_COUNT] = {
	SUBOPT(IPPROTO_IP, IP_TOS, SUBOPT_INT),
	SUBOPT(IPPROTO_IPV6, IPV6_TCLASS, SUBOPT_INT),
	SUBOPT(IPPROTO_TCP, TCP_CONGESTION, SUBOPT_NAME),
	SUBOPT(IPPROTO_TCP, TCP_NODELAY, SUBOPT_INT),
	SUBOPT(IPPROTO_TCP, TCP_KEEPIDLE, SUBOPT_INT),
	SUBOPT(IPPROTO_TCP, TCP_KEEPINTVL, SUBOPT_INT),
	SUBOPT(IPPROTO_TCP, TCP_KEEPCNT, SUBOPT_INT),
	SUBOPT(IPPROTO_TCP, TCP_USER_TIMEOUT, SUBOPT_INT),
	SUBOPT(IPPROTO_TCP, TCP_NOTSENT_LOWAT, SUBOPT_INT),
	SUBOPT(IPPROTO_TCP, TCP_WINDOW_CLAMP, SUBOPT_INT),
	SUBOPT(SOL_SOCKET, SO_SNDBUF, SUBOPT_INT),
	SUBOPT(SOL_SOCKET, SO_RCVBUF, SUBOPT_INT),
	SUBOPT(SOL_SOCKET, SO_KEEPALIVE, SUBOPT_INT),
	SUBOPT(SOL_SOCKET, SO_MAX_PACING_RATE, SUBOPT_RATE),
	SUBOPT(SOL_SOCKET, SO_PRIORITY, SUBOPT_INT),
	SUBOPT(SOL_SOCKET, SO_MARK, SUBOPT_INT),
};

/* The option's index in the table (probe results are kept by it), or -1. */
int mps_subopt_index(int level, int optname)
{
	unsigned int i;

	for (i = 0; i < MPS_SUBOPT_COUNT; i++)
		if (subopts[i].level == level && subopts[i].optname == optname)
			return i;
	return -1;
}

void mps_subopt_at(unsigned int i, int *level, int *optname, const char **name)
{
	*level = subopts[i].level;
	*optname = subopts[i].optname;
	*name = subopts[i].name;
}

static const struct subopt *subopt_find(int level, int optname)
{
	int i = mps_subopt_index(level, optname);

	return i < 0 ? NULL : &subopts[i];
}

/* Is @len right for @level/@optname?  ENOPROTOOPT for other options. */
int mps_subopt_check(int level, int optname, bool set, socklen_t len)
{
	const struct subopt *o = subopt_find(level, optname);

	if (!o)
		return -ENOPROTOOPT;
	switch (o->kind) {
	case SUBOPT_INT:
		return (set ? len == sizeof(int) : len >= sizeof(int))
			       ? 0
			       : -EINVAL;
	case SUBOPT_NAME:
		return len >= 1 && (!set || len <= TCP_CA_NAME_MAX) ? 0
								    : -EINVAL;
	case SUBOPT_RATE:
		return len == sizeof(__u32) || len == sizeof(__u64) ||
				       (!set && len > sizeof(__u64))
			       ? 0
			       : -EINVAL;
	}
	return -EINVAL;
}

/* The length handed to the program: what the kernel's option carries. */
socklen_t mps_subopt_len(int level, int optname, socklen_t len)
{
	const struct subopt *o = subopt_find(level, optname);

	if (!o || o->kind == SUBOPT_INT)
		return sizeof(int);
	if (o->kind == SUBOPT_NAME)
		return len < TCP_CA_NAME_MAX ? len : TCP_CA_NAME_MAX;
	/* bpf_setsockopt() takes the rate as an int only */
	return sizeof(__u32);
}
