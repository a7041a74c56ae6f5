// SPDX-License-Identifier: MIT
/*
 * CPUID as the guest sees it: the host's answer, minus the virtualization
 * extensions Keel does not offer to guests (no nesting), plus the
 * hypervisor bit and Keel's signature leaf.
 */
#include "arch/x86/cpu.h"
#include "guest/abi.h"
#include "vmm/vmm.h"

#define KEEL_CPUID_SIG_ECX 0x6c65654bu
#define KEEL_CPUID_SIG_EDX 0x6c65654bu

static struct cpuid_regs guest_cpuid(u32 leaf, u32 sub)
{
	struct cpuid_regs r = { 0 };

	if ((leaf & 0xffff0000u) == KEEL_CPUID_SIGNATURE_LEAF) {
		if (leaf == KEEL_CPUID_SIGNATURE_LEAF)
			r = (struct cpuid_regs){ KEEL_CPUID_SIGNATURE_LEAF, KEEL_CPUID_SIG_EBX,
						 KEEL_CPUID_SIG_ECX, KEEL_CPUID_SIG_EDX };
		return r;
	}
	if (leaf == 0x8000000a)
		return r; /* SVM features: none for guests */
	r = cpuid_count(leaf, sub);
	if (leaf == 1)
		r.ecx = (r.ecx & ~(u32)CPUID_1_ECX_VMX) | (u32)CPUID_1_ECX_HYPERVISOR;
	if (leaf == 0x80000001)
		r.ecx &= ~(u32)CPUID_80000001_ECX_SVM;
	return r;
}

void vmm_handle_cpuid(struct vcpu *v)
{
	struct cpuid_regs r = guest_cpuid((u32)v->regs.rax, (u32)v->regs.rcx);

	v->stats.cpuid++;
	v->regs.rax = r.eax;
	v->regs.rbx = r.ebx;
	v->regs.rcx = r.ecx;
	v->regs.rdx = r.edx;
	vmm_skip_insn(v);
}
