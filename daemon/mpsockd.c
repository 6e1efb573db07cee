// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mpsockd: the privileged broker of one network namespace.  Checks the
 * namespace's path manager, keeps only CAP_NET_ADMIN, and runs the loop.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "mpsock-build.h"
#include "op/op.h"
#include "log.h"
#include "config.h"
#include "mpsockd.h"

#define EX_USAGE 64
#define EX_CONFIG 78
#define PM_PATH "/proc/sys/net/mptcp/path_manager"
#define PM_TYPE_PATH "/proc/sys/net/mptcp/pm_type"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: mpsockd [OPTIONS]\n"
		"Broker for the enhanced MPTCP socket API of this network namespace.\n"
		"\n"
		"  -s, --set-path-manager  switch the namespace to the userspace path\n"
		"                          manager first (needed for subflow control)\n"
		"  -c, --max-clients N     concurrent application threads (default 1024)\n"
		"  -f, --config FILE       path manager configuration (default\n"
		"                          " MPSD_CONFIG_PATH
		", if it exists)\n"
		"      --state FILE        claims and modes kept across restarts\n"
		"                          (default /run/mpsock/mpsockd-COOKIE.state,\n"
		"                          COOKIE: the network namespace's)\n"
		"  -v, --verbose           log every request, not only failures\n"
		"  -h, --help              this help\n"
		"  -V, --version           print the version\n");
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		broker_reload();
	else
		broker_stop();
}

static const char *config_path = MPSD_CONFIG_PATH;
static bool config_given;

static void config_report(void *ctx, const char *msg)
{
	(void)ctx;
	mpsd_log(LOG_ERR, "%s", msg);
}

/* The file if there is one; the built-in defaults if the default is absent. */
static int load_config(struct mpsd_config *out)
{
	int err;

	mpsd_config_defaults(out);
	err = mpsd_config_load(config_path, out, config_report, NULL);
	if (err == -ENOENT && !config_given)
		return 0;
	if (err == -EINVAL)
		mpsd_log(LOG_ERR, "%s: not valid, not used", config_path);
	else if (err)
		mpsd_log(LOG_ERR, "%s: %s", config_path, strerror(-err));
	return err;
}

/*
 * One file per network namespace, several mpsockd share /run: named after
 * the namespace's cookie, which no later namespace gets, not its inode
 * number, which a later one may.  No cookie, no name: policy_state_open()
 * says so and keeps nothing.
 */
static void default_state_path(char *buf, size_t len)
{
	__u64 cookie;

	if (mps_netns_cookie(-1, &cookie))
		return;
	/* root's alone (policy_state.c refuses a directory others write) */
	if (mkdir("/run/mpsock", 0700) < 0 && errno == EEXIST)
		chmod("/run/mpsock", 0700);
	snprintf(buf, len, "/run/mpsock/mpsockd-%llu.state",
		 (unsigned long long)cookie);
}

/* Is the namespace's path manager "userspace"?  1 yes, 0 no, -errno. */
static int pm_is_userspace(char *name, size_t len)
{
	FILE *f = fopen(PM_PATH, "re");
	int type;

	if (f) {
		if (!fgets(name, len, f))
			name[0] = '\0';
		fclose(f);
		name[strcspn(name, "\n")] = '\0';
		return !strcmp(name, "userspace");
	}
	f = fopen(PM_TYPE_PATH, "re");
	if (!f)
		return -errno;
	if (fscanf(f, "%d", &type) != 1)
		type = -1;
	fclose(f);
	snprintf(name, len, "%s", type == 1 ? "userspace" : "kernel");
	return type == 1;
}

static int pm_set_userspace(void)
{
	FILE *f = fopen(PM_PATH, "we");

	if (!f) {
		f = fopen(PM_TYPE_PATH, "we");
		if (!f)
			return -errno;
		fputs("1\n", f);
	} else {
		fputs("userspace\n", f);
	}
	return fclose(f) ? -errno : 0;
}

/*
 * Least privilege: keep CAP_NET_ADMIN (the path manager) and
 * CAP_NET_BIND_SERVICE (the kernel checks the creator of a subflow on a
 * privileged local port: us, on behalf of a caller allowed to), and drop
 * every other capability.
 */
static int drop_caps(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct have[2] = {{0}}, data[2] = {{0}};

	/* keep what we want of what we have: started with fewer, it still runs
	 */
	if (syscall(SYS_capget, &hdr, have) < 0)
		return -errno;
	/*
	 * CAP_SYS_NICE: to run as a real-time task for the few calls the
	 * kernel's own work must not overtake (actuator_run() in actuator.c).
	 */
	data[0].effective = data[0].permitted =
		((1u << CAP_NET_ADMIN) | (1u << CAP_NET_BIND_SERVICE) |
		 (1u << CAP_SYS_NICE)) &
		have[0].permitted;
	/* the BPF map of per-subflow options is updated with bpf() */
	data[1].effective = data[1].permitted =
		(1u << (CAP_BPF - 32)) & have[1].permitted;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	return 0;
}

