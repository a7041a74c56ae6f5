// SPDX-License-Identifier: MIT
/*
 * bench_nested (make bench): the nested MMU's costs, hosted, one thread.
 * L1 memory is a real (lazily touched) mapping; NPT12 is built in it. Each
 * figure is the median of BENCH_RUNS runs on fresh objects:
 *  - an L1 TDP fault vs. an L2 shadow fault over the same memory (4 KiB, and
 *    2 MiB leaves on both sides);
 *  - the round trip of an L1 flush: nmmu_flush_asid + refaulting the set;
 *  - nmmu_root_get with a cached root (the per-L2-entry cost);
 *  - a dirty-log harvest of L1 memory that L2 wrote (write-protects shadows).
 */
#include <stdio.h>
#include <time.h>
#include "tests/nested/nested_test_util.h"

#define RUNS 5
#define SET_PAGES 8192ull /* 32 MiB of L2 memory */
#define L2_BASE 0x40000000ull

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v)
{
	qsort(v, RUNS, sizeof(*v), cmp_double);
	return v[RUNS / 2];
}

struct bn {
	struct fake_l1 f;
	struct nmmu *n;
	struct nmmu_vcpu *nv;
	struct mmu_vcpu *l1v;
};

static void bn_init(struct bn *b, int level)
{
	fl1_init_mmu(&b->f, mmu_create(&spte_format_npt), 2 * GIB_PAGES, 0);
	memset(fl1_ptr(&b->f, NCR3), 0, PAGE_SIZE);
	b->n = nmmu_create(b->f.mmu, 4);
	b->nv = nmmu_vcpu_create(b->n, 0);
	b->l1v = mmu_vcpu_create(b->f.mmu, 0);
	if (!b->nv || !b->l1v)
		abort();
	for (u64 p = 0; p < SET_PAGES; p += tdp_level_pages(level))
		fl1_map(&b->f, NCR3, (L2_BASE + p * PAGE_SIZE), SZ_1G + p * PAGE_SIZE, level, N_ALL);
}

static void bn_fini(struct bn *b)
{
	nmmu_vcpu_destroy(b->nv);
	nmmu_destroy(b->n);
	mmu_vcpu_destroy(b->l1v);
	mmu_destroy(b->f.mmu);
	fl1_fini(&b->f);
}

static u64 l2_faults(struct bn *b, u64 step, u32 acc)
{
	struct nmmu_fault_out o;
	u64 n = 0;

	for (u64 p = 0; p < SET_PAGES; p += step)
		n += nfault(b->nv, NCR3, ASID, L2_BASE + p * PAGE_SIZE, acc, &o) == NMMU_FAULT_FIXED;
	return n;
}

static u64 l1_faults(struct bn *b, u64 step)
{
	u64 n = 0;

	for (u64 p = 0; p < SET_PAGES; p += step)
		n += tmmu_fault(b->l1v, SZ_1G + p * PAGE_SIZE, MMU_ACC_WRITE) == MMU_FAULT_FIXED;
	return n;
}

static void fault_costs(int level, const char *name)
{
	double l1[RUNS], l2[RUNS], flush[RUNS];
	u64 step = tdp_level_pages(level);

	for (int r = 0; r < RUNS; r++) {
		struct bn b;
		u64 t0, t1, t2, t3, n1, n2;

		bn_init(&b, level);
		mmu_set_max_page_level(b.f.mmu, level); /* the same leaves on both sides */
		t0 = now_ns();
		n1 = l1_faults(&b, step);
		t1 = now_ns();
		n2 = l2_faults(&b, step, MMU_ACC_WRITE);
		t2 = now_ns();
		nmmu_flush_asid(b.n, ASID);
		n2 += l2_faults(&b, step, MMU_ACC_WRITE);
		t3 = now_ns();
		if (!n1 || n2 != 2 * n1)
			abort();
		l1[r] = (double)(t1 - t0) / (double)n1;
		l2[r] = (double)(t2 - t1) / (double)n1;
		flush[r] = (double)(t3 - t2) / 1e3;
		bn_fini(&b);
	}
	printf("| %-8s | %10.0f ns | %10.0f ns | %7.2f | %9.0f us |\n", name, median(l1),
	       median(l2), median(l2) / median(l1), median(flush));
}

static void root_get_cost(void)
{
	double v[RUNS];

	for (int r = 0; r < RUNS; r++) {
		struct bn b;
		hpa_t root;
		bool flush;
		u64 t0;

		bn_init(&b, 1);
		nmmu_root_get(b.nv, GPA(NCR3), ASID, &fl1_mode, &root, &flush);
		t0 = now_ns();
		for (int i = 0; i < 100000; i++)
			nmmu_root_get(b.nv, GPA(NCR3), ASID, &fl1_mode, &root, &flush);
		v[r] = (double)(now_ns() - t0) / 100000;
		bn_fini(&b);
	}
	printf("nmmu_root_get, cached root: %.0f ns per L2 entry\n", median(v));
}

static void harvest_cost(void)
{
	static u64 bitmap[2 * GIB_PAGES / 64];
	double with[RUNS];

	for (int r = 0; r < RUNS; r++) {
		struct bn b;
		u64 t0;

		bn_init(&b, 1);
		if (mmu_slot_set_flags(b.f.mmu, 0, MEMSLOT_DIRTY_LOG) || !l2_faults(&b, 1, MMU_ACC_WRITE))
			abort();
		t0 = now_ns();
		mmu_slot_get_dirty_log(b.f.mmu, 0, bitmap);
		with[r] = (double)(now_ns() - t0) / 1e3;
		bn_fini(&b);
	}
	printf("harvest of a 2 GiB slot after L2 wrote %llu pages: %.0f us (write-protects the shadow)\n",
	       (unsigned long long)SET_PAGES, median(with));
}

int main(void)
{
	env_hosted_reset();
	printf("\nbench_nested (%s): %llu-page working set, median of %d runs\n\n",
#ifdef KEEL_NDEBUG
	       "rel",
#else
	       "debug: not for comparison",
#endif
	       (unsigned long long)SET_PAGES, RUNS);
	printf("| leaves   | L1 TDP fault  | L2 shadow fault | L2/L1 | flush+refault |\n");
	printf("|----------|---------------|-----------------|-------|---------------|\n");
	fault_costs(1, "4 KiB");
	fault_costs(2, "2 MiB");
	printf("\n");
	root_get_cost();
	harvest_cost();
	return 0;
}
