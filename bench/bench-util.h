/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers both benchmarks share. */
#ifndef MPSOCK_BENCH_UTIL_H
#define MPSOCK_BENCH_UTIL_H

#include <stdint.h>
#include <sys/socket.h>
#include <linux/types.h>

struct stats {
	double p50, p90, p99, max;
	unsigned int n;
};

void die(const char *what) __attribute__((noreturn));
void die_neg(const char *what, int neg_errno) __attribute__((noreturn));
uint64_t now_ns(void);
int cmp_u64(const void *a, const void *b);
double pct_us(const uint64_t *sorted, unsigned int n, unsigned int pct);
unsigned int parse_uint(const char *s, unsigned int max, void (*usage)(void));
int connect_mptcp(const char *host, const char *port);
void echo_once(int fd);
void raise_nofile(unsigned long need);
void sleep_us(unsigned int us);
struct stats stats_of(uint64_t *s, unsigned int n);
void parse_addr(const char *s, unsigned int port, struct sockaddr_storage *ss,
		socklen_t *len);
__u32 wait_fully_established(int fd, uint64_t t0, __u32 *first);
void broker_null(int fd);

#endif
