/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Proofs of privilege a request carries: checked, never trusted. */
#ifndef MPSOCKD_PROOF_H
#define MPSOCKD_PROOF_H

#include <stdbool.h>
#include <sys/socket.h>
#include <linux/types.h>

/* @fd is a socket of our network namespace (true when it cannot tell). */
bool mpsd_same_netns(int fd);

/*
 * @proof (-1: none sent) is a UDP socket of @family in our namespace bound
 * to @port: its sender could bind a privileged port.  0, or -EACCES with
 * @msg saying why not.
 */
int mpsd_proof_port(int proof, int family, __be16 port, char *msg, size_t len);

/*
 * @proof is a TCP socket of our namespace on which the value @val of
 * option @level/@optname reads back (SO_SNDBUF/SO_RCVBUF: as the FORCE
 * variants leave it).  0, or -EPERM with @msg.
 */
int mpsd_proof_sockopt(int proof, int level, int optname, const void *val,
		       socklen_t vlen, char *msg, size_t len);

#endif
