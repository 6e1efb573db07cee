// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Test client driven by commands on standard input: opens one MPTCP
 * connection, then runs libmpsock's control calls (native and draft) on it
 * and answers each command with one line, so shell tests can check every
 * result against ss, ip mptcp monitor and packet captures.
 *
 * Usage: mpsock-ctl [-P] HOST PORT
 * Commands (one per line):
 *   open LOCAL REMOTE [backup] [unbound] [wait MS]
 *                                          native open (addresses as
 *                                          IP:PORT or [IP6]:PORT)
 *   dopen LOCAL REMOTE [backup]            MPTCP_OPEN_SUB_TUPLE
 *   fopen LOCAL REMOTE                     the same, laid out as the
 *                                          reference implementation's
 *                                          header had it (no prio byte)
 *   close ID rdwr|rst|rd|wr|N              native close
 *   dclose DRAFTID rdwr|rst|rd|wr|N|short  MPTCP_CLOSE_SUB_ID
 *   backup ID 0|1                          native set_backup
 *   dprio DRAFTID 0|1                      MPTCP_SUB_PRIO
 *   sso ID OPT VALUE                       native per-subflow setsockopt
 *   sgo ID OPT                             native per-subflow getsockopt
 *   dsso DRAFTID OPT VALUE                 MPTCP_SUB_SETSOCKOPT
 *   dsgo DRAFTID OPT                       MPTCP_SUB_GETSOCKOPT
 *     OPT: tos tclass cc nodelay keepidle keepintvl keepcnt usertimeout
 *          lowat clamp sndbuf rcvbuf keepalive pacing priority mark
 *   mtos VALUE                             setsockopt(IP_TOS) on the MPTCP
 *                                          socket itself
 *   evopen                                 mpsock_events_open() on it
 *   evwait MS                              wait up to MS for events, print
 *                                          every one ("ev type=...")
 *   evclose                                mpsock_events_close()
 *   closefd                                close the connection, keep
 *                                          the event stream
 *   list                                   native list, one line each
 *   echo                                   one echo round trip
 *   send BYTES                             write BYTES, read them back
 *   pid                                    print our pid
 *   quit
 * Answers: "ok [id=N] [draft=N]" or "err ERRNO_NAME message".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "mpsock.h"

static const char *errname(int e)
{
	static const struct {
		int e;
		const char *n;
	} t[] = {
		{EINVAL, "EINVAL"},
		{EOPNOTSUPP, "EOPNOTSUPP"},
		{EPERM, "EPERM"},
		{EACCES, "EACCES"},
		{ESRCH, "ESRCH"},
		{ENOSPC, "ENOSPC"},
		{EUSERS, "EUSERS"},
		{ENOTCONN, "ENOTCONN"},
		{EADDRINUSE, "EADDRINUSE"},
		{ENODEV, "ENODEV"},
		{ECONNREFUSED, "ECONNREFUSED"},
		{ETIMEDOUT, "ETIMEDOUT"},
		{ECONNRESET, "ECONNRESET"},
		{EADDRNOTAVAIL, "EADDRNOTAVAIL"},
		{ENOPROTOOPT, "ENOPROTOOPT"},
		{EBADF, "EBADF"},
	};
	unsigned int i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].e == e)
			return t[i].n;
	return strerror(e);
}

static int parse_addr(const char *s, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	char host[128];
	const char *colon;
	size_t hl;
	int port;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		colon = strstr(s, "]:");
		if (!colon)
			return -1;
		hl = colon - s - 1;
		memcpy(host, s + 1, hl);
		colon++;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -1;
		hl = colon - s;
		memcpy(host, s, hl);
	}
	host[hl] = '\0';
	port = atoi(colon + 1);
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) ==
	    1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons(port);
		*len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (inet_pton(AF_INET6, host,
		      &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
		*len = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -1;
}

static void fmt_addr(const struct sockaddr_storage *ss, char *out, size_t n)
{
	char h[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)ss;

		inet_ntop(AF_INET, &s->sin_addr, h, sizeof(h));
		snprintf(out, n, "%s:%u", h, ntohs(s->sin_port));
	} else {
		const struct sockaddr_in6 *s = (const void *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, h, sizeof(h));
		snprintf(out, n, "[%s]:%u", h, ntohs(s->sin6_port));
	}
}

static void answer(int r, __u32 id)
{
	if (r == 0) {
		if (id)
			printf("ok id=%u\n", id);
		else
			printf("ok\n");
	} else {
		printf("err %s %s\n", errname(errno), mpsock_errmsg());
	}
}

