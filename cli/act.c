// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mpsock open|close|backup: act on a connection named by its token.  The
 * connection's socket is copied from a process holding it (pidfd_getfd)
 * and handed to the same library calls an application makes, so the
 * semantics and errors are the API's.  Taking another process's
 * descriptor needs the right to ptrace it: an administrator may act on
 * any connection, a user only on the connections of their own processes
 * (and then through mpsockd, as the application itself would).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "op/op.h"

/* The connection's socket, taken from the first owner that lets us. */
static int conn_fd(__u32 token, char *msg, size_t len)
{
	struct owner_table *owners;
	const struct owner *o;
	struct mps_msk m;
	unsigned int n, i;
	int err, fd = -ESRCH;

	err = mps_diag_msk_get(token, &m);
	if (err) {
		snprintf(msg, len, "no MPTCP connection with token %08x",
			 token);
		return err == -ENOENT ? -ESRCH : err;
	}
	owners = owners_scan();
	n = owners_of(owners, m.sock.inode, &o);
	snprintf(msg, len,
		 "no process of this namespace holds connection "
		 "%08x's socket",
		 token);
	/* /proc hides other users' descriptors: say why, not "not found" */
	if (!n && m.sock.uid != geteuid() && !mps_op_direct()) {
		snprintf(msg, len, "connection %08x belongs to uid %u", token,
			 m.sock.uid);
		fd = -EPERM;
	}
	for (i = 0; i < n; i++) {
		fd = owner_take_fd(&o[i]);
		if (fd >= 0)
			break;
		snprintf(msg, len,
			 "cannot take connection %08x's socket from pid %d",
			 token, o[i].pid);
	}
	owners_free(owners);
	return fd;
}

struct subflow_sel {
	bool by_id, by_tuple;
	__u32 id;
	struct sockaddr_storage local, remote;
	__u32 lport, rport;
	bool have_local, have_remote, have_lport, have_rport;
};

/* Keyword arguments shared by the three commands; 1 = not one of them. */
static int parse_sel(int *argc, char ***argv, struct subflow_sel *s,
		     const char *cmd)
{
	char *kw = (*argv)[0], *val = *argc > 1 ? (*argv)[1] : NULL;
	int err = 0;

	if (matches(kw, "id")) {
		err = val ? parse_u32(val, ~0U, &s->id) : -EINVAL;
		s->by_id = true;
	} else if (matches(kw, "local")) {
		err = val ? parse_addr(val, &s->local) : -EINVAL;
		s->have_local = true;
	} else if (matches(kw, "remote")) {
		err = val ? parse_addr(val, &s->remote) : -EINVAL;
		s->have_remote = true;
	} else if (matches(kw, "lport")) {
		err = val ? parse_u32(val, 65535, &s->lport) : -EINVAL;
		s->have_lport = true;
	} else if (matches(kw, "rport")) {
		err = val ? parse_u32(val, 65535, &s->rport) : -EINVAL;
		s->have_rport = true;
	} else {
		return 1;
	}
	if (err)
		return usage_error("%s: %s needs a valid value%s%s%s", cmd, kw,
				   val ? " (got \"" : "", val ? val : "",
				   val ? "\")" : "");
	*argc -= 2;
	*argv += 2;
	return 0;
}

static int parse_token_arg(int *argc, char ***argv, __u32 *token, bool *have,
			   const char *cmd)
{
	if (!matches((*argv)[0], "token"))
		return 1;
	if (*argc < 2 || parse_token((*argv)[1], token))
		return usage_error("%s: token needs a hexadecimal TOKEN "
				   "(got \"%s\")",
				   cmd, *argc > 1 ? (*argv)[1] : "");
	*have = true;
	*argc -= 2;
	*argv += 2;
	return 0;
}

static socklen_t sel_addrs(struct subflow_sel *s, const char *cmd, bool open)
{
	if (s->local.ss_family != s->remote.ss_family)
		return usage_error("%s: local and remote are of different "
				   "families",
				   cmd);
	mps_addr_set_port(&s->local, htons(s->lport));
	mps_addr_set_port(&s->remote, htons(s->rport));
	if (!open && !(s->have_lport && s->have_rport))
		return usage_error("%s: a subflow is named by id ID, or by "
				   "local ADDR lport PORT remote ADDR rport "
				   "PORT",
				   cmd);
	return 0;
}

