// SPDX-License-Identifier: MIT
/* Hosted tests of nested SVM's pure parts: VMRUN's consistency checks
 * (nsvm_check.c), the VMCB02 intercept merge, L1's MSR / I/O permission
 * maps, the exit routing decision and the nRIP decode (nsvm_route.c). */
#include "vmm/dev/dev_test.h"
#include "vmm/nested/nsvm.h"

static struct vmcb vmcb;
static const struct nsvm_caps caps = { .maxphyaddr = 40, .l1_long = true };

/* A VMCB12 for a 64-bit L2 that every check accepts. */
static void good_vmcb(struct vmcb *v)
{
	memset(v, 0, sizeof(*v));
	v->ctl.intercept4 = SVM_INTERCEPT_VMRUN;
	v->ctl.intercept3 = SVM_INTERCEPT_IOIO | SVM_INTERCEPT_MSR;
	v->ctl.iopm_base_pa = 0x100000;
	v->ctl.msrpm_base_pa = 0x104000;
	v->ctl.asid = 1;
	v->ctl.np_enable = SVM_NP_ENABLE;
	v->ctl.ncr3 = 0x200000;
	v->save.efer = BIT(8) | BIT(10) | BIT(12);   /* LME LMA SVME */
	v->save.cr0 = BIT(0) | BIT(31) | BIT(16);    /* PE PG WP */
	v->save.cr4 = BIT(5);                        /* PAE */
	v->save.cr3 = 0x1000;
	v->save.cs.attrib = 0x029b;                  /* L, not D */
	v->save.dr6 = 0xffff0ff0;
	v->save.dr7 = 0x400;
}

static void test_good_vmcb(void **state)
{
	SCENARIO("a well-formed 64-bit VMCB12 passes every consistency check");
	good_vmcb(&vmcb);
	assert_int_equal(nsvm_check_vmcb(&vmcb, &caps), NSVM_OK);
	vmcb.ctl.np_enable = 0;
	assert_int_equal(nsvm_check_vmcb(&vmcb, &caps), NSVM_OK);
	vmcb.ctl.tlb_control = 7;
	assert_int_equal(nsvm_check_vmcb(&vmcb, &caps), NSVM_OK);
}

struct bad_case {
	const char *what;
	void (*apply)(struct vmcb *v);
	enum nsvm_bad want;
};

static void no_svme(struct vmcb *v) { v->save.efer &= ~BIT(12); }
static void cd0_nw1(struct vmcb *v) { v->save.cr0 |= BIT(29); }
static void cr0_high(struct vmcb *v) { v->save.cr0 |= 1ull << 32; }
static void cr3_high(struct vmcb *v) { v->save.cr3 = 1ull << 45; }
static void cr4_rsvd(struct vmcb *v) { v->save.cr4 |= BIT(13); /* VMXE */ }
static void dr6_high(struct vmcb *v) { v->save.dr6 |= 1ull << 40; }
static void dr7_high(struct vmcb *v) { v->save.dr7 |= 1ull << 33; }
static void efer_rsvd(struct vmcb *v) { v->save.efer |= BIT(20); }
static void no_pae(struct vmcb *v) { v->save.cr4 &= ~BIT(5); }
static void no_pe(struct vmcb *v) { v->save.cr0 &= ~BIT(0); }
static void cs_l_d(struct vmcb *v) { v->save.cs.attrib |= BIT(10); }
static void no_vmrun(struct vmcb *v) { v->ctl.intercept4 = 0; }
static void msrpm_far(struct vmcb *v) { v->ctl.msrpm_base_pa = (1ull << 40) - 0x1000; }
static void iopm_far(struct vmcb *v) { v->ctl.iopm_base_pa = (1ull << 40) - 0x2000; }
static void ev_type1(struct vmcb *v) { v->ctl.event_inj = SVM_EVENTINJ_VALID | (1u << 8) | 32; }
static void ev_type5(struct vmcb *v) { v->ctl.event_inj = SVM_EVENTINJ_VALID | (5u << 8); }
static void ev_exc_nmi(struct vmcb *v) { v->ctl.event_inj = SVM_EVENTINJ_VALID | (3u << 8) | 2; }
static void ev_exc_32(struct vmcb *v) { v->ctl.event_inj = SVM_EVENTINJ_VALID | (3u << 8) | 32; }
static void ev_rsvd(struct vmcb *v) { v->ctl.event_inj = SVM_EVENTINJ_VALID | BIT(20) | 0x20; }
static void asid0(struct vmcb *v) { v->ctl.asid = 0; }
static void tlb2(struct vmcb *v) { v->ctl.tlb_control = 2; }
static void ncr3_far(struct vmcb *v) { v->ctl.ncr3 = 1ull << 41; }

