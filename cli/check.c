// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mpsock check: what this kernel, this network namespace and this user can
 * use of mpsock, one line per capability with the reason, each found by
 * trying it (machines of one kind differ: kernel builds, mounts, how a
 * daemon was started), so that a failure elsewhere says what differed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "cli.h"
#include "op/op.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

enum verdict { WORKS, FAILS, INFO };

struct result {
	enum verdict v;
	char detail[320];
};

/* mpsockd's answer to a status request, asked once. */
static struct {
	bool asked, reachable;
	struct mps_status st;
	char msg[MPS_MSG_LEN];
} mpsockd;

/* The per-subflow option program of this process, when it may load one. */
static struct {
	bool tried;
	int err;
	struct mps_sockopt_caps caps;
} local;

static void say(struct result *r, enum verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(struct result *r, enum verdict v, const char *fmt, ...)
{
	va_list ap;

	r->v = v;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
}

static void ask_daemon(void)
{
	struct mps_req req = {.type = MPS_REQ_STATUS};
	struct mps_reply rep;

	if (mpsockd.asked)
		return;
	mpsockd.asked = true;
	if (mps_broker_call(-1, &req, &rep, 0) == 0 &&
	    rep.optlen == sizeof(mpsockd.st)) {
		memcpy(&mpsockd.st, rep.val, sizeof(mpsockd.st));
		mpsockd.st.policy[sizeof(mpsockd.st.policy) - 1] = '\0';
		mpsockd.st.mode[sizeof(mpsockd.st.mode) - 1] = '\0';
		mpsockd.reachable = true;
	}
	/* the library's text speaks to an application that needs it */
	if (!mpsockd.reachable && !strncmp(rep.msg, "no mpsockd", 10))
		snprintf(mpsockd.msg, sizeof(mpsockd.msg),
			 "not running in this network namespace");
	else
		snprintf(mpsockd.msg, sizeof(mpsockd.msg), "%s", rep.msg);
}

static bool may_load_bpf(void)
{
	return mps_have_cap(CAP_BPF) && mps_have_cap(CAP_PERFMON) &&
	       mps_have_cap(CAP_NET_ADMIN);
}

static void load_local(void)
{
	if (local.tried)
		return;
	local.tried = true;
	local.err = mps_sockopt_prepare();
	mps_sockopt_get_caps(&local.caps);
}

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int err = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, len, f))
		err = -EIO;
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return err;
}

static void check_kernel(struct result *r)
{
	struct utsname u;

	uname(&u);
	say(r, INFO, "Linux %s (features are probed, not read from this)",
	    u.release);
}

static void check_mptcp(struct result *r)
{
	char v[16];
	int err = read_line("/proc/sys/net/mptcp/enabled", v, sizeof(v));

	if (err)
		say(r, FAILS, "no MPTCP in this kernel (%s)", strerror(-err));
	else if (strcmp(v, "1"))
		say(r, FAILS,
		    "disabled in this network namespace "
		    "(net.mptcp.enabled = %s)",
		    v);
	else
		say(r, WORKS, "net.mptcp.enabled = 1");
}

static void check_full_info(struct result *r)
{
	struct mptcp_full_info mfi;
	socklen_t len = sizeof(mfi);
	int s;

	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
	if (s < 0) {
		say(r, FAILS, "no MPTCP socket (%s)", strerror(errno));
		return;
	}
	memset(&mfi, 0, sizeof(mfi));
	if (getsockopt(s, SOL_MPTCP, MPTCP_FULL_INFO, &mfi, &len) < 0)
		say(r, FAILS,
		    "MPTCP_FULL_INFO: %s (Linux 6.5 or later has it): listing "
		    "subflows fails with ENOSYS",
		    strerror(errno));
	else
		say(r, WORKS,
		    "MPTCP_FULL_INFO (subflow ids, tuples, tcp_info)");
	close(s);
}

/* This namespace's name under /run/netns, if ip netns made it. */
static void netns_name(char *buf, size_t len)
{
	struct stat self, st;
	struct dirent *e;
	char path[PATH_MAX];
	DIR *d;

	snprintf(buf, len, "?");
	if (stat("/proc/self/ns/net", &self) < 0)
		return;
	snprintf(buf, len, "unnamed, inode %lu", (unsigned long)self.st_ino);
	if (stat("/proc/1/ns/net", &st) == 0 && st.st_ino == self.st_ino &&
	    st.st_dev == self.st_dev) {
		snprintf(buf, len, "the host's (pid 1's)");
		return;
	}
	d = opendir("/run/netns");
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", e->d_name);
		if (stat(path, &st) == 0 && st.st_ino == self.st_ino &&
		    st.st_dev == self.st_dev) {
			snprintf(buf, len, "%s", e->d_name);
			break;
		}
	}
	closedir(d);
}

static int netns_cookie(unsigned long long *cookie)
{
	__u64 v = 0;
	int err = mps_netns_cookie(-1, &v);

	*cookie = v;
	return err;
}

