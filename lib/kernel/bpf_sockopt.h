/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to bpf_sockopt.c and bpf_probe.c: running one request of the
 * per-subflow option program, by the path the caller picked.
 */
#ifndef MPSOCK_SOCKOPT_BPF_H
#define MPSOCK_SOCKOPT_BPF_H

#include <linux/types.h>

#include "kernel/kernel.h"
#include "subflow_sockopt.h"

/* Makes the kernel run the program on the request's socket. */
typedef int (*mps_sockopt_trigger)(void *ctx);

/*
 * Stores @req (its via, op and value set) for @k, runs @trigger, and reads
 * the outcome back into @req: 0 once the program ran (its result in
 * req->result), -EIO if it never did, or the trigger's error.
 */
int mps_sockopt_run(const struct mps_sf_key *k, struct mps_sf_req *req,
		    mps_sockopt_trigger trigger, void *ctx);
/* The trigger of the iterator path: one pass over the namespace. */
int mps_sockopt_iter_pass(void *unused);

/*
 * Probes every option on a loopback connection in a network namespace of
 * its own: fills @caps->path and sets @caps->probed; leaves them unknown
 * where it cannot run (no CAP_SYS_ADMIN for the namespace).
 */
void mps_sockopt_probe(struct mps_sockopt_caps *caps);

#endif
