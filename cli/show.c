// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mpsock show: every MPTCP connection of the namespace with its owners and
 * subflows.  Connections and subflows come from two sock_diag dumps joined
 * on the token; owners from /proc; subflow ids (which only the connection's
 * own socket can tell, through MPTCP_FULL_INFO) from a copy of an owner's
 * descriptor where the caller may take one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "internal.h"
#include "tcp_stats.h"

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
			  const struct ids *ids)
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
	out_end_object();
	if (!cli.oneline)
		out_newline();
}

static void print_connection(const struct mps_msk *m, const struct vec *sfs,
			     const struct owner_table *owners)
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
			print_subflow(&sf[i], &ids);
	out_end_array();
	out_end_object();
	if (cli.oneline)
		out_newline();
	if (ids.known)
		mps_snapshot_release(&ids.snap);
}

int cmd_show(int argc, char **argv)
{
	struct vec msks = {.size = sizeof(struct mps_msk)};
	struct vec sfs = {.size = sizeof(struct mps_diag_subflow)};
	const struct mps_msk *m;
	struct owner_table *owners = NULL;
	bool filter = false;
	__u32 token = 0;
	int err, status = EXIT_FAIL;
	size_t i;

	while (argc > 0) {
		if (matches(*argv, "token")) {
			if (argc < 2 || parse_token(argv[1], &token))
				return usage_error("show: token needs a "
						   "hexadecimal TOKEN (got "
						   "\"%s\")",
						   argc > 1 ? argv[1] : "");
			filter = true;
			argc -= 2;
			argv += 2;
		} else {
			return usage_error("show: unknown argument \"%s\"",
					   *argv);
		}
	}
	err = mps_diag_msk_dump(push_msk, &msks);
	if (!err)
		err = mps_diag_subflow_dump(push_subflow, &sfs);
	if (err) {
		fail("show", err, "reading sockets with sock_diag failed");
		goto out;
	}
	owners = owners_scan();
	m = msks.v;
	out_begin_array(NULL);
	for (i = 0; i < msks.n; i++)
		if (m[i].has_info && (!filter || m[i].token == token))
			print_connection(&m[i], &sfs, owners);
	out_end_array();
	out_flush();
	status = 0;
out:
	owners_free(owners);
	free(msks.v);
	free(sfs.v);
	return status;
}
