// SPDX-License-Identifier: MIT
/* Hosted tests of the MSR policy (msr_policy.c): every behaviour class,
 * the reserved-bit #GPs of MTRRs, PAT and EFER, canonical addresses, the
 * vendor-only rows, and #GP with a count for MSRs in no row. */
#include <errno.h>
#include "vmm/dev/dev_test.h"
#include "vmm/msr_policy.h"
#include "vmm/vcpu.h"

static struct msr_state st;
static struct vcpu_regs regs;
static struct msr_env env;

static int setup(void **state)
{
	memset(&st, 0, sizeof(st));
	memset(&regs, 0, sizeof(regs));
	regs.pat = 0x0007040600070406ull;
	env = (struct msr_env){ .vendor = CPUID_VENDOR_AMD, .phys_bits = 40, .host_tsc = 1000000,
				.nx = true, .regs = &regs };
	return 0;
}

static u64 rd(u32 msr)
{
	u64 v = 0xdead;

	assert_int_equal(msr_policy_read(&st, &env, msr, &v), 0);
	return v;
}

#define WR_OK(msr, v) assert_int_equal(msr_policy_write(&st, &env, (msr), (v)), 0)
#define WR_GP(msr, v) assert_int_equal(msr_policy_write(&st, &env, (msr), (v)), -EINVAL)
#define RD_GP(msr)                                                        \
	do {                                                              \
		u64 x_;                                                   \
		assert_int_equal(msr_policy_read(&st, &env, (msr), &x_), -EINVAL); \
	} while (0)

static void test_unknown(void **state)
{
	SCENARIO("an MSR in no row: #GP, counted");
	RD_GP(0x12345678);
	WR_GP(0xc0011234, 0);
	RD_GP(0x48);  /* SPEC_CTRL: not offered */
	RD_GP(0x400); /* MC0_CTL: no banks */
	assert_int_equal(st.gp_count, 4);
	assert_int_equal(st.gp_last, 0x400);
	assert_string_equal(msr_policy_name(0x12345678), "");
	assert_string_equal(msr_policy_name(0x277), "IA32_PAT");
}

static void test_tsc(void **state)
{
	SCENARIO("IA32_TSC: host TSC plus the offset a write sets");
	assert_int_equal(rd(0x10), 1000000);
	WR_OK(0x10, 5000);
	assert_int_equal(st.tsc_offset, (u64)5000 - 1000000);
	env.host_tsc += 10;
	assert_int_equal(rd(0x10), 5010);
}

static void test_mtrr(void **state)
{
	SCENARIO("MTRRs: cap, firmware defaults, reserved bits and types #GP");
	assert_int_equal(rd(0xfe), 0x508);
	WR_GP(0xfe, 0);
	assert_int_equal(rd(0x2ff), 0xc06);
	assert_int_equal(rd(0x200), 0xc0000000);
	assert_int_equal(rd(0x201), 0xffc0000800ull);
	assert_int_equal(rd(0x259), 0);                  /* VGA hole UC */
	assert_int_equal(rd(0x250), 0x0606060606060606ull);
	WR_GP(0x2ff, 0x1006);                            /* reserved bit 12 */
	WR_GP(0x2ff, 0x802);                             /* type 2 is reserved */
	WR_OK(0x2ff, 0x800);
	WR_GP(0x202, 0x100106);                          /* bit 8 reserved */
	WR_GP(0x202, (1ull << 40) | 6);                  /* beyond MAXPHYADDR */
	WR_GP(0x202, 0x100003);                          /* type 3 */
	WR_OK(0x202, 0x100006);
	WR_GP(0x203, 0xfffff00001ull);                   /* mask low bits reserved */
	WR_OK(0x203, 0xfffff00800ull);
	assert_int_equal(rd(0x203), 0xfffff00800ull);
	WR_GP(0x268, 0x0606060606060602ull);
	WR_OK(0x26f, 0x0505050505050505ull);
	assert_int_equal(rd(0x26f), 0x0505050505050505ull);
	RD_GP(0x210);                                    /* only 8 pairs */
}