static const struct {
	const char *name;
	int level, optname;
} opts[] = {
	{"tos", IPPROTO_IP, IP_TOS},
	{"tclass", IPPROTO_IPV6, IPV6_TCLASS},
	{"cc", IPPROTO_TCP, TCP_CONGESTION},
	{"nodelay", IPPROTO_TCP, TCP_NODELAY},
	{"keepidle", IPPROTO_TCP, TCP_KEEPIDLE},
	{"keepintvl", IPPROTO_TCP, TCP_KEEPINTVL},
	{"keepcnt", IPPROTO_TCP, TCP_KEEPCNT},
	{"usertimeout", IPPROTO_TCP, TCP_USER_TIMEOUT},
	{"lowat", IPPROTO_TCP, TCP_NOTSENT_LOWAT},
	{"clamp", IPPROTO_TCP, TCP_WINDOW_CLAMP},
	{"sndbuf", SOL_SOCKET, SO_SNDBUF},
	{"rcvbuf", SOL_SOCKET, SO_RCVBUF},
	{"keepalive", SOL_SOCKET, SO_KEEPALIVE},
	{"pacing", SOL_SOCKET, SO_MAX_PACING_RATE},
	{"priority", SOL_SOCKET, SO_PRIORITY},
	{"mark", SOL_SOCKET, SO_MARK},
	{"ttl", IPPROTO_IP, IP_TTL}, /* not per subflow: ENOPROTOOPT */
};

static int find_opt(const char *name, int *level, int *optname)
{
	unsigned int i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		if (!strcmp(opts[i].name, name)) {
			*level = opts[i].level;
			*optname = opts[i].optname;
			return 0;
		}
	}
	return -1;
}

/* Per-subflow options, native or through the draft's structures. */
static void do_sockopt(int fd, const char *line)
{
	char cmd[8], name[32], value[64];
	int level, optname, n, iv;
	unsigned int id;
	char buf[64];
	socklen_t len;

	n = sscanf(line, "%7s %u %31s %63s", cmd, &id, name, value);
	if (n < 3 || find_opt(name, &level, &optname)) {
		printf("err EINVAL bad sockopt command\n");
		return;
	}
	bool set = strstr(cmd, "sso") != NULL;
	bool draft = cmd[0] == 'd';
	if (set) {
		if (n < 4) {
			printf("err EINVAL no value\n");
			return;
		}
		if (optname == TCP_CONGESTION) {
			len = strlen(value);
			memcpy(buf, value, len);
		} else {
			iv = atoi(value);
			len = sizeof(iv);
			memcpy(buf, &iv, len);
		}
	} else {
		len = optname == TCP_CONGESTION ? 16 : sizeof(int);
		memset(buf, 0, sizeof(buf));
	}
	if (draft && set) {
		struct mptcp_sub_setsockopt s = {.id = id,
						 .level = level,
						 .optname = optname,
						 .optval = buf,
						 .optlen = len};

		n = mpsock_setsockopt(fd, IPPROTO_TCP, MPTCP_SUB_SETSOCKOPT, &s,
				      sizeof(s));
	} else if (draft) {
		struct mptcp_sub_getsockopt g = {.id = id,
						 .level = level,
						 .optname = optname,
						 .optval = buf,
						 .optlen = &len};
		socklen_t gl = sizeof(g);

		n = mpsock_getsockopt(fd, IPPROTO_TCP, MPTCP_SUB_GETSOCKOPT, &g,
				      &gl);
	} else if (set) {
		n = mpsock_subflow_setsockopt(fd, id, level, optname, buf, len);
	} else {
		n = mpsock_subflow_getsockopt(fd, id, level, optname, buf,
					      &len);
	}
	if (n) {
		answer(n, 0);
	} else if (set) {
		printf("ok\n");
	} else if (optname == TCP_CONGESTION) {
		printf("ok value=%.*s\n", (int)strnlen(buf, len), buf);
	} else {
		memcpy(&iv, buf, sizeof(iv));
		printf("ok value=%d\n", iv);
	}
}

static const char *const ev_names[] = {
	[MPSOCK_EVENT_SUBFLOW_ESTABLISHED] = "established",
	[MPSOCK_EVENT_SUBFLOW_CLOSED] = "closed",
	[MPSOCK_EVENT_SUBFLOW_PRIORITY] = "priority",
	[MPSOCK_EVENT_ADDR_ANNOUNCED] = "announced",
	[MPSOCK_EVENT_ADDR_REMOVED] = "removed",
	[MPSOCK_EVENT_CLOSED] = "conn_closed",
	[MPSOCK_EVENT_NO_SUBFLOW] = "no_subflow",
	[MPSOCK_EVENT_LOST] = "lost",
};

