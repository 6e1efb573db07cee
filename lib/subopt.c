// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Per-subflow socket options: which options, their sizes, who may set
 * them (the draft's section 5: nothing a caller could not do on a TCP
 * socket of its own), and where the call is carried out (TCP_INFO in
 * process; the rest by the BPF program, loaded by mpsockd or by a
 * privileged application).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <linux/capability.h>

#include "broker_proto.h"
#include "internal.h"

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

static bool ca_listed(const char *list, const char *name, size_t len)
{
	FILE *f = fopen(list, "re");
	char word[TCP_CA_NAME_MAX + 1];
	bool ok = false;

	if (!f)
		return false;
	while (!ok && fscanf(f, "%16s", word) == 1)
		ok = strlen(word) == len && !memcmp(word, name, len);
	fclose(f);
	return ok;
}

static unsigned long sysctl_ulong(const char *path)
{
	FILE *f = fopen(path, "re");
	unsigned long v = 0;

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

/*
 * Section 5 of the draft: may a caller with capabilities @capable set
 * this?  Mirrors what the kernel lets an unprivileged process do on its
 * own TCP socket; EPERM otherwise, with @msg saying which rule.
 */
int mps_subopt_allowed(int level, int optname, const void *val, socklen_t len,
		       bool (*capable)(void *ctx, int cap), void *ctx,
		       char *msg, size_t msglen)
{
	int v = 0;

	if (capable(ctx, CAP_NET_ADMIN))
		return 0;
	if (len >= sizeof(int))
		memcpy(&v, val, sizeof(int));
	if (level == SOL_SOCKET && optname == SO_MARK) {
		snprintf(msg, msglen, "SO_MARK needs CAP_NET_ADMIN");
		return -EPERM;
	}
	if (level == SOL_SOCKET && optname == SO_PRIORITY && (v < 0 || v > 6) &&
	    !capable(ctx, CAP_NET_RAW)) {
		snprintf(
			msg, msglen,
			"SO_PRIORITY above 6 needs CAP_NET_ADMIN or CAP_NET_RAW");
		return -EPERM;
	}
	/* as for a TCP socket: an unknown name is ENOENT, not EPERM */
	if (level == IPPROTO_TCP && optname == TCP_CONGESTION &&
	    !ca_listed("/proc/sys/net/ipv4/tcp_available_congestion_control",
		       val, strnlen(val, len))) {
		snprintf(msg, msglen, "no such congestion control");
		return -ENOENT;
	}
	if (level == IPPROTO_TCP && optname == TCP_CONGESTION &&
	    !ca_listed("/proc/sys/net/ipv4/tcp_allowed_congestion_control", val,
		       strnlen(val, len))) {
		snprintf(msg, msglen,
			 "congestion control not in "
			 "net.ipv4.tcp_allowed_congestion_control");
		return -EPERM;
	}
	if (level == SOL_SOCKET && optname == SO_SNDBUF &&
	    (unsigned long)v > sysctl_ulong("/proc/sys/net/core/wmem_max")) {
		snprintf(msg, msglen, "SO_SNDBUF above net.core.wmem_max");
		return -EPERM;
	}
	if (level == SOL_SOCKET && optname == SO_RCVBUF &&
	    (unsigned long)v > sysctl_ulong("/proc/sys/net/core/rmem_max")) {
		snprintf(msg, msglen, "SO_RCVBUF above net.core.rmem_max");
		return -EPERM;
	}
	return 0;
}
