/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Build glue for a program of the reference implementation's era linked
 * with libmpsock instead of run under libmpsock-preload.so: its
 * getsockopt() calls go to mpsock_getsockopt(), and its TCP stream sockets
 * are MPTCP ones, as every TCP socket was on the reference kernel.
 */
#ifndef MPSOCK_TEST_LINKED_H
#define MPSOCK_TEST_LINKED_H

#include <netinet/in.h>
#include <sys/socket.h>
#include <mpsock.h>

#define getsockopt mpsock_getsockopt
#define socket(domain, type, protocol)                                         \
	socket((domain), (type), (protocol) ? (protocol) : IPPROTO_MPTCP)

#endif
