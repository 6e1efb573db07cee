// SPDX-License-Identifier: LGPL-2.1-or-later
/* Parser of mpsockd.conf(5): validates a whole file before anything is used. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include "config.h"

#define MAX_LINE 1023
#define WS " \t\r\n\v\f"
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct parser;

struct keyword {
	const char *name;
	bool once; /* may appear only once in a file */
	bool (*parse)(struct parser *p);
};

struct parser {
	const char *name;
	unsigned int line;
	char *save; /* strtok_r position in the current line */
	const char *kw;
	unsigned int errors;
	void (*report)(void *ctx, const char *msg);
	void *ctx;
	struct mpsd_config cfg;
	/* where each entry was given, so that a conflict can point at it */
	unsigned int once_line[16];
	unsigned int rule_line[MPSD_MAX_IF_RULES];
	unsigned int announce_line[MPSD_MAX_ANNOUNCE];
};

static const char *const policy_names[] = {
	[MPSD_POLICY_SINGLE] = "single",
	[MPSD_POLICY_FULLMESH] = "fullmesh",
	[MPSD_POLICY_NDIFFPORTS] = "ndiffports",
	[MPSD_POLICY_ENDPOINTS] = "endpoints",
};

static const char *const mode_names[] = {
	[MPSD_MODE_AGGREGATE] = "aggregate",
	[MPSD_MODE_HANDOVER] = "handover",
	[MPSD_MODE_INTERACTIVE] = "interactive",
};

static const char *const if_use_names[] = {
	[MPSD_IF_USE] = "use",
	[MPSD_IF_BACKUP] = "backup",
	[MPSD_IF_NEVER] = "never",
};

void mpsd_config_defaults(struct mpsd_config *c)
{
	memset(c, 0, sizeof(*c));
	/*
	 * What the in-kernel path manager would do with the namespace's
	 * endpoints: nothing more than the initial subflow where there are
	 * none, the administrator's (or NetworkManager's) choices where there
	 * are; a namespace moved to the userspace path manager keeps its
	 * behaviour.
	 */
	c->policy = MPSD_POLICY_ENDPOINTS;
	c->mode = MPSD_MODE_AGGREGATE;
	c->max_subflows = 4;
	c->backoff_min_ms = 100;
	c->backoff_max_ms = 30000;
	c->interactive_ms = 1000;
	c->limits.user_clients = 64;
	c->limits.user_waits = 64;
	c->limits.user_subscriptions = 32;
	c->limits.user_registrations = 512;
	c->limits.conn_subflows = 0;
	c->limits.conn_syn_sent = 8;
}

static int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (s && strcmp(names[i], s) == 0)
			return (int)i;
	return -EINVAL;
}

const char *mpsd_policy_name(enum mpsd_policy p)
{
	if ((unsigned int)p >= ARRAY_SIZE(policy_names))
		return "unknown";
	return policy_names[p];
}

const char *mpsd_mode_name(enum mpsd_mode m)
{
	if ((unsigned int)m >= ARRAY_SIZE(mode_names))
		return "unknown";
	return mode_names[m];
}

int mpsd_mode_parse(const char *s)
{
	return name_index(mode_names, ARRAY_SIZE(mode_names), s);
}

enum mpsd_if_use mpsd_config_if_use(const struct mpsd_config *c,
				    const char *ifname)
{
	if (!ifname)
		return MPSD_IF_USE;
	for (unsigned int i = 0; i < c->nrules; i++)
		if (strcmp(c->rules[i].name, ifname) == 0)
			return c->rules[i].use;
	return MPSD_IF_USE;
}

static bool fail(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Every message is one line, "NAME:LINE: ...", as compilers print them. */
static bool fail(struct parser *p, const char *fmt, ...)
{
	char msg[2048]; /* room for a whole line's worth of bad value */
	va_list ap;
	int n;

	p->errors++;
	if (!p->report)
		return false;
	n = snprintf(msg, sizeof(msg), "%s:%u: ", p->name, p->line);
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);
	p->report(p->ctx, msg);
	return false;
}

