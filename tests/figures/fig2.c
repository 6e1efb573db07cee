// SPDX-License-Identifier: LGPL-2.1-or-later
/* The draft's Figure 2 as written.  Usage: fig2 HOST PORT MIN_SUBFLOWS */
#include "setup.h"

int main(int argc, char **argv)
{
	int sockfd = figure_connect(argv[1], argv[2]);

	figure_wait(sockfd, argc > 3 ? atoi(argv[3]) : 1);
	{
		int i;
		unsigned int optlen;
		struct mptcp_sub_ids *ids;

		optlen = 42;
		ids = malloc(optlen);

		getsockopt(sockfd, IPPROTO_TCP, MPTCP_GET_SUB_IDS, ids,
			   &optlen);

		for (i = 0; i < ids->sub_count; i++) {
			printf("Subflow id : %i\n", ids->sub_status[i].id);
		}
	}
	figure_hold();
	return 0;
}
