// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Claims and modes that outlive mpsockd: a table by token and one by
 * socket cookie, written to a file at most every FLUSH_MS after a change
 * (never on a request's path: one user's registrations must not cost
 * everybody a file write each; rename() makes each write atomic) and read
 * back at start.  Only connections an application
 * spoke about are here, so the file stays small.  The file names the
 * network namespace that wrote it by its cookie, which the kernel never
 * reuses (inode numbers of namespaces it does): a file of another
 * namespace, dead or alive, is never applied.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <libgen.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "op/op.h"
#include "log.h"
#include "policy_state.h"

#define STATE_BUCKETS 1024
#define MAX_COOKIES 4096
/* a socket registered before connect() that never connected is forgotten */
#define COOKIE_TTL_S 600
/* forgetting closed connections is written lazily, at most this often */
#define FLUSH_MS 500
#define MAX_LISTEN_PORTS 1024

struct tok_entry {
	struct tok_entry *next;
	__u32 token;
	int mode;
};

struct cookie_entry {
	__u64 cookie;
	int mode;
	time_t expires;
	uid_t uid; /* who registered it: each user has a share */
};

static struct tok_entry *tokens[STATE_BUCKETS];
static struct cookie_entry cookies[MAX_COOKIES];
static unsigned int ncookies;
static char *state_path;
static __u64 netns_cookie;
static bool dirty;
static struct timespec last_save;
static __be16 listen_ports[MAX_LISTEN_PORTS];
static unsigned int nlisten;
/* the uid of the request in hand (one thread), and each uid's share */
static uid_t registrant;
static unsigned int share = MAX_COOKIES;

static unsigned int tok_bucket(__u32 token)
{
	return (token * 2654435761u) >> 22 & (STATE_BUCKETS - 1);
}

static struct tok_entry **tok_slot(__u32 token)
{
	struct tok_entry **pp = &tokens[tok_bucket(token)];

	while (*pp && (*pp)->token != token)
		pp = &(*pp)->next;
	return pp;
}

static void cookies_expire(void)
{
	time_t now = time(NULL);
	unsigned int i;

	for (i = 0; i < ncookies;)
		if (cookies[i].expires <= now)
			cookies[i] = cookies[--ncookies];
		else
			i++;
}

/*
 * Created 0600 and exclusively, never through a symlink: the claims are
 * nobody else's business, and a file planted under the tmp name must not
 * receive them.  A tmp left by a crash is ours to remove.
 */
static FILE *open_tmp(const char *tmp)
{
	FILE *f;
	int fd;

	if (unlink(tmp) < 0 && errno != ENOENT)
		return NULL;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
	}
	return f;
}

static void save(void)
{
	char tmp[4096];
	struct tok_entry *t;
	unsigned int b, i;
	FILE *f;

	if (!state_path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", state_path);
	f = open_tmp(tmp);
	if (!f)
		return;
	fprintf(f, "# mpsockd state: claims and modes (MPSOCK_MODE_*)\n");
	fprintf(f, "netns %llu\n", (unsigned long long)netns_cookie);
	for (b = 0; b < STATE_BUCKETS; b++)
		for (t = tokens[b]; t; t = t->next)
			fprintf(f, "token %08x %d\n", t->token, t->mode);
	for (i = 0; i < ncookies; i++)
		fprintf(f, "cookie %llu %d %lld %u\n",
			(unsigned long long)cookies[i].cookie, cookies[i].mode,
			(long long)cookies[i].expires,
			(unsigned)cookies[i].uid);
	if (fclose(f) == 0)
		rename(tmp, state_path);
	else
		unlink(tmp);
	dirty = false;
	clock_gettime(CLOCK_MONOTONIC, &last_save);
}

void policy_state_flush(bool now)
{
	struct timespec t;
	long ms;

	if (!dirty)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t);
	ms = (t.tv_sec - last_save.tv_sec) * 1000 +
	     (t.tv_nsec - last_save.tv_nsec) / 1000000;
	if (now || ms >= FLUSH_MS)
		save();
}

long policy_state_next_flush_ms(void)
{
	struct timespec t;
	long ms;

	if (!dirty)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t);
	ms = (t.tv_sec - last_save.tv_sec) * 1000 +
	     (t.tv_nsec - last_save.tv_nsec) / 1000000;
	return ms >= FLUSH_MS ? 0 : FLUSH_MS - ms;
}

static bool state_empty(void)
{
	unsigned int b;

	for (b = 0; b < STATE_BUCKETS; b++)
		if (tokens[b])
			return false;
	return ncookies == 0;
}

