// SPDX-License-Identifier: MIT
/*
 * Demand-fault throughput, like KVM's demand_paging_test with partitioned
 * ranges: T threads, each a vCPU faulting its own part of one slot once per
 * mapping (write access), all starting together. Rate = all faults / (last
 * thread done - first thread started). The "-ovl" case has every thread
 * fault the same range (demand_paging_test -o): one thread installs each
 * leaf, the others find it there (SPURIOUS) or lose the cmpxchg and retry.
 * Also records page-table memory per GiB mapped (tables_in_use after a
 * single-thread populate).
 */
#include "bench.h"
#include "mmu/mmu_debug.h"

#include <pthread.h>
#include <stdio.h>

#define BENCH_BASE_GPA (4 * SZ_1G)

struct fault_case {
	const char *name;
	u64 map_size;
	u64 bytes_per_thread;
	bool overlap; /* all threads fault the same range */
};

static const struct fault_case fault_cases[] = {
	{ "4K", SZ_4K, 1ull << 30, false },     /* 262144 faults a thread */
	{ "2M", SZ_2M, 64ull << 30, false },    /*  32768 faults a thread */
	{ "1G", SZ_1G, 1ull << 40, false },     /*   1024 faults a thread */
	{ "4K-ovl", SZ_4K, 1ull << 30, true },  /* 262144 faults a thread */
};

/* Page-table memory seen after the one-thread populate, per case. */
static struct {
	u64 bytes_mapped;
	u64 tables;
} table_mem[ARRAY_SIZE(fault_cases)];

struct fault_thread {
	pthread_t th;
	pthread_barrier_t *start;
	struct mmu_vcpu *mv;
	u64 gpa, bytes, step;
	u64 t0, t1, fixed;
};

static void *fault_thread_main(void *arg)
{
	struct fault_thread *t = arg;

	pthread_barrier_wait(t->start);
	t->t0 = bench_now_ns();
	t->fixed = bench_fault_range(t->mv, t->gpa, t->bytes, t->step, MMU_ACC_WRITE);
	t->t1 = bench_now_ns();
	return NULL;
}

static u64 mapped_of_size(const struct mmu_stats *st, u64 map_size)
{
	return map_size == SZ_4K ? st->maps_4k : map_size == SZ_2M ? st->maps_2m : st->maps_1g;
}

/* One run; returns faults per second. */
static double fault_run(const struct fault_case *c, unsigned nthreads, unsigned case_idx)
{
	struct fault_thread t[BENCH_MAX_THREADS];
	pthread_barrier_t start;
	u64 slot_bytes = c->bytes_per_thread * (c->overlap ? 1 : nthreads);
	struct mmu *mmu = bench_mmu_with_slot(0, BENCH_BASE_GPA, slot_bytes, c->map_size);
	u64 faults = c->bytes_per_thread / c->map_size * nthreads;
	struct mmu_stats st;
	u64 t0 = ~0ull, t1 = 0, fixed = 0;

	pthread_barrier_init(&start, NULL, nthreads);
	for (unsigned i = 0; i < nthreads; i++) {
		t[i] = (struct fault_thread){
			.start = &start, .mv = mmu_vcpu_create(mmu, i), .step = c->map_size,
			.gpa = BENCH_BASE_GPA + (c->overlap ? 0 : i * c->bytes_per_thread),
			.bytes = c->bytes_per_thread,
		};
		if (!t[i].mv)
			bench_die("mmu_vcpu_create failed");
		pthread_create(&t[i].th, NULL, fault_thread_main, &t[i]);
	}
	for (unsigned i = 0; i < nthreads; i++) {
		pthread_join(t[i].th, NULL);
		t0 = MIN(t0, t[i].t0);
		t1 = MAX(t1, t[i].t1);
		fixed += t[i].fixed;
	}
	mmu_get_stats(mmu, &st);
	if (mapped_of_size(&st, c->map_size) != fixed)
		bench_die("%s: %llu faults fixed but %llu leaves of that size", c->name,
			  (unsigned long long)fixed,
			  (unsigned long long)mapped_of_size(&st, c->map_size));
	if (mapped_of_size(&st, c->map_size) != slot_bytes / c->map_size)
		bench_die("%s: slot not fully mapped", c->name);
	if (nthreads == 1) {
		table_mem[case_idx].bytes_mapped = c->bytes_per_thread;
		table_mem[case_idx].tables = st.tables_in_use;
	}
	for (unsigned i = 0; i < nthreads; i++)
		mmu_vcpu_destroy(t[i].mv);
	mmu_destroy(mmu);
	pthread_barrier_destroy(&start);
	return (double)faults / ((double)(t1 - t0) / 1e9);
}

static void fault_row(unsigned case_idx, unsigned nthreads)
{
	const struct fault_case *c = &fault_cases[case_idx];
	double rate[BENCH_RUNS];

	for (unsigned r = 0; r < BENCH_RUNS; r++)
		rate[r] = fault_run(c, nthreads, case_idx);
	printf("  %-7s %7u %12llu %12.3f M/s   %6.3f .. %6.3f %7.2f\n", c->name, nthreads,
	       (unsigned long long)(c->bytes_per_thread / c->map_size * nthreads),
	       bench_median(rate, BENCH_RUNS) / 1e6, bench_min(rate, BENCH_RUNS) / 1e6,
	       bench_max(rate, BENCH_RUNS) / 1e6, 1e9 / bench_median(rate, BENCH_RUNS) *
	       nthreads / 1e3);
}

void bench_demand_faults(unsigned max_threads)
{
	printf("\nDemand faults: partitioned ranges, write access, one fault per mapping\n");
	printf("  %-7s %7s %12s %16s   %14s %7s\n", "mapping", "threads", "faults/run",
	       "median rate", "min .. max", "us/flt");
	for (unsigned c = 0; c < ARRAY_SIZE(fault_cases); c++)
		for (unsigned n = fault_cases[c].overlap ? 2 : 1; n <= max_threads; n *= 2)
			fault_row(c, n);
	printf("  (us/flt: wall time per fault per thread, i.e. threads / rate;\n"
	       "   -ovl: every thread faults the same range, like demand_paging_test -o)\n");
}

void bench_table_memory(void)
{
	unsigned kib_per_table = 4 * mmu_debug_pages_per_table();

	printf("\nPage-table memory per GiB mapped (tables_in_use after populate, root included;\n"
	       "  each table costs %u KiB: the hardware table plus its metadata page)\n",
	       kib_per_table);
	printf("  %-7s %12s %10s %14s\n", "mapping", "GiB mapped", "tables", "KiB per GiB");
	for (unsigned c = 0; c < ARRAY_SIZE(fault_cases); c++) {
		double gib;

		if (fault_cases[c].overlap)
			continue;
		gib = (double)table_mem[c].bytes_mapped / (double)SZ_1G;
		printf("  %-7s %12.1f %10llu %14.2f\n", fault_cases[c].name, gib,
		       (unsigned long long)table_mem[c].tables,
		       (double)table_mem[c].tables * kib_per_table / gib);
	}
}
