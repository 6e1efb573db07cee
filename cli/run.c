// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mpsock run: exec a program under the preload shim, its TCP sockets made
 * MPTCP ones and its connections given a service mode.  Nothing is forked,
 * so the pid, the exit status and the signals are the program's own.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>

#include "cli.h"
#include "op/op.h"
#include "mpsock-build.h"

/* What shells return for a program that cannot be run. */
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127

/* ld.so splits LD_PRELOAD at both. */
#define PRELOAD_SEPS " :"

static const char run_usage_text[] =
	"Usage: mpsock [ OPTIONS ] " RUN_SYNOPSIS MODE_SYNOPSIS;

/*
 * The shim: $MPSOCK_PRELOAD_PATH (meson devenv and the tests name the
 * build tree's), else where meson install put it.  The path is made
 * absolute, as ld.so would take a relative one from whatever directory a
 * child of the program starts in.
 */
static int shim_find(char *path, struct stat *st, char *msg, size_t len)
{
	const char *p = getenv("MPSOCK_PRELOAD_PATH");
	bool from_env = p && *p;
	int err;

	if (!from_env)
		p = MPSOCK_PRELOAD_LIB;
	snprintf(msg, len, "preload shim %s (%s)", p,
		 from_env ? "MPSOCK_PRELOAD_PATH"
			  : "set MPSOCK_PRELOAD_PATH to use another");
	if (!realpath(p, path) || stat(path, st) || access(path, R_OK))
		return -errno;
	err = -EINVAL;
	if (!S_ISREG(st->st_mode)) {
		snprintf(msg, len, "preload shim %s is not a file", path);
		goto out;
	}
	if (strpbrk(path, PRELOAD_SEPS)) {
		snprintf(msg, len,
			 "preload shim %s: ld.so cannot preload a path with a "
			 "space or a colon",
			 path);
		goto out;
	}
	err = 0;
out:
	return err;
}

/* One LD_PRELOAD entry (N bytes at ENTRY) that is the shim's file. */
static bool is_shim(const char *entry, size_t n, const struct stat *shim)
{
	char path[PATH_MAX];
	struct stat st;

	if (n >= sizeof(path))
		return false;
	memcpy(path, entry, n);
	path[n] = '\0';
	return !stat(path, &st) && st.st_dev == shim->st_dev &&
	       st.st_ino == shim->st_ino;
}

/*
 * The shim goes after the entries already there, which keep their order:
 * a sanitizer's runtime must stay first, and another interposer keeps
 * its precedence.  Another path to the same file counts as the shim.
 */
static int preload_add(const char *shim, const struct stat *st)
{
	const char *old = getenv("LD_PRELOAD"), *p;
	size_t n, end;
	char *val;
	int err;

	if (!old)
		old = "";
	for (p = old; *p; p += n) {
		p += strspn(p, PRELOAD_SEPS);
		n = strcspn(p, PRELOAD_SEPS);
		if (n && is_shim(p, n, st))
			return 0;
	}
	end = strlen(old);
	while (end && strchr(PRELOAD_SEPS, old[end - 1]))
		end--;
	if (asprintf(&val, "%.*s%s%s", (int)end, old, end ? ":" : "", shim) < 0)
		return -ENOMEM;
	err = setenv("LD_PRELOAD", val, 1) ? -errno : 0;
	free(val);
	return err;
}

/* The file execvp() will run for CMD, searched for as it searches. */
static bool cmd_file(const char *cmd, char *file, size_t len)
{
	const char *dirs = getenv("PATH"), *d;
	struct stat st;
	size_t n;

	if (strchr(cmd, '/')) {
		snprintf(file, len, "%s", cmd);
		return true;
	}
	/* glibc's execvp() default */
	if (!dirs)
		dirs = "/bin:/usr/bin";
	for (d = dirs;; d += n + 1) {
		n = strcspn(d, ":");
		/* an empty entry is the current directory */
		if (n)
			snprintf(file, len, "%.*s/%s", (int)n, d, cmd);
		else
			snprintf(file, len, "./%s", cmd);
		if (!access(file, X_OK) && !stat(file, &st) &&
		    S_ISREG(st.st_mode))
			return true;
		if (!d[n])
			return false;
	}
}

/*
 * ld.so ignores LD_PRELOAD in a program whose exec raises its privileges
 * (AT_SECURE).  A warning, not a refusal: the program was asked for, but
 * it must not run without the shim unnoticed.
 */
static const char *drops_preload(const char *file)
{
	struct statvfs vfs;
	struct stat st;

	if (stat(file, &st) || !S_ISREG(st.st_mode))
		return NULL;
	/* the kernel ignores the bits there */
	if (!statvfs(file, &vfs) && (vfs.f_flag & ST_NOSUID))
		return NULL;
	if ((st.st_mode & S_ISUID) && st.st_uid != getuid())
		return "setuid";
	if ((st.st_mode & S_ISGID) && st.st_gid != getgid())
		return "setgid";
	/* raised capabilities count only for a user other than root */
	if (getuid() && getxattr(file, "security.capability", NULL, 0) > 0)
		return "given capabilities (setcap)";
	return NULL;
}

static int run_exec(char **argv, const char *mode, bool mptcp)
{
	char shim[PATH_MAX], file[PATH_MAX], msg[PATH_MAX + 128];
	const char *why;
	struct stat st;
	int err;

	err = shim_find(shim, &st, msg, sizeof(msg));
	if (err)
		return fail("run", err, msg);
	err = preload_add(shim, &st);
	/* an inherited MPSOCK_PRELOAD_MPTCP=1 would undo --no-mptcp */
	if (!err && (mptcp ? setenv("MPSOCK_PRELOAD_MPTCP", "1", 1)
			   : unsetenv("MPSOCK_PRELOAD_MPTCP")))
		err = -errno;
	if (!err && mode && setenv("MPSOCK_MODE", mode, 1))
		err = -errno;
	if (err)
		return fail("run", err, "environment");

	if (cmd_file(argv[0], file, sizeof(file)) &&
	    (why = drops_preload(file)))
		fprintf(stderr,
			"mpsock: run: warning: %s is %s: the dynamic linker "
			"ignores LD_PRELOAD in it, it runs without the shim\n",
			file, why);
	execvp(argv[0], argv);
	err = errno;
	if (err == ENOENT && !strchr(argv[0], '/')) {
		fprintf(stderr, "mpsock: run: %s: command not found\n",
			argv[0]);
		return EXIT_NOT_FOUND;
	}
	fprintf(stderr, "mpsock: run: %s: %s\n", argv[0], strerror(err));
	return err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
}

int cmd_run(int argc, char **argv)
{
	const char *mode = NULL;
	bool mptcp = true;
	int i;

	/* options end at CMD: the words after it are the program's */
	for (i = 0; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(run_usage_text, stdout);
			return 0;
		}
		if (!strcmp(a, "--no-mptcp")) {
			mptcp = false;
			continue;
		}
		if (!strncmp(a, "--mode=", 7)) {
			mode = a + 7;
		} else if (!strcmp(a, "--mode")) {
			if (++i == argc)
				return usage_error("run: option \"--mode\" "
						   "needs a MODE");
			mode = argv[i];
		} else {
			return usage_error("run: unknown option \"%s\"", a);
		}
		if (mps_mode_from_name(mode) < 0)
			return usage_error("run: unknown mode \"%s\"", mode);
	}
	if (i == argc)
		return usage_error("run: no command to run");
	return run_exec(argv + i, mode, mptcp);
}
