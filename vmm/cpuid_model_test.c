// SPDX-License-Identifier: MIT
/* Hosted tests of the CPUID model (cpuid_model.c) on made-up Intel and AMD
 * hosts: hidden and shown features, the signature leaf, topology for the
 * vCPU count and index, exact XSAVE sizes, out-of-range leaves. */
#include "vmm/dev/dev_test.h"
#include "vmm/cpuid_model.h"

static bool amd;

static struct cpuid_out host(void *ctx, u32 leaf, u32 sub)
{
	switch (leaf) {
	case 0:
		return amd ? (struct cpuid_out){ 0x10, 0x68747541, 0x444d4163, 0x69746e65 }
			   : (struct cpuid_out){ 0x1f, 0x756e6547, 0x6c65746e, 0x49656e69 };
	case 1: /* everything set but the hypervisor bit */
		return (struct cpuid_out){ 0x000306a9, 0x00100800, 0x7fffffff, 0xffffffff };
	case 4:
		if (sub == 0)
			return (struct cpuid_out){ 0x1c004121, 0x01c0003f, 0x3f, 0 }; /* L1d */
		if (sub == 1)
			return (struct cpuid_out){ 0x1c004163, 0x03c0003f, 0x3fff, 6 }; /* L3 */
		return (struct cpuid_out){ 0 };
	case 5: case 0xa:
		return (struct cpuid_out){ ~0u, ~0u, ~0u, ~0u };
	case 6:
		return (struct cpuid_out){ 0x77, 2, 9, 0 };
	case 7:
		return sub ? (struct cpuid_out){ 1, 1, 1, 1 }
			   : (struct cpuid_out){ 2, ~0u, ~0u, ~0u };
	case 0xd:
		if (sub == 0)
			return (struct cpuid_out){ 0x2e7, 0xa88, 0xa88, 0 }; /* x87 SSE AVX AVX-512 PKRU */
		if (sub == 1)
			return (struct cpuid_out){ 0xf, 0, 0, 0 };
		if (sub == 2)
			return (struct cpuid_out){ 256, 576, 0, 0 };
		if (sub == 9)
			return (struct cpuid_out){ 8, 2688, 0, 0 };
		return (struct cpuid_out){ 64, 832 + 64 * sub, 0, 0 };
	case 0x80000000:
		return (struct cpuid_out){ 0x80000008, 0, 0, 0 };
	case 0x80000001:
		return (struct cpuid_out){ 0, 0, ~0u, ~0u };
	case 0x80000007:
		return (struct cpuid_out){ 0, 0, 0, 0x1ff };
	case 0x80000008:
		return (struct cpuid_out){ 0x3030, ~0u, 0xff, 0 };
	default:
		return (struct cpuid_out){ 0x11, 0x22, 0x33, 0x44 };
	}
}

static struct cpuid_out q(unsigned nr, unsigned index, u32 leaf, u32 sub, u64 xcr0)
{
	struct cpuid_model m;
	struct cpuid_vcpu_view v = { .index = index, .osxsave = true, .apic_enabled = true,
				     .xcr0 = xcr0 };

	cpuid_model_init(&m, host, NULL, nr, ~0ull, 2500000000ull);
	return cpuid_model_query(&m, &v, leaf, sub);
}

static void test_features(void **state)
{
	struct cpuid_out r;

	SCENARIO("leaf 1 and 7: hidden, shown and derived features");
	amd = false;
	r = q(1, 0, 1, 0, 1);
	assert_true(r.ecx & (1u << 31));   /* hypervisor */
	assert_true(r.ecx & (1u << 21));   /* x2APIC */
	assert_true(r.ecx & (1u << 24));   /* TSC-deadline */
	assert_false(r.ecx & (1u << 5));   /* VMX */
	assert_false(r.ecx & (1u << 3));   /* MONITOR */
	assert_false(r.ecx & (1u << 17));  /* PCID */
	assert_false(r.ecx & (1u << 15));  /* PDCM */
	assert_true(r.ecx & (1u << 27));   /* OSXSAVE follows CR4 */
	assert_true(r.ecx & (1u << 28));   /* AVX */
	assert_false(r.edx & (1u << 28));  /* HTT: one vCPU */
	assert_int_equal(r.ebx >> 24, 0);
	r = q(1, 0, 7, 0, 1);
	assert_int_equal(r.eax, 0);
	assert_false(r.ebx & (1u << 11));  /* RTM */
	assert_false(r.ebx & (1u << 4));   /* HLE */
	assert_false(r.ebx & (1u << 16));  /* AVX-512F */
	assert_true(r.ebx & (1u << 5));    /* AVX2 */
	assert_false(r.ecx & (1u << 3));   /* PKU */
	assert_int_equal(r.edx, (1u << 4) | (1u << 10) | (1u << 14));
	assert_int_equal(q(1, 0, 7, 1, 1).eax, 0);
	assert_int_equal(q(1, 0, 5, 0, 1).eax, 0);   /* MONITOR leaf */
	assert_int_equal(q(1, 0, 0xa, 0, 1).eax, 0); /* no PMU */
	assert_int_equal(q(1, 0, 6, 0, 1).eax, 4);   /* ARAT only */
	r = q(1, 0, 0x80000001, 0, 1);
	assert_false(r.ecx & (1u << 2));   /* SVM */
	assert_false(r.edx & (1u << 27));  /* RDTSCP */
	assert_int_equal(q(1, 0, 0x80000007, 0, 1).edx, 0x100); /* invariant TSC only */
}

