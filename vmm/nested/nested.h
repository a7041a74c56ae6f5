/* SPDX-License-Identifier: MIT */
/*
 * Nested SVM for guests (docs/nested-svm.md): an L1 guest hypervisor runs
 * its own L2 guests with VMRUN, which Keel emulates on the SVM backend
 * (vendor_ops.nested). The entry points generic vmm/ code calls; all of
 * them do nothing (or the non-nested thing) when the vCPU never used SVM.
 *
 * Ownership: a vCPU's nested state (struct nsvm_vcpu, v->nested) is touched
 * only by the thread that runs that vCPU (its run loop, on its pinned CPU);
 * it needs no lock. The VM's nested MMU (vm->nmmu) has its own locks
 * (mmu/nested.h). L1 memory (VMCB12, the permission maps) is read and
 * written only through vmm_read_guest / vmm_write_guest.
 */
#pragma once

#include <keel/types.h>
#include "mmu/nested.h"

struct vcpu;
struct vm;

/* Figures for the summary line (boot/summary.c), summed over the vCPUs. */
struct vm_nested_result {
	u64 vmruns;          /* VMRUNs emulated (L1 -> L2) */
	u64 vmexit_invalid;  /* VMRUNs refused by the consistency checks */
	u64 nested_exits;    /* exits from L2 */
	u64 reflected;       /* ... given to L1 as #VMEXIT */
	u64 handled;         /* ... handled by Keel for L2 (shadow NPF, Keel's own) */
	bool has_mmu;
	struct nmmu_stats mmu; /* the VM's nested MMU */
};

/* vm.c: the VM's nested MMU when the backend offers nested SVM (at VM
 * creation), and the teardown (every vCPU's nested state first). */
void vmm_nested_vm_init(struct vm *vm);
void vmm_nested_vm_free(struct vm *vm);
void vmm_nested_vcpu_free(struct vcpu *v);
void vmm_nested_collect(const struct vm *vm, struct vm_nested_result *out);

/* vm.c's run loop: enter L1 (ops->vcpu_run) or, while L1 runs an L2, L2
 * (the VMCB02). 'root'/'flush' are L1's TDP root and flush request. */
int vmm_enter_guest(struct vcpu *v, hpa_t root, bool flush);
/* L2 is running: the last exit came from L2 (vmm_handle_exit routes it). */
bool vmm_nested_in_l2(const struct vcpu *v);
/* exit.c: an exit from L2: reflect it to L1 or handle it for L2. */
void vmm_nested_l2_exit(struct vcpu *v);
/* exit.c: an SVM instruction of L1 (VMRUN, VMLOAD, VMSAVE, STGI, CLGI,
 * INVLPGA, SKINIT) at CPL 0, and the #GP the CPU raised for one at CPL > 0
 * (true: it was one, the guest got its #UD or #GP). */
void vmm_nested_svm_insn(struct vcpu *v);
bool vmm_nested_svm_insn_gp(struct vcpu *v);
/* exit.c: an exception for the current level; true when it went to L2. */
bool vmm_nested_inject(struct vcpu *v, u8 vector, bool has_error, u32 error);
/* event.c, before its injection: true when the nested state decided (L2
 * runs: an L1 interrupt becomes #VMEXIT(INTR/NMI) when L1 intercepts it,
 * else waits; L1 with GIF clear: nothing is delivered). 'pending': an
 * interrupt or NMI is pending for the vCPU. */
bool vmm_nested_events(struct vcpu *v, bool irq_pending, bool nmi_pending);
/* guest_mem.c: a guest-physical address of the running level to L1's
 * (L2 under nested paging: through L1's NPT; otherwise unchanged).
 * -EFAULT when L1's tables do not map it. */
int vmm_nested_gpa(struct vcpu *v, u64 gpa, bool write, gpa_t *out);
