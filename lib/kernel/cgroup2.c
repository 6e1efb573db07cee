// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Finds the root of the cgroup v2 hierarchy, to which the per-subflow
 * option program is attached (every socket's cgroup is below it), wherever
 * this process was started: the mount the host shows (/sys/fs/cgroup, or
 * /sys/fs/cgroup/unified on a hybrid host), or, where none is visible
 * ("ip netns exec" remounts /sys and hides it) or only a subtree is, a
 * mount of our own that nobody else sees (fsopen/fsmount: detached, never
 * in any mount table).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/mount.h>

#include "kernel/kernel.h"

/* mountinfo escapes blanks and backslashes in paths as \ooo */
static void unescape(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] &&
		    s[3]) {
			*d++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
				      (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

/*
 * The first cgroup2 mount in /proc/self/mountinfo; *whole tells whether it
 * shows the hierarchy's root ("/") or a subtree (a container's bind).
 */
static int find_mount(char *path, size_t len, bool *whole)
{
	char line[4096], root[1024], mnt[1024], *sep;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		sep = strstr(line, " - ");
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		if (sscanf(line, "%*s %*s %*s %1023s %1023s", root, mnt) != 2)
			continue;
		unescape(root);
		unescape(mnt);
		/* the whole hierarchy wins over a subtree found first */
		if (err && !strcmp(root, "/")) {
			snprintf(path, len, "%s", mnt);
			*whole = true;
			err = 0;
			break;
		}
		if (err == -ENOENT) {
			snprintf(path, len, "%s", mnt);
			*whole = false;
			err = -EXDEV; /* a subtree only, so far */
		}
	}
	fclose(f);
	return err;
}

/* A detached mount of the hierarchy's root: needs CAP_SYS_ADMIN. */
static int private_mount(void)
{
	int fs, mnt, fd, err;

	fs = syscall(__NR_fsopen, "cgroup2", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	if (syscall(__NR_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) <
	    0) {
		err = -errno;
		close(fs);
		return err;
	}
	mnt = syscall(__NR_fsmount, fs, FSMOUNT_CLOEXEC, 0);
	err = mnt < 0 ? -errno : 0;
	close(fs);
	if (err)
		return err;
	/* an O_PATH descriptor is refused by bpf(): open the root itself */
	fd = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	err = fd < 0 ? -errno : fd;
	close(mnt);
	return err;
}

int mps_cgroup2_open(char *where, size_t len)
{
	char path[1024];
	bool whole = false;
	int fd, err;

	err = find_mount(path, sizeof(path), &whole);
	if (!err) {
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			snprintf(where, len, "%s", path);
			return fd;
		}
	}
	fd = private_mount();
	if (fd >= 0) {
		snprintf(where, len, "a private mount (%s)",
			 err == -ENOENT	 ? "none visible"
			 : err == -EXDEV ? "only a subtree visible"
					 : "the visible one unusable");
		return fd;
	}
	if (err == -EXDEV) {
		/* better a subtree than nothing: the sockets below it */
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			snprintf(where, len, "%s (a subtree only)", path);
			return fd;
		}
	}
	snprintf(where, len,
		 "none: no cgroup v2 mount is visible and mounting one "
		 "failed (%s)",
		 strerror(-fd));
	return -ENOENT;
}
