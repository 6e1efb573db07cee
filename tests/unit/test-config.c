// SPDX-License-Identifier: LGPL-2.1-or-later
/* mpsockd.conf parsing: values, defaults, and every error with its line. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "../../daemon/config.h"
#include "test.h"

#define NAME "mpsockd.conf"
#define MAX_MSGS 64

static char msgs[MAX_MSGS][512];
static int nmsgs;

static void collect(void *ctx, const char *msg)
{
	(void)ctx;
	if (nmsgs < MAX_MSGS)
		snprintf(msgs[nmsgs], sizeof(msgs[0]), "%s", msg);
	nmsgs++;
}

static int parse(const char *text, struct mpsd_config *c)
{
	FILE *f;
	int ret;

	nmsgs = 0;
	/* fmemopen() refuses an empty buffer */
	if (*text)
		f = fmemopen((void *)text, strlen(text), "r");
	else
		f = fopen("/dev/null", "r");
	if (!f)
		return -errno;
	ret = mpsd_config_parse(f, NAME, c, collect, NULL);
	fclose(f);
	return ret;
}

/* The file is refused with exactly this one message. */
static bool refused(const char *text, const char *msg)
{
	struct mpsd_config c;
	int ret = parse(text, &c);

	if (ret != -EINVAL || nmsgs != 1 || strcmp(msgs[0], msg) != 0) {
		printf("# got %d, %d message(s)%s%s\n", ret, nmsgs,
		       nmsgs ? ", first: " : "", nmsgs ? msgs[0] : "");
		return false;
	}
	return true;
}

static bool accepted(const char *text, struct mpsd_config *c)
{
	int ret = parse(text, c);

	if (ret || nmsgs)
		printf("# got %d, %d message(s)%s%s\n", ret, nmsgs,
		       nmsgs ? ", first: " : "", nmsgs ? msgs[0] : "");
	return ret == 0 && nmsgs == 0;
}

static bool is_default(const struct mpsd_config *c)
{
	struct mpsd_config d;

	mpsd_config_defaults(&d);
	return memcmp(c, &d, sizeof(d)) == 0;
}

static bool in4_is(const struct mpsd_announce *a, const char *addr,
		   unsigned int port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->addr;
	struct in_addr want;

	return a->addr.ss_family == AF_INET &&
	       inet_pton(AF_INET, addr, &want) == 1 &&
	       sin->sin_addr.s_addr == want.s_addr &&
	       ntohs(sin->sin_port) == port;
}

static bool in6_is(const struct mpsd_announce *a, const char *addr,
		   unsigned int port)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->addr;
	struct in6_addr want;

	return a->addr.ss_family == AF_INET6 &&
	       inet_pton(AF_INET6, addr, &want) == 1 &&
	       memcmp(&sin6->sin6_addr, &want, sizeof(want)) == 0 &&
	       ntohs(sin6->sin6_port) == port;
}

static void test_defaults(void)
{
	struct mpsd_config c;

	memset(&c, 0xa5, sizeof(c));
	mpsd_config_defaults(&c);
	CHECK("default policy endpoints", c.policy == MPSD_POLICY_ENDPOINTS);
	CHECK("default mode aggregate", c.mode == MPSD_MODE_AGGREGATE);
	CHECK("default max-subflows 4", c.max_subflows == 4);
	CHECK("default backoff 100 30000",
	      c.backoff_min_ms == 100 && c.backoff_max_ms == 30000);
	CHECK("default interactive-interval 1000", c.interactive_ms == 1000);
	CHECK("default: no rules, no announce, no ndiffports",
	      c.nrules == 0 && c.nannounce == 0 && c.ndiffports == 0);

	memset(&c, 0xa5, sizeof(c));
	CHECK("an empty file gives the defaults",
	      accepted("", &c) && is_default(&c));
	memset(&c, 0xa5, sizeof(c));
	CHECK("comments and blank lines only give the defaults",
	      accepted("# mpsockd.conf\n\n   \n\t# indented comment\n"
		       "#policy single\n\n",
		       &c) &&
		      is_default(&c));
}

