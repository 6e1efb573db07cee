// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench-sockopt: what a per-subflow setsockopt() costs, directly and
 * through mpsockd, against the kernel part of its mechanism, with few and
 * with many unrelated TCP sockets open (design.md, "Performance targets";
 * kernel-facts.md Q6 and Q8).
 *
 * Usage: bench-sockopt [-i ITERS] [-w WARMUP] [-b BLOCK] [-W WALKS]
 *                      [-n "10 1000 10000"] [-D MPSOCKD_PID]
 *                      HOST PORT LOCAL REMOTE
 *
 * Connects to HOST:PORT (an echo server) with IPPROTO_MPTCP, under the
 * userspace path manager, exchanges data until the connection is fully
 * established, and opens a second subflow LOCAL -> REMOTE (port 0: the
 * connection's port) with mpsock_subflow_open_wait().  Then, for each
 * count N of unrelated TCP sockets (ascending; the sockets are loopback
 * connection pairs through one listener, opened in this namespace and kept
 * open, so each step adds to the last), times five calls, on the second
 * subflow where they name one:
 *
 *   (a) set_direct  mpsock_subflow_setsockopt(IPPROTO_IP, IP_TOS) as root:
 *                   the library runs the BPF mechanism itself
 *   (b) set_broker  the same call with MPSOCK_USE_BROKER=1: through
 *                   mpsockd, which must serve this network namespace
 *   (c) get_direct  mpsock_subflow_getsockopt(IPPROTO_IP, IP_TOS) as root
 *                   (a reference: the same mechanism, reading)
 *   (d) set_flags   the kernel part of the mechanism alone: one bare
 *                   MPTCP_PM_CMD_SET_FLAGS for that subflow with its
 *                   current backup flag (mps_pm_set_backup() on the
 *                   library's generic netlink socket), token and tuple
 *                   known in advance
 *   (e) null_hop    a request mpsockd refuses after all its checks, before
 *                   any kernel work: the process hop alone
 *
 * Each set writes the value the subflow does not have (0x20 and 0x40 in
 * turn), so every call changes it.  Only the calls are timed.  Each get's
 * result is checked; around each block the namespace's MPTcpExtMPPrioTx
 * counter must grow by exactly one per call of (a) to (d) (the MP_PRIO ACK
 * that runs the program) and not at all for (e); after every block,
 * untimed, as root: the second subflow's IP_TOS reads back as the last
 * value set, the first subflow's and the MPTCP socket's own IP_TOS are
 * unchanged, both subflows are still live and the second one's backup flag
 * is still clear.  A wrong result stops the run.  Modes take turns in
 * blocks of BLOCK calls, rotating which goes first, after WARMUP untimed
 * calls per mode at each N.  The very first direct call loads and attaches
 * the library's BPF program: it is reported on its own and never timed.
 * With -D (mpsockd's pid), each call through mpsockd is also tagged,
 * untimed, with whether mpsockd served it on our CPU or on another one.
 *
 * Then, at each N, the parts of the library's own work are timed back to
 * back (ITERS times each, interleaved): MPTCP_INFO (the token), FULL_INFO
 * (mps_snapshot_take()), the exact sock_diag lookup of the subflow
 * (mps_diag_lookup(): its backup flag), SO_NETNS_COOKIE, and the request
 * map's update + lookup + delete (on this benchmark's own, unattached
 * instance of the program's map).  For comparison, WALKS runs of the
 * program's iter/tcp iterator (the mechanism of kernel-facts.md Q6, which
 * visits every TCP socket) are timed too.
 *
 * Output: one line per N and mode, placement, part and walk,
 *   unrelated=N mode=M n=K p50_us=X p90_us=Y p99_us=Z max_us=W
 *   unrelated=N mode=M cpu=same|other n=K p50_us=X ...      (with -D)
 *   unrelated=N part=P n=K p50_us=X p90_us=Y p99_us=Z
 *   unrelated=N walk=iter_tcp n=K p50_us=X p90_us=Y max_us=W
 * then a summary table with the targets.  Exit status: 0, 2 on errors or a
 * wrong result, 3 when the connection or the subflow did not come up in
 * time, 64 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench.h"
#include "subflow_sockopt.h"
#include "subflow_sockopt.skel.h"
#include "bench-util.h"

#ifndef SOL_MPTCP
#define SOL_MPTCP 284
#endif
#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

#define MAXSF 16
#define MAXN 16 /* socket counts in one run */
#define MAX_UNRELATED 200000
#define WAIT_SECS 10 /* for the connection to become fully established */
#define OPEN_WAIT_MS 5000 /* for the second subflow's handshake */
#define PART_BLOCK 100
#define TOS_A 0x20
#define TOS_B 0x40

enum mode {
	M_SET_DIRECT,
	M_SET_BROKER,
	M_GET_DIRECT,
	M_SET_FLAGS,
	M_NULL_HOP,
	M_COUNT,
};

static const char *const mode_name[M_COUNT] = {
	[M_SET_DIRECT] = "set_direct", /* (a) */
	[M_SET_BROKER] = "set_broker", /* (b) */
	[M_GET_DIRECT] = "get_direct", /* (c) */
	[M_SET_FLAGS] = "set_flags", /* (d) */
	[M_NULL_HOP] = "null_hop", /* (e) */
};

/* Calls that go to mpsockd: their CPU placement is recorded. */
static bool via_broker(enum mode m)
{
	return m == M_SET_BROKER || m == M_NULL_HOP;
}

/* Where a call through mpsockd ran (-D): mpsockd on our CPU or another. */
enum place { PL_SAME, PL_OTHER, PL_COUNT };

static const char *const place_name[PL_COUNT] = {
	[PL_SAME] = "same",
	[PL_OTHER] = "other",
};

enum part {
	P_MPTCP_INFO,
	P_FULL_INFO,
	P_DIAG,
	P_COOKIE,
	P_MAP_OPS,
	P_COUNT,
};

static const char *const part_name[P_COUNT] = {
	[P_MPTCP_INFO] = "mptcp_info", /* mps_conn_token() */
	[P_FULL_INFO] = "full_info", /* mps_snapshot_take() + release */
	[P_DIAG] = "diag_lookup", /* mps_diag_lookup() of one subflow */
	[P_COOKIE] = "netns_cookie", /* getsockopt(SO_NETNS_COOKIE) */
	[P_MAP_OPS] = "map_ops", /* bpf map update + lookup + delete */
};

struct unrelated {
	int *fds;
	unsigned int n, cap; /* fds[0] is the listener */
	struct sockaddr_in addr; /* the listener's */
};

struct bench {
	int fd;
	pid_t daemon_pid; /* mpsockd, for its CPU (-D); 0: not followed */
	__u32 id1, id2; /* the initial subflow, the one we set */
	__u32 token;
	struct sockaddr_storage local2, remote2; /* id2's tuple */
	int tos1, tos2, tos_msk; /* what each must read */
	unsigned int n_unrel; /* the current N */
	unsigned int block; /* blocks run at this N, for messages */
	struct subflow_sockopt *skel; /* our own instance: map + iterator */
	struct bpf_link *iter;
	struct mps_sf_key key2;
	struct unrelated u;
};

/* A failed call: say which, with every explanation we have. */
static void fail_call(const struct bench *b, const char *what, int err,
		      const char *msg)
{
	fprintf(stderr, "bench-sockopt: N=%u, block %u, %s: %s%s%s\n",
		b->n_unrel, b->block, what, strerror(err),
		msg && *msg ? ": " : "", msg ? msg : "");
	exit(2);
}

static void fail_check(const struct bench *b, const char *what)
{
	fprintf(stderr, "bench-sockopt: N=%u, block %u: wrong result: %s\n",
		b->n_unrel, b->block, what);
	exit(2);
}

static void set_use_broker(bool on)
{
	if (on ? setenv("MPSOCK_USE_BROKER", "1", 1)
	       : unsetenv("MPSOCK_USE_BROKER"))
		die("setenv(MPSOCK_USE_BROKER)");
}

/* ---- checks, untimed, as root ---- */

static int sub_tos(const struct bench *b, __u32 id)
{
	socklen_t len = sizeof(int);
	char what[96];
	int v = -1;

	if (mpsock_subflow_getsockopt(b->fd, id, IPPROTO_IP, IP_TOS, &v, &len) <
	    0) {
		snprintf(what, sizeof(what), "check: IP_TOS of subflow %u", id);
		fail_call(b, what, errno, mpsock_errmsg());
	}
	if (len != sizeof(int)) {
		snprintf(what, sizeof(what),
			 "subflow %u: IP_TOS of %u bytes, wanted %zu", id, len,
			 sizeof(int));
		fail_check(b, what);
	}
	return v;
}

static int msk_tos(const struct bench *b)
{
	socklen_t len = sizeof(int);
	int v = -1;

	if (getsockopt(b->fd, IPPROTO_IP, IP_TOS, &v, &len) < 0)
		die("getsockopt(IP_TOS) on the MPTCP socket");
	return v;
}

/*
 * After a block: the value set last reads back on the second subflow, the
 * first subflow and the MPTCP socket kept theirs, both subflows are live
 * and the second one is still a regular (not backup) subflow.
 */
static void verify(struct bench *b, enum mode m)
{
	struct mpsock_subflow sf[MAXSF];
	bool seen1 = false, seen2 = false;
	char what[160];
	int v, n, i;

	v = sub_tos(b, b->id2);
	if (v != b->tos2) {
		snprintf(what, sizeof(what),
			 "after %s: subflow %u (the one set) has IP_TOS 0x%x, "
			 "wanted 0x%x",
			 mode_name[m], b->id2, v, b->tos2);
		fail_check(b, what);
	}
	v = sub_tos(b, b->id1);
	if (v != b->tos1) {
		snprintf(what, sizeof(what),
			 "after %s: the other subflow %u has IP_TOS 0x%x, "
			 "was 0x%x",
			 mode_name[m], b->id1, v, b->tos1);
		fail_check(b, what);
	}
	v = msk_tos(b);
	if (v != b->tos_msk) {
		snprintf(what, sizeof(what),
			 "after %s: the MPTCP socket has IP_TOS 0x%x, was 0x%x",
			 mode_name[m], v, b->tos_msk);
		fail_check(b, what);
	}
	n = mpsock_subflow_list(b->fd, sf, MAXSF);
	if (n < 0)
		die("mpsock_subflow_list");
	for (i = 0; i < n && i < MAXSF; i++) {
		if (sf[i].id == b->id1)
			seen1 = sf[i].state == TCP_ESTABLISHED;
		if (sf[i].id == b->id2)
			seen2 = sf[i].state == TCP_ESTABLISHED &&
				(sf[i].flags & MPSOCK_SUBFLOW_FLAGS_KNOWN) &&
				!(sf[i].flags & MPSOCK_SUBFLOW_BACKUP_LOCAL);
	}
	if (n != 2 || !seen1 || !seen2) {
		snprintf(what, sizeof(what),
			 "after %s: %d live subflows; subflow %u %s, subflow "
			 "%u %s (wanted both ESTABLISHED, %u not backup)",
			 mode_name[m], n, b->id1, seen1 ? "ok" : "wrong",
			 b->id2, seen2 ? "ok" : "wrong", b->id2);
		fail_check(b, what);
	}
}

/* ---- one timed call ---- */

/* The CPU @pid last ran on (field 39 of /proc/PID/stat), or -1. */
static int task_cpu(pid_t pid)
{
	char path[64], buf[1024], *p;
	int i, cpu = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f)) {
		/* after the command name, which may hold spaces */
		p = strrchr(buf, ')');
		for (i = 0; p && i < 37; i++)
			p = strchr(p + 1, ' ');
		if (p)
			cpu = atoi(p + 1);
	}
	fclose(f);
	return cpu;
}

