/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The operations layer: what an application asks, carried out either by
 * this process on the kernel (it holds CAP_NET_ADMIN) or by mpsockd, and
 * the one place that decides which (dispatch.c).  It also holds what the
 * broker runs for its callers (subflow_ctrl.c, sockopt.c), the draft's
 * section 5 rules (permissions.c), the draft's ids (draft_id.c), modes and
 * claims (mode.c), waiting for an open's outcome (wait.c) and a
 * connection's event stream (event_stream.c).  It calls kernel/, broker/
 * and util/ only; see ARCHITECTURE.md.
 */
#ifndef MPSOCK_OP_H
#define MPSOCK_OP_H

#include "mpsock.h"
#include "broker/broker.h"
#include "kernel/kernel.h"

/* ---------------------------------------------------------- subflow_ctrl.c */

/* What a control operation did, and why not (the kernel's or our text). */
struct mps_ctrl_result {
	__u32 id; /* the new subflow (open) */
	__u32 token; /* the connection's local token */
	struct sockaddr_storage local; /* the subflow's tuple */
	struct sockaddr_storage remote;
	char msg[MPS_MSG_LEN];
};

/* How a subflow is opened. */
#define MPS_CTRL_OPEN_BACKUP 0x1
/* routing chooses the interface, not the local address's interface */
#define MPS_CTRL_OPEN_UNBOUND 0x2

/* These act on the kernel: CAP_NET_ADMIN (mpsockd, or the caller). */
int mps_ctrl_open(int fd, const struct sockaddr_storage *local,
		  const struct sockaddr_storage *remote, unsigned int how,
		  struct mps_ctrl_result *res);
int mps_ctrl_close(int fd, __u32 id, int how, struct mps_ctrl_result *res);
int mps_ctrl_backup(int fd, __u32 id, bool backup, struct mps_ctrl_result *res);
/* The live subflow @id of @fd, its snapshot kept for the caller. */
int mps_ctrl_find(int fd, __u32 id, struct mps_snapshot *snap,
		  unsigned int *idx, struct mps_ctrl_result *res);
/* SHUT_RDWR or MPTCP_SHUT_RST; EOPNOTSUPP for half a close, else EINVAL. */
int mps_ctrl_check_how(int how, char *msg, size_t msglen);
int mps_ctrl_check_open_args(const struct sockaddr *local,
			     const struct sockaddr *remote, socklen_t addrlen,
			     struct sockaddr_storage *l,
			     struct sockaddr_storage *r);
/* The address id a subflow from @local gets (@initial: the first one's). */
int mps_local_id_for(struct mps_genl *g, __u32 token,
		     const struct sockaddr_storage *initial,
		     const struct sockaddr_storage *local, char *msg,
		     size_t msglen);

/* --------------------------------------------------------------- sockopt.c */

/* One subflow's option through the BPF program (mpsockd, or the caller). */
int mps_ctrl_sockopt(int fd, __u32 id, bool set, int level, int optname,
		     void *val, socklen_t *len, struct mps_ctrl_result *res);

/* ----------------------------------------------------------- permissions.c */

/* Section 5: may a caller with capabilities @capable set this? */
int mps_subopt_allowed(int level, int optname, const void *val, socklen_t len,
		       bool (*capable)(void *ctx, int cap), void *ctx,
		       char *msg, size_t msglen);
/* 1 if binding local port @port needs CAP_NET_BIND_SERVICE. */
int mps_port_privileged(__be16 port);

/* ----------------------------------------------------------------- proof.c */

/*
 * Proofs of privilege for mpsockd: a socket on which the kernel let this
 * process do the privileged part of a request itself.  A UDP socket bound
 * to @port: the fd, or -errno with @msg (EACCES: no CAP_NET_BIND_SERVICE).
 */
int mps_proof_port(int family, __be16 port, char *msg, size_t msglen);
/*
 * A TCP socket with this option value set (the FORCE variant of a buffer
 * size): the fd; -ENODATA when an unprivileged caller needs no proof; or
 * -errno with @msg (EPERM: the kernel refused it to this process).
 */