static void test_policy_mode(void)
{
	struct mpsd_config c;

	CHECK("policy single", accepted("policy single\n", &c) &&
				       c.policy == MPSD_POLICY_SINGLE &&
				       c.ndiffports == 0);
	CHECK("policy fullmesh", accepted("policy fullmesh", &c) &&
					 c.policy == MPSD_POLICY_FULLMESH);
	CHECK("policy endpoints", accepted("policy endpoints\n", &c) &&
					  c.policy == MPSD_POLICY_ENDPOINTS &&
					  c.ndiffports == 0);
	CHECK("policy ndiffports 2",
	      accepted("policy ndiffports 2\n", &c) &&
		      c.policy == MPSD_POLICY_NDIFFPORTS && c.ndiffports == 2);
	CHECK("policy ndiffports 8",
	      accepted("policy ndiffports 8\n", &c) && c.ndiffports == 8);
	CHECK("mode aggregate", accepted("mode aggregate\n", &c) &&
					c.mode == MPSD_MODE_AGGREGATE);
	CHECK("mode handover",
	      accepted("mode handover\n", &c) && c.mode == MPSD_MODE_HANDOVER);
	CHECK("mode interactive", accepted("mode interactive\n", &c) &&
					  c.mode == MPSD_MODE_INTERACTIVE);
	CHECK("max-subflows 1 and 8",
	      accepted("max-subflows 1\n", &c) && c.max_subflows == 1 &&
		      accepted("max-subflows 8\n", &c) && c.max_subflows == 8);
	CHECK("backoff 10 600000", accepted("backoff 10 600000\n", &c) &&
					   c.backoff_min_ms == 10 &&
					   c.backoff_max_ms == 600000);
	CHECK("backoff with MIN equal to MAX",
	      accepted("backoff 500 500\n", &c) && c.backoff_min_ms == 500 &&
		      c.backoff_max_ms == 500);
	CHECK("per-user clients, waits, subscriptions, registrations",
	      accepted("per-user clients 1\nper-user waits 1024\n"
		       "per-user subscriptions 7\n"
		       "per-user registrations 4096\n",
		       &c) &&
		      c.limits.user_clients == 1 &&
		      c.limits.user_waits == 1024 &&
		      c.limits.user_subscriptions == 7 &&
		      c.limits.user_registrations == 4096);
	CHECK("per-user: an unknown counter or 0 is refused",
	      !accepted("per-user sockets 3\n", &c) &&
		      !accepted("per-user clients 0\n", &c));
	CHECK("app-subflows 3 syn-sent 2, and limits",
	      accepted("app-subflows 3 syn-sent 2\n", &c) &&
		      c.limits.conn_subflows == 3 &&
		      c.limits.conn_syn_sent == 2 &&
		      accepted("app-subflows limits\n", &c) &&
		      c.limits.conn_subflows == 0 &&
		      c.limits.conn_syn_sent == 8);
	CHECK("interactive-interval 100 and 60000",
	      accepted("interactive-interval 100\n", &c) &&
		      c.interactive_ms == 100 &&
		      accepted("interactive-interval 60000\n", &c) &&
		      c.interactive_ms == 60000);
	CHECK("a number with a leading zero is decimal, not octal",
	      accepted("max-subflows 08\n", &c) && c.max_subflows == 8);
	CHECK("tabs, CRLF and a trailing comment",
	      accepted("\tmode\thandover  # phone-like\r\n"
		       "policy ndiffports 3#no space\r\n",
		       &c) &&
		      c.mode == MPSD_MODE_HANDOVER && c.ndiffports == 3);
}

