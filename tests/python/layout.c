// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Prints what the C compiler makes of the structures and constants that
 * the Python package mirrors with ctypes (python/mpsock/_native.py), one
 * "NAME VALUE" line each, for test-unit.py to compare.
 */
#include <stddef.h>
#include <stdio.h>
#include <linux/tcp.h>

#include <mpsock.h>

#define SIZE(s) printf("sizeof %s %zu\n", #s, sizeof(struct s))
#define FIELD(s, f)                                                            \
	printf("field %s.%s %zu %zu\n", #s, #f, offsetof(struct s, f),         \
	       sizeof(((struct s *)0)->f))
#define CONST(c) printf("const %s %ld\n", #c, (long)(c))

int main(void)
{
	SIZE(sockaddr_storage);
	FIELD(sockaddr_storage, ss_family);

	SIZE(mpsock_subflow);
	FIELD(mpsock_subflow, id);
	FIELD(mpsock_subflow, state);
	FIELD(mpsock_subflow, local_addr_id);
	FIELD(mpsock_subflow, remote_addr_id);
	FIELD(mpsock_subflow, flags);
	FIELD(mpsock_subflow, diag_flags);
	FIELD(mpsock_subflow, reserved);
	FIELD(mpsock_subflow, local);
	FIELD(mpsock_subflow, remote);

	SIZE(mpsock_event);
	FIELD(mpsock_event, type);
	FIELD(mpsock_event, subflow_id);
	FIELD(mpsock_event, error);
	FIELD(mpsock_event, lost);
	FIELD(mpsock_event, backup);
	FIELD(mpsock_event, addr_id);
	FIELD(mpsock_event, reserved);
	FIELD(mpsock_event, local);
	FIELD(mpsock_event, remote);

	/* the bit-fields at byte 6 and 7 have no offsetof: the rest */
	SIZE(tcp_info);
	FIELD(tcp_info, tcpi_state);
	FIELD(tcp_info, tcpi_ca_state);
	FIELD(tcp_info, tcpi_retransmits);
	FIELD(tcp_info, tcpi_probes);
	FIELD(tcp_info, tcpi_backoff);
	FIELD(tcp_info, tcpi_options);
	FIELD(tcp_info, tcpi_rto);
	FIELD(tcp_info, tcpi_ato);
	FIELD(tcp_info, tcpi_snd_mss);
	FIELD(tcp_info, tcpi_rcv_mss);
	FIELD(tcp_info, tcpi_unacked);
	FIELD(tcp_info, tcpi_sacked);
	FIELD(tcp_info, tcpi_lost);
	FIELD(tcp_info, tcpi_retrans);
	FIELD(tcp_info, tcpi_fackets);
	FIELD(tcp_info, tcpi_last_data_sent);
	FIELD(tcp_info, tcpi_last_ack_sent);
	FIELD(tcp_info, tcpi_last_data_recv);
	FIELD(tcp_info, tcpi_last_ack_recv);
	FIELD(tcp_info, tcpi_pmtu);
	FIELD(tcp_info, tcpi_rcv_ssthresh);
	FIELD(tcp_info, tcpi_rtt);
	FIELD(tcp_info, tcpi_rttvar);
	FIELD(tcp_info, tcpi_snd_ssthresh);
	FIELD(tcp_info, tcpi_snd_cwnd);
	FIELD(tcp_info, tcpi_advmss);
	FIELD(tcp_info, tcpi_reordering);
	FIELD(tcp_info, tcpi_rcv_rtt);
	FIELD(tcp_info, tcpi_rcv_space);
	FIELD(tcp_info, tcpi_total_retrans);
	FIELD(tcp_info, tcpi_pacing_rate);
	FIELD(tcp_info, tcpi_max_pacing_rate);
	FIELD(tcp_info, tcpi_bytes_acked);
	FIELD(tcp_info, tcpi_bytes_received);
	FIELD(tcp_info, tcpi_segs_out);
	FIELD(tcp_info, tcpi_segs_in);
	FIELD(tcp_info, tcpi_notsent_bytes);
	FIELD(tcp_info, tcpi_min_rtt);
	FIELD(tcp_info, tcpi_data_segs_in);
	FIELD(tcp_info, tcpi_data_segs_out);
	FIELD(tcp_info, tcpi_delivery_rate);
	FIELD(tcp_info, tcpi_busy_time);
	FIELD(tcp_info, tcpi_rwnd_limited);
	FIELD(tcp_info, tcpi_sndbuf_limited);
	FIELD(tcp_info, tcpi_delivered);
	FIELD(tcp_info, tcpi_delivered_ce);
	FIELD(tcp_info, tcpi_bytes_sent);
	FIELD(tcp_info, tcpi_bytes_retrans);
	FIELD(tcp_info, tcpi_dsack_dups);
	FIELD(tcp_info, tcpi_reord_seen);
	FIELD(tcp_info, tcpi_rcv_ooopack);
	FIELD(tcp_info, tcpi_snd_wnd);

	/* where gcc puts the bit-fields: the bytes of known values */
	{
		struct tcp_info ti = {0};
		const unsigned char *b = (const unsigned char *)&ti;

		ti.tcpi_snd_wscale = 3;
		ti.tcpi_rcv_wscale = 7;
		ti.tcpi_delivery_rate_app_limited = 1;
		ti.tcpi_fastopen_client_fail = 2;
		printf("bits tcp_info %u %u\n", b[6], b[7]);
	}

	CONST(MPSOCK_SUBFLOW_BACKUP_LOCAL);
	CONST(MPSOCK_SUBFLOW_BACKUP_REMOTE);
	CONST(MPSOCK_SUBFLOW_FULLY_ESTABLISHED);
	CONST(MPSOCK_SUBFLOW_JOINED);
	CONST(MPSOCK_SUBFLOW_FLAGS_KNOWN);
	CONST(MPSOCK_OPEN_BACKUP);
	CONST(MPSOCK_OPEN_UNBOUND);
	CONST(MPTCP_SHUT_RST);
	CONST(MPSOCK_EVENT_SUBFLOW_ESTABLISHED);
	CONST(MPSOCK_EVENT_SUBFLOW_CLOSED);
	CONST(MPSOCK_EVENT_SUBFLOW_PRIORITY);
	CONST(MPSOCK_EVENT_ADDR_ANNOUNCED);
	CONST(MPSOCK_EVENT_ADDR_REMOVED);
	CONST(MPSOCK_EVENT_CLOSED);
	CONST(MPSOCK_EVENT_NO_SUBFLOW);
	CONST(MPSOCK_EVENT_LOST);
	CONST(MPSOCK_MODE_DEFAULT);
	CONST(MPSOCK_MODE_MANUAL);
	CONST(MPSOCK_MODE_AGGREGATE);
	CONST(MPSOCK_MODE_HANDOVER);
	CONST(MPSOCK_MODE_INTERACTIVE);
	printf("version %s\n", mpsock_version());
	return 0;
}