/*
 * Right after a call through mpsockd, untimed: did mpsockd serve it on our
 * CPU?  A wake-up of the other, idle CPU is what a process hop costs most
 * on a VM; the scheduler picks the placement, not mpsock.
 */
static enum place placement(const struct bench *b)
{
	int theirs = task_cpu(b->daemon_pid), ours = sched_getcpu();

	if (theirs < 0) {
		fprintf(stderr, "bench-sockopt: mpsockd (pid %d, -D) is gone\n",
			(int)b->daemon_pid);
		exit(2);
	}
	return theirs == ours ? PL_SAME : PL_OTHER;
}

static uint64_t call_once(struct bench *b, enum mode m)
{
	char msg[MPS_MSG_LEN], what[96];
	socklen_t len = sizeof(int);
	struct mps_genl *g;
	uint64_t t0, t1;
	int v, r;

	switch (m) {
	case M_SET_DIRECT:
	case M_SET_BROKER:
		v = b->tos2 == TOS_A ? TOS_B : TOS_A;
		t0 = now_ns();
		r = mpsock_subflow_setsockopt(b->fd, b->id2, IPPROTO_IP, IP_TOS,
					      &v, sizeof(v));
		t1 = now_ns();
		if (r < 0)
			fail_call(b, mode_name[m], errno, mpsock_errmsg());
		b->tos2 = v;
		break;
	case M_GET_DIRECT:
		v = -1;
		t0 = now_ns();
		r = mpsock_subflow_getsockopt(b->fd, b->id2, IPPROTO_IP, IP_TOS,
					      &v, &len);
		t1 = now_ns();
		if (r < 0)
			fail_call(b, mode_name[m], errno, mpsock_errmsg());
		if (len != sizeof(int) || v != b->tos2) {
			snprintf(what, sizeof(what),
				 "get_direct read IP_TOS 0x%x (%u bytes), "
				 "wanted 0x%x",
				 v, len, b->tos2);
			fail_check(b, what);
		}
		break;
	case M_NULL_HOP:
		t0 = now_ns();
		broker_null(b->fd);
		t1 = now_ns();
		break;
	case M_SET_FLAGS:
	default:
		r = mps_genl_cached(&g);
		if (r)
			fail_call(b, "mps_genl_cached", -r, NULL);
		msg[0] = '\0';
		t0 = now_ns();
		r = mps_pm_set_backup(g, b->token, &b->local2, &b->remote2,
				      false, msg, sizeof(msg));
		t1 = now_ns();
		if (r)
			fail_call(b, mode_name[m], -r, msg);
		break;
	}
	return t1 - t0;
}

