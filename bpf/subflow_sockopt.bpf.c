// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Per-subflow socket options.  Subflows have no file descriptor, so the
 * option is applied from inside the kernel, on the subflow itself, by one
 * of two paths that user space chooses per option (see
 * lib/kernel/bpf_probe.c for how it learns which one the kernel allows):
 *
 *  - the header-option callback: at ESTABLISHED every MPTCP subflow asks
 *    for it (BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG); user space stores a
 *    request for one subflow in `requests`, then sends the path manager's
 *    SET_FLAGS for exactly that subflow, which makes the kernel send one
 *    MP_PRIO ACK on it with its socket locked; building that ACK runs this
 *    program at BPF_SOCK_OPS_HDR_OPT_LEN_CB, and the result is written
 *    back before the netlink call returns.  MPTCP data segments leave no
 *    option space: the callback does not run on them, so the data path
 *    pays nothing (kernel-facts.md Q8).
 *  - the TCP iterator: one pass over the namespace's TCP sockets applies
 *    the requests marked for it, each socket locked by the iterator.  It
 *    walks the whole hash table (milliseconds), and serves the options the
 *    header-option callback refuses (TCP_NODELAY on kernels with upstream
 *    846c76ecc029).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "subflow_sockopt.h"

#define SOL_TCP 6
#define TCP_BPF_SOCK_OPS_CB_FLAGS 1008
#define AF_INET 2
#define AF_INET6 10
#define EINVAL 22

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct mps_sf_key);
	__type(value, struct mps_sf_req);
} requests SEC(".maps");

static bool is_mptcp_subflow(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct tcp_sock *tp;

	if (!sk)
		return false;
	tp = bpf_skc_to_tcp_sock(sk);
	return tp && tp->is_mptcp;
}

static void key_of_skops(struct bpf_sock_ops *skops, struct mps_sf_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->netns = bpf_get_netns_cookie(skops);
	k->family = skops->family;
	if (k->family == AF_INET) {
		k->local[0] = skops->local_ip4;
		k->remote[0] = skops->remote_ip4;
	} else {
		k->local[0] = skops->local_ip6[0];
		k->local[1] = skops->local_ip6[1];
		k->local[2] = skops->local_ip6[2];
		k->local[3] = skops->local_ip6[3];
		k->remote[0] = skops->remote_ip6[0];
		k->remote[1] = skops->remote_ip6[1];
		k->remote[2] = skops->remote_ip6[2];
		k->remote[3] = skops->remote_ip6[3];
	}
	k->lport = skops->local_port;
	/* the be16 port sits in the upper half of remote_port */
	k->rport = bpf_ntohl(skops->remote_port);
}

static bool key_of_skc(struct sock_common *skc, struct mps_sf_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->family = skc->skc_family;
	if (k->family == AF_INET) {
		k->local[0] = skc->skc_rcv_saddr;
		k->remote[0] = skc->skc_daddr;
	} else if (k->family == AF_INET6) {
		BPF_CORE_READ_INTO(&k->local, skc, skc_v6_rcv_saddr.in6_u);
		BPF_CORE_READ_INTO(&k->remote, skc, skc_v6_daddr.in6_u);
	} else {
		return false;
	}
	k->netns = BPF_CORE_READ(skc, skc_net.net, net_cookie);
	k->lport = skc->skc_num;
	k->rport = bpf_ntohs(skc->skc_dport);
	return true;
}

/*
 * Marked done before the helper runs: setting an option can send a
 * segment (TCP_NODELAY pushes pending frames), which runs the header
 * callback again on this socket; the request must not apply twice.
 */
static __always_inline void apply(void *sk, struct mps_sf_req *req)
{
	__u32 len = req->optlen;

	req->done = 1;
	/* the helpers need a length the verifier can bound */
	if (len < 1 || len > MPS_SOCKOPT_VAL_MAX) {
		req->result = -EINVAL;
		return;
	}
	if (req->op == MPS_SOCKOPT_SET)
		req->result = bpf_setsockopt(sk, req->level, req->optname,
					     req->val, len);
	else
		req->result = bpf_getsockopt(sk, req->level, req->optname,
					     req->val, len);
}

SEC("sockops")
int mpsock_subflow_sockops(struct bpf_sock_ops *skops)
{
	struct mps_sf_req *req;
	struct mps_sf_key k;

	switch (skops->op) {
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		/* MPTCP subflows, and the plain TCP socket of a probe */
		if (!is_mptcp_subflow(skops)) {
			key_of_skops(skops, &k);
			req = bpf_map_lookup_elem(&requests, &k);
			if (!req || req->via != MPS_SOCKOPT_VIA_MARK)
				break;
			req->done = 1;
		}
		bpf_sock_ops_cb_flags_set(
			skops, skops->bpf_sock_ops_cb_flags |
				       BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
		break;
	case BPF_SOCK_OPS_HDR_OPT_LEN_CB:
		key_of_skops(skops, &k);
		req = bpf_map_lookup_elem(&requests, &k);
		if (req && !req->done && req->via == MPS_SOCKOPT_VIA_HDR)
			apply(skops, req);
		break;
	}
	return 1;
}

/* The requests marked for the iterator, on the sockets they name. */
SEC("iter/tcp")
int mpsock_subflow_iter(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct mps_sf_req *req;
	struct mps_sf_key k;
	struct tcp_sock *tp;

	if (!skc || !key_of_skc(skc, &k))
		return 0;
	req = bpf_map_lookup_elem(&requests, &k);
	if (!req || req->done || req->via != MPS_SOCKOPT_VIA_ITER)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0; /* a request or time-wait socket of the same tuple */
	apply(tp, req);
	return 0;
}

/*
 * Subflows that were established before the program was attached have no
 * callback flag: one pass over the namespace's TCP sockets sets it.
 */
SEC("iter/tcp")
int mpsock_mark_subflows(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	int flags = BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG;
	struct tcp_sock *tp;

	if (!skc)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (tp && tp->is_mptcp)
		bpf_setsockopt(tp, SOL_TCP, TCP_BPF_SOCK_OPS_CB_FLAGS, &flags,
			       sizeof(flags));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
