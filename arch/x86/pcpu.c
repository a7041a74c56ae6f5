// SPDX-License-Identifier: MIT
#include <keel/host.h>
#include "arch/x86/pcpu.h"

static struct pcpu cpus[KEEL_MAX_CPUS];

struct pcpu *pcpu_slot(unsigned id)
{
	if (id >= KEEL_MAX_CPUS)
		return NULL;
	cpus[id].id = id;
	return &cpus[id];
}

struct pcpu *pcpu_this(void)
{
	return &cpus[host_cpu_id()];
}

struct pcpu *pcpu_get(unsigned id)
{
	return id < host_cpu_count() ? &cpus[id] : NULL;
}