static const struct bad_case bad_cases[] = {
	{ "EFER.SVME clear", no_svme, NSVM_BAD_EFER_SVME },
	{ "CR0.CD=0 NW=1", cd0_nw1, NSVM_BAD_CR0_CD_NW },
	{ "CR0 high bits", cr0_high, NSVM_BAD_CR0_HIGH },
	{ "CR3 beyond MAXPHYADDR", cr3_high, NSVM_BAD_CR3 },
	{ "CR4.VMXE", cr4_rsvd, NSVM_BAD_CR4 },
	{ "DR6 high", dr6_high, NSVM_BAD_DR6 },
	{ "DR7 high", dr7_high, NSVM_BAD_DR7 },
	{ "EFER reserved", efer_rsvd, NSVM_BAD_EFER },
	{ "long mode without PAE", no_pae, NSVM_BAD_LONG_NO_PAE },
	{ "long mode without PE", no_pe, NSVM_BAD_LONG_NO_PE },
	{ "CS.L and CS.D", cs_l_d, NSVM_BAD_LONG_CS },
	{ "no VMRUN intercept", no_vmrun, NSVM_BAD_NO_VMRUN },
	{ "MSRPM crosses MAXPHYADDR", msrpm_far, NSVM_BAD_MSRPM },
	{ "IOPM crosses MAXPHYADDR", iopm_far, NSVM_BAD_IOPM },
	{ "EVENTINJ type 1", ev_type1, NSVM_BAD_EVENTINJ },
	{ "EVENTINJ type 5", ev_type5, NSVM_BAD_EVENTINJ },
	{ "EVENTINJ exception vector 2", ev_exc_nmi, NSVM_BAD_EVENTINJ },
	{ "EVENTINJ exception vector 32", ev_exc_32, NSVM_BAD_EVENTINJ },
	{ "EVENTINJ reserved bits", ev_rsvd, NSVM_BAD_EVENTINJ },
	{ "ASID 0", asid0, NSVM_BAD_ASID },
	{ "TLB_CONTROL 2", tlb2, NSVM_BAD_TLB_CONTROL },
	{ "nCR3 beyond MAXPHYADDR", ncr3_far, NSVM_BAD_NCR3 },
};

static void test_bad_vmcbs(void **state)
{
	for (unsigned i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		SCENARIO(bad_cases[i].what);
		good_vmcb(&vmcb);
		bad_cases[i].apply(&vmcb);
		if (nsvm_check_vmcb(&vmcb, &caps) != bad_cases[i].want)
			fail_msg("%s: got '%s'", bad_cases[i].what,
				 nsvm_bad_name(nsvm_check_vmcb(&vmcb, &caps)));
	}
	SCENARIO("nested paging while L1 is not in long mode is refused");
	good_vmcb(&vmcb);
	assert_int_equal(nsvm_check_vmcb(&vmcb, &(struct nsvm_caps){ 40, false }),
			 NSVM_BAD_NP_MODE);
	SCENARIO("a map whose intercept is off is not checked; valid injections pass");
	good_vmcb(&vmcb);
	vmcb.ctl.intercept3 = 0;
	vmcb.ctl.msrpm_base_pa = ~0ull;
	vmcb.ctl.event_inj = SVM_EVENTINJ_VALID | (3u << 8) | 14 | SVM_EVENTINJ_EV | (2ull << 32);
	assert_int_equal(nsvm_check_vmcb(&vmcb, &caps), NSVM_OK);
	vmcb.ctl.event_inj = SVM_EVENTINJ_VALID | (2u << 8) | 2;
	assert_int_equal(nsvm_check_vmcb(&vmcb, &caps), NSVM_OK);
}