static char *next_arg(struct parser *p)
{
	return strtok_r(NULL, WS, &p->save);
}

/* Decimal only: a hex or octal port or interval in a config is a typo. */
static bool is_integer(const char *s)
{
	if (*s == '-')
		s++;
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* "KW: [LABEL ]VALUE ..." names both the keyword and the argument. */
static bool parse_uint(struct parser *p, const char *label, const char *s,
		       unsigned int lo, unsigned int hi, unsigned int *out)
{
	const char *sep = label ? " " : "";
	unsigned long long v;

	if (!label)
		label = "";
	if (!s)
		return fail(p, "%s: missing %s%snumber (%u..%u)", p->kw, label,
			    sep, lo, hi);
	if (!is_integer(s))
		return fail(p, "%s: %s%s%s is not an integer", p->kw, label,
			    sep, s);
	errno = 0;
	v = strtoull(s[0] == '-' ? s + 1 : s, NULL, 10);
	if (errno == ERANGE || v < lo || v > hi || (s[0] == '-' && v))
		return fail(p, "%s: %s%s%s is out of range %u..%u", p->kw,
			    label, sep, s, lo, hi);
	*out = (unsigned int)v;
	return true;
}

static bool parse_policy(struct parser *p)
{
	char *s = next_arg(p);
	int i = name_index(policy_names, ARRAY_SIZE(policy_names), s);

	if (!s)
		return fail(p, "policy: missing single, fullmesh, ndiffports N "
			       "or endpoints");
	if (i < 0)
		return fail(p,
			    "policy: %s is not single, fullmesh, ndiffports or "
			    "endpoints",
			    s);
	p->cfg.policy = i;
	p->cfg.ndiffports = 0;
	if (i != MPSD_POLICY_NDIFFPORTS)
		return true;
	p->kw = "ndiffports";
	return parse_uint(p, NULL, next_arg(p), 2, 8, &p->cfg.ndiffports);
}

static bool parse_mode(struct parser *p)
{
	char *s = next_arg(p);
	int m = mpsd_mode_parse(s);

	if (!s)
		return fail(p,
			    "mode: missing aggregate, handover or interactive");
	if (m < 0)
		return fail(
			p, "mode: %s is not aggregate, handover or interactive",
			s);
	p->cfg.mode = m;
	return true;
}

static int find_rule(const struct parser *p, const char *name)
{
	for (unsigned int i = 0; i < p->cfg.nrules; i++)
		if (strcmp(p->cfg.rules[i].name, name) == 0)
			return (int)i;
	return -1;
}

static bool parse_interface(struct parser *p)
{
	char *name = next_arg(p), *s;
	struct mpsd_if_rule *r;
	int use, dup;

	if (!name)
		return fail(p, "interface: missing interface name");
	if (strlen(name) >= IFNAMSIZ)
		return fail(p, "interface: %s is longer than %d characters",
			    name, IFNAMSIZ - 1);
	s = next_arg(p);
	use = name_index(if_use_names, ARRAY_SIZE(if_use_names), s);
	if (!s)
		return fail(p, "interface: %s: missing use, backup or never",
			    name);
	if (use < 0)
		return fail(p, "interface: %s: %s is not use, backup or never",
			    name, s);
	dup = find_rule(p, name);
	if (dup >= 0)
		return fail(p, "interface: %s is already set on line %u", name,
			    p->rule_line[dup]);
	if (p->cfg.nrules == MPSD_MAX_IF_RULES)
		return fail(p, "interface: too many rules (at most %d)",
			    MPSD_MAX_IF_RULES);
	p->rule_line[p->cfg.nrules] = p->line;
	r = &p->cfg.rules[p->cfg.nrules++];
	strcpy(r->name, name);
	r->use = use;
	return true;
}

/* The peer would connect to these: only a unicast destination makes sense. */
static bool parse_address(struct parser *p, const char *s,
			  struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (!s)
		return fail(p, "announce: missing address");
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		if (sin->sin_addr.s_addr == htonl(INADDR_ANY) ||
		    IN_MULTICAST(ntohl(sin->sin_addr.s_addr)) ||
		    sin->sin_addr.s_addr == htonl(INADDR_BROADCAST))
			return fail(p, "announce: %s is not a unicast address",
				    s);
		return true;
	}
	if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr) ||
		    IN6_IS_ADDR_MULTICAST(&sin6->sin6_addr))
			return fail(p, "announce: %s is not a unicast address",
				    s);
		return true;
	}
	return fail(p, "announce: %s is not an IPv4 or IPv6 address", s);
}

