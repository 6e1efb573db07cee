/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The map shared by the BPF programs that apply per-subflow socket options
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

/*
 * Where a request is carried out.  The header-option callback runs on
 * exactly one subflow when user space makes the kernel send an ACK on it
 * (cheap, but the kernel refuses some options there, e.g. TCP_NODELAY
 * since 846c76ecc029); the iterator walks the namespace's TCP sockets
 * (the whole hash table: milliseconds) and allows what a locked socket
 * allows.
 */
enum mps_sockopt_via {
	MPS_SOCKOPT_VIA_HDR = 1,
	MPS_SOCKOPT_VIA_ITER = 2,
	/* only marks the socket for the header-option callback (probing) */
	MPS_SOCKOPT_VIA_MARK = 3,
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
	__u32 via; /* enum mps_sockopt_via */
	__u32 pad;
	__u8 val[MPS_SOCKOPT_VAL_MAX];
};

#endif
