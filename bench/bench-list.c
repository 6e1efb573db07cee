// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench-list: what listing a connection's subflows costs, against the
 * kernel's own floor (design.md, "Performance targets"; kernel-facts.md Q9).
 *
 * Usage: bench-list [-u UNRELATED] [-i ITERS] [-w WARMUP] HOST PORT SUBFLOWS
 *
 * Connects to HOST:PORT (an echo server) with IPPROTO_MPTCP, waits (10 s at
 * most) until SUBFLOWS live, fully established subflows exist, optionally
 * opens UNRELATED plain TCP sockets on the loopback (a listener plus
 * UNRELATED/2 connected pairs), then times each of these calls ITERS times
 * (after WARMUP untimed calls), interleaved in blocks so that drift hits
 * them all alike:
 *
 *   full_info     bare getsockopt(SOL_MPTCP, MPTCP_FULL_INFO): ids and
 *                 addresses, tcp_info cut to its state byte (what
 *                 mps_snapshot_take() asks for), written here, not ours
 *   snapshot      mps_snapshot_take() + mps_snapshot_release()
 *   floor         snapshot + one batched exact sock_diag lookup of every
 *                 live subflow (mps_diag_lookup())
 *   get_sub_ids   draft mpsock_getsockopt(IPPROTO_TCP, MPTCP_GET_SUB_IDS)
 *   subflow_list  native mpsock_subflow_list()
 *
 * One line per call kind:
 *   subflows=N unrelated=U what=KIND p50_us=X p99_us=Y
 * then a summary with the ratios.  Exit status: 0, 2 on errors, 3 when the
 * subflows did not come up in time, 64 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "bench.h"
#include "bench-util.h"

#ifndef SOL_MPTCP
#define SOL_MPTCP 284
#endif
#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

#define MAXSF 16 /* the kernel allows 8 subflows per connection */
#define WAIT_SECS 10
#define BLOCK 1000 /* timed calls of one kind in a row */

enum kind {
	K_FULL_INFO,
	K_SNAPSHOT,
	K_FLOOR,
	K_GET_SUB_IDS,
	K_SUBFLOW_LIST,
	K_COUNT,
};

static const char *const kind_name[K_COUNT] = {
	[K_FULL_INFO] = "full_info",
	[K_SNAPSHOT] = "snapshot",
	[K_FLOOR] = "floor",
	[K_GET_SUB_IDS] = "get_sub_ids",
	[K_SUBFLOW_LIST] = "subflow_list",
};

struct bench {
	int fd;
	unsigned int want; /* live subflows expected from every call */
	struct mptcp_subflow_info sfi[MAXSF];
	__u8 state[MAXSF];
	unsigned char ids[offsetof(struct mptcp_sub_ids, sub_status) +
			  255 * sizeof(struct mptcp_sub_status)];
	struct mpsock_subflow subs[MAXSF];
};

/* (a) The baseline, independent of libmpsock: one FULL_INFO call. */
static void call_full_info(struct bench *b)
{
	struct mptcp_full_info mfi;
	socklen_t len = offsetof(struct mptcp_full_info, mptcp_info);

	memset(&mfi, 0, sizeof(mfi));
	mfi.size_sfinfo_user = sizeof(b->sfi[0]);
	mfi.size_tcpinfo_user = 1; /* tcpi_state only */
	mfi.size_arrays_user = MAXSF;
	mfi.subflow_info = (__u64)(unsigned long)b->sfi;
	mfi.tcp_info = (__u64)(unsigned long)b->state;
	if (getsockopt(b->fd, SOL_MPTCP, MPTCP_FULL_INFO, &mfi, &len) < 0)
		die("getsockopt(MPTCP_FULL_INFO)");
	if (mfi.num_subflows < b->want) {
		fprintf(stderr,
			"bench-list: FULL_INFO lists %u subflows, "
			"expected %u\n",
			mfi.num_subflows, b->want);
		exit(2);
	}
}

static void call_snapshot(struct bench *b)
{
	struct mps_snapshot snap;
	int err;

	err = mps_snapshot_take(b->fd, &snap);
	if (err)
		die_neg("mps_snapshot_take", err);
	mps_snapshot_release(&snap);
}

