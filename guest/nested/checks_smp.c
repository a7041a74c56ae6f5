// SPDX-License-Identifier: MIT
/*
 * Two L1 vCPUs, each running its own L2 at the same time on the same NPT
 * and ASID (so, under Keel, on the same shadow root): vCPU 1 enables SVM
 * for itself (its own EFER.SVME, HSAVE and VMCB) and its L2 writes and
 * checks 256 pages of the 4 KiB region round after round, while vCPU 0's
 * L2 does the same on other pages and vCPU 0 keeps remapping a third page
 * of the shared NPT with TLB_CONTROL 1; vCPU 1's L2 goes on until vCPU 0's
 * is done. vCPU 1's pages are never edited,
 * so whatever Keel drops or rebuilds for vCPU 0's flushes, vCPU 1's L2 must
 * read back exactly what it wrote. Needs two vCPUs and Keel's VCPU_START.
 */
#include <keel/string.h>
#include "guest/nested/checks.h"
#include "guest/nested/l2.h"
#include "guest/nested/nested.h"

#define AP_ID 1
#define AP_BASE (L1_SPARE + 0x100000)    /* vCPU 1's SVM pages and stack */
#define AP_HSAVE AP_BASE
#define AP_VMCB (AP_BASE + 0x1000)
#define AP_STACK_TOP (AP_BASE + 0x20000)
#define AP_L2_STACK_TOP 0xc0000ull       /* below vCPU 0's L2 stack */
#define AP_FIRST_PAGE 256                 /* L2 4 KiB-region pages 256..511 */
#define BSP_FIRST_PAGE 32                 /* 32..63 */
#define PAGES_EACH 32
#define ROUNDS 12
#define AP_ROUNDS_MAX 2000 /* vCPU 1 runs until vCPU 0's L2 is done (bounded) */
#define WAIT_TSC (120ull * 1000000000ull)
#define REMAP_PAGE 2

extern const u8 guest_ap_entry[];

/* One L2's loop: arguments and results, one set per vCPU. */
struct l2_pages_job {
	u64 first_page, pages, rounds, seed, stop;
	u64 done_rounds, bad_addr, bad_got;
};
static volatile struct l2_pages_job jobs[2];
static volatile u32 ap_state; /* 0 idle, 1 running, 2 done, 3 failed */
static volatile u64 ap_exit_code, ap_exit_rip;
static struct l2_regs ap_regs;

/* L2: each round writes every page of its range, then reads them all back,
 * then VMMCALLs (rax = the round) so L1 sees progress. rdi = its job. */
static void l2_pages_rounds(volatile struct l2_pages_job *j)
{
	for (u64 r = 1; r <= j->rounds; r++) {
		for (u64 i = 0; i < j->pages; i++) {
			u64 a = L2_REGION_4K + (j->first_page + i) * SZ_4K + (r % 64) * 8;

			*(volatile u64 *)(uintptr_t)a = l2_pattern(a, j->seed + r);
		}
		for (u64 i = 0; i < j->pages; i++) {
			u64 a = L2_REGION_4K + (j->first_page + i) * SZ_4K + (r % 64) * 8;
			u64 got = *(volatile u64 *)(uintptr_t)a;

			if (got != l2_pattern(a, j->seed + r)) {
				j->bad_addr = a;
				j->bad_got = got;
				return;
			}
		}
		j->done_rounds = r;
		if (j->stop)
			return;
		asm volatile("vmmcall" : : "a"(r) : "memory");
	}
}

static void l2_job_ap(void)
{
	l2_pages_rounds(&jobs[1]);
}

static void l2_job_bsp(void)
{
	l2_pages_rounds(&jobs[0]);
}

static u64 rdtsc_now(void)
{
	return l1_rdtsc();
}

/* vCPU 1: SVM on for itself, its own VMCB, its L2 to the end. */
static void ap_run(void)
{
	u64 v = AP_VMCB;

	l1_wrmsr(MSR_EFER, l1_rdmsr(MSR_EFER) | EFER_SVME | (l1_caps.nx ? EFER_NXE : 0));
	l1_wrmsr(MSR_VM_HSAVE_PA, AP_HSAVE);
	l1_vmcb_defaults(v);
	*vmcb64(v, VMCB_RSP) = AP_L2_STACK_TOP;
	memset(&ap_regs, 0, sizeof(ap_regs));
	ap_regs.rsi = (u64)(uintptr_t)l2_job_ap;
	for (unsigned n = 0; n < AP_ROUNDS_MAX + 1; n++) {
		u64 code;

		*vmcb32(v, VMCB_CLEAN) = 0;
		l1_vmrun(v, &ap_regs, 0);
		*vmcb8(v, VMCB_TLB_CONTROL) = TLB_CONTROL_NONE;
		code = *vmcb64(v, VMCB_EXITCODE);
		if (code == VMEXIT_VMMCALL && *vmcb64(v, VMCB_RAX) == L2_DONE) {
			ap_state = 2;
			return;
		}
		if (code != VMEXIT_VMMCALL)
			break;
		*vmcb64(v, VMCB_RIP) = *vmcb64(v, VMCB_RIP) + 3;
	}
	ap_exit_code = *vmcb64(v, VMCB_EXITCODE);
	ap_exit_rip = *vmcb64(v, VMCB_RIP);
	ap_state = 3;
}

