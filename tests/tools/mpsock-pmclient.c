// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Test client for mpsockd's path manager: opens CONNS MPTCP connections to
 * HOST:PORT (an mpsock-testsrv in checksum mode), optionally choosing a
 * service mode with mpsock_set_mode() before connect(), streams a
 * pseudo-random byte stream on each, and at the end checks that the server
 * received every byte: the server's FNV-1a 64 hash and byte count of what
 * it read must equal those of what was sent.
 *
 * Usage: mpsock-pmclient [-n CONNS] [-m MODE] [-r BYTES_PER_SECOND] HOST PORT
 *   -m MODE  manual|default|aggregate|handover|interactive, set on each
 *            socket before connect()
 *   -r RATE  bytes per second and connection after the first 1000 bytes
 *            (sent at once, so that the connection is fully established);
 *            default 0: nothing more until "send"
 *
 * Output: "mode ok" or "mode err ERRNO_NAME message" (with -m, the first
 * socket's answer), then "conn I sport=PORT" for each connection, then
 * "ready N".
 * Commands on standard input, one a line:
 *   mode I MODE   mpsock_set_mode() on connection I (from 0): "ok" or
 *                 "err ERRNO_NAME message"
 *   send BYTES    send BYTES more on every connection: "ok"
 *   stats         "sent total=T min=M" (bytes accepted by the kernel)
 *   stop          (also at end of input) stop sending, half-close each
 *                 connection and read the server's answer: one line per
 *                 connection, "conn I ok bytes=B" or "conn I BAD ...",
 *                 then "verified K/N total=T min=M"; exit 0 if K == N
 * A connection that fails on the way prints "conn I error ERRNO_NAME"
 * when that is seen, and counts as not verified.
 * Exit status: 0 all verified, 1 not, 2 setup failed, 64 misuse.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "mpsock.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

#define FNV64_OFFSET 0xcbf29ce484222325ULL
#define FNV64_PRIME 0x100000001b3ULL
#define TICK_MS 10
#define CHUNK 65536
#define FIRST_BYTES 1000

struct conn {
	int fd;
	bool dead;
	uint64_t seed;
	uint64_t sent; /* bytes the kernel took */
	uint64_t hash; /* FNV-1a 64 of those */
	uint64_t budget; /* bytes due and not yet sent */
};

static struct conn *conns;
static unsigned int nconns;
static uint8_t buf[CHUNK];

static const char *errname(int e)
{
	static const struct {
		int e;
		const char *n;
	} t[] = {
		{EINVAL, "EINVAL"},
		{EOPNOTSUPP, "EOPNOTSUPP"},
		{EPERM, "EPERM"},
		{EACCES, "EACCES"},
		{ESRCH, "ESRCH"},
		{ENOTCONN, "ENOTCONN"},
		{ECONNREFUSED, "ECONNREFUSED"},
		{ETIMEDOUT, "ETIMEDOUT"},
		{ECONNRESET, "ECONNRESET"},
		{EPIPE, "EPIPE"},
		{EBADF, "EBADF"},
		{EIO, "EIO"},
	};
	unsigned int i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].e == e)
			return t[i].n;
	return strerror(e);
}

static int parse_mode(const char *s)
{
	static const char *const names[] = {"default", "manual", "aggregate",
					    "handover", "interactive"};
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i]))
			return (int)i; /* enum mpsock_mode's order */
	return -1;
}

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* The stream of connection @c at byte offset @pos, @len bytes of it. */
static void fill(const struct conn *c, uint64_t pos, uint8_t *out, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++, pos++)
		out[i] = (uint8_t)(splitmix64(c->seed + pos / 8) >>
				   (8 * (pos % 8)));
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static void conn_failed(unsigned int i, int err)
{
	if (conns[i].dead)
		return;
	conns[i].dead = true;
	printf("conn %u error %s\n", i, errname(err));
}

