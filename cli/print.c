// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One printer, two formats: every field is printed once, with its JSON key
 * and its text format, so the two outputs cannot drift apart.  A NULL text
 * format makes a field JSON-only; out_text() is text-only.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

#define MAX_DEPTH 8

static bool need_comma[MAX_DEPTH];
static unsigned int depth;

static void json_indent(void)
{
	unsigned int i;

	if (!cli.pretty)
		return;
	putchar('\n');
	for (i = 0; i < depth; i++)
		fputs("  ", stdout);
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* The separator and key of the next member (no key inside an array). */
static void json_member(const char *key)
{
	if (depth && need_comma[depth])
		putchar(',');
	if (depth)
		need_comma[depth] = true;
	json_indent();
	if (key) {
		json_string(key);
		fputs(cli.pretty ? ": " : ":", stdout);
	}
}

static void json_open(const char *key, char c)
{
	json_member(key);
	putchar(c);
	if (depth + 1 < MAX_DEPTH)
		depth++;
	need_comma[depth] = false;
}

static void json_close(char c)
{
	bool had_members = need_comma[depth];

	if (depth)
		depth--;
	if (had_members)
		json_indent();
	putchar(c);
	if (!depth)
		putchar('\n');
}

void out_begin_array(const char *key)
{
	if (cli.json)
		json_open(key, '[');
}

void out_end_array(void)
{
	if (cli.json)
		json_close(']');
}

void out_begin_object(const char *key)
{
	if (cli.json)
		json_open(key, '{');
}

void out_end_object(void)
{
	if (cli.json)
		json_close('}');
}

void out_str(const char *key, const char *textfmt, const char *val)
{
	if (cli.json) {
		json_member(key);
		json_string(val);
	} else if (textfmt) {
		printf(textfmt, val);
	}
}

void out_uint(const char *key, const char *textfmt, unsigned long long v)
{
	if (cli.json) {
		json_member(key);
		printf("%llu", v);
	} else if (textfmt) {
		printf(textfmt, v);
	}
}

void out_double(const char *key, const char *textfmt, double v)
{
	if (cli.json) {
		json_member(key);
		printf("%.3f", v);
	} else if (textfmt) {
		printf(textfmt, v);
	}
}

/* Text shows only a set flag, by its name; JSON always has the boolean. */
void out_bool(const char *key, const char *text, bool v)
{
	if (cli.json) {
		json_member(key);
		fputs(v ? "true" : "false", stdout);
	} else if (text && v) {
		fputs(text, stdout);
	}
}

void out_hex(const char *key, const char *textfmt, unsigned long long v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%llx", v);
	out_str(key, textfmt, buf);
}

/*
 * An address and its port: JSON keys as ip mptcp monitor names them
 * (saddr4/saddr6, sport), text as ss prints them (ADDR:PORT, [ADDR6]:PORT).
 */
int addr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s->sin_addr, buf, len);
		return ntohs(s->sin_port);
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, buf, len);
		return ntohs(s->sin6_port);
	}
	return -1;
}

void out_addr(const char *key4, const char *key6, const char *pkey,
	      const struct sockaddr_storage *ss)
{
	char buf[INET6_ADDRSTRLEN];
	int port = addr_text(ss, buf, sizeof(buf));

	if (port < 0)
		return;
	if (cli.json) {
		out_str(ss->ss_family == AF_INET ? key4 : key6, NULL, buf);
		if (pkey)
			out_uint(pkey, NULL, port);
	} else if (ss->ss_family == AF_INET6) {
		printf(pkey ? " [%s]:%d" : " %s", buf, port);
	} else {
		printf(pkey ? " %s:%d" : " %s", buf, port);
	}
}

void out_text(const char *fmt, ...)
{
	va_list ap;

	if (cli.json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

void out_newline(void)
{
	if (!cli.json)
		putchar('\n');
}

void out_flush(void)
{
	fflush(stdout);
}