static void set_port(struct sockaddr_storage *ss, unsigned int port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

/* "port PORT" and "id ID", each at most once, in either order. */
static bool parse_announce_opts(struct parser *p, unsigned int *port,
				unsigned int *id)
{
	char *s;

	while ((s = next_arg(p))) {
		if (strcmp(s, "port") == 0 && !*port) {
			if (!parse_uint(p, "port", next_arg(p), 1, 65535, port))
				return false;
		} else if (strcmp(s, "id") == 0 && !*id) {
			if (!parse_uint(p, "id", next_arg(p), 1, 255, id))
				return false;
		} else if (strcmp(s, "port") == 0 || strcmp(s, "id") == 0) {
			return fail(p, "announce: %s given twice", s);
		} else {
			return fail(p, "announce: extra argument %s", s);
		}
	}
	return true;
}

/* Two addresses under one id would make the kernel refuse the second. */
static bool check_announce_id(struct parser *p, unsigned int id, bool given)
{
	for (unsigned int i = 0; i < p->cfg.nannounce; i++) {
		if (p->cfg.announce[i].id != id)
			continue;
		if (given)
			return fail(
				p, "announce: id %u is already used on line %u",
				id, p->announce_line[i]);
		return fail(
			p,
			"announce: id %u (the default for address %u) is already used on line %u; give an id",
			id, p->cfg.nannounce + 1, p->announce_line[i]);
	}
	return true;
}

static bool parse_announce(struct parser *p)
{
	struct sockaddr_storage ss;
	unsigned int port = 0, id = 0;
	bool given;

	if (!parse_address(p, next_arg(p), &ss) ||
	    !parse_announce_opts(p, &port, &id))
		return false;
	if (p->cfg.nannounce == MPSD_MAX_ANNOUNCE)
		return fail(p, "announce: too many addresses (at most %d)",
			    MPSD_MAX_ANNOUNCE);
	given = id != 0;
	if (!given)
		id = p->cfg.nannounce + 1;
	if (!check_announce_id(p, id, given))
		return false;
	set_port(&ss, port);
	p->announce_line[p->cfg.nannounce] = p->line;
	p->cfg.announce[p->cfg.nannounce].addr = ss;
	p->cfg.announce[p->cfg.nannounce++].id = id;
	return true;
}

static bool parse_max_subflows(struct parser *p)
{
	return parse_uint(p, NULL, next_arg(p), 1, 8, &p->cfg.max_subflows);
}

static bool parse_backoff(struct parser *p)
{
	unsigned int min, max;

	if (!parse_uint(p, "minimum", next_arg(p), 10, 600000, &min) ||
	    !parse_uint(p, "maximum", next_arg(p), 10, 600000, &max))
		return false;
	if (min > max)
		return fail(p, "backoff: minimum %u is greater than maximum %u",
			    min, max);
	p->cfg.backoff_min_ms = min;
	p->cfg.backoff_max_ms = max;
	return true;
}

static bool parse_interactive_interval(struct parser *p)
{
	return parse_uint(p, NULL, next_arg(p), 100, 60000,
			  &p->cfg.interactive_ms);
}

static bool parse_per_user(struct parser *p)
{
	static const struct {
		const char *name;
		unsigned int max;
		size_t off;
	} what[] = {
		{"clients", 65536, offsetof(struct mpsd_limits, user_clients)},
		{"waits", 1024, offsetof(struct mpsd_limits, user_waits)},
		{"subscriptions", 65536,
		 offsetof(struct mpsd_limits, user_subscriptions)},
		{"registrations", 4096,
		 offsetof(struct mpsd_limits, user_registrations)},
	};
	char *s = next_arg(p);

	for (size_t i = 0; s && i < ARRAY_SIZE(what); i++)
		if (strcmp(s, what[i].name) == 0)
			return parse_uint(
				p, s, next_arg(p), 1, what[i].max,
				(unsigned int *)((char *)&p->cfg.limits +
						 what[i].off));
	return fail(p,
		    "per-user: clients, waits, subscriptions or "
		    "registrations expected (got \"%s\")",
		    s ? s : "");
}

/* "subflows N|limits [syn-sent N]": per connection opened through us */
static bool parse_app_subflows(struct parser *p)
{
	char *s = next_arg(p);

	if (s && strcmp(s, "limits") == 0)
		p->cfg.limits.conn_subflows = 0;
	else if (!parse_uint(p, NULL, s, 1, 255, &p->cfg.limits.conn_subflows))
		return false;
	s = next_arg(p);
	if (!s)
		return true;
	if (strcmp(s, "syn-sent") != 0)
		return fail(p, "app-subflows: extra argument %s", s);
	return parse_uint(p, "syn-sent", next_arg(p), 1, 255,
			  &p->cfg.limits.conn_syn_sent);
}

static const struct keyword keywords[] = {
	{"policy", true, parse_policy},
	{"mode", true, parse_mode},
	{"interface", false, parse_interface},
	{"announce", false, parse_announce},
	{"max-subflows", true, parse_max_subflows},
	{"backoff", true, parse_backoff},
	{"interactive-interval", true, parse_interactive_interval},
	{"per-user", false, parse_per_user},
	{"app-subflows", true, parse_app_subflows},
};

_Static_assert(ARRAY_SIZE(keywords) <=
		       ARRAY_SIZE(((struct parser *)0)->once_line),
	       "once_line has a slot per keyword");

static const struct keyword *find_keyword(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(keywords); i++)
		if (strcmp(keywords[i].name, s) == 0)
			return &keywords[i];
	return NULL;
}