/* This namespace's MPTcpExtMPPrioTx counter (/proc/net/netstat). */
static unsigned long long mp_prio_tx(void)
{
	char names[4096], vals[4096], *n, *v, *sn = NULL, *sv = NULL;
	unsigned long long r = 0;
	bool found = false;
	FILE *f = fopen("/proc/net/netstat", "re");

	if (!f)
		die("/proc/net/netstat");
	/* a "MPTcpExt:" line of names, then one of values */
	while (!found && fgets(names, sizeof(names), f)) {
		if (strncmp(names, "MPTcpExt:", 9) ||
		    !fgets(vals, sizeof(vals), f))
			continue;
		n = strtok_r(names, " \n", &sn);
		v = strtok_r(vals, " \n", &sv);
		while (n && v && !found) {
			if (!strcmp(n, "MPPrioTx")) {
				r = strtoull(v, NULL, 10);
				found = true;
			}
			n = strtok_r(NULL, " \n", &sn);
			v = strtok_r(NULL, " \n", &sv);
		}
	}
	fclose(f);
	if (!found) {
		fprintf(stderr, "bench-sockopt: no MPTcpExt MPPrioTx in "
				"/proc/net/netstat\n");
		exit(2);
	}
	return r;
}

/*
 * @total calls per mode in rotating blocks, each block checked; stored in
 * @samples when not NULL (the warm-up is not).  Each call but a null
 * request makes the kernel send exactly one MP_PRIO on the subflow (the
 * ACK that runs the program): the counter must grow by one per call.
 */
static void run_calls(struct bench *b, unsigned int total, unsigned int block,
		      uint64_t *samples[M_COUNT], unsigned char *where[M_COUNT])
{
	unsigned int round, j, i, n, done;
	unsigned long long tx0, tx1, want;
	char what[128];
	enum mode m;
	uint64_t t;

	for (round = 0, done = 0; done < total; round++, done += n) {
		n = total - done < block ? total - done : block;
		for (j = 0; j < M_COUNT; j++) {
			m = (round + j) % M_COUNT;
			set_use_broker(m == M_SET_BROKER);
			tx0 = mp_prio_tx();
			for (i = 0; i < n; i++) {
				t = call_once(b, m);
				if (!samples)
					continue;
				samples[m][done + i] = t;
				if (b->daemon_pid && via_broker(m))
					where[m][done + i] = placement(b);
			}
			tx1 = mp_prio_tx();
			set_use_broker(false);
			want = m == M_NULL_HOP ? 0 : n;
			if (tx1 - tx0 != want) {
				snprintf(what, sizeof(what),
					 "%u %s calls sent %llu MP_PRIO, "
					 "wanted %llu",
					 n, mode_name[m], tx1 - tx0, want);
				fail_check(b, what);
			}
			verify(b, m);
			b->block++;
		}
	}
}

/* ---- the parts of the library's own work, back to back ---- */

