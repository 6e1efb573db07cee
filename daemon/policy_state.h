/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the path manager must not forget across a restart: the connections
 * applications claimed or gave a mode, and sockets claimed before they
 * connected (by cookie).  Kept in a small file under /run.
 */
#ifndef MPSOCKD_POLICY_STATE_H
#define MPSOCKD_POLICY_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <linux/types.h>

/*
 * Reads @path back, unless another namespace wrote it; NULL or "" keeps
 * nothing, and so does a kernel without namespace cookies.
 */
void policy_state_open(const char *path);
int policy_state_mode(__u32 token); /* MPSOCK_MODE_DEFAULT if none */
int policy_state_set(__u32 token, int mode);
void policy_state_forget(__u32 token);

bool policy_state_has_cookies(void);
int policy_state_set_cookie(__u64 cookie, int mode, char *msg, size_t len);
/* The mode registered for @token's socket before it connected, if any. */
int policy_state_match_cookie(__u32 token, int mode);
int policy_state_match_cookie_value(__u32 token, __u64 cookie, int mode);
/* Forget the connections @known no longer knows (after a rediscovery). */
void policy_state_prune(bool (*known)(__u32 token));
/* Writes what changed, at most every few hundred milliseconds. */
void policy_state_flush(bool now);
/* When policy_state_flush() will write: ms from now, or -1 (nothing). */
long policy_state_next_flush_ms(void);
/* Clean exit: writes what is kept, or removes a file with nothing in it. */
void policy_state_close(void);

/*
 * Registrations by cookie are counted per uid: @uid is the one of the
 * request in hand (set before policy_set_mode()), @per_uid each user's
 * share (0: no limit but the table's).
 */
void policy_state_set_registrant(uid_t uid);
void policy_state_set_share(unsigned int per_uid);

/* Ports with a listener: how a rediscovered connection's side is told. */
void policy_state_scan_listeners(void);
bool policy_state_listening(const struct sockaddr_storage *local);

#endif
