/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private declarations shared by libmpsock's files; never installed.
 * Internal functions return 0 (or a count) on success and -errno on failure.
 */
#ifndef MPSOCK_INTERNAL_H
#define MPSOCK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <errno.h>
#include <pthread.h>
#include <netinet/tcp.h>
#include <linux/types.h>
#include <linux/mptcp.h>

#include "mpsock.h"

/* Subflows read with one FULL_INFO call without touching the heap. */
#define MPS_SF_INLINE 16

/*
 * A snapshot of a connection's subflows as MPTCP_FULL_INFO reports them, in
 * the kernel's own layout (no conversion on the read path).  info and state
 * point at the inline arrays for up to MPS_SF_INLINE subflows and at the
 * heap beyond; mps_snapshot_release() frees what was allocated.
 */
struct mps_snapshot {
	struct mptcp_subflow_info *info;
	__u8 *state; /* tcpi_state of each entry */
	unsigned int count; /* entries, CLOSE ones included */
	struct mptcp_subflow_info inline_info[MPS_SF_INLINE];
	__u8 inline_state[MPS_SF_INLINE];
};

/* What sock_diag tells about one subflow. */
struct mps_sf_diag {
	__u32 token, token_remote; /* token: the connection's (local) one */
	__u32 flags; /* MPTCP_SUBFLOW_FLAG_* */
	__u32 ifindex; /* bound device, 0 if none */
	__u8 local_addr_id;
	__u8 remote_addr_id;
	bool found; /* an MPTCP subflow: the ULP info was there */
};

/* full_info.c */
int mps_snapshot_take(int fd, struct mps_snapshot *snap);
void mps_snapshot_release(struct mps_snapshot *snap);
int mps_full_info_errno(int fd, int err);
int mps_subflow_tcp_info(int fd, __u32 id, void *info, socklen_t *len);
void mps_snapshot_tuple(const struct mps_snapshot *snap, unsigned int i,
			struct sockaddr_storage *l, struct sockaddr_storage *r);

/*
 * The kernel keeps a closed initial subflow listed, and a listening MPTCP
 * socket lists its own listener: neither is a live subflow.
 */
static inline bool mps_snapshot_live(const struct mps_snapshot *snap,
				     unsigned int i)
{
	return snap->state[i] != TCP_CLOSE && snap->state[i] != TCP_LISTEN;
}

/* diag.c */
struct nlattr;
int mps_diag_lookup(const struct mps_snapshot *snap, const unsigned int *idx,
		    unsigned int n, struct mps_sf_diag *out);
int mps_diag_destroy(const struct mps_snapshot *snap, unsigned int i,
		     __u32 ifindex);
/* An INET_DIAG_ULP_INFO attribute: sets @d->found if it is MPTCP's. */
int mps_diag_parse_ulp(const struct nlattr *attr, struct mps_sf_diag *d);
int mps_diag_destroy_tuple(const struct sockaddr_storage *local,
			   const struct sockaddr_storage *remote,
			   __u32 ifindex);

/* netns.c: the namespace of socket @fd, or the caller's (@fd -1) */
int mps_netns_cookie(int fd, __u64 *cookie);

/* ifaddr.c: the interface that owns @addr, 0 if none, -errno */
int mps_addr_ifindex(const struct sockaddr_storage *addr);

/* conn_diag.c: whole-namespace sock_diag views (tools, mpsockd) */
struct mps_diag_sock {
	struct sockaddr_storage local, remote; /* v4-mapped shown as v4 */
	__u64 cookie;
	__u32 uid, inode; /* a subflow reports its MPTCP socket's */
	__u32 ifindex;
	__u8 state;
};

struct mps_msk {
	struct mps_diag_sock sock;
	__u32 token;
	struct mptcp_info info; /* zero-filled where the kernel's is shorter */
	bool has_info;
};

struct mps_diag_subflow {
	struct mps_diag_sock sock;
	struct mps_sf_diag mptcp;
	__u8 tcpi[256]; /* the kernel's tcp_info, see tcp_stats.h */
	__u32 tcpi_len;
};

typedef int (*mps_msk_cb)(const struct mps_msk *m, void *data);
typedef int (*mps_subflow_cb)(const struct mps_diag_subflow *sf, void *data);
int mps_diag_msk_dump(mps_msk_cb cb, void *data);
int mps_diag_msk_get(__u32 token, struct mps_msk *out);
int mps_diag_subflow_dump(mps_subflow_cb cb, void *data);
/* @states: a mask of 1 << TCP_* */
int mps_diag_subflow_dump_states(__u32 states, mps_subflow_cb cb, void *data);

