// SPDX-License-Identifier: MIT
#include "arch/x86/pcpu.h"

static struct pcpu boot_cpu;

struct pcpu *pcpu_this(void)
{
	return &boot_cpu;
}
