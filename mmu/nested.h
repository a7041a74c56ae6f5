/* SPDX-License-Identifier: MIT */
/*
 * The nested MMU: shadow nested page tables for L2 guests (docs/nested-mmu.md).
 *
 * L1 (a guest hypervisor) runs L2 with its own nested page table, NPT12:
 * L2 guest-physical (ngpa_t) -> L1 guest-physical (gpa_t). Keel maps L1
 * memory with its TDP MMU (struct mmu, mmu/mmu.h). L2 runs on a shadow table,
 * NPT02: L2 guest-physical -> host-physical, built on demand from NPT12 and
 * Keel's memslots for L1, at the smaller of the two leaf sizes and with the
 * intersection of their permissions.
 *
 * Used by the VMRUN emulation (vmm/ + arch/x86/svm*), per L2 entry:
 *
 *   on VMRUN with NP_ENABLE:
 *     TLB_CONTROL 1 (all ASIDs)         -> nmmu_flush_all()
 *     TLB_CONTROL 3 / 7 (this ASID)     -> nmmu_flush_asid(asid)
 *   before every entry into L2:
 *     nmmu_root_get(nv, vmcb12.nCR3, vmcb12.ASID, mode, &ncr3_02, &flush)
 *     run L2 on ncr3_02 with Keel's L2 ASID, flushed first if 'flush'
 *   on an NPF exit from L2:
 *     nmmu_page_fault(nv, EXITINFO2, access, EXITINFO1, &out):
 *       FIXED / SPURIOUS / RETRY   re-enter L2
 *       RETRY_SLOT                 leave the slot read side: back to the run loop, re-enter
 *       REFLECT                    #VMEXIT(NPF) to L1 with out.exitinfo1 / out.exitinfo2
 *       L1_MMIO                    L2 touched L1 MMIO at out.l1_gpa: emulate it for L1's device
 *       L1_PERM                    write to a read-only L1 slot (L1's ROM): emulate (drop)
 *       NOMEM                      nmmu_evict(), then re-enter (bounded)
 *   L1 executes INVLPGA                 -> nmmu_invlpga(asid, va)
 *
 * Flush rule (what L1 is promised): a translation L1 removed or reduced in
 * NPT12 may stay usable by L2 until L1 flushes it: TLB_CONTROL != 0 at a
 * VMRUN, INVLPGA for its ASID, or a VMRUN on an (nCR3, ASID) pair the entry
 * was not built for. After the flush call returns, no shadow entry built from
 * the old NPT12 entry exists and no fault that walked it can install it. A
 * not-present -> present (or permission-increasing) edit needs no flush: a
 * shadow miss always re-walks NPT12 before anything is reflected to L1.
 *
 * Reductions of Keel's own mapping of L1 memory (zap, slot delete/move,
 * dirty-log start and harvest, eviction, max page level) reach every shadow
 * entry built on them before they return: the TDP MMU calls the hooks in
 * mmu/nested_internal.h.
 *
 * Concurrency: every call may run on any number of threads at once. The
 * TDP MMU's own fault path never calls into this code.
 */
#pragma once

#include <keel/types.h>
#include "mmu/mmu.h"

struct nmmu;
struct nmmu_vcpu;

/* L1's paging mode at VMRUN decides NPT12's format (long mode only). */
struct nmmu_npt_mode {
	bool lma;      /* L1's EFER.LMA: 4-level long-mode NPT12 (else refused) */
	u8 maxphyaddr; /* physical-address width L1 sees (CPUID 8000_0008 EAX[7:0]) */
	bool nx;       /* L1's EFER.NXE: NPT12 bit 63 is NX, else reserved */
	bool gbpages;  /* 1 GiB NPT12 leaves allowed (CPUID Page1GB given to L1) */
};

/* NPF EXITINFO1 bits (APM vol. 2, "Nested Page Fault"). */
#define NPF_P          BIT(0)  /* the entry was present (protection / reserved) */
#define NPF_W          BIT(1)  /* write access */
#define NPF_U          BIT(2)  /* user access: always set for nested walks */
#define NPF_RSVD       BIT(3)  /* a reserved bit was set */
#define NPF_ID         BIT(4)  /* instruction fetch */
#define NPF_FINAL_GPA  BIT(32) /* fault on the final guest-physical address */
#define NPF_GPT_WALK   BIT(33) /* fault while walking the guest's page tables */

enum nmmu_fault_result {
	NMMU_FAULT_FIXED,
	NMMU_FAULT_SPURIOUS,
	NMMU_FAULT_RETRY,      /* lost a race with a flush or zap: re-enter */
	NMMU_FAULT_RETRY_SLOT, /* an L1 slot is changing: leave the read side, re-enter */
	NMMU_FAULT_REFLECT,    /* NPT12 does not allow it: #VMEXIT(NPF) to L1 */
	NMMU_FAULT_L1_MMIO,    /* the L1 address is in no slot */
	NMMU_FAULT_L1_PERM,    /* write to a read-only L1 slot */
	NMMU_FAULT_NOMEM,      /* shadow table allocation failed: nmmu_evict() */
};

