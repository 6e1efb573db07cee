// SPDX-License-Identifier: LGPL-2.1-or-later
/* The draft's Figure 7 as written, for each id (IPv4, as the figure). */
#include "setup.h"

int main(int argc, char **argv)
{
	int sockfd = figure_connect(argv[1], argv[2]);
	int sub_id;

	figure_wait(sockfd, argc > 3 ? atoi(argv[3]) : 1);
	for (sub_id = 1; sub_id <= 8; sub_id++) {
		struct sockaddr_in *sin;
		unsigned int optlen;
		struct mptcp_sub_tuple *sub_tuple;

		optlen = 100;

		sub_tuple = malloc(optlen);

		sub_tuple->id = sub_id;
		if (getsockopt(sockfd, IPPROTO_TCP, MPTCP_GET_SUB_TUPLE,
			       sub_tuple, &optlen))
			continue; /* no subflow with that id */

		sin = (struct sockaddr_in *)&sub_tuple->addrs[0];

		printf("\tip src : %s src port : %hu\n",
		       inet_ntoa(sin->sin_addr), ntohs(sin->sin_port));

		sin = (struct sockaddr_in *)&sub_tuple
			      ->addrs[sizeof(struct sockaddr_in)];

		printf("\tip dst : %s dst port : %hu\n",
		       inet_ntoa(sin->sin_addr), ntohs(sin->sin_port));
	}
	figure_hold();
	return 0;
}
