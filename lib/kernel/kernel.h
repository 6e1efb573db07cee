/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel layer of libmpsock: each file one mechanism of the running
 * kernel (MPTCP_FULL_INFO, sock_diag, the mptcp_pm generic netlink family
 * and its events, rtnetlink, cgroup v2, the per-subflow option BPF
 * program), with netlink's outcome read in one place (nlmsg.c).  It calls
 * only util/; see ARCHITECTURE.md.
 */
#ifndef MPSOCK_KERNEL_H
#define MPSOCK_KERNEL_H

#include <netinet/tcp.h>
#include <linux/mptcp.h>
#include <libmnl/libmnl.h>

#include "util/util.h"

/* ---------------------------------------------------------------- nlmsg.c */

/*
 * A netlink exchange's outcome: the kernel's errno (0, or -errno from
 * NLMSG_ERROR or NLMSG_DONE) and its extended-ack text.  The first member
 * of the data given to mps_nl_run(), so that the control callbacks find it.
 */
struct mps_nl_ack {
	int err;
	char *msg; /* may be NULL */
	size_t msglen;
};

/*
 * Whether every message of @buf lies within it, up to its aligned end.
 * libmnl's mnl_nlmsg_ok() compares a message's length as a signed int
 * (one above INT_MAX passes, and mnl_nlmsg_next() then steps gigabytes
 * on), and its attribute walk reads up to the message's aligned end, past
 * an unaligned last message (both found by tests/fuzz).  The kernel sends
 * neither; a buffer is checked whole anyway before libmnl walks it.
 */
bool mps_nl_valid(const void *buf, size_t len);
/*
 * mnl_cb_run2() with the control callbacks filling @ack; as its result
 * (MNL_CB_ERROR with errno EBADMSG for a buffer that is not mps_nl_valid).
 */
int mps_nl_run(const void *buf, size_t len, unsigned int seq,
	       unsigned int portid, mnl_cb_t cb, struct mps_nl_ack *ack);

/*
 * Requests sent together: the mps_*_put() functions append one to an
 * mnl_nlmsg_batch with NLM_F_ACK and the seq given, false when it did
 * not fit (it is then the batch's next first one: talk, then
 * mnl_nlmsg_batch_reset()).  A batch is at most MPS_NL_BATCH bytes, in a
 * buffer twice that (libmnl's rule): few enough acks for the socket's
 * receive buffer (mps_nl_batch_rcvbuf()).
 */
#define MPS_NL_BATCH 4096
/* The request just built at mnl_nlmsg_batch_current(): seq, ack, next. */
bool mps_nl_batch_next(struct mnl_nlmsg_batch *b, __u32 seq);
/*
 * Send @b, whose requests have the seqs @seq0 .. @seq0 + @n - 1, in one
 * sendmsg() and read their acks: acks[seq - seq0] gets each one's errno
 * and text.  0, or the -errno of the exchange, which every request not
 * answered gets too (the socket may then hold replies: replace it).
 */
int mps_nl_batch_talk(struct mnl_socket *nl, unsigned int portid,
		      struct mnl_nlmsg_batch *b, __u32 seq0, unsigned int n,
		      struct mps_nl_ack *acks);
/*
 * One datagram of those acks: each NLMSG_ERROR for a seq in @seq0 ..
 * @seq0 + @n - 1 whose slot has err > 0 (not answered yet) fills it; how
 * many it answered, or -errno.
 */
int mps_nl_batch_read(const void *buf, size_t len, unsigned int portid,
		      __u32 seq0, unsigned int n, struct mps_nl_ack *acks);
/* A socket's receive buffer, large enough for a batch's acks. */
void mps_nl_batch_rcvbuf(struct mnl_socket *nl);

/* ------------------------------------------------------------ full_info.c */

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

int mps_snapshot_take(int fd, struct mps_snapshot *snap);
/*
 * The head of a FULL_INFO reply as the kernel left it: the subflow count
 * (which may exceed the arrays given), *@ti_size the tcp_info stride it
 * used, or -EPROTO for a subflow_info stride other than ours.
 */
int mps_full_info_reply(const struct mptcp_full_info *mfi, __u32 *ti_size);
void mps_snapshot_release(struct mps_snapshot *snap);
/* What a failed MPTCP getsockopt on @fd means: EOPNOTSUPP, ENOSYS... */
int mps_full_info_errno(int fd, int err);
int mps_subflow_tcp_info(int fd, __u32 id, void *info, socklen_t *len);
void mps_snapshot_tuple(const struct mps_snapshot *snap, unsigned int i,
			struct sockaddr_storage *l, struct sockaddr_storage *r);
/* The connection's local token (MPTCP_INFO), as the path manager names it. */
int mps_conn_token(int fd, __u32 *token);

