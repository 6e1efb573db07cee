/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mpsock(8)'s shared declarations: options, the printer, the commands. */
#ifndef MPSOCK_CLI_H
#define MPSOCK_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>
#include <linux/types.h>

/* Exit statuses, documented in mpsock(8). */
#define EXIT_FAIL 1
#define EXIT_USAGE 2

struct cli_opts {
	bool json, pretty, timestamp, oneline, no_header;
};

extern struct cli_opts cli;

/* print.c: each field once, with its JSON key and its text format */
void out_begin_array(const char *key);
void out_end_array(void);
void out_begin_object(const char *key);
void out_end_object(void);
void out_str(const char *key, const char *textfmt, const char *val);
void out_uint(const char *key, const char *textfmt, unsigned long long v);
void out_double(const char *key, const char *textfmt, double v);
void out_bool(const char *key, const char *text, bool v);
void out_hex(const char *key, const char *textfmt, unsigned long long v);
/* ADDR as text; returns its port, or -1 for an unknown family */
int addr_text(const struct sockaddr_storage *ss, char *buf, size_t len);
void out_addr(const char *key4, const char *key6, const char *pkey,
	      const struct sockaddr_storage *ss);
void out_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void out_newline(void); /* text: a line break; JSON: nothing */
void out_flush(void);

/* owner.c: processes holding a socket, and a copy of their descriptor */
struct owner {
	__u32 inode;
	int pid;
	int fd;
	char comm[32];
};

struct owner_table;
struct owner_table *owners_scan(void);
unsigned int owners_of(const struct owner_table *t, __u32 inode,
		       const struct owner **first);
int owner_take_fd(const struct owner *o);
void owners_free(struct owner_table *t);

/*
 * watch.c: @frame every @interval seconds until SIGINT, SIGTERM or SIGHUP;
 * on a terminal (text only) each frame replaces the last, on the
 * alternate screen, restored on the way out.  Returns 0 when a signal
 * ended it, or @frame's -errno, or -EIO when standard output failed.
 */
int watch_run(double interval, int (*frame)(void *data), void *data);

/* commands */
int cmd_show(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_open(int argc, char **argv);
int cmd_close(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_run(int argc, char **argv);

/* run's grammar, in mpsock help and in mpsock run --help */
#define RUN_SYNOPSIS                                                           \
	"run [ --mode MODE ] [ --no-mptcp ] [ -- ]\n"                          \
	"                              CMD [ ARGS... ]\n"
#define MODE_SYNOPSIS                                                          \
	"MODE := { default | manual | aggregate | handover | interactive }\n"

/* mpsock.c: argument helpers */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int fail(const char *cmd, int err, const char *msg);
bool matches(const char *arg, const char *keyword);
int parse_token(const char *s, __u32 *token);
int parse_u32(const char *s, __u32 max, __u32 *out);
int parse_seconds(const char *s, double min, double max, double *out);
int parse_addr(const char *s, struct sockaddr_storage *ss);
const char *tcp_state_name(unsigned int state);

#endif