/* genl.c: the "mptcp_pm" generic netlink family */
struct mps_genl {
	struct mnl_socket *nl;
	unsigned int portid;
	__u32 seq;
	__u16 family;
	__u32 events_group;
	__u64 ops; /* the commands the kernel offers, 1 << MPTCP_PM_CMD_* */
	bool broken; /* a failed exchange may have left replies behind */
};

struct nlmsghdr;
typedef int (*mps_nl_cb)(const struct nlmsghdr *nlh, void *data);
int mps_genl_open(struct mps_genl *g);
void mps_genl_close(struct mps_genl *g);
int mps_genl_cached(struct mps_genl **g);
struct nlmsghdr *mps_genl_put(struct mps_genl *g, void *buf, __u8 cmd,
			      __u16 flags);
int mps_genl_talk(struct mps_genl *g, struct nlmsghdr *nlh, mps_nl_cb cb,
		  void *data, char *msg, size_t msglen);

/* pm.c: path manager commands, each needs CAP_NET_ADMIN */
struct mps_local_id {
	struct sockaddr_storage addr; /* port included: the kernel's key */
	__be16 port;
	__u8 id;
	__u32 flags; /* endpoints: MPTCP_PM_ADDR_FLAG_* */
	int ifindex; /* endpoints: the device given, 0 if none */
};

void mps_addr_unmap(struct sockaddr_storage *ss);
__be16 mps_addr_port(const struct sockaddr_storage *ss);
void mps_addr_set_port(struct sockaddr_storage *ss, __be16 port);
bool mps_addr_equal(const struct sockaddr_storage *a,
		    const struct sockaddr_storage *b, bool ports);
int mps_pm_subflow_create(struct mps_genl *g, __u32 token,
			  const struct sockaddr_storage *local, __u8 local_id,
			  int ifindex, const struct sockaddr_storage *remote,
			  bool backup, char *msg, size_t msglen);
int mps_pm_subflow_destroy(struct mps_genl *g, __u32 token,
			   const struct sockaddr_storage *local,
			   const struct sockaddr_storage *remote, char *msg,
			   size_t msglen);
int mps_pm_set_backup(struct mps_genl *g, __u32 token,
		      const struct sockaddr_storage *local,
		      const struct sockaddr_storage *remote, bool backup,
		      char *msg, size_t msglen);
int mps_pm_local_ids(struct mps_genl *g, __u32 token, struct mps_local_id *out,
		     unsigned int max, char *msg, size_t msglen);
int mps_pm_limits(struct mps_genl *g, __u32 *subflows, __u32 *add_addr_accepted,
		  char *msg, size_t msglen);
int mps_pm_announce(struct mps_genl *g, __u32 token,
		    const struct sockaddr_storage *addr, __u8 id, char *msg,
		    size_t msglen);
int mps_pm_remove(struct mps_genl *g, __u32 token, __u8 id, char *msg,
		  size_t msglen);
/* The address id a subflow from @local gets (@initial: the first one's). */
int mps_local_id_for(struct mps_genl *g, __u32 token,
		     const struct sockaddr_storage *initial,
		     const struct sockaddr_storage *local, char *msg,
		     size_t msglen);

/* ctrl.c: subflow control, run by a privileged caller or by mpsockd */
#define MPS_MSG_LEN 128

struct mps_ctrl_result {
	__u32 id; /* the new subflow (open) */
	__u32 token; /* the connection's local token */
	struct sockaddr_storage local; /* the subflow's tuple (open) */
	struct sockaddr_storage remote;
	char msg[MPS_MSG_LEN]; /* the kernel's or our explanation */
};

int mps_conn_token(int fd, __u32 *token);
/* How a subflow is opened. */
#define MPS_CTRL_OPEN_BACKUP 0x1
/* routing chooses the interface, not the local address's interface */
#define MPS_CTRL_OPEN_UNBOUND 0x2

int mps_ctrl_open(int fd, const struct sockaddr_storage *local,
		  const struct sockaddr_storage *remote, unsigned int how,
		  struct mps_ctrl_result *res);
int mps_ctrl_close(int fd, __u32 id, int how, struct mps_ctrl_result *res);
int mps_ctrl_backup(int fd, __u32 id, bool backup, struct mps_ctrl_result *res);
int mps_ctrl_kernel_errno(int err, const char *msg);
int mps_ctrl_find(int fd, __u32 id, struct mps_snapshot *snap,
		  unsigned int *idx, struct mps_ctrl_result *res);

/* subopt.c: which options one subflow takes, and who may set them */
#define MPS_SUBOPT_COUNT 16
int mps_subopt_index(int level, int optname);
void mps_subopt_at(unsigned int i, int *level, int *optname, const char **name);
int mps_subopt_check(int level, int optname, bool set, socklen_t len);
socklen_t mps_subopt_len(int level, int optname, socklen_t len);
int mps_subopt_allowed(int level, int optname, const void *val, socklen_t len,
		       bool (*capable)(void *ctx, int cap), void *ctx,
		       char *msg, size_t msglen);