struct parts {
	struct mps_snapshot snap; /* for the diag lookup */
	unsigned int idx2;
	int mfd;
	struct mps_sf_req req;
};

static void part_call(struct bench *b, struct parts *p, enum part k)
{
	struct mps_snapshot snap;
	struct mps_sf_diag d;
	socklen_t cl = sizeof(__u64);
	__u64 cookie;
	__u32 token;
	int err;

	switch (k) {
	case P_MPTCP_INFO:
		err = mps_conn_token(b->fd, &token);
		if (err || token != b->token)
			die_neg("mps_conn_token", err ? err : -EPROTO);
		break;
	case P_FULL_INFO:
		err = mps_snapshot_take(b->fd, &snap);
		if (err || snap.count < 2)
			die_neg("mps_snapshot_take", err ? err : -EPROTO);
		mps_snapshot_release(&snap);
		break;
	case P_DIAG:
		err = mps_diag_lookup(&p->snap, &p->idx2, 1, &d);
		if (err || !d.found)
			die_neg("mps_diag_lookup", err ? err : -ESRCH);
		break;
	case P_COOKIE:
		if (getsockopt(b->fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie,
			       &cl) < 0)
			die("getsockopt(SO_NETNS_COOKIE)");
		break;
	case P_MAP_OPS:
		/* what mps_ctrl_sockopt() does with the program's map */
		if (bpf_map_update_elem(p->mfd, &b->key2, &p->req, BPF_ANY) <
			    0 ||
		    bpf_map_lookup_elem(p->mfd, &b->key2, &p->req) < 0 ||
		    bpf_map_delete_elem(p->mfd, &b->key2) < 0)
			die("bpf map update/lookup/delete");
		break;
	case P_COUNT:
		break;
	}
}

static void measure_parts(struct bench *b, unsigned int iters,
			  uint64_t *samples[P_COUNT])
{
	struct parts p;
	unsigned int k, i, done, chunk;
	uint64_t t0;
	int err;

	memset(&p, 0, sizeof(p));
	err = mps_snapshot_take(b->fd, &p.snap);
	if (err)
		die_neg("mps_snapshot_take", err);
	for (i = 0; i < p.snap.count; i++)
		if (p.snap.info[i].id == b->id2)
			break;
	if (i == p.snap.count) {
		fprintf(stderr, "bench-sockopt: subflow %u not in FULL_INFO\n",
			b->id2);
		exit(2);
	}
	p.idx2 = i;
	p.mfd = bpf_map__fd(b->skel->maps.requests);
	p.req.level = IPPROTO_IP;
	p.req.optname = IP_TOS;
	p.req.optlen = sizeof(int);
	p.req.op = MPS_SOCKOPT_SET;
	p.req.val[0] = TOS_A;

	for (k = 0; k < P_COUNT; k++)
		for (i = 0; i < iters / 10 + 1; i++)
			part_call(b, &p, k);
	for (done = 0; done < iters; done += chunk) {
		chunk = iters - done < PART_BLOCK ? iters - done : PART_BLOCK;
		for (k = 0; k < P_COUNT; k++) {
			for (i = 0; i < chunk; i++) {
				t0 = now_ns();
				part_call(b, &p, k);
				samples[k][done + i] = now_ns() - t0;
			}
		}
	}
	mps_snapshot_release(&p.snap);
}

/* ---- the walk of every TCP socket, for comparison ---- */

static uint64_t walk_once(struct bench *b)
{
	uint64_t t0 = now_ns();
	char buf[64];
	ssize_t r;
	int fd;

	fd = bpf_iter_create(bpf_link__fd(b->iter));
	if (fd < 0)
		die("bpf_iter_create");
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		;
	if (r < 0)
		die("read (iter/tcp)");
	close(fd);
	return now_ns() - t0;
}

/*
 * Our own instance of the library's program: its map for the map_ops
 * part, its iterator for the walk.  The sock_ops program is not loaded:
 * the library's instance (in this process, and in mpsockd) does the work.
 * The iterator sets the same callback flag the library's already set on
 * the connection's subflows, and touches nothing else.
 */
static void skel_open(struct bench *b)
{
	int err;

	b->skel = subflow_sockopt__open();
	if (!b->skel)
		die("opening the per-subflow option program (our instance)");
	bpf_program__set_autoload(b->skel->progs.mpsock_subflow_sockops, false);
	err = subflow_sockopt__load(b->skel);
	if (err)
		die_neg("loading the per-subflow option program (our instance)",
			err);
	b->iter = bpf_program__attach_iter(b->skel->progs.mpsock_mark_subflows,
					   NULL);
	if (!b->iter)
		die("attaching the iter/tcp program");
}

/* The map key of subflow @id2, as sockopt.c's key_fill() makes it. */
static void key_of_id2(struct bench *b)
{
	struct mps_snapshot snap;
	const struct mptcp_subflow_addrs *a = NULL;
	socklen_t cl = sizeof(__u64);
	struct mps_sf_key *k = &b->key2;
	unsigned int i;
	int err;

	err = mps_snapshot_take(b->fd, &snap);
	if (err)
		die_neg("mps_snapshot_take", err);
	for (i = 0; i < snap.count; i++)
		if (snap.info[i].id == b->id2)
			a = &snap.info[i].addrs;
	if (!a) {
		fprintf(stderr, "bench-sockopt: subflow %u not in FULL_INFO\n",
			b->id2);
		exit(2);
	}
	memset(k, 0, sizeof(*k));
	if (getsockopt(b->fd, SOL_SOCKET, SO_NETNS_COOKIE, &k->netns, &cl) < 0)
		die("getsockopt(SO_NETNS_COOKIE)");
	k->family = a->sa_family;
	if (a->sa_family == AF_INET) {
		memcpy(k->local, &a->sin_local.sin_addr, 4);
		memcpy(k->remote, &a->sin_remote.sin_addr, 4);
		k->lport = ntohs(a->sin_local.sin_port);
		k->rport = ntohs(a->sin_remote.sin_port);
	} else {
		memcpy(k->local, &a->sin6_local.sin6_addr, 16);
		memcpy(k->remote, &a->sin6_remote.sin6_addr, 16);
		k->lport = ntohs(a->sin6_local.sin6_port);
		k->rport = ntohs(a->sin6_remote.sin6_port);
	}
	mps_snapshot_release(&snap);
}

