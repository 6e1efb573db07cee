// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The library's and mpsockd's parsers on messages recorded from a real
 * kernel (tests/data/kernel, see tests/tools/record-kernel-messages.sh):
 * the decoded fields must be the ones the recording set up, so that a
 * parser change that misreads the kernel shows here without a kernel.
 *
 *   test-parsers DATA_DIR
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>

#include "broker/broker.h"
#include "kernel/kernel.h"
#include "netwatch.h"
#include "test.h"

#define TEST_PLAN 49

#define PORT 5001

static const char *data_dir;

/* A whole file, 8-byte aligned as a netlink buffer is; NULL if missing. */
static void *load(const char *name, size_t *len)
{
	char path[4096];
	void *buf = NULL;
	long n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", data_dir, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = aligned_alloc(8, (n + 7) & ~7L);
		if (buf && fread(buf, 1, n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = n;
	}
	fclose(f);
	return buf;
}

static bool is_addr(const struct sockaddr_storage *ss, const char *addr,
		    int port)
{
	char text[INET6_ADDRSTRLEN] = "";
	const void *a;

	if (ss->ss_family == AF_INET)
		a = &((const struct sockaddr_in *)ss)->sin_addr;
	else if (ss->ss_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	else
		return false;
	inet_ntop(ss->ss_family, a, text, sizeof(text));
	return !strcmp(text, addr) &&
	       (port < 0 || ntohs(mps_addr_port(ss)) == port);
}

/* ------------------------------------------------------------ genl events */

#define EVENTS_MAX 32

static struct mps_event events[EVENTS_MAX];
static unsigned int nevents;

static void load_events(void)
{
	struct dirent **ents;
	int i, k;

	k = scandir(data_dir, &ents, NULL, alphasort);
	for (i = 0; i < k; i++) {
		struct nlmsghdr *nlh;
		size_t len;

		if (!strncmp(ents[i]->d_name, "genl-", 5) &&
		    nevents < EVENTS_MAX &&
		    (nlh = load(ents[i]->d_name, &len))) {
			if (len >= sizeof(*nlh) && nlh->nlmsg_len <= len &&
			    mps_event_parse(nlh, &events[nevents]) == 0)
				nevents++;
			free(nlh);
		}
		free(ents[i]);
	}
	if (k >= 0)
		free(ents);
}

/* The @nth (from 0) event of @type, or NULL. */
static const struct mps_event *event(__u8 type, unsigned int nth)
{
	unsigned int i;

	for (i = 0; i < nevents; i++)
		if (events[i].type == type && !nth--)
			return &events[i];
	return NULL;
}

static __u32 test_events(void)
{
	const struct mps_event *c, *e, *s, *a, *r, *x, *cl;
	struct mps_event_msg m;
	struct mps_event back;
	bool one_token = true;
	__u32 token, lost;
	unsigned int i;

	load_events();
	CHECK("events: the seven kinds recorded are all parsed", nevents >= 7);
	c = event(MPTCP_EVENT_CREATED, 0);
	token = c ? c->token : 0;
	CHECK("created: a token, 10.0.1.1 -> 10.0.1.2:5001, client side",
	      c && c->token && is_addr(&c->local, "10.0.1.1", -1) &&
		      ntohs(c->sport) != 0 &&
		      is_addr(&c->remote, "10.0.1.2", PORT) && !c->server_side);
	e = event(MPTCP_EVENT_ESTABLISHED, 0);
	CHECK("established: the same connection",
	      e && c && e->token == token && e->sport == c->sport &&
		      is_addr(&e->remote, "10.0.1.2", PORT));
	s = event(MPTCP_EVENT_SUB_ESTABLISHED, 0);
	CHECK("sub_established: endpoint 10.0.2.1 id 2 -> 10.0.1.2:5001",
	      s && s->token == token && is_addr(&s->local, "10.0.2.1", -1) &&
		      is_addr(&s->remote, "10.0.1.2", PORT) && s->loc_id == 2 &&
		      s->rem_id == 0);
	/*
	 * The event's flag is the one the peer asked for (the kernel's
	 * subflow->backup); the endpoint's own shows as BKUP_LOC in diag.
	 */
	CHECK("sub_established: backup 0, the peer's flag",
	      s && s->backup == 0);
	CHECK("sub_established: no device (the endpoint names none)",
	      s && s->ifindex == 0);
	a = event(MPTCP_EVENT_ANNOUNCED, 0);
	CHECK("announced: the server's endpoint 10.0.2.2 id 5",
	      a && a->token == token && is_addr(&a->remote, "10.0.2.2", -1) &&
		      a->rem_id == 5);
	r = event(MPTCP_EVENT_REMOVED, 0);
	CHECK("removed: id 5", r && r->token == token && r->rem_id == 5);
	x = NULL;
	for (i = 0; i < 4 && (!x || x->loc_id != 2); i++)
		x = event(MPTCP_EVENT_SUB_CLOSED, i);
	CHECK("sub_closed: the subflow of endpoint id 2, from 10.0.2.1",
	      x && x->loc_id == 2 && x->token == token &&
		      is_addr(&x->local, "10.0.2.1", -1));
	cl = event(MPTCP_EVENT_CLOSED, 0);
	CHECK("closed: the connection's token", cl && cl->token == token);
	for (i = 0; i < nevents; i++)
		one_token &= events[i].token == token;
	CHECK("every event names the one connection", one_token);

	/* the wire's event message carries each of them unchanged */
	for (i = 0; s && i < 1; i++) {
		mps_event_encode(&m, s, 4);
		CHECK("event message round trip: fields and loss count",
		      mps_event_decode(&m, sizeof(m), &back, &lost) == 0 &&
			      lost == 4 && back.type == s->type &&
			      back.token == s->token && back.loc_id == 2 &&
			      back.backup == s->backup &&
			      is_addr(&back.local, "10.0.2.1", -1) &&
			      is_addr(&back.remote, "10.0.1.2", PORT));
		CHECK("event message of another size: EPROTO",
		      mps_event_decode(&m, sizeof(m) - 1, &back, &lost) ==
			      -EPROTO);
	}
	if (!s) {
		test_skip("event message round trip", "no sub_established");
		test_skip("event message of another size", "no event");
	}
	return token;
}

/* -------------------------------------------------------------- FULL_INFO */

static void test_full_info(__u32 token)
{
	struct mps_snapshot snap = {0};
	struct sockaddr_storage l, r;
	struct mptcp_full_info mfi;
	__u32 stride = 512;
	bool first = false, second = false;
	unsigned char *buf;
	unsigned int i;
	size_t len;
	int n;

	buf = load("full_info.bin", &len);
	CHECK("full_info.bin recorded", buf && len >= sizeof(mfi));
	if (!buf || len < sizeof(mfi)) {
		for (i = 0; i < 6; i++)
			test_skip("FULL_INFO", "no recording");
		free(buf);
		return;
	}
	memcpy(&mfi, buf, sizeof(mfi));
	n = mps_full_info_reply(&mfi, &stride);
	CHECK("FULL_INFO: two subflows", n == 2);
	CHECK("FULL_INFO: a tcp_info stride no larger than asked",
	      stride > 0 && stride <= 512 &&
		      len == sizeof(mfi) +
				      2 * (sizeof(struct mptcp_subflow_info) +
					   stride));
	CHECK("FULL_INFO: mptcp_info's token is the events' one",
	      mfi.mptcp_info.mptcpi_token == token && token);
	n = n == 2 ? 2 : 0;
	snap.info = (struct mptcp_subflow_info *)(buf + sizeof(mfi));
	snap.state = snap.inline_state;
	for (i = 0; i < (unsigned int)n; i++)
		snap.state[i] =
			buf[sizeof(mfi) + n * sizeof(*snap.info) + i * stride];
	snap.count = n;
	for (i = 0; i < snap.count; i++) {
		mps_snapshot_tuple(&snap, i, &l, &r);
		if (is_addr(&l, "10.0.1.1", -1) &&
		    is_addr(&r, "10.0.1.2", PORT) &&
		    mps_snapshot_live(&snap, i))
			first = true;
		if (is_addr(&l, "10.0.2.1", -1) &&
		    is_addr(&r, "10.0.1.2", PORT) &&
		    mps_snapshot_live(&snap, i))
			second = true;
	}
	CHECK("FULL_INFO: the initial subflow 10.0.1.1 -> 10.0.1.2:5001, live",
	      first);
	CHECK("FULL_INFO: the second one 10.0.2.1 -> 10.0.1.2:5001, live",
	      second);
	mfi.size_sfinfo_user = sizeof(struct mptcp_subflow_info) - 4;
	stride = 512;
	CHECK("FULL_INFO: another subflow_info stride is EPROTO",
	      mps_full_info_reply(&mfi, &stride) == -EPROTO);
	free(buf);
}

/* -------------------------------------------------------------- sock_diag */

struct diag_seen {
	struct mps_nl_ack ack; /* first: mps_nl_run() hands it to diag_cb */
	struct mps_msk msk[4];
	struct mps_diag_subflow sf[4];
	unsigned int nmsk, nsf, other;
	bool done;
};

static int diag_cb(const struct nlmsghdr *nlh, void *data)
{
	struct diag_seen *d = data;
	struct mps_diag_subflow sf;
	struct mps_msk msk;

	if (d->nmsk < 4 && mps_diag_parse_msk(nlh, &msk) > 0 && msk.has_info &&
	    msk.token)
		d->msk[d->nmsk++] = msk;
	else if (mps_diag_parse_subflow(nlh, &sf) > 0 && d->nsf < 4)
		d->sf[d->nsf++] = sf;
	else
		d->other++;
	return MNL_CB_OK;
}

static void replay_dump(const char *name, struct diag_seen *d)
{
	size_t len;
	void *buf = load(name, &len);

	memset(d, 0, sizeof(*d));
	/* a whole dump, NLMSG_DONE last: the outcome reader stops there */
	d->done = buf &&
		  mps_nl_run(buf, len, 0, 0, diag_cb, &d->ack) == MNL_CB_STOP &&
		  !d->ack.err;
	free(buf);
}

static void test_diag(__u32 token)
{
	const struct mps_diag_subflow *init = NULL, *join = NULL;
	struct diag_seen d;
	unsigned int i;

	replay_dump("diag-msk.bin", &d);
	CHECK("diag MPTCP dump: read whole, to its NLMSG_DONE", d.done);
	CHECK("diag MPTCP dump: one connection, the events' token",
	      d.nmsk == 1 && d.msk[0].token == token && token);
	CHECK("diag MPTCP dump: 10.0.1.1 -> 10.0.1.2:5001, established",
	      d.nmsk == 1 && is_addr(&d.msk[0].sock.local, "10.0.1.1", -1) &&
		      is_addr(&d.msk[0].sock.remote, "10.0.1.2", PORT) &&
		      d.msk[0].sock.state == TCP_ESTABLISHED);
	CHECK("diag MPTCP dump: mptcp_info, with its subflow count",
	      d.nmsk == 1 && d.msk[0].info.mptcpi_subflows == 1);

	replay_dump("diag-subflows.bin", &d);
	CHECK("diag TCP dump: read whole, to its NLMSG_DONE", d.done);
	for (i = 0; i < d.nsf; i++) {
		if (is_addr(&d.sf[i].sock.local, "10.0.1.1", -1))
			init = &d.sf[i];
		if (is_addr(&d.sf[i].sock.local, "10.0.2.1", -1))
			join = &d.sf[i];
	}
	CHECK("diag TCP dump: two MPTCP subflows", d.nsf == 2);
	CHECK("diag subflow: the initial one, local id 0, the token",
	      init && init->mptcp.found && init->mptcp.token == token &&
		      init->mptcp.local_addr_id == 0 &&
		      is_addr(&init->sock.remote, "10.0.1.2", PORT));
	CHECK("diag subflow: the joined one, local id 2, the token",
	      join && join->mptcp.token == token &&
		      join->mptcp.local_addr_id == 2 &&
		      is_addr(&join->sock.remote, "10.0.1.2", PORT));
	CHECK("diag subflow: the joined one is a backup (BKUP_LOC)",
	      join && (join->mptcp.flags & MPTCP_SUBFLOW_FLAG_BKUP_LOC));
	CHECK("diag subflow: the joined one's remote token and flags",
	      join && join->mptcp.token_remote &&
		      (join->mptcp.flags & MPTCP_SUBFLOW_FLAG_MCAP_REM) == 0 &&
		      (join->mptcp.flags & MPTCP_SUBFLOW_FLAG_JOIN_LOC));
	CHECK("diag subflow: tcp_info, state established",
	      init && init->tcpi_len >= 8 && init->tcpi[0] == TCP_ESTABLISHED);
}

/* -------------------------------------------------------------- rtnetlink */

static void test_rtnl(void)
{
	bool up = false, down = false, gone = false, v4 = false, v6 = false,
	     v4del = false, short_ok;
	struct dirent **ents;
	int i, k, d0 = 0;

	k = scandir(data_dir, &ents, NULL, alphasort);
	for (i = 0; i < k; i++) {
		struct nlmsghdr *nlh;
		struct nw_link l;
		struct nw_addr a;
		bool usable;
		size_t len;

		nlh = strncmp(ents[i]->d_name, "rtnl-", 5)
			      ? NULL
			      : load(ents[i]->d_name, &len);
		free(ents[i]);
		if (!nlh)
			continue;
		if ((nlh->nlmsg_type == RTM_NEWLINK ||
		     nlh->nlmsg_type == RTM_DELLINK) &&
		    nw_parse_link(nlh, &l) == 0 && !strcmp(l.name, "d0")) {
			d0 = l.ifindex;
			up |= nlh->nlmsg_type == RTM_NEWLINK && l.up;
			/* after up: set down, still there */
			down |= up && nlh->nlmsg_type == RTM_NEWLINK && !l.up;
			gone |= nlh->nlmsg_type == RTM_DELLINK && !l.up;
		}
		if (nw_parse_addr(nlh, &a, &usable) > 0 && a.ifindex == d0) {
			v4 |= nlh->nlmsg_type == RTM_NEWADDR && usable &&
			      is_addr(&a.addr, "10.0.9.1", 0);
			v6 |= nlh->nlmsg_type == RTM_NEWADDR && usable &&
			      is_addr(&a.addr, "fd00:9::1", 0);
			v4del |= nlh->nlmsg_type == RTM_DELADDR &&
				 is_addr(&a.addr, "10.0.9.1", 0);
		}
		free(nlh);
	}
	if (k >= 0)
		free(ents);
	CHECK("rtnl: d0 set up, with carrier: NEWLINK up", d0 > 0 && up);
	CHECK("rtnl: 10.0.9.1 on d0: NEWADDR, usable", v4);
	CHECK("rtnl: fd00:9::1 (nodad) on d0: NEWADDR, usable", v6);
	CHECK("rtnl: 10.0.9.1 removed: DELADDR", v4del);
	CHECK("rtnl: d0 set down: NEWLINK, not up", down);
	CHECK("rtnl: d0 deleted: DELLINK", gone);
	{
		/* an IPv6 message whose address attribute holds 4 bytes */
		struct {
			struct nlmsghdr nlh;
			struct ifaddrmsg ifa;
			struct nlattr attr;
			unsigned char addr[4];
		} m = {
			.nlh = {.nlmsg_len = sizeof(m),
				.nlmsg_type = RTM_NEWADDR},
			.ifa = {.ifa_family = AF_INET6},
			.attr = {.nla_len = sizeof(m.attr) + 4,
				 .nla_type = IFA_ADDRESS},
		};
		struct nw_addr a;
		bool usable = true;

		short_ok = nw_parse_addr(&m.nlh, &a, &usable) == 0 && !usable;
		CHECK("rtnl: an address shorter than its family's is none",
		      short_ok);
	}
}

/* ------------------------------------------------------ broker's requests */

static void test_requests(void)
{
	struct mps_req req, in;
	struct mps_reply rep, out;
	char msg[128];

	memset(&req, 0, sizeof(req));
	req.version = MPS_PROTO_VERSION;
	req.seq = 9;
	req.type = MPS_REQ_OPEN;
	req.open.local.ss_family = AF_INET;
	req.open.remote.ss_family = AF_INET;
	req.open.flags = MPS_OPEN_F_WAIT;
	CHECK("request: an open with one socket",
	      mps_req_decode(&req, sizeof(req), 1, &in, msg, sizeof(msg)) ==
			      0 &&
		      in.seq == 9 && in.open.flags == MPS_OPEN_F_WAIT);
	CHECK("request: another size is EINVAL, with type and seq kept",
	      mps_req_decode(&req, sizeof(req) - 1, 1, &in, msg, sizeof(msg)) ==
			      -EINVAL &&
		      in.seq == 9 && in.type == MPS_REQ_OPEN && msg[0]);
	CHECK("request: no socket is EBADF",
	      mps_req_decode(&req, sizeof(req), 0, &in, msg, sizeof(msg)) ==
		      -EBADF);
	req.open.flags = 0x80;
	CHECK("request: unknown open flags are EINVAL",
	      mps_req_decode(&req, sizeof(req), 1, &in, msg, sizeof(msg)) ==
		      -EINVAL);
	req.open.flags = 0;
	req.open.remote.ss_family = AF_INET6;
	CHECK("request: open with two families is EINVAL",
	      mps_req_decode(&req, sizeof(req), 1, &in, msg, sizeof(msg)) ==
		      -EINVAL);
	req.version = 2;
	CHECK("request: another version is EPROTONOSUPPORT",
	      mps_req_decode(&req, sizeof(req), 1, &in, msg, sizeof(msg)) ==
		      -EPROTONOSUPPORT);
	memset(&req, 0, sizeof(req));
	req.version = MPS_PROTO_VERSION;
	req.type = MPS_REQ_SOCKOPT;
	req.sockopt.level = IPPROTO_TCP;
	req.sockopt.optname = TCP_CONGESTION;
	req.sockopt.optlen = 65;
	CHECK("request: an option value beyond its room is EINVAL",
	      mps_req_decode(&req, sizeof(req), 1, &in, msg, sizeof(msg)) ==
		      -EINVAL);
	req.type = MPS_REQ_STATUS;
	CHECK("request: status carries no socket",
	      mps_req_decode(&req, sizeof(req), 1, &in, msg, sizeof(msg)) ==
			      -EBADF &&
		      mps_req_decode(&req, sizeof(req), 0, &in, msg,
				     sizeof(msg)) == 0);
	req.type = 99;
	CHECK("request: an unknown type is EINVAL",
	      mps_req_decode(&req, sizeof(req), 1, &in, msg, sizeof(msg)) ==
		      -EINVAL);

	memset(&rep, 'x', sizeof(rep));
	rep.version = MPS_PROTO_VERSION;
	rep.seq = 9;
	rep.optlen = 1000;
	CHECK("reply: text terminated, optlen bounded by its room",
	      mps_reply_decode(&rep, sizeof(rep), 9, &out) == 0 &&
		      out.msg[sizeof(out.msg) - 1] == '\0' &&
		      out.optlen == sizeof(out.val));
	CHECK("reply: another sequence number is EPROTO",
	      mps_reply_decode(&rep, sizeof(rep), 10, &out) == -EPROTO);
}

int main(int argc, char **argv)
{
	__u32 token;

	if (argc != 2) {
		fprintf(stderr, "usage: test-parsers DATA_DIR\n");
		return 64;
	}
	data_dir = argv[1];
	test_plan(TEST_PLAN);
	token = test_events();
	test_full_info(token);
	test_diag(token);
	test_rtnl();
	test_requests();
	return test_done();
}
