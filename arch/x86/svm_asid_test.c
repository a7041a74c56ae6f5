// SPDX-License-Identifier: MIT
/*
 * Hosted tests of SVM ASID allocation (svm_asid.c): TLB_CONTROL values from
 * the APM vol. 2, 15.16 (0 nothing, 1 every ASID, 3 this guest's ASID).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "arch/x86/svm_asid.h"

static void test_first_entry_starts_a_generation(void **state)
{
	struct svm_asid_cpu c;
	struct svm_asid_vcpu a, b;
	u8 tlb;

	svm_asid_cpu_init(&c, 8, true);
	svm_asid_vcpu_init(&a);
	svm_asid_vcpu_init(&b);
	assert_int_equal(svm_asid_prepare(&c, &a, 0, true, &tlb), 1);
	assert_int_equal(tlb, 1); /* nothing known about the CPU's TLB yet */
	assert_int_equal(svm_asid_prepare(&c, &b, 0, true, &tlb), 2);
	assert_int_equal(tlb, 0); /* fresh ASID of this generation: clean */
	assert_int_equal(svm_asid_prepare(&c, &a, 0, false, &tlb), 1);
	assert_int_equal(tlb, 0);
	assert_int_equal(svm_asid_prepare(&c, &a, 0, true, &tlb), 1);
	assert_int_equal(tlb, 3); /* flush by ASID */
}

static void test_no_flush_by_asid_takes_fresh_asid(void **state)
{
	struct svm_asid_cpu c;
	struct svm_asid_vcpu a;
	u8 tlb;

	svm_asid_cpu_init(&c, 4, false);
	svm_asid_vcpu_init(&a);
	assert_int_equal(svm_asid_prepare(&c, &a, 0, true, &tlb), 1);
	assert_int_equal(svm_asid_prepare(&c, &a, 0, true, &tlb), 2);
	assert_int_equal(tlb, 0);
	assert_int_equal(svm_asid_prepare(&c, &a, 0, true, &tlb), 3);
	assert_int_equal(svm_asid_prepare(&c, &a, 0, true, &tlb), 1); /* wrapped */
	assert_int_equal(tlb, 1);                                    /* new generation */
}

static void test_moved_vcpu_gets_asid_on_new_cpu(void **state)
{
	struct svm_asid_cpu c0, c1;
	struct svm_asid_vcpu a, b;
	u8 tlb;

	svm_asid_cpu_init(&c0, 16, true);
	svm_asid_cpu_init(&c1, 16, true);
	svm_asid_vcpu_init(&a);
	svm_asid_vcpu_init(&b);
	assert_int_equal(svm_asid_prepare(&c0, &a, 0, false, &tlb), 1);
	assert_int_equal(svm_asid_prepare(&c1, &b, 1, false, &tlb), 1);
	assert_int_equal(svm_asid_prepare(&c1, &b, 1, false, &tlb), 1);
	/* a moves to CPU 1: it must not share b's ASID nor keep stale entries. */
	assert_int_equal(svm_asid_prepare(&c1, &a, 1, false, &tlb), 2);
	assert_int_equal(tlb, 0);
	/* and back: CPU 0 may hold a's old entries, so a fresh ASID there too. */
	assert_int_equal(svm_asid_prepare(&c0, &a, 0, false, &tlb), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_entry_starts_a_generation),
		cmocka_unit_test(test_no_flush_by_asid_takes_fresh_asid),
		cmocka_unit_test(test_moved_vcpu_gets_asid_on_new_cpu),
	};

	return cmocka_run_group_tests_name("svm_asid", tests, NULL, NULL);
}
