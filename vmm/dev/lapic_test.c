// SPDX-License-Identifier: MIT
/* Hosted tests of the local APIC (lapic.c): reset state, TPR/PPR and
 * priority, EOI (and the broadcast for level vectors), SVR, ESR, the timer
 * in its three modes, APIC_BASE relocation / disable / x2APIC rules, the
 * x2APIC MSRs, ICR self-IPIs and IPIs to others. */
#include <errno.h>
#include "vmm/dev/dev_test.h"
#include "vmm/dev/lapic.h"
#include "vmm/dev/layout.h"

static struct lapic apic;
static struct lapic_env env;
static u8 last_eoi;
static unsigned eois, ipis, kicks;
static u64 last_icr;

static void on_eoi(void *ctx, u8 v) { last_eoi = v; eois++; }
static void on_ipi(void *ctx, unsigned from, u64 icr) { last_icr = icr; ipis++; }
static void on_kick(void *ctx, unsigned vcpu) { kicks++; }

static int setup(void **state)
{
	fake_now = 1000000;
	env = (struct lapic_env){ .now_ns = fake_now_ns, .eoi = on_eoi, .send_ipi = on_ipi,
				  .kick = on_kick, .tsc_hz = 1000000000ull, .nr_vcpus = 2,
				  .phys_bits = 40 };
	lapic_init(&apic, &env, 0);
	eois = ipis = kicks = 0;
	return 0;
}

static u32 rd(u32 off)
{
	u64 v = 0;

	assert_true(lapic_mmio(&apic, PLAT_LAPIC_BASE + off, 4, false, &v));
	return (u32)v;
}

static void wr(u32 off, u32 val)
{
	u64 v = val;

	assert_true(lapic_mmio(&apic, PLAT_LAPIC_BASE + off, 4, true, &v));
}

static void sw_enable(void)
{
	wr(0xf0, 0x1ff);
}

static void test_reset_state(void **state)
{
	u64 v;

	SCENARIO("power-up: ID, version, SVR, masked LVTs, APIC_BASE");
	assert_int_equal(rd(0x20), 0);
	assert_int_equal(rd(0x30), 0x00050014); /* 6 LVTs, no directed EOI (bit 24) */
	assert_int_equal(rd(0xf0), 0xff);
	for (u32 off = 0x320; off <= 0x370; off += 0x10)
		assert_int_equal(rd(off), 0x10000);
	assert_int_equal(rd(0xe0), 0xffffffffu);
	assert_int_equal(lapic_rdmsr(&apic, MSR_APIC_BASE, &v), 0);
	assert_int_equal(v, 0xfee00900ull);
}

static void test_priority_and_eoi(void **state)
{
	SCENARIO("IRR/ISR/PPR: higher class first, lower blocked until EOI");
	sw_enable();
	lapic_accept_irq(&apic, 0x51, false);
	lapic_accept_irq(&apic, 0x61, false);
	assert_true(kicks >= 2);
	assert_int_equal(rd(0x200 + 0x20), (1u << (0x51 - 0x40)) | 0); /* IRR word 2 */
	assert_int_equal(lapic_pending_vector(&apic), 0x61);
	lapic_accept_vector(&apic, 0x61);
	assert_int_equal(rd(0xa0), 0x60); /* PPR = ISR class */
	assert_int_equal(lapic_pending_vector(&apic), -1);
	assert_int_equal(rd(0x100 + 0x30), 1u << (0x61 - 0x60)); /* ISR word 3 */
	wr(0xb0, 0);
	assert_int_equal(eois, 0); /* edge: no broadcast */
	assert_int_equal(lapic_pending_vector(&apic), 0x51);
	wr(0x80, 0x50); /* TPR class 5 blocks class 5 */
	assert_int_equal(lapic_pending_vector(&apic), -1);
	assert_int_equal(rd(0xa0), 0x50);
	lapic_set_cr8(&apic, 4);
	assert_int_equal(rd(0x80), 0x40);
	assert_int_equal(lapic_get_cr8(&apic), 4);
	assert_int_equal(lapic_pending_vector(&apic), 0x51);
}

