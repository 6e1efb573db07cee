// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mpsock.h built with MPSOCK_REFIMPL_LAYOUT: the reference implementation's
 * structures, byte for byte, and the library reading such requests, whose
 * size alone names their layout, without a byte past their end.
 */
#define MPSOCK_REFIMPL_LAYOUT
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/mman.h>

#include "mpsock.h"
#include "refimpl.h"
#include "test.h"

/* @n bytes that end where an unreadable page begins */
static unsigned char *at_page_end(size_t n)
{
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char *p;

	p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mprotect(p + pg, pg, PROT_NONE))
		return NULL;
	return p + pg - n;
}

/* A tuple of two @salen addresses of @family, as a program fills it. */
static unsigned char *tuple_at_page_end(int family, size_t salen)
{
	const size_t len = sizeof(struct mptcp_sub_tuple) + 2 * salen;
	unsigned char *p = at_page_end(len);
	struct mptcp_sub_tuple *t = (struct mptcp_sub_tuple *)p;
	struct sockaddr_storage ss = {.ss_family = family};

	if (!p)
		return NULL;
	t->id = 0;
	memcpy(&t->addrs[0], &ss, salen);
	memcpy(&t->addrs[salen], &ss, salen);
	return p;
}

int main(void)
{
	const size_t t4 =
		sizeof(struct mptcp_sub_tuple) + 2 * sizeof(struct sockaddr_in);
	const size_t t6 = sizeof(struct mptcp_sub_tuple) +
			  2 * sizeof(struct sockaddr_in6);
	struct mptcp_close_sub_id *c;
	unsigned char *p;
	socklen_t len;
	int r;

	check_shared_layouts();
	CHECK("mptcp_sub_tuple: the reference's, no prio, addrs at 1",
	      sizeof(struct mptcp_sub_tuple) ==
			      sizeof(struct refimpl_sub_tuple) &&
		      sizeof(struct mptcp_sub_tuple) == 1 &&
		      offsetof(struct mptcp_sub_tuple, addrs) ==
			      offsetof(struct refimpl_sub_tuple, addrs));
	CHECK("tuple requests are 33 and 57 bytes", t4 == 33 && t6 == 57);
	CHECK("mptcp_close_sub_id: the reference's, id alone, 1 byte",
	      sizeof(struct mptcp_close_sub_id) ==
			      sizeof(struct refimpl_close_sub_id) &&
		      sizeof(struct mptcp_close_sub_id) == 1);
	CHECK("MPTCP_SHUT_RST and MPTCP_SUB_PRIO are still there",
	      MPTCP_SHUT_RST == 3 && MPTCP_SUB_PRIO == 73);

	/*
	 * Each request ends at an unreadable page: a read past it would
	 * crash.  On fd -1, a request the library took whole fails with
	 * EBADF, once it looks at the socket; one it refused, with EINVAL.
	 */
	c = (struct mptcp_close_sub_id *)at_page_end(sizeof(*c));
	if (c) {
		c->id = 1;
		len = sizeof(*c);
		r = mpsock_getsockopt(-1, IPPROTO_TCP, MPTCP_CLOSE_SUB_ID, c,
				      &len);
		CHECK("getsockopt CLOSE_SUB_ID, 1 byte: read, taken (EBADF)",
		      r == -1 && errno == EBADF && len == 1);
		r = mpsock_setsockopt(-1, IPPROTO_TCP, MPTCP_CLOSE_SUB_ID, c,
				      sizeof(*c));
		CHECK("setsockopt CLOSE_SUB_ID, 1 byte: read, taken (EBADF)",
		      r == -1 && errno == EBADF);
	}
	p = at_page_end(7);
	if (p) {
		memset(p, 0, 7);
		for (len = 2; len < 8; len++) {
			socklen_t l = len;

			r = mpsock_getsockopt(-1, IPPROTO_TCP,
					      MPTCP_CLOSE_SUB_ID, p + 7 - len,
					      &l);
			if (r != -1 || errno != EINVAL)
				break;
		}
		CHECK("CLOSE_SUB_ID of 2 to 7 bytes: EINVAL", len == 8);
	}
	p = tuple_at_page_end(AF_INET, sizeof(struct sockaddr_in));
	if (p) {
		len = t4;
		r = mpsock_getsockopt(-1, IPPROTO_TCP, MPTCP_OPEN_SUB_TUPLE, p,
				      &len);
		CHECK("OPEN_SUB_TUPLE, 33 bytes (IPv4): read, taken (EBADF)",
		      r == -1 && errno == EBADF);
		r = mpsock_setsockopt(-1, IPPROTO_TCP, MPTCP_OPEN_SUB_TUPLE, p,
				      t4);
		CHECK("setsockopt OPEN_SUB_TUPLE, 33 bytes: taken (EBADF)",
		      r == -1 && errno == EBADF);
		len = t4;
		r = mpsock_getsockopt(-1, IPPROTO_TCP, MPTCP_GET_SUB_TUPLE, p,
				      &len);
		CHECK("GET_SUB_TUPLE, 33 bytes: taken (EBADF)",
		      r == -1 && errno == EBADF);
	}
	p = tuple_at_page_end(AF_INET6, sizeof(struct sockaddr_in6));
	if (p) {
		len = t6;
		r = mpsock_getsockopt(-1, IPPROTO_TCP, MPTCP_OPEN_SUB_TUPLE, p,
				      &len);
		CHECK("OPEN_SUB_TUPLE, 57 bytes (IPv6): read, taken (EBADF)",
		      r == -1 && errno == EBADF);
		len = t6;
		r = mpsock_getsockopt(-1, IPPROTO_TCP, MPTCP_GET_SUB_TUPLE, p,
				      &len);
		CHECK("GET_SUB_TUPLE, 57 bytes: taken (EBADF)",
		      r == -1 && errno == EBADF);
	}
	/* IPv6 addresses in 33 bytes, IPv4 in 57: not a tuple */
	p = tuple_at_page_end(AF_INET6, (t4 - 1) / 2);
	if (p) {
		len = t4;
		r = mpsock_getsockopt(-1, IPPROTO_TCP, MPTCP_OPEN_SUB_TUPLE, p,
				      &len);
		CHECK("OPEN_SUB_TUPLE, 33 bytes of AF_INET6: EINVAL",
		      r == -1 && errno == EINVAL);
	}
	return test_done();
}
