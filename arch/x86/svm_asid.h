/* SPDX-License-Identifier: MIT */
/*
 * Per-vCPU ASIDs on SVM (svm_asid.c). Each physical CPU hands out ASIDs
 * 1..NASID-1 in generations; when they run out, a new generation starts with
 * a flush of every ASID on that CPU. A vCPU keeps its ASID while it stays on
 * one CPU in one generation; moving to another CPU, or a new generation,
 * gives it a fresh ASID there (whose TLB entries the generation's start
 * flushed). An MMU flush request flushes the vCPU's ASID (TLB_CONTROL 3)
 * where the CPU has flush-by-ASID (CPUID 8000_000Ah:EDX[6]), else the vCPU
 * takes a fresh ASID, which is as good as a flush of its own translations.
 */
#pragma once

#include <keel/types.h>

struct svm_asid_cpu {
	u64 gen;       /* current generation on this CPU */
	u32 next;      /* next ASID to hand out */
	u32 nasid;     /* CPUID 8000_000Ah:EBX: ASIDs are 1..nasid-1 */
	bool by_asid;  /* flush-by-ASID available */
};

struct svm_asid_vcpu {
	u32 asid;
	u64 gen;       /* generation the ASID belongs to */
	int cpu;       /* physical CPU it belongs to, -1 before the first entry */
};

void svm_asid_cpu_init(struct svm_asid_cpu *c, u32 nasid, bool by_asid);
void svm_asid_vcpu_init(struct svm_asid_vcpu *v);
/* Before VMRUN on CPU 'cpu': the ASID to run with and the TLB_CONTROL value. */
u32 svm_asid_prepare(struct svm_asid_cpu *c, struct svm_asid_vcpu *v, int cpu, bool mmu_flush,
		     u8 *tlb_control);
