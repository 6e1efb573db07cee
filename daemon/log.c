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
#include "util/util.h"

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

static void log_write(int prio, const char *fmt, va_list ap)
{
	static int journal = -1;
	char msg[2048], out[2560], *line, *nl;
	size_t n = 0;

	if (journal < 0)
		journal = stderr_is_journal();
	vsnprintf(msg, sizeof(msg), fmt, ap);
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

void mpsd_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_write(prio, fmt, ap);
	va_end(ap);
}

static void log_plain(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void log_plain(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_write(prio, fmt, ap);
	va_end(ap);
}

/*
 * Token buckets: one per message site (its format string), and one for
 * them all, so that neither one kind of failure repeated by a client nor
 * many kinds at once can fill the disk, and one per client that asks
 * for it, so that one client cannot take every line (issue 15: a fuzzer made
 * 42,000 lines a second).  A site keeps LOG_SITE_BURST lines in reserve and
 * earns LOG_SITE_RATE a second; all sites together LOG_ALL_BURST and
 * LOG_ALL_RATE.  What is held back is counted and said in one line.
 */
#define LOG_SITES 64
#define LOG_SITE_BURST 20
#define LOG_SITE_RATE 5
#define LOG_ALL_BURST 100
#define LOG_ALL_RATE 50
/* one client: a few lines, then one a second, so it cannot take the rest */
#define LOG_CLIENT_BURST 5
#define LOG_CLIENT_RATE 1

static struct log_site {
	const char *fmt;
	int prio;
	struct mpsd_log_bucket b;
	unsigned long held; /* suppressed since the last line said so */
} sites[LOG_SITES];
static struct mpsd_log_bucket all_sites;

static bool bucket_take(struct mpsd_log_bucket *b, long now, long burst,
			long rate)
{
	if (!b->last_ms)
		b->tokens_ms = burst * 1000;
	else
		b->tokens_ms += (now - b->last_ms) * rate;
	if (b->tokens_ms > burst * 1000)
		b->tokens_ms = burst * 1000;
	b->last_ms = now;
	if (b->tokens_ms < 1000)
		return false;
	b->tokens_ms -= 1000;
	return true;
}

static struct log_site *site_of(const char *fmt, int prio)
{
	unsigned int i, h = (unsigned int)((unsigned long)fmt >> 3) % LOG_SITES;

	for (i = 0; i < LOG_SITES; i++) {
		struct log_site *s = &sites[(h + i) % LOG_SITES];

		if (s->fmt == fmt)
			return s;
		if (!s->fmt) {
			s->fmt = fmt;
			s->prio = prio;
			return s;
		}
	}
	return &sites[h]; /* full: share the bucket, still bounded */
}

static void site_summary(struct log_site *s)
{
	if (!s->held)
		return;
	log_plain(s->prio, "%lu similar messages suppressed (\"%.40s...\")",
		  s->held, s->fmt);
	s->held = 0;
}

static void log_limited(struct mpsd_log_bucket *who, int prio, const char *fmt,
			va_list ap)
{
	long now = mps_now_ms();
	struct log_site *s = site_of(fmt, prio);

	if (!now)
		now = 1;
	if ((who &&
	     !bucket_take(who, now, LOG_CLIENT_BURST, LOG_CLIENT_RATE)) ||
	    !bucket_take(&s->b, now, LOG_SITE_BURST, LOG_SITE_RATE) ||
	    !bucket_take(&all_sites, now, LOG_ALL_BURST, LOG_ALL_RATE)) {
		s->held++;
		return;
	}
	site_summary(s);
	log_write(prio, fmt, ap);
}

void mpsd_log_limited(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_limited(NULL, prio, fmt, ap);
	va_end(ap);
}

void mpsd_log_from(struct mpsd_log_bucket *who, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_limited(who, prio, fmt, ap);
	va_end(ap);
}

/* Say what was held back once the burst is over (a second of calm). */
void mpsd_log_flush(void)
{
	long now = mps_now_ms();
	unsigned int i;

	for (i = 0; i < LOG_SITES; i++)
		if (sites[i].held && now - sites[i].b.last_ms >= 1000)
			site_summary(&sites[i]);
}

long mpsd_log_next_ms(void)
{
	long now = mps_now_ms(), soonest = -1, left;
	unsigned int i;

	for (i = 0; i < LOG_SITES; i++) {
		if (!sites[i].held)
			continue;
		left = sites[i].b.last_ms + 1000 - now;
		if (left < 0)
			left = 0;
		if (soonest < 0 || left < soonest)
			soonest = left;
	}
	return soonest;
}