/* ---- unrelated sockets ---- */

/* A listener on 127.0.0.1:0, room for @max connected sockets. */
static void unrelated_init(struct unrelated *u, unsigned int max)
{
	socklen_t len = sizeof(u->addr);
	int lfd;

	raise_nofile((rlim_t)max + 256);
	u->cap = max + 1;
	u->fds = calloc(u->cap, sizeof(*u->fds));
	if (!u->fds)
		die("calloc");
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	if (lfd < 0)
		die("socket (unrelated listener)");
	u->fds[0] = lfd;
	u->n = 1;
	memset(&u->addr, 0, sizeof(u->addr));
	u->addr.sin_family = AF_INET;
	u->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&u->addr, sizeof(u->addr)) < 0 ||
	    listen(lfd, SOMAXCONN) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&u->addr, &len) < 0)
		die("listen (unrelated)");
}

/* Connected pairs until @n connected sockets are open (the listener apart). */
static void unrelated_grow(struct unrelated *u, unsigned int n)
{
	int c, a;

	while (u->n - 1 + 2 <= n && u->n + 2 <= u->cap) {
		c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
		if (c < 0)
			die("socket (unrelated)");
		/* loopback: the handshake completes inside connect() */
		if (connect(c, (struct sockaddr *)&u->addr, sizeof(u->addr)) <
		    0)
			die("connect (unrelated)");
		u->fds[u->n++] = c;
		a = accept4(u->fds[0], NULL, NULL, SOCK_CLOEXEC);
		if (a < 0)
			die("accept (unrelated)");
		u->fds[u->n++] = a;
	}
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
	memset(u, 0, sizeof(*u));
}

