/* SPDX-License-Identifier: MIT */
/*
 * Hosted tests of the VMX backend's pure parts (vmx_rules.c): the numbers
 * an emulator cannot check for us. Bochs flushes the TLB on every entry and
 * exit, so a wrong flush plan would pass every boot test; these tests pin
 * the plan down case by case. The expected values are taken from the SDM
 * tables cited next to each test, not from the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "tests/unit/ktest.h"
#include <pthread.h>
#include <string.h>

#include "mmu/mmu.h"
#include "arch/x86/vmx.h"

/* IA32_VMX_*_CTLS: low half must-be-1, high half may-be-1 (SDM A.3). */
static void test_adjust_ctls(void **state)
{
	u64 cap = (0x16ull << 32 | 0xffull << 32) | 0x16; /* 1,2,4 forced; 0-7 allowed */

	assert_int_equal(vmx_adjust_ctls(cap, 0), 0x16);
	assert_int_equal(vmx_adjust_ctls(cap, BIT(0) | BIT(8)), 0x17); /* bit 8 not allowed */
	assert_true(vmx_ctls_ok(cap, BIT(0), vmx_adjust_ctls(cap, BIT(0))));
	assert_false(vmx_ctls_ok(cap, BIT(8), vmx_adjust_ctls(cap, BIT(8))));
	/* A word with a bit the CPU forbids is refused even if not required. */
	assert_false(vmx_ctls_ok(cap, 0, BIT(9)));
}

/* A CPU whose must-be-1 bit is not in may-be-1 is contradictory: the word
 * must not claim to satisfy it. */
static void test_adjust_ctls_contradiction(void **state)
{
	u64 cap = (0x1ull << 32) | 0x2; /* bit 1 forced but not allowed */

	assert_int_equal(vmx_adjust_ctls(cap, 0) & BIT(1), 0);
	assert_false(vmx_ctls_ok(cap, BIT(1), vmx_adjust_ctls(cap, BIT(1))));
}

/* SDM table 28-7. */
static void test_ept_qual_read_not_present(void **state)
{
	struct vm_exit e = { 0 };

	vmx_decode_ept_qual(EPT_QUAL_READ | EPT_QUAL_LINEAR_VALID | EPT_QUAL_FINAL,
			    GPA(0x12345678), &e);
	assert_int_equal(e.tdp.gpa.v, 0x12345678);
	assert_int_equal(e.tdp.access, MMU_ACC_READ);
	assert_false(e.tdp.present);
	assert_false(e.tdp.on_walk);
}

static void test_ept_qual_write_to_readonly(void **state)
{
	struct vm_exit e = { 0 };

	vmx_decode_ept_qual(EPT_QUAL_WRITE | EPT_QUAL_READABLE | EPT_QUAL_EXECUTABLE |
				    EPT_QUAL_LINEAR_VALID | EPT_QUAL_FINAL,
			    GPA(0x2000), &e);
	assert_int_equal(e.tdp.access, MMU_ACC_WRITE);
	assert_true(e.tdp.present);
	assert_false(e.tdp.on_walk);
}

static void test_ept_qual_fetch_and_walk(void **state)
{
	struct vm_exit e = { 0 };

	vmx_decode_ept_qual(EPT_QUAL_FETCH, GPA(0x100000), &e);
	assert_int_equal(e.tdp.access, MMU_ACC_EXEC);
	assert_false(e.tdp.on_walk); /* no linear address: not a walk */

	memset(&e, 0, sizeof(e));
	/* The guest's page walk touched an unmapped page table. */
	vmx_decode_ept_qual(EPT_QUAL_READ | EPT_QUAL_LINEAR_VALID, GPA(0x1000), &e);
	assert_true(e.tdp.on_walk);
	assert_int_equal(e.tdp.access, MMU_ACC_READ);
}