/*
 * A clean exit: what a restarted mpsockd must honour is written now; a
 * file with nothing to honour is removed, so that none is left behind by
 * a namespace that goes away.
 */
void policy_state_close(void)
{
	if (!state_path)
		return;
	cookies_expire();
	if (state_empty()) {
		unlink(state_path);
	} else {
		dirty = true;
		policy_state_flush(true);
	}
	free(state_path);
	state_path = NULL;
}

static int tok_set(__u32 token, int mode)
{
	struct tok_entry **pp = tok_slot(token), *t = *pp;

	if (mode == MPSOCK_MODE_DEFAULT) {
		if (t) {
			*pp = t->next;
			free(t);
		}
		return 0;
	}
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return -ENOMEM;
		t->token = token;
		*pp = t;
	}
	t->mode = mode;
	return 0;
}

/*
 * The first line that is not a comment names the writer's namespace; a
 * file without it predates the cookie and may come from any namespace.
 * Returns whether the rest of @f is ours; the writer's cookie, as text,
 * in @who.
 */
static bool written_here(FILE *f, char *who, size_t len)
{
	char line[256], what[16];
	unsigned long long cookie;

	snprintf(who, len, "unknown");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%15s", what) != 1 || what[0] == '#')
			continue;
		if (strcmp(what, "netns") ||
		    sscanf(line, "netns %llu", &cookie) != 1)
			return false;
		snprintf(who, len, "%llu", cookie);
		return cookie == netns_cookie;
	}
	return false;
}

/*
 * The claims are kept only in a directory nobody else can write to: one
 * that another user could write to lets that user swap the file under us.
 */
static bool dir_private(const char *path)
{
	char copy[4096];
	struct stat st;
	const char *dir;

	snprintf(copy, sizeof(copy), "%s", path);
	dir = dirname(copy);
	if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_uid == geteuid() && !(st.st_mode & (S_IWGRP | S_IWOTH)))
		return true;
	mpsd_log(LOG_WARNING,
		 "state directory %s is not a directory of ours that "
		 "only we may write to: claims and modes are not kept across "
		 "restarts",
		 dir);
	return false;
}

void policy_state_open(const char *path)
{
	char line[256], what[16], who[32];
	unsigned long long cookie, token;
	long long expires, now = time(NULL);
	unsigned int uid = 0;
	int mode, err;
	FILE *f;

	free(state_path);
	state_path = NULL;
	err = mps_netns_cookie(-1, &netns_cookie);
	if (err) {
		/* without it a file could be another namespace's: keep none */
		mpsd_log(LOG_WARNING,
			 "no network namespace cookie "
			 "(SO_NETNS_COOKIE: %s): claims and modes are not kept "
			 "across restarts",
			 strerror(-err));
		return;
	}
	if (!path || !path[0])
		return;
	if (!dir_private(path))
		return;
	state_path = strdup(path);
	if (!state_path)
		return;
	mpsd_log(LOG_INFO, "state file %s (network namespace cookie %llu)",
		 state_path, (unsigned long long)netns_cookie);
	f = fopen(state_path, "re");
	if (!f)
		return;
	if (!written_here(f, who, sizeof(who))) {
		/* the next save replaces it with ours */
		mpsd_log(LOG_WARNING,
			 "state %s: written in another network "
			 "namespace (cookie %s), ignored",
			 state_path, who);
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%15s", what) != 1 || what[0] == '#')
			continue;
		if (!strcmp(what, "token") &&
		    sscanf(line, "token %llx %d", &token, &mode) == 2)
			tok_set(token, mode);
		else if (!strcmp(what, "cookie") && ncookies < MAX_COOKIES &&
			 sscanf(line, "cookie %llu %d %lld %u", &cookie, &mode,
				&expires, &uid) >= 3)
			cookies[ncookies++] = (struct cookie_entry){
				.cookie = cookie,
				.mode = mode,
				/* whatever a file says: never beyond the TTL */
				.expires = expires < now + COOKIE_TTL_S
						   ? expires
						   : now + COOKIE_TTL_S,
				.uid = uid};
		uid = 0;
	}
	fclose(f);
	cookies_expire();
}

int policy_state_mode(__u32 token)
{
	struct tok_entry *t = *tok_slot(token);

	return t ? t->mode : MPSOCK_MODE_DEFAULT;
}

int policy_state_set(__u32 token, int mode)
{
	int err;

	if (policy_state_mode(token) == mode)
		return 0;
	err = tok_set(token, mode);
	if (!err)
		dirty = true;
	return err;
}