static void test_merge(void **state)
{
	struct vmcb_control c12 = { 0 }, c02;

	SCENARIO("VMCB02 intercepts are Keel's plus L1's; L1's injection and V_IRQ pass, "
		 "V_INTR_MASKING is forced");
	c12.intercept3 = SVM_INTERCEPT_HLT | SVM_INTERCEPT_VINTR;
	c12.intercept4 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL;
	c12.exceptions = BIT(14);
	c12.cr_write = BIT(3);
	c12.event_inj = SVM_EVENTINJ_VALID | 0x30;
	c12.vintr = SVM_V_IRQ | (0x41ull << 32);
	c12.tsc_offset = 1234;
	c12.asid = 9;
	c12.ncr3 = 0x5000;
	nsvm_merge_control(&c02, &c12);
	assert_int_equal(c02.intercept3 & NSVM_KEEL_INTERCEPT3, NSVM_KEEL_INTERCEPT3);
	assert_int_equal(c02.intercept4 & NSVM_KEEL_INTERCEPT4, NSVM_KEEL_INTERCEPT4);
	assert_true(c02.intercept3 & SVM_INTERCEPT_HLT);
	assert_true(c02.intercept3 & SVM_INTERCEPT_VINTR);
	assert_true(c02.intercept4 & SVM_INTERCEPT_VMMCALL);
	assert_int_equal(c02.exceptions, BIT(14));
	assert_int_equal(c02.cr_write, BIT(3));
	assert_int_equal(c02.event_inj, c12.event_inj);
	assert_true(c02.vintr & SVM_V_INTR_MASKING);
	assert_true(c02.vintr & SVM_V_IRQ);
	assert_int_equal(c02.tsc_offset, 1234);
	/* Keel's backend sets these, never L1. */
	assert_int_equal(c02.asid, 0);
	assert_int_equal(c02.ncr3, 0);
	assert_int_equal(c02.iopm_base_pa, 0);
	assert_int_equal(c02.np_enable, SVM_NP_ENABLE);
}

/* A fake L1 memory holding the permission maps at 0x100000 (IOPM) and
 * 0x104000 (MSRPM); anything else is not RAM. */
static u8 iopm[SVM_IOPM_BYTES], msrpm[SVM_MSRPM_BYTES];

static bool rd(void *ctx, u64 pa, u8 *out)
{
	if (pa >= 0x100000 && pa < 0x100000 + sizeof(iopm)) {
		*out = iopm[pa - 0x100000];
		return true;
	}
	if (pa >= 0x104000 && pa < 0x104000 + sizeof(msrpm)) {
		*out = msrpm[pa - 0x104000];
		return true;
	}
	return false;
}

static u64 io_info(u16 port, unsigned size, bool in)
{
	return ((u64)port << 16) | ((u64)size << 4) | (in ? 1 : 0);
}

