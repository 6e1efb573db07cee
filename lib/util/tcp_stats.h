/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The few tcp_info fields tools print.  A header of its own because glibc's
 * <netinet/tcp.h> (used everywhere else) lacks the byte counters and cannot
 * be included together with <linux/tcp.h>, which has them.
 */
#ifndef MPSOCK_TCP_STATS_H
#define MPSOCK_TCP_STATS_H

#include <stddef.h>
#include <linux/types.h>

struct mps_tcp_stats {
	__u32 rtt_us, rttvar_us;
	__u32 last_ack_recv_ms; /* how old the last RTT sample may be */
	__u64 bytes_sent, bytes_acked, bytes_received;
};

/* From a tcp_info of @len bytes as the kernel sent it; missing fields 0. */
void mps_tcp_stats_read(const void *tcpi, size_t len,
			struct mps_tcp_stats *out);

#endif
