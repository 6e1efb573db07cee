/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mpsock.h - the enhanced Multipath TCP socket API
 * (draft-hesmans-mptcp-socket-03) for stock Linux, and mpsock's native API.
 *
 * Two layers share one implementation:
 *
 *  - the draft layer: getsockopt()/setsockopt() at IPPROTO_TCP with the
 *    draft's option numbers and structures, reached through
 *    mpsock_getsockopt() / mpsock_setsockopt() (drop-in replacements that
 *    pass every other option to libc);
 *  - the native layer: mpsock_subflow_*() with the kernel's 32-bit subflow
 *    ids and richer per-subflow data.
 *
 * Public functions follow the socket convention: -1 (or NULL) and errno.
 * See mpsock(7).
 *
 * The draft's structures are the default.  A program written for the
 * draft's reference implementation, whose struct mptcp_sub_tuple had no
 * prio and whose struct mptcp_close_sub_id had no how, defines
 * MPSOCK_REFIMPL_LAYOUT before it includes this header (or is built with
 * -DMPSOCK_REFIMPL_LAYOUT), as _FILE_OFFSET_BITS selects layouts in libc's
 * headers.  It gets those two structures exactly as that implementation
 * had them, with the meaning they had there: no prio, a regular subflow;
 * no how, a reset.  The library tells the layouts apart by the request's
 * size alone (see COMPATIBILITY in mpsock(7)), so the translation units
 * of one program may differ; within one, the layout cannot change.
 */
#if defined(MPSOCK_H) &&                                                       \
	defined(MPSOCK_REFIMPL_LAYOUT) != defined(MPSOCK_H_REFIMPL_LAYOUT)
#error "MPSOCK_REFIMPL_LAYOUT must be set before the first #include <mpsock.h>"
#endif

#ifndef MPSOCK_H
#define MPSOCK_H
#ifdef MPSOCK_REFIMPL_LAYOUT
#define MPSOCK_H_REFIMPL_LAYOUT 1
#endif

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MPSOCK_API
#define MPSOCK_API __attribute__((visibility("default")))
#endif

/*
 * Draft layer: option numbers at level IPPROTO_TCP (SOL_TCP), as in the
 * draft's reference implementation.  Upstream Linux leaves 66..73 unused at
 * SOL_TCP: a plain getsockopt() with them fails (EOPNOTSUPP on an MPTCP
 * socket, ENOPROTOOPT on a TCP one); mpsock_getsockopt() serves them.
 */
#define MPTCP_GET_SUB_IDS 66
#define MPTCP_CLOSE_SUB_ID 67
#define MPTCP_GET_SUB_TUPLE 68
#define MPTCP_OPEN_SUB_TUPLE 69
#define MPTCP_SUB_GETSOCKOPT 71
#define MPTCP_SUB_SETSOCKOPT 72
/* Section 3.3 of the draft calls MPTCP_CLOSE_SUB_ID by this name. */
#define MPTCP_CLOSE_SUBFLOW MPTCP_CLOSE_SUB_ID
/*
 * Extension (not in the draft): change the backup priority of an existing
 * subflow, with struct mptcp_sub_prio, through setsockopt() or getsockopt().
 */
#define MPTCP_SUB_PRIO 73

/*
 * mptcp_close_sub_id.how: SHUT_RDWR closes gracefully (FIN); MPTCP_SHUT_RST
 * resets the subflow (the draft's "RST").  Value chosen outside SHUT_*.
 */
#define MPTCP_SHUT_RST 3

/*
 * One live subflow in MPTCP_GET_SUB_IDS.  The draft (Figure 1) names id and
 * low_prio; the other flags are those of the reference implementation, so
 * programs written for either compile unchanged.
 */
struct mptcp_sub_status {
	__u8 id; /* draft id, 1..255 (see mpsock(7)) */
	/* __u16 bit-fields as in the reference implementation (a GNU C form) */
	__extension__ __u16 slave_sk : 1, /* joined by MP_JOIN, not initial */
		fully_established : 1, /* MPTCP-level handshake complete */
		attached : 1, /* in the connection's subflow list */
		low_prio : 1, /* backup, as requested by this host */
		pre_established : 1; /* TCP handshake still in progress */
};

struct mptcp_sub_ids {
	__u8 sub_count;
	struct mptcp_sub_status sub_status[];
};

#ifndef MPSOCK_REFIMPL_LAYOUT
/*
 * MPTCP_GET_SUB_TUPLE and MPTCP_OPEN_SUB_TUPLE (Figures 3 and 6): addrs holds
 * two sockaddr_in or two sockaddr_in6, local then remote.  addrs is not
 * aligned for a sockaddr: copy out with memcpy() in portable code.  An
 * OPEN_SUB_TUPLE request is 34 (IPv4) or 58 (IPv6) bytes; a GET_SUB_TUPLE
 * buffer may have any size but 33 and 57, the sizes of the layout below.
 */