static void test_maps(void **state)
{
	struct vmcb_control c = { 0 };
	u32 byte;
	unsigned bit;

	SCENARIO("MSRPM layout: two bits per MSR in three 8K-MSR ranges");
	assert_true(nsvm_msrpm_bit(0, &byte, &bit) && byte == 0 && bit == 0);
	assert_true(nsvm_msrpm_bit(0x1fff, &byte, &bit) && byte == 0x7ff && bit == 6);
	assert_true(nsvm_msrpm_bit(0xc0000080, &byte, &bit) && byte == 0x820 && bit == 0);
	assert_true(nsvm_msrpm_bit(0xc0010117, &byte, &bit) && byte == 0x1045 && bit == 6);
	assert_false(nsvm_msrpm_bit(0x2000, &byte, &bit));
	assert_false(nsvm_msrpm_bit(0xc0012000, &byte, &bit));

	SCENARIO("IOIO: L1's IOPM decides, every byte of a wide access counts");
	memset(iopm, 0, sizeof(iopm));
	memset(msrpm, 0, sizeof(msrpm));
	c.iopm_base_pa = 0x100abc; /* low 12 bits ignored */
	c.msrpm_base_pa = 0x104000;
	c.intercept3 = SVM_INTERCEPT_IOIO | SVM_INTERCEPT_MSR;
	iopm[0x543 / 8] |= 1u << (0x543 % 8);
	assert_false(nsvm_l1_intercepts(&c, SVM_EXIT_IOIO, io_info(0x540, 2, false), 0, rd, NULL));
	assert_true(nsvm_l1_intercepts(&c, SVM_EXIT_IOIO, io_info(0x540, 4, true), 0, rd, NULL));
	assert_true(nsvm_l1_intercepts(&c, SVM_EXIT_IOIO, io_info(0x543, 1, true), 0, rd, NULL));
	assert_false(nsvm_l1_intercepts(&c, SVM_EXIT_IOIO, io_info(0x544, 1, true), 0, rd, NULL));

	SCENARIO("MSR: read and write bits separately; MSRs outside the map always exit");
	msrpm[0x820] = 2; /* EFER write only */
	assert_false(nsvm_l1_intercepts(&c, SVM_EXIT_MSR, 0, 0xc0000080, rd, NULL));
	assert_true(nsvm_l1_intercepts(&c, SVM_EXIT_MSR, 1, 0xc0000080, rd, NULL));
	assert_true(nsvm_l1_intercepts(&c, SVM_EXIT_MSR, 0, 0x40000000, rd, NULL));

	SCENARIO("the intercept bits gate the maps; a map outside RAM reads as ones");
	c.intercept3 = 0;
	assert_false(nsvm_l1_intercepts(&c, SVM_EXIT_IOIO, io_info(0x543, 1, true), 0, rd, NULL));
	assert_false(nsvm_l1_intercepts(&c, SVM_EXIT_MSR, 1, 0xc0000080, rd, NULL));
	c.intercept3 = SVM_INTERCEPT_IOIO | SVM_INTERCEPT_MSR;
	c.iopm_base_pa = 0x900000;
	assert_true(nsvm_l1_intercepts(&c, SVM_EXIT_IOIO, io_info(0x80, 1, false), 0, rd, NULL));
}