/* cgroup2.c: the cgroup v2 hierarchy's root, @where it was found */
int mps_cgroup2_open(char *where, size_t len);

/*
 * sockopt.c: per-subflow options through BPF (CAP_BPF, CAP_PERFMON).
 * Which path serves each option is learnt from the running kernel.
 */
enum mps_sockopt_path {
	MPS_PATH_UNKNOWN = 0, /* not probed yet: learnt on first use */
	MPS_PATH_HDR, /* the header-option callback (microseconds) */
	MPS_PATH_ITER, /* the TCP iterator (milliseconds) */
	MPS_PATH_NONE, /* the kernel refuses it on both */
};

struct mps_sockopt_caps {
	__u8 path[MPS_SUBOPT_COUNT][2]; /* [option][0 get, 1 set] */
	bool probed; /* by a test connection at load, not only by use */
	char where[160]; /* the cgroup v2 hierarchy, or why it failed */
};

int mps_sockopt_prepare(void);
/* Why loading failed, or where the program is attached. */
const char *mps_sockopt_status(void);
void mps_sockopt_get_caps(struct mps_sockopt_caps *caps);
const char *mps_sockopt_path_name(int path);
int mps_ctrl_sockopt(int fd, __u32 id, bool set, int level, int optname,
		     void *val, socklen_t *len, struct mps_ctrl_result *res);

struct mps_req;
int mps_ctrl_execute(int fd, const struct mps_req *req,
		     struct mps_ctrl_result *res);
int mps_ctrl_check_open_args(const struct sockaddr *local,
			     const struct sockaddr *remote, socklen_t addrlen,
			     struct sockaddr_storage *l,
			     struct sockaddr_storage *r);

/* events.c */
struct mps_event {
	__u8 type; /* MPTCP_EVENT_* */
	__u32 token;
	struct sockaddr_storage local, remote; /* ports included */
	__be16 sport, dport;
	__u8 backup, loc_id, rem_id, error;
	__u8 server_side; /* CREATED, ESTABLISHED: we accepted it */
	int ifindex; /* SUB_*: the device the subflow is bound to, 0 if none */
	bool has_error;
};

int mps_events_subscribe(struct mps_genl *g);
int mps_event_parse(const struct nlmsghdr *nlh, struct mps_event *ev);
const char *mps_event_error_msg(int err);
int mps_event_open_outcome(const struct mps_event *ev, __u32 token,
			   const struct sockaddr_storage *local,
			   const struct sockaddr_storage *remote);

/* mode.c: service modes and claims, told to mpsockd */
int mps_mode_set(int fd, int mode, char *msg, size_t len);
/* MPSOCK_MODE_* of a mode's name ("handover"), or -EINVAL */
int mps_mode_from_name(const char *name);
void mps_mode_claim(int fd);

/* control.c */
int mps_port_privileged(__be16 port);
bool mps_have_net_admin(void);
bool mps_have_cap(int cap); /* in the effective set */

/* broker.c: the client side of mpsockd */
struct mps_req;
struct mps_reply;
int mps_broker_call(int fd, struct mps_req *req, struct mps_reply *rep,
		    int wait_ms);
int mps_broker_subscribe(int fd, struct mps_req *req, struct mps_reply *rep,
			 int *sock);

/* draft_id.c */
__u8 mps_draft_id(__u32 kernel_id);
bool mps_draft_id_shadowed(const struct mps_snapshot *snap, unsigned int idx);
int mps_draft_find(const struct mps_snapshot *snap, __u8 draft_id);

/* subflow.c */
void mps_subflow_fill(struct mpsock_subflow *out,
		      const struct mps_snapshot *snap, unsigned int i,
		      const struct mps_sf_diag *d);
socklen_t mps_sockaddr_len(sa_family_t family);

/* draft.c */
bool mps_draft_is_ours(int level, int optname);

/* log.c */
void mps_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* tls.c: per-thread state; the block is zeroed on first use */
struct mps_tls {
	pthread_key_t key;
	void (*dtor)(void *);
	int err;
	bool ready;
};
#define MPS_TLS_INIT(destructor)                                               \
	{                                                                      \
		.dtor = (destructor)                                           \
	}
void *mps_tls_get(struct mps_tls *t, size_t size);

/* Set errno from an internal -errno result and return -1. */
static inline int mps_fail(int neg_errno)
{
	errno = -neg_errno;
	return -1;
}

#endif /* MPSOCK_INTERNAL_H */
