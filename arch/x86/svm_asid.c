// SPDX-License-Identifier: MIT
/* Per-vCPU ASIDs with per-CPU generations (svm_asid.h). */
#include "arch/x86/svm_asid.h"
#include "arch/x86/svm.h"

#define SVM_TLB_FLUSH_NONE 0
#define SVM_TLB_FLUSH_GUEST 3 /* this guest's ASID only */

/* The first allocation on a CPU starts a generation: nothing is known about
 * what ASIDs the CPU cached before Keel took it. */
void svm_asid_cpu_init(struct svm_asid_cpu *c, u32 nasid, bool by_asid)
{
	c->gen = 0;
	c->nasid = nasid < 2 ? 2 : nasid;
	c->next = c->nasid;
	c->by_asid = by_asid;
}

void svm_asid_vcpu_init(struct svm_asid_vcpu *v)
{
	*v = (struct svm_asid_vcpu){ .asid = 0, .gen = 0, .cpu = -1 };
}

static void new_asid(struct svm_asid_cpu *c, struct svm_asid_vcpu *v, int cpu, u8 *tlb)
{
	if (c->next >= c->nasid) {
		c->gen++;
		c->next = 1;
		*tlb = SVM_TLB_FLUSH_ALL; /* every ASID of the old generation */
	}
	v->asid = c->next++;
	v->gen = c->gen;
	v->cpu = cpu;
}

u32 svm_asid_prepare(struct svm_asid_cpu *c, struct svm_asid_vcpu *v, int cpu, bool mmu_flush,
		     u8 *tlb_control)
{
	*tlb_control = SVM_TLB_FLUSH_NONE;
	if (v->cpu != cpu || v->gen != c->gen || !v->asid)
		new_asid(c, v, cpu, tlb_control); /* moved, or a new generation */
	else if (mmu_flush && c->by_asid)
		*tlb_control = SVM_TLB_FLUSH_GUEST;
	else if (mmu_flush)
		new_asid(c, v, cpu, tlb_control);
	return v->asid;
}