/* "TCP: inuse X ..." of this namespace's /proc/net/sockstat, or -1. */
static long tcp_inuse(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/net/sockstat", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TCP: inuse %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* ---- the connection ---- */

/* The second subflow, LOCAL:0 -> REMOTE:0, fully established. */
static void open_second(struct bench *b, const char *local, const char *remote)
{
	struct sockaddr_storage l, r;
	struct mpsock_subflow sf;
	socklen_t len, len2;
	uint64_t t0 = now_ns();
	struct mps_snapshot snap;
	struct mps_ctrl_result res;
	unsigned int i;
	int err;

	parse_addr(local, 0, &l, &len);
	parse_addr(remote, 0, &r, &len2);
	if (l.ss_family != r.ss_family) {
		fprintf(stderr, "bench-sockopt: LOCAL and REMOTE of two "
				"families\n");
		exit(64);
	}
	if (mpsock_subflow_open_wait(b->fd, (struct sockaddr *)&l,
				     (struct sockaddr *)&r, len, 0,
				     OPEN_WAIT_MS, &b->id2) < 0) {
		fprintf(stderr, "bench-sockopt: subflow %s -> %s: %s: %s\n",
			local, remote, strerror(errno), mpsock_errmsg());
		exit(errno == ETIMEDOUT ? 3 : 2);
	}
	for (;;) {
		if (mpsock_subflow_get(b->fd, b->id2, &sf) < 0)
			die("mpsock_subflow_get (the new subflow)");
		if (sf.state == TCP_ESTABLISHED &&
		    (sf.flags & MPSOCK_SUBFLOW_FULLY_ESTABLISHED))
			break;
		if (now_ns() - t0 > WAIT_SECS * 1000000000ull) {
			fprintf(stderr,
				"bench-sockopt: subflow %u not fully "
				"established after %d s\n",
				b->id2, WAIT_SECS);
			exit(3);
		}
		echo_once(b->fd);
		usleep(1000);
	}
	/* its tuple, as the path manager knows it, for the bare SET_FLAGS */
	memset(&res, 0, sizeof(res));
	err = mps_ctrl_find(b->fd, b->id2, &snap, &i, &res);
	if (err)
		fail_call(b, "mps_ctrl_find", -err, res.msg);
	mps_snapshot_release(&snap);
	b->local2 = res.local;
	b->remote2 = res.remote;
	printf("# subflow %u: %s:%u -> %s:%u (subflow %u: the initial one), "
	       "%.1f ms\n",
	       b->id2, local, ntohs(mps_addr_port(&b->local2)), remote,
	       ntohs(mps_addr_port(&b->remote2)), b->id1,
	       (now_ns() - t0) / 1e6);
}

/*
 * The first call as root loads and attaches the library's program (and
 * walks the TCP table once to mark the existing subflows): shown, never
 * timed with the rest.  Then a call through mpsockd, to fail now, not in
 * the middle, when none serves us.
 */
static void first_calls(struct bench *b)
{
	uint64_t t0;
	int v = TOS_A;

	/* new subflows inherit the MPTCP socket's value */
	b->tos_msk = msk_tos(b);
	b->tos1 = b->tos_msk;
	t0 = now_ns();
	if (mpsock_subflow_setsockopt(b->fd, b->id2, IPPROTO_IP, IP_TOS, &v,
				      sizeof(v)) < 0)
		fail_call(b, "the first set_direct", errno, mpsock_errmsg());
	printf("# first direct call (loads and attaches the BPF program, "
	       "marks existing subflows): %.2f ms\n",
	       (now_ns() - t0) / 1e6);
	b->tos2 = v;
	verify(b, M_SET_DIRECT);

	set_use_broker(true);
	v = TOS_B;
	t0 = now_ns();
	if (mpsock_subflow_setsockopt(b->fd, b->id2, IPPROTO_IP, IP_TOS, &v,
				      sizeof(v)) < 0)
		fail_call(b, "the first set_broker (is mpsockd running?)",
			  errno, mpsock_errmsg());
	set_use_broker(false);
	printf("# first call through mpsockd (connects to it): %.2f ms\n",
	       (now_ns() - t0) / 1e6);
	b->tos2 = v;
	verify(b, M_SET_BROKER);
}

/* ---- statistics and report ---- */

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

struct result {
	unsigned int n_unrel;
	long inuse;
	struct stats st[M_COUNT];
	struct stats ps[P_COUNT];
	struct stats walk; /* n = 0: not measured */
	/* calls through mpsockd by placement (-D); n = 0: none there */
	struct stats pl[M_COUNT][PL_COUNT];
};

/* Split @s (unsorted) by where each call ran. */
static void split_place(struct result *r, enum mode m, const uint64_t *s,
			const unsigned char *where, unsigned int n)
{
	uint64_t *tmp = calloc(n, sizeof(*tmp));
	unsigned int i, k, got;

	if (!tmp)
		die("calloc");
	for (k = 0; k < PL_COUNT; k++) {
		for (i = 0, got = 0; i < n; i++)
			if (where[i] == k)
				tmp[got++] = s[i];
		memset(&r->pl[m][k], 0, sizeof(r->pl[m][k]));
		if (got)
			r->pl[m][k] = stats_of(tmp, got);
	}
	free(tmp);
}

static void report_n(const struct result *r)
{
	unsigned int k;

	unsigned int pl;

	for (k = 0; k < M_COUNT; k++)
		printf("unrelated=%u mode=%s n=%u p50_us=%.1f p90_us=%.1f "
		       "p99_us=%.1f max_us=%.1f\n",
		       r->n_unrel, mode_name[k], r->st[k].n, r->st[k].p50,
		       r->st[k].p90, r->st[k].p99, r->st[k].max);
	for (k = 0; k < M_COUNT; k++)
		for (pl = 0; pl < PL_COUNT; pl++)
			if (r->pl[k][pl].n)
				printf("unrelated=%u mode=%s cpu=%s n=%u "
				       "p50_us=%.1f p90_us=%.1f p99_us=%.1f "
				       "max_us=%.1f\n",
				       r->n_unrel, mode_name[k], place_name[pl],
				       r->pl[k][pl].n, r->pl[k][pl].p50,
				       r->pl[k][pl].p90, r->pl[k][pl].p99,
				       r->pl[k][pl].max);
	for (k = 0; k < P_COUNT; k++)
		printf("unrelated=%u part=%s n=%u p50_us=%.2f p90_us=%.2f "
		       "p99_us=%.2f\n",
		       r->n_unrel, part_name[k], r->ps[k].n, r->ps[k].p50,
		       r->ps[k].p90, r->ps[k].p99);
	if (r->walk.n)
		printf("unrelated=%u walk=iter_tcp n=%u p50_us=%.0f "
		       "p90_us=%.0f max_us=%.0f\n",
		       r->n_unrel, r->walk.n, r->walk.p50, r->walk.p90,
		       r->walk.max);
}

/* The library's own work in a set, from its parts (sockopt.c). */
static double lib_parts(const struct result *r)
{
	return r->ps[P_MPTCP_INFO].p50 + r->ps[P_FULL_INFO].p50 +
	       r->ps[P_DIAG].p50 + r->ps[P_COOKIE].p50 + r->ps[P_MAP_OPS].p50;
}

/* Worst median of @k over every N, and its growth; prints the verdict. */
static void judge(const char *name, const struct stats *per_n[],
		  unsigned int nn)
{
	double worst = 0, g;
	unsigned int i;

	for (i = 0; i < nn; i++)
		if (per_n[i]->p50 > worst)
			worst = per_n[i]->p50;
	g = ratio(per_n[nn - 1]->p50, per_n[0]->p50);
	printf("  %-28s worst median %6.1f us: < 100 us %-4s < 50 us %-4s "
	       " growth %.2f %s\n",
	       name, worst, worst < 100 ? "ok" : "MISS",
	       worst < 50 ? "ok" : "MISS", g, g <= 1.20 ? "ok" : "MISS");
}

static void report_places(const struct result *res, unsigned int nn)
{
	static const enum mode shown[2] = {M_SET_BROKER, M_NULL_HOP};
	const struct stats *pl;
	char cell[2][24];
	unsigned int i, j, k, tot;

	printf("\ncalls through mpsockd by where mpsockd served them (-D): "
	       "on our CPU or the other one;\n"
	       "  median (p90) in microseconds, [calls]\n");
	printf("  %-8s %-26s %-26s %-26s %s\n", "N", "(b) same CPU",
	       "(b) other CPU", "(e) same CPU", "(e) other CPU");
	for (i = 0; i < nn; i++) {
		printf("  %-8u", res[i].n_unrel);
		for (j = 0; j < 2; j++) {
			tot = 0;
			for (k = 0; k < PL_COUNT; k++)
				tot += res[i].pl[shown[j]][k].n;
			for (k = 0; k < PL_COUNT; k++) {
				pl = &res[i].pl[shown[j]][k];
				if (pl->n)
					snprintf(cell[k], sizeof(cell[k]),
						 "%.1f (%.0f) [%u%%]", pl->p50,
						 pl->p90,
						 (pl->n * 100 + tot / 2) / tot);
				else
					snprintf(cell[k], sizeof(cell[k]),
						 "- [0%%]");
				/* no padding after the last column */
				printf(j == 1 && k == PL_COUNT - 1 ? " %s"
								   : " %-26s",
				       cell[k]);
			}
		}
		printf("\n");
	}
}

static void report(const struct result *res, unsigned int nn,
		   unsigned int iters, bool places)
{
	const struct result *lo = &res[0], *hi = &res[nn - 1];
	static const char *const col[M_COUNT] = {
		[M_SET_DIRECT] = "(a) set direct",
		[M_SET_BROKER] = "(b) set mpsockd",
		[M_GET_DIRECT] = "(c) get direct",
		[M_SET_FLAGS] = "(d) bare SET_FLAGS",
		[M_NULL_HOP] = "(e) null hop",
	};
	const struct stats *per_n[MAXN];
	char cell[32], lbl[48];
	unsigned int i, k;
	bool enough;

	printf("\nsummary: %u timed calls per mode and N; median (p90 / p99) "
	       "in microseconds;\n"
	       "  N = unrelated TCP sockets open in the client namespace\n",
	       iters);
	printf("  %-8s", "N");
	for (k = 0; k < M_COUNT; k++)
		printf(" %-19s", col[k]);
	printf(" %s\n", "iter/tcp walk");
	for (i = 0; i < nn; i++) {
		printf("  %-8u", res[i].n_unrel);
		for (k = 0; k < M_COUNT; k++) {
			snprintf(cell, sizeof(cell), "%.1f (%.0f / %.0f)",
				 res[i].st[k].p50, res[i].st[k].p90,
				 res[i].st[k].p99);
			printf(" %-19s", cell);
		}
		if (res[i].walk.n)
			printf(" %.0f (%.0f / -)\n", res[i].walk.p50,
			       res[i].walk.p90);
		else
			printf(" -\n");
	}
	snprintf(lbl, sizeof(lbl), "%u/%u", hi->n_unrel, lo->n_unrel);
	printf("  %-8s", lbl);
	for (k = 0; k < M_COUNT; k++) {
		snprintf(cell, sizeof(cell), "%.2f",
			 ratio(hi->st[k].p50, lo->st[k].p50));
		printf(" %-19s", cell);
	}
	if (hi->walk.n && lo->walk.n)
		printf(" %.2f\n", ratio(hi->walk.p50, lo->walk.p50));
	else
		printf(" -\n");
	printf("  (last row: growth, the median at the largest N / at the "
	       "smallest; (c), (d), (e) and the walk\n"
	       "  are references)\n");
	if (places)
		report_places(res, nn);

	printf("\ntargets (issue; design.md): a per-subflow setsockopt under "
	       "100 us at the median (design.md:\n"
	       "  under 50 us through the broker), flat in the socket count "
	       "(growth <= 1.20)\n");
	for (k = 0; k < 2; k++) {
		for (i = 0; i < nn; i++)
			per_n[i] = &res[i].st[k];
		judge(col[k], per_n, nn);
	}
	if (places) {
		/* the same, per placement, if it held 10 % of the calls */
		for (k = 0; k < PL_COUNT; k++) {
			enough = true;
			for (i = 0; i < nn; i++) {
				per_n[i] = &res[i].pl[M_SET_BROKER][k];
				enough &= per_n[i]->n >= (iters + 9) / 10;
			}
			snprintf(lbl, sizeof(lbl), "  mpsockd on %s CPU",
				 k == PL_SAME ? "our" : "the other");
			if (enough)
				judge(lbl, per_n, nn);
			else
				printf("  %-28s (under 10 %% of the calls at "
				       "some N)\n",
				       lbl);
		}
	}

	printf("\nwhere the time goes (differences of medians, us)\n");
	printf("  %-8s %9s %10s   %9s %9s %9s   %9s\n", "N", "(a)-(d)",
	       "lib parts", "(b)-(a)", "(e)", "rest", "(c)-(a)");
	for (i = 0; i < nn; i++)
		printf("  %-8u %9.1f %10.1f   %9.1f %9.1f %9.1f   %9.1f\n",
		       res[i].n_unrel,
		       res[i].st[M_SET_DIRECT].p50 - res[i].st[M_SET_FLAGS].p50,
		       lib_parts(&res[i]),
		       res[i].st[M_SET_BROKER].p50 -
			       res[i].st[M_SET_DIRECT].p50,
		       res[i].st[M_NULL_HOP].p50,
		       res[i].st[M_SET_BROKER].p50 -
			       res[i].st[M_SET_DIRECT].p50 -
			       res[i].st[M_NULL_HOP].p50,
		       res[i].st[M_GET_DIRECT].p50 -
			       res[i].st[M_SET_DIRECT].p50);
	printf("  (a)-(d): the library's own work around the kernel's part; "
	       "\"lib parts\" adds up its pieces\n"
	       "    timed back to back: MPTCP_INFO + FULL_INFO + sock_diag "
	       "lookup + SO_NETNS_COOKIE + map ops\n"
	       "  (b)-(a): the trip through mpsockd; (e) = a null request, "
	       "the hop alone; \"rest\" = what\n"
	       "    remains: mpsockd's checks of the caller (its /proc reads) "
	       "and the call costing more there\n");
	for (i = 0; i < nn; i++)
		printf("  parts at N=%u, median (p90): MPTCP_INFO %.2f (%.2f), "
		       "FULL_INFO %.2f (%.2f), diag %.2f (%.2f),\n"
		       "    SO_NETNS_COOKIE %.2f (%.2f), map update+lookup+"
		       "delete %.2f (%.2f)\n",
		       res[i].n_unrel, res[i].ps[P_MPTCP_INFO].p50,
		       res[i].ps[P_MPTCP_INFO].p90, res[i].ps[P_FULL_INFO].p50,
		       res[i].ps[P_FULL_INFO].p90, res[i].ps[P_DIAG].p50,
		       res[i].ps[P_DIAG].p90, res[i].ps[P_COOKIE].p50,
		       res[i].ps[P_COOKIE].p90, res[i].ps[P_MAP_OPS].p50,
		       res[i].ps[P_MAP_OPS].p90);
	if (hi->walk.n)
		printf("\nfor comparison: one iter/tcp walk of every TCP socket "
		       "(the mechanism of kernel-facts.md Q6)\n"
		       "  costs %.0f us at N=%u and %.0f us at N=%u: %.0fx "
		       "and %.0fx a direct set\n",
		       lo->walk.p50, lo->n_unrel, hi->walk.p50, hi->n_unrel,
		       ratio(lo->walk.p50, lo->st[M_SET_DIRECT].p50),
		       ratio(hi->walk.p50, hi->st[M_SET_DIRECT].p50));
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench-sockopt [-i ITERS] [-w WARMUP] [-b BLOCK] "
		"[-W WALKS] [-n \"10 1000 10000\"]\n"
		"                     [-D MPSOCKD_PID] HOST PORT LOCAL REMOTE\n");
	exit(64);
}

