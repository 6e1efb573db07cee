// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mpsock show: every MPTCP connection of the namespace with its owners and
 * subflows.  Connections and subflows come from two sock_diag dumps joined
 * on the token; owners from /proc; subflow ids (which only the connection's
 * own socket can tell, through MPTCP_FULL_INFO) from a copy of an owner's
 * descriptor where the caller may take one.  --watch shows them again every
 * interval, with each subflow's byte rates since the frame before.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "op/op.h"
#include "util/tcp_stats.h"

struct vec {
	void *v;
	size_t n, cap, size;
};

static int vec_push(struct vec *vec, const void *item)
{
	if (vec->n == vec->cap) {
		size_t cap = vec->cap ? vec->cap * 2 : 64;
		void *v = realloc(vec->v, cap * vec->size);

		if (!v)
			return -ENOMEM;
		vec->v = v;
		vec->cap = cap;
	}
	memcpy((char *)vec->v + vec->n * vec->size, item, vec->size);
	vec->n++;
	return 0;
}

static int push_msk(const struct mps_msk *m, void *data)
{
	return vec_push(data, m);
}

static int push_subflow(const struct mps_diag_subflow *sf, void *data)
{
	return vec_push(data, sf);
}

/*
 * --watch: each subflow's byte counters in the frame before, by socket
 * cookie (sorted), and in this one, for the rates between the two.
 */
struct sf_count {
	__u64 cookie, sent, received;
};

struct rates {
	struct vec prev, cur;
	double t_prev, t;
};

static int count_cmp(const void *a, const void *b)
{
	const struct sf_count *x = a, *y = b;

	return x->cookie < y->cookie ? -1 : x->cookie > y->cookie;
}

/* This frame's counters become the frame before. */
static void rates_next(struct rates *r)
{
	free(r->prev.v);
	r->prev = r->cur;
	r->cur.v = NULL;
	r->cur.n = r->cur.cap = 0;
	qsort(r->prev.v, r->prev.n, r->prev.size, count_cmp);
	r->t_prev = r->t;
}

static void rates_free(struct rates *r)
{
	free(r->prev.v);
	free(r->cur.v);
}

/*
 * Bytes per second sent and received since the frame before, where the
 * subflow was in it (not in the first frame, nor in a subflow's first).
 */
static void print_rates(struct rates *r, const struct mps_diag_subflow *sf,
			const struct mps_tcp_stats *st)
{
	struct sf_count c = {sf->sock.cookie, st->bytes_sent,
			     st->bytes_received};
	const struct sf_count *p = NULL;
	double dt = r->t - r->t_prev;

	vec_push(&r->cur, &c); /* without memory: no rate next time */
	if (r->prev.n)
		p = bsearch(&c, r->prev.v, r->prev.n, r->prev.size, count_cmp);
	if (!p || dt <= 0 || c.sent < p->sent || c.received < p->received)
		return;
	out_uint("rate_sent", " rate_sent:%llu",
		 (unsigned long long)((c.sent - p->sent) / dt + 0.5));
	out_uint("rate_received", " rate_received:%llu",
		 (unsigned long long)((c.received - p->received) / dt + 0.5));
}

/* The kernel's subflow ids of a connection, read through its socket. */
struct ids {
	struct mps_snapshot snap;
	bool known;
};

static void ids_read(struct ids *ids, const struct owner *o, unsigned int n)
{
	unsigned int i;
	int fd;

	ids->known = false;
	for (i = 0; i < n && !ids->known; i++) {
		fd = owner_take_fd(&o[i]);
		if (fd < 0)
			continue;
		ids->known = mps_snapshot_take(fd, &ids->snap) == 0;
		close(fd);
	}
}

static bool ids_find(const struct ids *ids, const struct mps_diag_subflow *sf,
		     __u32 *id)
{
	struct sockaddr_storage l, r;
	unsigned int i;

	for (i = 0; ids->known && i < ids->snap.count; i++) {
		mps_snapshot_tuple(&ids->snap, i, &l, &r);
		if (mps_addr_equal(&l, &sf->sock.local, true) &&
		    mps_addr_equal(&r, &sf->sock.remote, true)) {
			*id = ids->snap.info[i].id;
			return true;
		}
	}
	return false;
}

