/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The wire format between libmpsock and mpsockd, defined once.  One request
 * per SOCK_SEQPACKET datagram, with exactly one file descriptor (the
 * application's MPTCP socket) in SCM_RIGHTS, except MPS_REQ_SUBSCRIBE_OWNER
 * which carries none; one reply per request.  Both
 * are fixed-size and versioned: the broker refuses any other size or
 * version with an error reply.
 */
#ifndef MPSOCK_BROKER_PROTO_H
#define MPSOCK_BROKER_PROTO_H

#include <sys/socket.h>
#include <linux/types.h>

/*
 * An abstract Unix socket: it belongs to the network namespace it was
 * bound in, so every namespace has its own broker and an application
 * reaches the one of its own namespace.
 */
#define MPS_BROKER_NAME "mpsockd"
#define MPS_PROTO_VERSION 1

/* The longest open-and-wait mpsockd accepts; a caller's -1 means this. */
#define MPS_OPEN_WAIT_MAX_MS 120000

enum mps_req_type {
	MPS_REQ_OPEN = 1,
	MPS_REQ_CLOSE = 2,
	MPS_REQ_BACKUP = 3,
	MPS_REQ_SOCKOPT = 4,
	MPS_REQ_SUBSCRIBE = 5, /* the connection then carries events */
	/*
	 * The events of every connection whose MPTCP socket belongs to the
	 * caller's uid; the one request that carries no descriptor.
	 */
	MPS_REQ_SUBSCRIBE_OWNER = 6,
	MPS_REQ_MODE = 7, /* the connection's service mode, or a claim */
	/* what this mpsockd does and was allowed to (mpsock check); no fd */
	MPS_REQ_STATUS = 8,
	__MPS_REQ_MAX
};

/* mps_req.open.flags */
#define MPS_OPEN_F_BACKUP 0x1
#define MPS_OPEN_F_WAIT 0x2 /* reply once established or failed */
#define MPS_OPEN_F_UNBOUND 0x4 /* not bound to the address's interface */

struct mps_req {
	__u16 version;
	__u16 type;
	__u32 seq;
	union {
		struct {
			struct sockaddr_storage local;
			struct sockaddr_storage remote;
			__u32 flags;
			__s32 timeout_ms;
		} open;
		struct {
			__u32 id;
			__s32 how;
		} close;
		struct {
			__u32 id;
			__u32 backup;
		} backup;
		struct {
			__u32 mode; /* enum mpsock_mode */
		} mode;
		struct {
			__u32 id;
			__u32 set; /* 1 setsockopt, 0 getsockopt */
			__s32 level;
			__s32 optname;
			__u32 optlen;
			__u8 val[64];
		} sockopt;
	};
};

struct mps_reply {
	__u16 version;
	__u16 type;
	__u32 seq;
	__s32 err; /* 0 or a negative errno */
	__u32 id; /* the new subflow (open) */
	char msg[128]; /* NUL-terminated explanation, may be empty */
	__u32 optlen; /* sockopt: the length of the value read */
	__u8 val[64]; /* sockopt: the value read (getsockopt) */
};

/*
 * MPS_REQ_STATUS's answer, in mps_reply.val; mps_reply.msg says where the
 * per-subflow option program is attached, or why it is not.
 */
struct mps_status {
	__u8 sockopt_path[16]
			 [2]; /* enum mps_sockopt_path: [option][get, set] */
	__u8 sockopt_loaded;
	__u8 sockopt_probed; /* by a test connection, not only by use */
	__u8 pad[2];
	char policy[16]; /* NUL-terminated, as mpsockd.conf(5) spells it */
	char mode[12];
};

_Static_assert(sizeof(struct mps_status) <=
		       sizeof(((struct mps_reply *)0)->val),
	       "the status fits a reply");

/*
 * After a successful MPS_REQ_SUBSCRIBE reply, the broker sends one of these
 * per kernel event of the subscribed connection, and one with lost set
 * when its queue to the client was full.
 */
struct mps_event_msg {
	__u16 version;
	__u16 type; /* MPTCP_EVENT_*, or 0 with lost set */
	__u32 lost;
	__u32 token;
	__u32 error; /* a positive errno, 0 if none */
	__u8 has_error;
	__u8 backup;
	__u8 loc_id;
	__u8 rem_id;
	__u8 server_side;
	__u8 pad[3];
	struct sockaddr_storage local;
	struct sockaddr_storage remote;
};

#endif /* MPSOCK_BROKER_PROTO_H */