static void test_pat(void **state)
{
	SCENARIO("PAT lives in the registers; invalid types #GP");
	assert_int_equal(rd(0x277), 0x0007040600070406ull);
	WR_GP(0x277, 0x0007040600070402ull);
	WR_GP(0x277, 0x0807040600070406ull);
	WR_OK(0x277, 0x0007010600070406ull);
	assert_int_equal(regs.pat, 0x0007010600070406ull);
}

static void test_syscall_and_bases(void **state)
{
	SCENARIO("SYSCALL, SYSENTER and FS/GS bases: in the registers, canonical");
	WR_OK(0xc0000081, 0x0023001000000000ull);
	WR_OK(0xc0000082, 0xffffffff81000000ull);
	WR_GP(0xc0000082, 0x0000800000000000ull);
	WR_OK(0xc0000084, 0x47700);
	WR_GP(0xc0000084, 1ull << 32);
	WR_OK(0xc0000100, 0x7fff00001000ull);
	WR_OK(0xc0000102, 0xffff888000000000ull);
	WR_GP(0xc0000101, 0x1234567890123456ull);
	WR_OK(0x174, 0x10010);
	assert_int_equal(regs.star, 0x0023001000000000ull);
	assert_int_equal(regs.lstar, 0xffffffff81000000ull);
	assert_int_equal(regs.sfmask, 0x47700);
	assert_int_equal(regs.fs.base, 0x7fff00001000ull);
	assert_int_equal(regs.kernel_gs_base, 0xffff888000000000ull);
	assert_int_equal(rd(0x174), 0x10);
	assert_int_equal(rd(0xc0000100), 0x7fff00001000ull);
}

static void test_efer(void **state)
{
	SCENARIO("EFER: SCE/LME/NXE writable, LMA kept, LME fixed under paging, SVME #GP");
	regs.efer = 0x500; /* LME | LMA */
	regs.cr0 = 1ull << 31;
	WR_OK(0xc0000080, 0x901);
	assert_int_equal(regs.efer, 0xd01);
	WR_GP(0xc0000080, 0x801);         /* LME off with paging on */
	WR_GP(0xc0000080, 0x1d01);        /* SVME */
	WR_GP(0xc0000080, 0x4d01);        /* FFXSR */
	env.nx = false;
	WR_GP(0xc0000080, 0xd01);
	regs.cr0 = 0;
	regs.efer = 0;
	WR_OK(0xc0000080, 0x100);
	assert_int_equal(rd(0xc0000080), 0x100);
	WR_OK(0xc0000080, 0x400);         /* LMA is the CPU's: ignored */
	assert_int_equal(regs.efer, 0);
}

static void test_misc(void **state)
{
	SCENARIO("TSC_AUX, MCG, DEBUGCTL, microcode revision");
	WR_OK(0xc0000103, 7);
	assert_int_equal(rd(0xc0000103), 7);
	WR_GP(0xc0000103, 1ull << 32);
	assert_int_equal(rd(0x179), 0);   /* no banks */
	WR_GP(0x179, 0);
	WR_OK(0x17a, 0);
	WR_GP(0x17a, 8);
	WR_OK(0x1d9, 3);
	assert_int_equal(rd(0x1d9), 0);
	WR_GP(0x1d9, 4);
	WR_OK(0x8b, 0);
	assert_int_equal(rd(0x8b), 0);
}