struct nmmu_fault_out {
	u64 exitinfo1;   /* REFLECT: error code | NPF_FINAL_GPA or NPF_GPT_WALK */
	u64 exitinfo2;   /* REFLECT: the L2 guest-physical address */
	gpa_t l1_gpa;    /* L1_MMIO / L1_PERM / FIXED: the L1 address reached */
	int level;       /* FIXED / SPURIOUS: shadow leaf level (1..3) */
};

const char *nmmu_fault_result_name(enum nmmu_fault_result r);

/* One per VM that nests, on the VM's TDP MMU. max_roots: size of the shadow
 * root cache (keyed by nCR3 and ASID); it must exceed the number of vCPUs. */
struct nmmu *nmmu_create(struct mmu *l1, unsigned max_roots);
/* Every nested vCPU must have been destroyed; before mmu_destroy(l1). */
void nmmu_destroy(struct nmmu *n);
struct nmmu_vcpu *nmmu_vcpu_create(struct nmmu *n, unsigned vcpu_id);
void nmmu_vcpu_destroy(struct nmmu_vcpu *nv);

/* Before each entry into L2: the shadow root for (ncr3, asid) in 'mode'.
 * *flush: Keel's L2 ASID must be flushed before entry. 0, -ENOMEM, -EBUSY
 * (every cached root is in use: more vCPUs than max_roots - 1), -EINVAL
 * (asid 0 or a mode Keel cannot shadow). */
int nmmu_root_get(struct nmmu_vcpu *nv, gpa_t ncr3, u32 asid, const struct nmmu_npt_mode *mode,
		  hpa_t *root, bool *flush);
/* SMP (keel.efi): the vCPU's kick (as mmu_vcpu_set_kick). With one, every
 * nmmu_root_get() puts the vCPU in guest mode for the shadow tables, until
 * nmmu_vcpu_exit_guest() right after L2 exits: drops and the tables' grace
 * period wait for (and kick) vCPUs running L2 on other CPUs. */
void nmmu_vcpu_set_kick(struct nmmu_vcpu *nv, mmu_kick_fn kick, void *arg);
void nmmu_vcpu_exit_guest(struct nmmu_vcpu *nv);
/* #VMEXIT to L1 may drop the vCPU's hold on its root (the cache keeps it). */
void nmmu_root_put(struct nmmu_vcpu *nv);

/* An NPF from L2 at l2_gpa. access: MMU_ACC_*; hw_exitinfo1: the hardware's
 * EXITINFO1 (its bits 32/33 say what the L2 access was, and are passed on). */
enum nmmu_fault_result nmmu_page_fault(struct nmmu_vcpu *nv, ngpa_t l2_gpa, u32 access,
				       u64 hw_exitinfo1, struct nmmu_fault_out *out);

/* Walk only, for emulating an L2 access in Keel (an instruction fetch or a
 * memory operand of an instruction that exited): L2 guest-physical -> L1
 * guest-physical through NPT12, setting A/D bits as hardware would, nothing
 * installed. FIXED (out->l1_gpa), REFLECT (out->exitinfo1/2, with 'kind' =
 * NPF_FINAL_GPA or NPF_GPT_WALK as the emulated access was), RETRY or
 * RETRY_SLOT. */
enum nmmu_fault_result nmmu_translate(struct nmmu_vcpu *nv, ngpa_t l2_gpa, u32 access, u64 kind,
				      struct nmmu_fault_out *out);

/* L1's TLB maintenance. */
void nmmu_flush_all(struct nmmu *n);                /* TLB_CONTROL = 1 */
void nmmu_flush_asid(struct nmmu *n, u32 asid);     /* TLB_CONTROL = 3 or 7 */
void nmmu_invlpga(struct nmmu *n, u32 asid, gva_t va); /* the whole ASID (va unknown to NPT) */

/* After NMMU_FAULT_NOMEM, holding nothing: empty every shadow root. Returns
 * the shadow table pages freed by this call (the rest after their grace). */
u64 nmmu_evict(struct nmmu *n);

struct nmmu_stats {
	u64 shadow_faults;   /* NPFs handled (every result) */
	u64 fixed, spurious, reflected, retries, retries_slot, nomem;
	u64 l1_mmio;         /* L1_MMIO and L1_PERM: accesses the caller emulates for L1 */
	u64 root_hits, root_misses, root_recycled;
	u64 flush_all, flush_asid, invlpga; /* L1 requests */
	u64 root_zaps;       /* shadow roots emptied (flush, reduction, recycle, evict) */
	u64 l1_reductions;   /* TDP MMU reductions that reached shadow roots */
	u64 wrprot_leaves;   /* shadow leaves write-protected by dirty logging */
	u64 splits;          /* shadow huge leaves split by dirty logging */
	u64 ad_updates;      /* accessed/dirty bits written into NPT12 */
	u64 tables_in_use;   /* shadow table pages (linked or awaiting free) */
	u64 maps_4k, maps_2m, maps_1g;
	u64 evictions;
};
void nmmu_get_stats(struct nmmu *n, struct nmmu_stats *out);
