// SPDX-License-Identifier: MIT
/* Host services for the hosted device tests (keel/host.h on libc). Each
 * thread is a "CPU" (host_cpu_id numbers them in the order they first ask),
 * so the lock holder checks of dev_lock.h work with test threads. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <keel/host.h>

void *host_alloc(size_t bytes)
{
	return calloc(1, bytes ? bytes : 1);
}

void host_free(void *p)
{
	free(p);
}

static unsigned next_cpu;
static _Thread_local unsigned my_cpu; /* id + 1, 0 until asked */

unsigned host_cpu_id(void)
{
	if (!my_cpu)
		my_cpu = __atomic_add_fetch(&next_cpu, 1, __ATOMIC_RELAXED);
	return my_cpu - 1;
}

void host_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "not ok - host_panic: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

void host_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}
