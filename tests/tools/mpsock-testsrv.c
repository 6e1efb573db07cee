/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test server for the netns test network: a single-threaded epoll loop that
 * echoes, discards or checksums whatever each MPTCP (or plain TCP) client
 * sends.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

#define BACKLOG 1024
#define IOBUF_SIZE 65536
#define MAX_EVENTS 256

#define FNV64_OFFSET 0xcbf29ce484222325ULL
#define FNV64_PRIME 0x100000001b3ULL

enum mode {
	MODE_ECHO,
	MODE_SINK,
	MODE_CHECKSUM,
};

struct conn {
	int fd;
	bool eof; /* peer sent FIN */
	uint8_t *pending; /* bytes still to be written */
	size_t pending_len;
	size_t pending_off;
	uint64_t hash; /* checksum mode */
	uint64_t count;
};

/* Tags for the two non-connection fds in epoll_event.data.ptr. */
static char listen_tag;
static char signal_tag;

static enum mode mode = MODE_ECHO;
static uint8_t iobuf[IOBUF_SIZE];
static int reserve_fd = -1; /* released on EMFILE to drop a connection */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mpsock-testsrv [--tcp] [--port N] [--mode echo|sink|checksum]\n"
		"                      [--pidfile FILE]\n"
		"  --tcp        listen with plain TCP instead of MPTCP\n"
		"  --port N     TCP port to listen on (default 5201)\n"
		"  --mode M     echo (default): send every byte back\n"
		"               sink: read and discard\n"
		"               checksum: read until EOF, then send the FNV-1a 64\n"
		"               hash and the byte count (8 bytes each, big-endian)\n"
		"  --pidfile F  write the pid to F once listening\n");
}

static int write_pidfile(const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		fprintf(stderr, "mpsock-testsrv: pidfile path too long\n");
		return -1;
	}
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "mpsock-testsrv: %s: %s\n", tmp,
			strerror(errno));
		return -1;
	}
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "mpsock-testsrv: %s: %s\n", path,
			strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int open_listener(bool tcp, unsigned int port)
{
	struct sockaddr_in6 sa = {
		.sin6_family = AF_INET6,
		.sin6_port = htons(port),
		.sin6_addr = IN6ADDR_ANY_INIT,
	};
	int proto = tcp ? IPPROTO_TCP : IPPROTO_MPTCP;
	int one = 1, zero = 0;
	int fd;

	fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    proto);
	if (fd < 0) {
		fprintf(stderr, "mpsock-testsrv: socket(%s): %s%s\n",
			tcp ? "TCP" : "MPTCP", strerror(errno),
			!tcp && (errno == EPROTONOSUPPORT ||
				 errno == ENOPROTOOPT)
				? " (kernel without MPTCP, or net.mptcp.enabled=0?)"
				: "");
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) <
		    0) {
		fprintf(stderr, "mpsock-testsrv: setsockopt: %s\n",
			strerror(errno));
		goto err;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "mpsock-testsrv: bind [::]:%u: %s\n", port,
			strerror(errno));
		goto err;
	}
	if (listen(fd, BACKLOG) < 0) {
		fprintf(stderr, "mpsock-testsrv: listen: %s\n",
			strerror(errno));
		goto err;
	}
	return fd;
err:
	close(fd);
	return -1;
}

static int open_signalfd(void)
{
	sigset_t set;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT); /* stays ignored if inherited ignored */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		fprintf(stderr, "mpsock-testsrv: signalfd: %s\n",
			strerror(errno));
	return fd;
}

static void conn_close(int epfd, struct conn *c)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->pending);
	free(c);
}

static int conn_set_events(int epfd, struct conn *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = c};

	return epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/*
 * Write as much of buf as the socket takes. Keeps the rest in c->pending.
 * Returns 0 when everything went out, 1 when some is pending, -1 on error.
 */
