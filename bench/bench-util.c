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

#include <arpa/inet.h>

#include "bench.h"
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

void sleep_us(unsigned int us)
{
	struct timespec ts = {.tv_sec = us / 1000000,
			      .tv_nsec = (long)(us % 1000000) * 1000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Sorts @s in place. */
struct stats stats_of(uint64_t *s, unsigned int n)
{
	struct stats st;

	qsort(s, n, sizeof(*s), cmp_u64);
	st.n = n;
	st.p50 = pct_us(s, n, 50);
	st.p90 = pct_us(s, n, 90);
	st.p99 = pct_us(s, n, 99);
	st.max = s[n - 1] / 1000.0;
	return st;
}

void parse_addr(const char *s, unsigned int port, struct sockaddr_storage *ss,
		socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
	} else {
		fprintf(stderr, "%s: '%s' is not an address\n",
			program_invocation_short_name, s);
		exit(64);
	}
}

/*
 * Talk until the connection is fully established with its one subflow
 * (SUBFLOW_CREATE needs it, kernel-facts Q2); print how long it took.
 * Returns the token; *@first is the initial subflow's id.
 */
__u32 wait_fully_established(int fd, uint64_t t0, __u32 *first)
{
	struct mpsock_subflow sf[16];
	__u32 token;
	int n, err;

	for (;;) {
		echo_once(fd);
		n = mpsock_subflow_list(fd, sf, 16);
		if (n < 0)
			die("mpsock_subflow_list");
		if (n == 1 && (sf[0].flags & MPSOCK_SUBFLOW_FULLY_ESTABLISHED))
			break;
		if (now_ns() - t0 > 10 * 1000000000ull) {
			fprintf(stderr,
				"%s: connection not fully established (%d "
				"subflows) after 10 s\n",
				program_invocation_short_name, n);
			exit(3);
		}
		usleep(10000);
	}
	if (first)
		*first = sf[0].id;
	err = mps_conn_token(fd, &token);
	if (err)
		die_neg("the connection's token (did it fall back to TCP?)",
			err);
	printf("# connection token 0x%08x, fully established %.1f ms after "
	       "connect()\n",
	       token, (now_ns() - t0) / 1e6);
	return token;
}

/* A request mpsockd refuses after all its checks, before any kernel work. */
void broker_null(int fd)
{
	struct mps_reply rep;
	struct mps_req req;
	int err;

	memset(&req, 0, sizeof(req));
	req.type = 0; /* no such request */
	err = mps_broker_call(fd, &req, &rep, 0);
	if (err != -EINVAL || strcmp(rep.msg, "unknown request type")) {
		fprintf(stderr,
			"%s: null request to mpsockd: %s (%s), expected its "
			"EINVAL\n",
			program_invocation_short_name, strerror(-err), rep.msg);
		exit(2);
	}
}
