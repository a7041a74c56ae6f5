/* SPDX-License-Identifier: MIT */
/*
 * The MSR policy (docs/platform.md, "MSRs"): one table row per MSR or
 * range, each with a defined behaviour; an MSR in no row raises #GP. MSRs
 * the CPU keeps in the VMCB / VMCS (EFER, PAT, SYSCALL, SYSENTER, FS/GS
 * bases) are read and written in struct vcpu_regs, which the vendor
 * backend loads and saves; the rest of the per-vCPU state is struct
 * msr_state. The platform's MSRs (APIC_BASE, TSC_DEADLINE, x2APIC) are
 * answered by vmm/dev/ first and are not in this table. Pure: tested hosted.
 */
#pragma once

#include <keel/types.h>
#include "vmm/cpuid_model.h"

struct vcpu_regs;

#define MSR_MTRR_VAR 8    /* variable-range MTRR pairs (MTRRcap.VCNT) */
#define MSR_MTRR_FIXED 11 /* fixed-range MTRRs */

/* Keel-held per-vCPU MSR state (zero-initialised; set up on first use). */
struct msr_state {
	bool ready;
	u64 mtrr_def_type;
	u64 mtrr_fixed[MSR_MTRR_FIXED];
	u64 mtrr_var[2 * MSR_MTRR_VAR]; /* base, mask, base, mask ... */
	u64 misc_enable;
	u64 tsc_offset;       /* guest TSC = host TSC + tsc_offset (the backend applies it) */
	u64 tsc_aux;
	u64 mcg_status;
	u64 hwcr;
	u64 vm_cr;            /* SVM VM_CR (nested SVM offered): DPD R_INIT DIS_A20M LOCK SVMDIS */
	u64 hsave_pa;         /* SVM VM_HSAVE_PA (nested SVM offered) */
	u64 gp_count;         /* accesses answered with #GP */
	u32 gp_last;
};

/* What the policy needs to know about the VM and the vCPU. */
struct msr_env {
	enum cpuid_vendor vendor;
	unsigned phys_bits;      /* guest MAXPHYADDR (reserved bits of MTRRs) */
	u64 host_tsc;            /* the host TSC now (IA32_TSC reads) */
	bool nx;                 /* CPUID shows NX: EFER.NXE writable */
	bool svm;                /* nested SVM offered: EFER.SVME, VM_CR, VM_HSAVE_PA */
	struct vcpu_regs *regs;  /* the VMCB/VMCS-backed MSRs */
};

/* 0, or -EINVAL: the caller injects #GP(0) (counted in s->gp_count). */
int msr_policy_read(struct msr_state *s, const struct msr_env *e, u32 msr, u64 *val);
int msr_policy_write(struct msr_state *s, const struct msr_env *e, u32 msr, u64 val);
/* The row's name for an MSR ("" when none: #GP), for logs and docs. */
const char *msr_policy_name(u32 msr);