/* SDM table 28-5. */
static void test_io_qual(void **state)
{
	struct vm_exit e = { 0 };

	/* in al, dx with dx = 0x3f8 */
	vmx_decode_io_qual(0x3f8ull << 16 | IO_QUAL_IN | 0, &e);
	assert_int_equal(e.io.port, 0x3f8);
	assert_int_equal(e.io.size, 1);
	assert_true(e.io.in);
	assert_false(e.io.string);
	assert_false(e.io.rep);

	/* rep outsd to 0x510 */
	memset(&e, 0, sizeof(e));
	vmx_decode_io_qual(0x510ull << 16 | IO_QUAL_REP | IO_QUAL_STRING | 3, &e);
	assert_int_equal(e.io.port, 0x510);
	assert_int_equal(e.io.size, 4);
	assert_false(e.io.in);
	assert_true(e.io.string);
	assert_true(e.io.rep);
}

/* SDM appendix C. */
static void test_exit_kinds(void **state)
{
	assert_int_equal(vmx_exit_kind(10, 0), EXIT_CPUID);
	assert_int_equal(vmx_exit_kind(12, 0), EXIT_HLT);
	assert_int_equal(vmx_exit_kind(18, 0), EXIT_HYPERCALL);
	assert_int_equal(vmx_exit_kind(30, 0), EXIT_IO);
	assert_int_equal(vmx_exit_kind(31, 0), EXIT_RDMSR);
	assert_int_equal(vmx_exit_kind(32, 0), EXIT_WRMSR);
	assert_int_equal(vmx_exit_kind(48, 0), EXIT_TDP_FAULT);
	assert_int_equal(vmx_exit_kind(49, 0), EXIT_TDP_MISCONFIG);
	assert_int_equal(vmx_exit_kind(2, 0), EXIT_SHUTDOWN);
	assert_int_equal(vmx_exit_kind(1, 0), EXIT_EXTINT);
	assert_int_equal(vmx_exit_kind(0, INTR_INFO_VALID | 3 << 8 | 14), EXIT_EXCEPTION);
	assert_int_equal(vmx_exit_kind(0, INTR_INFO_VALID | 2 << 8 | 2), EXIT_EXTINT); /* NMI */
	assert_int_equal(vmx_exit_kind(33 | BIT(31), 0), EXIT_ENTRY_FAILED);
	assert_int_equal(vmx_exit_kind(28, 0), EXIT_OTHER); /* CR access: backend's own */
	assert_int_equal(vmx_exit_kind(52, 0), EXIT_PREEMPT);
	assert_int_equal(vmx_exit_kind(7, 0), EXIT_IRQ_WINDOW);
	assert_int_equal(vmx_exit_kind(8, 0), EXIT_NMI_WINDOW);
	assert_int_equal(vmx_exit_kind(55, 0), EXIT_XSETBV);
	assert_int_equal(vmx_exit_kind(27, 0), EXIT_VIRT_INSN); /* VMXON */
	assert_int_equal(vmx_exit_kind(50, 0), EXIT_VIRT_INSN); /* INVEPT */
	assert_int_equal(vmx_exit_kind(54, 0), EXIT_OTHER);     /* WBINVD: not enabled */
	assert_int_equal(vmx_exit_kind(0xffff, 0), EXIT_OTHER);
}

/* The instruction length field is valid only for instruction exits (28.2.5). */
static void test_insn_len_exits(void **state)
{
	assert_true(vmx_exit_has_insn_len(VMX_EXIT_CPUID));
	assert_true(vmx_exit_has_insn_len(VMX_EXIT_IO));
	assert_true(vmx_exit_has_insn_len(VMX_EXIT_VMCALL));
	assert_false(vmx_exit_has_insn_len(VMX_EXIT_EPT_VIOLATION));
	assert_false(vmx_exit_has_insn_len(VMX_EXIT_EXTINT));
	assert_false(vmx_exit_has_insn_len(VMX_EXIT_TRIPLE_FAULT));
}

