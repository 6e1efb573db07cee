// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The draft's Figure 2, completed: connect over MPTCP, then list the
 * subflow ids with MPTCP_GET_SUB_IDS.
 *
 * Usage: fig2-sub-ids [-w] HOST PORT [MIN_SUBFLOWS]
 *   MIN_SUBFLOWS  wait (up to 5 s) until the path manager has opened that
 *                 many subflows before listing them
 *   -w            keep the connection open until standard input closes
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <mpsock.h>

static int connect_mptcp(const char *host, const char *port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai, *p;
	int fd = -1, err;

	err = getaddrinfo(host, port, &hints, &ai);
	if (err) {
		fprintf(stderr, "%s: %s\n", host, gai_strerror(err));
		return -1;
	}
	for (p = ai; p; p = p->ai_next) {
		fd = socket(p->ai_family, SOCK_STREAM, IPPROTO_MPTCP);
		if (fd >= 0 && connect(fd, p->ai_addr, p->ai_addrlen) == 0)
			break;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0)
		perror("connect");
	return fd;
}

/* Subflows join once the connection is fully established: talk first. */
static int wait_for_subflows(int sockfd, int min)
{
	unsigned char buf[2 + 255 * sizeof(struct mptcp_sub_status)];
	struct mptcp_sub_ids *ids = (struct mptcp_sub_ids *)buf;
	socklen_t len;
	char echo[8];
	int tries;

	for (tries = 0; tries < 250; tries++) {
		if (write(sockfd, "hello\n", 6) != 6 ||
		    read(sockfd, echo, sizeof(echo)) <= 0)
			return -1;
		len = sizeof(buf);
		if (mpsock_getsockopt(sockfd, IPPROTO_TCP, MPTCP_GET_SUB_IDS,
				      ids, &len) < 0)
			return -1;
		if (ids->sub_count >= min)
			return 0;
		usleep(20000);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int sockfd, hold = 0, min = 1;

	if (argc > 1 && !strcmp(argv[1], "-w")) {
		hold = 1;
		argv++;
		argc--;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: fig2-sub-ids [-w] HOST PORT [MIN]\n");
		return 2;
	}
	if (argc > 3)
		min = atoi(argv[3]);
	sockfd = connect_mptcp(argv[1], argv[2]);
	if (sockfd < 0 || wait_for_subflows(sockfd, min) < 0) {
		perror("fig2-sub-ids");
		return 1;
	}

	/* Figure 2 */
	int i;
	unsigned int optlen;
	struct mptcp_sub_ids *ids;

	optlen = 42;
	ids = malloc(optlen);

	if (mpsock_getsockopt(sockfd, IPPROTO_TCP, MPTCP_GET_SUB_IDS, ids,
			      &optlen) < 0) {
		perror("MPTCP_GET_SUB_IDS");
		return 1;
	}

	for (i = 0; i < ids->sub_count; i++) {
		printf("Subflow id : %i\n", ids->sub_status[i].id);
	}
	/* end of Figure 2 */

	fflush(stdout);
	free(ids);
	if (hold) {
		char c;

		while (read(0, &c, 1) > 0)
			;
	}
	close(sockfd);
	return 0;
}