struct mptcp_sub_tuple {
	__u8 id;
	__u8 prio; /* OPEN_SUB_TUPLE: non-zero opens a backup subflow */
	__u8 addrs[];
};

/* MPTCP_CLOSE_SUB_ID (Figure 5): 8 bytes. */
struct mptcp_close_sub_id {
	__u8 id;
	int how; /* SHUT_RDWR or MPTCP_SHUT_RST */
};
#else
/*
 * The reference implementation's layouts.  The tuple has no prio: addrs
 * starts at offset 1, and a request is exactly 33 (IPv4) or 57 (IPv6)
 * bytes: sizeof(struct mptcp_sub_tuple) + 2 * sizeof(struct sockaddr_in),
 * or of struct sockaddr_in6.  OPEN_SUB_TUPLE then opens a regular subflow;
 * GET_SUB_TUPLE answers in this layout only to a buffer of those sizes.
 */
struct mptcp_sub_tuple {
	__u8 id;
	__extension__ __u8 addrs[0];
};

/* 1 byte, no how: MPTCP_CLOSE_SUB_ID resets the subflow (a forced close). */
struct mptcp_close_sub_id {
	__u8 id;
};
#endif

/* MPTCP_SUB_PRIO (extension): low_prio 1 makes the subflow a backup. */
struct mptcp_sub_prio {
	__u8 id;
	__u8 low_prio;
};

/* MPTCP_SUB_GETSOCKOPT and MPTCP_SUB_SETSOCKOPT (Figure 8). */
struct mptcp_sub_getsockopt {
	__u8 id;
	int level;
	int optname;
	char *optval;
	unsigned int *optlen;
};

struct mptcp_sub_setsockopt {
	__u8 id;
	int level;
	int optname;
	char *optval;
	unsigned int optlen;
};

/**
 * mpsock_getsockopt() - getsockopt() that also serves the draft's options.
 *
 * Level IPPROTO_TCP with a draft option (MPTCP_GET_SUB_IDS,
 * MPTCP_GET_SUB_TUPLE, MPTCP_SUB_GETSOCKOPT, and, as the reference
 * implementation allowed, MPTCP_OPEN_SUB_TUPLE, MPTCP_CLOSE_SUB_ID,
 * MPTCP_SUB_SETSOCKOPT and MPTCP_SUB_PRIO) is served by libmpsock; any
 * other call goes to getsockopt() unchanged.  Returns 0, or -1 with errno
 * set.
 */
MPSOCK_API int mpsock_getsockopt(int fd, int level, int optname, void *optval,
				 socklen_t *optlen);

/**
 * mpsock_setsockopt() - setsockopt() that also serves the draft's options.
 *
 * MPTCP_OPEN_SUB_TUPLE (without the id back), MPTCP_CLOSE_SUB_ID,
 * MPTCP_SUB_SETSOCKOPT and MPTCP_SUB_PRIO are served by libmpsock; any
 * other call goes to setsockopt() unchanged.  Returns 0, or -1 with errno
 * set.
 */
MPSOCK_API int mpsock_setsockopt(int fd, int level, int optname,
				 const void *optval, socklen_t optlen);

/* Native layer. */

/* mpsock_subflow.flags */
#define MPSOCK_SUBFLOW_BACKUP_LOCAL 0x01 /* this host asked for backup */
#define MPSOCK_SUBFLOW_BACKUP_REMOTE 0x02 /* the peer asked for backup */
#define MPSOCK_SUBFLOW_FULLY_ESTABLISHED 0x04
#define MPSOCK_SUBFLOW_JOINED 0x08 /* MP_JOIN subflow, not the initial one */
#define MPSOCK_SUBFLOW_FLAGS_KNOWN 0x10 /* the flags above were read */

/*
 * One subflow as the kernel knows it.  id is the kernel's subflow id: it
 * starts at 1 for the initial subflow and is never reused within a
 * connection.  Addresses are those of the subflow's own family; the initial
 * subflow of an AF_INET6 socket connected to a v4-mapped address reports
 * ::ffff:a.b.c.d.
 */
struct mpsock_subflow {
	__u32 id;
	__u8 state; /* TCP state, as tcpi_state (TCP_ESTABLISHED, ...) */
	__u8 local_addr_id; /* MPTCP address ids (not subflow ids) */
	__u8 remote_addr_id;
	__u8 flags; /* MPSOCK_SUBFLOW_* */
	__u32 diag_flags; /* raw MPTCP_SUBFLOW_FLAG_* bits from sock_diag */
	__u32 reserved[3]; /* zero; room for later fields */
	struct sockaddr_storage local;
	struct sockaddr_storage remote;
};