/* Error codes: #DF #TS #NP #SS #GP #PF #AC #CP push one, others do not. */
static void test_exception_info(void **state)
{
	static const u8 with[] = { 8, 10, 11, 12, 13, 14, 17, 21 };
	static const u8 without[] = { 0, 1, 3, 4, 5, 6, 7, 16, 18, 19 };

	for (size_t i = 0; i < sizeof(with); i++) {
		u32 info = vmx_exception_info(with[i], false);

		assert_int_equal(info & INTR_INFO_VECTOR, with[i]);
		assert_true(info & INTR_INFO_HAS_ERROR);
		assert_true(info & INTR_INFO_VALID);
		assert_int_equal((info & INTR_INFO_TYPE) >> 8, INTR_TYPE_HW_EXCEPTION);
	}
	for (size_t i = 0; i < sizeof(without); i++)
		assert_false(vmx_exception_info(without[i], true) & INTR_INFO_HAS_ERROR);
	/* Bits 30:12 are reserved in the entry field: never set. */
	assert_int_equal(vmx_exception_info(13, true) & GENMASK(30, 12), 0);
}

/* EPTP (SDM 25.6.11): WB = 6, walk length - 1 = 3 in bits 5:3, A/D bit 6. */
static void test_eptp(void **state)
{
	assert_int_equal(vmx_make_eptp(HPA(0x1234000), false), 0x1234000 | 0x1e);
	assert_int_equal(vmx_make_eptp(HPA(0x1234000), true), 0x1234000 | 0x5e);
	/* Stray low bits in the root never leak into the flags. */
	assert_int_equal(vmx_make_eptp(HPA(0x1234fff), false), 0x1234000 | 0x1e);
	/* What Keel loads has A/D off: it does not use hardware A/D bits, and
	 * with them on guest page-table walks count as writes. */
	assert_int_equal(vmx_keel_eptp(HPA(0x1234000)), 0x1234000 | 0x1e);
	assert_false(vmx_keel_eptp(HPA(0x1234000)) & EPTP_AD_ENABLE);
}

static struct vmx_caps caps_with(u64 ept_vpid)
{
	return (struct vmx_caps){ .ept_vpid = ept_vpid, .vpid = true };
}

/* The flush rules of docs/vmx.md, one case each. */
static void test_flush_plan_single_context(void **state)
{
	struct vmx_caps c = caps_with(EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL |
				      VPID_CAP_INVVPID | VPID_CAP_INVVPID_SINGLE |
				      VPID_CAP_INVVPID_ALL);

	assert_int_equal(vmx_flush_plan(&c, 5, false, false, false), 0);
	assert_int_equal(vmx_flush_plan(&c, 5, true, false, false), VMX_FLUSH_INVEPT_SINGLE);
	assert_int_equal(vmx_flush_plan(&c, 5, false, false, true), VMX_FLUSH_INVVPID_SINGLE);
	assert_int_equal(vmx_flush_plan(&c, 5, false, true, false),
			 VMX_FLUSH_INVEPT_SINGLE | VMX_FLUSH_INVVPID_SINGLE);
}

static void test_flush_plan_all_context_fallback(void **state)
{
	struct vmx_caps c = caps_with(EPT_CAP_INVEPT_ALL | VPID_CAP_INVVPID |
				      VPID_CAP_INVVPID_ALL);

	assert_int_equal(vmx_flush_plan(&c, 5, true, false, false), VMX_FLUSH_INVEPT_ALL);
	assert_int_equal(vmx_flush_plan(&c, 5, false, false, true), VMX_FLUSH_INVVPID_ALL);
}

/* Without a VPID every entry and exit flushes linear mappings already. */
static void test_flush_plan_no_vpid(void **state)
{
	struct vmx_caps c = caps_with(EPT_CAP_INVEPT_SINGLE | VPID_CAP_INVVPID_SINGLE);

	assert_int_equal(vmx_flush_plan(&c, 0, false, true, true), VMX_FLUSH_INVEPT_SINGLE);
	assert_int_equal(vmx_flush_plan(&c, 0, false, false, true), 0);
}

