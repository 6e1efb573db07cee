// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Section 5 of the draft: a caller may do on a subflow only what it could
 * do on a TCP socket of its own (a privileged local port, the options
 * that need CAP_NET_ADMIN, buffer sizes above the sysctl maxima, a
 * congestion control not allowed to users).  The library checks a
 * privileged caller that acts itself, and mpsockd its callers, with these
 * same rules.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <linux/capability.h>

#include "op/op.h"

#define TCP_CA_NAME_MAX 16

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

/*
 * A subflow on a privileged local port only for a caller that could bind
 * that port itself: 1 if @port needs CAP_NET_BIND_SERVICE.
 */
int mps_port_privileged(__be16 port)
{
	FILE *f;
	int first = 1024;

	if (!port)
		return 0; /* the kernel picks an unprivileged one */
	f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "re");
	if (f) {
		if (fscanf(f, "%d", &first) != 1)
			first = 1024;
		fclose(f);
	}
	return ntohs(port) < first;
}
