// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Subflow control on one connection: open (SUBFLOW_CREATE), close
 * gracefully (SUBFLOW_DESTROY: FIN) or with a reset (SOCK_DESTROY: RST),
 * and change a subflow's backup priority (SET_FLAGS: MP_PRIO).  These run
 * with CAP_NET_ADMIN, in a privileged application or in mpsockd; either
 * way the connection is named by the application's own socket.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "op/op.h"

int mps_ctrl_check_open_args(const struct sockaddr *local,
			     const struct sockaddr *remote, socklen_t addrlen,
			     struct sockaddr_storage *l,
			     struct sockaddr_storage *r)
{
	if (!local || !remote)
		return -EFAULT;
	if (local->sa_family != remote->sa_family)
		return -EINVAL;
	if (!(local->sa_family == AF_INET &&
	      addrlen == sizeof(struct sockaddr_in)) &&
	    !(local->sa_family == AF_INET6 &&
	      addrlen == sizeof(struct sockaddr_in6)))
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	memset(r, 0, sizeof(*r));
	memcpy(l, local, addrlen);
	memcpy(r, remote, addrlen);
	return 0;
}

/*
 * The source address the kernel's routing picks for @remote, asked the
 * cheap way (a connected UDP socket sends nothing).  Resolving it here
 * keeps one address under one id in the connection's table (Q7: a wildcard
 * local address gets an id assigned implicitly).
 */
static int route_source(const struct sockaddr_storage *remote,
			struct sockaddr_storage *local)
{
	socklen_t len = sizeof(*local);
	__be16 port = mps_addr_port(local);
	int s, err = 0;

	s = socket(remote->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (connect(s, (const struct sockaddr *)remote,
		    mps_sockaddr_len(remote->ss_family)) < 0 ||
	    getsockname(s, (struct sockaddr *)local, &len) < 0)
		err = -errno;
	close(s);
	mps_addr_set_port(local, port);
	return err;
}

/*
 * The address id for @local.  The kernel keys its per-connection table by
 * address and port, and refuses an address under a second id or an id for
 * a second address ("did not match address and id"), so reuse the entry's
 * id, give the initial subflow's address its id 0, and otherwise take the
 * lowest free id.
 */
int mps_local_id_for(struct mps_genl *g, __u32 token,
		     const struct sockaddr_storage *initial,
		     const struct sockaddr_storage *local, char *msg,
		     size_t msglen)
{
	struct mps_local_id tab[64];
	bool used[256] = {false}, zero_free = true;
	int n, i;

	n = mps_pm_local_ids(g, token, tab, 64, msg, msglen);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		if (mps_addr_equal(&tab[i].addr, local, true))
			return tab[i].id;
		used[tab[i].id] = true;
		if (!tab[i].id)
			zero_free = false;
	}
	if (zero_free && !mps_addr_port(local) && initial &&
	    mps_addr_equal(initial, local, false))
		return 0;
	for (i = 1; i < 256; i++)
		if (!used[i])
			return i;
	return -ENOSPC;
}

static int local_id_for(struct mps_genl *g, int fd, __u32 token,
			const struct sockaddr_storage *local, char *msg,
			size_t msglen)
{
	struct sockaddr_storage initial;
	socklen_t len = sizeof(initial);

	memset(&initial, 0, sizeof(initial));
	if (getsockname(fd, (struct sockaddr *)&initial, &len) == 0)
		mps_addr_unmap(&initial);
	return mps_local_id_for(g, token, &initial, local, msg, msglen);
}

static __u32 snapshot_max_id(const struct mps_snapshot *snap)
{
	__u32 max = 0;
	unsigned int i;

	for (i = 0; i < snap->count; i++)
		if (snap->info[i].id > max)
			max = snap->info[i].id;
	return max;
}

/* The subflow SUBFLOW_CREATE just made: a new id with our addresses. */
static int find_new(int fd, __u32 after, const struct sockaddr_storage *local,
		    const struct sockaddr_storage *remote,
		    struct mps_ctrl_result *res)
{
	struct sockaddr_storage l, r;
	struct mps_snapshot snap;
	unsigned int i;
	int err;

	err = mps_snapshot_take(fd, &snap);
	if (err)
		return err;
	err = -ECONNREFUSED;
	for (i = 0; i < snap.count; i++) {
		if (snap.info[i].id <= after || !mps_snapshot_live(&snap, i))
			continue;
		mps_snapshot_tuple(&snap, i, &l, &r);
		if (!mps_addr_equal(&l, local, !!mps_addr_port(local)) ||
		    !mps_addr_equal(&r, remote, true))
			continue;
		res->id = snap.info[i].id;
		res->local = l;
		res->remote = r;
		err = 0;
	}
	mps_snapshot_release(&snap);
	if (err)
		snprintf(res->msg, sizeof(res->msg),
			 "the subflow closed while it was being created");
	return err;
}

/*
 * A concrete local address binds the subflow to the interface that owns
 * it, so that it leaves there even where routing would send that source
 * out through another interface (a host without source-based policy
 * routing); MPS_CTRL_OPEN_UNBOUND, or a wildcard source, leaves the
 * choice to routing.
 */