/*
 * The kernel keeps a closed initial subflow listed, and a listening MPTCP
 * socket lists its own listener: neither is a live subflow.
 */
static inline bool mps_snapshot_live(const struct mps_snapshot *snap,
				     unsigned int i)
{
	return snap->state[i] != TCP_CLOSE && snap->state[i] != TCP_LISTEN;
}

/* ----------------------------------------------------------------- diag.c */

/* What sock_diag tells about one subflow. */
struct mps_sf_diag {
	__u32 token, token_remote; /* token: the connection's (local) one */
	__u32 flags; /* MPTCP_SUBFLOW_FLAG_* */
	__u32 ifindex; /* bound device, 0 if none */
	__u8 local_addr_id;
	__u8 remote_addr_id;
	bool found; /* an MPTCP subflow: the ULP info was there */
};

int mps_diag_lookup(const struct mps_snapshot *snap, const unsigned int *idx,
		    unsigned int n, struct mps_sf_diag *out);
int mps_diag_destroy(const struct mps_snapshot *snap, unsigned int i,
		     __u32 ifindex);
/* An INET_DIAG_ULP_INFO attribute: sets @d->found if it is MPTCP's. */
int mps_diag_parse_ulp(const struct nlattr *attr, struct mps_sf_diag *d);
int mps_diag_destroy_tuple(const struct sockaddr_storage *local,
			   const struct sockaddr_storage *remote,
			   __u32 ifindex);
/*
 * Its request, appended to a batch; @mapped: the v4-mapped IPv6 form of
 * an IPv4 tuple, the one to try when the plain one gave ENOENT.
 */
bool mps_diag_destroy_tuple_put(struct mnl_nlmsg_batch *b, __u32 seq,
				const struct sockaddr_storage *local,
				const struct sockaddr_storage *remote,
				__u32 ifindex, bool mapped);
/* mps_nl_batch_talk() on this thread's sock_diag socket. */
int mps_diag_batch_talk(struct mnl_nlmsg_batch *b, __u32 seq0, unsigned int n,
			struct mps_nl_ack *acks);

/* ------------------------------------------------------------ diag_dump.c */

/* Whole-namespace sock_diag views (tools, mpsockd). */
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
	__u8 tcpi[256]; /* the kernel's tcp_info, see util/tcp_stats.h */
	__u32 tcpi_len;
};

/*
 * One answer of a dump or lookup: 1 when it describes an MPTCP socket (a
 * subflow: one with MPTCP's ULP info), 0 when it is too short or not one,
 * -EBADMSG when its attributes are malformed.
 */
int mps_diag_parse_msk(const struct nlmsghdr *nlh, struct mps_msk *out);
int mps_diag_parse_subflow(const struct nlmsghdr *nlh,
			   struct mps_diag_subflow *out);

typedef int (*mps_msk_cb)(const struct mps_msk *m, void *data);
typedef int (*mps_subflow_cb)(const struct mps_diag_subflow *sf, void *data);
int mps_diag_msk_dump(mps_msk_cb cb, void *data);
int mps_diag_msk_get(__u32 token, struct mps_msk *out);
int mps_diag_subflow_dump(mps_subflow_cb cb, void *data);
/* @states: a mask of 1 << TCP_* */
int mps_diag_subflow_dump_states(__u32 states, mps_subflow_cb cb, void *data);

/* ----------------------------------------------------------------- genl.c */

/* The "mptcp_pm" generic netlink family. */
struct mps_genl {
	struct mnl_socket *nl;
	unsigned int portid;
	__u32 seq;
	__u16 family;
	__u32 events_group;
	__u64 ops; /* the commands the kernel offers, 1 << MPTCP_PM_CMD_* */
	bool broken; /* a failed exchange may have left replies behind */
};

int mps_genl_open(struct mps_genl *g);
void mps_genl_close(struct mps_genl *g);
/* This thread's command socket, kept between calls. */
int mps_genl_cached(struct mps_genl **g);
struct nlmsghdr *mps_genl_put(struct mps_genl *g, void *buf, __u8 cmd,
			      __u16 flags);
int mps_genl_talk(struct mps_genl *g, struct nlmsghdr *nlh, mnl_cb_t cb,
		  void *data, char *msg, size_t msglen);
/* mps_nl_batch_talk() on @g; take seqs from g->seq (see pm_*_put). */
int mps_genl_batch_talk(struct mps_genl *g, struct mnl_nlmsg_batch *b,
			__u32 seq0, unsigned int n, struct mps_nl_ack *acks);

/* ------------------------------------------------------------------- pm.c */

