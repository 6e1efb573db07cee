// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A program as they were written for the draft's reference implementation:
 * plain TCP socket, getsockopt() for everything, the uapi's struct names
 * and fields, no prio in the tuple, a close that sets only id.  It opens a
 * subflow, lists and reads it, waits for a line on standard input, closes
 * it, and holds the connection until standard input closes.  FILL is the
 * byte the unset fields hold (what malloc() or the stack left, made
 * deterministic).  mpsock.h comes from -include, with or without
 * MPSOCK_REFIMPL_LAYOUT.
 *
 * Usage: refimpl-open-close HOST PORT LOCAL_IP LOCAL_PORT REMOTE_IP FILL
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

static int talk(int fd)
{
	char buf[8];

	return write(fd, "hello", 5) == 5 && read(fd, buf, sizeof(buf)) > 0;
}

/* GET_SUB_IDS, growing the buffer while the answer is EINVAL */
static struct mptcp_sub_ids *get_sub_ids(int fd)
{
	unsigned int optlen = 42;
	struct mptcp_sub_ids *ids = NULL;

	for (;;) {
		ids = realloc(ids, optlen);
		if (!ids)
			return NULL;
		if (!getsockopt(fd, IPPROTO_TCP, MPTCP_GET_SUB_IDS, ids,
				&optlen))
			return ids;
		if (errno != EINVAL) {
			free(ids);
			return NULL;
		}
	}
}

/* 1 and the subflow's status once fully established (within 5 s), or 0 */
static int wait_established(int fd, int id, struct mptcp_sub_status *out)
{
	struct mptcp_sub_ids *ids;
	int i, tries;

	for (tries = 0; tries < 100; tries++) {
		ids = get_sub_ids(fd);
		for (i = 0; ids && i < ids->sub_count; i++) {
			if (ids->sub_status[i].id != id ||
			    !ids->sub_status[i].fully_established)
				continue;
			*out = ids->sub_status[i];
			free(ids);
			return 1;
		}
		free(ids);
		talk(fd);
		usleep(50000);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in srv = {.sin_family = AF_INET};
	struct mptcp_close_sub_id close_id;
	struct mptcp_sub_tuple *sub_tuple;
	struct mptcp_sub_status status;
	struct sockaddr_in *addr;
	unsigned int optlen;
	int sockfd, fill, id;
	char line[16];

	if (argc != 7) {
		fprintf(stderr, "usage: refimpl-open-close HOST PORT LOCAL_IP "
				"LOCAL_PORT REMOTE_IP FILL\n");
		return 2;
	}
	fill = strtol(argv[6], NULL, 0);
	srv.sin_port = htons(atoi(argv[2]));
	inet_pton(AF_INET, argv[1], &srv.sin_addr);
	sockfd = socket(AF_INET, SOCK_STREAM, 0);
	if (sockfd < 0 ||
	    connect(sockfd, (struct sockaddr *)&srv, sizeof(srv)) < 0 ||
	    !talk(sockfd)) {
		perror("connect");
		return 1;
	}

	/* open: the tuple had no prio */
	optlen =
		sizeof(struct mptcp_sub_tuple) + 2 * sizeof(struct sockaddr_in);
	sub_tuple = malloc(optlen);
	memset(sub_tuple, fill, optlen);
	sub_tuple->id = 0;
	addr = (struct sockaddr_in *)&sub_tuple->addrs[0];
	addr->sin_family = AF_INET;
	addr->sin_port = htons(atoi(argv[4]));
	inet_pton(AF_INET, argv[3], &addr->sin_addr);
	addr++;
	addr->sin_family = AF_INET;
	addr->sin_port = htons(atoi(argv[2]));
	inet_pton(AF_INET, argv[5], &addr->sin_addr);
	printf("open request %u bytes\n", optlen);
	if (getsockopt(sockfd, IPPROTO_TCP, MPTCP_OPEN_SUB_TUPLE, sub_tuple,
		       &optlen)) {
		printf("open: %s\n", strerror(errno));
		return 1;
	}
	id = sub_tuple->id;
	printf("opened id %d\n", id);
	free(sub_tuple);

	/* list and read it */
	if (!wait_established(sockfd, id, &status)) {
		printf("subflow %d not established\n", id);
		return 1;
	}
	printf("status id=%d slave_sk=%d fully_established=%d attached=%d "
	       "low_prio=%d pre_established=%d\n",
	       status.id, status.slave_sk, status.fully_established,
	       status.attached, status.low_prio, status.pre_established);
	optlen = sizeof(struct mptcp_sub_tuple) +
		 2 * sizeof(struct sockaddr_in6);
	sub_tuple = malloc(optlen);
	sub_tuple->id = id;
	if (getsockopt(sockfd, IPPROTO_TCP, MPTCP_GET_SUB_TUPLE, sub_tuple,
		       &optlen)) {
		printf("tuple: %s\n", strerror(errno));
		return 1;
	}
	addr = (struct sockaddr_in *)&sub_tuple->addrs[0];
	printf("tuple id=%d %s:%hu", id, inet_ntoa(addr->sin_addr),
	       ntohs(addr->sin_port));
	addr++;
	printf(" %s:%hu\n", inet_ntoa(addr->sin_addr), ntohs(addr->sin_port));
	free(sub_tuple);
	fflush(stdout);

	/* close, when told: the struct had id alone */
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	memset(&close_id, fill, sizeof(close_id));
	close_id.id = id;
	optlen = sizeof(close_id);
	printf("close request %u bytes\n", optlen);
	if (getsockopt(sockfd, IPPROTO_TCP, MPTCP_CLOSE_SUB_ID, &close_id,
		       &optlen))
		printf("close id %d: %s\n", id, strerror(errno));
	else
		printf("closed id %d\n", id);
	printf("data %s\n", talk(sockfd) ? "flows" : "lost");
	fflush(stdout);

	while (fgets(line, sizeof(line), stdin))
		;
	close(sockfd);
	return 0;
}
