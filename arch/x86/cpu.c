// SPDX-License-Identifier: MIT
#include <keel/string.h>
#include "arch/x86/cpu.h"

void cpu_vendor_string(char out[13])
{
	struct cpuid_regs r = cpuid(0);

	memcpy(out, &r.ebx, 4);
	memcpy(out + 4, &r.edx, 4);
	memcpy(out + 8, &r.ecx, 4);
	out[12] = '\0';
}

bool cpu_is_virtual(void)
{
	return cpuid(1).ecx & CPUID_1_ECX_HYPERVISOR;
}
