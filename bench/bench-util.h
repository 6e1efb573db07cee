/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers both benchmarks share. */
#ifndef MPSOCK_BENCH_UTIL_H
#define MPSOCK_BENCH_UTIL_H

#include <stdint.h>

void die(const char *what) __attribute__((noreturn));
void die_neg(const char *what, int neg_errno) __attribute__((noreturn));
uint64_t now_ns(void);
int cmp_u64(const void *a, const void *b);
double pct_us(const uint64_t *sorted, unsigned int n, unsigned int pct);
unsigned int parse_uint(const char *s, unsigned int max, void (*usage)(void));
int connect_mptcp(const char *host, const char *port);
void echo_once(int fd);
void raise_nofile(unsigned long need);

#endif