/* Send what is due on connection @i; the kernel may take less. */
static void pump(unsigned int i)
{
	struct conn *c = &conns[i];

	while (!c->dead && c->budget) {
		size_t len = c->budget < CHUNK ? c->budget : CHUNK;
		ssize_t n;

		fill(c, c->sent, buf, len);
		n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_failed(i, errno);
			return;
		}
		for (ssize_t k = 0; k < n; k++) {
			c->hash ^= buf[k];
			c->hash *= FNV64_PRIME;
		}
		c->sent += (uint64_t)n;
		c->budget -= (uint64_t)n;
	}
}

static void stats(uint64_t *total, uint64_t *min)
{
	unsigned int i;

	*total = 0;
	*min = UINT64_MAX;
	for (i = 0; i < nconns; i++) {
		*total += conns[i].sent;
		if (conns[i].sent < *min)
			*min = conns[i].sent;
	}
	if (!nconns)
		*min = 0;
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Flush, half-close, and compare with the server's hash and count. */
static int finish(void)
{
	struct timeval tv = {.tv_sec = 30};
	unsigned int i, good = 0;
	uint64_t total, min;

	/* whatever is still due goes first, blocking */
	for (i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];

		if (c->dead)
			continue;
		fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) & ~O_NONBLOCK);
		setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		while (!c->dead && c->budget) {
			size_t len = c->budget < CHUNK ? c->budget : CHUNK;
			ssize_t n;

			fill(c, c->sent, buf, len);
			n = send(c->fd, buf, len, MSG_NOSIGNAL);
			if (n <= 0) {
				conn_failed(i, n < 0 ? errno : EIO);
				break;
			}
			for (ssize_t k = 0; k < n; k++) {
				c->hash ^= buf[k];
				c->hash *= FNV64_PRIME;
			}
			c->sent += (uint64_t)n;
			c->budget -= (uint64_t)n;
		}
		if (!c->dead && shutdown(c->fd, SHUT_WR) < 0)
			conn_failed(i, errno);
	}
	for (i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];
		uint8_t ans[16];
		size_t got = 0;

		while (!c->dead && got < sizeof(ans)) {
			ssize_t n =
				recv(c->fd, ans + got, sizeof(ans) - got, 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				conn_failed(i, n < 0 ? errno : EIO);
				break;
			}
			got += (size_t)n;
		}
		if (c->dead) {
			printf("conn %u BAD sent=%llu no answer\n", i,
			       (unsigned long long)c->sent);
			continue;
		}
		if (get_be64(ans) == c->hash && get_be64(ans + 8) == c->sent) {
			printf("conn %u ok bytes=%llu\n", i,
			       (unsigned long long)c->sent);
			good++;
		} else {
			printf("conn %u BAD sent=%llu hash=%016llx got "
			       "bytes=%llu hash=%016llx\n",
			       i, (unsigned long long)c->sent,
			       (unsigned long long)c->hash,
			       (unsigned long long)get_be64(ans + 8),
			       (unsigned long long)get_be64(ans));
		}
		close(c->fd);
	}
	stats(&total, &min);
	printf("verified %u/%u total=%llu min=%llu\n", good, nconns,
	       (unsigned long long)total, (unsigned long long)min);
	return good == nconns ? 0 : 1;
}

static int open_conn(const struct addrinfo *ai, int mode, bool report)
{
	int fd;

	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
	if (fd < 0) {
		perror("mpsock-pmclient: socket");
		return -1;
	}
	if (mode >= 0) {
		int r = mpsock_set_mode(fd, mode);

		if (report) {
			if (r == 0)
				printf("mode ok\n");
			else
				printf("mode err %s %s\n", errname(errno),
				       mpsock_errmsg());
		}
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		perror("mpsock-pmclient: connect");
		close(fd);
		return -1;
	}
	return fd;
}

