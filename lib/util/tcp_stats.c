// SPDX-License-Identifier: LGPL-2.1-or-later
/* Reads counters from the kernel's tcp_info layout (see tcp_stats.h). */
#include <string.h>
#include <linux/tcp.h>

#include "util/tcp_stats.h"

#define FIELD(dst, f)                                                          \
	do {                                                                   \
		if (len >= offsetof(struct tcp_info, f) + sizeof(ti.f))        \
			(dst) = ti.f;                                          \
	} while (0)

void mps_tcp_stats_read(const void *tcpi, size_t len, struct mps_tcp_stats *out)
{
	struct tcp_info ti;

	memset(out, 0, sizeof(*out));
	memset(&ti, 0, sizeof(ti));
	memcpy(&ti, tcpi, len < sizeof(ti) ? len : sizeof(ti));
	FIELD(out->rtt_us, tcpi_rtt);
	FIELD(out->rttvar_us, tcpi_rttvar);
	FIELD(out->last_ack_recv_ms, tcpi_last_ack_recv);
	FIELD(out->bytes_sent, tcpi_bytes_sent);
	FIELD(out->bytes_acked, tcpi_bytes_acked);
	FIELD(out->bytes_received, tcpi_bytes_received);
}