static void test_signature(void **state)
{
	struct cpuid_out r = q(1, 0, 0x40000000, 0, 1);

	SCENARIO("Keel's hypervisor leaf; the rest of 0x4000xxxx is empty");
	assert_int_equal(r.eax, 0x40000000);
	assert_memory_equal(&r.ebx, "Keel", 4);
	assert_memory_equal(&r.ecx, "Keel", 4);
	assert_memory_equal(&r.edx, "Keel", 4);
	assert_int_equal(q(1, 0, 0x40000100, 0, 1).ebx, 0);
}

static void test_intel_topology(void **state)
{
	struct cpuid_out r;

	SCENARIO("Intel topology: leaf 1 EBX, 4, 0xb and 0x1f for 3 vCPUs");
	amd = false;
	r = q(3, 2, 1, 0, 1);
	assert_int_equal(r.ebx >> 24, 2);
	assert_int_equal((r.ebx >> 16) & 0xff, 4);
	assert_true(r.edx & (1u << 28));
	r = q(3, 2, 0xb, 0, 1);
	assert_int_equal(r.eax, 0);
	assert_int_equal(r.ebx, 1);
	assert_int_equal(r.ecx, 0x100);
	assert_int_equal(r.edx, 2);
	r = q(3, 2, 0xb, 1, 1);
	assert_int_equal(r.eax, 2);
	assert_int_equal(r.ebx, 3);
	assert_int_equal(r.ecx, 0x201);
	r = q(3, 2, 0x1f, 2, 1);
	assert_int_equal(r.ebx, 0);
	assert_int_equal(r.ecx, 2);
	assert_int_equal(r.edx, 2);
	r = q(3, 2, 4, 0, 1);
	assert_int_equal(r.eax >> 26, 2);
	assert_int_equal((r.eax >> 14) & 0xfff, 0); /* L1 per core */
	r = q(3, 2, 4, 1, 1);
	assert_int_equal((r.eax >> 14) & 0xfff, 2); /* L3 shared */
	assert_int_equal(q(3, 2, 0x80000008, 0, 1).ecx, 0);
}

static void test_amd_topology(void **state)
{
	struct cpuid_out r;

	SCENARIO("AMD topology: 0x80000008 ECX and 0x8000001e for 2 vCPUs");
	amd = true;
	r = q(2, 1, 0x80000008, 0, 1);
	assert_int_equal(r.ecx, (1u << 12) | 1);
	assert_int_equal(r.eax, 0x3030);
	assert_int_equal(r.ebx, 0x5);
	r = q(2, 1, 0x8000001e, 0, 1);
	assert_int_equal(r.eax, 1);
	assert_int_equal(r.ebx, 1);
	assert_int_equal(q(2, 1, 0xb, 0, 1).ebx, 0); /* not on AMD */
	assert_int_equal(q(2, 1, 0x80000000, 0, 1).eax, 0x8000001e);
	amd = false;
}

static void test_xsave(void **state)
{
	struct cpuid_out r;

	SCENARIO("leaf 0xd: x87|SSE|AVX only, sizes from the host's sub-leaves");
	r = q(1, 0, 0xd, 0, 0x3);
	assert_int_equal(r.eax, 0x7);
	assert_int_equal(r.edx, 0);
	assert_int_equal(r.ebx, 576);
	assert_int_equal(r.ecx, 832);
	assert_int_equal(q(1, 0, 0xd, 0, 0x7).ebx, 832);
	assert_int_equal(q(1, 0, 0xd, 1, 0x7).eax, 0x7); /* no XSAVES */
	assert_int_equal(q(1, 0, 0xd, 1, 0x7).ebx, 832); /* XSAVEC size (Linux checks it) */
	assert_int_equal(q(1, 0, 0xd, 1, 0x3).ebx, 576);
	assert_int_equal(q(1, 0, 0xd, 2, 0x7).eax, 256);
	assert_int_equal(q(1, 0, 0xd, 2, 0x7).ebx, 576);
	assert_int_equal(q(1, 0, 0xd, 5, 0x7).eax, 0);   /* AVX-512 not offered */
	assert_int_equal(q(1, 0, 0xd, 9, 0x7).eax, 0);   /* PKRU not offered */
}