static void test_level_eoi_broadcast(void **state)
{
	SCENARIO("EOI of a level vector is broadcast to the I/O APIC");
	sw_enable();
	lapic_accept_irq(&apic, 0x40, true);
	assert_int_equal(rd(0x180 + 0x20), 1u); /* TMR */
	lapic_accept_vector(&apic, 0x40);
	wr(0xb0, 0);
	assert_int_equal(eois, 1);
	assert_int_equal(last_eoi, 0x40);
}

static void test_svr_masks(void **state)
{
	SCENARIO("SVR software disable masks the LVTs and keeps them masked");
	lapic_accept_irq(&apic, 0x41, false); /* software-disabled: refused */
	assert_int_equal(lapic_pending_vector(&apic), -1);
	assert_int_equal(apic.dropped, 1);
	lapic_accept_nmi(&apic);
	assert_true(lapic_take_nmi(&apic));
	sw_enable();
	wr(0x350, 0x700); /* LINT0 ExtINT unmasked */
	assert_int_equal(rd(0x350), 0x700);
	wr(0xf0, 0xff);
	assert_int_equal(rd(0x350), 0x10700);
	wr(0x350, 0x700);
	assert_int_equal(rd(0x350), 0x10700);
	sw_enable();
	wr(0x350, 0x700);
	assert_int_equal(rd(0x350), 0x700);
}

static void test_esr(void **state)
{
	SCENARIO("ESR: errors become readable at the next ESR write");
	sw_enable();
	wr(0x370, 0xfe); /* error LVT vector 0xfe */
	wr(0x300, 0x40003); /* self IPI, illegal vector 3 */
	assert_int_equal(rd(0x280), 0);
	wr(0x280, 0);
	assert_int_equal(rd(0x280), 0x20); /* send illegal vector */
	assert_int_equal(lapic_pending_vector(&apic), 0xfe);
	wr(0x280, 0);
	assert_int_equal(rd(0x280), 0);
	lapic_accept_irq(&apic, 5, false);
	wr(0x280, 0);
	assert_int_equal(rd(0x280), 0x40); /* receive illegal vector */
}

static void test_timer_oneshot(void **state)
{
	SCENARIO("one-shot timer: count-down, expiry, TMCCT 0");
	sw_enable();
	wr(0x3e0, 0xb); /* divide by 1 */
	wr(0x320, 0xec);
	wr(0x380, 1000);
	assert_int_equal(lapic_next_event_ns(&apic), fake_now + 1000);
	fake_now += 400;
	assert_int_equal(rd(0x390), 600);
	lapic_advance(&apic, fake_now);
	assert_int_equal(lapic_pending_vector(&apic), -1);
	fake_now += 600;
	lapic_advance(&apic, fake_now);
	assert_int_equal(lapic_pending_vector(&apic), 0xec);
	assert_int_equal(rd(0x390), 0);
	assert_int_equal(lapic_next_event_ns(&apic), PLAT_NO_EVENT);
}

static void test_timer_periodic(void **state)
{
	u64 t0 = fake_now;

	SCENARIO("periodic timer with divide 2; missed periods coalesce");
	sw_enable();
	wr(0x3e0, 0x0); /* divide by 2 */
	wr(0x320, 0x20000 | 0xed);
	wr(0x380, 100);
	assert_int_equal(lapic_next_event_ns(&apic), t0 + 200);
	fake_now = t0 + 250;
	assert_int_equal(rd(0x390), 75);
	lapic_advance(&apic, fake_now);
	assert_int_equal(lapic_pending_vector(&apic), 0xed);
	assert_int_equal(lapic_next_event_ns(&apic), t0 + 400);
	lapic_accept_vector(&apic, 0xed);
	wr(0xb0, 0);
	fake_now = t0 + 1550;
	lapic_advance(&apic, fake_now);
	assert_int_equal(apic.timer_fired, 2);
	assert_int_equal(lapic_next_event_ns(&apic), t0 + 1600);
	wr(0x380, 0); /* stop */
	assert_int_equal(lapic_next_event_ns(&apic), PLAT_NO_EVENT);
}

