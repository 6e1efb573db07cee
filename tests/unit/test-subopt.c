// SPDX-License-Identifier: LGPL-2.1-or-later
/* Which options one subflow takes, their sizes, and the section 5 rules. */
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <linux/capability.h>

#include "op/op.h"
#include "test.h"

static unsigned long long caps;

static bool fake_capable(void *ctx, int cap)
{
	(void)ctx;
	return caps & (1ULL << cap);
}

static int allowed(int level, int optname, const void *val, socklen_t len)
{
	char msg[128];

	return mps_subopt_allowed(level, optname, val, len, fake_capable, NULL,
				  msg, sizeof(msg));
}

/* An algorithm the kernel has but unprivileged processes may not pick. */
static bool ca_not_allowed(char *out, size_t len)
{
	char avail[256] = "", allowed_list[256] = "", *w, *save;
	FILE *f;

	f = fopen("/proc/sys/net/ipv4/tcp_available_congestion_control", "r");
	if (!f || !fgets(avail, sizeof(avail), f))
		return false;
	fclose(f);
	f = fopen("/proc/sys/net/ipv4/tcp_allowed_congestion_control", "r");
	if (!f || !fgets(allowed_list, sizeof(allowed_list), f))
		return false;
	fclose(f);
	for (w = strtok_r(avail, " \n", &save); w;
	     w = strtok_r(NULL, " \n", &save)) {
		char pat[40];

		snprintf(pat, sizeof(pat), " %s ", w);
		char padded[260];
		snprintf(padded, sizeof(padded), " %s", allowed_list);
		padded[strcspn(padded, "\n")] = ' ';
		if (!strstr(padded, pat)) {
			snprintf(out, len, "%s", w);
			return true;
		}
	}
	return false;
}

int main(void)
{
	int v = 0;

	CHECK("IP_TOS is a per-subflow option",
	      mps_subopt_check(IPPROTO_IP, IP_TOS, true, 4) == 0);
	CHECK("IP_TTL is not (ENOPROTOOPT)",
	      mps_subopt_check(IPPROTO_IP, IP_TTL, true, 4) == -ENOPROTOOPT);
	CHECK("TCP_INFO is not set per subflow",
	      mps_subopt_check(IPPROTO_TCP, TCP_INFO, true, 4) == -ENOPROTOOPT);
	CHECK("an int option set with 2 bytes: EINVAL",
	      mps_subopt_check(SOL_SOCKET, SO_MARK, true, 2) == -EINVAL);
	CHECK("an int option read into 8 bytes is fine",
	      mps_subopt_check(SOL_SOCKET, SO_MARK, false, 8) == 0);
	CHECK("TCP_CONGESTION of 17 bytes: EINVAL",
	      mps_subopt_check(IPPROTO_TCP, TCP_CONGESTION, true, 17) ==
		      -EINVAL);
	CHECK("SO_MAX_PACING_RATE of 8 bytes",
	      mps_subopt_check(SOL_SOCKET, SO_MAX_PACING_RATE, true, 8) == 0);
	CHECK("SO_MAX_PACING_RATE of 3 bytes: EINVAL",
	      mps_subopt_check(SOL_SOCKET, SO_MAX_PACING_RATE, true, 3) ==
		      -EINVAL);

	caps = 0;
	v = 7;
	CHECK("unprivileged SO_MARK: EPERM",
	      allowed(SOL_SOCKET, SO_MARK, &v, 4) == -EPERM);
	CHECK("unprivileged SO_PRIORITY 7: EPERM",
	      allowed(SOL_SOCKET, SO_PRIORITY, &v, 4) == -EPERM);
	v = 6;
	CHECK("unprivileged SO_PRIORITY 6: allowed",
	      allowed(SOL_SOCKET, SO_PRIORITY, &v, 4) == 0);
	v = 0xb8;
	CHECK("unprivileged IP_TOS: allowed",
	      allowed(IPPROTO_IP, IP_TOS, &v, 4) == 0);
	v = 0x7fffffff;
	CHECK("unprivileged SO_SNDBUF above wmem_max: EPERM",
	      allowed(SOL_SOCKET, SO_SNDBUF, &v, 4) == -EPERM);
	CHECK("unprivileged SO_RCVBUF above rmem_max: EPERM",
	      allowed(SOL_SOCKET, SO_RCVBUF, &v, 4) == -EPERM);
	v = 4096;
	CHECK("unprivileged SO_SNDBUF 4096: allowed",
	      allowed(SOL_SOCKET, SO_SNDBUF, &v, 4) == 0);
	CHECK("unknown congestion control: ENOENT, as on a TCP socket",
	      allowed(IPPROTO_TCP, TCP_CONGESTION, "nosuchcc", 8) == -ENOENT);
	{
		char name[32];

		if (ca_not_allowed(name, sizeof(name)))
			CHECK("a known congestion control outside the allowed "
			      "list: EPERM",
			      allowed(IPPROTO_TCP, TCP_CONGESTION, name,
				      strlen(name)) == -EPERM);
		else
			printf("# every available congestion control is "
			       "allowed here: no EPERM case\n");
	}
	caps = 1ULL << CAP_NET_RAW;
	v = 7;
	CHECK("CAP_NET_RAW: SO_PRIORITY 7 allowed",
	      allowed(SOL_SOCKET, SO_PRIORITY, &v, 4) == 0);
	CHECK("CAP_NET_RAW: SO_MARK still EPERM",
	      allowed(SOL_SOCKET, SO_MARK, &v, 4) == -EPERM);
	caps = 1ULL << CAP_NET_ADMIN;
	CHECK("CAP_NET_ADMIN: SO_MARK allowed",
	      allowed(SOL_SOCKET, SO_MARK, &v, 4) == 0);
	return test_done();
}
