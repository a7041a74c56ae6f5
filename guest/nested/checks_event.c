// SPDX-License-Identifier: MIT
/*
 * Events and address spaces across the levels: an event L1 injects
 * (EVENTINJ) whose delivery faults comes back in EXITINTINFO; a virtual
 * interrupt (V_IRQ) exits with VINTR when L1 intercepts it and is
 * delivered to L2 when it does not; L1's LAPIC timer firing while L2 runs
 * exits with INTR when L1 intercepts it.
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

/* The INTR exit: L1's own LAPIC timer (Keel's emulated xAPIC) expires
 * while L2 spins; L1 intercepts INTR and VMRUNs with IF = 1, so the
 * interrupt must end L2's run with VMEXIT_INTR; L1 then takes it itself. */
static u64 irqs_before;

/* The interrupt is still pending in L1's LAPIC: L1 takes it now (IF = 1
 * for a moment; GIF is set again), or the next VMRUN would exit at once. */
static int intr_exit(const struct l2_exit *e, char *why, size_t len)
{
	if (e->code != VMEXIT_INTR || seen)
		return L1_UNHANDLED;
	seen++;
	for (unsigned i = 0; i < 100000 && guest_irq_count == irqs_before; i++)
		asm volatile("sti; nop; cli");
	l2s.arg[1] = 1; /* L2 stops spinning */
	return L1_RESUME;
}

static void lapic_write(u32 reg, u32 v)
{
	*(volatile u32 *)(uintptr_t)(GUEST_LAPIC_BASE + reg) = v;
}

NESTED_CHECK(check_intr_exit)
{
	u64 irqs = irqs_before = guest_irq_count;
	int r;

	if (l1_need_l2(why, len))
		return -1;
	lapic_write(0xf0, 0x1ff);             /* SVR: enabled */
	lapic_write(0x3e0, 0xb);              /* divide by 1 */
	lapic_write(0x320, GUEST_IRQ_VECTOR); /* LVT timer: one-shot */
	*vmcb32(L1_VMCB, VMCB_INTERCEPT_MISC1) |= INTERCEPT_INTR;
	l2s.arg[0] = 20000000000ull;          /* seconds of TSC: the bound */
	l2s.arg[1] = 0;
	seen = 0;
	l1_run_with_irq = true;
	lapic_write(0x380, 200000);           /* initial count: go */
	r = l1_run(l2_spin, intr_exit, why, len);
	l1_run_with_irq = false;
	*vmcb32(L1_VMCB, VMCB_INTERCEPT_MISC1) &= ~INTERCEPT_INTR;
	lapic_write(0x380, 0);
	if (r)
		return -1;
	if (!seen || !l2s.out[0]) {
		snprintf(why, len, "L1's timer interrupt during L2 gave no INTR exit (L2 %s)",
			 l2s.out[0] ? "was stopped" : "ran out its bound");
		return -1;
	}
	if (guest_irq_count != irqs + 1) {
		snprintf(why, len, "after the INTR exit L1 took %llu timer interrupts, want 1 (still pending?)",
			 (unsigned long long)(guest_irq_count - irqs));
		return -1;
	}
	return 0;
}
