// SPDX-License-Identifier: MIT
/*
 * CPUID exits: the guest gets the CPUID model (vmm/cpuid_model.c) of the
 * host's CPUID, for this VM's vCPU count and this vCPU's state (APIC ID,
 * CR4.OSXSAVE, APIC_BASE.EN, XCR0). The XCR0 bits offered are those XSETBV
 * accepts (fpu_guest_xcr0_mask) within the model's x87|SSE|AVX; the guest
 * TSC runs at the host's rate (timer_tsc_hz), which leaf 0x15 reports on Intel.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/fpu.h"
#include "rt/timer.h"
#include "vmm/cpuid_model.h"
#include "vmm/dev/lapic.h"
#include "vmm/dev/platform.h"
#include "vmm/vmm.h"

#define X86_CR4_OSXSAVE BIT(18)

static struct cpuid_out host_cpuid(void *ctx, u32 leaf, u32 sub)
{
	struct cpuid_regs r = cpuid_count(leaf, sub);

	(void)ctx;
	return (struct cpuid_out){ r.eax, r.ebx, r.ecx, r.edx };
}

void vmm_handle_cpuid(struct vcpu *v)
{
	struct plat *p = v->vm->plat;
	struct lapic *a = p ? plat_lapic(p, v->id) : NULL;
	struct cpuid_model m;
	struct cpuid_vcpu_view view = {
		.index = v->id,
		.osxsave = v->regs.cr4 & X86_CR4_OSXSAVE,
		.apic_enabled = a ? lapic_hw_enabled(a) : true,
		.xcr0 = v->regs.xcr0,
	};
	struct cpuid_out r;

	v->stats.cpuid++;
	cpuid_model_init(&m, host_cpuid, NULL, p ? plat_nr_vcpus(p) : 1, fpu_guest_xcr0_mask(),
			 timer_tsc_hz());
	if (v->vm->ops->nested)
		cpuid_model_set_svm(&m);
	r = cpuid_model_query(&m, &view, (u32)v->regs.rax, (u32)v->regs.rcx);
	v->regs.rax = r.eax;
	v->regs.rbx = r.ebx;
	v->regs.rcx = r.ecx;
	v->regs.rdx = r.edx;
	vmm_skip_insn(v);
}
