/* SPDX-License-Identifier: MIT */
/*
 * The CPUID a guest sees (docs/platform.md, "CPUID"): the host's answer
 * filtered through one policy table, plus the leaves Keel makes up itself
 * (hypervisor signature, topology matching the VM's vCPUs, XSAVE sizes for
 * the XCR0 bits Keel allows). Pure: the host's CPUID comes through a
 * callback, so the policy is tested hosted.
 */
#pragma once

#include <keel/types.h>

struct cpuid_out {
	u32 eax, ebx, ecx, edx;
};

enum cpuid_vendor { CPUID_VENDOR_OTHER, CPUID_VENDOR_INTEL, CPUID_VENDOR_AMD };

struct cpuid_model {
	struct cpuid_out (*host)(void *ctx, u32 leaf, u32 sub);
	void *ctx;
	enum cpuid_vendor vendor;
	unsigned nr_vcpus;
	u32 max_basic, max_ext;  /* the guest's, after clamping */
	u64 xcr0_mask;           /* XCR0 bits offered: host's & the allowed set */
	u64 tsc_hz;              /* the guest TSC's rate (leaf 0x15 on Intel), 0 = unknown */
	bool svm;                /* nested SVM offered (set after init; vmm/nested/) */
};

/* Leaf 0x8000000a as Keel's nested SVM offers it (cpuid_model_set_svm). */
#define KEEL_SVM_REVISION 1
#define KEEL_SVM_NASID 64                  /* ASIDs 1..63 for L1's guests */
#define KEEL_SVM_FEATURES 0x49u            /* NP (0), NRIPS (3), FlushByAsid (6) */

/* Offer nested SVM: 0x80000001 ECX.SVM and leaf 0x8000000a. */
void cpuid_model_set_svm(struct cpuid_model *m);

/* XCR0 components a guest may ever use: x87, SSE, AVX. */
#define CPUID_XCR0_ALLOWED 0x7ull

#define KEEL_CPUID_MAX_HV_LEAF 0x40000000u
#define KEEL_CPUID_SIG_WORD 0x6c65654bu /* "Keel" in ebx, ecx and edx */

/* The model for a VM of nr_vcpus vCPUs; xcr0_mask further limits XCR0 (the
 * bits XSETBV accepts); tsc_hz is the guest TSC's rate (0 = unknown). */
void cpuid_model_init(struct cpuid_model *m, struct cpuid_out (*host)(void *ctx, u32 leaf, u32 sub),
		      void *ctx, unsigned nr_vcpus, u64 xcr0_mask, u64 tsc_hz);

/* What the vCPU state changes in the answer. */
struct cpuid_vcpu_view {
	unsigned index;   /* vCPU number = APIC ID */
	bool osxsave;     /* CR4.OSXSAVE */
	bool apic_enabled;/* IA32_APIC_BASE.EN (CPUID.1:EDX.APIC follows it) */
	u64 xcr0;         /* for leaf 0xd.0 EBX */
};

struct cpuid_out cpuid_model_query(const struct cpuid_model *m, const struct cpuid_vcpu_view *v,
				   u32 leaf, u32 sub);
