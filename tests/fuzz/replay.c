// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A fuzz target without libFuzzer: runs each file named, or each file of
 * each directory named, through LLVMFuzzerTestOneInput once, with TAP
 * output, so that the unit suite replays the corpora (seeds and the inputs
 * of fixed crashes) with gcc's build.  No input at all is a failure: a
 * corpus that went missing must not pass.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int n;

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long len;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -EIO;
	}
	/* an exact allocation: ASan (when built with it) sees overreads */
	buf = malloc(len ? len : 1);
	if (!buf || fread(buf, 1, len, f) != (size_t)len) {
		free(buf);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	printf("ok %d - %s\n", ++n, path);
	return 0;
}

static int run_dir(const char *dir)
{
	struct dirent **ents;
	char path[4096];
	int i, k, err = 0;

	k = scandir(dir, &ents, NULL, alphasort);
	if (k < 0)
		return -errno;
	for (i = 0; i < k; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (!err && stat(path, &st) == 0 && S_ISREG(st.st_mode))
			err = run_file(path);
		free(ents[i]);
	}
	free(ents);
	return err;
}

int main(int argc, char **argv)
{
	int i, err;

	for (i = 1; i < argc; i++) {
		struct stat st;

		err = stat(argv[i], &st)    ? -errno
		      : S_ISDIR(st.st_mode) ? run_dir(argv[i])
					    : run_file(argv[i]);
		if (err) {
			printf("Bail out! %s: %s\n", argv[i], strerror(-err));
			return 1;
		}
	}
	if (!n) {
		printf("Bail out! no input\n");
		return 1;
	}
	printf("1..%d\n", n);
	return 0;
}