/* Print every event that arrives within @ms (at least one wait). */
static void do_evwait(struct mpsock_events *ev, int ms)
{
	struct pollfd p = {.fd = mpsock_events_fd(ev), .events = POLLIN};
	struct mpsock_event e;
	char l[80], r[80];
	int n = 0;

	while (poll(&p, 1, ms) > 0) {
		while (mpsock_events_read(ev, &e) == 0) {
			fmt_addr(&e.local, l, sizeof(l));
			fmt_addr(&e.remote, r, sizeof(r));
			printf("ev type=%s id=%u error=%u backup=%u addr_id=%u "
			       "lost=%u local=%s remote=%s\n",
			       e.type < sizeof(ev_names) / sizeof(ev_names[0]) &&
					       ev_names[e.type]
				       ? ev_names[e.type]
				       : "?",
			       e.subflow_id, e.error, e.backup, e.addr_id,
			       e.lost, e.local.ss_family ? l : "-",
			       e.remote.ss_family ? r : "-");
			n++;
		}
		if (errno != EAGAIN) {
			answer(-1, 0);
			return;
		}
		ms = 100; /* what else comes with it */
	}
	printf("ok events=%d\n", n);
}

static int parse_how(const char *s)
{
	if (!strcmp(s, "rdwr"))
		return SHUT_RDWR;
	if (!strcmp(s, "rst"))
		return MPTCP_SHUT_RST;
	if (!strcmp(s, "rd"))
		return SHUT_RD;
	if (!strcmp(s, "wr"))
		return SHUT_WR;
	return atoi(s);
}

static void do_list(int fd)
{
	struct mpsock_subflow sf[64];
	char l[80], r[80];
	int n, i;

	n = mpsock_subflow_list(fd, sf, 64);
	if (n < 0) {
		answer(-1, 0);
		return;
	}
	for (i = 0; i < n && i < 64; i++) {
		fmt_addr(&sf[i].local, l, sizeof(l));
		fmt_addr(&sf[i].remote, r, sizeof(r));
		printf("sf id=%u state=%u local=%s remote=%s backup=%d\n",
		       sf[i].id, sf[i].state, l, r,
		       !!(sf[i].flags & MPSOCK_SUBFLOW_BACKUP_LOCAL));
	}
	printf("ok count=%d\n", n);
}

static void do_send(int fd, long bytes)
{
	static char buf[65536];
	long sent = 0, got = 0;
	ssize_t n;

	while (got < bytes) {
		if (sent < bytes) {
			size_t chunk = sizeof(buf);

			if (bytes - sent < (long)sizeof(buf))
				chunk = bytes - sent;

			n = write(fd, buf, chunk);
			if (n < 0)
				break;
			sent += n;
		}
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		got += n;
	}
	if (got == bytes)
		printf("ok bytes=%ld\n", got);
	else
		printf("err EIO sent %ld got %ld\n", sent, got);
}

static int connect_to(const char *host, const char *port, bool plain)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST},
			*ai;
	int fd;

	if (getaddrinfo(host, port, &hints, &ai))
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM,
		    plain ? IPPROTO_TCP : IPPROTO_MPTCP);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* The draft's tuple request: header, then local and remote. */
static int draft_open(int fd, const struct sockaddr_storage *l,
		      const struct sockaddr_storage *r, socklen_t salen,
		      int prio)
{
	unsigned char buf[2 + 2 * sizeof(struct sockaddr_in6)];
	struct mptcp_sub_tuple *t = (struct mptcp_sub_tuple *)buf;
	socklen_t len = 2 + 2 * salen;

	t->id = 0;
	t->prio = prio;
	memcpy(t->addrs, l, salen);
	memcpy(t->addrs + salen, r, salen);
	if (mpsock_getsockopt(fd, IPPROTO_TCP, MPTCP_OPEN_SUB_TUPLE, t, &len))
		return -1;
	return t->id;
}