static void test_interfaces(void)
{
	struct mpsd_config c;
	char text[4096] = "";

	CHECK("interface rules, in order",
	      accepted("interface wlan0 use\ninterface rmnet_data0 backup\n"
		       "interface vpn0 never\n",
		       &c) &&
		      c.nrules == 3 && strcmp(c.rules[0].name, "wlan0") == 0 &&
		      c.rules[0].use == MPSD_IF_USE &&
		      strcmp(c.rules[1].name, "rmnet_data0") == 0 &&
		      c.rules[1].use == MPSD_IF_BACKUP &&
		      strcmp(c.rules[2].name, "vpn0") == 0 &&
		      c.rules[2].use == MPSD_IF_NEVER);
	CHECK("lookup: a rule's use",
	      mpsd_config_if_use(&c, "rmnet_data0") == MPSD_IF_BACKUP);
	CHECK("lookup: never", mpsd_config_if_use(&c, "vpn0") == MPSD_IF_NEVER);
	CHECK("lookup: no rule means use",
	      mpsd_config_if_use(&c, "eth0") == MPSD_IF_USE);
	CHECK("lookup: names match whole, not as prefixes",
	      mpsd_config_if_use(&c, "vpn") == MPSD_IF_USE &&
		      mpsd_config_if_use(&c, "vpn00") == MPSD_IF_USE);
	CHECK("lookup: names are case-sensitive",
	      mpsd_config_if_use(&c, "VPN0") == MPSD_IF_USE);
	CHECK("lookup: NULL name means use",
	      mpsd_config_if_use(&c, NULL) == MPSD_IF_USE);
	CHECK("an interface name of 15 characters",
	      accepted("interface abcdefghijklmno never\n", &c) &&
		      mpsd_config_if_use(&c, "abcdefghijklmno") ==
			      MPSD_IF_NEVER);
	for (int i = 0; i < MPSD_MAX_IF_RULES; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "interface if%d backup\n", i);
	CHECK("32 interface rules",
	      accepted(text, &c) && c.nrules == 32 &&
		      mpsd_config_if_use(&c, "if31") == MPSD_IF_BACKUP);
	strcat(text, "interface if32 never\n");
	CHECK("a 33rd interface rule: too many, on line 33",
	      refused(text,
		      NAME ":33: interface: too many rules (at most 32)"));
}

static void test_announce(void)
{
	struct mpsd_config c;
	char text[1024] = "";

	CHECK("announce IPv4 without port or id",
	      accepted("announce 192.0.2.1\n", &c) && c.nannounce == 1 &&
		      in4_is(&c.announce[0], "192.0.2.1", 0) &&
		      c.announce[0].id == 1);
	CHECK("announce IPv4 with port and id",
	      accepted("announce 198.51.100.7 port 8080 id 5\n", &c) &&
		      in4_is(&c.announce[0], "198.51.100.7", 8080) &&
		      c.announce[0].id == 5);
	CHECK("announce IPv6 with port and id",
	      accepted("announce 2001:db8::1 port 443 id 255\n", &c) &&
		      in6_is(&c.announce[0], "2001:db8::1", 443) &&
		      c.announce[0].id == 255);
	CHECK("announce IPv6 with id before port",
	      accepted("announce 2001:db8:1::2 id 9 port 65535\n", &c) &&
		      in6_is(&c.announce[0], "2001:db8:1::2", 65535) &&
		      c.announce[0].id == 9);
	CHECK("the default id is the position plus one",
	      accepted("announce 192.0.2.1\nannounce 2001:db8::1 port 1\n"
		       "announce 192.0.2.3 id 7\nannounce 192.0.2.4\n",
		       &c) &&
		      c.nannounce == 4 && c.announce[0].id == 1 &&
		      c.announce[1].id == 2 && c.announce[2].id == 7 &&
		      c.announce[3].id == 4 &&
		      in6_is(&c.announce[1], "2001:db8::1", 1) &&
		      in4_is(&c.announce[3], "192.0.2.4", 0));
	for (int i = 0; i < MPSD_MAX_ANNOUNCE; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "announce 192.0.2.%d\n", i + 1);
	CHECK("8 announce lines",
	      accepted(text, &c) && c.nannounce == 8 && c.announce[7].id == 8);
	strcat(text, "announce 2001:db8::9\n");
	CHECK("a 9th announce: too many, on line 9",
	      refused(text,
		      NAME ":9: announce: too many addresses (at most 8)"));
	CHECK("an explicit id used twice",
	      refused("announce 192.0.2.1 id 3\n#\nannounce 192.0.2.2 id 3\n",
		      NAME ":3: announce: id 3 is already used on line 1"));
	CHECK("a default id that an earlier explicit id took",
	      refused("announce 192.0.2.1 id 2\nannounce 192.0.2.2\n",
		      NAME ":2: announce: id 2 (the default for address 2) "
			   "is already used on line 1; give an id"));
}

