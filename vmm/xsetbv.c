// SPDX-License-Identifier: MIT
/*
 * XSETBV, emulated with the checks the CPU makes: #UD without CR4.OSXSAVE,
 * #GP(0) from CPL > 0, for an XCR other than 0, or for an XCR0 value the
 * architecture refuses (x87 clear, AVX without SSE, AVX-512 parts alone)
 * or with bits beyond what the guest is offered (CPUID 0xd). A valid value
 * becomes the guest's XCR0, loaded into the CPU before the next entry.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/fpu.h"
#include "vmm/vcpu_state.h"
#include "vmm/vmm.h"

#define X86_CR4_OSXSAVE BIT(18)

void vmm_handle_xsetbv(struct vcpu *v)
{
	u64 val = (v->regs.rdx << 32) | (u32)v->regs.rax;

	if (!(v->regs.cr4 & X86_CR4_OSXSAVE) || !fpu_guest_xcr0_mask()) {
		vmm_inject_exception(v, X86_VEC_UD, false, 0);
		return;
	}
	if (vcpu_cpl(&v->regs) || (u32)v->regs.rcx != 0 ||
	    !fpu_xcr0_valid(val, fpu_guest_xcr0_mask())) {
		vmm_inject_exception(v, X86_VEC_GP, true, 0);
		return;
	}
	v->regs.xcr0 = val;
	vmm_skip_insn(v);
}
