// SPDX-License-Identifier: LGPL-2.1-or-later
/* Prints the protocol of socket(AF_INET, SOCK_STREAM, 0): 262 is MPTCP. */
#include <stdio.h>
#include <netinet/in.h>
#include <sys/socket.h>

int main(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), proto = -1;
	socklen_t len = sizeof(proto);

	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len)) {
		perror("sockproto");
		return 1;
	}
	printf("protocol=%d\n", proto);
	return 0;
}
