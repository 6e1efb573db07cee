/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The mpsockd.conf(5) file: its parsed form and the parser's interface. */
#ifndef MPSOCKD_CONFIG_H
#define MPSOCKD_CONFIG_H

#include <stdio.h>
#include <sys/socket.h>
#include <linux/types.h>

enum mpsd_policy {
	MPSD_POLICY_SINGLE,
	MPSD_POLICY_FULLMESH,
	MPSD_POLICY_NDIFFPORTS,
	MPSD_POLICY_ENDPOINTS /* the kernel's endpoint table, as it would */
};
enum mpsd_mode {
	MPSD_MODE_AGGREGATE,
	MPSD_MODE_HANDOVER,
	MPSD_MODE_INTERACTIVE
};
enum mpsd_if_use { MPSD_IF_USE, MPSD_IF_BACKUP, MPSD_IF_NEVER };

#define MPSD_MAX_IF_RULES 32
#define MPSD_MAX_ANNOUNCE 8

struct mpsd_if_rule {
	char name[16];
	enum mpsd_if_use use;
};

struct mpsd_announce {
	struct sockaddr_storage addr; /* port in it, 0 = none */
	__u8 id;
};

/*
 * What one user, or one connection, may take of mpsockd (issue 15): so
 * that one user can never deny another.
 */
struct mpsd_limits {
	unsigned int user_clients; /* connections to mpsockd at once */
	unsigned int user_waits; /* parked open-and-wait requests */
	unsigned int user_subscriptions; /* event streams */
	unsigned int user_registrations; /* modes given before connecting */
	/* subflows opened through mpsockd, 0: the namespace's limits */
	unsigned int conn_subflows;
	unsigned int conn_syn_sent; /* of those, still connecting */
};

struct mpsd_config {
	enum mpsd_policy policy;
	unsigned int ndiffports; /* 0 unless policy is ndiffports */
	enum mpsd_mode mode;
	unsigned int max_subflows;
	unsigned int backoff_min_ms, backoff_max_ms;
	unsigned int interactive_ms;
	struct mpsd_if_rule rules[MPSD_MAX_IF_RULES];
	unsigned int nrules;
	struct mpsd_announce announce[MPSD_MAX_ANNOUNCE];
	unsigned int nannounce;
	struct mpsd_limits limits;
};

void mpsd_config_defaults(struct mpsd_config *c);

/*
 * Parse a stream; every error goes to report(ctx, "NAME:LINE: message"),
 * report may be NULL.  Returns 0, or -EINVAL if any line was wrong, or
 * another -errno for a read error.  On failure *out is left unchanged, so
 * that a reload can parse straight into the configuration in use.
 */
int mpsd_config_parse(FILE *f, const char *name, struct mpsd_config *out,
		      void (*report)(void *ctx, const char *msg), void *ctx);

/* Open and parse PATH; -ENOENT if it does not exist (the caller decides). */
int mpsd_config_load(const char *path, struct mpsd_config *out,
		     void (*report)(void *ctx, const char *msg), void *ctx);

/* The rule for an interface name: MPSD_IF_USE when none matches. */
enum mpsd_if_use mpsd_config_if_use(const struct mpsd_config *c,
				    const char *ifname);

const char *mpsd_policy_name(enum mpsd_policy p);
const char *mpsd_mode_name(enum mpsd_mode m);
int mpsd_mode_parse(const char *s); /* -EINVAL if unknown */

#endif
