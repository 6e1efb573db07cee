// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench-events: how long a subflow event takes from the kernel to the
 * application's read, through an mpsock event stream read directly and
 * through mpsockd, against a bare netlink listener (the issue: "the median
 * and 99th percentile delay from the kernel event to the application's
 * read, direct and through the broker, in one run").
 *
 * Usage: bench-events [-i ITERS] [-w WARMUP] [-p PAUSE_US] [-r READERS]
 *                     [-t destroy|reset] [-D MPSOCKD_PID]
 *                     HOST PORT LOCAL REMOTE
 *
 * Connects to HOST:PORT (an echo server) with IPPROTO_MPTCP, under the
 * userspace path manager, and exchanges data until the connection is fully
 * established.  Three readers of its events are then subscribed at once,
 * each in a thread of its own that waits in poll() and takes the time
 * (CLOCK_MONOTONIC) as soon as it holds the event:
 *
 *   (1) raw     a bare listener on the kernel's "mptcp_pm_events" group,
 *               written here with libmnl, not ours: one recv(), the
 *               attributes parsed, the token compared.  The floor: the
 *               kernel's delivery and one thread wake-up
 *   (2) direct  mpsock_events_open() with CAP_NET_ADMIN: the library
 *               reads the group itself, then mpsock_events_read()
 *   (3) broker  mpsock_events_open() with MPSOCK_USE_BROKER=1: subscribed
 *               at mpsockd, which must serve this network namespace and
 *               forwards the connection's events over its Unix socket
 *
 * Netlink delivers an event to its newest listener first, so they are
 * subscribed in the reverse order: mpsockd, (2), (1).  The floor is thus
 * served first, (2) after one more delivery, mpsockd after two.
 *
 * One cycle: open a subflow LOCAL:0 -> REMOTE:0 (the connection's port)
 * with mpsock_subflow_open_wait() (3 s at most), wait until every reader
 * has read its SUB_ESTABLISHED and sleeps in poll() again, then close
 * that subflow with one bare kernel command, token and tuple known in
 * advance, t0 taken just before it:
 *
 *   destroy  (default) the userspace PM's SUBFLOW_DESTROY, through the
 *            library's mps_pm_subflow_destroy() on its cached generic
 *            netlink socket.  The kernel closes the subflow and emits
 *            SUB_CLOSED inside the command (mptcp_close_ssk())
 *   reset    a sock_diag SOCK_DESTROY (RST), mps_diag_destroy() on a
 *            FULL_INFO snapshot taken before, as
 *            mpsock_subflow_close(MPTCP_SHUT_RST) does.  tcp_abort() only
 *            schedules the connection's worker, which emits SUB_CLOSED
 *            later, from a kernel thread
 *
 * The kernel event's instant is stamped in the kernel: a raw tracepoint
 * program on sched_waking (event_wake.bpf.c) notes when the kernel wakes
 * each reader's thread (and mpsockd, whose pid -D gives) while a close is
 * under way.  The only thing that can wake them then is the event's
 * delivery, so the earliest of those is the event's first delivery: the
 * "kernel event".  Each reader's delay is its read time minus that: one
 * close yields one sample per reader, the three under the same
 * conditions.  The delays from t0 are reported too, with where the event
 * fell between t0 and the command's return.  Without BPF (the program
 * does not load), delays are counted from t0.  Then a pause of PAUSE_US
 * (the server's in-kernel path manager rejects joins under fast churn).
 *
 * A fourth listener (the probe: subscribed first, so served last, and
 * never read during the command) is polled with a zero timeout right
 * after the command returns: queued means emitted inside the command.
 *
 * Every event is checked: the SUB_ESTABLISHED each reader read names the
 * subflow open reported (local address and port, remote; the id for (2)
 * and (3)), and the SUB_CLOSED names the subflow being closed, with no
 * error (destroy) or ECONNABORTED (reset), exactly once per reader and
 * cycle; the probe holds exactly that SUB_CLOSED.  Any other event of the
 * connection, a SUB_CLOSED at another time, a lost event, a reader that
 * misses one (2 s) or a close that woke no reader stops the run.  WARMUP
 * cycles, checked but not recorded, come first.
 *
 * -r takes a comma-separated subset of raw,direct,broker (default all):
 * a reader left out is not subscribed at all, so that runs with one
 * reader alone show what the others cost it (each subscribed listener
 * adds a delivery to the kernel's send, and a thread to wake).
 *
 * Output: per reader, the delay from the kernel event and from t0,
 *   reader=R n=N p50_us=X p90_us=Y p99_us=Z max_us=W
 *   reader=R from=t0 n=N ...
 * the command's own duration (trigger=subflow_destroy|sock_destroy ...),
 * the kernel event after t0 (event=after_t0) and the command's return
 * after the event (return=after_event, signed), the paired differences
 * per close (diff=A-B ..., signed), then a summary with the ratios to the
 * floor.  Exit status: 0, 2 on errors or a wrong event, 3 when the
 * connection did not come up in time, 64 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>
#include <bpf/libbpf.h>

#include "bench.h"
#include "bench-util.h"
#include "event_wake.skel.h"

#define MAXSF 16
#define OPEN_WAIT_MS 3000 /* for each subflow's handshake */
#define EVENT_WAIT_MS 2000 /* for every reader to read an event */
#define ECHO_EVERY 100 /* cycles between two checks of the connection */
#define WAKE_MPSOCKD R_COUNT /* event_wake's target slot of mpsockd */

enum reader_kind { R_RAW, R_DIRECT, R_BROKER, R_COUNT };

enum trigger { T_DESTROY, T_RESET, T_COUNT };

static const char *const trigger_opt[T_COUNT] = {
	[T_DESTROY] = "destroy",
	[T_RESET] = "reset",
};

static const char *const trigger_name[T_COUNT] = {
	[T_DESTROY] = "SUBFLOW_DESTROY",
	[T_RESET] = "SOCK_DESTROY",
};

static const char *const trigger_key[T_COUNT] = {
	[T_DESTROY] = "trigger=subflow_destroy",
	[T_RESET] = "trigger=sock_destroy",
};

/* The SUB_CLOSED error each trigger gives (kernel-facts.md Q2, Q5). */
static const unsigned int trigger_error[T_COUNT] = {
	[T_DESTROY] = 0,
	[T_RESET] = ECONNABORTED,
};

static const char *const reader_name[R_COUNT] = {
	[R_RAW] = "raw",
	[R_DIRECT] = "direct",
	[R_BROKER] = "broker",
};

static const char *const reader_label[R_COUNT] = {
	[R_RAW] = "(1) raw netlink",
	[R_DIRECT] = "(2) stream, direct",
	[R_BROKER] = "(3) stream, mpsockd",
};

/* What a reader read, reduced to what the checks need. */
enum ev_kind { E_ESTABLISHED, E_CLOSED, E_OTHER };

struct seen {
	enum ev_kind kind;
	unsigned int type; /* the reader's own type number, for messages */
	__u32 id; /* (2), (3): the library's subflow id */
	struct sockaddr_storage local, remote;
	unsigned int error;
};

/* A bare listener on the events group, libmnl only. */
struct raw_ev {
	struct mnl_socket *nl;
	unsigned int portid;
	uint32_t seq;
	uint16_t family;
	uint32_t group;
};

struct bench;

struct reader {
	enum reader_kind kind;
	struct bench *b;
	int fd; /* what the thread polls */
	struct raw_ev raw; /* (1) */
	struct mpsock_events *ev; /* (2), (3) */
	pthread_t thread;
	pid_t tid; /* under b->lock until started */
	int idle; /* atomic: about to sleep in poll() */
	uint64_t twake; /* the thread's own: when poll() returned */
	/* under b->lock */
	unsigned int n_est; /* SUB_ESTABLISHED read so far */
	struct seen est; /* the last one */
	unsigned int closed_cycle; /* cycle + 1 of the last SUB_CLOSED */
	uint64_t *t1; /* read time, per timed cycle */
	uint64_t *tw; /* when poll() returned before that read */
};

struct bench {
	int fd;
	__u32 token;
	struct sockaddr_storage local; /* LOCAL, port 0 */
	struct sockaddr_storage remote; /* REMOTE, port 0 */
	socklen_t addrlen;
	__be16 conn_port; /* PORT: the subflows' remote port */
	unsigned int pause_us;
	enum trigger trigger;
	bool on[R_COUNT];
	unsigned int nreaders;
	struct reader readers[R_COUNT];
	struct raw_ev probe; /* polled right after each trigger */
	int stop_fd; /* eventfd: the readers return */
	struct event_wake *wake; /* the kernel-side stamp, NULL: none */
	pid_t mpsockd_pid; /* -D: one more target of the stamp */

	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* under lock: the subflow being closed, and the readers' progress */
	bool armed;
	unsigned int cycle; /* every cycle, warm-up included */
	int slot; /* index of the timed sample, -1 in warm-up */
	__u32 exp_id;
	struct sockaddr_storage exp_local, exp_remote;
	unsigned int done; /* readers that read this cycle's SUB_CLOSED */
	bool failed;
	char why[512];

	/* main thread only */
	uint64_t *t0, *tret, *tev; /* tev: the kernel's first delivery */
	uint64_t *woke[R_COUNT + 1]; /* when each target was woken, 0: not */
	unsigned int nqueued; /* SUB_CLOSED already queued at the return */
	unsigned int nearly[R_COUNT]; /* read before the call returned */
	unsigned int opened;
};

static unsigned int sa_port(const struct sockaddr_storage *ss)
{
	return ntohs(mps_addr_port(ss));
}

static const char *sa_str(const struct sockaddr_storage *ss, char *buf,
			  size_t len)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
	snprintf(buf, len, ss->ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", a,
		 sa_port(ss));
	return buf;
}

/* ---- (1) the bare listener, libmnl only ---- */

static int raw_error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	(void)data;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (e->error) {
		errno = -e->error;
		return MNL_CB_ERROR;
	}
	return MNL_CB_STOP;
}

static mnl_cb_t raw_ctl_cb[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR] = raw_error_cb,
};

