// SPDX-License-Identifier: MIT
/*
 * RDMSR/WRMSR exits (every MSR access exits). The platform's MSRs
 * (APIC_BASE, TSC_DEADLINE, x2APIC) go to vmm/dev/ first (vmm/exit.c);
 * everything else is the MSR policy table (vmm/msr_policy.c): a defined
 * behaviour per MSR, #GP(0) for any MSR not in it, counted for the summary.
 */
#include <keel/host.h>
#include "arch/x86/cpu.h"
#include "rt/log.h"
#include "vmm/dev/platform.h"
#include "vmm/msr_policy.h"
#include "vmm/vmm.h"

/* The host facts the policy needs, read once (they never change). */
struct host_facts {
	bool ready;
	enum cpuid_vendor vendor;
	unsigned phys_bits;
	bool nx;
};

static const struct host_facts *host_facts(void)
{
	static struct host_facts h;
	u32 vendor;

	if (h.ready)
		return &h;
	vendor = cpuid(0).ebx;
	h.vendor = vendor == 0x756e6547u ? CPUID_VENDOR_INTEL :
		   (vendor == 0x68747541u || vendor == 0x6f677948u) ? CPUID_VENDOR_AMD :
								        CPUID_VENDOR_OTHER;
	h.phys_bits = cpuid_has_leaf(0x80000008u) ? cpuid(0x80000008u).eax & 0xff : 36;
	h.nx = cpuid_has_leaf(0x80000001u) && (cpuid(0x80000001u).edx & CPUID_80000001_EDX_NX);
	h.ready = true; /* racing first users compute the same values */
	return &h;
}

static void env_of(struct vcpu *v, struct msr_env *e)
{
	const struct host_facts *h = host_facts();

	*e = (struct msr_env){
		.vendor = h->vendor,
		.phys_bits = h->phys_bits,
		.host_tsc = rdtsc(),
		.nx = h->nx,
		.svm = v->vm->ops->nested != NULL,
		.regs = &v->regs,
	};
}

static void inject_gp(struct vcpu *v, const char *op, u32 msr)
{
	log_debug("keel: vm %s: %s of MSR 0x%x -> #GP\n", v->vm->name, op, msr);
	if (v->vm->plat)
		plat_note_msr_gp(v->vm->plat, msr);
	vmm_inject_exception(v, X86_VEC_GP, true, 0);
}

void vmm_handle_rdmsr(struct vcpu *v)
{
	u32 msr = (u32)v->regs.rcx;
	struct msr_env e;
	u64 val;

	v->stats.msr++;
	env_of(v, &e);
	if (msr_policy_read(&v->msr, &e, msr, &val)) {
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
	struct msr_env e;

	v->stats.msr++;
	env_of(v, &e);
	if (msr_policy_write(&v->msr, &e, msr, val)) {
		inject_gp(v, "wrmsr", msr);
		return;
	}
	vmm_skip_insn(v);
}
