/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The namespace's interfaces and addresses, kept current from rtnetlink,
 * and news that its routes or rules changed.
 */
#ifndef MPSOCKD_NETWATCH_H
#define MPSOCKD_NETWATCH_H

#include <net/if.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <linux/netlink.h>

struct nw_link {
	int ifindex;
	char name[IF_NAMESIZE];
	bool up; /* administratively up, with carrier */
};

struct nw_addr {
	int ifindex;
	struct sockaddr_storage addr; /* port 0 */
};

/* What changed, for the path manager. */
struct nw_ops {
	void (*addr_added)(const struct nw_addr *a);
	void (*addr_removed)(const struct nw_addr *a);
	void (*link_changed)(const struct nw_link *l);
	/* routes or rules changed: which pair goes where may differ */
	void (*routes_changed)(void);
};

/* Opens the socket and reads the current state: the socket to poll. */
int netwatch_open(const struct nw_ops *ops);
/*
 * Reads what is queued; on an overrun, reads everything again, and until
 * that succeeds tries again from netwatch_tick().
 */
void netwatch_readable(void);
/* A resync due by now; the next deadline in ms (-1: none). */
void netwatch_tick(void);
int netwatch_next_timeout_ms(void);
void netwatch_close(void);

/*
 * netwatch_parse.c: an RTM_NEWLINK or RTM_DELLINK message into @l (up only
 * for a NEWLINK with IFF_UP and carrier): 0, or -EBADMSG when too short.
 */
int nw_parse_link(const struct nlmsghdr *nlh, struct nw_link *l);
/*
 * An RTM_NEWADDR or RTM_DELADDR message into @a, *@usable whether a
 * subflow may start from it (global scope, not in DAD): 1 when it names an
 * IPv4 or IPv6 address, 0 when it names none, -EBADMSG when too short.
 */
int nw_parse_addr(const struct nlmsghdr *nlh, struct nw_addr *a, bool *usable);

const struct nw_link *netwatch_link(int ifindex);
/* The addresses a subflow may start from (up links, usable addresses). */
unsigned int netwatch_addrs(const struct nw_addr **out);
/* The interface an address belongs to, 0 if none. */
int netwatch_addr_ifindex(const struct sockaddr_storage *addr);

#endif