static void test_xcr0_policy(void **state)
{
	struct cpuid_model m;
	struct cpuid_vcpu_view v = { .xcr0 = 1 };
	struct cpuid_out r;

	SCENARIO("XSETBV accepting only x87|SSE: AVX and AVX2 hidden");
	amd = false;
	cpuid_model_init(&m, host, NULL, 1, 0x3, 0);
	r = cpuid_model_query(&m, &v, 1, 0);
	assert_false(r.ecx & (1u << 28));
	assert_false(r.ecx & (1u << 27)); /* OSXSAVE clear in CR4 */
	r = cpuid_model_query(&m, &v, 7, 0);
	assert_false(r.ebx & (1u << 5));
	assert_int_equal(cpuid_model_query(&m, &v, 0xd, 0).eax, 0x3);
}

static void test_tsc_leaf(void **state)
{
	struct cpuid_out r;

	SCENARIO("leaf 0x15 gives the TSC rate on Intel; 0 on AMD");
	amd = false;
	r = q(1, 0, 0x15, 0, 1);
	assert_int_equal(r.eax, 1);
	assert_int_equal(r.ebx, 1);
	assert_int_equal(r.ecx, 2500000000u);
	amd = true;
	assert_int_equal(q(1, 0, 0x15, 0, 1).ecx, 0);
	amd = false;
}

static void test_ranges(void **state)
{
	SCENARIO("leaves beyond the maximum read 0; unlisted leaves read 0");
	amd = false;
	assert_int_equal(q(1, 0, 0, 0, 1).eax, 0x1f);
	assert_int_equal(q(1, 0, 0x20, 0, 1).eax, 0);
	assert_int_equal(q(1, 0, 0x12, 0, 1).eax, 0); /* SGX */
	assert_int_equal(q(1, 0, 0x80000009, 0, 1).eax, 0);
	assert_int_equal(q(1, 0, 0x8000000a, 0, 1).eax, 0); /* SVM leaf */
	assert_int_equal(q(1, 0, 0x80000002, 0, 1).eax, 0x11); /* brand string passed */
}

static void test_nested_svm(void **state)
{
	struct cpuid_model m;
	struct cpuid_vcpu_view v = { .index = 0, .apic_enabled = true, .xcr0 = 1 };
	struct cpuid_out r;

	SCENARIO("nested SVM offered: 0x80000001 ECX.SVM and leaf 0x8000000a (rev 1, ASIDs, "
		 "NP, NRIPS, flush by ASID); not offered: both hidden");
	amd = true;
	cpuid_model_init(&m, host, NULL, 1, ~0ull, 0);
	assert_int_equal(cpuid_model_query(&m, &v, 0x80000001, 0).ecx & 4, 0);
	assert_int_equal(cpuid_model_query(&m, &v, 0x8000000a, 0).eax, 0);
	cpuid_model_set_svm(&m);
	assert_true(cpuid_model_query(&m, &v, 0x80000000, 0).eax >= 0x8000000a);
	assert_int_equal(cpuid_model_query(&m, &v, 0x80000001, 0).ecx & 4, 4);
	assert_int_equal(cpuid_model_query(&m, &v, 0x80000001, 0).ecx & (1u << 12), 0); /* SKINIT */
	r = cpuid_model_query(&m, &v, 0x8000000a, 0);
	assert_int_equal(r.eax, 1);
	assert_true(r.ebx >= 8);
	assert_int_equal(r.edx, (1u << 0) | (1u << 3) | (1u << 6));
	amd = false;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_signature),
		cmocka_unit_test(test_intel_topology),
		cmocka_unit_test(test_amd_topology),
		cmocka_unit_test(test_xsave),
		cmocka_unit_test(test_xcr0_policy),
		cmocka_unit_test(test_tsc_leaf),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_nested_svm),
	};

	dev_test_watchdog(30);
	return cmocka_run_group_tests_name("vmm_cpuid_model", tests, NULL, NULL);
}