void nested_ap_main(u64 id)
{
	guest_traps_load();
	if (id == AP_ID && ap_state == 1)
		ap_run();
	for (;;)
		guest_hypercall3(KEEL_HC_VCPU_EXIT, 0, 0, 0);
}

/* vCPU 0's exits while its L2 runs: progress VMMCALLs, between which L1
 * remaps REMAP_PAGE back and forth and flushes everything. */
static unsigned bsp_remaps;
static u64 ap_round_at_bsp_end;

static int bsp_exit(const struct l2_exit *e, char *why, size_t len)
{
	u64 *leaf = npt_leaf(NGPA(L2_REGION_4K + REMAP_PAGE * SZ_4K));

	if (e->code != VMEXIT_VMMCALL)
		return L1_UNHANDLED;
	*leaf = (bsp_remaps++ & 1 ? L1_4K_PAGE(REMAP_PAGE) : L1_SPARE + 0x7000) |
		PTE_P | PTE_W | PTE_U;
	*vmcb8(L1_VMCB, VMCB_TLB_CONTROL) = TLB_CONTROL_FLUSH_ALL;
	l1_skip(e, 3);
	return L1_RESUME;
}

static void job_init(volatile struct l2_pages_job *j, u64 first, u64 seed, u64 rounds)
{
	j->first_page = first;
	j->pages = PAGES_EACH;
	j->rounds = rounds;
	j->seed = seed;
	j->stop = 0;
	j->done_rounds = 0;
	j->bad_addr = 0;
	j->bad_got = 0;
}

NESTED_CHECK(check_smp_two_l2)
{
	u64 t0, r;
	int ret;

	if (l1_need_l2(why, len))
		return -1;
	if (!l1_on_keel || guest_hypercall3(KEEL_HC_VCPUS, 0, 0, 0) < 2) {
		snprintf(why, len, "needs a second vCPU under Keel");
		return GUEST_TEST_SKIP;
	}
	job_init(&jobs[0], BSP_FIRST_PAGE, 100, ROUNDS);
	job_init(&jobs[1], AP_FIRST_PAGE, 200, AP_ROUNDS_MAX);
	ap_state = 1;
	r = guest_hypercall3(KEEL_HC_VCPU_START, AP_ID, (u64)(uintptr_t)guest_ap_entry, AP_STACK_TOP);
	if (r) {
		snprintf(why, len, "starting vCPU 1: error %lld", (long long)r);
		return -1;
	}
	t0 = rdtsc_now(); /* vCPU 0's L2 starts once vCPU 1's is under way */
	while (ap_state == 1 && !jobs[1].done_rounds && rdtsc_now() - t0 < WAIT_TSC)
		asm volatile("pause");
	bsp_remaps = 0;
	ret = l1_run(l2_job_bsp, bsp_exit, why, len);
	ap_round_at_bsp_end = jobs[1].done_rounds;
	jobs[1].stop = 1;
	*npt_leaf(NGPA(L2_REGION_4K + REMAP_PAGE * SZ_4K)) = L1_4K_PAGE(REMAP_PAGE) | PTE_P |
							       PTE_W | PTE_U;
	*vmcb8(L1_VMCB, VMCB_TLB_CONTROL) = TLB_CONTROL_FLUSH_ALL;
	t0 = rdtsc_now();
	while (ap_state == 1 && rdtsc_now() - t0 < WAIT_TSC)
		asm volatile("pause");
	if (ret)
		return -1;
	if (jobs[0].done_rounds != ROUNDS) {
		snprintf(why, len, "vCPU 0's L2: %llu of %u rounds, 0x%llx read 0x%llx",
			 (unsigned long long)jobs[0].done_rounds, ROUNDS,
			 (unsigned long long)jobs[0].bad_addr, (unsigned long long)jobs[0].bad_got);
		return -1;
	}
	if (ap_state != 2 || jobs[1].bad_addr || jobs[1].done_rounds < 2) {
		snprintf(why, len, "vCPU 1's L2: %s, %llu of %u rounds, 0x%llx read 0x%llx, exit 0x%llx "
			 "at 0x%llx", ap_state == 1 ? "did not finish" : "ended",
			 (unsigned long long)jobs[1].done_rounds, AP_ROUNDS_MAX,
			 (unsigned long long)jobs[1].bad_addr, (unsigned long long)jobs[1].bad_got,
			 (unsigned long long)ap_exit_code, (unsigned long long)ap_exit_rip);
		return -1;
	}
	guest_printf("nested: smp: vCPU 0's L2 %u rounds with %u remaps+flushes, vCPU 1's L2 at "
		     "round %llu then, %llu at its end\n", ROUNDS, bsp_remaps,
		     (unsigned long long)ap_round_at_bsp_end, (unsigned long long)jobs[1].done_rounds);
	return 0;
}
