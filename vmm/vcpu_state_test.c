// SPDX-License-Identifier: MIT
/*
 * Hosted tests of vmm/vcpu_state.c: the three entry states loaders use,
 * field by field against the architecture (Multiboot's 32-bit flat state,
 * the SIPI real-mode state, the 64-bit self-test state), and the mode, CPL
 * and code size the instruction emulator derives from a state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vmm/vcpu_state.h"

static void test_reset_values(void **state)
{
	struct vcpu_regs r;

	vcpu_state_reset(&r);
	assert_int_equal(r.rflags, 2);
	assert_int_equal(r.dr6, 0xffff0ff0);
	assert_int_equal(r.dr7, 0x400);
	assert_int_equal(r.pat, 0x0007040600070406ull);
	assert_int_equal(r.xcr0, 1);
	assert_false(r.ldtr.attr & VCPU_SEG_P); /* unusable */
	assert_false(r.sti_shadow || r.movss_shadow || r.nmi_blocked);
}

static void test_long64(void **state)
{
	struct vcpu_regs r;

	vcpu_state_long64(&r, 0x10, 0x18); /* Linux's __BOOT_CS / __BOOT_DS */
	assert_int_equal(r.cs.sel, 0x10);
	assert_true(r.cs.attr & VCPU_SEG_L);
	assert_false(r.cs.attr & VCPU_SEG_DB);
	assert_int_equal(r.ss.sel, 0x18);
	assert_int_equal(r.ds.attr, VCPU_ATTR_DATA32);
	assert_int_equal(r.tr.attr & 0xf, VCPU_SEG_TYPE_TSS_BUSY);
	assert_true(r.cr0 & BIT(31));
	assert_true(r.efer & BIT(10));
	assert_int_equal(vcpu_mode(&r), VCPU_MODE_LONG64);
	assert_int_equal(vcpu_code_bits(&r), 64);
	assert_int_equal(vcpu_cpl(&r), 0);
}

static void test_prot32_multiboot(void **state)
{
	struct vcpu_regs r;

	vcpu_state_prot32(&r, 0x08, 0x10);
	assert_int_equal(r.cr0, BIT(0) | BIT(4)); /* PE | ET */
	assert_int_equal(r.efer, 0);
	assert_int_equal(r.rflags, 2);
	assert_int_equal(r.cs.base, 0);
	assert_int_equal(r.cs.limit, 0xffffffffu);
	assert_true(r.cs.attr & VCPU_SEG_DB);
	assert_true(r.cs.attr & VCPU_SEG_G);
	assert_int_equal(r.es.attr, VCPU_ATTR_DATA32);
	assert_int_equal(r.gs.limit, 0xffffffffu);
	assert_int_equal(vcpu_mode(&r), VCPU_MODE_PROT32);
	assert_int_equal(vcpu_code_bits(&r), 32);
}

static void test_real_sipi(void **state)
{
	struct vcpu_regs r;

	vcpu_state_real_sipi(&r, 0x9a);
	assert_int_equal(r.cs.sel, 0x9a00);
	assert_int_equal(r.cs.base, 0x9a000);
	assert_int_equal(r.cs.limit, 0xffff);
	assert_int_equal(r.rip, 0);
	assert_false(r.cr0 & BIT(0));
	assert_int_equal(r.ds.base, 0);
	assert_int_equal(vcpu_mode(&r), VCPU_MODE_REAL);
	assert_int_equal(vcpu_code_bits(&r), 16);
	assert_int_equal(vcpu_cpl(&r), 0);
}

static void test_mode_and_cpl(void **state)
{
	struct vcpu_regs r;

	vcpu_state_long64(&r, 0x08, 0x10);
	r.ss.attr |= VCPU_SEG_DPL(3);
	assert_int_equal(vcpu_cpl(&r), 3);
	r.cs.attr = (u16)((r.cs.attr & ~VCPU_SEG_L) | VCPU_SEG_DB); /* compatibility mode */
	assert_int_equal(vcpu_mode(&r), VCPU_MODE_PROT32);
	r.cs.attr &= (u16)~VCPU_SEG_DB;
	assert_int_equal(vcpu_code_bits(&r), 16);
	vcpu_state_prot32(&r, 0x08, 0x10);
	r.rflags |= BIT(17); /* virtual-8086 */
	assert_int_equal(vcpu_mode(&r), VCPU_MODE_VM86);
	assert_int_equal(vcpu_cpl(&r), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_values),
		cmocka_unit_test(test_long64),
		cmocka_unit_test(test_prot32_multiboot),
		cmocka_unit_test(test_real_sipi),
		cmocka_unit_test(test_mode_and_cpl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