static void check_path_manager(struct result *r)
{
	unsigned long long cookie = 0;
	char pm[32], ns[NAME_MAX + 1];
	int err;

	netns_name(ns, sizeof(ns));
	netns_cookie(&cookie);
	err = read_line("/proc/sys/net/mptcp/path_manager", pm, sizeof(pm));
	if (err && read_line("/proc/sys/net/mptcp/pm_type", pm, sizeof(pm))) {
		say(r, FAILS, "no path manager sysctl (%s)", strerror(-err));
		return;
	}
	if (err) /* pm_type only: 1 is userspace */
		snprintf(pm, sizeof(pm), "%s",
			 strcmp(pm, "1") ? "kernel" : "userspace");
	if (strcmp(pm, "userspace"))
		say(r, FAILS,
		    "'%s' in network namespace %s (cookie %llu): subflow "
		    "control needs 'userspace' (mpsockd --set-path-manager)",
		    pm, ns, cookie);
	else
		say(r, WORKS,
		    "userspace, in network namespace %s (cookie %llu)", ns,
		    cookie);
}

static void check_pm_commands(struct result *r)
{
	static const struct {
		int cmd;
		const char *name;
	} cmds[] = {
		{MPTCP_PM_CMD_SUBFLOW_CREATE, "SUBFLOW_CREATE"},
		{MPTCP_PM_CMD_SUBFLOW_DESTROY, "SUBFLOW_DESTROY"},
		{MPTCP_PM_CMD_SET_FLAGS, "SET_FLAGS"},
		{MPTCP_PM_CMD_ANNOUNCE, "ANNOUNCE"},
		{MPTCP_PM_CMD_REMOVE, "REMOVE"},
	};
	char missing[160] = "";
	struct mps_genl *g;
	unsigned int i;
	int err;

	err = mps_genl_cached(&g);
	if (err) {
		say(r, FAILS, "the mptcp_pm netlink family: %s",
		    strerror(-err));
		return;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!(g->ops & (1ULL << cmds[i].cmd)))
			snprintf(missing + strlen(missing),
				 sizeof(missing) - strlen(missing), " %s",
				 cmds[i].name);
	if (missing[0])
		say(r, FAILS, "the kernel lacks:%s", missing);
	else
		say(r, WORKS,
		    "SUBFLOW_CREATE, SUBFLOW_DESTROY, SET_FLAGS, ANNOUNCE, "
		    "REMOVE (each needs CAP_NET_ADMIN%s)",
		    mps_have_cap(CAP_NET_ADMIN) ? ": held"
						: ": through mpsockd");
}

static void check_events(struct result *r)
{
	struct mps_genl *g;

	if (mps_genl_cached(&g) || !g->events_group)
		say(r, FAILS, "no mptcp_pm_events group");
	else
		say(r, WORKS, "group %u (subscribing needs CAP_NET_ADMIN%s)",
		    g->events_group,
		    mps_have_cap(CAP_NET_ADMIN) ? ": held"
						: ": through mpsockd");
}

static void check_mpsockd(struct result *r)
{
	ask_daemon();
	if (mpsockd.reachable)
		say(r, WORKS,
		    "serving this network namespace: policy %s, "
		    "mode %s",
		    mpsockd.st.policy, mpsockd.st.mode);
	else
		say(r, FAILS, "%s", mpsockd.msg[0] ? mpsockd.msg : "no answer");
}

static void check_cgroup2(struct result *r)
{
	char where[160];
	int fd;

	ask_daemon();
	if (mpsockd.reachable && mpsockd.st.sockopt_loaded) {
		say(r, WORKS, "mpsockd's program: %s", mpsockd.msg);
		return;
	}
	fd = mps_cgroup2_open(where, sizeof(where));
	if (fd >= 0) {
		close(fd);
		say(r, WORKS, "%s", where);
	} else {
		say(r, FAILS, "%s", where);
	}
}

static void check_btf(struct result *r)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK) == 0)
		say(r, WORKS, "/sys/kernel/btf/vmlinux");
	else
		say(r, FAILS,
		    "/sys/kernel/btf/vmlinux: %s (the BPF program is CO-RE)",
		    strerror(errno));
}

static void check_bpf(struct result *r)
{
	ask_daemon();
	if (mpsockd.reachable) {
		say(r, mpsockd.st.sockopt_loaded ? WORKS : FAILS,
		    "mpsockd's per-subflow option program: %s", mpsockd.msg);
		return;
	}
	if (!may_load_bpf()) {
		say(r, FAILS,
		    "mpsockd does not answer, and loading here needs "
		    "CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN");
		return;
	}
	load_local();
	say(r, local.err ? FAILS : WORKS, "loaded by this process: %s",
	    mps_sockopt_status());
}

static void check_netns_cookie(struct result *r)
{
	unsigned long long cookie;
	int err = netns_cookie(&cookie);

	if (err)
		say(r, FAILS,
		    "SO_NETNS_COOKIE: %s (Linux 5.14): mpsockd keeps no state "
		    "across restarts",
		    strerror(-err));
	else
		say(r, WORKS, "SO_NETNS_COOKIE: %llu", cookie);
}

