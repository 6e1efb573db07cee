// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Load on the event stream: many connections opening and closing subflows
 * while several processes read their events, one of which does not read.
 *
 * Opens CONNS MPTCP connections to HOST:PORT and exchanges a byte on each
 * (fully established, so subflows can be opened).  Then forks SUBS
 * subscribers, each owning CONNS / SUBS connections (inherited): each calls
 * mpsock_events_open() on its connections and reads every event with
 * poll(), except subscriber 0, which reads nothing until the end.  The
 * parent meanwhile churns for SECONDS: round-robin over the connections,
 * it closes (reset) the subflow it opened one round earlier, then opens a
 * new one from LOCAL to REMOTE (ports 0: chosen by the kernel, and the
 * connection's own port), so that each connection cycles once every
 * PERIOD ms.  At the end it closes what is still open, lets the events
 * settle, and tells the subscribers to stop: each drains its streams
 * (subscriber 0 included, which then learns how many it lost) and prints
 * one line per connection:
 *
 *   sub=K token=XXXXXXXX established=N closed=N lost=N other=N errors=N
 *
 * then the parent prints
 *
 *   load: conns=N seconds=N opens=N open_errors=N closes=N close_gone=N
 *         close_errors=N
 *
 * (one line) and "done".  With -H it then prints HOLD and keeps its
 * connections open until SIGTERM (at most 60 s), so that nothing they do
 * on close mixes with what was counted.
 *
 * Usage: mpsock-evload [-n CONNS] [-s SUBS] [-t SECONDS] [-p PERIOD_MS] [-H]
 *                      HOST PORT LOCAL REMOTE
 * Exit status: 0, 1 when a subscriber or a setup step failed, 64 on misuse.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "mpsock.h"

#ifndef SOL_MPTCP
#define SOL_MPTCP 284
#endif
#ifndef MPTCP_INFO
#define MPTCP_INFO 1
#endif
/* struct mptcp_info: mptcpi_token is the u32 at bytes 12..15 */
#define INFO_TOKEN_OFF 12

#define MAX_CONNS 1024
#define MAX_SUBS 64
#define DRAIN_QUIET_MS 300 /* a stopping subscriber is done after this */
#define DRAIN_MAX_MS 5000
#define SETTLE_MS 500 /* after the last close, before stopping */
#define HOLD_MAX_S 60

struct conn {
	int fd;
	__u32 token;
	__u32 sf; /* the subflow opened last round, 0: none */
};

struct stream {
	struct mpsock_events *ev;
	__u32 token;
	unsigned long established, closed, lost, other, errors;
};

static volatile sig_atomic_t stop_churn;

static void on_signal(int sig)
{
	(void)sig;
	stop_churn = 1;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static int parse_in4(const char *s, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	return inet_pton(AF_INET, s, &sin->sin_addr) == 1 ? 0 : -1;
}

/* A fully established MPTCP connection: connected, one byte echoed. */
static int conn_open(const struct sockaddr_in *srv, struct conn *c)
{
	unsigned char info[INFO_TOKEN_OFF + 4];
	socklen_t len = sizeof(info);
	char b = 'x';

	c->sf = 0;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
	if (c->fd < 0)
		return -1;
	if (connect(c->fd, (const struct sockaddr *)srv, sizeof(*srv)) < 0 ||
	    write(c->fd, &b, 1) != 1 || read(c->fd, &b, 1) != 1)
		return -1;
	if (getsockopt(c->fd, SOL_MPTCP, MPTCP_INFO, info, &len) < 0)
		return -1;
	if (len < sizeof(info)) {
		errno = EPROTO;
		return -1;
	}
	memcpy(&c->token, info + INFO_TOKEN_OFF, 4);
	if (!c->token) {
		errno = EOPNOTSUPP; /* fell back to TCP */
		return -1;
	}
	return 0;
}

static void stream_count(struct stream *s, const struct mpsock_event *e)
{
	switch (e->type) {
	case MPSOCK_EVENT_SUBFLOW_ESTABLISHED:
		s->established++;
		break;
	case MPSOCK_EVENT_SUBFLOW_CLOSED:
		s->closed++;
		break;
	case MPSOCK_EVENT_LOST:
		s->lost += e->lost;
		break;
	default:
		s->other++;
		break;
	}
}

/* Every event there is now; false once the stream is unusable. */
static bool stream_drain(struct stream *s, unsigned long *got)
{
	struct mpsock_event e;

	while (mpsock_events_read(s->ev, &e) == 0) {
		stream_count(s, &e);
		(*got)++;
	}
	if (errno == EAGAIN || errno == EINTR)
		return true;
	fprintf(stderr, "mpsock-evload: events of %08x: %s\n", s->token,
		strerror(errno));
	s->errors++;
	return false;
}

/*
 * One subscriber: streams for its connections, ready byte to @ready_fd,
 * then reads (unless @stuck) until @stop_fd reaches EOF, then drains.
 */
static int subscriber(unsigned int k, bool stuck, struct conn *conns,
		      unsigned int n, int ready_fd, int stop_fd)
{
	struct pollfd pfd[MAX_CONNS + 1];
	struct stream st[MAX_CONNS];
	bool live[MAX_CONNS];
	unsigned long got;
	long quiet_since = 0, drain_start = 0;
	bool stopping = false;
	unsigned int i;
	int rc = 0, r;
	char b = 'r';

	memset(st, 0, sizeof(st));
	for (i = 0; i < n; i++) {
		st[i].token = conns[i].token;
		st[i].ev = mpsock_events_open(conns[i].fd);
		if (!st[i].ev) {
			fprintf(stderr,
				"mpsock-evload: sub %u: events_open: %s\n", k,
				strerror(errno));
			return 1;
		}
		live[i] = true;
	}
	if (write(ready_fd, &b, 1) != 1)
		return 1;
	close(ready_fd);
	for (;;) {
		unsigned int np = 0;
		int timeout = -1;

		if (!stopping) {
			pfd[np].fd = stop_fd;
			pfd[np].events = POLLIN;
			np++;
		}
		if (!stuck || stopping) {
			for (i = 0; i < n; i++) {
				pfd[np].fd =
					live[i] ? mpsock_events_fd(st[i].ev)
						: -1;
				pfd[np].events = POLLIN;
				np++;
			}
		}
		if (stopping)
			timeout = DRAIN_QUIET_MS;
		r = poll(pfd, np, timeout);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return 1;
		got = 0;
		for (i = 0; i < n && (!stuck || stopping); i++) {
			short re = pfd[np - n + i].revents;

			if (live[i] && (re & (POLLIN | POLLERR | POLLHUP)) &&
			    !stream_drain(&st[i], &got))
				live[i] = false;
		}
		if (!stopping && (pfd[0].revents & (POLLIN | POLLHUP))) {
			/* EOF: the churn is over (or the parent is gone) */
			stopping = true;
			drain_start = quiet_since = now_ms();
			continue;
		}
		if (!stopping)
			continue;
		if (got)
			quiet_since = now_ms();
		if (now_ms() - quiet_since >= DRAIN_QUIET_MS ||
		    now_ms() - drain_start >= DRAIN_MAX_MS)
			break;
	}
	for (i = 0; i < n; i++) {
		printf("sub=%u token=%08x established=%lu closed=%lu lost=%lu "
		       "other=%lu errors=%lu\n",
		       k, st[i].token, st[i].established, st[i].closed,
		       st[i].lost, st[i].other, st[i].errors);
		if (st[i].errors)
			rc = 1;
		mpsock_events_close(st[i].ev);
	}
	fflush(stdout);
	return rc;
}

static void sleep_until(long t_ms)
{
	struct timespec ts;
	long d;

	while (!stop_churn && (d = t_ms - now_ms()) > 0) {
		ts.tv_sec = d / 1000;
		ts.tv_nsec = (d % 1000) * 1000000L;
		nanosleep(&ts, NULL);
	}
}

struct tally {
	unsigned long opens, open_errors, closes, close_gone, close_errors;
};

static void churn_close(struct conn *c, struct tally *t)
{
	if (!c->sf)
		return;
	if (mpsock_subflow_close(c->fd, c->sf, MPTCP_SHUT_RST) == 0) {
		t->closes++;
	} else if (errno == ESRCH) {
		t->close_gone++; /* refused by the peer, or reset */
	} else {
		if (t->close_errors++ < 5)
			fprintf(stderr,
				"mpsock-evload: close %08x id %u: %s: %s\n",
				c->token, c->sf, strerror(errno),
				mpsock_errmsg());
	}
	c->sf = 0;
}

static void churn(struct conn *conns, unsigned int n, int seconds,
		  int period_ms, const struct sockaddr_in *local,
		  const struct sockaddr_in *remote, struct tally *t)
{
	long start = now_ms(), end = start + seconds * 1000L, next = start;
	long step_us = period_ms * 1000L / n;
	unsigned long steps = 0;
	unsigned int i = 0;
	__u32 id;

	while (!stop_churn && now_ms() < end) {
		struct conn *c = &conns[i];

		churn_close(c, t);
		if (mpsock_subflow_open(c->fd, (const struct sockaddr *)local,
					(const struct sockaddr *)remote,
					sizeof(*local), 0, &id) == 0) {
			t->opens++;
			c->sf = id;
		} else if (t->open_errors++ < 5) {
			fprintf(stderr, "mpsock-evload: open on %08x: %s: %s\n",
				c->token, strerror(errno), mpsock_errmsg());
		}
		i = (i + 1) % n;
		steps++;
		next = start + (long)(steps * step_us / 1000);
		sleep_until(next);
	}
	for (i = 0; i < n; i++)
		churn_close(&conns[i], t);
}

static void usage(void)
{
	fprintf(stderr, "usage: mpsock-evload [-n CONNS] [-s SUBS] "
			"[-t SECONDS] [-p PERIOD_MS] [-H] HOST PORT LOCAL "
			"REMOTE\n");
	exit(64);
}

int main(int argc, char **argv)
{
	static struct conn conns[MAX_CONNS];
	unsigned int nconns = 100, nsubs = 10, per, i, k;
	int seconds = 30, period_ms = 150, opt, rc = 0, status;
	struct sockaddr_in srv, local, remote;
	pid_t pids[MAX_SUBS];
	int ready[2], stop[2];
	struct tally t = {0};
	struct sigaction sa;
	bool hold = false, stopped;
	char b;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "n:s:t:p:H")) != -1) {
		switch (opt) {
		case 'n':
			nconns = strtoul(optarg, NULL, 10);
			break;
		case 's':
			nsubs = strtoul(optarg, NULL, 10);
			break;
		case 't':
			seconds = atoi(optarg);
			break;
		case 'p':
			period_ms = atoi(optarg);
			break;
		case 'H':
			hold = true;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 4 || !nsubs || nsubs > MAX_SUBS ||
	    nconns < nsubs || nconns > MAX_CONNS || nconns % nsubs ||
	    seconds < 0 || period_ms <= 0)
		usage();
	if (parse_in4(argv[optind], &srv) ||
	    parse_in4(argv[optind + 2], &local) ||
	    parse_in4(argv[optind + 3], &remote))
		usage();
	srv.sin_port = htons(atoi(argv[optind + 1]));
	per = nconns / nsubs;

	for (i = 0; i < nconns; i++) {
		if (conn_open(&srv, &conns[i])) {
			fprintf(stderr, "mpsock-evload: connection %u: %s\n", i,
				strerror(errno));
			return 1;
		}
	}
	printf("connected %u\n", nconns);
	if (pipe(ready) || pipe(stop))
		return 1;
	for (k = 0; k < nsubs; k++) {
		pids[k] = fork();
		if (pids[k] < 0)
			return 1;
		if (pids[k] == 0) {
			close(ready[0]);
			close(stop[1]);
			/* keep only our own connections */
			for (i = 0; i < nconns; i++)
				if (i / per != k)
					close(conns[i].fd);
			_exit(subscriber(k, k == 0, &conns[k * per], per,
					 ready[1], stop[0]));
		}
	}
	close(ready[1]);
	close(stop[0]);
	for (k = 0; k < nsubs; k++) {
		if (read(ready[0], &b, 1) != 1) {
			fprintf(stderr, "mpsock-evload: a subscriber failed\n");
			rc = 1;
			break;
		}
	}
	close(ready[0]);
	/* the parent only: a subscriber stops when the stop pipe closes */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (!rc) {
		printf("subscribed %u\n", nsubs);
		churn(conns, nconns, seconds, period_ms, &local, &remote, &t);
		sleep_until(now_ms() + SETTLE_MS);
	}
	close(stop[1]); /* the subscribers drain and report */
	for (k = 0; k < nsubs; k++) {
		if (waitpid(pids[k], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			fprintf(stderr, "mpsock-evload: subscriber %u failed\n",
				k);
			rc = 1;
		}
	}
	/* a SIGTERM from now on ends the hold: none may be missed */
	stopped = stop_churn;
	stop_churn = 0;
	printf("load: conns=%u seconds=%d opens=%lu open_errors=%lu "
	       "closes=%lu close_gone=%lu close_errors=%lu\n",
	       nconns, seconds, t.opens, t.open_errors, t.closes, t.close_gone,
	       t.close_errors);
	printf("done\n");
	if (hold && !stopped) {
		long until = now_ms() + HOLD_MAX_S * 1000L;

		printf("HOLD\n");
		while (!stop_churn && now_ms() < until)
			sleep_until(until);
	}
	return rc;
}