static void test_argument_errors(void)
{
	CHECK("unknown keyword", refused("\n\nfrobnicate on\n", NAME
					 ":3: frobnicate: unknown keyword"));
	CHECK("keywords are case-sensitive",
	      refused("Policy single\n", NAME ":1: Policy: unknown keyword"));
	CHECK("policy: missing argument",
	      refused("policy\n", NAME ":1: policy: missing single, "
				       "fullmesh, ndiffports N or endpoints"));
	CHECK("policy: unknown name",
	      refused("# c\npolicy mesh\n",
		      NAME ":2: policy: mesh is not single, fullmesh, "
			   "ndiffports or endpoints"));
	CHECK("policy: extra argument",
	      refused("policy single 3\n",
		      NAME ":1: policy: extra argument 3"));
	CHECK("ndiffports: missing N",
	      refused("policy ndiffports\n",
		      NAME ":1: ndiffports: missing number (2..8)"));
	CHECK("ndiffports: extra argument",
	      refused("policy ndiffports 2 3\n",
		      NAME ":1: policy: extra argument 3"));
	CHECK("mode: missing argument",
	      refused("mode   # none\n", NAME ":1: mode: missing aggregate, "
					      "handover or interactive"));
	CHECK("mode: unknown name",
	      refused("mode Handover\n",
		      NAME ":1: mode: Handover is not aggregate, handover or "
			   "interactive"));
	CHECK("mode: extra argument", refused("mode handover now\n", NAME
					      ":1: mode: extra argument now"));
	CHECK("interface: missing name",
	      refused("interface\n",
		      NAME ":1: interface: missing interface name"));
	CHECK("interface: missing use",
	      refused("interface wlan0\n", NAME
		      ":1: interface: wlan0: missing use, backup or never"));
	CHECK("interface: unknown use",
	      refused("interface wlan0 prefer\n",
		      NAME ":1: interface: wlan0: prefer is not use, backup or "
			   "never"));
	CHECK("interface: extra argument",
	      refused("interface wlan0 use backup\n",
		      NAME ":1: interface: extra argument backup"));
	CHECK("interface: a name of 16 characters",
	      refused("interface abcdefghijklmnop use\n",
		      NAME ":1: interface: abcdefghijklmnop is longer than 15 "
			   "characters"));
	CHECK("interface: the same name twice",
	      refused("interface wlan0 use\n\ninterface eth0 use\n"
		      "interface wlan0 backup\n",
		      NAME ":4: interface: wlan0 is already set on line 1"));
	CHECK("max-subflows: missing N",
	      refused("max-subflows\n",
		      NAME ":1: max-subflows: missing number (1..8)"));
	CHECK("max-subflows: extra argument",
	      refused("max-subflows 4 5\n",
		      NAME ":1: max-subflows: extra argument 5"));
	CHECK("backoff: missing both",
	      refused("backoff\n",
		      NAME ":1: backoff: missing minimum number (10..600000)"));
	CHECK("backoff: missing MAX",
	      refused("backoff 100\n",
		      NAME ":1: backoff: missing maximum number (10..600000)"));
	CHECK("backoff: extra argument",
	      refused("backoff 100 200 300\n",
		      NAME ":1: backoff: extra argument 300"));
	CHECK("interactive-interval: missing MS",
	      refused("interactive-interval\n",
		      NAME ":1: interactive-interval: missing number "
			   "(100..60000)"));
	CHECK("interactive-interval: extra argument",
	      refused("interactive-interval 100 ms\n",
		      NAME ":1: interactive-interval: extra argument ms"));
	CHECK("announce: missing address",
	      refused("announce\n", NAME ":1: announce: missing address"));
	CHECK("announce: missing port number",
	      refused("announce 192.0.2.1 port\n",
		      NAME ":1: announce: missing port number (1..65535)"));
	CHECK("announce: missing id number",
	      refused("announce 192.0.2.1 port 80 id\n",
		      NAME ":1: announce: missing id number (1..255)"));
	CHECK("announce: extra argument",
	      refused("announce 192.0.2.1 backup\n",
		      NAME ":1: announce: extra argument backup"));
	CHECK("announce: port given twice",
	      refused("announce 192.0.2.1 port 80 port 81\n",
		      NAME ":1: announce: port given twice"));
	CHECK("announce: id given twice",
	      refused("announce 192.0.2.1 id 2 id 2\n",
		      NAME ":1: announce: id given twice"));
}

