// SPDX-License-Identifier: MIT
/*
 * The first checks: CPUID's SVM leaves as the contract promises them, #UD
 * for the SVM instructions while EFER.SVME is clear, turning SVM on
 * (VM_CR, EFER, VM_HSAVE_PA), VMLOAD/VMSAVE, and a first empty L2 run.
 */
#include <keel/string.h>
#include "guest/nested/checks.h"
#include "guest/nested/l2.h"
#include "guest/nested/nested.h"

#define VEC_UD 6
#define SVM_INSN_LEN 3

NESTED_CHECK(check_svm_cpuid)
{
	l1_caps_probe();
	if (!l1_caps.svm) {
		snprintf(why, len, "no SVM in CPUID 0x80000001 ecx");
		return -1;
	}
	guest_printf("nested: SVM revision %u, %u ASIDs, NP %d, NRIPS %d, FlushByAsid %d, "
		     "Page1GB %d, NX %d\n", l1_caps.revision, l1_caps.asids, l1_caps.np,
		     l1_caps.nrips, l1_caps.flush_by_asid, l1_caps.page1gb, l1_caps.nx);
	/* NRIP save: Keel promises it (NESTED-CONTRACT); QEMU's own SVM,
	 * the reference run, has none (the checks then skip next-RIP). */
	if (l1_caps.revision != 1 || l1_caps.asids < 8 || !l1_caps.np ||
	    (l1_on_keel && !l1_caps.nrips)) {
		snprintf(why, len, "0x8000000a: revision %u, %u ASIDs, NP %d, NRIPS %d "
			 "(want 1, >= 8, 1, 1)", l1_caps.revision, l1_caps.asids, l1_caps.np,
			 l1_caps.nrips);
		return -1;
	}
	return 0;
}

static void do_vmrun(void)
{
	asm volatile("vmrun" : : "a"(L1_VMCB) : "memory");
}

static void do_vmload(void)
{
	asm volatile("vmload" : : "a"(L1_VMCB_SCRATCH) : "memory");
}

static void do_vmsave(void)
{
	asm volatile("vmsave" : : "a"(L1_VMCB_SCRATCH) : "memory");
}

static void do_stgi(void)
{
	asm volatile("stgi");
}

static void do_clgi(void)
{
	asm volatile("clgi");
}

NESTED_CHECK(check_svm_ud_before_svme)
{
	static const struct { const char *name; void (*fn)(void); } insns[] = {
		{ "VMRUN", do_vmrun }, { "VMLOAD", do_vmload }, { "VMSAVE", do_vmsave },
		{ "STGI", do_stgi }, { "CLGI", do_clgi },
	};

	if (!l1_caps.svm) {
		/* Architecturally #UD too, but a Keel without nested SVM
		 * stops the VM on them: not tried. */
		snprintf(why, len, "no SVM in CPUID: not tried");
		return -1;
	}
	if (l1_rdmsr(MSR_EFER) & EFER_SVME) {
		snprintf(why, len, "EFER.SVME is already set");
		return -1;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(insns); i++) {
		if (!guest_expect_trap(VEC_UD, SVM_INSN_LEN, insns[i].fn)) {
			snprintf(why, len, "%s with EFER.SVME clear did not raise #UD",
				 insns[i].name);
			return -1;
		}
	}
	return 0;
}

NESTED_CHECK(check_svm_enable)
{
	if (!l1_caps.svm) {
		snprintf(why, len, "no SVM in CPUID 0x80000001 ecx");
		return -1;
	}
	if (gi->mem_size < L1_MEM_NEEDED) {
		snprintf(why, len, "needs %llu MiB of guest RAM, has %llu",
			 (unsigned long long)(L1_MEM_NEEDED >> 20),
			 (unsigned long long)(gi->mem_size >> 20));
		return -1;
	}
	if (l1_svm_enable(why, len))
		return -1;
	l1_l2_build();
	return 0;
}

/* VMSAVE the current state, change FS.base and KernelGsBase in the copy,
 * VMLOAD it: the MSRs follow; VMSAVE again: the fields come back. */
NESTED_CHECK(check_vmload_vmsave)
{
	const u64 fs = 0x0000123456789000ull, kgs = 0x00007654321f0000ull;
	u64 old_fs, old_kgs, got_fs, got_kgs, saved_fs, saved_kgs;

	if (l1_need_l2(why, len))
		return -1;
	old_fs = l1_rdmsr(MSR_FS_BASE);
	old_kgs = l1_rdmsr(MSR_KERNEL_GS_BASE);
	memset((void *)(uintptr_t)L1_VMCB_SCRATCH, 0, SZ_4K);
	do_vmsave();
	*vmcb64(L1_VMCB_SCRATCH, VMCB_FS + 8) = fs;
	*vmcb64(L1_VMCB_SCRATCH, VMCB_KERNEL_GS_BASE) = kgs;
	do_vmload();
	got_fs = l1_rdmsr(MSR_FS_BASE);
	got_kgs = l1_rdmsr(MSR_KERNEL_GS_BASE);
	*vmcb64(L1_VMCB_SCRATCH, VMCB_FS + 8) = 0;
	*vmcb64(L1_VMCB_SCRATCH, VMCB_KERNEL_GS_BASE) = 0;
	do_vmsave();
	saved_fs = *vmcb64(L1_VMCB_SCRATCH, VMCB_FS + 8);
	saved_kgs = *vmcb64(L1_VMCB_SCRATCH, VMCB_KERNEL_GS_BASE);
	l1_wrmsr(MSR_FS_BASE, old_fs);
	l1_wrmsr(MSR_KERNEL_GS_BASE, old_kgs);
	if (got_fs != fs || got_kgs != kgs || saved_fs != fs || saved_kgs != kgs) {
		snprintf(why, len, "after VMLOAD FS.base 0x%llx KernelGsBase 0x%llx; VMSAVE "
			 "wrote 0x%llx 0x%llx", (unsigned long long)got_fs,
			 (unsigned long long)got_kgs, (unsigned long long)saved_fs,
			 (unsigned long long)saved_kgs);
		return -1;
	}
	return 0;
}

NESTED_CHECK(check_l2_runs)
{
	if (l1_need_l2(why, len))
		return -1;
	return l1_run(l2_nop, NULL, why, len);
}
