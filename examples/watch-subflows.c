// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Streams data over one MPTCP connection and prints a timeline of its
 * subflows as the path manager adds, re-prioritises and removes them (native
 * listing plus the draft ids), then checks with the server (mpsock-testsrv
 * --mode checksum) that every byte arrived intact.
 *
 * Usage: watch-subflows HOST PORT SECONDS
 */
#include <arpa/inet.h>
#include <endian.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* tcp_info with tcpi_bytes_acked */
#include <sys/socket.h>

#include <mpsock.h>

#define MAXSF 16

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void addr_str(const struct sockaddr_storage *ss, char *out, size_t n)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s->sin_addr, host, sizeof(host));
		snprintf(out, n, "%s:%u", host, ntohs(s->sin_port));
	} else {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof(host));
		snprintf(out, n, "[%s]:%u", host, ntohs(s->sin6_port));
	}
}

/* One timeline entry: every live subflow with its flags and bytes sent. */
static void print_subflows(int fd, double t, unsigned long long sent)
{
	struct mpsock_subflow sf[MAXSF];
	char l[64], r[64];
	int n, i;

	n = mpsock_subflow_list(fd, sf, MAXSF);
	if (n < 0) {
		perror("mpsock_subflow_list");
		return;
	}
	printf("%6.2fs  %d subflow%s, %llu bytes sent\n", t, n,
	       n == 1 ? "" : "s", sent);
	for (i = 0; i < n && i < MAXSF; i++) {
		struct tcp_info ti;
		socklen_t tl = sizeof(ti);

		memset(&ti, 0, sizeof(ti));
		mpsock_subflow_tcp_info(fd, sf[i].id, &ti, &tl);
		addr_str(&sf[i].local, l, sizeof(l));
		addr_str(&sf[i].remote, r, sizeof(r));
		printf("         id %u  %s -> %s  %s%s  %llu bytes acked\n",
		       sf[i].id, l, r,
		       sf[i].flags & MPSOCK_SUBFLOW_JOINED ? "join" : "initial",
		       sf[i].flags & MPSOCK_SUBFLOW_BACKUP_LOCAL ? " backup"
								 : "",
		       (unsigned long long)ti.tcpi_bytes_acked);
	}
	fflush(stdout);
}

/* A cheap fingerprint of the subflow set, to print only changes. */
static unsigned long long fingerprint(int fd)
{
	struct mpsock_subflow sf[MAXSF];
	unsigned long long h = 0xcbf29ce484222325ULL;
	int n, i;

	n = mpsock_subflow_list(fd, sf, MAXSF);
	for (i = 0; i < n && i < MAXSF; i++)
		h = (h ^ (sf[i].id * 131u + sf[i].flags)) * 0x100000001b3ULL;
	return h ^ (unsigned long long)n;
}

static int connect_mptcp(const char *host, const char *port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	int fd;

	if (getaddrinfo(host, port, &hints, &ai))
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM, IPPROTO_MPTCP);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

int main(int argc, char **argv)
{
	unsigned long long sent = 0, hash = 0xcbf29ce484222325ULL, last = 0;
	unsigned char buf[16384], reply[16];
	unsigned long long peer_hash, peer_count;
	double t0, t;
	size_t i, got = 0;
	ssize_t w;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: watch-subflows HOST PORT SECONDS\n");
		return 2;
	}
	fd = connect_mptcp(argv[1], argv[2]);
	if (fd < 0) {
		perror("connect");
		return 1;
	}
	t0 = now_s();
	srand(42);
	while ((t = now_s() - t0) < atof(argv[3])) {
		unsigned long long fp = fingerprint(fd);

		if (fp != last) {
			print_subflows(fd, t, sent);
			last = fp;
		}
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = rand();
		w = write(fd, buf, sizeof(buf));
		if (w < 0) {
			perror("write");
			return 1;
		}
		for (i = 0; i < (size_t)w; i++)
			hash = (hash ^ buf[i]) * 0x100000001b3ULL;
		sent += w;
		usleep(5000); /* about 3 MB/s: a stream, not a flood */
	}
	print_subflows(fd, now_s() - t0, sent);
	shutdown(fd, SHUT_WR);
	while (got < sizeof(reply)) {
		w = read(fd, reply + got, sizeof(reply) - got);
		if (w <= 0) {
			perror("read checksum");
			return 1;
		}
		got += w;
	}
	memcpy(&peer_hash, reply, 8);
	memcpy(&peer_count, reply + 8, 8);
	peer_hash = be64toh(peer_hash);
	peer_count = be64toh(peer_count);
	printf("server received %llu of %llu bytes, checksum %016llx %s\n",
	       peer_count, sent, peer_hash,
	       peer_hash == hash && peer_count == sent ? "matches" : "DIFFERS");
	close(fd);
	return peer_hash == hash && peer_count == sent ? 0 : 1;
}