static void test_number_errors(void)
{
	CHECK("the spec's example",
	      refused("#\n#\n#\n#\n#\n#\npolicy ndiffports 12\n",
		      NAME ":7: ndiffports: 12 is out of range 2..8"));
	CHECK("ndiffports 1",
	      refused("policy ndiffports 1\n",
		      NAME ":1: ndiffports: 1 is out of range 2..8"));
	CHECK("ndiffports: not an integer",
	      refused("policy ndiffports two\n",
		      NAME ":1: ndiffports: two is not an integer"));
	CHECK("max-subflows 0",
	      refused("max-subflows 0\n",
		      NAME ":1: max-subflows: 0 is out of range 1..8"));
	CHECK("max-subflows 9",
	      refused("max-subflows 9\n",
		      NAME ":1: max-subflows: 9 is out of range 1..8"));
	CHECK("max-subflows -1: out of range",
	      refused("max-subflows -1\n",
		      NAME ":1: max-subflows: -1 is out of range 1..8"));
	CHECK("a number beyond 64 bits: out of range",
	      refused("max-subflows 99999999999999999999999\n",
		      NAME ":1: max-subflows: 99999999999999999999999 is out "
			   "of range 1..8"));
	CHECK("hexadecimal is not an integer here",
	      refused("max-subflows 0x4\n",
		      NAME ":1: max-subflows: 0x4 is not an integer"));
	CHECK("a plus sign is not an integer here",
	      refused("max-subflows +4\n",
		      NAME ":1: max-subflows: +4 is not an integer"));
	CHECK("a decimal point is not an integer",
	      refused("max-subflows 4.0\n",
		      NAME ":1: max-subflows: 4.0 is not an integer"));
	CHECK("a lone minus sign is not an integer",
	      refused("max-subflows -\n",
		      NAME ":1: max-subflows: - is not an integer"));
	CHECK("backoff MIN below 10",
	      refused("backoff 9 100\n", NAME
		      ":1: backoff: minimum 9 is out of range 10..600000"));
	CHECK("backoff MAX above 600000",
	      refused("backoff 10 600001\n",
		      NAME ":1: backoff: maximum 600001 is out of range "
			   "10..600000"));
	CHECK("backoff MIN greater than MAX",
	      refused("backoff 5000 100\n",
		      NAME ":1: backoff: minimum 5000 is greater than maximum "
			   "100"));
	CHECK("backoff: not an integer",
	      refused("backoff 1s 2s\n",
		      NAME ":1: backoff: minimum 1s is not an integer"));
	CHECK("interactive-interval 99",
	      refused("interactive-interval 99\n",
		      NAME ":1: interactive-interval: 99 is out of range "
			   "100..60000"));
	CHECK("interactive-interval 60001",
	      refused("interactive-interval 60001\n",
		      NAME ":1: interactive-interval: 60001 is out of range "
			   "100..60000"));
	CHECK("port 0",
	      refused("announce 192.0.2.1 port 0\n",
		      NAME ":1: announce: port 0 is out of range 1..65535"));
	CHECK("port 65536", refused("announce 2001:db8::1 port 65536\n", NAME
				    ":1: announce: port 65536 is out of range "
				    "1..65535"));
	CHECK("port: not an integer",
	      refused("announce 192.0.2.1 port http\n",
		      NAME ":1: announce: port http is not an integer"));
	CHECK("id 0", refused("announce 192.0.2.1 id 0\n", NAME
			      ":1: announce: id 0 is out of range 1..255"));
	CHECK("id 256", refused("announce 192.0.2.1 id 256\n", NAME
				":1: announce: id 256 is out of range 1..255"));
}

static void test_address_errors(void)
{
	static const char *const bad[] = {
		"192.0.2",	 "192.0.2.256", "2001:db8::g",	"fe80::1%wlan0",
		"[2001:db8::1]", "example.com", "192.0.2.1:80",
	};
	static const char *const not_unicast[] = {
		"0.0.0.0", "::", "224.0.0.1", "ff02::1", "255.255.255.255",
	};
	char text[128], msg[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "\nannounce %s\n", bad[i]);
		snprintf(msg, sizeof(msg),
			 NAME ":2: announce: %s is not an IPv4 or IPv6 address",
			 bad[i]);
		CHECK(msg, refused(text, msg));
	}
	for (size_t i = 0; i < sizeof(not_unicast) / sizeof(not_unicast[0]);
	     i++) {
		snprintf(text, sizeof(text), "announce %s port 80\n",
			 not_unicast[i]);
		snprintf(msg, sizeof(msg),
			 NAME ":1: announce: %s is not a unicast address",
			 not_unicast[i]);
		CHECK(msg, refused(text, msg));
	}
}

