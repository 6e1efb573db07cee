// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Which processes hold which socket: every /proc/PID/fd entry the caller
 * may read, indexed by socket inode (sock_diag reports the inode of each
 * MPTCP socket).  A descriptor found this way can be copied with
 * pidfd_getfd(), which the kernel allows where ptrace would be allowed.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "cli.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

struct owner_table {
	struct owner *v;
	size_t n, cap;
};

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static void read_comm(int pid, char *out, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(out, len, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, out, len - 1);
	close(fd);
	if (n <= 0) {
		snprintf(out, len, "?");
		return;
	}
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
}

static int table_add(struct owner_table *t, __u32 inode, int pid, int fd,
		     const char *comm)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct owner *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n].inode = inode;
	t->v[t->n].pid = pid;
	t->v[t->n].fd = fd;
	snprintf(t->v[t->n].comm, sizeof(t->v[t->n].comm), "%s", comm);
	t->n++;
	return 0;
}

/* The sockets of one process; a process we may not look into adds none. */
static int scan_process(struct owner_table *t, int pid)
{
	char path[64], link[64], comm[32] = "";
	struct dirent *e;
	unsigned long inode;
	DIR *d;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while (!err && (e = readdir(d))) {
		ssize_t n;

		if (!all_digits(e->d_name))
			continue;
		n = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "socket:[%lu]", &inode) != 1)
			continue;
		if (!comm[0])
			read_comm(pid, comm, sizeof(comm));
		err = table_add(t, inode, pid, atoi(e->d_name), comm);
	}
	closedir(d);
	return err;
}

static int owner_cmp(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;

	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->fd - y->fd;
}

struct owner_table *owners_scan(void)
{
	struct owner_table *t = calloc(1, sizeof(*t));
	struct dirent *e;
	DIR *d;

	if (!t)
		return NULL;
	d = opendir("/proc");
	if (!d)
		return t; /* no /proc: no owners, everything else still works */
	while ((e = readdir(d))) {
		if (all_digits(e->d_name) &&
		    scan_process(t, atoi(e->d_name)) < 0)
			break;
	}
	closedir(d);
	qsort(t->v, t->n, sizeof(*t->v), owner_cmp);
	return t;
}

unsigned int owners_of(const struct owner_table *t, __u32 inode,
		       const struct owner **first)
{
	size_t lo = 0, hi = t ? t->n : 0, i;
	unsigned int n = 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (t->v[mid].inode < inode)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = t && lo < t->n ? &t->v[lo] : NULL;
	for (i = lo; t && i < t->n && t->v[i].inode == inode; i++)
		n++;
	return n;
}

/*
 * A copy of an owner's descriptor, checked to still be the same socket:
 * the process may have closed it and reused the number since the scan.
 */
int owner_take_fd(const struct owner *o)
{
	struct stat st;
	int pidfd, fd, err;

	pidfd = syscall(SYS_pidfd_open, o->pid, 0);
	if (pidfd < 0)
		return -errno;
	fd = syscall(SYS_pidfd_getfd, pidfd, o->fd, 0);
	err = fd < 0 ? -errno : 0;
	close(pidfd);
	if (err)
		return err;
	if (fstat(fd, &st) < 0 || st.st_ino != o->inode) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

void owners_free(struct owner_table *t)
{
	if (!t)
		return;
	free(t->v);
	free(t);
}