static void test_amd_rows(void **state)
{
	SCENARIO("AMD rows: PMU reads 0 and drops writes, HWCR, VM_CR locked, DE_CFG");
	for (u32 m = 0xc0010000; m <= 0xc0010007; m++) {
		WR_OK(m, 0xffff);
		assert_int_equal(rd(m), 0);
	}
	WR_OK(0xc001020b, 0x1234);
	assert_int_equal(rd(0xc001020b), 0);
	assert_int_equal(rd(0xc0010015), 1ull << 24);
	WR_OK(0xc0010015, 1ull << 6);
	assert_int_equal(rd(0xc0010015), (1ull << 24) | (1ull << 6));
	WR_GP(0xc0010015, 1ull << 0);
	assert_int_equal(rd(0xc0010114), 0x18);
	WR_GP(0xc0010114, 0);
	RD_GP(0xc0010117);                /* VM_HSAVE_PA: no SVM */
	assert_int_equal(rd(0xc0011029), 2);
	assert_int_equal(rd(0xc0010010), 0);
	assert_int_equal(rd(0xc001001a), 0xc0000000ull);
	RD_GP(0x1a0);                     /* MISC_ENABLE is Intel's */
	RD_GP(0x3a);
}

static void test_intel_rows(void **state)
{
	SCENARIO("Intel rows: MISC_ENABLE, FEATURE_CONTROL locked; AMD rows #GP");
	env.vendor = CPUID_VENDOR_INTEL;
	assert_int_equal(rd(0x1a0), 0x1801);
	WR_OK(0x1a0, 0);
	assert_int_equal(rd(0x1a0), 0x1800);
	WR_OK(0x1a0, 0x1801 | (1ull << 22)); /* other bits: ignored */
	assert_int_equal(rd(0x1a0), 0x1801);
	assert_int_equal(rd(0x3a), 1);
	WR_GP(0x3a, 5);
	RD_GP(0xc0010000);
	RD_GP(0xc0010015);
}

static void test_nested_svm(void **state)
{
	SCENARIO("nested SVM offered: EFER.SVME writable, VM_CR reads 0 and locks, "
		 "VM_HSAVE_PA page-aligned below MAXPHYADDR; without it SVME is reserved");
	WR_GP(0xc0000080, 1ull << 12);    /* no nested SVM: SVME reserved */
	RD_GP(0xc0010117);
	env.svm = true;
	assert_int_equal(rd(0xc0010114), 0);
	WR_OK(0xc0000080, 1ull << 12);
	assert_int_equal(rd(0xc0000080), 1ull << 12);
	WR_GP(0xc0010114, 1ull << 4);     /* SVMDIS while EFER.SVME = 1 */
	WR_OK(0xc0010117, 0x12345000);
	assert_int_equal(rd(0xc0010117), 0x12345000);
	WR_GP(0xc0010117, 0x12345008);    /* not page-aligned */
	WR_GP(0xc0010117, 1ull << 40);    /* beyond MAXPHYADDR (40) */
	WR_OK(0xc0000080, 0);
	WR_OK(0xc0010114, (1ull << 4) | (1ull << 3)); /* SVMDIS, LOCK */
	WR_GP(0xc0000080, 1ull << 12);    /* SVM disabled now */
	WR_GP(0xc0010114, 0);             /* locked */
	WR_GP(0xc0010114 + 0, 1ull << 5);
	env.vendor = CPUID_VENDOR_INTEL;  /* the SVM backend on a non-AMD vendor string */
	assert_int_equal(rd(0xc0010114), 0x18);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_unknown, setup),
		cmocka_unit_test_setup(test_tsc, setup),
		cmocka_unit_test_setup(test_mtrr, setup),
		cmocka_unit_test_setup(test_pat, setup),
		cmocka_unit_test_setup(test_syscall_and_bases, setup),
		cmocka_unit_test_setup(test_efer, setup),
		cmocka_unit_test_setup(test_misc, setup),
		cmocka_unit_test_setup(test_amd_rows, setup),
		cmocka_unit_test_setup(test_intel_rows, setup),
		cmocka_unit_test_setup(test_nested_svm, setup),
	};

	dev_test_watchdog(30);
	return cmocka_run_group_tests_name("vmm_msr_policy", tests, NULL, NULL);
}