static int conn_send(struct conn *c, const uint8_t *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			c->pending = malloc(len);
			if (!c->pending)
				return -1;
			memcpy(c->pending, buf, len);
			c->pending_len = len;
			c->pending_off = 0;
			return 1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Flushes c->pending. Same return values as conn_send(). */
static int conn_flush(struct conn *c)
{
	ssize_t n;

	while (c->pending_off < c->pending_len) {
		n = send(c->fd, c->pending + c->pending_off,
			 c->pending_len - c->pending_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			return -1;
		}
		c->pending_off += (size_t)n;
	}
	free(c->pending);
	c->pending = NULL;
	c->pending_len = 0;
	c->pending_off = 0;
	return 0;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* Called once the peer's FIN arrived and nothing is pending. */
static int conn_finish(struct conn *c)
{
	uint8_t reply[16];

	if (mode != MODE_CHECKSUM)
		return -1; /* close */
	put_be64(reply, c->hash);
	put_be64(reply + 8, c->count);
	return conn_send(c, reply, sizeof(reply));
}

/* Returns false when the connection must be closed. */
static bool conn_readable(struct conn *c)
{
	ssize_t n;
	int ret;

	n = recv(c->fd, iobuf, sizeof(iobuf), 0);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ||
		       errno == EWOULDBLOCK;
	if (n == 0) {
		c->eof = true;
		return conn_finish(c) >= 0;
	}
	switch (mode) {
	case MODE_ECHO:
		ret = conn_send(c, iobuf, (size_t)n);
		return ret >= 0;
	case MODE_SINK:
		return true;
	case MODE_CHECKSUM:
		for (ssize_t i = 0; i < n; i++) {
			c->hash ^= iobuf[i];
			c->hash *= FNV64_PRIME;
		}
		c->count += (uint64_t)n;
		return true;
	}
	return false;
}

static void handle_conn(int epfd, struct conn *c, uint32_t events)
{
	bool had_pending = c->pending != NULL;
	int ret;

	if (c->pending) {
		ret = conn_flush(c);
		if (ret < 0)
			goto close;
		if (ret > 0)
			return;
		/* Everything sent: if the peer is done, so are we. */
		if (c->eof)
			goto close;
	} else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		if (!conn_readable(c))
			goto close;
		/* checksum reply fully sent after EOF */
		if (c->eof && !c->pending)
			goto close;
	}
	if (had_pending != (c->pending != NULL) &&
	    conn_set_events(epfd, c, c->pending ? EPOLLOUT : EPOLLIN) < 0)
		goto close;
	return;
close:
	conn_close(epfd, c);
}

static void handle_listener(int epfd, int lfd)
{
	struct epoll_event ev;
	struct conn *c;
	int fd;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if ((errno == EMFILE || errno == ENFILE) &&
			    reserve_fd >= 0) {
				/* Refuse one client rather than spin. */
				close(reserve_fd);
				fd = accept(lfd, NULL, NULL);
				if (fd >= 0)
					close(fd);
				reserve_fd =
					open("/dev/null", O_RDONLY | O_CLOEXEC);
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				fprintf(stderr, "mpsock-testsrv: accept: %s\n",
					strerror(errno));
			return;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->hash = FNV64_OFFSET;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
		}
	}
}

static int parse_port(const char *s, unsigned int *port)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v == 0 || v > 65535)
		return -1;
	*port = (unsigned int)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"tcp", no_argument, NULL, 't'},
		{"port", required_argument, NULL, 'p'},
		{"mode", required_argument, NULL, 'm'},
		{"pidfile", required_argument, NULL, 'P'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct epoll_event events[MAX_EVENTS];
	struct epoll_event ev;
	const char *pidfile = NULL;
	unsigned int port = 5201;
	bool tcp = false;
	int lfd, sfd, epfd, opt, n;
	bool stop = false;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			tcp = true;
			break;
		case 'p':
			if (parse_port(optarg, &port) < 0) {
				fprintf(stderr,
					"mpsock-testsrv: bad port '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'm':
			if (!strcmp(optarg, "echo")) {
				mode = MODE_ECHO;
			} else if (!strcmp(optarg, "sink")) {
				mode = MODE_SINK;
			} else if (!strcmp(optarg, "checksum")) {
				mode = MODE_CHECKSUM;
			} else {
				fprintf(stderr,
					"mpsock-testsrv: bad mode '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'P':
			pidfile = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	raise_nofile();
	reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	sfd = open_signalfd();
	if (sfd < 0)
		return 1;
	lfd = open_listener(tcp, port);
	if (lfd < 0)
		return 1;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0) {
		fprintf(stderr, "mpsock-testsrv: epoll_create1: %s\n",
			strerror(errno));
		return 1;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = &listen_tag;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev) < 0)
		return 1;
	ev.events = EPOLLIN;
	ev.data.ptr = &signal_tag;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev) < 0)
		return 1;
	if (pidfile && write_pidfile(pidfile) < 0)
		return 1;

	while (!stop) {
		n = epoll_wait(epfd, events, MAX_EVENTS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "mpsock-testsrv: epoll_wait: %s\n",
				strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			void *p = events[i].data.ptr;

			if (p == &listen_tag)
				handle_listener(epfd, lfd);
			else if (p == &signal_tag)
				stop = true;
			else
				handle_conn(epfd, p, events[i].events);
		}
	}

	/* Connections are left to the kernel: exit closes them all. */
	if (pidfile)
		unlink(pidfile);
	return stop ? 0 : 1;
}