int main(int argc, char **argv)
{
	char line[512], a1[128], a2[128], w1[32], w2[32];
	struct mpsock_events *ev = NULL;
	bool plain = false;
	int fd, n, opt;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "P")) != -1)
		plain = opt == 'P';
	if (argc - optind != 2) {
		fprintf(stderr, "usage: mpsock-ctl [-P] HOST PORT\n");
		return 64;
	}
	fd = connect_to(argv[optind], argv[optind + 1], plain);
	if (fd < 0) {
		perror("mpsock-ctl: connect");
		return 2;
	}
	printf("connected\n");
	while (fgets(line, sizeof(line), stdin)) {
		struct sockaddr_storage l, r;
		socklen_t ll, rl;
		__u32 id = 0;
		long v;

		w1[0] = w2[0] = '\0';
		if (sscanf(line, "open %127s %127s %31s %31s %ld", a1, a2, w1,
			   w2, &v) >= 2) {
			unsigned int flags =
				(strstr(line, " backup") ? MPSOCK_OPEN_BACKUP
							 : 0) |
				(strstr(line, " unbound") ? MPSOCK_OPEN_UNBOUND
							  : 0);
			char *wait = strstr(line, " wait ");

			if (parse_addr(a1, &l, &ll) ||
			    parse_addr(a2, &r, &rl)) {
				printf("err EINVAL bad address\n");
				continue;
			}
			if (wait)
				n = mpsock_subflow_open_wait(
					fd, (struct sockaddr *)&l,
					(struct sockaddr *)&r, ll, flags,
					atoi(wait + 6), &id);
			else
				n = mpsock_subflow_open(
					fd, (struct sockaddr *)&l,
					(struct sockaddr *)&r, ll, flags, &id);
			answer(n, id);
		} else if (sscanf(line, "dopen %127s %127s", a1, a2) == 2) {
			if (parse_addr(a1, &l, &ll) ||
			    parse_addr(a2, &r, &rl)) {
				printf("err EINVAL bad address\n");
				continue;
			}
			n = draft_open(fd, &l, &r, ll,
				       strstr(line, " backup") != NULL);
			if (n < 0)
				answer(-1, 0);
			else
				printf("ok draft=%d\n", n);
		} else if (sscanf(line, "fopen %127s %127s", a1, a2) == 2) {
			unsigned char fb[1 + 2 * sizeof(struct sockaddr_in6)];
			socklen_t len;

			if (parse_addr(a1, &l, &ll) ||
			    parse_addr(a2, &r, &rl)) {
				printf("err EINVAL bad address\n");
				continue;
			}
			fb[0] = 0;
			memcpy(fb + 1, &l, ll);
			memcpy(fb + 1 + ll, &r, ll);
			len = 1 + 2 * ll;
			if (mpsock_getsockopt(fd, IPPROTO_TCP,
					      MPTCP_OPEN_SUB_TUPLE, fb, &len))
				answer(-1, 0);
			else
				printf("ok draft=%u\n", fb[0]);
		} else if (sscanf(line, "close %u %31s", &id, w1) == 2) {
			answer(mpsock_subflow_close(fd, id, parse_how(w1)), 0);
		} else if (sscanf(line, "dclose %u %31s", &id, w1) == 2) {
			struct mptcp_close_sub_id c = {.id = id};
			socklen_t len = sizeof(c);

			c.how = parse_how(w1);
			if (!strcmp(w1, "short"))
				len = 1; /* the reference implementation */
			answer(mpsock_getsockopt(fd, IPPROTO_TCP,
						 MPTCP_CLOSE_SUB_ID, &c, &len),
			       0);
		} else if (sscanf(line, "backup %u %ld", &id, &v) == 2) {
			answer(mpsock_subflow_set_backup(fd, id, v), 0);
		} else if (sscanf(line, "dprio %u %ld", &id, &v) == 2) {
			struct mptcp_sub_prio p = {.id = id, .low_prio = v};

			answer(mpsock_setsockopt(fd, IPPROTO_TCP,
						 MPTCP_SUB_PRIO, &p, sizeof(p)),
			       0);
		} else if (!strncmp(line, "sso ", 4) ||
			   !strncmp(line, "sgo ", 4) ||
			   !strncmp(line, "dsso ", 5) ||
			   !strncmp(line, "dsgo ", 5)) {
			do_sockopt(fd, line);
		} else if (!strncmp(line, "evopen", 6)) {
			ev = mpsock_events_open(fd);
			if (ev)
				printf("ok\n");
			else
				printf("err %s %s\n", errname(errno),
				       mpsock_errmsg());
		} else if (sscanf(line, "evwait %ld", &v) == 1 && ev) {
			do_evwait(ev, v);
		} else if (!strncmp(line, "closefd", 7)) {
			close(fd);
			printf("ok\n");
		} else if (!strncmp(line, "evclose", 7) && ev) {
			mpsock_events_close(ev);
			ev = NULL;
			printf("ok\n");
		} else if (sscanf(line, "mtos %ld", &v) == 1) {
			int tos = v;

			answer(setsockopt(fd, IPPROTO_IP, IP_TOS, &tos,
					  sizeof(tos)),
			       0);
		} else if (!strncmp(line, "list", 4)) {
			do_list(fd);
		} else if (!strncmp(line, "echo", 4)) {
			do_send(fd, 5);
		} else if (sscanf(line, "send %ld", &v) == 1) {
			do_send(fd, v);
		} else if (!strncmp(line, "pid", 3)) {
			printf("ok pid=%d\n", getpid());
		} else if (!strncmp(line, "quit", 4)) {
			break;
		} else {
			printf("err EINVAL unknown command\n");
		}
	}
	if (ev)
		mpsock_events_close(ev);
	close(fd);
	return 0;
}
