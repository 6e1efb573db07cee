// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The draft's Figure 4 as written; the addresses the figure leaves empty
 * come from the command line.  Usage: fig4 HOST PORT LOCAL_IP REMOTE_IP
 */
#include "setup.h"

int main(int argc, char **argv)
{
	int sockfd = figure_connect(argv[1], argv[2]);

	(void)argc;
	{
		unsigned int optlen;
		struct mptcp_sub_tuple *sub_tuple;
		struct sockaddr_in *addr;
		int error;

		optlen = sizeof(struct mptcp_sub_tuple) +
			 2 * sizeof(struct sockaddr_in);
		sub_tuple = malloc(optlen);

		sub_tuple->id = 0;
		sub_tuple->prio = 0;

		addr = (struct sockaddr_in *)&sub_tuple->addrs[0];

		addr->sin_family = AF_INET;
		addr->sin_port = htons(12345);
		inet_pton(AF_INET, argv[3], &addr->sin_addr);

		addr++;

		addr->sin_family = AF_INET;
		addr->sin_port = htons(atoi(argv[2]));
		inet_pton(AF_INET, argv[4], &addr->sin_addr);

		error = getsockopt(sockfd, IPPROTO_TCP, MPTCP_OPEN_SUB_TUPLE,
				   sub_tuple, &optlen);
		if (error)
			perror("MPTCP_OPEN_SUB_TUPLE");
		else
			printf("new subflow id : %u\n", sub_tuple->id);
	}
	figure_hold();
	return 0;
}