/* SDM 31.4 and 27.8. */
static void test_names(void **state)
{
	assert_string_equal(vmx_insn_error_name(8), "VM entry with invalid host-state field(s)");
	assert_string_equal(vmx_insn_error_name(7), "VM entry with invalid control field(s)");
	assert_string_equal(vmx_insn_error_name(14), "unknown VM-instruction error");
	assert_string_equal(vmx_insn_error_name(1000), "unknown VM-instruction error");
	assert_string_equal(vmx_exit_reason_name(48), "EPT violation");
	assert_string_equal(vmx_exit_reason_name(33 | BIT(31)),
			    "VM-entry failure: invalid guest state");
	assert_string_equal(vmx_exit_reason_name(35), "unknown exit reason");
	assert_non_null(strstr(vmx_entry_fail_detail(33 | BIT(31), 4), "link pointer"));
	assert_non_null(strstr(vmx_entry_fail_detail(34 | BIT(31), 0), "MSR loading"));
}

/* Every field's encoding agrees with its name (SDM B.1: width in bits
 * 14:13, type in 11:10), so a typo in vmx.h cannot hide. */
static void test_vmcs_encodings(void **state)
{
	static const struct { u32 f; unsigned width, type; } t[] = {
		{ VMCS_VPID, VMCS_WIDTH_16, VMCS_TYPE_CONTROL },
		{ VMCS_GUEST_TR_SEL, VMCS_WIDTH_16, VMCS_TYPE_GUEST },
		{ VMCS_HOST_TR_SEL, VMCS_WIDTH_16, VMCS_TYPE_HOST },
		{ VMCS_EPT_POINTER, VMCS_WIDTH_64, VMCS_TYPE_CONTROL },
		{ VMCS_GUEST_PHYS_ADDR, VMCS_WIDTH_64, VMCS_TYPE_EXIT_INFO },
		{ VMCS_LINK_POINTER, VMCS_WIDTH_64, VMCS_TYPE_GUEST },
		{ VMCS_GUEST_EFER, VMCS_WIDTH_64, VMCS_TYPE_GUEST },
		{ VMCS_HOST_EFER, VMCS_WIDTH_64, VMCS_TYPE_HOST },
		{ VMCS_PROC_CTLS2, VMCS_WIDTH_32, VMCS_TYPE_CONTROL },
		{ VMCS_EXIT_REASON, VMCS_WIDTH_32, VMCS_TYPE_EXIT_INFO },
		{ VMCS_EXIT_INSN_LEN, VMCS_WIDTH_32, VMCS_TYPE_EXIT_INFO },
		{ VMCS_GUEST_TR_AR, VMCS_WIDTH_32, VMCS_TYPE_GUEST },
		{ VMCS_GUEST_ACTIVITY, VMCS_WIDTH_32, VMCS_TYPE_GUEST },
		{ VMCS_HOST_SYSENTER_CS, VMCS_WIDTH_32, VMCS_TYPE_HOST },
		{ VMCS_CR4_SHADOW, VMCS_WIDTH_NATURAL, VMCS_TYPE_CONTROL },
		{ VMCS_EXIT_QUAL, VMCS_WIDTH_NATURAL, VMCS_TYPE_EXIT_INFO },
		{ VMCS_GUEST_RIP, VMCS_WIDTH_NATURAL, VMCS_TYPE_GUEST },
		{ VMCS_HOST_RSP, VMCS_WIDTH_NATURAL, VMCS_TYPE_HOST },
		{ VMCS_HOST_RIP, VMCS_WIDTH_NATURAL, VMCS_TYPE_HOST },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(VMCS_FIELD_WIDTH(t[i].f), t[i].width);
		assert_int_equal(VMCS_FIELD_TYPE(t[i].f), t[i].type);
		assert_int_equal(t[i].f & 1, 0); /* full field, not a high half */
	}
}

/* Bochs' CR fixed MSRs (tigerlake model): PE, NE, PG forced in CR0; VMXE
 * in CR4. */
static const struct vmx_caps checker_caps = {
	.cr0_fixed0 = 0x80000021, .cr0_fixed1 = 0xffffffff,
	.cr4_fixed0 = 0x2000, .cr4_fixed1 = 0x3727ff,
};