static void print_owners(const struct owner *o, unsigned int n)
{
	unsigned int i;

	out_begin_array("owners");
	out_text(n ? " users:(" : "");
	for (i = 0; i < n; i++) {
		/* one process may hold the socket in several descriptors */
		if (i && o[i].pid == o[i - 1].pid)
			continue;
		out_begin_object(NULL);
		out_text("%s(\"%s\",pid=%d)", i ? "," : "", o[i].comm,
			 o[i].pid);
		out_uint("pid", NULL, o[i].pid);
		out_str("cmd", NULL, o[i].comm);
		out_end_object();
	}
	out_text(n ? ")" : "");
	out_end_array();
}

static void print_subflow(const struct mps_diag_subflow *sf,
			  const struct ids *ids, struct rates *rates)
{
	struct mps_tcp_stats st;
	__u32 id;

	mps_tcp_stats_read(sf->tcpi, sf->tcpi_len, &st);
	out_begin_object(NULL);
	out_text(cli.oneline ? " " : "\t");
	if (ids_find(ids, sf, &id))
		out_uint("id", "id %llu ", id);
	out_uint("locid", "locid %llu", sf->mptcp.local_addr_id);
	out_uint("remid", " remid %llu", sf->mptcp.remote_addr_id);
	out_addr("saddr4", "saddr6", "sport", &sf->sock.local);
	out_addr("daddr4", "daddr6", "dport", &sf->sock.remote);
	out_str("state", " %s", tcp_state_name(sf->sock.state));
	out_bool("backup", " backup",
		 sf->mptcp.flags & MPTCP_SUBFLOW_FLAG_BKUP_LOC);
	out_bool("backup_remote", " backup-remote",
		 sf->mptcp.flags & MPTCP_SUBFLOW_FLAG_BKUP_REM);
	out_bool("join", " join",
		 sf->mptcp.flags & (MPTCP_SUBFLOW_FLAG_JOIN_LOC |
				    MPTCP_SUBFLOW_FLAG_JOIN_REM));
	out_bool("fully_established", " fully-established",
		 sf->mptcp.flags & MPTCP_SUBFLOW_FLAG_FULLY_ESTABLISHED);
	out_hex("flags", NULL, sf->mptcp.flags);
	out_double("rtt", " rtt:%.3f", st.rtt_us / 1000.0);
	out_double("rttvar", "/%.3f", st.rttvar_us / 1000.0);
	out_uint("bytes_sent", " bytes_sent:%llu", st.bytes_sent);
	out_uint("bytes_acked", " bytes_acked:%llu", st.bytes_acked);
	out_uint("bytes_received", " bytes_received:%llu", st.bytes_received);
	if (rates)
		print_rates(rates, sf, &st);
	out_end_object();
	if (!cli.oneline)
		out_newline();
}

static void print_connection(const struct mps_msk *m, const struct vec *sfs,
			     const struct owner_table *owners,
			     struct rates *rates)
{
	const struct mps_diag_subflow *sf = sfs->v;
	const struct owner *o;
	struct ids ids = {.known = false};
	unsigned int n;
	size_t i;
	char token[16];

	n = owners_of(owners, m->sock.inode, &o);
	ids_read(&ids, o, n);
	snprintf(token, sizeof(token), "%08x", m->token);
	out_begin_object(NULL);
	out_str("token", "token %s", token);
	out_str("state", " %s", tcp_state_name(m->sock.state));
	out_addr("saddr4", "saddr6", "sport", &m->sock.local);
	out_addr("daddr4", "daddr6", "dport", &m->sock.remote);
	out_uint("inode", NULL, m->sock.inode);
	out_uint("uid", " uid %llu", m->sock.uid);
	print_owners(o, n);
	if (!cli.oneline)
		out_newline();
	out_begin_array("subflows");
	for (i = 0; i < sfs->n; i++)
		if (sf[i].mptcp.token == m->token)
			print_subflow(&sf[i], &ids, rates);
	out_end_array();
	out_end_object();
	if (cli.oneline)
		out_newline();
	if (ids.known)
		mps_snapshot_release(&ids.snap);
}

