// SPDX-License-Identifier: LGPL-2.1-or-later
/* Helpers both benchmarks share: errors, clocks, percentiles, the connection.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "bench-util.h"

void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what,
		strerror(errno));
	exit(2);
}

void die_neg(const char *what, int neg_errno)
{
	errno = -neg_errno;
	die(what);
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

double pct_us(const uint64_t *sorted, unsigned int n, unsigned int pct)
{
	unsigned int i = (unsigned int)(((uint64_t)n * pct) / 100);

	if (i >= n)
		i = n - 1;
	return sorted[i] / 1000.0;
}

unsigned int parse_uint(const char *s, unsigned int max, void (*usage)(void))
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max)
		usage();
	return (unsigned int)v;
}

int connect_mptcp(const char *host, const char *port)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, err;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	err = getaddrinfo(host, port, &hints, &res);
	if (err) {
		fprintf(stderr, "%s: %s:%s: %s\n",
			program_invocation_short_name, host, port,
			gai_strerror(err));
		exit(64);
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC,
			    IPPROTO_MPTCP);
		if (fd < 0)
			die("socket(IPPROTO_MPTCP)");
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		die("connect");
	return fd;
}

/* Send a few bytes through the echo server and read them all back. */
void echo_once(int fd)
{
	char out[64], in[64];
	size_t got = 0;
	ssize_t r;

	memset(out, 'x', sizeof(out));
	if (write(fd, out, sizeof(out)) != (ssize_t)sizeof(out))
		die("write");
	while (got < sizeof(in)) {
		r = read(fd, in + got, sizeof(in) - got);
		if (r <= 0) {
			if (r == 0)
				errno = ECONNRESET;
			die("read (echo)");
		}
		got += r;
	}
}

/* Allow @need descriptors (raising the hard limit needs root). */
void raise_nofile(unsigned long need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit");
	if (rl.rlim_cur >= need)
		return;
	rl.rlim_cur = need;
	if (rl.rlim_max < need)
		rl.rlim_max = need; /* root only */
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("setrlimit(RLIMIT_NOFILE) (run as root)");
}