/* The state vmx_vmcs.c builds for the vmm/vcpu.h contract. */
static struct vmx_guest_state keel_initial_state(void)
{
	return (struct vmx_guest_state){
		.cr0 = 0x80000033, .cr4 = 0x2020, .efer = EFER_LME | EFER_LMA, .rflags = 2,
		.rip = 0x100000, .link = ~0ull, .entry_ctls = ENTRY_CTL_IA32E_GUEST,
		.cs = { VMX_GUEST_CS, 0xffffffff, VMX_AR_CODE64 },
		.ss = { VMX_GUEST_DS, 0xffffffff, VMX_AR_DATA },
		.tr = { VMX_GUEST_TR, 0x67, VMX_AR_TSS_BUSY },
		.ldtr = { 0, 0, VMX_AR_UNUSABLE },
	};
}

static void test_guest_state_initial_passes(void **state)
{
	struct vmx_guest_state s = keel_initial_state();
	char why[160] = "";

	assert_false(vmx_guest_state_problem(&s, &checker_caps, why, sizeof(why)));
	assert_string_equal(why, "");
}

/* One broken rule at a time; the message names the field. */
static void expect_problem(struct vmx_guest_state *s, const char *field)
{
	char why[160] = "";

	assert_true(vmx_guest_state_problem(s, &checker_caps, why, sizeof(why)));
	if (!strstr(why, field))
		fail_msg("expected \"%s\" in \"%s\"", field, why);
}

static void test_guest_state_each_rule(void **state)
{
	struct vmx_guest_state s;

#define BREAK(field, stmt) (s = keel_initial_state(), (stmt), expect_problem(&s, field))
	BREAK("CR0", s.cr0 &= ~X86_CR0_NE);
	BREAK("CR4", s.cr4 &= ~X86_CR4_VMXE);
	BREAK("CR4", s.cr4 |= BIT(31));
	BREAK("IA-32e", s.cr4 &= ~X86_CR4_PAE);
	BREAK("LMA", s.efer &= ~EFER_LMA);
	BREAK("RFLAGS", s.rflags = 0);
	BREAK("RFLAGS", s.rflags |= BIT(5));
	BREAK("RFLAGS.VM", s.rflags |= BIT(17));
	BREAK("RIP", s.rip = 0x0000900000000000ull);
	BREAK("CS", s.cs.ar &= ~VMX_AR_P);
	BREAK("CS", s.cs.limit = 0xffff0000); /* G=1 needs limit bits 11:0 all set */
	BREAK("L and D/B", s.cs.ar |= VMX_AR_DB);
	BREAK("SS", s.ss.ar = (s.ss.ar & ~VMX_AR_TYPE) | 0xb);
	BREAK("TR", s.tr.ar = VMX_AR_UNUSABLE);
	BREAK("TR", s.tr.ar = (s.tr.ar & ~VMX_AR_TYPE) | 9); /* available, not busy */
	BREAK("LDTR", s.ldtr.ar = VMX_AR_P | 9);
	BREAK("activity", s.activity = 4);
	BREAK("link pointer", s.link = 0);
#undef BREAK
}

/* Unrestricted guest lifts PE/PG from CR0_FIXED0 (SDM 25.6.2). */
static void test_guest_state_unrestricted(void **state)
{
	struct vmx_guest_state s = keel_initial_state();
	char why[160];

	s.cr0 = X86_CR0_NE | X86_CR0_ET;
	s.entry_ctls = 0;
	s.efer = 0;
	s.cs.ar &= ~VMX_AR_L;
	assert_true(vmx_guest_state_problem(&s, &checker_caps, why, sizeof(why)));
	s.proc2 = PROC2_UNRESTRICTED_GUEST;
	s.tr.ar = (s.tr.ar & ~VMX_AR_TYPE) | 3; /* 16-bit busy TSS is fine outside IA-32e */
	assert_false(vmx_guest_state_problem(&s, &checker_caps, why, sizeof(why)));
}

/* Host state as vmx_vmcs_write_host() reads it from Keel's CPU. */
static struct vmx_host_state keel_host_state(void)
{
	return (struct vmx_host_state){
		.cr0 = 0x80010033, .cr4 = 0x2668, .efer = EFER_LME | EFER_LMA | BIT(11),
		.rip = 0xbe1b930d, .tr_base = 0xbe1d1a90, .gdtr_base = 0xbe1d1b00,
		.idtr_base = 0xbe1d2000, .cs = 0x08, .ss = 0x10, .ds = 0x10, .es = 0x10,
		.tr = 0x18, .exit_ctls = EXIT_CTL_HOST_ADDR_SPACE_SIZE,
	};
}

