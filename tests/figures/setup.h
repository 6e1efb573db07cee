/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Scaffolding around the draft's figures: a program of the draft's era
 * connects with a plain TCP socket (every TCP socket was MPTCP on the
 * reference kernel; with libmpsock-preload.so and MPSOCK_PRELOAD_MPTCP=1
 * it is here) and talks until the path manager has opened its subflows.
 * Only the standard headers: mpsock.h comes from -include.
 */
#ifndef FIGURE_SETUP_H
#define FIGURE_SETUP_H

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

static inline int figure_connect(const char *host, const char *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	char buf[8];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_port = htons(atoi(port));
	inet_pton(AF_INET, host, &a.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    write(fd, "hello", 5) != 5 || read(fd, buf, sizeof(buf)) <= 0) {
		perror("figure: connect");
		exit(1);
	}
	return fd;
}

/* Talk until @min subflows are listed (5 s at most). */
static inline void figure_wait(int fd, int min)
{
	unsigned char b[2 + 255 * 2];
	unsigned int len;
	char buf[8];
	int i;

	for (i = 0; i < 250; i++) {
		len = sizeof(b);
		if (getsockopt(fd, IPPROTO_TCP, MPTCP_GET_SUB_IDS, b, &len) ==
			    0 &&
		    b[0] >= min)
			return;
		if (write(fd, "hello", 5) != 5 ||
		    read(fd, buf, sizeof(buf)) <= 0)
			break;
		usleep(20000);
	}
}

/* Keep the connection until standard input closes (for the witnesses). */
static inline void figure_hold(void)
{
	char c;

	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
}

#endif
