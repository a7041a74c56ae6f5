/* SPDX-License-Identifier: MIT */
/* The L1 test hypervisor's checks, one self-test each (docs/nested-guest.md). */
#pragma once

#include "guest/guest.h"

#define NESTED_CHECK(name) int name(const struct guest_info *gi, bool flip, char *why, size_t len)

/* checks_svm.c: what CPUID offers, #UD before EFER.SVME, turning SVM on. */
NESTED_CHECK(check_svm_cpuid);
NESTED_CHECK(check_svm_ud_before_svme);
NESTED_CHECK(check_svm_enable);
NESTED_CHECK(check_vmload_vmsave);
NESTED_CHECK(check_l2_runs);
/* checks_mem.c: L2 memory through both levels, L1's NPT edits, NPFs. */
NESTED_CHECK(check_l2_ram_4k);
NESTED_CHECK(check_l2_ram_2m);
NESTED_CHECK(check_l2_ram_1g);
NESTED_CHECK(check_npt_accessed_dirty);
NESTED_CHECK(check_npt_remap_flush);
NESTED_CHECK(check_npt_remap_asid);
NESTED_CHECK(check_npf_not_present);
NESTED_CHECK(check_npf_write_protect);
NESTED_CHECK(check_npf_fetch_nx);
NESTED_CHECK(check_npf_table_walk);
/* checks_dirty.c: Keel's dirty log of L1 memory sees L2's writes. */
NESTED_CHECK(check_dirty_log_l2);
/* checks_exit.c: L2's exits reach L1 exactly per its intercepts. */
NESTED_CHECK(check_exit_cpuid);
NESTED_CHECK(check_exit_cpuid_not_intercepted);
NESTED_CHECK(check_exit_hlt);
NESTED_CHECK(check_exit_vmmcall);
NESTED_CHECK(check_exit_vmmcall_not_intercepted);
NESTED_CHECK(check_exit_io);
NESTED_CHECK(check_exit_msr);
NESTED_CHECK(check_exit_vmrun_in_l2);
/* checks_event.c: EVENTINJ and EXITINTINFO, V_IRQ, INTR from L1's timer. */
NESTED_CHECK(check_event_inject_exitintinfo);
NESTED_CHECK(check_virq);
NESTED_CHECK(check_intr_exit);
/* checks_tlb.c: flush by ASID, INVLPGA, two NPTs by ASID. */
NESTED_CHECK(check_npt_remap_flush_asid);
NESTED_CHECK(check_invlpga);
NESTED_CHECK(check_npt_two_roots);
/* checks_mmio.c: an NPT leaf on L1's MMIO or on no memory at all. */
NESTED_CHECK(check_npt_l1_mmio);
/* checks_vmcb.c: VMRUN's consistency checks. */
NESTED_CHECK(check_vmcb_invalid_asid0);
NESTED_CHECK(check_vmcb_invalid_efer_svme);
NESTED_CHECK(check_vmcb_invalid_cr0_nw);
NESTED_CHECK(check_vmcb_invalid_eventinj);
NESTED_CHECK(check_vmcb_invalid_no_vmrun_intercept);

/* checks_smp.c: two vCPUs, two L2s, one NPT, flushes by one of them. */
NESTED_CHECK(check_smp_two_l2);
__noreturn void nested_ap_main(u64 id);

/* bench.c: the L2-vs-L1 exit round trip figure (printed, not a check). */
void nested_bench(void);
