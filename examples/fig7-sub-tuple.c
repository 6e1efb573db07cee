// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The draft's Figure 7, completed: print the addresses and ports of every
 * subflow with MPTCP_GET_SUB_TUPLE (IPv4 as in the figure, IPv6 added).
 *
 * Usage: fig7-sub-tuple [-w] HOST PORT [MIN_SUBFLOWS]   (as fig2-sub-ids)
 */
#include <arpa/inet.h>
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

/* Talk until the path manager has opened @min subflows (5 s at most). */
static struct mptcp_sub_ids *wait_for_subflows(int sockfd, int min)
{
	socklen_t len = 2 + 255 * sizeof(struct mptcp_sub_status);
	struct mptcp_sub_ids *ids = malloc(len);
	char echo[8];
	int tries;

	for (tries = 0; ids && tries < 250; tries++) {
		if (write(sockfd, "hello\n", 6) != 6 ||
		    read(sockfd, echo, sizeof(echo)) <= 0)
			break;
		len = 2 + 255 * sizeof(struct mptcp_sub_status);
		if (mpsock_getsockopt(sockfd, IPPROTO_TCP, MPTCP_GET_SUB_IDS,
				      ids, &len) < 0)
			break;
		if (ids->sub_count >= min)
			return ids;
		usleep(20000);
	}
	free(ids);
	return NULL;
}

static void print_v6(const char *what, const unsigned char *p)
{
	struct sockaddr_in6 sin6;
	char host[INET6_ADDRSTRLEN];

	memcpy(&sin6, p, sizeof(sin6));
	printf("\tip %s : %s %s port : %hu\n", what,
	       inet_ntop(AF_INET6, &sin6.sin6_addr, host, sizeof(host)), what,
	       ntohs(sin6.sin6_port));
}

int main(int argc, char **argv)
{
	struct mptcp_sub_ids *ids;
	int sockfd, hold = 0, min = 1, k;

	if (argc > 1 && !strcmp(argv[1], "-w")) {
		hold = 1;
		argv++;
		argc--;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: fig7-sub-tuple [-w] HOST PORT [MIN]\n");
		return 2;
	}
	if (argc > 3)
		min = atoi(argv[3]);
	sockfd = connect_mptcp(argv[1], argv[2]);
	ids = sockfd < 0 ? NULL : wait_for_subflows(sockfd, min);
	if (!ids) {
		perror("fig7-sub-tuple");
		return 1;
	}

	for (k = 0; k < ids->sub_count; k++) {
		int sub_id = ids->sub_status[k].id;
		struct sockaddr_in *sin;

		printf("Subflow id : %i\n", sub_id);

		/* Figure 7 */
		unsigned int optlen;
		struct mptcp_sub_tuple *sub_tuple;

		optlen = 100;

		sub_tuple = malloc(optlen);

		sub_tuple->id = sub_id;
		if (mpsock_getsockopt(sockfd, IPPROTO_TCP, MPTCP_GET_SUB_TUPLE,
				      sub_tuple, &optlen) < 0) {
			perror("MPTCP_GET_SUB_TUPLE");
			return 1;
		}

		sin = (struct sockaddr_in *)&sub_tuple->addrs[0];
		if (sin->sin_family == AF_INET6) {
			/* the figure stops at IPv4 */
			print_v6("src", &sub_tuple->addrs[0]);
			print_v6("dst", &sub_tuple->addrs[optlen / 2 - 1]);
			free(sub_tuple);
			continue;
		}

		printf("\tip src : %s src port : %hu\n",
		       inet_ntoa(sin->sin_addr), ntohs(sin->sin_port));

		sin = (struct sockaddr_in *)&sub_tuple
			      ->addrs[sizeof(struct sockaddr_in)];

		printf("\tip dst : %s dst port : %hu\n",
		       inet_ntoa(sin->sin_addr), ntohs(sin->sin_port));
		/* end of Figure 7 */

		free(sub_tuple);
	}
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
