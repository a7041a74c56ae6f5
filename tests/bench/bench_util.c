// SPDX-License-Identifier: MIT
/* Timing, statistics and MMU set-up shared by the benchmark sections. */
#include "bench.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

u64 bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts v in place. */
double bench_median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double bench_min(const double *v, unsigned n)
{
	double m = v[0];

	for (unsigned i = 1; i < n; i++)
		m = MIN(m, v[i]);
	return m;
}

double bench_max(const double *v, unsigned n)
{
	double m = v[0];

	for (unsigned i = 1; i < n; i++)
		m = MAX(m, v[i]);
	return m;
}

void bench_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench_mmu: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

/* Fake backing far above anything a slot's gfn uses; offset so that the
 * largest congruence between gfn and hfn is exactly map_size. */
static hfn_t bench_backing(u64 base_gpa, u64 map_size)
{
	u64 b = (1ull << 40) + base_gpa % SZ_1G;

	if (map_size < SZ_1G)
		b += map_size; /* congruent mod map_size, not mod the next size */
	return HFN(b / SZ_4K);
}

struct mmu *bench_mmu_with_slot(u16 id, u64 base_gpa, u64 bytes, u64 map_size)
{
	struct mmu *mmu = mmu_create(&spte_format_ept);
	struct memslot_desc d = {
		.id = id, .base_gfn = gpa_to_gfn(GPA(base_gpa)), .npages = bench_pages(bytes),
		.backing = bench_backing(base_gpa, map_size),
	};
	int rc;

	if (!mmu)
		bench_die("mmu_create failed");
	rc = mmu_slot_add(mmu, &d);
	if (rc)
		bench_die("slot add (%llu MiB at %#llx) failed: %d",
			  (unsigned long long)(bytes >> 20), (unsigned long long)base_gpa, rc);
	return mmu;
}

static bool bench_retryable(enum mmu_fault_result r)
{
	return r == MMU_FAULT_RETRY || r == MMU_FAULT_RETRY_SLOT || r == MMU_FAULT_NOMEM;
}

/* One access, run-loop style: load the root before every entry. */
static enum mmu_fault_result bench_fault_one(struct mmu_vcpu *mv, u64 gpa, u32 acc)
{
	for (unsigned tries = 0; tries < 1000000; tries++) {
		enum mmu_fault_result r;
		hpa_t root;
		bool flush;

		if (mmu_vcpu_load_root(mv, &root, &flush))
			continue;
		r = mmu_page_fault(mv, GPA(gpa), acc);
		if (!bench_retryable(r))
			return r;
	}
	bench_die("fault at %#llx does not resolve", (unsigned long long)gpa);
}

u64 bench_fault_range(struct mmu_vcpu *mv, u64 gpa, u64 bytes, u64 step, u32 acc)
{
	u64 fixed = 0;

	for (u64 a = gpa; a < gpa + bytes; a += step) {
		enum mmu_fault_result r = bench_fault_one(mv, a, acc);

		if (r != MMU_FAULT_FIXED && r != MMU_FAULT_SPURIOUS)
			bench_die("fault at %#llx: %s", (unsigned long long)a, mmu_fault_result_name(r));
		fixed += r == MMU_FAULT_FIXED;
	}
	return fixed;
}