static bool check_once(struct parser *p, const struct keyword *k)
{
	unsigned int *first = &p->once_line[k - keywords];

	if (!k->once)
		return true;
	if (*first)
		return fail(p, "%s: already set on line %u", k->name, *first);
	*first = p->line;
	return true;
}

static void parse_line(struct parser *p, char *line)
{
	const struct keyword *k;
	char *s;

	line[strcspn(line, "#")] = '\0';
	s = strtok_r(line, WS, &p->save);
	if (!s)
		return;
	k = find_keyword(s);
	if (!k) {
		fail(p, "%s: unknown keyword", s);
		return;
	}
	p->kw = k->name;
	if (!check_once(p, k) || !k->parse(p))
		return;
	s = next_arg(p);
	if (s)
		fail(p, "%s: extra argument %s", k->name, s);
}

/* A read error is reported by getline() only through errno and ferror(). */
static int read_error(FILE *f, int err)
{
	if (ferror(f))
		return err ? -err : -EIO;
	return err == ENOMEM ? -ENOMEM : 0;
}

int mpsd_config_parse(FILE *f, const char *name, struct mpsd_config *out,
		      void (*report)(void *ctx, const char *msg), void *ctx)
{
	struct parser p = {
		.name = name ? name : "(config)",
		.report = report,
		.ctx = ctx,
	};
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int ret;

	mpsd_config_defaults(&p.cfg);
	errno = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		p.line++;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (len > MAX_LINE)
			fail(&p, "line longer than %d characters", MAX_LINE);
		else
			parse_line(&p, line);
		errno = 0;
	}
	ret = read_error(f, errno);
	free(line);
	if (ret)
		return ret;
	if (p.errors)
		return -EINVAL;
	*out = p.cfg;
	return 0;
}

int mpsd_config_load(const char *path, struct mpsd_config *out,
		     void (*report)(void *ctx, const char *msg), void *ctx)
{
	FILE *f = fopen(path, "re");
	int ret;

	if (!f)
		return -errno;
	ret = mpsd_config_parse(f, path, out, report, ctx);
	fclose(f);
	return ret;
}