struct raw_grp {
	const char *name;
	uint32_t id;
};

static int raw_grp_attr_cb(const struct nlattr *attr, void *data)
{
	struct raw_grp *g = data;

	if (mnl_attr_get_type(attr) == CTRL_ATTR_MCAST_GRP_NAME &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		g->name = mnl_attr_get_str(attr);
	else if (mnl_attr_get_type(attr) == CTRL_ATTR_MCAST_GRP_ID &&
		 mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
		g->id = mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

static int raw_family_attr_cb(const struct nlattr *attr, void *data)
{
	struct raw_ev *r = data;
	struct nlattr *pos;

	if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID &&
	    mnl_attr_validate(attr, MNL_TYPE_U16) == 0)
		r->family = mnl_attr_get_u16(attr);
	if (mnl_attr_get_type(attr) != CTRL_ATTR_MCAST_GROUPS)
		return MNL_CB_OK;
	mnl_attr_for_each_nested(pos, attr)
	{
		struct raw_grp g = {0};

		mnl_attr_parse_nested(pos, raw_grp_attr_cb, &g);
		if (g.name && !strcmp(g.name, MPTCP_PM_EV_GRP_NAME))
			r->group = g.id;
	}
	return MNL_CB_OK;
}

static int raw_family_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr),
			      raw_family_attr_cb, data);
}

