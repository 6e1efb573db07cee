// SPDX-License-Identifier: LGPL-2.1-or-later
/* The draft's Figure 9 as written.  Usage: fig9 HOST PORT SUB_ID MIN */
#include "setup.h"

int main(int argc, char **argv)
{
	int sockfd = figure_connect(argv[1], argv[2]);
	int sub_id = atoi(argv[3]);

	figure_wait(sockfd, argc > 4 ? atoi(argv[4]) : 1);
	{
		unsigned int optlen, sub_optlen;
		struct mptcp_sub_setsockopt sub_sso;
		int val = 12;

		optlen = sizeof(struct mptcp_sub_setsockopt);
		sub_optlen = sizeof(int);
		sub_sso.id = sub_id;
		sub_sso.level = IPPROTO_IP;
		sub_sso.optname = IP_TOS;
		sub_sso.optlen = sub_optlen;
		sub_sso.optval = (char *)&val;

		if (setsockopt(sockfd, IPPROTO_TCP, MPTCP_SUB_SETSOCKOPT,
			       &sub_sso, optlen))
			perror("MPTCP_SUB_SETSOCKOPT");
		else
			printf("IP_TOS set on subflow %d\n", sub_id);
	}
	figure_hold();
	return 0;
}
