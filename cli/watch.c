// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The refresh loop of mpsock show --watch: a frame every interval on a
 * steady schedule, redrawn in place on a terminal with two ANSI sequences
 * (no curses), or printed one after another for a file or a pipe; signals
 * arrive through a signalfd, so that the terminal is restored on the way
 * out whichever ends the loop.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include "cli.h"

/* xterm's alternate screen and cursor visibility, as watch(1) leaves them */
#define TTY_ENTER "\033[?1049h\033[?25l"
#define TTY_LEAVE "\033[?25h\033[?1049l"
/* cursor home, erase to the end of the screen */
#define TTY_REDRAW "\033[H\033[J"

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void tty_write(const char *seq)
{
	fputs(seq, stdout);
	fflush(stdout);
}

/*
 * Until @deadline (monotonic seconds) or a signal: 0 at the deadline, else
 * the signal's number.  A pending signal is seen even past the deadline.
 */
static int wait_until(int sfd, double deadline)
{
	struct pollfd p = {.fd = sfd, .events = POLLIN};
	struct signalfd_siginfo si;
	struct timespec ts;
	double left;
	int n;

	for (;;) {
		left = deadline - mono_now();
		if (left < 0)
			left = 0;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - ts.tv_sec) * 1e9);
		n = ppoll(&p, 1, &ts, NULL);
		if (n < 0 && errno != EINTR)
			return SIGTERM; /* cannot wait: stop as if asked */
		if (n > 0 && read(sfd, &si, sizeof(si)) == sizeof(si))
			return si.ssi_signo;
		if (n == 0 && mono_now() >= deadline)
			return 0;
	}
}

int watch_run(double interval, int (*frame)(void *data), void *data)
{
	bool tty = !cli.json && isatty(STDOUT_FILENO);
	sigset_t set, old;
	double next;
	int sfd, sig, err = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	/* Ctrl-Z: give the shell its normal screen back while stopped */
	if (tty)
		sigaddset(&set, SIGTSTP);
	sigprocmask(SIG_BLOCK, &set, &old);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0) {
		err = -errno;
		goto out_mask;
	}
	if (tty) {
		/* each frame in one write(2): no flicker */
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
		tty_write(TTY_ENTER);
	}
	next = mono_now();
	for (;;) {
		if (tty)
			fputs(TTY_REDRAW, stdout);
		err = frame(data);
		fflush(stdout);
		if (!err && ferror(stdout))
			err = -EIO;
		if (err)
			break;
		/* a steady schedule; a late frame does not make the next early
		 */
		next += interval;
		if (next < mono_now())
			next = mono_now() + interval;
		sig = wait_until(sfd, next);
		if (sig == SIGTSTP) {
			tty_write(TTY_LEAVE);
			kill(getpid(), SIGSTOP);
			tty_write(TTY_ENTER);
			next = mono_now();
		} else if (sig) {
			break;
		}
	}
	if (tty)
		tty_write(TTY_LEAVE);
	close(sfd);
out_mask:
	sigprocmask(SIG_SETMASK, &old, NULL);
	return err;
}