static void test_timer_deadline(void **state)
{
	u64 v;

	SCENARIO("TSC-deadline: arm, fire, reads 0 after; TMICT ignored");
	sw_enable();
	assert_int_equal(lapic_wrmsr(&apic, MSR_TSC_DEADLINE, fake_now + 10), 0);
	assert_int_equal(lapic_next_event_ns(&apic), PLAT_NO_EVENT); /* not in deadline mode */
	wr(0x320, 0x40000 | 0xee);
	wr(0x380, 5);
	assert_int_equal(rd(0x380), 0);
	assert_int_equal(lapic_wrmsr(&apic, MSR_TSC_DEADLINE, fake_now + 3000), 0);
	assert_int_equal(lapic_next_event_ns(&apic), fake_now + 3000);
	assert_int_equal(lapic_rdmsr(&apic, MSR_TSC_DEADLINE, &v), 0);
	assert_int_equal(v, fake_now + 3000);
	fake_now += 3000;
	lapic_advance(&apic, fake_now);
	assert_int_equal(lapic_pending_vector(&apic), 0xee);
	assert_int_equal(lapic_rdmsr(&apic, MSR_TSC_DEADLINE, &v), 0);
	assert_int_equal(v, 0);
	/* A deadline in the past fires at once. */
	lapic_accept_vector(&apic, 0xee);
	wr(0xb0, 0);
	assert_int_equal(lapic_wrmsr(&apic, MSR_TSC_DEADLINE, 1), 0);
	assert_int_equal(lapic_pending_vector(&apic), 0xee);
}

static void test_apic_base(void **state)
{
	u64 v;

	SCENARIO("APIC_BASE: relocation, reserved bits, disable resets, x2APIC transitions");
	sw_enable();
	wr(0x80, 0x30);
	assert_int_equal(lapic_wrmsr(&apic, MSR_APIC_BASE, 0xfed00000ull | APIC_BASE_EN), 0);
	assert_false(lapic_mmio(&apic, PLAT_LAPIC_BASE + 0x80, 4, false, &v));
	assert_true(lapic_mmio(&apic, 0xfed00080ull, 4, false, &v));
	assert_int_equal(v, 0x30);
	assert_int_equal(lapic_rdmsr(&apic, MSR_APIC_BASE, &v), 0);
	assert_int_equal(v, 0xfed00900ull); /* BSP stays */
	assert_int_equal(lapic_wrmsr(&apic, MSR_APIC_BASE, PLAT_LAPIC_BASE | APIC_BASE_EN | 1), -EINVAL);
	assert_int_equal(lapic_wrmsr(&apic, MSR_APIC_BASE, (1ull << 40) | APIC_BASE_EN), -EINVAL);
	assert_int_equal(lapic_wrmsr(&apic, MSR_APIC_BASE, PLAT_LAPIC_BASE | APIC_BASE_EXTD), -EINVAL);
	/* disable: the page is gone, state resets */
	lapic_accept_irq(&apic, 0x80, false);
	assert_int_equal(lapic_wrmsr(&apic, MSR_APIC_BASE, PLAT_LAPIC_BASE), 0);
	assert_false(lapic_mmio(&apic, PLAT_LAPIC_BASE + 0x80, 4, false, &v));
	assert_int_equal(lapic_pending_vector(&apic), -1);
	lapic_accept_irq(&apic, 0x81, false);
	assert_int_equal(lapic_wrmsr(&apic, MSR_APIC_BASE, PLAT_LAPIC_BASE | APIC_BASE_EN | APIC_BASE_EXTD),
			 -EINVAL); /* disabled -> x2APIC */
	assert_int_equal(lapic_wrmsr(&apic, MSR_APIC_BASE, PLAT_LAPIC_BASE | APIC_BASE_EN), 0);
	assert_int_equal(rd(0x80), 0);
	assert_int_equal(rd(0xf0), 0xff);
	assert_int_equal(lapic_pending_vector(&apic), -1); /* nothing accepted while off */
	assert_int_equal(lapic_wrmsr(&apic, MSR_APIC_BASE, PLAT_LAPIC_BASE | APIC_BASE_EN | APIC_BASE_EXTD), 0);
	assert_true(lapic_x2apic_mode(&apic));
	assert_false(lapic_mmio(&apic, PLAT_LAPIC_BASE + 0x80, 4, false, &v));
	assert_int_equal(lapic_wrmsr(&apic, MSR_APIC_BASE, PLAT_LAPIC_BASE | APIC_BASE_EN), -EINVAL);
	assert_int_equal(lapic_wrmsr(&apic, MSR_APIC_BASE, PLAT_LAPIC_BASE), 0);
	assert_false(lapic_x2apic_mode(&apic));
}