int mps_proof_sockopt(int level, int optname, const void *val, socklen_t len,
		      char *msg, size_t msglen);

/* --------------------------------------------------------------- wait.c */

/*
 * What @ev says about the subflow @local -> @remote being opened on
 * connection @token: 1 established, 0 nothing, or the failure's -errno.
 */
int mps_event_open_outcome(const struct mps_event *ev, __u32 token,
			   const struct sockaddr_storage *local,
			   const struct sockaddr_storage *remote);
/* Cancel an open that is not established (a SYN_SENT subflow goes). */
void mps_open_cancel(const struct mps_ctrl_result *res);
/* A privileged caller's wait for it, on an events socket subscribed first. */
int mps_open_wait(struct mps_genl *ev, struct mps_ctrl_result *res,
		  int timeout_ms);

/* ---------------------------------------------------------- draft_id.c */

__u8 mps_draft_id(__u32 kernel_id);
bool mps_draft_id_shadowed(const struct mps_snapshot *snap, unsigned int idx);
int mps_draft_find(const struct mps_snapshot *snap, __u8 draft_id);

/* ------------------------------------------------------------------ mode.c */

/* MPSOCK_MODE_* of a mode's name ("handover"), or -EINVAL */
int mps_mode_from_name(const char *name);
/* A connection's mode, told to mpsockd (the path manager) */
int mps_mode_set(int fd, int mode, char *msg, size_t len);
/* A privileged caller steers @fd's connection: mpsockd is told, once. */
void mps_mode_claim(int fd);

/* -------------------------------------------------------------- dispatch.c */

/*
 * The one decision: does this process act on the kernel itself (it holds
 * CAP_NET_ADMIN, and MPSOCK_USE_BROKER does not send it to mpsockd), or
 * does mpsockd act for it?  Every operation below asks it.
 */
bool mps_op_direct(void);

int mps_op_open(int fd, const struct sockaddr_storage *local,
		const struct sockaddr_storage *remote, unsigned int how,
		int timeout_ms, struct mps_ctrl_result *res);
int mps_op_close(int fd, __u32 id, int how, struct mps_ctrl_result *res);
int mps_op_backup(int fd, __u32 id, bool backup, struct mps_ctrl_result *res);
int mps_op_sockopt(int fd, __u32 id, bool set, int level, int optname,
		   void *val, socklen_t *len, struct mps_ctrl_result *res);

/* A subscription to events: the kernel's group itself, or mpsockd's. */
struct mps_subscription {
	bool direct;
	int sock; /* netlink (direct) or the connection to mpsockd */
	struct mps_genl g; /* direct only */
};

/*
 * Events of @fd's connection; with @fd -1, of every connection the caller
 * may see: all of them directly, its own uid's through mpsockd.
 */
int mps_op_subscribe(int fd, struct mps_subscription *sub, char *msg,
		     size_t msglen);
/* Each event read (with the count lost before it), or @ev NULL: a loss. */
typedef void (*mps_sub_cb)(const struct mps_event *ev, __u32 lost, void *data);
/*
 * What is waiting on @sub, without blocking: 0 once a datagram was read
 * (it may hold none of the caller's events), -EAGAIN, -ECONNRESET when
 * mpsockd closed the stream, or -errno.
 */
int mps_op_sub_read(struct mps_subscription *sub, mps_sub_cb cb, void *data);
void mps_op_unsubscribe(struct mps_subscription *sub);

/* ---------------------------------------------------------- event_stream.c */

/* The object behind mpsock_events_open() and its siblings. */
struct mpsock_events;
struct mpsock_events *mps_stream_open(int fd);
int mps_stream_fd(const struct mpsock_events *e);
int mps_stream_read(struct mpsock_events *e, struct mpsock_event *out);
void mps_stream_close(struct mpsock_events *e);

#endif
