// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Per-thread state kept between calls (netlink and broker sockets): one
 * zeroed block per thread and slot, freed by the slot's destructor when
 * the thread exits.  Threads never share a socket, so replies never mix.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "util/util.h"

static pthread_mutex_t tls_lock = PTHREAD_MUTEX_INITIALIZER;

void *mps_tls_get(struct mps_tls *t, size_t size)
{
	void *p;
	int err;

	if (!__atomic_load_n(&t->ready, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&tls_lock);
		if (!t->ready) {
			t->err = pthread_key_create(&t->key, t->dtor);
			__atomic_store_n(&t->ready, true, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&tls_lock);
	}
	if (t->err) {
		errno = t->err;
		return NULL;
	}
	p = pthread_getspecific(t->key);
	if (p)
		return p;
	p = calloc(1, size);
	if (!p)
		return NULL;
	err = pthread_setspecific(t->key, p);
	if (err) {
		free(p);
		errno = err;
		return NULL;
	}
	return p;
}
