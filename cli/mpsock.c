// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mpsock(8): show, watch and steer the MPTCP connections of a network
 * namespace.  Global options and one dispatch table, as ip(8) has them;
 * each command parses its own keyword arguments.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "cli.h"
#include "mpsock.h"

struct cli_opts cli;

static const char usage_text[] =
	"Usage: mpsock [ OPTIONS ] COMMAND [ ARGS ]\n"
	"       mpsock [ OPTIONS ] show [ token TOKEN ] "
	"[ --watch [ -i SECONDS ] ]\n"
	"       mpsock [ OPTIONS ] monitor [ token TOKEN ]\n"
	"       mpsock [ OPTIONS ] open token TOKEN local ADDR [ lport PORT ]\n"
	"                               remote ADDR [ rport PORT ] [ backup ] "
	"[ wait ]\n"
	"       mpsock [ OPTIONS ] close token TOKEN SUBFLOW [ reset ]\n"
	"       mpsock [ OPTIONS ] backup token TOKEN SUBFLOW { on | off }\n"
	"       mpsock [ OPTIONS ] check [ CAPABILITY... ]\n"
	"       mpsock [ OPTIONS ] " RUN_SYNOPSIS /* also run --help's */
	"       mpsock help\n"
	"SUBFLOW := { id ID | local ADDR lport PORT remote ADDR rport PORT }\n"
	/* also run --help's */ MODE_SYNOPSIS
	"OPTIONS := { -j[son] | -p[retty] | -n[etns] NAME | -t[imestamp] |\n"
	"             -H | -O[neline] | -V[ersion] | -h[elp] }\n";

static void usage(FILE *f)
{
	fputs(usage_text, f);
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("mpsock: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry \"mpsock help\".\n", stderr);
	return EXIT_USAGE;
}

int fail(const char *cmd, int err, const char *msg)
{
	fprintf(stderr, "mpsock: %s: %s%s%s\n", cmd, strerror(-err),
		msg && *msg ? ": " : "", msg ? msg : "");
	return EXIT_FAIL;
}

/* A keyword, or an unambiguous prefix of it as ip(8) accepts. */
bool matches(const char *arg, const char *keyword)
{
	size_t n = strlen(arg);

	return n && n <= strlen(keyword) && !strncmp(arg, keyword, n);
}

int parse_u32(const char *s, __u32 max, __u32 *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || !*s || *end || *s == '-' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/*
 * A number of seconds in plain decimal (2, 0.5, .25), from @min to @max:
 * no sign, exponent, hexadecimal, infinity or NaN as strtod() would take.
 */
int parse_seconds(const char *s, double min, double max, double *out)
{
	size_t digits = strspn(s, "0123456789"), frac = 0;
	double v;

	if (s[digits] == '.')
		frac = strspn(s + digits + 1, "0123456789");
	if (!digits && !frac)
		return -EINVAL;
	if (s[digits + (s[digits] == '.' ? 1 + frac : 0)])
		return -EINVAL;
	v = strtod(s, NULL);
	if (!(v >= min && v <= max))
		return -ERANGE;
	*out = v;
	return 0;
}

/* Tokens are printed in hexadecimal, as ss prints them; 0x is optional. */
int parse_token(const char *s, __u32 *token)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 16);
	if (errno || !*s || *end || *s == '-' || v > 0xffffffffULL)
		return -EINVAL;
	*token = v;
	return 0;
}

int parse_addr(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

const char *tcp_state_name(unsigned int state)
{
	/* the names ss(8) prints */
	static const char *const names[] = {
		[TCP_ESTABLISHED] = "ESTAB",	[TCP_SYN_SENT] = "SYN-SENT",
		[TCP_SYN_RECV] = "SYN-RECV",	[TCP_FIN_WAIT1] = "FIN-WAIT-1",
		[TCP_FIN_WAIT2] = "FIN-WAIT-2", [TCP_TIME_WAIT] = "TIME-WAIT",
		[TCP_CLOSE] = "UNCONN",		[TCP_CLOSE_WAIT] = "CLOSE-WAIT",
		[TCP_LAST_ACK] = "LAST-ACK",	[TCP_LISTEN] = "LISTEN",
		[TCP_CLOSING] = "CLOSING",
	};

	if (state < sizeof(names) / sizeof(names[0]) && names[state])
		return names[state];
	return "UNKNOWN";
}

/* -n NAME: the namespace ip netns created, as ip -n enters it. */
static int enter_netns(const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr,
			"mpsock: cannot open network namespace %s: "
			"%s\n",
			path, strerror(errno));
		return EXIT_FAIL;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		fprintf(stderr,
			"mpsock: cannot enter network namespace %s: "
			"%s\n",
			name, strerror(errno));
		close(fd);
		return EXIT_FAIL;
	}
	close(fd);
	return 0;
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{"show", cmd_show},   {"monitor", cmd_monitor}, {"open", cmd_open},
	{"close", cmd_close}, {"backup", cmd_backup},	{"check", cmd_check},
	{"run", cmd_run},     {"help", cmd_help},
};

static int dispatch(int argc, char **argv)
{
	unsigned int i, hits = 0, which = 0;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[0], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
		if (matches(argv[0], commands[i].name)) {
			hits++;
			which = i;
		}
	}
	if (hits == 1)
		return commands[which].fn(argc - 1, argv + 1);
	usage(stderr);
	return usage_error("%s command \"%s\"", hits ? "ambiguous" : "unknown",
			   argv[0]);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"pretty", no_argument, NULL, 'p'},
		{"netns", required_argument, NULL, 'n'},
		{"timestamp", no_argument, NULL, 't'},
		{"no-header", no_argument, NULL, 'H'},
		{"oneline", no_argument, NULL, 'O'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *netns = NULL;
	int c, err;

	/*
	 * '+': options end at the command, whose arguments are its own.
	 * _only: ip(8)'s single-dash long forms (-json, -netns NAME).
	 */
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "+:jpn:tHOVh", longopts,
				     NULL)) != -1) {
		switch (c) {
		case 'j':
			cli.json = true;
			break;
		case 'p':
			cli.pretty = true;
			break;
		case 'n':
			netns = optarg;
			break;
		case 't':
			cli.timestamp = true;
			break;
		case 'H':
			cli.no_header = true;
			break;
		case 'O':
			cli.oneline = true;
			break;
		case 'V':
			printf("mpsock %s\n", mpsock_version());
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return usage_error("option \"%s\" needs an argument",
					   argv[optind - 1]);
		default:
			return usage_error("unknown option \"%s\"",
					   argv[optind - 1]);
		}
	}
	argc -= optind;
	argv += optind;
	if (!argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (netns && (err = enter_netns(netns)))
		return err;
	return dispatch(argc, argv);
}
