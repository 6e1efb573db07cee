// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Writes the seeds of the request and event targets, which have no
 * recording of their own: the requests the library sends (one of each
 * type, with the descriptor count as the first byte), and the event
 * messages mpsockd would send for each recorded kernel event.
 *
 *   make-seeds KERNEL_DATA_DIR CORPUS_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "broker/broker.h"

static void save(const char *dir, const char *name, const void *a, size_t alen,
		 const void *b, size_t blen)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(a, 1, alen, f) != alen ||
	    fwrite(b, 1, blen, f) != blen || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void request(const char *dir, const char *name, struct mps_req *req)
{
	unsigned char nfds = mps_req_fds(req->type);

	req->version = MPS_PROTO_VERSION;
	req->seq = 7;
	save(dir, name, &nfds, 1, req, sizeof(*req));
}

static void requests(const char *dir)
{
	struct sockaddr_in *l, *r;
	struct mps_req req;
	int tos = 0x10;

	memset(&req, 0, sizeof(req));
	req.type = MPS_REQ_OPEN;
	l = (struct sockaddr_in *)&req.open.local;
	r = (struct sockaddr_in *)&req.open.remote;
	l->sin_family = r->sin_family = AF_INET;
	inet_pton(AF_INET, "10.0.2.1", &l->sin_addr);
	inet_pton(AF_INET, "10.0.1.2", &r->sin_addr);
	r->sin_port = htons(5001);
	req.open.flags = MPS_OPEN_F_BACKUP | MPS_OPEN_F_WAIT;
	req.open.timeout_ms = 2000;
	request(dir, "open", &req);
	memset(&req, 0, sizeof(req));
	req.type = MPS_REQ_CLOSE;
	req.close.id = 2;
	req.close.how = SHUT_RDWR;
	request(dir, "close", &req);
	memset(&req, 0, sizeof(req));
	req.type = MPS_REQ_BACKUP;
	req.backup.id = 2;
	req.backup.backup = 1;
	request(dir, "backup", &req);
	memset(&req, 0, sizeof(req));
	req.type = MPS_REQ_SOCKOPT;
	req.sockopt.id = 2;
	req.sockopt.set = 1;
	req.sockopt.level = IPPROTO_IP;
	req.sockopt.optname = IP_TOS;
	req.sockopt.optlen = sizeof(tos);
	memcpy(req.sockopt.val, &tos, sizeof(tos));
	request(dir, "sockopt-set", &req);
	memset(&req, 0, sizeof(req));
	req.type = MPS_REQ_SOCKOPT;
	req.sockopt.id = 1;
	req.sockopt.level = IPPROTO_TCP;
	req.sockopt.optname = TCP_CONGESTION;
	req.sockopt.optlen = 16;
	request(dir, "sockopt-get", &req);
	memset(&req, 0, sizeof(req));
	req.type = MPS_REQ_SUBSCRIBE;
	request(dir, "subscribe", &req);
	memset(&req, 0, sizeof(req));
	req.type = MPS_REQ_SUBSCRIBE_OWNER;
	request(dir, "subscribe-owner", &req);
	memset(&req, 0, sizeof(req));
	req.type = MPS_REQ_MODE;
	req.mode.mode = 3;
	request(dir, "mode", &req);
	memset(&req, 0, sizeof(req));
	req.type = MPS_REQ_STATUS;
	request(dir, "status", &req);
}

static int events(const char *data, const char *dir)
{
	static const char *const names[] = {
		"created", "established", "sub_established", "announced",
		"removed", "sub_closed",  "closed",
	};
	unsigned int i, k;
	int found = 0;

	for (i = 0; i < 20; i++)
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			char path[4096], out[64];
			union {
				struct nlmsghdr nlh;
				char buf[4096];
			} u;
			struct mps_event_msg m;
			struct mps_event ev;
			size_t n;
			FILE *f;

			snprintf(path, sizeof(path), "%s/genl-%03u-%s.bin",
				 data, i, names[k]);
			f = fopen(path, "rb");
			if (!f)
				continue;
			n = fread(u.buf, 1, sizeof(u.buf), f);
			fclose(f);
			if (n < sizeof(u.nlh) || mps_event_parse(&u.nlh, &ev))
				continue;
			mps_event_encode(&m, &ev, i == 0 ? 3 : 0);
			snprintf(out, sizeof(out), "%03u-%s", i, names[k]);
			save(dir, out, &m, sizeof(m), "", 0);
			found++;
		}
	return found;
}

int main(int argc, char **argv)
{
	char dir[4096];

	if (argc != 3) {
		fprintf(stderr, "usage: make-seeds KERNEL_DATA_DIR CORPUS\n");
		return 64;
	}
	snprintf(dir, sizeof(dir), "%s/request", argv[2]);
	requests(dir);
	snprintf(dir, sizeof(dir), "%s/event", argv[2]);
	if (!events(argv[1], dir)) {
		fprintf(stderr, "make-seeds: no events in %s\n", argv[1]);
		return 1;
	}
	return 0;
}
