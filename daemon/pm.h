/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mpsockd as the namespace's path manager, as its loop sees it: the
 * decisions (policy.h) fed by the kernel's events, rtnetlink and
 * sock_diag, and their actions carried out a slice per loop turn.
 */
#ifndef MPSOCKD_PM_H
#define MPSOCKD_PM_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "config.h"

struct mps_event;

/*
 * Rediscovers the namespace's connections (sock_diag) and the claims kept
 * in @state_path, then applies @cfg to every connection nobody claimed.
 * Returns the rtnetlink socket to poll, or -errno.
 */
int policy_start(const struct mpsd_config *cfg, const char *state_path);
void policy_stop(void);
/* A new configuration (SIGHUP): applied to the connections at once. */
void policy_reload(const struct mpsd_config *cfg);
void policy_event(const struct mps_event *ev);
/* The kernel dropped events: read the connections again. */
void policy_resync(void);
void policy_netwatch_readable(void);
/*
 * Retries and periodic work due by now, and a slice of the queued actions;
 * the next deadline (-1: none, 0: actions wait).
 */
void policy_tick(void);
int policy_next_timeout_ms(void);

/*
 * A connection's service mode (MPSOCK_MODE_*): by @token once connected,
 * or by the MPTCP socket's @cookie before (matched when CREATED comes).
 */
int policy_set_mode(__u32 token, __u64 cookie, int mode, char *msg, size_t len);
/* The configuration in force, as mpsockd.conf(5) spells it. */
void policy_describe(char *policy, size_t plen, char *mode, size_t mlen);
/* An application steers @token itself: the policy leaves it alone. */
void policy_claim(__u32 token);

#endif
