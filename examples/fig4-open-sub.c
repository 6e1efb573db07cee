// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The draft's Figure 4, completed: connect over MPTCP, then open an
 * additional subflow with MPTCP_OPEN_SUB_TUPLE between chosen endpoints
 * (the figure's empty addresses and fixed ports come from the command
 * line).  Needs the userspace path manager in the namespace, and mpsockd
 * or CAP_NET_ADMIN.
 *
 * Usage: fig4-open-sub [-w] HOST PORT LOCAL_IP LOCAL_PORT REMOTE_IP
 *   -w  keep the connection open until standard input closes
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <mpsock.h>

int main(int argc, char **argv)
{
	struct sockaddr_in srv = {.sin_family = AF_INET};
	int sockfd, hold = 0, tries;
	char echo[8];

	if (argc > 1 && !strcmp(argv[1], "-w")) {
		hold = 1;
		argv++;
		argc--;
	}
	if (argc != 6) {
		fprintf(stderr, "usage: fig4-open-sub [-w] HOST PORT LOCAL_IP "
				"LOCAL_PORT REMOTE_IP\n");
		return 2;
	}
	srv.sin_port = htons(atoi(argv[2]));
	inet_pton(AF_INET, argv[1], &srv.sin_addr);
	sockfd = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
	if (sockfd < 0 ||
	    connect(sockfd, (struct sockaddr *)&srv, sizeof(srv)) < 0) {
		perror("connect");
		return 1;
	}

	/* Figure 4 */
	unsigned int optlen;
	struct mptcp_sub_tuple *sub_tuple;
	struct sockaddr_in *addr;
	int error;

	optlen =
		sizeof(struct mptcp_sub_tuple) + 2 * sizeof(struct sockaddr_in);
	sub_tuple = malloc(optlen);

	sub_tuple->id = 0;
	sub_tuple->prio = 0;

	addr = (struct sockaddr_in *)&sub_tuple->addrs[0];

	addr->sin_family = AF_INET;
	addr->sin_port = htons(atoi(argv[4]));
	inet_pton(AF_INET, argv[3], &addr->sin_addr);

	addr++;

	addr->sin_family = AF_INET;
	addr->sin_port = htons(atoi(argv[2]));
	inet_pton(AF_INET, argv[5], &addr->sin_addr);

	/* a subflow joins a fully established connection: talk first */
	error = -1;
	for (tries = 0; tries < 50; tries++) {
		if (write(sockfd, "hello", 5) != 5 ||
		    read(sockfd, echo, sizeof(echo)) <= 0)
			break;
		error = mpsock_getsockopt(sockfd, IPPROTO_TCP,
					  MPTCP_OPEN_SUB_TUPLE, sub_tuple,
					  &optlen);
		if (!error || errno != ENOTCONN)
			break;
		usleep(20000);
	}
	/* end of Figure 4 */

	if (error) {
		fprintf(stderr, "MPTCP_OPEN_SUB_TUPLE: %s (%s)\n",
			strerror(errno), mpsock_errmsg());
		return 1;
	}
	printf("new subflow id : %u\n", sub_tuple->id);
	fflush(stdout);
	free(sub_tuple);
	if (hold) {
		char c;

		while (read(0, &c, 1) > 0)
			;
	}
	close(sockfd);
	return 0;
}
