// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The draft's section 2 scenario: a client streams to a server over one
 * interface; when another interface gets an address, the client opens a
 * subflow over it, waits until it is established, then closes the old
 * subflow (make-before-break) and keeps streaming.  A timeline shows the
 * subflows and the bytes; at the end the server (mpsock-testsrv --mode
 * checksum) reports what it received, which must match byte for byte.
 *
 * Usage: handover SERVER PORT SECONDS IFACE REMOTE
 *   IFACE   the interface to move to once it has an IPv4 address
 *   REMOTE  the server's address to reach over it (port: the connection's)
 * Works unprivileged when mpsockd runs in the network namespace.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/tcp.h> /* struct tcp_info with tcpi_bytes_acked */
#include <netinet/in.h>
#include <sys/socket.h>

#include <mpsock.h>

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static double t0;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9 - t0;
}

/* The IPv4 address of @iface, if it has one now. */
static bool iface_addr(const char *iface, struct sockaddr_in *out)
{
	struct ifaddrs *ifa, *i;
	bool found = false;

	if (getifaddrs(&ifa))
		return false;
	for (i = ifa; i && !found; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
		    strcmp(i->ifa_name, iface))
			continue;
		memcpy(out, i->ifa_addr, sizeof(*out));
		found = true;
	}
	freeifaddrs(ifa);
	return found;
}

static void timeline(int fd, unsigned long long sent)
{
	struct mpsock_subflow sf[8];
	char l[INET_ADDRSTRLEN], r[INET_ADDRSTRLEN];
	int n, i;

	n = mpsock_subflow_list(fd, sf, 8);
	printf("%6.2fs  %llu bytes sent,", now(), sent);
	for (i = 0; i < n && i < 8; i++) {
		const struct sockaddr_in *a = (void *)&sf[i].local;
		const struct sockaddr_in *b = (void *)&sf[i].remote;
		struct tcp_info ti = {0};
		socklen_t tl = sizeof(ti);

		mpsock_subflow_tcp_info(fd, sf[i].id, &ti, &tl);
		inet_ntop(AF_INET, &a->sin_addr, l, sizeof(l));
		inet_ntop(AF_INET, &b->sin_addr, r, sizeof(r));
		printf("  [subflow %u %s -> %s: %llu acked]", sf[i].id, l, r,
		       (unsigned long long)ti.tcpi_bytes_acked);
	}
	printf("%s\n", n ? "" : "  no subflow");
	fflush(stdout);
}

/* Make-before-break: the new subflow first, then close the others. */
static int hand_over(int fd, const struct sockaddr_in *local,
		     const char *remote)
{
	struct mpsock_subflow sf[8];
	struct sockaddr_in r = {.sin_family = AF_INET};
	double start;
	__u32 id;
	int n, i, tries;

	inet_pton(AF_INET, remote, &r.sin_addr); /* port 0: the same one */
	start = now();
	for (tries = 0;; tries++) {
		if (mpsock_subflow_open_wait(fd, (const void *)local,
					     (const void *)&r, sizeof(r), 0,
					     3000, &id) == 0)
			break;
		/* not fully established yet: the peer has not acked data */
		if (errno != ENOTCONN || tries == 50) {
			fprintf(stderr, "handover: open: %s (%s)\n",
				strerror(errno), mpsock_errmsg());
			return -1;
		}
		usleep(20000);
	}
	printf("%6.2fs  subflow %u established over the new path in %.1f ms\n",
	       now(), id, (now() - start) * 1000);
	n = mpsock_subflow_list(fd, sf, 8);
	for (i = 0; i < n && i < 8; i++) {
		if (sf[i].id == id)
			continue;
		if (mpsock_subflow_close(fd, sf[i].id, SHUT_RDWR) < 0)
			fprintf(stderr, "handover: close %u: %s (%s)\n",
				sf[i].id, strerror(errno), mpsock_errmsg());
		else
			printf("%6.2fs  subflow %u closed (FIN): the old path "
			       "is released\n",
			       now(), sf[i].id);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in srv = {.sin_family = AF_INET}, local;
	unsigned long long sent = 0, hash = FNV_OFFSET, peer_hash, peer_count;
	unsigned char buf[8192], reply[16];
	double next_tick = 0, secs;
	bool moved = false;
	size_t got = 0, i;
	ssize_t n;
	int fd;

	if (argc != 6) {
		fprintf(stderr,
			"usage: handover SERVER PORT SECONDS IFACE REMOTE\n");
		return 2;
	}
	secs = atof(argv[3]);
	srv.sin_port = htons(atoi(argv[2]));
	inet_pton(AF_INET, argv[1], &srv.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
	if (fd < 0 || connect(fd, (struct sockaddr *)&srv, sizeof(srv)) < 0) {
		perror("handover: connect");
		return 1;
	}
	t0 = 0;
	t0 = now();
	srand(7);
	while (now() < secs) {
		if (now() >= next_tick) {
			timeline(fd, sent);
			next_tick += 0.5;
		}
		if (!moved && iface_addr(argv[4], &local)) {
			char a[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &local.sin_addr, a, sizeof(a));
			printf("%6.2fs  %s appeared with %s\n", now(), argv[4],
			       a);
			if (hand_over(fd, &local, argv[5]))
				return 1;
			moved = true;
			timeline(fd, sent);
		}
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = rand();
		n = write(fd, buf, sizeof(buf));
		if (n < 0) {
			perror("handover: write");
			return 1;
		}
		for (i = 0; i < (size_t)n; i++)
			hash = (hash ^ buf[i]) * FNV_PRIME;
		sent += n;
		usleep(2000);
	}
	timeline(fd, sent);
	shutdown(fd, SHUT_WR);
	while (got < sizeof(reply)) {
		n = read(fd, reply + got, sizeof(reply) - got);
		if (n <= 0) {
			perror("handover: read checksum");
			return 1;
		}
		got += n;
	}
	memcpy(&peer_hash, reply, 8);
	memcpy(&peer_count, reply + 8, 8);
	peer_hash = be64toh(peer_hash);
	peer_count = be64toh(peer_count);
	printf("server received %llu of %llu bytes; checksum %s\n", peer_count,
	       sent,
	       peer_hash == hash && peer_count == sent ? "matches: every byte "
							 "arrived intact"
						       : "DIFFERS");
	close(fd);
	return peer_hash == hash && peer_count == sent && moved ? 0 : 1;
}
