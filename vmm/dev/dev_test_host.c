// SPDX-License-Identifier: MIT
/* Host services for the hosted device tests (keel/host.h on libc). */
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