/* The id of the subflow named by its tuple. */
static int sel_resolve(int fd, struct subflow_sel *s)
{
	struct mpsock_subflow sf[64];
	int n, i;

	if (s->by_id)
		return 0;
	n = mpsock_subflow_list(fd, sf, 64);
	if (n < 0)
		return -errno;
	for (i = 0; i < n && i < 64; i++) {
		struct sockaddr_storage l, r;

		memset(&l, 0, sizeof(l));
		memset(&r, 0, sizeof(r));
		memcpy(&l, &sf[i].local, sizeof(sf[i].local));
		memcpy(&r, &sf[i].remote, sizeof(sf[i].remote));
		mps_addr_unmap(&l);
		mps_addr_unmap(&r);
		if (mps_addr_equal(&l, &s->local, true) &&
		    mps_addr_equal(&r, &s->remote, true)) {
			s->id = sf[i].id;
			return 0;
		}
	}
	return -ESRCH;
}

static int act_fail(const char *cmd, int err, int fd, const char *msg)
{
	const char *why = msg;

	if (fd >= 0)
		why = mpsock_errmsg();
	return fail(cmd, err, why && *why ? why : msg);
}

enum act { ACT_OPEN, ACT_CLOSE, ACT_BACKUP };

static int act(enum act what, const char *cmd, int argc, char **argv)
{
	struct subflow_sel s;
	bool have_token = false, flag = false, have_flag = false, wait = false;
	char msg[160] = "";
	__u32 token = 0, id = 0;
	int fd, r, err;

	memset(&s, 0, sizeof(s));
	while (argc > 0) {
		r = parse_token_arg(&argc, &argv, &token, &have_token, cmd);
		if (r == 1)
			r = parse_sel(&argc, &argv, &s, cmd);
		if (r != 1) {
			if (r)
				return r;
			continue;
		}
		if (what == ACT_OPEN && matches(*argv, "backup")) {
			flag = true;
		} else if (what == ACT_OPEN && matches(*argv, "wait")) {
			wait = true;
		} else if (what == ACT_CLOSE && matches(*argv, "reset")) {
			flag = true;
		} else if (what == ACT_BACKUP &&
			   (!strcmp(*argv, "on") || !strcmp(*argv, "off"))) {
			flag = !strcmp(*argv, "on");
			have_flag = true;
		} else {
			return usage_error("%s: unknown argument \"%s\"", cmd,
					   *argv);
		}
		argc--;
		argv++;
	}
	if (!have_token)
		return usage_error("%s: token TOKEN is required", cmd);
	if (what == ACT_OPEN && !(s.have_local && s.have_remote))
		return usage_error("%s: local ADDR and remote ADDR are "
				   "required",
				   cmd);
	if (what == ACT_OPEN && s.by_id)
		return usage_error("%s: a new subflow has no id yet", cmd);
	if (what != ACT_OPEN && !s.by_id && !(s.have_local && s.have_remote))
		return usage_error("%s: name the subflow with id ID or with "
				   "its local and remote address and ports",
				   cmd);
	if (what == ACT_BACKUP && !have_flag)
		return usage_error("%s: say on or off", cmd);
	if (!s.by_id && (r = sel_addrs(&s, cmd, what == ACT_OPEN)))
		return r;

	fd = conn_fd(token, msg, sizeof(msg));
	if (fd < 0)
		return act_fail(cmd, fd, -1, msg);
	err = 0;
	if (what == ACT_OPEN) {
		socklen_t len = mps_sockaddr_len(s.local.ss_family);
		unsigned int flags = flag ? MPSOCK_OPEN_BACKUP : 0;

		r = wait ? mpsock_subflow_open_wait(
				   fd, (struct sockaddr *)&s.local,
				   (struct sockaddr *)&s.remote, len, flags, -1,
				   &id)
			 : mpsock_subflow_open(fd, (struct sockaddr *)&s.local,
					       (struct sockaddr *)&s.remote,
					       len, flags, &id);
	} else if (!(err = sel_resolve(fd, &s))) {
		r = what == ACT_CLOSE
			    ? mpsock_subflow_close(fd, s.id,
						   flag ? MPTCP_SHUT_RST
							: SHUT_RDWR)
			    : mpsock_subflow_set_backup(fd, s.id, flag);
	}
	if (err) {
		close(fd);
		return fail(cmd, err, "no such subflow on this connection");
	}
	if (r < 0) {
		err = -errno;
		r = act_fail(cmd, err, fd, msg);
		close(fd);
		return r;
	}
	close(fd);
	if (what == ACT_OPEN) {
		out_begin_object(NULL);
		out_uint("id", "id %llu", id);
		out_end_object();
		out_newline();
		out_flush();
	}
	return 0;
}

int cmd_open(int argc, char **argv)
{
	return act(ACT_OPEN, "open", argc, argv);
}

int cmd_close(int argc, char **argv)
{
	return act(ACT_CLOSE, "close", argc, argv);
}

int cmd_backup(int argc, char **argv)
{
	return act(ACT_BACKUP, "backup", argc, argv);
}