static void test_repeats_and_lines(void)
{
	struct mpsd_config c;
	char text[2100];

	CHECK("policy twice", refused("policy single\npolicy single\n", NAME
				      ":2: policy: already set on line 1"));
	CHECK("mode twice", refused("mode handover\n\n# x\nmode aggregate\n",
				    NAME ":4: mode: already set on line 1"));
	CHECK("max-subflows twice",
	      refused("max-subflows 2\nmax-subflows 2\n",
		      NAME ":2: max-subflows: already set on line 1"));
	CHECK("backoff twice",
	      refused("backoff 10 20\nmode handover\nbackoff 10 20\n",
		      NAME ":3: backoff: already set on line 1"));
	CHECK("interactive-interval twice",
	      refused("interactive-interval 100\ninteractive-interval 200\n",
		      NAME ":2: interactive-interval: already set on line 1"));

	/* 1023 characters are fine, a comment included; 1024 are not */
	memset(text, ' ', sizeof(text));
	memcpy(text, "max-subflows 2 #", 16);
	text[1023] = '\n';
	text[1024] = '\0';
	CHECK("a line of 1023 characters", accepted(text, &c));
	memset(text, ' ', sizeof(text));
	memcpy(text, "mode handover\n", 14);
	memcpy(text + 14, "max-subflows 2 #", 16);
	text[14 + 1024] = '\n';
	text[14 + 1025] = '\0';
	CHECK("a line of 1024 characters, on line 2",
	      refused(text, NAME ":2: line longer than 1023 characters"));
	text[14 + 1024] = '\0';
	CHECK("a long last line without a newline",
	      refused(text, NAME ":2: line longer than 1023 characters"));
}

static void test_all_errors(void)
{
	struct mpsd_config c;
	int ret;

	mpsd_config_defaults(&c);
	c.max_subflows = 7;
	ret = parse("# phone\n"
		    "policy fullmesh\n"
		    "mode sideways\n"
		    "interface wlan0 use\n"
		    "max-subflows 12\n"
		    "\n"
		    "interface wlan0 never\n"
		    "policy single\n"
		    "announce 192.0.2.300\n"
		    "backoff 100 30000 # fine\n"
		    "colour blue\n",
		    &c);
	CHECK("a file with errors is refused", ret == -EINVAL);
	CHECK("every error is reported, not only the first", nmsgs == 6);
	CHECK("error 1, line 3",
	      nmsgs > 0 && strcmp(msgs[0], NAME ":3: mode: sideways is not "
						"aggregate, handover or "
						"interactive") == 0);
	CHECK("error 2, line 5",
	      nmsgs > 1 && strcmp(msgs[1], NAME ":5: max-subflows: 12 is out "
						"of range 1..8") == 0);
	CHECK("error 3, line 7",
	      nmsgs > 2 && strcmp(msgs[2], NAME ":7: interface: wlan0 is "
						"already set on line 4") == 0);
	CHECK("error 4, line 8",
	      nmsgs > 3 && strcmp(msgs[3], NAME ":8: policy: already set on "
						"line 2") == 0);
	CHECK("error 5, line 9",
	      nmsgs > 4 && strcmp(msgs[4], NAME ":9: announce: 192.0.2.300 is "
						"not an IPv4 or IPv6 "
						"address") == 0);
	CHECK("error 6, line 11",
	      nmsgs > 5 && strcmp(msgs[5],
				  NAME ":11: colour: unknown keyword") == 0);
	CHECK("a refused file leaves the configuration as it was",
	      c.max_subflows == 7 && c.nrules == 0);

	c.max_subflows = 7;
	ret = parse("mode handover\n", &c);
	CHECK("a good file replaces all of it, defaults included",
	      ret == 0 && c.mode == MPSD_MODE_HANDOVER && c.max_subflows == 4);
}