/* (b) The floor of kernel-facts.md Q9, with our own two internal calls. */
static void call_floor(struct bench *b)
{
	struct mps_sf_diag diag[MAXSF];
	unsigned int idx[MAXSF], i, n = 0;
	struct mps_snapshot snap;
	int err;

	err = mps_snapshot_take(b->fd, &snap);
	if (err)
		die_neg("mps_snapshot_take", err);
	for (i = 0; i < snap.count && n < MAXSF; i++)
		if (mps_snapshot_live(&snap, i))
			idx[n++] = i;
	err = mps_diag_lookup(&snap, idx, n, diag);
	if (err)
		die_neg("mps_diag_lookup", err);
	for (i = 0; i < n; i++)
		if (!diag[i].found) {
			fprintf(stderr, "bench-list: sock_diag missed a "
					"subflow\n");
			exit(2);
		}
	mps_snapshot_release(&snap);
	if (n != b->want) {
		fprintf(stderr,
			"bench-list: floor saw %u live subflows, "
			"expected %u\n",
			n, b->want);
		exit(2);
	}
}

/* (c) The draft's MPTCP_GET_SUB_IDS, buffer large enough for 255 ids. */
static void call_get_sub_ids(struct bench *b)
{
	socklen_t len = sizeof(b->ids);

	if (mpsock_getsockopt(b->fd, IPPROTO_TCP, MPTCP_GET_SUB_IDS, b->ids,
			      &len) < 0)
		die("mpsock_getsockopt(MPTCP_GET_SUB_IDS)");
	if (b->ids[0] != b->want) {
		fprintf(stderr,
			"bench-list: GET_SUB_IDS sub_count %u, "
			"expected %u\n",
			b->ids[0], b->want);
		exit(2);
	}
}

/* (d) The native list. */
static void call_subflow_list(struct bench *b)
{
	int n = mpsock_subflow_list(b->fd, b->subs, MAXSF);

	if (n < 0)
		die("mpsock_subflow_list");
	if ((unsigned int)n != b->want) {
		fprintf(stderr,
			"bench-list: subflow_list %d subflows, "
			"expected %u\n",
			n, b->want);
		exit(2);
	}
}

static void (*const kind_call[K_COUNT])(struct bench *) = {
	[K_FULL_INFO] = call_full_info,
	[K_SNAPSHOT] = call_snapshot,
	[K_FLOOR] = call_floor,
	[K_GET_SUB_IDS] = call_get_sub_ids,
	[K_SUBFLOW_LIST] = call_subflow_list,
};

/* Live subflows that are ESTABLISHED and fully established at MPTCP level. */
static int count_ready(int fd, int *total)
{
	struct mpsock_subflow sf[MAXSF];
	int n, i, ok = 0;

	n = mpsock_subflow_list(fd, sf, MAXSF);
	if (n < 0)
		die("mpsock_subflow_list");
	*total = n;
	for (i = 0; i < n && i < MAXSF; i++)
		if (sf[i].state == TCP_ESTABLISHED &&
		    (sf[i].flags & MPSOCK_SUBFLOW_FULLY_ESTABLISHED))
			ok++;
	return ok;
}

/* @t0: when connect() was called */
static void wait_subflows(int fd, int want, uint64_t t0)
{
	int ok, total;

	for (;;) {
		echo_once(fd);
		ok = count_ready(fd, &total);
		if (ok == want && total == want)
			break;
		if (now_ns() - t0 > WAIT_SECS * 1000000000ull) {
			fprintf(stderr,
				"bench-list: %d live subflows (%d ready)"
				" after %d s, wanted %d\n",
				total, ok, WAIT_SECS, want);
			exit(3);
		}
		usleep(10000);
	}
	printf("# %d subflows ready %.1f ms after connect()\n", want,
	       (now_ns() - t0) / 1e6);
}

struct unrelated {
	int *fds;
	unsigned int n;
};