/* A socket on the events group: the family resolved, then joined. */
static void raw_open(struct raw_ev *r)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct genlmsghdr *gh;
	ssize_t n;
	int ret;

	memset(r, 0, sizeof(*r));
	r->nl = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	if (!r->nl)
		die("mnl_socket_open(NETLINK_GENERIC)");
	if (mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		die("mnl_socket_bind");
	r->portid = mnl_socket_get_portid(r->nl);
	r->seq = (uint32_t)time(NULL);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++r->seq;
	gh = mnl_nlmsg_put_extra_header(nlh, sizeof(*gh));
	gh->cmd = CTRL_CMD_GETFAMILY;
	gh->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, MPTCP_PM_NAME);
	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0)
		die("resolving the " MPTCP_PM_NAME " netlink family");
	do {
		n = mnl_socket_recvfrom(r->nl, buf, sizeof(buf));
		if (n < 0)
			die("resolving the " MPTCP_PM_NAME " netlink family");
		ret = mnl_cb_run2(buf, n, r->seq, r->portid, raw_family_cb, r,
				  raw_ctl_cb, NLMSG_MIN_TYPE);
	} while (ret == MNL_CB_OK);
	if (ret < 0)
		die("resolving the " MPTCP_PM_NAME " netlink family");
	if (!r->family || !r->group) {
		fprintf(stderr, "bench-events: no " MPTCP_PM_EV_GRP_NAME
				" group in the " MPTCP_PM_NAME " family\n");
		exit(2);
	}
	if (mnl_socket_setsockopt(r->nl, NETLINK_ADD_MEMBERSHIP, &r->group,
				  sizeof(r->group)) < 0)
		die("joining " MPTCP_PM_EV_GRP_NAME);
}

struct raw_event {
	uint8_t cmd;
	uint32_t token;
	struct sockaddr_storage local, remote;
	uint8_t error;
};

static void raw_put_addr(struct sockaddr_storage *ss, int family,
			 const void *addr)
{
	if (family == AF_INET) {
		ss->ss_family = AF_INET;
		memcpy(&((struct sockaddr_in *)ss)->sin_addr, addr, 4);
	} else {
		ss->ss_family = AF_INET6;
		memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr, addr, 16);
	}
}

