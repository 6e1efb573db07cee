// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mpsock monitor: the kernel's MPTCP events, one per line, flushed at once
 * so that a pipe reader sees each as it happens.  With CAP_NET_ADMIN the
 * namespace's whole event group is read directly; without it, mpsockd
 * forwards the events of the caller's own connections.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>

#include "cli.h"
#include "op/op.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Newer than the 6.1 uapi headers of Debian 12; numbers are stable ABI. */
#define EVENT_LISTENER_CREATED 15
#define EVENT_LISTENER_CLOSED 16

static const char *event_name(unsigned int type)
{
	static const char *const names[] = {
		[MPTCP_EVENT_CREATED] = "CREATED",
		[MPTCP_EVENT_ESTABLISHED] = "ESTABLISHED",
		[MPTCP_EVENT_CLOSED] = "CLOSED",
		[MPTCP_EVENT_ANNOUNCED] = "ANNOUNCED",
		[MPTCP_EVENT_REMOVED] = "REMOVED",
		[MPTCP_EVENT_SUB_ESTABLISHED] = "SF_ESTABLISHED",
		[MPTCP_EVENT_SUB_CLOSED] = "SF_CLOSED",
		[MPTCP_EVENT_SUB_PRIORITY] = "SF_PRIORITY",
		[EVENT_LISTENER_CREATED] = "LISTENER_CREATED",
		[EVENT_LISTENER_CLOSED] = "LISTENER_CLOSED",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "UNKNOWN";
}

static bool is_subflow_event(unsigned int type)
{
	return type == MPTCP_EVENT_SUB_ESTABLISHED ||
	       type == MPTCP_EVENT_SUB_CLOSED ||
	       type == MPTCP_EVENT_SUB_PRIORITY;
}

/* Events that describe a subflow: its addresses and address ids. */
static bool carries_subflow(unsigned int type)
{
	return is_subflow_event(type) || type == MPTCP_EVENT_CREATED ||
	       type == MPTCP_EVENT_ESTABLISHED;
}

static void print_port(const char *key, const struct sockaddr_storage *ss)
{
	__be16 port = mps_addr_port(ss);

	if (port)
		out_uint(key, key[0] == 's' ? " sport=%llu" : " dport=%llu",
			 ntohs(port));
}

static void print_addr(const char *k4, const char *k6,
		       const struct sockaddr_storage *ss)
{
	struct sockaddr_storage a = *ss;
	char buf[INET6_ADDRSTRLEN], fmt[16];
	const char *key;

	mps_addr_unmap(&a);
	if (addr_text(&a, buf, sizeof(buf)) < 0)
		return;
	key = a.ss_family == AF_INET ? k4 : k6;
	/* ports are fields of their own here */
	snprintf(fmt, sizeof(fmt), " %s=%%s", key);
	out_str(key, fmt, buf);
}

static void print_event(const struct mps_event *ev, __u32 lost)
{
	struct timespec ts;
	char token[16];

	out_begin_object(NULL);
	if (cli.timestamp) {
		clock_gettime(CLOCK_REALTIME, &ts);
		out_text("[%lld.%06ld] ", (long long)ts.tv_sec,
			 ts.tv_nsec / 1000);
		out_double("timestamp", NULL, ts.tv_sec + ts.tv_nsec / 1e9);
	}
	if (!ev) {
		out_str("type", "%s", "LOST");
		out_uint("lost", " lost=%llu", lost);
		goto done;
	}
	out_str("type", "%s", event_name(ev->type));
	snprintf(token, sizeof(token), "%08x", ev->token);
	out_str("token", " token=%s", token);
	print_addr("saddr4", "saddr6", &ev->local);
	print_addr("daddr4", "daddr6", &ev->remote);
	print_port("sport", &ev->local);
	print_port("dport", &ev->remote);
	/* which attributes each event carries: the kernel's pm_netlink.c */
	if (carries_subflow(ev->type))
		out_uint("locid", " locid=%llu", ev->loc_id);
	if (carries_subflow(ev->type) || ev->type == MPTCP_EVENT_ANNOUNCED ||
	    ev->type == MPTCP_EVENT_REMOVED)
		out_uint("remid", " remid=%llu", ev->rem_id);
	if (ev->type == MPTCP_EVENT_CREATED ||
	    ev->type == MPTCP_EVENT_ESTABLISHED)
		out_uint("server_side", " server_side=%llu", ev->server_side);
	if (is_subflow_event(ev->type))
		out_uint("backup", " backup=%llu", ev->backup);
	if (ev->has_error)
		out_uint("error", " error=%llu", ev->error);
	if (lost)
		out_uint("lost", " lost=%llu", lost);
done:
	out_end_object();
	out_newline();
	out_flush();
}

struct direct {
	bool filter;
	__u32 token;
};

static void event_cb(const struct mps_event *ev, __u32 lost, void *data)
{
	const struct direct *d = data;

	if (!ev || !d->filter || ev->token == d->token)
		print_event(ev, lost);
}

static int wait_readable(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	int r;

	while (!stop) {
		r = poll(&pfd, 1, -1);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
	return -EINTR;
}

static int monitor(struct mps_subscription *sub, struct direct *d)
{
	int err;

	while (!stop && wait_readable(sub->sock) == 0) {
		err = mps_op_sub_read(sub, event_cb, d);
		if (err == -EAGAIN || err == -EINTR || err == -EPROTO)
			continue;
		if (err == -ECONNRESET)
			return fail("monitor", err,
				    "mpsockd closed the event stream");
		if (err)
			return fail("monitor", err, "reading events failed");
	}
	return 0;
}

int cmd_monitor(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct direct d = {.filter = false};
	struct mps_subscription sub;
	char msg[MPS_MSG_LEN] = "";
	int err, status;

	while (argc > 0) {
		if (matches(*argv, "token") && argc > 1 &&
		    !parse_token(argv[1], &d.token)) {
			d.filter = true;
			argc -= 2;
			argv += 2;
		} else if (matches(*argv, "token")) {
			return usage_error("monitor: token needs a "
					   "hexadecimal TOKEN (got \"%s\")",
					   argc > 1 ? argv[1] : "");
		} else {
			return usage_error("monitor: unknown argument \"%s\"",
					   *argv);
		}
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* with CAP_NET_ADMIN the whole group, else one's own through mpsockd */
	err = mps_op_subscribe(-1, &sub, msg, sizeof(msg));
	if (err)
		return fail("monitor", err,
			    msg[0] ? msg
				   : "without CAP_NET_ADMIN, events come "
				     "through mpsockd, which refused");
	status = monitor(&sub, &d);
	mps_op_unsubscribe(&sub);
	return status;
}