static void test_route(void **state)
{
	struct vmcb_control c = { 0 };

	SCENARIO("routing: physical events are Keel's, NPF goes to the shadow with NP, "
		 "intercepted exits are reflected, the rest is Keel's for L2");
	c.intercept3 = SVM_INTERCEPT_CPUID | SVM_INTERCEPT_INTR;
	c.intercept4 = SVM_INTERCEPT_VMRUN;
	c.exceptions = BIT(14);
	c.cr_read = BIT(3);
	assert_int_equal(nsvm_route_exit(&c, true, SVM_EXIT_NPF, 0, 0, rd, NULL), NSVM_ROUTE_SHADOW);
	assert_int_equal(nsvm_route_exit(&c, false, SVM_EXIT_NPF, 0, 0, rd, NULL), NSVM_ROUTE_L1_TDP);
	assert_int_equal(nsvm_route_exit(&c, true, SVM_EXIT_INTR, 0, 0, rd, NULL), NSVM_ROUTE_HOST);
	assert_int_equal(nsvm_route_exit(&c, true, SVM_EXIT_NMI, 0, 0, rd, NULL), NSVM_ROUTE_HOST);
	assert_int_equal(nsvm_route_exit(&c, true, SVM_EXIT_CPUID, 0, 0, rd, NULL), NSVM_ROUTE_REFLECT);
	assert_int_equal(nsvm_route_exit(&c, true, SVM_EXIT_VMRUN, 0, 0, rd, NULL), NSVM_ROUTE_REFLECT);
	assert_int_equal(nsvm_route_exit(&c, true, SVM_EXIT_EXCP_BASE + 14, 2, 0, rd, NULL),
			 NSVM_ROUTE_REFLECT);
	assert_int_equal(nsvm_route_exit(&c, true, SVM_EXIT_EXCP_BASE + 13, 0, 0, rd, NULL),
			 NSVM_ROUTE_KEEL);
	assert_int_equal(nsvm_route_exit(&c, true, 3 /* CR3 read */, 0, 0, rd, NULL), NSVM_ROUTE_REFLECT);
	assert_int_equal(nsvm_route_exit(&c, true, 0x13 /* CR3 write */, 0, 0, rd, NULL), NSVM_ROUTE_KEEL);
	assert_int_equal(nsvm_route_exit(&c, true, SVM_EXIT_HLT, 0, 0, rd, NULL), NSVM_ROUTE_KEEL);
	assert_int_equal(nsvm_route_exit(&c, true, SVM_EXIT_VMMCALL, 0, 0, rd, NULL), NSVM_ROUTE_KEEL);
	assert_int_equal(nsvm_route_exit(&c, true, SVM_EXIT_MSR, 0, 0x10, rd, NULL), NSVM_ROUTE_KEEL);
	assert_int_equal(nsvm_route_exit(&c, true, 0xffffffffull, 0, 0, rd, NULL), NSVM_ROUTE_REFLECT);
	assert_int_equal(nsvm_route_exit(&c, true, 0x401, 0, 0, rd, NULL), NSVM_ROUTE_REFLECT);
}

static void test_insn_len(void **state)
{
	static const u8 cpuid[] = { 0x0f, 0xa2 }, cpuid_pfx[] = { 0x66, 0x0f, 0xa2 };
	static const u8 vmrun[] = { 0x0f, 0x01, 0xd8 }, rdmsr[] = { 0x0f, 0x32 };
	static const u8 movcr[] = { 0x0f, 0x22, 0xd8 }, rex_movcr[] = { 0x44, 0x0f, 0x20, 0xc0 };
	static const u8 pause[] = { 0xf3, 0x90 }, hlt[] = { 0xf4 }, io[] = { 0xec };

	SCENARIO("nRIP decode: the instruction each intercept names, with prefixes; "
		 "anything else is 0");
	assert_int_equal(nsvm_insn_len(SVM_EXIT_CPUID, cpuid, 2, 64), 2);
	assert_int_equal(nsvm_insn_len(SVM_EXIT_CPUID, cpuid_pfx, 3, 64), 3);
	assert_int_equal(nsvm_insn_len(SVM_EXIT_VMRUN, vmrun, 3, 64), 3);
	assert_int_equal(nsvm_insn_len(SVM_EXIT_VMLOAD, vmrun, 3, 64), 0);
	assert_int_equal(nsvm_insn_len(SVM_EXIT_MSR, rdmsr, 2, 32), 2);
	assert_int_equal(nsvm_insn_len(0x13 /* CR3 write */, movcr, 3, 64), 3);
	assert_int_equal(nsvm_insn_len(0x08 /* CR8 read */, rex_movcr, 4, 64), 4);
	assert_int_equal(nsvm_insn_len(0x03, movcr, 3, 64), 0);
	assert_int_equal(nsvm_insn_len(0x77, pause, 2, 64), 2);
	assert_int_equal(nsvm_insn_len(SVM_EXIT_HLT, hlt, 1, 16), 1);
	assert_int_equal(nsvm_insn_len(SVM_EXIT_HLT, io, 1, 64), 0);
	assert_int_equal(nsvm_insn_len(SVM_EXIT_CPUID, cpuid, 1, 64), 0); /* truncated */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_vmcb),
		cmocka_unit_test(test_bad_vmcbs),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_maps),
		cmocka_unit_test(test_route),
		cmocka_unit_test(test_insn_len),
	};

	dev_test_watchdog(30);
	return cmocka_run_group_tests_name("vmm_nested", tests, NULL, NULL);
}
