// SPDX-License-Identifier: MIT
/*
 * The figure of issue 9 item 6: an L2 exit's round trip against an L1
 * exit's, in the same run. L1: N CPUIDs, each an exit that Keel handles.
 * L2: N CPUIDs that L1 intercepts, each L2 -> Keel -> L1 (#VMEXIT emulated)
 * -> VMRUN -> Keel -> L2. Both timed with RDTSC (TSC_OFFSET 0: one clock).
 * The line is for scripts/bench-nested.sh; it is not a check.
 */
#include <keel/string.h>
#include "guest/nested/checks.h"
#include "guest/nested/l2.h"
#include "guest/nested/nested.h"

#define BENCH_N 500u

static unsigned l2_cpuids;

static int bench_cpuid(const struct l2_exit *e, char *why, size_t len)
{
	if (e->code != VMEXIT_CPUID)
		return L1_UNHANDLED;
	l2_cpuids++;
	*vmcb64(L1_VMCB, VMCB_RAX) = 0;
	l1_l2_regs.rbx = l1_l2_regs.rcx = l1_l2_regs.rdx = 0;
	l1_skip(e, 2);
	return L1_RESUME;
}

void nested_bench(void)
{
	u64 t0, l1_total, l1_cycles, l2_cycles;
	u32 r[4];
	char why[120];

	if (!l1_on_keel) { /* L1's CPUID is no exit at all without Keel */
		guest_printf("nested: no figure: not under Keel\n");
		return;
	}
	if (l1_need_l2(why, sizeof(why))) {
		guest_printf("nested: no figure: %s\n", why);
		return;
	}
	t0 = l1_rdtsc();
	for (unsigned i = 0; i < BENCH_N; i++)
		guest_cpuid(KEEL_CPUID_SIGNATURE_LEAF, r);
	l1_total = l1_rdtsc() - t0;
	l2_cpuids = 0;
	l2s.arg[0] = BENCH_N;
	l2s.arg[1] = L2_CPUID_LEAF;
	if (l1_run(l2_cpuid_loop, bench_cpuid, why, sizeof(why)) || l2_cpuids != BENCH_N) {
		guest_printf("nested: no figure: %s (%u of %u CPUIDs reached L1)\n", why,
			     l2_cpuids, BENCH_N);
		return;
	}
	l1_cycles = l1_total / BENCH_N;
	l2_cycles = l2s.out[0] / BENCH_N;
	if (!l1_cycles)
		l1_cycles = 1;
	guest_printf("nested: l1_exit_cycles=%llu l2_exit_cycles=%llu ratio=%llu.%02llu n=%u\n",
		     (unsigned long long)l1_cycles, (unsigned long long)l2_cycles,
		     (unsigned long long)(l2_cycles / l1_cycles),
		     (unsigned long long)(l2_cycles * 100 / l1_cycles % 100), BENCH_N);
}