/*
 * A closed connection: written lazily, since a claim that outlives its
 * connection by a moment harms nobody, and rewriting the file at every
 * close of a claimed connection would.
 */
void policy_state_forget(__u32 token)
{
	if (*tok_slot(token)) {
		tok_set(token, MPSOCK_MODE_DEFAULT);
		dirty = true;
	}
}

void policy_state_prune(bool (*known)(__u32 token))
{
	struct tok_entry **pp, *t;
	unsigned int b;

	for (b = 0; b < STATE_BUCKETS; b++) {
		for (pp = &tokens[b]; (t = *pp);) {
			if (known(t->token)) {
				pp = &t->next;
				continue;
			}
			*pp = t->next;
			free(t);
			dirty = true;
		}
	}
	policy_state_flush(true);
}

bool policy_state_has_cookies(void)
{
	return ncookies > 0;
}

void policy_state_set_registrant(uid_t uid)
{
	registrant = uid;
}

void policy_state_set_share(unsigned int per_uid)
{
	share = per_uid ? per_uid : MAX_COOKIES;
}

/* The registration of @uid (any uid: -1) closest to expiry, or -1. */
static int oldest_of(uid_t uid)
{
	int i, found = -1;

	for (i = 0; i < (int)ncookies; i++)
		if ((uid == (uid_t)-1 || cookies[i].uid == uid) &&
		    (found < 0 || cookies[i].expires < cookies[found].expires))
			found = i;
	return found;
}

static unsigned int count_of(uid_t uid)
{
	unsigned int i, n = 0;

	for (i = 0; i < ncookies; i++)
		n += cookies[i].uid == uid;
	return n;
}

/*
 * Which slot a new registration of @uid takes.  A user at its share
 * replaces its own oldest; in a full table, the user holding the most
 * gives one up.  Either way no user can push out another that stays
 * within its share (issue 15: 4,096 registrations of one user turned
 * another's MANUAL socket into a fullmesh one).
 */
static unsigned int slot_for(uid_t uid)
{
	unsigned int i, most = 0, n;
	uid_t biggest = uid;

	if (count_of(uid) >= share)
		return oldest_of(uid);
	if (ncookies < MAX_COOKIES)
		return ncookies++;
	for (i = 0; i < ncookies; i++) {
		n = count_of(cookies[i].uid);
		if (n > most) {
			most = n;
			biggest = cookies[i].uid;
		}
	}
	return oldest_of(biggest);
}

int policy_state_set_cookie(__u64 cookie, int mode, char *msg, size_t len)
{
	unsigned int i;

	(void)msg;
	(void)len;
	cookies_expire();
	for (i = 0; i < ncookies; i++)
		if (cookies[i].cookie == cookie)
			break;
	if (i == ncookies)
		i = slot_for(registrant);
	cookies[i].cookie = cookie;
	cookies[i].mode = mode;
	cookies[i].uid = registrant;
	cookies[i].expires = time(NULL) + COOKIE_TTL_S;
	dirty = true;
	return 0;
}

int policy_state_match_cookie(__u32 token, int mode)
{
	struct mps_msk m;

	if (mps_diag_msk_get(token, &m))
		return mode;
	return policy_state_match_cookie_value(token, m.sock.cookie, mode);
}

int policy_state_match_cookie_value(__u32 token, __u64 cookie, int mode)
{
	unsigned int i;

	for (i = 0; i < ncookies; i++) {
		if (cookies[i].cookie != cookie)
			continue;
		mode = cookies[i].mode;
		cookies[i] = cookies[--ncookies];
		tok_set(token, mode);
		dirty = true;
		break;
	}
	return mode;
}

/* /proc/net is the reader's namespace: LISTEN is state 0A there. */
static void scan_file(const char *path)
{
	char line[512];
	unsigned int port, state;
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && nlisten < MAX_LISTEN_PORTS)
		if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x",
			   &port, &state) == 2 &&
		    state == 0x0A)
			listen_ports[nlisten++] = htons(port);
	fclose(f);
}

void policy_state_scan_listeners(void)
{
	nlisten = 0;
	scan_file("/proc/net/tcp");
	scan_file("/proc/net/tcp6");
}

bool policy_state_listening(const struct sockaddr_storage *local)
{
	__be16 port = mps_addr_port(local);
	unsigned int i;

	for (i = 0; i < nlisten; i++)
		if (listen_ports[i] == port)
			return true;
	return false;
}
