// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A small path manager for one connection, driven only by events: it keeps
 * a regular subflow from one local address and a backup subflow from
 * another, and opens a new one whenever either is closed.
 *
 * Usage: keep-two SERVER PORT MAIN_LOCAL BACKUP_LOCAL SECONDS
 *   The connection starts from MAIN_LOCAL (its initial subflow is the
 *   regular one); both subflows go to SERVER:PORT.  Works unprivileged
 *   when mpsockd runs in the network namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <mpsock.h>

struct path {
	const char *name;
	struct sockaddr_in local;
	bool backup;
	__u32 id; /* the subflow serving this path, 0 while none */
};

static struct sockaddr_in server;

static void open_path(int fd, struct path *p)
{
	struct sockaddr_in l = p->local;

	l.sin_port = 0;
	/* not waiting: its SUBFLOW_ESTABLISHED or _CLOSED will tell */
	if (mpsock_subflow_open(fd, (struct sockaddr *)&l,
				(struct sockaddr *)&server, sizeof(l),
				p->backup ? MPSOCK_OPEN_BACKUP : 0,
				&p->id) < 0) {
		fprintf(stderr, "keep-two: open %s: %s (%s)\n", p->name,
			strerror(errno), mpsock_errmsg());
		p->id = 0;
		return;
	}
	printf("opening the %s subflow (id %u)\n", p->name, p->id);
}

static struct path *path_of(struct path *paths, const struct mpsock_event *e)
{
	const struct sockaddr_in *l = (const struct sockaddr_in *)&e->local;
	int i;

	for (i = 0; i < 2; i++)
		if ((e->subflow_id && paths[i].id == e->subflow_id) ||
		    (l->sin_family == AF_INET &&
		     l->sin_addr.s_addr == paths[i].local.sin_addr.s_addr))
			return &paths[i];
	return NULL;
}

int main(int argc, char **argv)
{
	struct path paths[2] = {
		{.name = "main"},
		{.name = "backup", .backup = true},
	};
	struct mpsock_events *ev;
	struct mpsock_event e;
	struct pollfd pfd;
	time_t end;
	char buf[8];
	int fd, i;

	if (argc != 6) {
		fprintf(stderr, "usage: keep-two SERVER PORT MAIN_LOCAL "
				"BACKUP_LOCAL SECONDS\n");
		return 2;
	}
	server.sin_family = AF_INET;
	server.sin_port = htons(atoi(argv[2]));
	inet_pton(AF_INET, argv[1], &server.sin_addr);
	for (i = 0; i < 2; i++) {
		paths[i].local.sin_family = AF_INET;
		inet_pton(AF_INET, argv[3 + i], &paths[i].local.sin_addr);
	}
	fd = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
	if (fd < 0 ||
	    bind(fd, (struct sockaddr *)&paths[0].local,
		 sizeof(paths[0].local)) < 0 ||
	    connect(fd, (struct sockaddr *)&server, sizeof(server)) < 0) {
		perror("keep-two: connect");
		return 1;
	}
	ev = mpsock_events_open(fd);
	if (!ev) {
		perror("keep-two: mpsock_events_open");
		return 1;
	}
	/* one round trip: the connection is then fully established */
	if (write(fd, "hi", 2) != 2 || read(fd, buf, sizeof(buf)) <= 0)
		return 1;
	paths[0].id = 1;
	open_path(fd, &paths[1]);
	fflush(stdout);

	pfd.fd = mpsock_events_fd(ev);
	pfd.events = POLLIN;
	end = time(NULL) + atoi(argv[5]);
	while (time(NULL) < end) {
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		while (mpsock_events_read(ev, &e) == 0) {
			struct path *p = path_of(paths, &e);

			switch (e.type) {
			case MPSOCK_EVENT_SUBFLOW_ESTABLISHED:
				if (p)
					printf("%s subflow %u established\n",
					       p->name, e.subflow_id);
				break;
			case MPSOCK_EVENT_SUBFLOW_CLOSED:
				if (!p || (p->id && e.subflow_id &&
					   p->id != e.subflow_id))
					break;
				printf("%s subflow %u closed (%s): reopening\n",
				       p->name, e.subflow_id,
				       e.error ? strerror(e.error)
					       : "no error");
				/* back off a little: no join storm on a dead
				 * path */
				usleep(100000);
				open_path(fd, p);
				break;
			case MPSOCK_EVENT_NO_SUBFLOW:
				printf("no subflow left\n");
				break;
			case MPSOCK_EVENT_LOST:
				printf("%u events lost\n", e.lost);
				break;
			case MPSOCK_EVENT_CLOSED:
				printf("connection closed\n");
				return 0;
			}
		}
		fflush(stdout);
	}
	mpsock_events_close(ev);
	close(fd);
	return 0;
}