int mps_ctrl_open(int fd, const struct sockaddr_storage *local_in,
		  const struct sockaddr_storage *remote_in, unsigned int how,
		  struct mps_ctrl_result *res)
{
	struct sockaddr_storage local = *local_in, remote = *remote_in;
	bool backup = how & MPS_CTRL_OPEN_BACKUP;
	struct mps_snapshot snap;
	int id, err, tries, ifindex = 0;
	struct mps_genl *g;
	__u32 before;

	memset(res, 0, sizeof(*res));
	err = mps_conn_token(fd, &res->token);
	if (err)
		return err;
	mps_addr_unmap(&local);
	mps_addr_unmap(&remote);
	if (local.ss_family != remote.ss_family)
		return -EINVAL;
	if (!mps_addr_port(&remote)) {
		/* the draft: remote port 0 is the connection's port */
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);

		if (getpeername(fd, (struct sockaddr *)&peer, &len) < 0)
			return -errno;
		mps_addr_set_port(&remote, mps_addr_port(&peer));
	}
	if (mps_addr_is_any(&local)) {
		err = route_source(&remote, &local);
		if (err)
			return err;
	} else if (!(how & MPS_CTRL_OPEN_UNBOUND)) {
		/* not a local address: the kernel's bind() says so */
		ifindex = mps_addr_ifindex(&local);
		if (ifindex < 0)
			return ifindex;
	}

	/* what the open is about, also if it fails (for its events) */
	res->local = local;
	res->remote = remote;

	err = mps_snapshot_take(fd, &snap);
	if (err)
		return err;
	before = snapshot_max_id(&snap);
	mps_snapshot_release(&snap);

	err = mps_genl_cached(&g);
	if (err)
		return err;
	/* a concurrent open may take the id we chose: ask again once */
	for (tries = 0; tries < 2; tries++) {
		id = local_id_for(g, fd, res->token, &local, res->msg,
				  sizeof(res->msg));
		if (id < 0) {
			err = id;
			break;
		}
		err = mps_pm_subflow_create(g, res->token, &local, id, ifindex,
					    &remote, backup, res->msg,
					    sizeof(res->msg));
		err = mps_pm_errno(err, res->msg);
		if (err != -EADDRINUSE)
			break;
	}
	if (err)
		return err;
	return find_new(fd, before, &local, &remote, res);
}

/* The live subflow @id of @fd, as a tuple the path manager understands. */
int mps_ctrl_find(int fd, __u32 id, struct mps_snapshot *snap,
		  unsigned int *idx, struct mps_ctrl_result *res)
{
	unsigned int i;
	int err;

	err = mps_conn_token(fd, &res->token);
	if (err)
		return err;
	err = mps_snapshot_take(fd, snap);
	if (err)
		return err;
	for (i = 0; i < snap->count; i++) {
		if (snap->info[i].id == id && mps_snapshot_live(snap, i)) {
			*idx = i;
			res->id = id;
			mps_snapshot_tuple(snap, i, &res->local, &res->remote);
			return 0;
		}
	}
	mps_snapshot_release(snap);
	snprintf(res->msg, sizeof(res->msg), "no live subflow with id %u", id);
	return -ESRCH;
}

int mps_ctrl_check_how(int how, char *msg, size_t msglen)
{
	if (how == SHUT_RD || how == SHUT_WR) {
		/* the kernel can only shut a subflow down both ways */
		snprintf(msg, msglen,
			 "no kernel interface half-closes one subflow");
		return -EOPNOTSUPP;
	}
	if (how != SHUT_RDWR && how != MPTCP_SHUT_RST) {
		snprintf(msg, msglen, "unknown how");
		return -EINVAL;
	}
	return 0;
}

int mps_ctrl_close(int fd, __u32 id, int how, struct mps_ctrl_result *res)
{
	struct mps_snapshot snap;
	struct mps_sf_diag d;
	struct mps_genl *g;
	unsigned int i;
	int err;

	memset(res, 0, sizeof(*res));
	err = mps_ctrl_check_how(how, res->msg, sizeof(res->msg));
	if (err)
		return err;
	err = mps_ctrl_find(fd, id, &snap, &i, res);
	if (err)
		return err;
	if (how == MPTCP_SHUT_RST) {
		err = mps_diag_destroy(&snap, i, 0);
		if (err == -ENOENT) {
			/* bound to a device: the lookup needs its ifindex */
			err = mps_diag_lookup(&snap, &i, 1, &d);
			if (!err)
				err = d.found ? mps_diag_destroy(&snap, i,
								 d.ifindex)
					      : -ESRCH;
		}
		goto out;
	}
	err = mps_genl_cached(&g);
	if (err)
		goto out;
	err = mps_pm_subflow_destroy(g, res->token, &res->local, &res->remote,
				     res->msg, sizeof(res->msg));
out:
	mps_snapshot_release(&snap);
	return mps_pm_errno(err, res->msg);
}

int mps_ctrl_backup(int fd, __u32 id, bool backup, struct mps_ctrl_result *res)
{
	struct mps_snapshot snap;
	struct mps_genl *g;
	unsigned int i;
	int err;

	memset(res, 0, sizeof(*res));
	err = mps_ctrl_find(fd, id, &snap, &i, res);
	if (err)
		return err;
	mps_snapshot_release(&snap);
	err = mps_genl_cached(&g);
	if (err)
		return err;
	err = mps_pm_set_backup(g, res->token, &res->local, &res->remote,
				backup, res->msg, sizeof(res->msg));
	return mps_pm_errno(err, res->msg);
}