/*
 * The few calls that withdraw a dead address run as a real-time task
 * (actuator_run() in actuator.c); say at start if that will not work (no
 * CAP_SYS_NICE, a sandbox that forbids it, or a cgroup without real-time
 * budget) rather than let those calls quietly race the kernel.
 */
static void check_realtime(void)
{
	struct sched_param fifo = {.sched_priority = 1}, other = {0};

	if (sched_setscheduler(0, SCHED_FIFO, &fifo) < 0) {
		mpsd_log(LOG_WARNING,
			 "cannot run as a real-time task (%s): the withdrawal "
			 "of a dead address may be overtaken by the kernel's "
			 "own work",
			 strerror(errno));
		return;
	}
	sched_setscheduler(0, SCHED_OTHER, &other);
}

/* What the probe of per-subflow options found, where it is not the norm. */
static void report_sockopt(int err)
{
	struct mps_sockopt_caps caps;
	const char *name;
	int level, optname;
	unsigned int i, op;

	if (err) {
		mpsd_log(LOG_WARNING,
			 "per-subflow socket options unavailable "
			 "(EOPNOTSUPP to applications): %s",
			 mps_sockopt_status());
		return;
	}
	mps_sockopt_get_caps(&caps);
	mpsd_log(LOG_INFO, "per-subflow socket options: %s%s",
		 mps_sockopt_status(),
		 caps.probed ? ""
			     : "; not probed, each path learnt on first use");
	for (i = 0; caps.probed && i < MPS_SUBOPT_COUNT; i++) {
		mps_subopt_at(i, &level, &optname, &name);
		for (op = 0; op < 2; op++)
			if (caps.path[i][op] != MPS_PATH_HDR)
				mpsd_log(LOG_INFO, "%s %s: %s",
					 op ? "setting" : "reading", name,
					 mps_sockopt_path_name(
						 caps.path[i][op]));
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"set-path-manager", no_argument, NULL, 's'},
		{"max-clients", required_argument, NULL, 'c'},
		{"verbose", no_argument, NULL, 'v'},
		{"config", required_argument, NULL, 'f'},
		{"state", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0}};
	struct broker_opts o = {.max_clients = 1024};
	struct mpsd_config cfg;
	char state[256] = "";
	bool set_pm = false;
	char pm[32];
	int c, err;

	while ((c = getopt_long(argc, argv, "sc:vhVf:", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'f':
			config_path = optarg;
			config_given = true;
			break;
		case 'S':
			snprintf(state, sizeof(state), "%s", optarg);
			break;
		case 's':
			set_pm = true;
			break;
		case 'c':
			o.max_clients = strtoul(optarg, NULL, 10);
			if (!o.max_clients || o.max_clients > 65536) {
				mpsd_log(LOG_ERR,
					 "bad --max-clients "
					 "'%s' (1..65536); see --help",
					 optarg);
				return EX_USAGE;
			}
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("mpsockd %s\n", MPSOCK_VERSION);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}

	if (load_config(&cfg))
		return EX_CONFIG;
	if (!state[0])
		default_state_path(state, sizeof(state));
	o.cfg = &cfg;
	o.state_path = state;
	o.load_config = load_config;

	err = pm_is_userspace(pm, sizeof(pm));
	if (err < 0) {
		mpsd_log(LOG_ERR, "no MPTCP in this kernel (%s)",
			 strerror(-err));
		return EX_CONFIG;
	}
	if (!err && set_pm) {
		err = pm_set_userspace();
		if (err) {
			mpsd_log(LOG_ERR, "cannot set the path manager: %s",
				 strerror(-err));
			return EX_CONFIG;
		}
		mpsd_log(LOG_WARNING,
			 "path manager set to userspace; "
			 "connections created before keep '%s'",
			 pm);
	} else if (!err) {
		mpsd_log(LOG_ERR,
			 "this network namespace's path manager is "
			 "'%s', and subflow control needs 'userspace'.\n"
			 "Start mpsockd with --set-path-manager, or run: "
			 "sysctl -w net.mptcp.path_manager=userspace\n"
			 "(connections keep the path manager they were created "
			 "under)",
			 pm);
		return EX_CONFIG;
	}

	/* two descriptors per client (its socket; a request's socket and proof
	 * while it is read), and ours */
	raise_fd_limit();
	{
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur < 2 * (rlim_t)o.max_clients + 64)
			o.max_clients =
				rl.rlim_cur > 96 ? (rl.rlim_cur - 64) / 2 : 16;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, SIG_IGN);
	/* loading needs CAP_PERFMON and CAP_SYS_ADMIN-era rights: do it first
	 */
	report_sockopt(mps_sockopt_prepare());
	err = drop_caps();
	if (err) {
		mpsd_log(LOG_ERR, "cannot drop capabilities: %s",
			 strerror(-err));
		return 1;
	}
	check_realtime();
	err = broker_run(&o);
	if (err == -EADDRINUSE) {
		mpsd_log(LOG_ERR, "another mpsockd already serves this "
				  "network namespace");
		return EX_CONFIG;
	}
	if (err) {
		mpsd_log(LOG_ERR, "%s", strerror(-err));
		return err == -EADDRINUSE ? EX_CONFIG : 1;
	}
	return 0;
}
