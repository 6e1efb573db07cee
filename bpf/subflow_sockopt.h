/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The map shared by the BPF program that applies per-subflow socket options
 * and libmpsock: one pending request per subflow, keyed by the subflow's
 * network namespace and 4-tuple.
 */
#ifndef MPSOCK_SUBFLOW_SOCKOPT_H
#define MPSOCK_SUBFLOW_SOCKOPT_H

#define MPS_SOCKOPT_VAL_MAX 64 /* TCP_CONGESTION's name is the longest */

enum mps_sockopt_op {
	MPS_SOCKOPT_SET = 1,
	MPS_SOCKOPT_GET = 2,
};

/* Ports in host order, addresses as the socket holds them (v4 in [0]). */
struct mps_sf_key {
	__u64 netns;
	__u32 family;
	__u32 local[4];
	__u32 remote[4];
	__u16 lport;
	__u16 rport;
};

struct mps_sf_req {
	__s32 level;
	__s32 optname;
	__u32 optlen;
	__u32 op; /* enum mps_sockopt_op */
	__s32 result; /* bpf_setsockopt()/bpf_getsockopt(): 0 or -errno */
	__u32 done; /* set by the program once it ran */
	__u8 val[MPS_SOCKOPT_VAL_MAX];
};

#endif
