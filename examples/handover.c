// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The draft's section 2 scenario: a client streams to a server over one
 * interface; when another interface gets an address, the client opens a
 * subflow over it, waits until it is established, then closes the old
 * subflow (make-before-break) and keeps streaming.  A timeline shows the
 * subflows and the bytes; at the end the server (mpsock-testsrv --mode
 * checksum) reports what it received, which must match byte for byte.
 *
 * Usage: handover [-s FILE] SERVER PORT SECONDS IFACE REMOTE
 *   IFACE   the interface to move to once it has an IPv4 address
 *   REMOTE  the server's address to reach over it (port: the connection's)
 *   -s FILE also write, every 100 ms, each subflow's bytes_acked to FILE,
 *           and the moments of the handover, on the timeline's clock:
 *             subflow ID LOCAL REMOTE DEVICE   (once per subflow)
 *             sample SECONDS ID BYTES_ACKED
 *             event SECONDS TEXT
 *           (tools/plot-handover.sh draws them)
 * Works unprivileged when mpsockd runs in the network namespace.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <ifaddrs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/tcp.h> /* struct tcp_info with tcpi_bytes_acked */
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <mpsock.h>

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

#define MAX_SUBFLOWS 8
#define SAMPLE_PERIOD 0.1

static double t0;
static FILE *samples; /* -s FILE */

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

/* The name of the interface that has @addr, or "?". */
static void addr_iface(const struct sockaddr_in *addr, char *name, size_t len)
{
	struct ifaddrs *ifa, *i;

	snprintf(name, len, "?");
	if (getifaddrs(&ifa))
		return;
	for (i = ifa; i; i = i->ifa_next) {
		const struct sockaddr_in *a = (const void *)i->ifa_addr;

		if (a && a->sin_family == AF_INET &&
		    a->sin_addr.s_addr == addr->sin_addr.s_addr) {
			snprintf(name, len, "%s", i->ifa_name);
			break;
		}
	}
	freeifaddrs(ifa);
}

/*
 * The subflows whose counters could be read, with the bytes each has had
 * acked; their count (at most MAX_SUBFLOWS).
 */
static int read_subflows(int fd, struct mpsock_subflow *sf,
			 unsigned long long *acked)
{
	int n, i, k = 0;

	n = mpsock_subflow_list(fd, sf, MAX_SUBFLOWS);
	for (i = 0; i < n && i < MAX_SUBFLOWS; i++) {
		struct tcp_info ti = {0};
		socklen_t tl = sizeof(ti);

		if (mpsock_subflow_tcp_info(fd, sf[i].id, &ti, &tl))
			continue;
		sf[k] = sf[i];
		acked[k++] = ti.tcpi_bytes_acked;
	}
	return k;
}

static void timeline(int fd, unsigned long long sent)
{
	struct mpsock_subflow sf[MAX_SUBFLOWS];
	unsigned long long acked[MAX_SUBFLOWS];
	char l[INET_ADDRSTRLEN], r[INET_ADDRSTRLEN];
	int n, i;

	n = read_subflows(fd, sf, acked);
	printf("%6.2fs  %llu bytes sent,", now(), sent);
	for (i = 0; i < n; i++) {
		const struct sockaddr_in *a = (void *)&sf[i].local;
		const struct sockaddr_in *b = (void *)&sf[i].remote;

		inet_ntop(AF_INET, &a->sin_addr, l, sizeof(l));
		inet_ntop(AF_INET, &b->sin_addr, r, sizeof(r));
		printf("  [subflow %u %s -> %s: %llu acked]", sf[i].id, l, r,
		       acked[i]);
	}
	printf("%s\n", n ? "" : "  no subflow");
	fflush(stdout);
}

