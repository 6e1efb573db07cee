// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Per-subflow socket options through the BPF program of
 * bpf/subflow_sockopt.bpf.c: store a request for the subflow's 4-tuple in
 * the program's map, then make the kernel run the program on exactly that
 * subflow with a SET_FLAGS that keeps the subflow's backup flag as it is.
 * Loading the program needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN: it is
 * done once per process, by mpsockd or by a privileged application.
 */
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "subflow_sockopt.h"
#include "subflow_sockopt.skel.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

static pthread_mutex_t bpf_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t req_lock = PTHREAD_MUTEX_INITIALIZER;
static struct subflow_sockopt *skel;
static int load_err;
static const char *load_step = "";

/* The cgroup v2 hierarchy's root: the program covers every socket. */
static int cgroup2_root(void)
{
	struct mntent *m;
	FILE *f = setmntent("/proc/self/mounts", "re");
	int fd = -ENOENT;

	if (!f)
		return -errno;
	while ((m = getmntent(f))) {
		if (!strcmp(m->mnt_type, "cgroup2")) {
			fd = open(m->mnt_dir,
				  O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0)
				fd = -errno;
			break;
		}
	}
	endmntent(f);
	return fd;
}

/* One pass of the iterator marks the subflows established before us. */
static int mark_existing(struct subflow_sockopt *s)
{
	struct bpf_link *link;
	char buf[64];
	int fd, err = 0;

	link = bpf_program__attach_iter(s->progs.mpsock_mark_subflows, NULL);
	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
out:
	bpf_link__destroy(link);
	return err;
}

static int bpf_load(void)
{
	struct subflow_sockopt *s;
	int cg, err;

	load_step = "loading the program";
	s = subflow_sockopt__open_and_load();
	if (!s) {
		mps_log("cannot load the per-subflow option program: %s",
			strerror(errno));
		return -errno;
	}
	load_step = "finding a cgroup v2 hierarchy";
	cg = cgroup2_root();
	if (cg < 0) {
		mps_log("no cgroup v2 hierarchy to attach to");
		err = cg;
		goto fail;
	}
	load_step = "attaching it to the cgroup v2 root";
	s->links.mpsock_subflow_sockops =
		bpf_program__attach_cgroup(s->progs.mpsock_subflow_sockops, cg);
	close(cg);
	if (!s->links.mpsock_subflow_sockops) {
		err = -errno;
		goto fail;
	}
	load_step = "marking the existing subflows";
	err = mark_existing(s);
	if (err)
		goto fail;
	skel = s;
	return 0;
fail:
	subflow_sockopt__destroy(s);
	return err;
}

/* Which step of loading failed, for messages. */
const char *mps_sockopt_load_step(void)
{
	return load_step;
}

/* Load and attach once; later calls reuse it, or repeat the first error. */
int mps_sockopt_prepare(void)
{
	int err;

	pthread_mutex_lock(&bpf_lock);
	if (!skel && !load_err)
		load_err = bpf_load();
	err = skel ? 0 : load_err;
	pthread_mutex_unlock(&bpf_lock);
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

int mps_ctrl_sockopt(int fd, __u32 id, bool set, int level, int optname,
		     void *val, socklen_t *len, struct mps_ctrl_result *res)
{
	struct mps_sf_req req = {0};
	struct mps_snapshot snap;
	struct mps_sf_diag d;
	struct mps_sf_key k;
	struct mps_genl *g;
	socklen_t cl = sizeof(__u64);
	unsigned int i;
	__u64 netns;
	int mfd, err;

	memset(res, 0, sizeof(*res));
	if (*len < 1 || *len > MPS_SOCKOPT_VAL_MAX)
		return -EINVAL;
	err = mps_sockopt_prepare();
	if (err) {
		snprintf(res->msg, sizeof(res->msg),
			 "per-subflow option program: %s failed (%s)",
			 load_step, strerror(-err));
		return err;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &netns, &cl) < 0)
		return -errno;
	err = mps_ctrl_find(fd, id, &snap, &i, res);
	if (err)
		return err;
	/* SET_FLAGS always sets the flag: send the one the subflow has */
	err = mps_diag_lookup(&snap, &i, 1, &d);
	if (!err && !d.found)
		err = -ESRCH;
	if (err)
		goto out;
	key_fill(&k, netns, &snap.info[i]);
	req.level = level;
	req.optname = optname;
	req.optlen = *len;
	req.op = set ? MPS_SOCKOPT_SET : MPS_SOCKOPT_GET;
	memcpy(req.val, val, *len);
	mfd = bpf_map__fd(skel->maps.requests);
	/* threads asking for one subflow would share its map entry */
	pthread_mutex_lock(&req_lock);
	if (bpf_map_update_elem(mfd, &k, &req, BPF_ANY) < 0) {
		err = -errno;
		pthread_mutex_unlock(&req_lock);
		goto out;
	}
	err = mps_genl_cached(&g);
	if (!err)
		err = mps_pm_set_backup(g, res->token, &res->local,
					&res->remote,
					d.flags & MPTCP_SUBFLOW_FLAG_BKUP_LOC,
					res->msg, sizeof(res->msg));
	if (!err && bpf_map_lookup_elem(mfd, &k, &req) < 0)
		err = -errno;
	bpf_map_delete_elem(mfd, &k);
	pthread_mutex_unlock(&req_lock);
	if (err) {
		err = mps_ctrl_kernel_errno(err, res->msg);
		goto out;
	}
	if (!req.done) {
		snprintf(res->msg, sizeof(res->msg),
			 "the subflow's option hook did not run");
		err = -EIO;
		goto out;
	}
	err = req.result;
	if (err == -524) /* the kernel's internal ENOTSUPP */
		err = -EOPNOTSUPP;
	if (!err && !set)
		memcpy(val, req.val, *len);
out:
	mps_snapshot_release(&snap);
	return err;
}