static void to_x2apic(struct lapic *a)
{
	assert_int_equal(lapic_wrmsr(a, MSR_APIC_BASE, PLAT_LAPIC_BASE | APIC_BASE_EN | APIC_BASE_EXTD), 0);
}

static void test_x2apic_msrs(void **state)
{
	struct lapic b;
	u64 v;

	SCENARIO("x2APIC MSRs: IDs, LDR, #GP on reserved, read-only, write-only");
	assert_int_equal(lapic_rdmsr(&apic, 0x808, &v), -EINVAL); /* not in x2APIC mode */
	lapic_init(&b, &env, 1);
	to_x2apic(&b);
	assert_int_equal(lapic_rdmsr(&b, 0x802, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(lapic_rdmsr(&b, 0x80d, &v), 0);
	assert_int_equal(v, 0x2); /* cluster 0, bit 1 */
	assert_int_equal(lapic_wrmsr(&b, 0x802, 5), -EINVAL);   /* ID read-only */
	assert_int_equal(lapic_wrmsr(&b, 0x80d, 5), -EINVAL);   /* LDR read-only */
	assert_int_equal(lapic_rdmsr(&b, 0x80b, &v), -EINVAL);  /* EOI write-only */
	assert_int_equal(lapic_wrmsr(&b, 0x80b, 1), -EINVAL);   /* EOI takes 0 */
	assert_int_equal(lapic_wrmsr(&b, 0x80b, 0), 0);
	assert_int_equal(lapic_rdmsr(&b, 0x809, &v), -EINVAL);  /* no APR */
	assert_int_equal(lapic_rdmsr(&b, 0x80e, &v), -EINVAL);  /* no DFR */
	assert_int_equal(lapic_rdmsr(&b, 0x831, &v), -EINVAL);  /* ICR is one MSR */
	assert_int_equal(lapic_rdmsr(&b, 0x83f, &v), -EINVAL);  /* SELF_IPI write-only */
	assert_int_equal(lapic_rdmsr(&b, 0x82f, &v), -EINVAL);  /* no CMCI LVT */
	assert_int_equal(lapic_rdmsr(&b, 0x8ff, &v), -EINVAL);
	assert_int_equal(lapic_wrmsr(&b, 0x808, 0x100), -EINVAL); /* TPR reserved bits */
	assert_int_equal(lapic_wrmsr(&b, 0x808, 1ull << 32), -EINVAL);
	assert_int_equal(lapic_wrmsr(&b, 0x828, 1), -EINVAL);   /* ESR takes 0 */
	assert_int_equal(lapic_wrmsr(&b, 0x839, 0), -EINVAL);   /* TMCCT read-only */
	assert_int_equal(lapic_wrmsr(&b, 0x80f, 0x1ff), 0);
	assert_int_equal(lapic_wrmsr(&b, 0x83f, 0x30), 0);      /* SELF_IPI */
	assert_int_equal(lapic_pending_vector(&b), 0x30);
	assert_int_equal(lapic_wrmsr(&b, 0x83f, 0x130), -EINVAL);
	assert_int_equal(lapic_wrmsr(&b, 0x830, (1ull << 32) | 0x4031), 0); /* dest = own ID */
	assert_int_equal(lapic_rdmsr(&b, 0x830, &v), 0);
	assert_int_equal(v, (1ull << 32) | 0x4031);
	assert_int_equal(lapic_rdmsr(&b, 0x820 + 1, &v), 0);    /* IRR 0x20-0x3f */
	assert_int_equal(v, (1u << 16) | (1u << 17)); /* 0x30 and 0x31 */
	assert_int_equal(b.ipis_other, 0);
	assert_int_equal(b.ipis_self, 2);
	assert_int_equal(b.msr_gp, 15); /* every -EINVAL above on b */
}

static void test_icr(void **state)
{
	SCENARIO("ICR: self shorthand, own ID, NMI, other destinations hooked and counted");
	sw_enable();
	wr(0x310, 0);
	wr(0x300, 0x4050); /* fixed to ID 0 = self */
	assert_int_equal(lapic_pending_vector(&apic), 0x50);
	wr(0x300, 0x44400); /* NMI, self shorthand */
	assert_true(lapic_take_nmi(&apic));
	assert_false(lapic_take_nmi(&apic));
	assert_int_equal(ipis, 0);
	wr(0x310, 1u << 24);
	wr(0x300, 0x4060); /* to APIC 1 */
	assert_int_equal(ipis, 1);
	assert_int_equal(last_icr, (1ull << 56) | 0x4060);
	assert_int_equal(apic.ipis_other, 1);
	wr(0x300, 0xc4070); /* all excluding self */
	assert_int_equal(ipis, 2);
	wr(0x300, 0x84071); /* all including self */
	assert_int_equal(ipis, 3);
	assert_int_equal(lapic_pending_vector(&apic), 0x71);
	wr(0x300, 0x8500); /* INIT level de-assert: nothing */
	assert_int_equal(ipis, 3);
}

static void test_logical_dest(void **state)
{
	SCENARIO("logical destinations: flat and cluster models");
	wr(0xd0, 0x01000000);
	assert_true(lapic_match_dest(&apic, 0x01, true));
	assert_false(lapic_match_dest(&apic, 0x02, true));
	assert_true(lapic_match_dest(&apic, 0xff, true));
	wr(0xe0, 0x0fffffff); /* cluster */
	wr(0xd0, 0x21000000); /* cluster 2, member bit 0 */
	assert_true(lapic_match_dest(&apic, 0x21, true));
	assert_false(lapic_match_dest(&apic, 0x11, true));
	assert_true(lapic_match_dest(&apic, 0, false));
	assert_false(lapic_match_dest(&apic, 1, false));
}

static void test_mmio_widths(void **state)
{
	u64 v = 0xaa;

	SCENARIO("xAPIC page: narrow reads, misaligned writes dropped");
	wr(0x80, 0x3c);
	assert_true(lapic_mmio(&apic, PLAT_LAPIC_BASE + 0x80, 1, false, &v));
	assert_int_equal(v, 0x3c);
	v = 0x11;
	assert_true(lapic_mmio(&apic, PLAT_LAPIC_BASE + 0x84, 4, true, &v));
	assert_int_equal(rd(0x80), 0x3c);
	assert_true(lapic_mmio(&apic, PLAT_LAPIC_BASE + 0x84, 4, false, &v));
	assert_int_equal(v, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reset_state, setup),
		cmocka_unit_test_setup(test_priority_and_eoi, setup),
		cmocka_unit_test_setup(test_level_eoi_broadcast, setup),
		cmocka_unit_test_setup(test_svr_masks, setup),
		cmocka_unit_test_setup(test_esr, setup),
		cmocka_unit_test_setup(test_timer_oneshot, setup),
		cmocka_unit_test_setup(test_timer_periodic, setup),
		cmocka_unit_test_setup(test_timer_deadline, setup),
		cmocka_unit_test_setup(test_apic_base, setup),
		cmocka_unit_test_setup(test_x2apic_msrs, setup),
		cmocka_unit_test_setup(test_icr, setup),
		cmocka_unit_test_setup(test_logical_dest, setup),
		cmocka_unit_test_setup(test_mmio_widths, setup),
	};

	dev_test_watchdog(30);
	return cmocka_run_group_tests_name("vmm_dev_lapic", tests, NULL, NULL);
}
