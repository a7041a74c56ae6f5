// SPDX-License-Identifier: MIT
/*
 * The L1 test hypervisor's entry (docs/nested-guest.md): every check in
 * order, each reported on COM1 as the self-test guest does ("PASS name",
 * "FAIL name: why", "SKIP name: why"), then the exit-cost figure, then the
 * DONE hypercall with the failure count (Keel's verdict line). Before each
 * check it names it ("nested: check NAME"), so a hang names its step.
 */
#include <keel/string.h>
#include "guest/nested/checks.h"
#include "guest/nested/nested.h"

#define DEBUG_EXIT_PORT 0xf4

__noreturn void guest_main(u64 mem_size, u64 fail_gpa, u64 map_top);
__noreturn void guest_ap_main(u64 id);

extern const u8 bare_ud_entry[];
extern u64 bare_ud_next;

/* The reference run: vector 6 through bare_trap.asm first. */
static void bare_ud_install(void)
{
	struct __packed { u16 limit; u64 base; } idtr;
	u32 *gate;
	u64 h = (u64)(uintptr_t)bare_ud_entry;

	asm volatile("sidt %0" : "=m"(idtr));
	gate = (u32 *)(uintptr_t)(idtr.base + 6 * 16);
	bare_ud_next = (gate[0] & 0xffff) | ((u64)(gate[1] >> 16) << 16) | ((u64)gate[2] << 32);
	gate[0] = (gate[0] & 0xffff0000u) | (u16)h;
	gate[1] = (gate[1] & 0xffffu) | ((u32)(h >> 16) << 16);
	gate[2] = (u32)(h >> 32);
}

/* guest/entry.asm's entry for other vCPUs (checks_smp.c starts one). */
void guest_ap_main(u64 id)
{
	nested_ap_main(id);
}

static const struct guest_test checks[] = {
	{ "svm-cpuid", check_svm_cpuid },
	{ "svm-ud-before-svme", check_svm_ud_before_svme },
	{ "svm-enable", check_svm_enable },
	{ "vmload-vmsave", check_vmload_vmsave },
	{ "l2-runs", check_l2_runs },
	{ "l2-ram-4k", check_l2_ram_4k },
	{ "l2-ram-2m", check_l2_ram_2m },
	{ "l2-ram-1g", check_l2_ram_1g },
	{ "npt-accessed-dirty", check_npt_accessed_dirty },
	{ "npt-remap-flush", check_npt_remap_flush },
	{ "npt-remap-asid", check_npt_remap_asid },
	{ "npt-remap-flush-asid", check_npt_remap_flush_asid },
	{ "invlpga", check_invlpga },
	{ "npf-not-present", check_npf_not_present },
	{ "npf-write-protect", check_npf_write_protect },
	{ "npf-fetch-nx", check_npf_fetch_nx },
	{ "npf-table-walk", check_npf_table_walk },
	{ "exit-cpuid", check_exit_cpuid },
	{ "exit-cpuid-not-intercepted", check_exit_cpuid_not_intercepted },
	{ "exit-hlt", check_exit_hlt },
	{ "exit-vmmcall", check_exit_vmmcall },
	{ "exit-vmmcall-not-intercepted", check_exit_vmmcall_not_intercepted },
	{ "exit-io", check_exit_io },
	{ "exit-msr", check_exit_msr },
	{ "exit-vmrun-in-l2", check_exit_vmrun_in_l2 },
	{ "event-inject-exitintinfo", check_event_inject_exitintinfo },
	{ "virq", check_virq },
	{ "npt-two-roots", check_npt_two_roots },
	{ "npt-l1-mmio", check_npt_l1_mmio },
	{ "intr-exit", check_intr_exit },
	{ "vmcb-invalid-asid0", check_vmcb_invalid_asid0 },
	{ "vmcb-invalid-efer-svme", check_vmcb_invalid_efer_svme },
	{ "vmcb-invalid-cr0-nw", check_vmcb_invalid_cr0_nw },
	{ "vmcb-invalid-eventinj", check_vmcb_invalid_eventinj },
	{ "vmcb-invalid-no-vmrun-intercept", check_vmcb_invalid_no_vmrun_intercept },
	{ "dirty-log-l2", check_dirty_log_l2 },
	{ "smp-two-l2", check_smp_two_l2 },
};

void guest_main(u64 mem_size, u64 fail_gpa, u64 map_top)
{
	struct guest_info gi = {
		.mem_size = mem_size,
		.map_top = map_top,
		.fail_test = fail_gpa ? (const char *)(uintptr_t)fail_gpa : "",
	};
	u64 failures = 0, run = 0;

	u32 sig[4];

	guest_traps_init();
	guest_detect_vendor();
	guest_cpuid(KEEL_CPUID_SIGNATURE_LEAF, sig);
	l1_on_keel = sig[1] == KEEL_CPUID_SIG_EBX;
	if (!l1_on_keel)
		bare_ud_install();
	guest_printf("nested: L1 test hypervisor, %llu MiB of RAM, %zu checks, %s\n",
		     (unsigned long long)(mem_size >> 20), ARRAY_SIZE(checks),
		     l1_on_keel ? "under Keel" : "reference run without Keel");
	/* keel.cfg guest-fail names a check that must then fail. */
	guest_run_tests(checks, ARRAY_SIZE(checks), &gi,
			&(struct guest_run_opts){ .prefix = "nested", .flip_must_fail = true },
			&failures, &run);
	guest_printf("nested: check bench\n");
	nested_bench();
	guest_printf("nested: %llu of %llu failed\n", (unsigned long long)failures,
		     (unsigned long long)run);
	if (!l1_on_keel) { /* QEMU's isa-debug-exit: status 1 = pass, 3 = fail */
		guest_outl(DEBUG_EXIT_PORT, failures ? 1 : 0);
		for (;;)
			asm volatile("cli; hlt");
	}
	guest_done(failures, run);
}
