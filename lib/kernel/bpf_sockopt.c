// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Per-subflow socket options through the BPF programs of
 * bpf/subflow_sockopt.bpf.c: store a request for the subflow's 4-tuple in
 * the programs' map, then make the kernel run a program on exactly that
 * subflow, by the path the running kernel allows for that option (learnt
 * by bpf_probe.c at load, or on first use): a SET_FLAGS that keeps the
 * subflow's backup flag as it is (the header-option callback), or one pass
 * of the TCP iterator.  Loading needs CAP_BPF, CAP_PERFMON and
 * CAP_NET_ADMIN: it is done once per process, by mpsockd or by a
 * privileged application.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kernel/bpf_sockopt.h"
#include "subflow_sockopt.skel.h"

_Static_assert(MPS_SUBOPT_VAL_MAX == MPS_SOCKOPT_VAL_MAX,
	       "kernel.h's bound is the program's");

static pthread_mutex_t bpf_lock = PTHREAD_MUTEX_INITIALIZER;
/* one request in the map per subflow at a time; guards caps.path too */
static pthread_mutex_t req_lock = PTHREAD_MUTEX_INITIALIZER;
static struct subflow_sockopt *skel;
static int load_err;
static char status[256] = "not loaded";
static struct mps_sockopt_caps caps;

/* One pass of the iterator marks the subflows established before us. */
static int iter_run(struct bpf_program *prog, struct bpf_link *link)
{
	struct bpf_link *own = NULL;
	char buf[64];
	int fd, err = 0;

	if (!link) {
		link = own = bpf_program__attach_iter(prog, NULL);
		if (!link)
			return -errno;
	}
	/* it walks the namespace of the thread that creates it: ours */
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
out:
	bpf_link__destroy(own);
	return err;
}

int mps_sockopt_iter_pass(void *unused)
{
	(void)unused;
	return iter_run(skel->progs.mpsock_subflow_iter,
			skel->links.mpsock_subflow_iter);
}

/* libbpf's messages go where ours go: nowhere unless MPSOCK_DEBUG asks. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	char line[256];

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	mps_log("libbpf: %s", line);
	return 0;
}

static int bpf_load(void)
{
	struct subflow_sockopt *s;
	libbpf_print_fn_t prev;
	int cg, err = 0;

	/* the application's own libbpf logging is restored at once */
	prev = libbpf_set_print(libbpf_print);
	s = subflow_sockopt__open_and_load();
	libbpf_set_print(prev);
	if (!s) {
		err = -errno;
		snprintf(status, sizeof(status),
			 "the program does not load (%s): it needs kernel "
			 "BTF, CAP_BPF and CAP_PERFMON",
			 strerror(-err));
		return err;
	}
	cg = mps_cgroup2_open(caps.where, sizeof(caps.where));
	if (cg < 0) {
		snprintf(status, sizeof(status), "no cgroup v2 hierarchy: %s",
			 caps.where);
		err = cg;
		goto fail;
	}
	s->links.mpsock_subflow_sockops =
		bpf_program__attach_cgroup(s->progs.mpsock_subflow_sockops, cg);
	close(cg);
	if (!s->links.mpsock_subflow_sockops) {
		err = -errno;
		snprintf(status, sizeof(status),
			 "attaching to the cgroup v2 root (%s) failed: %s",
			 caps.where, strerror(-err));
		goto fail;
	}
	s->links.mpsock_subflow_iter =
		bpf_program__attach_iter(s->progs.mpsock_subflow_iter, NULL);
	if (!s->links.mpsock_subflow_iter)
		err = -errno;
	if (!err)
		err = iter_run(s->progs.mpsock_mark_subflows, NULL);
	if (err) {
		snprintf(status, sizeof(status),
			 "the TCP iterator does not run: %s", strerror(-err));
		goto fail;
	}
	skel = s;
	snprintf(status, sizeof(status), "attached at %s", caps.where);
	return 0;
fail:
	subflow_sockopt__destroy(s);
	return err;
}

const char *mps_sockopt_status(void)
{
	return status;
}

/* Load and attach once; later calls reuse it, or repeat the first error. */
int mps_sockopt_prepare(void)
{
	int err;

	pthread_mutex_lock(&bpf_lock);
	if (!skel && !load_err) {
		load_err = bpf_load();
		if (!load_err)
			mps_sockopt_probe(&caps);
		if (load_err)
			mps_log("per-subflow options: %s", status);
	}
	err = skel ? 0 : load_err;
	pthread_mutex_unlock(&bpf_lock);
	return err;
}