static int raw_event_attr_cb(const struct nlattr *attr, void *data)
{
	struct raw_event *ev = data;
	const void *p = mnl_attr_get_payload(attr);
	uint16_t len = mnl_attr_get_payload_len(attr);

	switch (mnl_attr_get_type(attr)) {
	case MPTCP_ATTR_TOKEN:
		if (len == 4)
			ev->token = mnl_attr_get_u32(attr);
		break;
	case MPTCP_ATTR_SADDR4:
	case MPTCP_ATTR_SADDR6:
		if (len == 4 || len == 16)
			raw_put_addr(&ev->local, len == 4 ? AF_INET : AF_INET6,
				     p);
		break;
	case MPTCP_ATTR_DADDR4:
	case MPTCP_ATTR_DADDR6:
		if (len == 4 || len == 16)
			raw_put_addr(&ev->remote, len == 4 ? AF_INET : AF_INET6,
				     p);
		break;
	case MPTCP_ATTR_SPORT:
		/*
		 * network order; sin_port and sin6_port share one offset,
		 * so the port fits whichever family the address brings
		 */
		if (len == 2)
			((struct sockaddr_in *)&ev->local)->sin_port =
				mnl_attr_get_u16(attr);
		break;
	case MPTCP_ATTR_DPORT:
		if (len == 2)
			((struct sockaddr_in *)&ev->remote)->sin_port =
				mnl_attr_get_u16(attr);
		break;
	case MPTCP_ATTR_ERROR:
		if (len >= 1)
			ev->error = mnl_attr_get_u8(attr);
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

/* One event: its attributes parsed. */
static void raw_parse(const struct nlmsghdr *nlh, struct raw_event *ev)
{
	const struct genlmsghdr *gh = mnl_nlmsg_get_payload(nlh);

	memset(ev, 0, sizeof(*ev));
	ev->cmd = gh->cmd;
	mnl_attr_parse(nlh, sizeof(*gh), raw_event_attr_cb, ev);
}

/* ---- the readers ---- */

/* Stop the run from any thread: the main thread reports it. */
static void fail_locked(struct bench *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail_locked(struct bench *b, const char *fmt, ...)
{
	va_list ap;

	if (b->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(b->why, sizeof(b->why), fmt, ap);
	va_end(ap);
	b->failed = true;
	pthread_cond_broadcast(&b->cond);
}

static bool tuple_equal(const struct seen *s,
			const struct sockaddr_storage *local,
			const struct sockaddr_storage *remote)
{
	return mps_addr_equal(&s->local, local, true) &&
	       mps_addr_equal(&s->remote, remote, true);
}

/* A SUB_CLOSED: the subflow being closed, once, with the right error. */
static void got_closed(struct reader *r, uint64_t t, const struct seen *s)
{
	struct bench *b = r->b;
	char l[64], x[64];

	if (!b->armed) {
		fail_locked(b,
			    "reader %s, cycle %u: SUB_CLOSED of %s (id %u, "
			    "error %u) while no subflow was being closed (a "
			    "join rejected by the server?)",
			    reader_name[r->kind], b->cycle,
			    sa_str(&s->local, l, sizeof(l)), s->id, s->error);
		return;
	}
	if (!tuple_equal(s, &b->exp_local, &b->exp_remote) ||
	    (r->kind != R_RAW && s->id != b->exp_id) ||
	    s->error != trigger_error[b->trigger] ||
	    r->closed_cycle == b->cycle + 1) {
		fail_locked(b,
			    "reader %s, cycle %u: SUB_CLOSED of %s (id %u, "
			    "error %u)%s, expected %s (id %u, error %u)",
			    reader_name[r->kind], b->cycle,
			    sa_str(&s->local, l, sizeof(l)), s->id, s->error,
			    r->closed_cycle == b->cycle + 1 ? " twice" : "",
			    sa_str(&b->exp_local, x, sizeof(x)), b->exp_id,
			    trigger_error[b->trigger]);
		return;
	}
	r->closed_cycle = b->cycle + 1;
	if (b->slot >= 0) {
		r->t1[b->slot] = t;
		r->tw[b->slot] = r->twake;
	}
	/* wake the main thread once, when the last reader is done */
	if (++b->done == b->nreaders)
		pthread_cond_broadcast(&b->cond);
}

static void got(struct reader *r, uint64_t t, const struct seen *s)
{
	struct bench *b = r->b;

	pthread_mutex_lock(&b->lock);
	switch (s->kind) {
	case E_ESTABLISHED:
		r->n_est++;
		r->est = *s;
		pthread_cond_broadcast(&b->cond);
		break;
	case E_CLOSED:
		got_closed(r, t, s);
		break;
	case E_OTHER:
		fail_locked(b, "reader %s, cycle %u: unexpected event type %u",
			    reader_name[r->kind], b->cycle, s->type);
		break;
	}
	pthread_mutex_unlock(&b->lock);
}

static enum ev_kind raw_kind(uint8_t cmd)
{
	if (cmd == MPTCP_EVENT_SUB_ESTABLISHED)
		return E_ESTABLISHED;
	return cmd == MPTCP_EVENT_SUB_CLOSED ? E_CLOSED : E_OTHER;
}

static enum ev_kind stream_kind(__u32 type)
{
	if (type == MPSOCK_EVENT_SUBFLOW_ESTABLISHED)
		return E_ESTABLISHED;
	return type == MPSOCK_EVENT_SUBFLOW_CLOSED ? E_CLOSED : E_OTHER;
}

static int raw_read(struct reader *r)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	const struct nlmsghdr *nlh;
	struct raw_event ev;
	struct seen s;
	uint64_t t;
	int n;

	for (;;) {
		n = recv(r->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n)) {
			if (nlh->nlmsg_type != r->raw.family)
				continue;
			raw_parse(nlh, &ev);
			if (ev.token != r->b->token)
				continue;
			t = now_ns();
			memset(&s, 0, sizeof(s));
			s.type = ev.cmd;
			s.kind = raw_kind(ev.cmd);
			s.local = ev.local;
			s.remote = ev.remote;
			mps_addr_unmap(&s.local);
			mps_addr_unmap(&s.remote);
			s.error = ev.error;
			got(r, t, &s);
		}
	}
}

static int stream_read(struct reader *r)
{
	struct mpsock_event e;
	struct seen s;
	uint64_t t;

	while (mpsock_events_read(r->ev, &e) == 0) {
		t = now_ns();
		memset(&s, 0, sizeof(s));
		s.type = e.type;
		s.kind = stream_kind(e.type);
		s.id = e.subflow_id;
		s.local = e.local;
		s.remote = e.remote;
		s.error = e.error;
		got(r, t, &s);
	}
	return errno == EAGAIN ? 0 : -errno;
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct pollfd pfd[2] = {
		{.fd = r->fd, .events = POLLIN},
		{.fd = r->b->stop_fd, .events = POLLIN},
	};
	int err, n;

	pthread_mutex_lock(&r->b->lock);
	r->tid = gettid();
	pthread_cond_broadcast(&r->b->cond);
	pthread_mutex_unlock(&r->b->lock);
	for (;;) {
		__atomic_store_n(&r->idle, 1, __ATOMIC_SEQ_CST);
		n = poll(pfd, 2, -1);
		__atomic_store_n(&r->idle, 0, __ATOMIC_SEQ_CST);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (pfd[1].revents)
			return NULL;
		if (!pfd[0].revents)
			continue;
		r->twake = now_ns();
		err = r->kind == R_RAW ? raw_read(r) : stream_read(r);
		if (err)
			break;
	}
	pthread_mutex_lock(&r->b->lock);
	fail_locked(r->b, "reader %s, cycle %u: read: %s", reader_name[r->kind],
		    r->b->cycle, strerror(-err));
	pthread_mutex_unlock(&r->b->lock);
	return NULL;
}

static void set_use_broker(bool on)
{
	if (on ? setenv("MPSOCK_USE_BROKER", "1", 1)
	       : unsetenv("MPSOCK_USE_BROKER"))
		die("setenv(MPSOCK_USE_BROKER)");
}

/*
 * Subscribe everything, before any thread runs (setenv is not thread
 * safe).  The kernel delivers an event to the newest subscriber first:
 * the probe is subscribed first (served last), then mpsockd, the direct
 * stream and the raw listener (served first: the floor is the best case).
 */
static void readers_open(struct bench *b)
{
	struct reader *r;
	unsigned int k;

	raw_open(&b->probe);
	for (k = R_COUNT; k-- > 0;) {
		r = &b->readers[k];
		r->kind = k;
		r->b = b;
		if (!b->on[k])
			continue;
		if (k == R_RAW) {
			raw_open(&r->raw);
			r->fd = mnl_socket_get_fd(r->raw.nl);
			continue;
		}
		set_use_broker(k == R_BROKER);
		r->ev = mpsock_events_open(b->fd);
		set_use_broker(false);
		if (!r->ev) {
			fprintf(stderr,
				"bench-events: mpsock_events_open (%s): %s%s%s\n",
				reader_name[k], strerror(errno),
				*mpsock_errmsg() ? ": " : "", mpsock_errmsg());
			exit(2);
		}
		r->fd = mpsock_events_fd(r->ev);
	}
}

static bool all_started(const struct bench *b)
{
	unsigned int k;

	for (k = 0; k < R_COUNT; k++)
		if (b->on[k] && !b->readers[k].tid)
			return false;
	return true;
}

static void readers_start(struct bench *b)
{
	unsigned int k;
	int err;

	for (k = 0; k < R_COUNT; k++) {
		if (!b->on[k])
			continue;
		err = pthread_create(&b->readers[k].thread, NULL, reader_main,
				     &b->readers[k]);
		if (err)
			die_neg("pthread_create", -err);
	}
	pthread_mutex_lock(&b->lock);
	while (!all_started(b))
		pthread_cond_wait(&b->cond, &b->lock);
	pthread_mutex_unlock(&b->lock);
}

/*
 * The kernel-side stamp: the readers' threads (and mpsockd, with -D) as
 * targets.  Without it (no BPF here), delays are counted from t0.
 */
static void wake_open(struct bench *b)
{
	unsigned int k;
	int err;

	b->wake = event_wake__open_and_load();
	err = b->wake ? event_wake__attach(b->wake) : -errno;
	if (err) {
		printf("# no kernel-side stamp (raw_tp/sched_waking: %s): "
		       "delays counted from t0, before the command\n",
		       strerror(err < 0 ? -err : err));
		event_wake__destroy(b->wake);
		b->wake = NULL;
		return;
	}
	for (k = 0; k < R_COUNT; k++)
		if (b->on[k])
			b->wake->bss->targets[k] = b->readers[k].tid;
	b->wake->bss->targets[WAKE_MPSOCKD] = b->mpsockd_pid;
}

static void readers_stop(struct bench *b)
{
	uint64_t one = 1;
	unsigned int k;

	if (write(b->stop_fd, &one, sizeof(one)) != sizeof(one))
		die("write (eventfd)");
	for (k = 0; k < R_COUNT; k++) {
		if (!b->on[k])
			continue;
		pthread_join(b->readers[k].thread, NULL);
		if (k == R_RAW)
			mnl_socket_close(b->readers[k].raw.nl);
		else
			mpsock_events_close(b->readers[k].ev);
	}
	mnl_socket_close(b->probe.nl);
}

/* ---- one cycle ---- */

static void fail(struct bench *b, const char *what, int err, const char *msg)
{
	fprintf(stderr, "bench-events: cycle %u: %s: %s%s%s\n", b->cycle, what,
		strerror(err), msg && *msg ? ": " : "", msg ? msg : "");
	exit(2);
}

static void deadline_in(struct timespec *ts, unsigned int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

/* Under lock: every reader read the SUB_ESTABLISHED of open number n. */
static bool all_established(const struct bench *b, unsigned int n)
{
	unsigned int k;

	for (k = 0; k < R_COUNT; k++)
		if (b->on[k] && b->readers[k].n_est < n)
			return false;
	return true;
}

static void check_failed_locked(struct bench *b)
{
	if (!b->failed)
		return;
	fprintf(stderr, "bench-events: %s\n", b->why);
	exit(2);
}

/* The new subflow's SUB_ESTABLISHED, read by everyone, names it. */
static void wait_established(struct bench *b, __u32 id,
			     const struct sockaddr_storage *local,
			     const struct sockaddr_storage *remote)
{
	struct timespec ts;
	struct reader *r;
	char l[64], x[64];
	unsigned int k;
	int err = 0;

	deadline_in(&ts, EVENT_WAIT_MS);
	pthread_mutex_lock(&b->lock);
	while (!b->failed && !all_established(b, b->opened) && err == 0)
		err = pthread_cond_timedwait(&b->cond, &b->lock, &ts);
	check_failed_locked(b);
	for (k = 0; k < R_COUNT; k++) {
		r = &b->readers[k];
		if (!b->on[k])
			continue;
		if (r->n_est < b->opened) {
			fprintf(stderr,
				"bench-events: cycle %u: reader %s did not "
				"read the SUB_ESTABLISHED of subflow %u within "
				"%d ms\n",
				b->cycle, reader_name[k], id, EVENT_WAIT_MS);
			exit(2);
		}
		if (r->n_est > b->opened ||
		    !tuple_equal(&r->est, local, remote) ||
		    (k != R_RAW && r->est.id != id)) {
			fprintf(stderr,
				"bench-events: cycle %u: reader %s read "
				"SUB_ESTABLISHED number %u of %s (id %u), "
				"expected number %u of %s (id %u)\n",
				b->cycle, reader_name[k], r->n_est,
				sa_str(&r->est.local, l, sizeof(l)), r->est.id,
				b->opened, sa_str(local, x, sizeof(x)), id);
			exit(2);
		}
	}
	pthread_mutex_unlock(&b->lock);
}

/*
 * What the probe holds: @closed is set when it is the SUB_CLOSED of
 * @local.  Returns the number of our connection's events read.
 */
static unsigned int
probe_drain(struct bench *b, const struct sockaddr_storage *local, bool *closed)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	const struct nlmsghdr *nlh;
	struct raw_event ev;
	unsigned int count = 0;
	int n;

	for (;;) {
		n = recv(mnl_socket_get_fd(b->probe.nl), buf, sizeof(buf),
			 MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			return count;
		if (n < 0)
			die("recv (probe)");
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n)) {
			if (nlh->nlmsg_type != b->probe.family)
				continue;
			raw_parse(nlh, &ev);
			if (ev.token != b->token)
				continue;
			count++;
			mps_addr_unmap(&ev.local);
			if (closed && ev.cmd == MPTCP_EVENT_SUB_CLOSED &&
			    mps_addr_equal(&ev.local, local, true))
				*closed = true;
		}
	}
}

/* A task's state letter (R, S, D, ...) from /proc; '?' if unknown. */
static char task_state(pid_t pid, pid_t tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid,
		 (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the name may hold anything */
	return p && p[1] == ' ' ? p[2] : '?';
}

/*
 * Every target of the stamp asleep, so that the event is what wakes it:
 * each reader back in poll() (its flag, then its state), and mpsockd
 * done with what it forwarded.
 */
static bool target_busy(const struct bench *b, unsigned int k)
{
	if (k == WAKE_MPSOCKD)
		return task_state(b->mpsockd_pid, b->mpsockd_pid) != 'S';
	return !__atomic_load_n(&b->readers[k].idle, __ATOMIC_SEQ_CST) ||
	       task_state(getpid(), b->readers[k].tid) != 'S';
}

static void wait_idle(struct bench *b)
{
	uint64_t t0 = now_ns();
	unsigned int k;

	for (k = 0; k <= WAKE_MPSOCKD; k++) {
		if (k == WAKE_MPSOCKD ? !b->mpsockd_pid || !b->on[R_BROKER]
				      : !b->on[k])
			continue;
		while (target_busy(b, k)) {
			if (now_ns() - t0 > EVENT_WAIT_MS * 1000000ull) {
				fprintf(stderr,
					"bench-events: cycle %u: %s still "
					"busy after %d ms\n",
					b->cycle,
					k == WAKE_MPSOCKD ? "mpsockd"
							  : reader_name[k],
					EVENT_WAIT_MS);
				exit(2);
			}
			sleep_us(20);
		}
	}
}

static void wake_arm(struct bench *b)
{
	if (!b->wake)
		return;
	memset(b->wake->bss->woke, 0, sizeof(b->wake->bss->woke));
	__atomic_store_n(&b->wake->bss->armed, 1, __ATOMIC_SEQ_CST);
}

/* The kernel's first delivery: the earliest target it woke. */
static uint64_t wake_first(struct bench *b, uint64_t t0, int slot)
{
	uint64_t first = 0, w;
	unsigned int k;

	if (!b->wake)
		return t0;
	__atomic_store_n(&b->wake->bss->armed, 0, __ATOMIC_SEQ_CST);
	for (k = 0; k <= WAKE_MPSOCKD; k++) {
		w = __atomic_load_n(&b->wake->bss->woke[k], __ATOMIC_SEQ_CST);
		if (slot >= 0)
			b->woke[k][slot] = w;
		/* (3) is woken by mpsockd, not by the kernel's delivery */
		if (w && k != R_BROKER && (!first || w < first))
			first = w;
	}
	if (!first || first < t0) {
		fprintf(stderr,
			"bench-events: cycle %u: no listener woken by the "
			"event%s\n",
			b->cycle, first ? " after t0" : "");
		exit(2);
	}
	return first;
}

/* One cycle; @slot: index of its samples, -1 in warm-up. */
static void cycle(struct bench *b, int slot)
{
	struct mps_ctrl_result res;
	struct mps_snapshot snap;
	struct mps_genl *g;
	char msg[MPS_MSG_LEN] = "";
	struct pollfd pfd = {.fd = mnl_socket_get_fd(b->probe.nl),
			     .events = POLLIN};
	struct timespec ts;
	uint64_t t0, t1, tev;
	unsigned int idx, k, n;
	bool queued, closed = false;
	__u32 id = 0;
	int err = 0;

	/* the subflow to close, and its SUB_ESTABLISHED read everywhere */
	if (mpsock_subflow_open_wait(b->fd, (struct sockaddr *)&b->local,
				     (struct sockaddr *)&b->remote, b->addrlen,
				     0, OPEN_WAIT_MS, &id) < 0)
		fail(b, "mpsock_subflow_open_wait", errno, mpsock_errmsg());
	b->opened++;
	memset(&res, 0, sizeof(res));
	err = mps_ctrl_find(b->fd, id, &snap, &idx, &res);
	if (err)
		fail(b, "the new subflow", -err, res.msg);
	if (!mps_addr_equal(&res.local, &b->local, false) ||
	    !mps_addr_equal(&res.remote, &b->remote, false) ||
	    mps_addr_port(&res.remote) != b->conn_port) {
		char l[64], x[64];

		fprintf(stderr,
			"bench-events: cycle %u: subflow %u is %s -> %s\n",
			b->cycle, id, sa_str(&res.local, l, sizeof(l)),
			sa_str(&res.remote, x, sizeof(x)));
		exit(2);
	}
	wait_established(b, id, &res.local, &res.remote);
	probe_drain(b, NULL, NULL);
	err = mps_genl_cached(&g);
	if (err)
		fail(b, "the library's generic netlink socket", -err, NULL);
	wait_idle(b);

	pthread_mutex_lock(&b->lock);
	b->armed = true;
	b->slot = slot;
	b->exp_id = id;
	b->exp_local = res.local;
	b->exp_remote = res.remote;
	b->done = 0;
	pthread_mutex_unlock(&b->lock);
	wake_arm(b);

	t0 = now_ns();
	if (b->trigger == T_DESTROY)
		err = mps_pm_subflow_destroy(g, b->token, &res.local,
					     &res.remote, msg, sizeof(msg));
	else
		err = mps_diag_destroy(&snap, idx, 0);
	t1 = now_ns();
	queued = poll(&pfd, 1, 0) == 1;
	mps_snapshot_release(&snap);
	if (err)
		fail(b, trigger_name[b->trigger], -err, msg);

	deadline_in(&ts, EVENT_WAIT_MS);
	pthread_mutex_lock(&b->lock);
	err = 0;
	while (!b->failed && b->done < b->nreaders && err == 0)
		err = pthread_cond_timedwait(&b->cond, &b->lock, &ts);
	check_failed_locked(b);
	if (b->done < b->nreaders) {
		fprintf(stderr,
			"bench-events: cycle %u: only %u of %u readers read the "
			"SUB_CLOSED of subflow %u within %d ms\n",
			b->cycle, b->done, b->nreaders, id, EVENT_WAIT_MS);
		exit(2);
	}
	b->armed = false;
	tev = wake_first(b, t0, slot);
	if (slot >= 0) {
		b->t0[slot] = t0;
		b->tret[slot] = t1;
		b->tev[slot] = tev;
		b->nqueued += queued;
		for (k = 0; k < R_COUNT; k++)
			if (b->on[k] && b->readers[k].t1[slot] < t1)
				b->nearly[k]++;
	}
	pthread_mutex_unlock(&b->lock);

	/* the probe must hold exactly that SUB_CLOSED */
	n = probe_drain(b, &res.local, &closed);
	if (n != 1 || !closed) {
		fprintf(stderr,
			"bench-events: cycle %u: the probe read %u events of "
			"the connection after the close of subflow %u%s\n",
			b->cycle, n, id, closed ? "" : ", none its SUB_CLOSED");
		exit(2);
	}
	if (b->cycle % ECHO_EVERY == 0)
		echo_once(b->fd); /* the connection itself still works */
	sleep_us(b->pause_us);
}

static void run_cycles(struct bench *b, unsigned int iters, unsigned int warmup)
{
	unsigned int i;

	/* b->cycle counts every cycle, warm-up included */
	for (i = 0; i < warmup; i++, b->cycle++)
		cycle(b, -1);
	for (i = 0; i < iters; i++, b->cycle++)
		cycle(b, (int)i);
}

/* ---- the connection ---- */

/* ---- statistics and report ---- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Signed samples (paired differences), in microseconds. */
static struct stats stats_i64(int64_t *s, unsigned int n)
{
	struct stats st;
	unsigned int i90 = (unsigned int)(((uint64_t)n * 90) / 100);
	unsigned int i99 = (unsigned int)(((uint64_t)n * 99) / 100);

	qsort(s, n, sizeof(*s), cmp_i64);
	st.n = n;
	st.p50 = s[n / 2] / 1000.0;
	st.p90 = s[i90 < n ? i90 : n - 1] / 1000.0;
	st.p99 = s[i99 < n ? i99 : n - 1] / 1000.0;
	st.max = s[n - 1] / 1000.0;
	return st;
}

static struct stats stats_u64(uint64_t *s, unsigned int n)
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

static void print_stats(const char *key, const struct stats *s)
{
	printf("%s n=%u p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f\n", key,
	       s->n, s->p50, s->p90, s->p99, s->max);
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

/* The pairs of the paired differences: later reader minus earlier. */
static const enum reader_kind pairs[3][2] = {
	{R_DIRECT, R_RAW},
	{R_BROKER, R_RAW},
	{R_BROKER, R_DIRECT},
};

static void cell_of(char *cell, size_t len, const struct stats *s)
{
	snprintf(cell, len, "%.1f (%.1f / %.1f)", s->p50, s->p90, s->p99);
}

/*
 * When target @t was woken after the kernel event, for the cycles read by
 * reader @k.  Returns -1 when some cycle has no stamp for it (it was
 * running already, or it is not a listener).
 */
static int woken_stats(const struct bench *b, unsigned int t, unsigned int k,
		       uint64_t *d, unsigned int iters, struct stats *out)
{
	unsigned int i;

	if (!b->on[k])
		return -1;
	for (i = 0; i < iters; i++) {
		if (!b->woke[t][i] || b->woke[t][i] < b->tev[i])
			return -1;
		d[i] = b->woke[t][i] - b->tev[i];
	}
	*out = stats_u64(d, iters);
	return 0;
}

static void report(struct bench *b, unsigned int iters)
{
	struct stats st[R_COUNT], s0[R_COUNT], sw[R_COUNT], sk[R_COUNT + 1];
	struct stats trig, before, after, diff[3];
	bool have_k[R_COUNT + 1] = {false};
	char key[64], cell[40], cell0[40];
	uint64_t *d;
	int64_t *pd;
	unsigned int i, k, j;
	bool have[3] = {false};

	d = calloc(iters, sizeof(*d));
	pd = calloc(iters, sizeof(*pd));
	if (!d || !pd)
		die("calloc");
	for (k = 0; k < R_COUNT; k++) {
		if (!b->on[k])
			continue;
		for (i = 0; i < iters; i++)
			d[i] = b->readers[k].t1[i] - b->tev[i];
		st[k] = stats_u64(d, iters);
		snprintf(key, sizeof(key), "reader=%s", reader_name[k]);
		print_stats(key, &st[k]);
		for (i = 0; i < iters; i++)
			d[i] = b->readers[k].t1[i] - b->t0[i];
		s0[k] = stats_u64(d, iters);
		snprintf(key, sizeof(key), "reader=%s from=t0", reader_name[k]);
		print_stats(key, &s0[k]);
		for (i = 0; i < iters; i++)
			d[i] = b->readers[k].tw[i] - b->tev[i];
		sw[k] = stats_u64(d, iters);
		snprintf(key, sizeof(key), "polled=%s", reader_name[k]);
		print_stats(key, &sw[k]);
		if (b->wake && !woken_stats(b, k, k, d, iters, &sk[k])) {
			have_k[k] = true;
			snprintf(key, sizeof(key), "woken=%s", reader_name[k]);
			print_stats(key, &sk[k]);
		}
	}
	if (b->wake &&
	    !woken_stats(b, WAKE_MPSOCKD, R_BROKER, d, iters, &sk[R_COUNT])) {
		have_k[R_COUNT] = true;
		print_stats("woken=mpsockd", &sk[R_COUNT]);
	}
	for (i = 0; i < iters; i++)
		d[i] = b->tret[i] - b->t0[i];
	trig = stats_u64(d, iters);
	print_stats(trigger_key[b->trigger], &trig);
	for (i = 0; i < iters; i++)
		d[i] = b->tev[i] - b->t0[i];
	before = stats_u64(d, iters);
	print_stats("event=after_t0", &before);
	for (i = 0; i < iters; i++)
		pd[i] = (int64_t)(b->tret[i] - b->tev[i]);
	after = stats_i64(pd, iters);
	print_stats("return=after_event", &after);
	for (j = 0; j < 3; j++) {
		enum reader_kind x = pairs[j][0], y = pairs[j][1];

		if (!b->on[x] || !b->on[y])
			continue;
		for (i = 0; i < iters; i++)
			pd[i] = (int64_t)(b->readers[x].t1[i] -
					  b->readers[y].t1[i]);
		diff[j] = stats_i64(pd, iters);
		have[j] = true;
		snprintf(key, sizeof(key), "diff=%s-%s", reader_name[x],
			 reader_name[y]);
		print_stats(key, &diff[j]);
	}
	free(d);
	free(pd);

	printf("\nsummary: %u subflows closed by %s, each SUB_CLOSED read by "
	       "every reader;\nmedian (p90 / p99) in microseconds, ratios of "
	       "the delays from the kernel event to the floor (1)\n",
	       iters, trigger_name[b->trigger]);
	printf("  %-20s %-22s %7s %7s   %s\n", "reader",
	       b->wake ? "kernel event -> read" : "t0 -> read (no stamp)",
	       "p50/(1)", "p99/(1)", "t0 -> read");
	for (k = 0; k < R_COUNT; k++) {
		if (!b->on[k])
			continue;
		cell_of(cell, sizeof(cell), &st[k]);
		cell_of(cell0, sizeof(cell0), &s0[k]);
		if (b->on[R_RAW])
			printf("  %-20s %-22s %7.2f %7.2f   %s\n",
			       reader_label[k], cell,
			       ratio(st[k].p50, st[R_RAW].p50),
			       ratio(st[k].p99, st[R_RAW].p99), cell0);
		else
			printf("  %-20s %-22s %7s %7s   %s\n", reader_label[k],
			       cell, "-", "-", cell0);
	}
	cell_of(cell, sizeof(cell), &before);
	printf("  t0 (just before the command) -> kernel event: %s\n", cell);
	cell_of(cell, sizeof(cell), &trig);
	printf("  t0 -> the command's return:                   %s\n", cell);
	printf("\nwhere the time goes, from the kernel event, us: median "
	       "(p90 / p99)\n");
	printf("  %-20s %-22s %-22s %s\n", "reader", "thread woken",
	       "poll() returned", "event read");
	for (j = 0; j <= R_COUNT; j++) {
		/* mpsockd's row before (3), which it wakes */
		k = j == R_BROKER ? R_COUNT : j == R_COUNT ? R_BROKER : j;
		if (k == R_COUNT) {
			if (!have_k[k])
				continue;
			cell_of(cell, sizeof(cell), &sk[k]);
			printf("  %-20s %s   (mpsockd: reads, forwards to (3))\n",
			       "(3) via mpsockd", cell);
			continue;
		}
		if (!b->on[k])
			continue;
		if (have_k[k])
			cell_of(cell, sizeof(cell), &sk[k]);
		else
			snprintf(cell, sizeof(cell), "-");
		cell_of(cell0, sizeof(cell0), &sw[k]);
		printf("  %-20s %-22s %-22s %.1f (%.1f / %.1f)\n",
		       reader_label[k], cell, cell0, st[k].p50, st[k].p90,
		       st[k].p99);
	}
	printf("\nadded per close, paired (later reader minus earlier, same "
	       "close), us: median (p90 / p99)\n");
	for (j = 0; j < 3; j++) {
		if (!have[j])
			continue;
		snprintf(key, sizeof(key), "(%d)-(%d)", pairs[j][0] + 1,
			 pairs[j][1] + 1);
		cell_of(cell, sizeof(cell), &diff[j]);
		printf("  %-9s %s\n", key, cell);
	}
	printf("\nSUB_CLOSED already queued on the probe when %s "
	       "returned: %u of %u\n",
	       trigger_name[b->trigger], b->nqueued, iters);
	for (k = 0; k < R_COUNT; k++)
		if (b->on[k])
			printf("read before %s returned, %s: %u of %u\n",
			       trigger_name[b->trigger], reader_label[k],
			       b->nearly[k], iters);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench-events [-i ITERS] [-w WARMUP] [-p PAUSE_US] "
		"[-r raw,direct,broker]\n"
		"                    [-t destroy|reset] [-D MPSOCKD_PID] HOST "
		"PORT LOCAL REMOTE\n");
	exit(64);
}

static void parse_readers(struct bench *b, char *list)
{
	char *tok, *save = NULL;
	unsigned int k;

	memset(b->on, 0, sizeof(b->on));
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (k = 0; k < R_COUNT; k++)
			if (!strcmp(tok, reader_name[k]))
				break;
		if (k == R_COUNT)
			usage();
		b->on[k] = true;
	}
}

int main(int argc, char **argv)
{
	unsigned int iters = 1000, warmup = 20, k, port;
	struct bench *b;
	uint64_t t0;
	int opt;

	b = calloc(1, sizeof(*b));
	if (!b)
		die("calloc");
	b->pause_us = 2000;
	for (k = 0; k < R_COUNT; k++)
		b->on[k] = true;
	while ((opt = getopt(argc, argv, "i:w:p:r:t:D:")) != -1) {
		switch (opt) {
		case 'i':
			iters = parse_uint(optarg, 1000000, usage);
			break;
		case 'w':
			warmup = parse_uint(optarg, 100000, usage);
			break;
		case 'p':
			b->pause_us = parse_uint(optarg, 10000000, usage);
			break;
		case 'r':
			parse_readers(b, optarg);
			break;
		case 't':
			for (k = 0; k < T_COUNT; k++)
				if (!strcmp(optarg, trigger_opt[k]))
					break;
			if (k == T_COUNT)
				usage();
			b->trigger = k;
			break;
		case 'D':
			b->mpsockd_pid = parse_uint(optarg, 1 << 22, usage);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 4 || !iters)
		usage();
	for (k = 0; k < R_COUNT; k++)
		b->nreaders += b->on[k];
	if (!b->nreaders)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	set_use_broker(false);

	port = parse_uint(argv[optind + 1], 65535, usage);
	parse_addr(argv[optind + 2], 0, &b->local, &b->addrlen);
	parse_addr(argv[optind + 3], 0, &b->remote, &b->addrlen);
	if (b->local.ss_family != b->remote.ss_family)
		usage();
	b->conn_port = htons(port);
	b->t0 = calloc(iters, sizeof(uint64_t));
	b->tret = calloc(iters, sizeof(uint64_t));
	b->tev = calloc(iters, sizeof(uint64_t));
	if (!b->t0 || !b->tret || !b->tev)
		die("calloc");
	for (k = 0; k <= WAKE_MPSOCKD; k++) {
		b->woke[k] = calloc(iters, sizeof(uint64_t));
		if (!b->woke[k])
			die("calloc");
	}
	for (k = 0; k < R_COUNT; k++) {
		b->readers[k].t1 = calloc(iters, sizeof(uint64_t));
		b->readers[k].tw = calloc(iters, sizeof(uint64_t));
		if (!b->readers[k].t1 || !b->readers[k].tw)
			die("calloc");
	}
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	b->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (b->stop_fd < 0)
		die("eventfd");

	t0 = now_ns();
	b->fd = connect_mptcp(argv[optind], argv[optind + 1]);
	b->token = wait_fully_established(b->fd, t0, NULL);
	readers_open(b);
	readers_start(b);
	wake_open(b);
	printf("# subflows %s:0 -> %s:%u closed by %s, %u timed cycles "
	       "after %u warm-up, %u us pause\n",
	       argv[optind + 2], argv[optind + 3], port,
	       trigger_name[b->trigger], iters, warmup, b->pause_us);
	printf("# readers, each in its own thread, in the kernel's delivery "
	       "order:");
	for (k = 0; k < R_COUNT; k++)
		if (b->on[k])
			printf(" %s", reader_label[k]);
	printf(", then the probe\n");

	run_cycles(b, iters, warmup);
	echo_once(b->fd);
	readers_stop(b);

	report(b, iters);

	close(b->fd);
	close(b->stop_fd);
	for (k = 0; k < R_COUNT; k++) {
		free(b->readers[k].t1);
		free(b->readers[k].tw);
	}
	free(b->t0);
	free(b->tret);
	free(b->tev);
	for (k = 0; k <= WAKE_MPSOCKD; k++)
		free(b->woke[k]);
	event_wake__destroy(b->wake);
	free(b);
	return 0;
}
