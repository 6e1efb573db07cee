// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Tells systemd, through libsystemd's sd_notify(3), when mpsockd serves,
 * reloads and stops (Type=notify units); built without libsystemd, or run
 * outside a service (no NOTIFY_SOCKET), every call does nothing.
 */
#include <time.h>

#include "mpsock-build.h"
#include "notify.h"

#if HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>

void mpsd_notify_ready(void)
{
	sd_notify(0, "READY=1\nSTATUS=serving");
}

/*
 * MONOTONIC_USEC: systemd 253 and later match a RELOADING=1 to the reload
 * it asked for (Type=notify-reload) by the time it was sent; 252 ignores it.
 */
void mpsd_notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%llu",
		   (unsigned long long)ts.tv_sec * 1000000ULL +
			   (unsigned long long)ts.tv_nsec / 1000);
}

void mpsd_notify_reloaded(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void mpsd_notify_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}
#else
void mpsd_notify_ready(void)
{
}

void mpsd_notify_reloading(void)
{
}

void mpsd_notify_reloaded(const char *status)
{
	(void)status;
}

void mpsd_notify_stopping(void)
{
}
#endif