static void command(char *line, bool *stop)
{
	char word[16], m[32];
	unsigned int i;
	unsigned long long n;

	if (sscanf(line, "mode %u %31s", &i, m) == 2) {
		int mode = parse_mode(m);

		if (i >= nconns || mode < 0) {
			printf("err EINVAL bad connection or mode\n");
		} else if (mpsock_set_mode(conns[i].fd, mode) == 0) {
			printf("ok\n");
		} else {
			printf("err %s %s\n", errname(errno), mpsock_errmsg());
		}
	} else if (sscanf(line, "send %llu", &n) == 1) {
		for (i = 0; i < nconns; i++) {
			conns[i].budget += n;
			pump(i);
		}
		printf("ok\n");
	} else if (sscanf(line, "%15s", word) == 1 && !strcmp(word, "stats")) {
		uint64_t total, min;

		stats(&total, &min);
		printf("sent total=%llu min=%llu\n", (unsigned long long)total,
		       (unsigned long long)min);
	} else if (sscanf(line, "%15s", word) == 1 && !strcmp(word, "stop")) {
		*stop = true;
	} else {
		printf("err EINVAL unknown command\n");
	}
}

int main(int argc, char **argv)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	unsigned long rate = 0;
	unsigned int n = 1, i;
	int mode = -1, opt, err;
	char line[256];
	size_t linelen = 0;
	bool stop = false;
	long next;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "n:m:r:")) != -1) {
		switch (opt) {
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'm':
			mode = parse_mode(optarg);
			if (mode < 0) {
				fprintf(stderr,
					"mpsock-pmclient: bad mode "
					"'%s'\n",
					optarg);
				return 64;
			}
			break;
		case 'r':
			rate = strtoul(optarg, NULL, 10);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2 || !n || n > 10000)
		goto usage;
	{
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	err = getaddrinfo(argv[optind], argv[optind + 1], &hints, &ai);
	if (err) {
		fprintf(stderr, "mpsock-pmclient: %s: %s\n", argv[optind],
			gai_strerror(err));
		return 2;
	}
	conns = calloc(n, sizeof(*conns));
	if (!conns)
		return 2;
	for (i = 0; i < n; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = open_conn(ai, mode, i == 0);

		if (fd < 0)
			return 2;
		conns[i].fd = fd;
		conns[i].seed = splitmix64(((uint64_t)getpid() << 20) + i);
		conns[i].hash = FNV64_OFFSET;
		conns[i].budget = FIRST_BYTES;
		nconns++;
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		pump(i);
		getsockname(fd, (struct sockaddr *)&ss, &sl);
		printf("conn %u sport=%u\n", i,
		       ntohs(ss.ss_family == AF_INET6
				     ? ((struct sockaddr_in6 *)&ss)->sin6_port
				     : ((struct sockaddr_in *)&ss)->sin_port));
	}
	freeaddrinfo(ai);
	printf("ready %u\n", nconns);

	next = now_ms() + TICK_MS;
	while (!stop) {
		struct pollfd p = {.fd = 0, .events = POLLIN};
		long wait = next - now_ms();
		int r;

		r = poll(&p, 1, wait > 0 ? (int)wait : 0);
		if (r > 0) {
			ssize_t got = read(0, line + linelen,
					   sizeof(line) - 1 - linelen);
			char *nl;

			if (got <= 0)
				break; /* end of input: stop */
			linelen += (size_t)got;
			line[linelen] = '\0';
			while ((nl = strchr(line, '\n'))) {
				*nl = '\0';
				command(line, &stop);
				memmove(line, nl + 1, strlen(nl + 1) + 1);
				linelen = strlen(line);
				if (stop)
					break;
			}
			if (linelen == sizeof(line) - 1)
				linelen = 0; /* an overlong line: dropped */
		}
		if (now_ms() >= next) {
			next += TICK_MS;
			for (i = 0; i < nconns; i++) {
				/* at most a second's worth waits */
				if (conns[i].budget < rate)
					conns[i].budget +=
						rate * TICK_MS / 1000;
				pump(i);
			}
		}
	}
	return finish();
usage:
	fprintf(stderr, "usage: mpsock-pmclient [-n CONNS] [-m MODE] "
			"[-r BYTES_PER_SECOND] HOST PORT\n");
	return 64;
}
