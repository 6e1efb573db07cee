/* SPDX-License-Identifier: GPL-2.0+ WITH Linux-syscall-note */
/*
 * The distribution's <linux/mptcp.h>, completed with the definitions added
 * by Linux 6.5 (MPTCP_FULL_INFO) that Debian 12's 6.1 uapi lacks.  Layouts
 * checked against the running kernel's BTF (see README in this directory).
 */
#ifndef MPSOCK_UAPI_LINUX_MPTCP_H
#define MPSOCK_UAPI_LINUX_MPTCP_H

#include_next <linux/mptcp.h>

#include <linux/socket.h>
#include <linux/types.h>

#ifndef MPTCP_INFO
#define MPTCP_INFO 1
#endif
#ifndef MPTCP_TCPINFO
#define MPTCP_TCPINFO 2
#endif
#ifndef MPTCP_SUBFLOW_ADDRS
#define MPTCP_SUBFLOW_ADDRS 3
#endif

#ifndef MPTCP_FULL_INFO
#define MPTCP_FULL_INFO 4

/* struct mptcp_subflow_addrs comes from the 5.16+ distribution header. */
struct mptcp_subflow_info {
	__u32 id;
	struct mptcp_subflow_addrs addrs;
};

struct mptcp_full_info {
	__u32 size_tcpinfo_kernel; /* must be 0, set by kernel */
	__u32 size_tcpinfo_user;
	__u32 size_sfinfo_kernel; /* must be 0, set by kernel */
	__u32 size_sfinfo_user;
	__u32 num_subflows; /* must be 0, set by kernel (real count) */
	__u32 size_arrays_user; /* entries the user arrays can hold */
	__aligned_u64 subflow_info;
	__aligned_u64 tcp_info;
	struct mptcp_info mptcp_info;
};
#endif /* MPTCP_FULL_INFO */

#endif /* MPSOCK_UAPI_LINUX_MPTCP_H */
