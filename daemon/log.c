// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mpsockd's log lines: on standard error, prefixed with their priority
 * ("<3>" to "<6>", the kernel's and sd-daemon's convention) only when
 * systemd connected standard error to the journal, which strips the prefix
 * and files the line at that priority; a terminal or a file gets the plain
 * text.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "log.h"

/*
 * JOURNAL_STREAM is "DEVICE:INODE" of the stream systemd gave us; a child
 * that inherited the variable but not the stream (stderr redirected) must
 * not prefix, so the pair is compared with what stderr is now.
 */
static bool stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!v || sscanf(v, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void mpsd_log(int prio, const char *fmt, ...)
{
	static int journal = -1;
	char msg[2048], out[2560], *line, *nl;
	size_t n = 0;
	va_list ap;

	if (journal < 0)
		journal = stderr_is_journal();
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* one write for the whole message: lines of two writers never mix */
	for (line = msg; line && n < sizeof(out); line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		if (journal)
			n += snprintf(out + n, sizeof(out) - n, "<%d>",
				      LOG_PRI(prio));
		if (n < sizeof(out))
			n += snprintf(out + n, sizeof(out) - n, "%s%s\n",
				      line == msg ? "mpsockd: " : "", line);
		if (nl && !*nl)
			break;
	}
	if (n >= sizeof(out))
		n = sizeof(out) - 1;
	fwrite(out, 1, n, stderr);
}