const char *mps_sockopt_path_name(int path)
{
	switch (path) {
	case MPS_PATH_HDR:
		return "header-option callback";
	case MPS_PATH_ITER:
		return "TCP iterator (walks the TCP table: milliseconds)";
	case MPS_PATH_NONE:
		return "refused by this kernel";
	default:
		return "not known yet";
	}
}

void mps_sockopt_get_caps(struct mps_sockopt_caps *out)
{
	pthread_mutex_lock(&req_lock);
	*out = caps;
	pthread_mutex_unlock(&req_lock);
}

int mps_sockopt_run(const struct mps_sf_key *k, struct mps_sf_req *req,
		    mps_sockopt_trigger trigger, void *ctx)
{
	int mfd = bpf_map__fd(skel->maps.requests), err;

	req->done = 0;
	req->result = 0;
	if (bpf_map_update_elem(mfd, k, req, BPF_ANY) < 0)
		return -errno;
	err = trigger(ctx);
	if (!err && bpf_map_lookup_elem(mfd, k, req) < 0)
		err = -errno;
	bpf_map_delete_elem(mfd, k);
	if (!err && !req->done)
		err = -EIO;
	return err;
}

static void key_fill(struct mps_sf_key *k, __u64 netns,
		     const struct mptcp_subflow_info *sfi)
{
	const struct mptcp_subflow_addrs *a = &sfi->addrs;

	memset(k, 0, sizeof(*k));
	k->netns = netns;
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
}

/* The header-option path's trigger: MP_PRIO with the flag unchanged. */
static int set_flags_trigger(void *arg)
{
	struct mps_sockopt_req *r = arg;
	struct mps_genl *g;
	int err;

	err = mps_genl_cached(&g);
	if (!err)
		err = mps_pm_set_backup(g, r->token, r->local, r->remote,
					r->backup, r->msg, MPS_MSG_LEN);
	return err ? mps_pm_errno(err, r->msg) : 0;
}

/*
 * Run @req by @path; an option whose path is not known yet tries the
 * header-option callback first and the iterator if the kernel refuses it
 * there, and the answer is kept for the process's lifetime.
 */
static int run_by_path(const struct mps_sf_key *k, struct mps_sf_req *req,
		       __u8 *path, struct mps_sockopt_req *r)
{
	struct mps_sf_req tmpl = *req;
	bool refused = false;
	int err;

	if (*path != MPS_PATH_ITER) {
		req->via = MPS_SOCKOPT_VIA_HDR;
		err = mps_sockopt_run(k, req, set_flags_trigger, r);
		/*
		 * -EIO: the callback did not run on it (a subflow outside the
		 * cgroup the program covers): the iterator reaches any socket
		 */
		if (err && err != -EIO)
			return err;
		if (!err && *path == MPS_PATH_HDR)
			return 0;
		refused = !err && mps_sockopt_refused(req->result);
		if (!err && !refused) {
			*path = MPS_PATH_HDR;
			return 0;
		}
		*req = tmpl;
	}
	req->via = MPS_SOCKOPT_VIA_ITER;
	err = mps_sockopt_run(k, req, mps_sockopt_iter_pass, NULL);
	/* a verdict on the header-option path is needed to keep one */
	if (!err && *path == MPS_PATH_UNKNOWN && refused)
		*path = mps_sockopt_refused(req->result) ? MPS_PATH_NONE
							 : MPS_PATH_ITER;
	return err;
}

int mps_sockopt_path(unsigned int opt, bool set)
{
	int path;

	pthread_mutex_lock(&req_lock);
	path = caps.path[opt][set];
	pthread_mutex_unlock(&req_lock);
	return path;
}

int mps_sockopt_run_req(struct mps_sockopt_req *r, unsigned int opt,
			int *result)
{
	struct mps_sf_req req = {0};
	struct mps_sf_key k;
	int err;

	if (r->len < 1 || r->len > MPS_SOCKOPT_VAL_MAX ||
	    opt >= MPS_SUBOPT_COUNT)
		return -EINVAL;
	key_fill(&k, r->netns, r->sfi);
	req.level = r->level;
	req.optname = r->optname;
	req.optlen = r->len;
	req.op = r->set ? MPS_SOCKOPT_SET : MPS_SOCKOPT_GET;
	memcpy(req.val, r->val, r->len);
	pthread_mutex_lock(&req_lock);
	err = run_by_path(&k, &req, &caps.path[opt][r->set], r);
	pthread_mutex_unlock(&req_lock);
	if (err)
		return err;
	*result = req.result;
	if (!req.result && !r->set)
		memcpy(r->val, req.val, r->len);
	return 0;
}
