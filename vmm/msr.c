// SPDX-License-Identifier: MIT
/*
 * Guest MSRs: every RDMSR/WRMSR exits. Keel emulates the few a 64-bit test
 * guest needs and answers everything else the architectural way, with #GP.
 */
#include <keel/host.h>
#include "arch/x86/cpu.h"
#include "rt/log.h"
#include "vmm/vmm.h"

#define APIC_BASE_DEFAULT (0xfee00000ull | BIT(11) | BIT(8)) /* enabled, BSP */
/* EFER bits a guest may change while in long mode. */
#define EFER_GUEST_WRITABLE (EFER_SCE | EFER_NXE)

static void inject_gp(struct vcpu *v, const char *op, u32 msr)
{
	log_debug("keel: vm %s: %s of MSR 0x%x -> #GP\n", v->vm->name, op, msr);
	v->vm->ops->inject_exception(v, X86_VEC_GP, true, 0);
}

void vmm_handle_rdmsr(struct vcpu *v)
{
	u32 msr = (u32)v->regs.rcx;
	u64 val;

	v->stats.msr++;
	switch (msr) {
	case MSR_EFER:
		val = v->regs.efer;
		break;
	case MSR_IA32_TSC:
		val = rdtsc();
		break;
	case MSR_IA32_APIC_BASE:
		val = APIC_BASE_DEFAULT;
		break;
	default:
		inject_gp(v, "rdmsr", msr);
		return;
	}
	v->regs.rax = (u32)val;
	v->regs.rdx = val >> 32;
	vmm_skip_insn(v);
}

void vmm_handle_wrmsr(struct vcpu *v)
{
	u32 msr = (u32)v->regs.rcx;
	u64 val = (v->regs.rdx << 32) | (u32)v->regs.rax;

	v->stats.msr++;
	if (msr != MSR_EFER || ((val ^ v->regs.efer) & ~EFER_GUEST_WRITABLE)) {
		inject_gp(v, "wrmsr", msr);
		return;
	}
	v->regs.efer = val;
	vmm_skip_insn(v);
}