/* A listener on 127.0.0.1:0 and @n / 2 connected pairs through it. */
static void unrelated_open(struct unrelated *u, unsigned int n)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	unsigned int pairs = n / 2, i;
	int lfd, c, a;

	u->n = 0;
	u->fds = NULL;
	if (!n)
		return;
	raise_nofile((rlim_t)n + 256);
	u->fds = calloc(2 * pairs + 1, sizeof(*u->fds));
	if (!u->fds)
		die("calloc");
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	if (lfd < 0)
		die("socket (unrelated listener)");
	u->fds[u->n++] = lfd;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(lfd, SOMAXCONN) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) < 0)
		die("listen (unrelated)");
	for (i = 0; i < pairs; i++) {
		c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
		if (c < 0)
			die("socket (unrelated)");
		/* loopback: the handshake completes inside connect() */
		if (connect(c, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			die("connect (unrelated)");
		u->fds[u->n++] = c;
		a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (a < 0)
			die("accept (unrelated)");
		u->fds[u->n++] = a;
	}
	printf("# %u unrelated TCP sockets open (listener + %u pairs)\n", u->n,
	       pairs);
}

/* Reset, not FIN: no TIME_WAIT sockets left behind for the next run. */
static void unrelated_close(struct unrelated *u)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	unsigned int i;

	for (i = 0; i < u->n; i++) {
		setsockopt(u->fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(u->fds[i]);
	}
	free(u->fds);
	u->fds = NULL;
	u->n = 0;
}

static void measure(struct bench *b, unsigned int iters, unsigned int warmup,
		    uint64_t *samples[K_COUNT])
{
	unsigned int k, i, done, chunk;
	uint64_t t0, t1;

	for (k = 0; k < K_COUNT; k++)
		for (i = 0; i < warmup; i++)
			kind_call[k](b);
	for (done = 0; done < iters; done += chunk) {
		chunk = iters - done < BLOCK ? iters - done : BLOCK;
		for (k = 0; k < K_COUNT; k++) {
			for (i = 0; i < chunk; i++) {
				t0 = now_ns();
				kind_call[k](b);
				t1 = now_ns();
				samples[k][done + i] = t1 - t0;
			}
		}
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-list [-u UNRELATED] [-i ITERS] "
			"[-w WARMUP] HOST PORT SUBFLOWS\n");
	exit(64);
}

int main(int argc, char **argv)
{
	unsigned int unrelated = 0, iters = 20000, warmup = 1000, k;
	uint64_t *samples[K_COUNT];
	double p50[K_COUNT], p99[K_COUNT];
	struct unrelated u;
	struct bench *b;
	uint64_t t0;
	int opt;

	while ((opt = getopt(argc, argv, "u:i:w:")) != -1) {
		switch (opt) {
		case 'u':
			unrelated = parse_uint(optarg, 1000000, usage);
			break;
		case 'i':
			iters = parse_uint(optarg, 10000000, usage);
			break;
		case 'w':
			warmup = parse_uint(optarg, 10000000, usage);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 3 || !iters)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);

	b = calloc(1, sizeof(*b));
	if (!b)
		die("calloc");
	b->want = parse_uint(argv[optind + 2], MAXSF, usage);
	if (!b->want)
		usage();
	for (k = 0; k < K_COUNT; k++) {
		samples[k] = calloc(iters, sizeof(uint64_t));
		if (!samples[k])
			die("calloc");
	}

	t0 = now_ns();
	b->fd = connect_mptcp(argv[optind], argv[optind + 1]);
	echo_once(b->fd);
	wait_subflows(b->fd, b->want, t0);
	unrelated_open(&u, unrelated);
	/* the connection must still be what we measured it to be */
	echo_once(b->fd);

	measure(b, iters, warmup, samples);

	for (k = 0; k < K_COUNT; k++) {
		qsort(samples[k], iters, sizeof(uint64_t), cmp_u64);
		p50[k] = pct_us(samples[k], iters, 50);
		p99[k] = pct_us(samples[k], iters, 99);
		printf("subflows=%u unrelated=%u what=%s p50_us=%.2f "
		       "p99_us=%.2f\n",
		       b->want, unrelated, kind_name[k], p50[k], p99[k]);
	}
	printf("summary subflows=%u unrelated=%u iters=%u (medians)\n", b->want,
	       unrelated, iters);
	printf("  (c)/(a) get_sub_ids / full_info    %6.2f\n",
	       p50[K_GET_SUB_IDS] / p50[K_FULL_INFO]);
	printf("  (c)/(b) get_sub_ids / floor        %6.2f  (target <= 1.20)\n",
	       p50[K_GET_SUB_IDS] / p50[K_FLOOR]);
	printf("  (d)/(b) subflow_list / floor       %6.2f  (target <= 1.20)\n",
	       p50[K_SUBFLOW_LIST] / p50[K_FLOOR]);
	printf("  (b)/(a) floor / full_info          %6.2f  (Q9: 4.9-9.2)\n",
	       p50[K_FLOOR] / p50[K_FULL_INFO]);

	unrelated_close(&u);
	close(b->fd);
	for (k = 0; k < K_COUNT; k++)
		free(samples[k]);
	free(b);
	return 0;
}