/* -s: a subflow's addresses and device, the first time it is sampled. */
static void sample_describe(const struct mpsock_subflow *sf)
{
	static __u32 known[64];
	static unsigned int nknown;
	const struct sockaddr_in *a = (const void *)&sf->local;
	const struct sockaddr_in *b = (const void *)&sf->remote;
	char l[INET_ADDRSTRLEN], r[INET_ADDRSTRLEN], dev[IFNAMSIZ];
	unsigned int i;

	for (i = 0; i < nknown; i++)
		if (known[i] == sf->id)
			return;
	if (nknown < sizeof(known) / sizeof(known[0]))
		known[nknown++] = sf->id;
	inet_ntop(AF_INET, &a->sin_addr, l, sizeof(l));
	inet_ntop(AF_INET, &b->sin_addr, r, sizeof(r));
	addr_iface(a, dev, sizeof(dev));
	fprintf(samples, "subflow %u %s %s %s\n", sf->id, l, r, dev);
}

/* -s: every subflow's bytes_acked now, all at one time. */
static void sample(int fd)
{
	struct mpsock_subflow sf[MAX_SUBFLOWS];
	unsigned long long acked[MAX_SUBFLOWS];
	double t = now();
	int n, i;

	n = read_subflows(fd, sf, acked);
	for (i = 0; i < n; i++) {
		sample_describe(&sf[i]);
		fprintf(samples, "sample %.4f %u %llu\n", t, sf[i].id,
			acked[i]);
	}
	fflush(samples);
}

/* -s: a moment of the handover, on the samples' clock. */
static void __attribute__((format(printf, 1, 2))) event(const char *fmt, ...)
{
	va_list ap;

	if (!samples)
		return;
	fprintf(samples, "event %.4f ", now());
	va_start(ap, fmt);
	vfprintf(samples, fmt, ap);
	va_end(ap);
	fputc('\n', samples);
	fflush(samples);
}

/* Make-before-break: the new subflow first, then close the others. */
static int hand_over(int fd, const struct sockaddr_in *local,
		     const char *remote)
{
	struct mpsock_subflow sf[MAX_SUBFLOWS];
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
	event("subflow %u established", id);
	/* the old path's last count and the new one's first, at the switch */
	if (samples)
		sample(fd);
	n = mpsock_subflow_list(fd, sf, MAX_SUBFLOWS);
	for (i = 0; i < n && i < MAX_SUBFLOWS; i++) {
		if (sf[i].id == id)
			continue;
		if (mpsock_subflow_close(fd, sf[i].id, SHUT_RDWR) < 0)
			fprintf(stderr, "handover: close %u: %s (%s)\n",
				sf[i].id, strerror(errno), mpsock_errmsg());
		else {
			printf("%6.2fs  subflow %u closed (FIN): the old path "
			       "is released\n",
			       now(), sf[i].id);
			event("subflow %u closed", sf[i].id);
		}
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: handover [-s FILE] SERVER PORT SECONDS IFACE REMOTE\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct sockaddr_in srv = {.sin_family = AF_INET}, local;
	unsigned long long sent = 0, hash = FNV_OFFSET, peer_hash, peer_count;
	unsigned char buf[8192], reply[16];
	double next_tick = 0, next_sample = 0, secs;
	bool moved = false;
	size_t got = 0, i;
	ssize_t n;
	int fd, opt;

	while ((opt = getopt(argc, argv, "+s:")) != -1) {
		if (opt != 's')
			return usage();
		if (samples)
			fclose(samples);
		samples = fopen(optarg, "w");
		if (!samples) {
			perror(optarg);
			return 1;
		}
	}
	/* the operands as argv[1] to argv[5], with or without -s */
	argc -= optind - 1;
	argv += optind - 1;
	if (argc != 6)
		return usage();
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
		if (samples && now() >= next_sample) {
			sample(fd);
			next_sample += SAMPLE_PERIOD;
		}
		if (!moved && iface_addr(argv[4], &local)) {
			char a[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &local.sin_addr, a, sizeof(a));
			printf("%6.2fs  %s appeared with %s\n", now(), argv[4],
			       a);
			event("%s appears", argv[4]);
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
	if (samples) {
		sample(fd);
		fclose(samples);
	}
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