static void expect_host_problem(const struct vmx_host_state *h, const char *text)
{
	char why[160] = "";

	assert_true(vmx_host_state_problem(h, &checker_caps, why, sizeof(why)));
	if (!strstr(why, text))
		fail_msg("expected \"%s\" in \"%s\"", text, why);
}

/* SDM 27.2.2-27.2.4; TR = 0 is what OVMF leaves behind. */
static void test_host_state_rules(void **state)
{
	struct vmx_host_state h = keel_host_state();
	char why[160];

	assert_false(vmx_host_state_problem(&h, &checker_caps, why, sizeof(why)));
#define BREAK(text, stmt) (h = keel_host_state(), (stmt), expect_host_problem(&h, text))
	BREAK("TR selector is 0", h.tr = 0);
	BREAK("RPL or TI", h.cs = 0x0b);
	BREAK("RPL or TI", h.tr = 0x1c);
	BREAK("CR4", h.cr4 &= ~X86_CR4_VMXE);
	BREAK("EFER", h.efer &= ~EFER_LMA);
	BREAK("canonical RIP", h.rip = 0x0000800000000000ull);
	BREAK("not canonical", h.gdtr_base = 0x00ff000000000000ull);
#undef BREAK
}

/* Controls as vmx_caps.c would compute them from these capability MSRs. */
static struct vmx_control_state keel_controls(void)
{
	struct vmx_control_state s = {
		.cap_pin = 0x7full << 32 | 0x16, .cap_proc = 0xffffffffull << 32 | 0x04006172,
		.cap_proc2 = 0xffull << 32, .cap_exit = 0x3fffffull << 32 | 0x36dfb,
		.cap_entry = 0xffffull << 32 | 0x11fb,
		.ept_vpid = EPT_CAP_WALK_4 | EPT_CAP_WB | EPT_CAP_AD | EPT_CAP_INVEPT,
		.vpid = 1,
	};

	s.pin = vmx_adjust_ctls(s.cap_pin, PIN_EXT_INTR_EXITING | PIN_NMI_EXITING);
	s.proc = vmx_adjust_ctls(s.cap_proc, PROC_HLT_EXITING | PROC_UNCOND_IO_EXITING |
					      PROC_SECONDARY_CTLS);
	s.proc2 = vmx_adjust_ctls(s.cap_proc2, PROC2_ENABLE_EPT | PROC2_ENABLE_VPID |
						PROC2_UNRESTRICTED_GUEST);
	s.exit = vmx_adjust_ctls(s.cap_exit, EXIT_CTL_HOST_ADDR_SPACE_SIZE | EXIT_CTL_LOAD_EFER);
	s.entry = vmx_adjust_ctls(s.cap_entry, ENTRY_CTL_IA32E_GUEST | ENTRY_CTL_LOAD_EFER);
	s.eptp = vmx_make_eptp(HPA(0x3800900000ull), true);
	return s;
}

static void expect_control_problem(const struct vmx_control_state *c, const char *text)
{
	char why[160] = "";

	assert_true(vmx_controls_problem(c, why, sizeof(why)));
	if (!strstr(why, text))
		fail_msg("expected \"%s\" in \"%s\"", text, why);
}

