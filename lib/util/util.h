/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bottom layer of libmpsock: helpers every other layer may use and
 * that use nothing of libmpsock (logging, per-thread state, addresses,
 * clocks, capabilities).  Internal functions return 0 (or a count) on
 * success and -errno on failure; see ARCHITECTURE.md for the layers.
 */
#ifndef MPSOCK_UTIL_H
#define MPSOCK_UTIL_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/types.h>

/* the length of an explanation carried with an error (kernel or ours) */
#define MPS_MSG_LEN 128

/* log.c: silent unless MPSOCK_DEBUG is set */
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

/* netns.c: the namespace of socket @fd, or the caller's (@fd -1) */
int mps_netns_cookie(int fd, __u64 *cookie);

/* addr.c: socket addresses, IPv4 and IPv6 alike */
socklen_t mps_sockaddr_len(sa_family_t family);
/* A v4-mapped IPv6 address as the AF_INET address it stands for. */
void mps_addr_unmap(struct sockaddr_storage *ss);
__be16 mps_addr_port(const struct sockaddr_storage *ss);
void mps_addr_set_port(struct sockaddr_storage *ss, __be16 port);
/* Same family and address; ports compared only if @ports. */
bool mps_addr_equal(const struct sockaddr_storage *a,
		    const struct sockaddr_storage *b, bool ports);
bool mps_addr_is_any(const struct sockaddr_storage *ss);

/* caps.c: a capability in this thread's effective set */
bool mps_have_cap(int cap);

/* Set errno from an internal -errno result and return -1. */
static inline int mps_fail(int neg_errno)
{
	errno = -neg_errno;
	return -1;
}

/* CLOCK_MONOTONIC in milliseconds: deadlines and retries. */
static inline long mps_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* CLOCK_MONOTONIC in microseconds: budgets of work within a loop turn. */
static inline long long mps_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/*
 * A token's bucket among 1 << @bits: tokens are random, but a
 * multiplicative hash keeps any structure in them from clustering.
 */
static inline unsigned int mps_token_hash(__u32 token, unsigned int bits)
{
	return (token * 2654435761u) >> (32 - bits);
}

#endif