/**
 * mpsock_subflow_list() - list the live subflows of an MPTCP connection.
 * @fd: the application's MPTCP socket
 * @subs: caller-owned array, may be NULL when @n is 0
 * @n: number of elements in @subs
 *
 * Subflows in state TCP_CLOSE are not listed.  Returns the number of live
 * subflows, which may exceed @n (only the first @n were written, as with
 * snprintf()), or -1 with errno set.
 */
MPSOCK_API int mpsock_subflow_list(int fd, struct mpsock_subflow *subs,
				   unsigned int n);

/**
 * mpsock_subflow_get() - one live subflow by kernel id.
 *
 * Returns 0, or -1 with errno set (ESRCH: no live subflow with that id).
 */
MPSOCK_API int mpsock_subflow_get(int fd, __u32 id, struct mpsock_subflow *sub);

/**
 * mpsock_subflow_tcp_info() - struct tcp_info of one subflow.
 * @info: buffer of *@len bytes; *@len is set to the bytes written
 *
 * Returns 0, or -1 with errno set (ESRCH: no live subflow with that id).
 */
MPSOCK_API int mpsock_subflow_tcp_info(int fd, __u32 id, void *info,
				       socklen_t *len);

/* mpsock_subflow_open() flags */
#define MPSOCK_OPEN_BACKUP 0x1 /* join as a backup subflow */
/*
 * Let routing choose the interface.  By default a subflow from a concrete
 * local address is bound to the interface that owns that address, so it
 * leaves there whatever the routing table says of that source.
 */
#define MPSOCK_OPEN_UNBOUND 0x2

/**
 * mpsock_subflow_open() - open a subflow from @local to @remote.
 * @local: source address, whose interface the subflow is bound to (see
 *         MPSOCK_OPEN_UNBOUND); INADDR_ANY / in6addr_any lets routing
 *         choose both; port 0 lets the kernel choose
 * @remote: destination; port 0 means the connection's remote port
 * @addrlen: size of each address (both of one family)
 * @id: the new subflow's kernel id (out, may be NULL)
 *
 * Returns once the SYN is queued: 0, or -1 with errno set.  Needs a fully
 * established connection created under the userspace path manager, and
 * CAP_NET_ADMIN or mpsockd.  mpsock_errmsg() explains a failure.
 */
MPSOCK_API int mpsock_subflow_open(int fd, const struct sockaddr *local,
				   const struct sockaddr *remote,
				   socklen_t addrlen, unsigned int flags,
				   __u32 *id);

/**
 * mpsock_subflow_open_wait() - open a subflow and wait for the handshake.
 * @timeout_ms: how long to wait; -1 for the longest allowed (120 s)
 *
 * Returns 0 once the subflow is established, or -1 with errno set:
 * ECONNREFUSED, ETIMEDOUT (the kernel's SYN timeout, or @timeout_ms, after
 * which the attempt is cancelled), ECONNRESET, or an mpsock_subflow_open()
 * error.
 */
MPSOCK_API int mpsock_subflow_open_wait(int fd, const struct sockaddr *local,
					const struct sockaddr *remote,
					socklen_t addrlen, unsigned int flags,
					int timeout_ms, __u32 *id);

/**
 * mpsock_subflow_close() - close one subflow.
 * @how: SHUT_RDWR (graceful, FIN) or MPTCP_SHUT_RST (reset)
 *
 * The connection goes on over its other subflows; closing the last one
 * leaves it open, waiting for a new subflow.  Returns 0, or -1 with errno
 * set (ESRCH: no live subflow with that id; EOPNOTSUPP: SHUT_RD/SHUT_WR).
 */
MPSOCK_API int mpsock_subflow_close(int fd, __u32 id, int how);

/**
 * mpsock_subflow_set_backup() - make a subflow a backup one, or not.
 *
 * Sends MP_PRIO on that subflow.  Returns 0, or -1 with errno set.
 */
MPSOCK_API int mpsock_subflow_set_backup(int fd, __u32 id, bool backup);

/**
 * mpsock_subflow_setsockopt() - setsockopt() on one subflow.
 *
 * The options of mpsock_subflow_setsockopt(3) (IP_TOS, IPV6_TCLASS,
 * TCP_CONGESTION, TCP_NODELAY, TCP keepalive and timeouts, SO_SNDBUF,
 * SO_RCVBUF, SO_KEEPALIVE, SO_MAX_PACING_RATE, SO_PRIORITY, SO_MARK)
 * act on subflow @id only.  A later setsockopt() of the same option on the
 * MPTCP socket overwrites it on every subflow.  Returns 0, or -1 with errno
 * set (ENOPROTOOPT: not available per subflow; EPERM: the caller could not
 * set it on a TCP socket of its own).
 */