/* SDM 27.2.1. */
static void test_control_rules(void **state)
{
	struct vmx_control_state c = keel_controls();
	char why[160];

	assert_false(vmx_controls_problem(&c, why, sizeof(why)));
#define BREAK(text, stmt) (c = keel_controls(), (stmt), expect_control_problem(&c, text))
	BREAK("pin-based", c.pin &= ~BIT(1));        /* a must-be-1 bit */
	BREAK("VM-exit", c.exit |= BIT(31));         /* a may-not-be-1 bit */
	BREAK("EPT pointer", c.eptp += 1 << 3);      /* 5-level walk */
	BREAK("EPT pointer", c.ept_vpid &= ~EPT_CAP_AD);
	BREAK("EPT pointer", c.eptp |= BIT(9));
	BREAK("VPID 0", c.vpid = 0);
	BREAK("unrestricted guest without EPT",
	      (c.proc2 &= ~PROC2_ENABLE_EPT, c.cap_proc2 = 0xffull << 32));
	BREAK("CR3-target", c.cr3_targets = 5);
	BREAK("interruption", c.entry_intr = INTR_INFO_VALID | INTR_TYPE_NMI << 8 | 3);
	BREAK("interruption", c.entry_intr = INTR_INFO_VALID | INTR_INFO_HAS_ERROR | 0x20);
	BREAK("interruption", c.entry_intr = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION << 8 | 32);
#undef BREAK
	/* Keel's own injections are well-formed. */
	c = keel_controls();
	c.entry_intr = vmx_exception_info(14, true);
	assert_false(vmx_controls_problem(&c, why, sizeof(why)));
}

/* VPIDs: never 0, never handed out twice, reused after free, 0 (VPID off)
 * when exhausted. */
static void test_vpid_alloc(void **state)
{
	u64 map[2] = { 1 };

	for (unsigned i = 1; i < 128; i++)
		assert_int_equal(vmx_vpid_alloc(map, 2), i);
	assert_int_equal(vmx_vpid_alloc(map, 2), 0);
	vmx_vpid_free(map, 77);
	assert_int_equal(vmx_vpid_alloc(map, 2), 77);
	vmx_vpid_free(map, 0); /* the host's: ignored */
	assert_int_equal(map[0] & 1, 1);
}

#define VPID_THREADS 4
#define VPID_ROUNDS 20000
static u64 shared_map[4] = { 1 };
static u8 vpid_owner[256];

/* Each thread takes a VPID, checks nobody else holds it, gives it back. */
static void *vpid_worker(void *arg)
{
	u8 me = (u8)(uintptr_t)arg;

	for (int i = 0; i < VPID_ROUNDS; i++) {
		u16 v = vmx_vpid_alloc(shared_map, 4);

		if (!v)
			continue;
		if (__atomic_exchange_n(&vpid_owner[v], me, __ATOMIC_ACQ_REL) != 0)
			return (void *)1; /* someone else held it */
		__atomic_store_n(&vpid_owner[v], 0, __ATOMIC_RELEASE);
		vmx_vpid_free(shared_map, v);
	}
	return NULL;
}

static void test_vpid_alloc_concurrent(void **state)
{
	pthread_t t[VPID_THREADS];
	void *ret;

	for (uintptr_t i = 0; i < VPID_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, vpid_worker, (void *)(i + 1)), 0);
	for (int i = 0; i < VPID_THREADS; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
	assert_int_equal(shared_map[0], 1);
	assert_int_equal(shared_map[1] | shared_map[2] | shared_map[3], 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adjust_ctls),
		cmocka_unit_test(test_adjust_ctls_contradiction),
		cmocka_unit_test(test_ept_qual_read_not_present),
		cmocka_unit_test(test_ept_qual_write_to_readonly),
		cmocka_unit_test(test_ept_qual_fetch_and_walk),
		cmocka_unit_test(test_io_qual),
		cmocka_unit_test(test_exit_kinds),
		cmocka_unit_test(test_insn_len_exits),
		cmocka_unit_test(test_exception_info),
		cmocka_unit_test(test_eptp),
		cmocka_unit_test(test_flush_plan_single_context),
		cmocka_unit_test(test_flush_plan_all_context_fallback),
		cmocka_unit_test(test_flush_plan_no_vpid),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_vmcs_encodings),
		cmocka_unit_test(test_guest_state_initial_passes),
		cmocka_unit_test(test_guest_state_each_rule),
		cmocka_unit_test(test_guest_state_unrestricted),
		cmocka_unit_test(test_host_state_rules),
		cmocka_unit_test(test_control_rules),
		cmocka_unit_test(test_vpid_alloc),
		cmocka_unit_test(test_vpid_alloc_concurrent),
	};

	return ktest_run_group("vmx_rules", tests, argc, argv);
}
