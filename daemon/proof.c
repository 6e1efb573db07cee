// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Checking a caller's proof of privilege (lib/op/proof.c makes them): a
 * socket of our network namespace on which the caller's kernel-checked act
 * can be read back.  A proof is judged by what the kernel reports about the
 * socket now, never by who the caller is now: a process that execs a
 * binary with file capabilities after sending its request gains nothing,
 * since the act had to succeed before the request was sent.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "op/op.h"
#include "proof.h"

#define TCP_CA_NAME_MAX 16

/*
 * The path manager acts by token in our namespace: a socket of another
 * namespace could name an unrelated connection there, and a proof made in
 * another namespace was checked against that namespace's owner.
 */
bool mpsd_same_netns(int fd)
{
	static __u64 ours;
	__u64 theirs;

	if (!ours && mps_netns_cookie(-1, &ours))
		ours = 0;
	if (!ours || mps_netns_cookie(fd, &theirs))
		return true; /* no cookies (before Linux 5.14): cannot tell */
	return theirs == ours;
}

static int sockopt_int(int fd, int level, int name, int *v)
{
	socklen_t len = sizeof(*v);

	*v = 0;
	return getsockopt(fd, level, name, v, &len) < 0 ? -errno : 0;
}

/* A socket of ours, of @family (0: either), @type and @proto. */
static int proof_kind(int proof, int family, int type, int proto, char *msg,
		      size_t len)
{
	int domain, t, p;
	struct stat st;

	if (proof < 0) {
		snprintf(msg, len, "no proof of privilege was sent");
		return -EPERM;
	}
	if (fstat(proof, &st) < 0 || !S_ISSOCK(st.st_mode) ||
	    sockopt_int(proof, SOL_SOCKET, SO_DOMAIN, &domain) ||
	    sockopt_int(proof, SOL_SOCKET, SO_TYPE, &t) ||
	    sockopt_int(proof, SOL_SOCKET, SO_PROTOCOL, &p)) {
		snprintf(msg, len, "the proof of privilege is not a socket");
		return -EPERM;
	}
	if ((domain != AF_INET && domain != AF_INET6) ||
	    (family && domain != family) || t != type || p != proto) {
		snprintf(msg, len,
			 "the proof of privilege is the wrong kind "
			 "of socket");
		return -EPERM;
	}
	if (!mpsd_same_netns(proof)) {
		snprintf(msg, len,
			 "the proof of privilege belongs to another "
			 "network namespace");
		return -EPERM;
	}
	return 0;
}

/*
 * Only UDP: a ping socket "binds" its identifier without the port check,
 * and getsockname() would show that identifier as a port.
 */
int mpsd_proof_port(int proof, int family, __be16 port, char *msg, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	__be16 bound;
	int err;

	err = proof_kind(proof, family, SOCK_DGRAM, IPPROTO_UDP, msg, len);
	if (err)
		goto refuse;
	if (getsockname(proof, (struct sockaddr *)&ss, &sl) < 0) {
		err = -EPERM;
		goto refuse;
	}
	bound = mps_addr_port(&ss);
	if (bound == port)
		return 0;
	err = -EPERM;
	snprintf(msg, len, "the proof of privilege is bound to port %u",
		 ntohs(bound));
refuse:
	/* the draft's answer for a port the caller may not bind */
	return err == -EPERM ? -EACCES : err;
}

/* What SO_SNDBUFFORCE/SO_RCVBUFFORCE leave: twice the value, as sk does. */
static int buf_readback(int v)
{
	if (v > INT_MAX / 2)
		v = INT_MAX / 2;
	return v * 2;
}

int mpsd_proof_sockopt(int proof, int level, int optname, const void *val,
		       socklen_t vlen, char *msg, size_t len)
{
	char ca[TCP_CA_NAME_MAX + 1] = "";
	socklen_t cl = sizeof(ca) - 1;
	int err, want = 0, got;

	err = proof_kind(proof, 0, SOCK_STREAM, IPPROTO_TCP, msg, len);
	if (err)
		return err;
	if (level == IPPROTO_TCP && optname == TCP_CONGESTION) {
		if (getsockopt(proof, level, optname, ca, &cl) == 0 &&
		    strnlen(val, vlen) == strnlen(ca, cl) &&
		    !memcmp(ca, val, strnlen(ca, cl)))
			return 0;
		goto mismatch;
	}
	if (vlen < sizeof(int))
		goto mismatch;
	memcpy(&want, val, sizeof(int));
	/* 0 is every socket's mark from the start: it proves nothing */
	if (level == SOL_SOCKET && optname == SO_MARK && !want) {
		snprintf(msg, len,
			 "SO_MARK 0 cannot be proven through "
			 "mpsockd; CAP_NET_ADMIN may set it directly");
		return -EPERM;
	}
	if (level == SOL_SOCKET &&
	    (optname == SO_SNDBUF || optname == SO_RCVBUF))
		want = buf_readback(want);
	if (sockopt_int(proof, level, optname, &got) == 0 && got == want)
		return 0;
mismatch:
	snprintf(msg, len,
		 "the proof of privilege does not carry this "
		 "option's value");
	return -EPERM;
}