MPSOCK_API int mpsock_subflow_setsockopt(int fd, __u32 id, int level,
					 int optname, const void *optval,
					 socklen_t optlen);

/**
 * mpsock_subflow_getsockopt() - getsockopt() on one subflow.
 *
 * The same options, and TCP_INFO (read in process, no privilege).
 * Returns 0, or -1 with errno set.
 */
MPSOCK_API int mpsock_subflow_getsockopt(int fd, __u32 id, int level,
					 int optname, void *optval,
					 socklen_t *optlen);

/* Events of one connection (mpsock_events_open()). */
enum mpsock_event_type {
	MPSOCK_EVENT_SUBFLOW_ESTABLISHED =
		1, /* subflow_id, addresses, backup */
	MPSOCK_EVENT_SUBFLOW_CLOSED = 2, /* subflow_id, addresses, error */
	MPSOCK_EVENT_SUBFLOW_PRIORITY = 3, /* the peer changed backup */
	MPSOCK_EVENT_ADDR_ANNOUNCED = 4, /* the peer's addr_id and remote */
	MPSOCK_EVENT_ADDR_REMOVED = 5, /* the peer's addr_id */
	MPSOCK_EVENT_CLOSED = 6, /* the connection is gone */
	MPSOCK_EVENT_NO_SUBFLOW = 7, /* open, but no subflow left to send on */
	MPSOCK_EVENT_LOST = 8, /* lost events: count in lost */
};

struct mpsock_event {
	__u32 type; /* enum mpsock_event_type */
	__u32 subflow_id; /* kernel subflow id, 0 when it cannot be known */
	__u32 error; /* SUBFLOW_CLOSED: ECONNREFUSED, ETIMEDOUT,
			ECONNRESET, ECONNABORTED (closed here), 0 */
	__u32 lost; /* LOST: at least this many events were dropped */
	__u8 backup; /* SUBFLOW_*: the subflow is a backup */
	__u8 addr_id; /* ADDR_*: the peer's address id */
	__u8 reserved[6];
	struct sockaddr_storage local;
	struct sockaddr_storage remote;
};

struct mpsock_events;

/**
 * mpsock_events_open() - a stream of the events of @fd's connection.
 *
 * Read them with mpsock_events_read() when mpsock_events_fd() polls
 * readable.  @fd must stay open while the stream is used.  Returns NULL
 * with errno set on failure.
 */
MPSOCK_API struct mpsock_events *mpsock_events_open(int fd);

/** mpsock_events_fd() - the descriptor to poll()/epoll for readability. */
MPSOCK_API int mpsock_events_fd(const struct mpsock_events *ev);

/**
 * mpsock_events_read() - the next event, without blocking.
 *
 * Returns 0 with *@out filled, or -1 with errno set (EAGAIN: none now).
 */
MPSOCK_API int mpsock_events_read(struct mpsock_events *ev,
				  struct mpsock_event *out);

/** mpsock_events_close() - end the stream and free it. */
MPSOCK_API void mpsock_events_close(struct mpsock_events *ev);

/*
 * Service modes: how mpsockd, the namespace's path manager, treats one
 * connection (see mpsock_set_mode(3) and mpsockd.conf(5)).
 */
enum mpsock_mode {
	MPSOCK_MODE_DEFAULT = 0, /* the namespace's policy and mode */
	MPSOCK_MODE_MANUAL = 1, /* claimed: the policy leaves it alone */
	MPSOCK_MODE_AGGREGATE = 2, /* every path carries data */
	MPSOCK_MODE_HANDOVER = 3, /* one path; the others kept as backups */
	MPSOCK_MODE_INTERACTIVE = 4, /* the lowest-latency path; backups */
};

/**
 * mpsock_set_mode() - choose how mpsockd's path manager treats @fd.
 * @mode: an enum mpsock_mode value
 *
 * Works before connect() (the socket is recognised by its cookie when it
 * connects) and after.  MPSOCK_MODE_MANUAL claims the connection: the
 * policy opens, closes and reprioritises none of its subflows; any
 * subflow control call claims it too.  MPSOCK_MODE_DEFAULT hands it back.
 * Returns 0, or -1 with errno set (EOPNOTSUPP: no mpsockd serves this
 * network namespace).
 */
MPSOCK_API int mpsock_set_mode(int fd, int mode);

/**
 * mpsock_errmsg() - why the calling thread's last control call failed.
 *
 * The kernel's or mpsockd's explanation, or "" after a success.
 */
MPSOCK_API const char *mpsock_errmsg(void);

/**
 * mpsock_version() - the library's version string, e.g. "0.1.0".
 */
MPSOCK_API const char *mpsock_version(void);

#ifdef __cplusplus
}
#endif

#endif /* MPSOCK_H */
