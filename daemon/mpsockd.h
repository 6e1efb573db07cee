/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mpsockd's private declarations: peer identity, the broker loop. */
#ifndef MPSOCKD_H
#define MPSOCKD_H

#include <stdbool.h>
#include <sys/socket.h>

struct peer {
	struct ucred cred; /* at connect time */
	/* of the request being handled (SCM_CREDENTIALS) */
	struct ucred sender;
};

int peer_identify(int s, struct peer *p);
/* The process that sent the request in hand, else the one that connected. */
pid_t peer_pid(const struct peer *p);

struct mpsd_config;

struct broker_opts {
	bool verbose;
	unsigned int max_clients;
	const struct mpsd_config *cfg; /* the path manager's, at start */
	const char *state_path; /* claims and modes kept across restarts */
	/* SIGHUP: 0 and a new configuration, or -errno (already reported) */
	int (*load_config)(struct mpsd_config *out);
};

int broker_run(const struct broker_opts *o);
void broker_stop(void);
void broker_reload(void);

#endif
