// SPDX-License-Identifier: MIT
/*
 * Events and address spaces across the levels: an event L1 injects
 * (EVENTINJ) whose delivery faults comes back in EXITINTINFO; a virtual
 * interrupt (V_IRQ) exits with VINTR when L1 intercepts it and is
 * delivered to L2 when it does not; two NPTs (nCR3) under two ASIDs,
 * alternated with no flush, each give L2 its own page.
 */
#include <keel/string.h>
#include "guest/nested/checks.h"
#include "guest/nested/l2.h"
#include "guest/nested/nested.h"

#define VEC_GP 13
/* #GP's error code for an IDT entry is vector << 3 | IDT (bit 1) | EXT
 * (bit 0, external event). QEMU's SVM writes vector << 4 | IDT (its 16-byte
 * gate size) without EXT, and gives a virtual interrupt type 3 in
 * EXITINTINFO; under Keel, on QEMU, L1 sees the same (Keel passes the
 * hardware's values on). So the checks compare what both agree on: the
 * vector in EXITINTINFO and in the error code, IDT set, valid set. */
#define ERR_IDT BIT(1)
#define INJECT_VECTOR 0x20
#define VIRQ_VECTOR 0x21

static u64 want_vector;
static unsigned seen;

static u64 *ctl(unsigned off)
{
	return vmcb64(L1_VMCB, off);
}

/* L2 has no IDT (limit 0): delivering a vector faults with #GP, which L1
 * intercepts; EXITINTINFO holds the event that was being delivered. */
static int gp_in_delivery(const struct l2_exit *e, char *why, size_t len)
{
	if (e->code != VMEXIT_EXCP_BASE + VEC_GP || seen)
		return L1_UNHANDLED;
	seen++;
	*ctl(VMCB_EVENTINJ) = 0;
	*vmcb32(L1_VMCB, VMCB_INT_CTL) &= ~INT_CTL_V_IRQ;
	u64 index = e->info1 >> 3;
	bool err_ok = (e->info1 & ERR_IDT) && (index == want_vector || index == want_vector << 1);

	if (!err_ok || (e->intinfo & 0xff) != want_vector || !(e->intinfo & EVENTINJ_VALID)) {
		snprintf(why, len, "#GP exit: EXITINFO1 0x%llx EXITINTINFO 0x%llx, want vector 0x%llx "
			 "in both", (unsigned long long)e->info1, (unsigned long long)e->intinfo,
			 (unsigned long long)want_vector);
		return -1;
	}
	return L1_RESUME; /* the event is dropped; L2 goes on */
}

NESTED_CHECK(check_event_inject_exitintinfo)
{
	if (l1_need_l2(why, len))
		return -1;
	l1_l2_start(l2_nop);
	*ctl(VMCB_EVENTINJ) = EVENTINJ_VALID | EVENTINJ_TYPE_INTR | INJECT_VECTOR;
	want_vector = INJECT_VECTOR;
	seen = 0;
	if (l1_continue(gp_in_delivery, why, len))
		return -1;
	if (!seen) {
		snprintf(why, len, "the injected vector 0x%x reached no #GP exit", INJECT_VECTOR);
		return -1;
	}
	return 0;
}

static int vintr_exit(const struct l2_exit *e, char *why, size_t len)
{
	if (e->code != VMEXIT_VINTR || seen)
		return L1_UNHANDLED;
	seen++;
	*vmcb32(L1_VMCB, VMCB_INT_CTL) &= ~INT_CTL_V_IRQ;
	*vmcb32(L1_VMCB, VMCB_INTERCEPT_MISC1) &= ~INTERCEPT_VINTR;
	return L1_RESUME;
}

static void virq_pending(void)
{
	*vmcb32(L1_VMCB, VMCB_INT_CTL) = INT_CTL_V_INTR_MASKING | INT_CTL_V_IRQ |
					 (0xfu << INT_CTL_V_INTR_PRIO_SHIFT);
	*vmcb8(L1_VMCB, VMCB_INT_VECTOR) = VIRQ_VECTOR;
}

NESTED_CHECK(check_virq)
{
	int r;

	if (l1_need_l2(why, len))
		return -1;
	/* Intercepted: VINTR once L2 sets IF. */
	virq_pending();
	*vmcb32(L1_VMCB, VMCB_INTERCEPT_MISC1) |= INTERCEPT_VINTR;
	seen = 0;
	r = l1_run(l2_sti, vintr_exit, why, len);
	*vmcb32(L1_VMCB, VMCB_INTERCEPT_MISC1) &= ~INTERCEPT_VINTR;
	*vmcb32(L1_VMCB, VMCB_INT_CTL) = INT_CTL_V_INTR_MASKING;
	if (r)
		return -1;
	if (!seen) {
		snprintf(why, len, "V_IRQ with VINTR intercepted: no VINTR exit after STI");
		return -1;
	}
	/* Not intercepted: L2 takes vector VIRQ_VECTOR (and faults on its
	 * missing IDT, which shows the vector). */
	virq_pending();
	want_vector = VIRQ_VECTOR;
	seen = 0;
	r = l1_run(l2_sti, gp_in_delivery, why, len);
	*vmcb32(L1_VMCB, VMCB_INT_CTL) = INT_CTL_V_INTR_MASKING;
	if (r)
		return -1;
	if (!seen) {
		snprintf(why, len, "V_IRQ not intercepted: L2 never took vector 0x%x", VIRQ_VECTOR);
		return -1;
	}
	return 0;
}

/* Two NPTs differing in one page, under ASIDs 1 and 2, alternated with
 * TLB_CONTROL 0: each VMRUN must translate through its own nCR3. */
NESTED_CHECK(check_npt_two_roots)
{
	u64 l2 = L2_REGION_4K + 11 * SZ_4K, a = L1_4K_PAGE(11), b = L1_SPARE + 0x4000;
	u64 root_a = npt_root(), root_b;
	int r = 0;

	if (l1_need_l2(why, len))
		return -1;
	*(u64 *)(uintptr_t)a = 0xaaaa0000aaaa0000ull;
	*(u64 *)(uintptr_t)b = 0xbbbb0000bbbb0000ull;
	root_b = npt_clone_with(NGPA(l2), GPA(b), PTE_P | PTE_W | PTE_U);
	if (!root_b) {
		snprintf(why, len, "out of NPT table pages");
		return -1;
	}
	l2s.arg[0] = l2;
	for (unsigned i = 0; i < 6 && !r; i++) {
		bool use_b = i & 1;
		u64 want = *(u64 *)(uintptr_t)(use_b ? b : a);

		*ctl(VMCB_NCR3) = use_b ? root_b : root_a;
		*vmcb32(L1_VMCB, VMCB_ASID) = use_b ? L2_ASID_ALT : L2_ASID;
		r = l1_run(l2_read, NULL, why, len);
		if (!r && l2s.out[0] != want) {
			snprintf(why, len, "run %u on NPT %c (ASID %u): L2 read 0x%llx, want 0x%llx", i,
				 use_b ? 'B' : 'A', use_b ? L2_ASID_ALT : L2_ASID,
				 (unsigned long long)l2s.out[0], (unsigned long long)want);
			r = -1;
		}
	}
	*ctl(VMCB_NCR3) = root_a;
	*vmcb32(L1_VMCB, VMCB_ASID) = L2_ASID;
	*vmcb8(L1_VMCB, VMCB_TLB_CONTROL) = TLB_CONTROL_FLUSH_ALL;
	return r;
}