static void test_names(void)
{
	static const enum mpsd_mode modes[] = {
		MPSD_MODE_AGGREGATE, MPSD_MODE_HANDOVER, MPSD_MODE_INTERACTIVE};
	bool round_trip = true;

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (mpsd_mode_parse(mpsd_mode_name(modes[i])) != (int)modes[i])
			round_trip = false;
	CHECK("mode names round trip", round_trip);
	CHECK("mode names",
	      strcmp(mpsd_mode_name(MPSD_MODE_AGGREGATE), "aggregate") == 0 &&
		      strcmp(mpsd_mode_name(MPSD_MODE_HANDOVER), "handover") ==
			      0 &&
		      strcmp(mpsd_mode_name(MPSD_MODE_INTERACTIVE),
			     "interactive") == 0);
	CHECK("an unknown mode: -EINVAL",
	      mpsd_mode_parse("sideways") == -EINVAL &&
		      mpsd_mode_parse("") == -EINVAL &&
		      mpsd_mode_parse("Handover") == -EINVAL &&
		      mpsd_mode_parse(NULL) == -EINVAL);
	CHECK("policy names",
	      strcmp(mpsd_policy_name(MPSD_POLICY_SINGLE), "single") == 0 &&
		      strcmp(mpsd_policy_name(MPSD_POLICY_FULLMESH),
			     "fullmesh") == 0 &&
		      strcmp(mpsd_policy_name(MPSD_POLICY_NDIFFPORTS),
			     "ndiffports") == 0);
	CHECK("out-of-range values have a name too",
	      strcmp(mpsd_policy_name((enum mpsd_policy)42), "unknown") == 0 &&
		      strcmp(mpsd_mode_name((enum mpsd_mode)42), "unknown") ==
			      0);
	for (int p = MPSD_POLICY_SINGLE; p <= MPSD_POLICY_NDIFFPORTS; p++) {
		struct mpsd_config c;
		char text[64], name[128];

		snprintf(text, sizeof(text), "policy %s%s", mpsd_policy_name(p),
			 p == MPSD_POLICY_NDIFFPORTS ? " 4" : "");
		snprintf(name, sizeof(name), "the policy name round trips: %s",
			 text);
		CHECK(name, accepted(text, &c) && (int)c.policy == p);
	}
}

static void test_load(void)
{
	char path[] = "/tmp/test-config-XXXXXX", msg[256];
	struct mpsd_config c;
	int fd;

	nmsgs = 0;
	CHECK("load: a missing file is -ENOENT, and no message",
	      mpsd_config_load("/nonexistent/mpsockd.conf", &c, collect,
			       NULL) == -ENOENT &&
		      nmsgs == 0);
	CHECK("load: a directory is a read error",
	      mpsd_config_load("/", &c, collect, NULL) == -EISDIR);

	fd = mkstemp(path);
	if (fd < 0) {
		printf("# mkstemp: %s: no file tests\n", strerror(errno));
		return;
	}
	dprintf(fd, "mode interactive\ninteractive-interval 250\n"
		    "interface cell0 backup\n");
	CHECK("load: a file",
	      mpsd_config_load(path, &c, collect, NULL) == 0 &&
		      c.mode == MPSD_MODE_INTERACTIVE &&
		      c.interactive_ms == 250 &&
		      mpsd_config_if_use(&c, "cell0") == MPSD_IF_BACKUP);
	dprintf(fd, "mode aggregate\n");
	nmsgs = 0;
	snprintf(msg, sizeof(msg), "%s:4: mode: already set on line 1", path);
	CHECK("load: messages name the path",
	      mpsd_config_load(path, &c, collect, NULL) == -EINVAL &&
		      nmsgs == 1 && strcmp(msgs[0], msg) == 0);
	CHECK("load: without a report function",
	      mpsd_config_load(path, &c, NULL, NULL) == -EINVAL);
	close(fd);
	unlink(path);
}

/*
 * A copy of @path with the lines "#KEYWORD ..." of @keywords uncommented:
 * the shipped file's commented settings, in force.  Returns the copy's
 * path in @out (to unlink), or false.
 */