/* Path manager commands; each needs CAP_NET_ADMIN. */
struct mps_local_id {
	struct sockaddr_storage addr; /* port included: the kernel's key */
	__be16 port;
	__u8 id;
	__u32 flags; /* endpoints: MPTCP_PM_ADDR_FLAG_* */
	int ifindex; /* endpoints: the device given, 0 if none */
};

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
/* The same requests appended to a batch (see MPS_NL_BATCH). */
bool mps_pm_subflow_create_put(struct mps_genl *g, struct mnl_nlmsg_batch *b,
			       __u32 seq, __u32 token,
			       const struct sockaddr_storage *local,
			       __u8 local_id, int ifindex,
			       const struct sockaddr_storage *remote,
			       bool backup);
bool mps_pm_subflow_destroy_put(struct mps_genl *g, struct mnl_nlmsg_batch *b,
				__u32 seq, __u32 token,
				const struct sockaddr_storage *local,
				const struct sockaddr_storage *remote);
bool mps_pm_set_backup_put(struct mps_genl *g, struct mnl_nlmsg_batch *b,
			   __u32 seq, __u32 token,
			   const struct sockaddr_storage *local,
			   const struct sockaddr_storage *remote, bool backup);
bool mps_pm_announce_put(struct mps_genl *g, struct mnl_nlmsg_batch *b,
			 __u32 seq, __u32 token,
			 const struct sockaddr_storage *addr, __u8 id);
bool mps_pm_remove_put(struct mps_genl *g, struct mnl_nlmsg_batch *b, __u32 seq,
		       __u32 token, __u8 id);
/*
 * The errno a path manager command's failure means.  The kernel answers
 * some with a bare EINVAL and tells them apart only by text; this is the
 * one table that reads it (see pm.c).
 */
int mps_pm_errno(int err, const char *msg);

/* ------------------------------------------------------------ pm_events.c */

/* One event of the mptcp_pm_events group, parsed. */
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
/* A SUB_CLOSED event's error as a sentence. */
const char *mps_event_error_msg(int err);

/* --------------------------------------------------------------- ifaddr.c */

/* The interface that owns @addr, 0 if none, -errno. */
int mps_addr_ifindex(const struct sockaddr_storage *addr);

/* -------------------------------------------------------------- cgroup2.c */

/* The cgroup v2 hierarchy's root, @where it was found. */
int mps_cgroup2_open(char *where, size_t len);

/* ---------------------------------------------- bpf_sockopt.c, bpf_probe.c */

/*
 * subopts.c: the options one subflow takes, as the kernel's
 * bpf_setsockopt() does: numbered, with their value's kind and length.
 */
#define MPS_SUBOPT_COUNT 16
/* The longest value (TCP_CONGESTION's name); the program's own bound. */
#define MPS_SUBOPT_VAL_MAX 64
int mps_subopt_index(int level, int optname);
void mps_subopt_at(unsigned int i, int *level, int *optname, const char **name);
/* Is @len right for @level/@optname?  ENOPROTOOPT for other options. */
int mps_subopt_check(int level, int optname, bool set, socklen_t len);
/* The length handed to the program: what the kernel's option carries. */
socklen_t mps_subopt_len(int level, int optname, socklen_t len);

/* How the kernel lets the program reach an option (learnt by trying). */
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

/* Load and attach once per process (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN). */
int mps_sockopt_prepare(void);
/* Why loading failed, or where the program is attached. */
const char *mps_sockopt_status(void);
void mps_sockopt_get_caps(struct mps_sockopt_caps *caps);
const char *mps_sockopt_path_name(int path);

/* One option request for one subflow, carried out by the program. */
struct mps_sockopt_req {
	__u64 netns; /* the subflow's network namespace cookie */
	const struct mptcp_subflow_info *sfi; /* its tuple (FULL_INFO) */
	__u32 token; /* header-option path: SET_FLAGS names it by these */
	const struct sockaddr_storage *local, *remote;
	bool backup; /* ... with the flag it has */
	int level, optname;
	bool set;
	void *val; /* in: the value to set; out: the value read */
	socklen_t len;
	char *msg; /* the kernel's explanation, MPS_MSG_LEN */
};

/* The path option @opt (get or @set) takes on this kernel so far. */
int mps_sockopt_path(unsigned int opt, bool set);

/* Did the kernel refuse the option in that context (not its value)? */
static inline bool mps_sockopt_refused(int result)
{
	return result == -EOPNOTSUPP || result == -524 /* ENOTSUPP */;
}

/*
 * Carry @r out by the path this kernel allows for option @opt (an index of
 * subopts.c), learning it on first use where it was not probed.  0 with
 * the program's result in *@result, or -errno when the program did not run.
 */
int mps_sockopt_run_req(struct mps_sockopt_req *r, unsigned int opt,
			int *result);

#endif