static void check_caps(struct result *r)
{
	static const struct {
		int cap;
		const char *name;
	} caps[] = {
		{CAP_NET_ADMIN, "CAP_NET_ADMIN"},
		{CAP_NET_BIND_SERVICE, "CAP_NET_BIND_SERVICE"},
		{CAP_NET_RAW, "CAP_NET_RAW"},
		{CAP_BPF, "CAP_BPF"},
		{CAP_PERFMON, "CAP_PERFMON"},
		{CAP_SYS_ADMIN, "CAP_SYS_ADMIN"},
		{CAP_SYS_NICE, "CAP_SYS_NICE"},
	};
	char held[200] = "";
	unsigned int i;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (mps_have_cap(caps[i].cap))
			snprintf(held + strlen(held),
				 sizeof(held) - strlen(held), "%s%s",
				 held[0] ? " " : "", caps[i].name);
	say(r, INFO, "this process holds: %s%s", held[0] ? held : "none",
	    mps_have_cap(CAP_NET_ADMIN) ? " (it acts on the kernel itself)"
					: " (control goes through mpsockd)");
}

static const struct check {
	const char *name;
	void (*fn)(struct result *r);
} checks[] = {
	{"kernel", check_kernel},
	{"mptcp", check_mptcp},
	{"full-info", check_full_info},
	{"path-manager", check_path_manager},
	{"pm-commands", check_pm_commands},
	{"events", check_events},
	{"mpsockd", check_mpsockd},
	{"cgroup2", check_cgroup2},
	{"btf", check_btf},
	{"bpf", check_bpf},
	{"netns-cookie", check_netns_cookie},
	{"caps", check_caps},
};

/* One option's paths, from mpsockd or from this process's own probe. */
static void check_sockopt(unsigned int i, struct result *r)
{
	const __u8 *path;
	const char *name;
	int level, optname;
	bool probed;

	ask_daemon();
	if (mpsockd.reachable) {
		if (!mpsockd.st.sockopt_loaded) {
			say(r, FAILS, "mpsockd's program: %s", mpsockd.msg);
			return;
		}
		path = mpsockd.st.sockopt_path[i];
		probed = mpsockd.st.sockopt_probed;
	} else if (may_load_bpf()) {
		load_local();
		if (local.err) {
			say(r, FAILS, "%s", mps_sockopt_status());
			return;
		}
		path = local.caps.path[i];
		probed = local.caps.probed;
	} else {
		say(r, FAILS, "mpsockd does not answer");
		return;
	}
	mps_subopt_at(i, &level, &optname, &name);
	if (path[0] == MPS_PATH_NONE || path[1] == MPS_PATH_NONE)
		r->v = FAILS;
	else if (path[0] == MPS_PATH_UNKNOWN || path[1] == MPS_PATH_UNKNOWN)
		r->v = INFO;
	else
		r->v = WORKS;
	snprintf(r->detail, sizeof(r->detail), "set: %s; get: %s%s",
		 mps_sockopt_path_name(path[1]), mps_sockopt_path_name(path[0]),
		 probed ? "" : " (not probed)");
}

static void print_result(const char *name, const struct result *r)
{
	static const char *const words[] = {
		[WORKS] = "works", [FAILS] = "does not", [INFO] = "info"};

	out_begin_object(NULL);
	out_str("check", "%-26s ", name);
	out_str("status", "%-9s ", words[r->v]);
	out_str("detail", "%s", r->detail);
	out_end_object();
	out_newline();
}

/* A name the user gave selects every check it is a prefix of. */
static bool selected(int argc, char **argv, const char *name)
{
	int i;

	for (i = 0; i < argc; i++)
		if (!strncmp(name, argv[i], strlen(argv[i])))
			return true;
	return !argc;
}

static bool known(const char *arg)
{
	unsigned int i;

	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		if (!strncmp(checks[i].name, arg, strlen(arg)))
			return true;
	return !strncmp("sockopt:", arg, strlen(arg)) ||
	       !strncmp(arg, "sockopt:", 8);
}

int cmd_check(int argc, char **argv)
{
	char name[48];
	struct result r;
	bool failed = false;
	const char *oname;
	int i, level, optname;
	unsigned int k;

	for (i = 0; i < argc; i++)
		if (!argv[i][0] || !known(argv[i]))
			return usage_error("check: unknown capability \"%s\"",
					   argv[i]);
	out_begin_array(NULL);
	for (k = 0; k < sizeof(checks) / sizeof(checks[0]); k++) {
		if (!selected(argc, argv, checks[k].name))
			continue;
		checks[k].fn(&r);
		print_result(checks[k].name, &r);
		failed |= r.v == FAILS;
	}
	for (k = 0; k < MPS_SUBOPT_COUNT; k++) {
		mps_subopt_at(k, &level, &optname, &oname);
		snprintf(name, sizeof(name), "sockopt:%s", oname);
		if (!selected(argc, argv, name))
			continue;
		check_sockopt(k, &r);
		print_result(name, &r);
		failed |= r.v == FAILS;
	}
	out_end_array();
	out_flush();
	return failed ? EXIT_FAIL : 0;
}