static bool uncommented(const char *path, const char *const *keywords,
			char *out)
{
	char line[1100];
	FILE *in, *f;
	int fd;

	strcpy(out, "/tmp/test-config-XXXXXX");
	fd = mkstemp(out);
	if (fd < 0)
		return false;
	f = fdopen(fd, "w");
	in = fopen(path, "re");
	if (!f || !in) {
		if (f)
			fclose(f);
		unlink(out);
		return false;
	}
	while (fgets(line, sizeof(line), in)) {
		bool on = false;

		for (int i = 0; keywords[i]; i++)
			on |= line[0] == '#' &&
			      !strncmp(line + 1, keywords[i],
				       strlen(keywords[i])) &&
			      line[1 + strlen(keywords[i])] == ' ';
		fputs(on ? line + 1 : line, f);
	}
	fclose(in);
	return fclose(f) == 0;
}

/* How many lines of @path start with "#KEYWORD ". */
static int commented(const char *path, const char *keyword)
{
	char line[1100];
	FILE *f = fopen(path, "re");
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		n += line[0] == '#' &&
		     !strncmp(line + 1, keyword, strlen(keyword)) &&
		     line[1 + strlen(keyword)] == ' ';
	fclose(f);
	return n;
}

/*
 * The file installed as SYSCONFDIR/mpsock/mpsockd.conf: as shipped, and
 * with its commented settings in force, it gives exactly the built-in
 * defaults; it shows every keyword, and its interface and announce
 * examples are valid.
 */
static void test_shipped_default(const char *path)
{
	static const char *const settings[] = {"policy",
					       "mode",
					       "max-subflows",
					       "backoff",
					       "interactive-interval",
					       "app-subflows",
					       "per-user",
					       NULL};
	static const char *const examples[] = {"interface", "announce", NULL};
	struct mpsd_config c;
	char tmp[64];
	int i;

	nmsgs = 0;
	memset(&c, 0xa5, sizeof(c));
	mpsd_config_defaults(&c);
	CHECK("shipped default: parses to the built-in defaults",
	      mpsd_config_load(path, &c, collect, NULL) == 0 && nmsgs == 0 &&
		      is_default(&c));
	for (i = 0; settings[i]; i++) {
		char name[80];

		snprintf(name, sizeof(name),
			 "shipped default: shows %s, commented", settings[i]);
		/* per-user: one line for each thing counted */
		CHECK(name, commented(path, settings[i]) ==
				    (strcmp(settings[i], "per-user") ? 1 : 4));
	}
	for (i = 0; examples[i]; i++) {
		char name[80];

		snprintf(name, sizeof(name),
			 "shipped default: has commented %s examples",
			 examples[i]);
		CHECK(name, commented(path, examples[i]) >= 1);
	}
	nmsgs = 0;
	CHECK("shipped default: its commented settings are the defaults",
	      uncommented(path, settings, tmp) &&
		      mpsd_config_load(tmp, &c, collect, NULL) == 0 &&
		      nmsgs == 0 && is_default(&c));
	unlink(tmp);
	nmsgs = 0;
	CHECK("shipped default: its interface and announce examples are valid",
	      uncommented(path, examples, tmp) &&
		      mpsd_config_load(tmp, &c, collect, NULL) == 0 &&
		      nmsgs == 0 && c.nrules >= 1 && c.nannounce >= 1);
	unlink(tmp);
}

/* The phone-like host's example: handover, cellular as backup. */
static void test_shipped_phone(const char *path)
{
	struct mpsd_config c;

	nmsgs = 0;
	CHECK("phone example: valid, handover, a backup interface",
	      mpsd_config_load(path, &c, collect, NULL) == 0 && nmsgs == 0 &&
		      c.mode == MPSD_MODE_HANDOVER && c.nrules >= 2 &&
		      mpsd_config_if_use(&c, "wwan0") == MPSD_IF_BACKUP &&
		      mpsd_config_if_use(&c, "wlan0") == MPSD_IF_USE);
}

/* argv: the shipped default file, then the phone example (meson passes them) */
int main(int argc, char **argv)
{
	test_defaults();
	test_policy_mode();
	test_interfaces();
	test_announce();
	test_argument_errors();
	test_number_errors();
	test_address_errors();
	test_repeats_and_lines();
	test_all_errors();
	test_names();
	test_load();
	if (argc > 1)
		test_shipped_default(argv[1]);
	if (argc > 2)
		test_shipped_phone(argv[2]);
	return test_done();
}