struct show_opts {
	__u32 token;
	bool filter, watch;
	double interval;
	struct rates rates;
};

/*
 * --watch: a frame's header (text) or its opening (JSON, one object), with
 * the time its subflows were read.
 */
static void frame_begin(const struct show_opts *o, const struct timespec *now)
{
	struct tm tm;
	char when[32];

	if (cli.json) {
		out_begin_object(NULL);
		out_double("timestamp", NULL, now->tv_sec + now->tv_nsec / 1e9);
		out_double("interval", NULL, o->interval);
		out_begin_array("connections");
		return;
	}
	if (cli.no_header)
		return;
	localtime_r(&now->tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	printf("Every %gs: mpsock show", o->interval);
	if (o->filter)
		printf(" token %08x", o->token);
	printf("  %s.%03ld\n", when, now->tv_nsec / 1000000);
}

static void frame_end(void)
{
	if (cli.json) {
		out_end_array();
		out_end_object();
	} else {
		out_newline(); /* a blank line ends each frame */
	}
}

/* One view of the namespace: an array, or with --watch a frame. */
static int show_once(void *data)
{
	struct show_opts *o = data;
	struct vec msks = {.size = sizeof(struct mps_msk)};
	struct vec sfs = {.size = sizeof(struct mps_diag_subflow)};
	struct rates *rates = o->watch ? &o->rates : NULL;
	struct owner_table *owners;
	struct timespec ts, wall;
	const struct mps_msk *m;
	size_t i;
	int err;

	err = mps_diag_msk_dump(push_msk, &msks);
	if (!err) {
		/* the rates' clock, and the frame's time for people */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		clock_gettime(CLOCK_REALTIME, &wall);
		err = mps_diag_subflow_dump(push_subflow, &sfs);
	}
	if (err)
		goto out;
	owners = owners_scan();
	if (rates)
		rates->t = ts.tv_sec + ts.tv_nsec / 1e9;
	m = msks.v;
	if (o->watch)
		frame_begin(o, &wall);
	else
		out_begin_array(NULL);
	for (i = 0; i < msks.n; i++)
		if (m[i].has_info && (!o->filter || m[i].token == o->token))
			print_connection(&m[i], &sfs, owners, rates);
	if (o->watch)
		frame_end();
	else
		out_end_array();
	out_flush();
	if (rates)
		rates_next(rates);
	owners_free(owners);
out:
	free(msks.v);
	free(sfs.v);
	return err;
}

int cmd_show(int argc, char **argv)
{
	struct show_opts o = {
		.interval = 1,
		.rates = {.prev = {.size = sizeof(struct sf_count)},
			  .cur = {.size = sizeof(struct sf_count)}},
	};
	bool interval = false;
	int err;

	while (argc > 0) {
		if (!strcmp(*argv, "--watch")) {
			o.watch = true;
			argc--;
			argv++;
		} else if (!strcmp(*argv, "-i")) {
			if (argc < 2 ||
			    parse_seconds(argv[1], 0.1, 3600, &o.interval))
				return usage_error(
					"show: -i needs SECONDS from "
					"0.1 to 3600 (got \"%s\")",
					argc > 1 ? argv[1] : "");
			interval = true;
			argc -= 2;
			argv += 2;
		} else if (matches(*argv, "token")) {
			if (argc < 2 || parse_token(argv[1], &o.token))
				return usage_error("show: token needs a "
						   "hexadecimal TOKEN (got "
						   "\"%s\")",
						   argc > 1 ? argv[1] : "");
			o.filter = true;
			argc -= 2;
			argv += 2;
		} else {
			return usage_error("show: unknown argument \"%s\"",
					   *argv);
		}
	}
	if (interval && !o.watch)
		return usage_error("show: -i goes with --watch");
	if (o.watch)
		err = watch_run(o.interval, show_once, &o);
	else
		err = show_once(&o);
	rates_free(&o.rates);
	if (err == -EIO)
		return EXIT_FAIL; /* standard output: nowhere to say it */
	if (err)
		return fail("show", err,
			    "reading sockets with sock_diag failed");
	return 0;
}