/* "10 1000 10000" (spaces or commas): ascending counts. */
static unsigned int parse_counts(char *s, unsigned int *out)
{
	unsigned int n = 0;
	char *tok, *save = NULL;

	for (tok = strtok_r(s, " ,", &save); tok;
	     tok = strtok_r(NULL, " ,", &save)) {
		if (n == MAXN)
			usage();
		out[n] = parse_uint(tok, MAX_UNRELATED, usage);
		if (n && out[n] <= out[n - 1])
			usage(); /* the sockets of one step stay for the next */
		n++;
	}
	if (!n)
		usage();
	return n;
}

int main(int argc, char **argv)
{
	unsigned int iters = 1000, warmup = 50, block = 100, walks = 20;
	unsigned int counts[MAXN], nn = 3, i, k;
	char defcounts[] = "10 1000 10000";
	uint64_t *samples[M_COUNT], *parts[P_COUNT], *wsamples = NULL;
	unsigned char *where[M_COUNT];
	struct result *res;
	struct bench *b;
	uint64_t t0;
	int opt;

	nn = parse_counts(defcounts, counts);
	b = calloc(1, sizeof(*b));
	if (!b)
		die("calloc");
	while ((opt = getopt(argc, argv, "i:w:b:W:n:D:")) != -1) {
		switch (opt) {
		case 'i':
			iters = parse_uint(optarg, 1000000, usage);
			break;
		case 'w':
			warmup = parse_uint(optarg, 1000000, usage);
			break;
		case 'b':
			block = parse_uint(optarg, 1000000, usage);
			break;
		case 'W':
			walks = parse_uint(optarg, 100000, usage);
			break;
		case 'n':
			nn = parse_counts(optarg, counts);
			break;
		case 'D':
			b->daemon_pid = parse_uint(optarg, 1u << 30, usage);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 4 || !iters || !block)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	set_use_broker(false);

	for (k = 0; k < M_COUNT; k++) {
		samples[k] = calloc(iters, sizeof(uint64_t));
		where[k] = calloc(iters, 1);
		if (!samples[k] || !where[k])
			die("calloc");
	}
	for (k = 0; k < P_COUNT; k++) {
		parts[k] = calloc(iters, sizeof(uint64_t));
		if (!parts[k])
			die("calloc");
	}
	if (walks) {
		wsamples = calloc(walks, sizeof(uint64_t));
		if (!wsamples)
			die("calloc");
	}
	res = calloc(nn, sizeof(*res));
	if (!res)
		die("calloc");

	t0 = now_ns();
	b->fd = connect_mptcp(argv[optind], argv[optind + 1]);
	b->token = wait_fully_established(b->fd, t0, &b->id1);
	open_second(b, argv[optind + 2], argv[optind + 3]);
	first_calls(b);
	skel_open(b);
	key_of_id2(b);
	unrelated_init(&b->u, counts[nn - 1]);
	printf("# %u timed calls per mode after %u warm-up at each N, blocks "
	       "of %u; %u walks\n",
	       iters, warmup, block, walks);

	for (i = 0; i < nn; i++) {
		struct result *r = &res[i];

		b->n_unrel = counts[i];
		b->block = 0;
		t0 = now_ns();
		unrelated_grow(&b->u, counts[i]);
		r->n_unrel = counts[i];
		r->inuse = tcp_inuse();
		printf("# N=%u: %u unrelated TCP sockets open (1 listener + %u "
		       "loopback pairs, %.0f ms); /proc/net/sockstat TCP inuse "
		       "%ld\n",
		       counts[i], b->u.n, (b->u.n - 1) / 2,
		       (now_ns() - t0) / 1e6, r->inuse);
		run_calls(b, warmup, block, NULL, NULL);
		run_calls(b, iters, block, samples, where);
		for (k = 0; k < M_COUNT; k++) {
			if (b->daemon_pid && via_broker(k))
				split_place(r, k, samples[k], where[k], iters);
			r->st[k] = stats_of(samples[k], iters);
		}
		measure_parts(b, iters, parts);
		for (k = 0; k < P_COUNT; k++)
			r->ps[k] = stats_of(parts[k], iters);
		if (walks) {
			walk_once(b); /* warm-up */
			for (k = 0; k < walks; k++)
				wsamples[k] = walk_once(b);
			r->walk = stats_of(wsamples, walks);
		}
		/* the connection itself still works, and nothing moved */
		echo_once(b->fd);
		verify(b, M_SET_DIRECT);
		report_n(r);
	}

	report(res, nn, iters, b->daemon_pid != 0);

	unrelated_close(&b->u);
	bpf_link__destroy(b->iter);
	subflow_sockopt__destroy(b->skel);
	close(b->fd);
	for (k = 0; k < M_COUNT; k++) {
		free(samples[k]);
		free(where[k]);
	}
	for (k = 0; k < P_COUNT; k++)
		free(parts[k]);
	free(wsamples);
	free(res);
	free(b);
	return 0;
}
