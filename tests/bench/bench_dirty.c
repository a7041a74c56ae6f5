// SPDX-License-Identifier: MIT
/*
 * Dirty logging: the cost of enabling it on a slot mapped with huge pages
 * (eager split to 4 KiB, like KVM's "Enabling dirty logging time" without
 * initially-set) with the longest single hold of the exclusive MMU lock, and
 * what a concurrent vCPU saw meanwhile: its fault rate as a fraction of its
 * rate alone, and its worst fault; the cost of get-and-clear of the bitmap
 * with a fraction of the pages dirtied; and of disabling it (huge mappings
 * recovered in place).
 */
#include "bench.h"

#include <mmu/mmu_debug.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define LOG_BASE_GPA (4 * SZ_1G)
#define PROBE_BASE_GPA (1 * SZ_1G)
#define PROBE_BYTES SZ_2M
#define LOG_SLOT 0
#define PROBE_SLOT 1

/* A vCPU that keeps re-faulting pages of its own small slot, counting its
 * faults and recording the longest single one (load_root + fault until
 * resolved) since the main thread last reset it. */
struct prober {
	pthread_t th;
	struct mmu_vcpu *mv;
	atomic_bool stop;
	_Atomic u64 max_ns, faults;
};

static void *prober_main(void *arg)
{
	struct prober *p = arg;

	for (u64 i = 0; !atomic_load(&p->stop); i++) {
		u64 t0 = bench_now_ns(), dt;

		bench_fault_range(p->mv, PROBE_BASE_GPA + (i % 512) * SZ_4K, SZ_4K, SZ_4K,
				  MMU_ACC_READ);
		dt = bench_now_ns() - t0;
		if (dt > atomic_load(&p->max_ns))
			atomic_store(&p->max_ns, dt);
		atomic_fetch_add(&p->faults, 1);
	}
	return NULL;
}

static u64 prober_cpu_ns(struct prober *p)
{
	struct timespec ts;
	clockid_t cid;

	if (pthread_getcpuclockid(p->th, &cid) || clock_gettime(cid, &ts))
		return 0;
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

/* The prober's fault rate over 'ns' while this thread sleeps (spinning, it
 * could take the prober's CPU). */
static double prober_rate_alone(struct prober *p, u64 ns)
{
	const struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };
	u64 f0 = atomic_load(&p->faults), t0 = bench_now_ns();

	nanosleep(&ts, NULL);
	return (double)(atomic_load(&p->faults) - f0) / ((double)(bench_now_ns() - t0) / 1e9);
}

static void add_probe_slot(struct mmu *mmu)
{
	struct memslot_desc d = {
		.id = PROBE_SLOT, .base_gfn = gpa_to_gfn(GPA(PROBE_BASE_GPA)),
		.npages = bench_pages(PROBE_BYTES), .backing = HFN((1ull << 41) / SZ_4K + 1),
	};

	if (mmu_slot_add(mmu, &d))
		bench_die("probe slot add failed");
}

/* A slot of 'bytes' mapped entirely with 'map_size' leaves. */
static struct mmu *populated(u64 bytes, u64 map_size, struct mmu_vcpu **mv)
{
	struct mmu *mmu = bench_mmu_with_slot(LOG_SLOT, LOG_BASE_GPA, bytes, map_size);

	*mv = mmu_vcpu_create(mmu, 0);
	if (!*mv)
		bench_die("mmu_vcpu_create failed");
	bench_fault_range(*mv, LOG_BASE_GPA, bytes, map_size, MMU_ACC_WRITE);
	return mmu;
}

static void enable_logging(struct mmu *mmu)
{
	int rc = mmu_slot_set_flags(mmu, LOG_SLOT, MEMSLOT_DIRTY_LOG);

	if (rc)
		bench_die("enabling dirty logging failed: %d", rc);
}

#define PROBE_ALONE_NS 20000000ull /* 20 ms to measure the prober alone */

struct enable_result {
	double ms, hold_ms, probe_ms;
	double probe_frac; /* the prober's fault rate during the enable / alone */
	bool probe_shared; /* the prober had less CPU time than wall time then */
	u64 holds, yields;
	bool split; /* every leaf of the slot is 4K afterwards */
};

static void start_prober(struct mmu *mmu, struct prober *p)
{
	add_probe_slot(mmu);
	p->mv = mmu_vcpu_create(mmu, 1);
	if (!p->mv)
		bench_die("mmu_vcpu_create failed");
	bench_fault_range(p->mv, PROBE_BASE_GPA, PROBE_BYTES, SZ_4K, MMU_ACC_READ);
	pthread_create(&p->th, NULL, prober_main, p);
}

static void stop_prober(struct prober *p)
{
	atomic_store(&p->stop, true);
	pthread_join(p->th, NULL);
	mmu_vcpu_destroy(p->mv);
}

/* One run: populate, then enable logging, alone or while a prober vCPU
 * faults on another slot. */
static struct enable_result enable_run(u64 bytes, u64 map_size, bool probe)
{
	struct mmu_vcpu *mv;
	struct mmu *mmu = populated(bytes, map_size, &mv);
	struct prober p = { 0 };
	struct enable_result r = { 0 };
	struct mmu_lock_stats ex;
	struct mmu_stats st;
	u64 t0;

	double alone = 0;
	u64 f0 = 0, c0 = 0;

	if (probe) {
		start_prober(mmu, &p);
		alone = prober_rate_alone(&p, PROBE_ALONE_NS);
		atomic_store(&p.max_ns, 0);
		f0 = atomic_load(&p.faults);
		c0 = prober_cpu_ns(&p);
	}
	mmu_debug_lock_stats(mmu, &ex, true);
	t0 = bench_now_ns();
	enable_logging(mmu);
	r.ms = (double)(bench_now_ns() - t0) / 1e6;
	if (probe && alone > 0)
		r.probe_frac = (double)(atomic_load(&p.faults) - f0) / (r.ms / 1e3) / alone;
	if (probe)
		r.probe_shared = (double)(prober_cpu_ns(&p) - c0) < 0.95 * r.ms * 1e6;
	mmu_debug_lock_stats(mmu, &ex, false);
	if (probe)
		stop_prober(&p);
	mmu_get_stats(mmu, &st);
	r.hold_ms = (double)ex.excl_max_ns / 1e6;
	r.holds = ex.excl_acquisitions;
	r.yields = ex.yields;
	r.probe_ms = (double)atomic_load(&p.max_ns) / 1e6;
	r.split = st.maps_2m + st.maps_1g == 0 &&
		  st.maps_4k == bench_pages(bytes) + (probe ? bench_pages(PROBE_BYTES) : 0);
	mmu_vcpu_destroy(mv);
	mmu_destroy(mmu);
	return r;
}

/* Medians over BENCH_SLOW_RUNS runs; holds/yields/split from the last one. */
static struct enable_result enable_median(u64 bytes, u64 map_size, bool probe)
{
	double ms[BENCH_SLOW_RUNS], hold[BENCH_SLOW_RUNS], pr[BENCH_SLOW_RUNS];
	double frac[BENCH_SLOW_RUNS];
	unsigned shared = 0;
	struct enable_result r = { 0 };
	bool split = true;

	for (unsigned i = 0; i < BENCH_SLOW_RUNS; i++) {
		r = enable_run(bytes, map_size, probe);
		ms[i] = r.ms;
		hold[i] = r.hold_ms;
		pr[i] = r.probe_ms;
		frac[i] = r.probe_frac;
		shared += r.probe_shared;
		split &= r.split;
	}
	r.ms = bench_median(ms, BENCH_SLOW_RUNS);
	r.hold_ms = bench_median(hold, BENCH_SLOW_RUNS);
	r.probe_ms = bench_median(pr, BENCH_SLOW_RUNS);
	r.probe_frac = bench_median(frac, BENCH_SLOW_RUNS);
	r.probe_shared = shared > 0;
	r.split = split;
	return r;
}

static void enable_row(u64 bytes, u64 map_size, const char *name)
{
	struct enable_result a = enable_median(bytes, map_size, false);
	struct enable_result b = enable_median(bytes, map_size, true);

	printf("  %3llu GiB %-3s %8.2f %8.3f %6llu | %8.2f %8.3f %6llu %6.2f %8.3f  %s%s\n",
	       (unsigned long long)(bytes / SZ_1G), name, a.ms, a.hold_ms,
	       (unsigned long long)a.yields, b.ms, b.hold_ms, (unsigned long long)b.yields,
	       b.probe_frac, b.probe_ms, a.split && b.split ? "all 4K after" : "NOT fully split",
	       b.probe_shared ? ", time-shared" : "");
	if (bytes == 4 * SZ_1G)
		printf("probe rate during 4 GiB %s enable: %.2f of alone, worst fault %.3f ms%s\n",
		       name, b.probe_frac, b.probe_ms, b.probe_shared ? " (time-shared)" : "");
}

void bench_enable_dirty_log(void)
{
	printf("\nEnable dirty logging (eager split of a populated slot to 4K), median of %u\n",
	       BENCH_SLOW_RUNS);
	printf("  %-11s %-24s | %s\n", "", "alone", "with a vCPU faulting on another slot");
	printf("  %-11s %8s %8s %6s | %8s %8s %6s %6s %8s\n", "slot", "time ms", "excl ms",
	       "yields", "time ms", "excl ms", "yields", "rate", "probe ms");
	for (u64 gib = 1; gib <= 4; gib *= 4) {
		enable_row(gib * SZ_1G, SZ_2M, "2M");
		enable_row(gib * SZ_1G, SZ_1G, "1G");
	}
	printf("  (the split runs under the shared MMU lock; excl ms: longest single hold of\n"
	       "   the exclusive lock during the enable (mmu_debug_lock_stats); yields: times\n"
	       "   the split gave the lock up (a writer waited, or to refill its page cache),\n"
	       "   last run; rate: the concurrent vCPU's fault rate during the enable as a\n"
	       "   fraction of its rate alone; probe ms: its worst single fault meanwhile;\n"
	       "   time-shared: in some run the vCPU had less CPU time than wall time then)\n");
}

/* --- get dirty log ------------------------------------------------------- */

static u64 dirty_every(struct mmu_vcpu *mv, u64 bytes, unsigned every)
{
	u64 n = 0;

	for (u64 off = 0; off < bytes; off += (u64)every * SZ_4K, n++)
		bench_fault_range(mv, LOG_BASE_GPA + off, SZ_4K, SZ_4K, MMU_ACC_WRITE);
	return n;
}

static u64 popcount_bitmap(const u64 *bm, u64 words)
{
	u64 n = 0;

	for (u64 i = 0; i < words; i++)
		n += (u64)__builtin_popcountll(bm[i]);
	return n;
}

static void get_log_row(u64 bytes, unsigned every)
{
	struct mmu_vcpu *mv;
	struct mmu *mmu = populated(bytes, SZ_2M, &mv);
	u64 words = bench_pages(bytes) / 64;
	u64 *bm = calloc(words, sizeof(u64));
	double ms[BENCH_RUNS];
	u64 dirtied = 0;

	if (!bm)
		bench_die("out of memory");
	enable_logging(mmu);
	for (unsigned i = 0; i < BENCH_RUNS; i++) {
		u64 t0;
		int rc;

		dirtied = every ? dirty_every(mv, bytes, every) : 0;
		t0 = bench_now_ns();
		rc = mmu_slot_get_dirty_log(mmu, LOG_SLOT, bm);
		ms[i] = (double)(bench_now_ns() - t0) / 1e6;
		if (rc || popcount_bitmap(bm, words) != dirtied)
			bench_die("get_dirty_log: rc %d, %llu bits for %llu pages dirtied", rc,
				  (unsigned long long)popcount_bitmap(bm, words),
				  (unsigned long long)dirtied);
	}
	printf("  %3llu GiB %8s %10llu %10.3f %12.3f\n", (unsigned long long)(bytes / SZ_1G),
	       every ? (every == 10 ? "10%" : "100%") : "0%", (unsigned long long)dirtied,
	       bench_median(ms, BENCH_RUNS), bench_median(ms, BENCH_RUNS) * SZ_1G / (double)bytes);
	free(bm);
	mmu_vcpu_destroy(mv);
	mmu_destroy(mmu);
}

void bench_get_dirty_log(void)
{
	printf("\nGet dirty log (copy + clear + re-protect), 4K mappings after eager split, "
	       "median of %u\n", BENCH_RUNS);
	printf("  %-7s %8s %10s %10s %12s\n", "slot", "dirtied", "pages", "time ms", "ms per GiB");
	for (u64 gib = 1; gib <= 4; gib *= 4) {
		get_log_row(gib * SZ_1G, 0);
		get_log_row(gib * SZ_1G, 10);
	}
}

/* --- disable dirty logging ------------------------------------------------ */

struct disable_result {
	double disable_ms, refault_ms;
	bool recovered; /* the slot is mapped with 2M leaves again */
};

/* Populate with 2M leaves, enable (split to 4K), then time the disable
 * (which must leave the slot mapped with 2M leaves) and a pass of writes
 * over the slot afterwards (all spurious when recovery worked in place). */
static struct disable_result disable_run(u64 bytes)
{
	struct mmu_vcpu *mv;
	struct mmu *mmu = populated(bytes, SZ_2M, &mv);
	struct disable_result r;
	struct mmu_stats st;
	u64 t0, t1;
	int rc;

	enable_logging(mmu);
	t0 = bench_now_ns();
	rc = mmu_slot_set_flags(mmu, LOG_SLOT, 0);
	t1 = bench_now_ns();
	if (rc)
		bench_die("disabling dirty logging failed: %d", rc);
	mmu_get_stats(mmu, &st);
	r.recovered = st.maps_2m == bytes / SZ_2M && st.maps_4k == 0;
	r.disable_ms = (double)(t1 - t0) / 1e6;
	t1 = bench_now_ns();
	bench_fault_range(mv, LOG_BASE_GPA, bytes, SZ_2M, MMU_ACC_WRITE);
	r.refault_ms = (double)(bench_now_ns() - t1) / 1e6;
	mmu_vcpu_destroy(mv);
	mmu_destroy(mmu);
	return r;
}

void bench_disable_dirty_log(void)
{
	printf("\nDisable dirty logging (huge pages recovered in place), 4K -> 2M, "
	       "median of %u\n", BENCH_SLOW_RUNS);
	printf("  %-7s %12s %14s %10s\n", "slot", "disable ms", "refault ms", "accesses");
	for (u64 gib = 1; gib <= 4; gib *= 4) {
		double dis[BENCH_SLOW_RUNS], ref[BENCH_SLOW_RUNS];
		bool ok = true;

		for (unsigned i = 0; i < BENCH_SLOW_RUNS; i++) {
			struct disable_result r = disable_run(gib * SZ_1G);

			dis[i] = r.disable_ms;
			ref[i] = r.refault_ms;
			ok &= r.recovered;
		}
		printf("  %3llu GiB %12.2f %14.2f %10llu   %s\n", (unsigned long long)gib,
		       bench_median(dis, BENCH_SLOW_RUNS), bench_median(ref, BENCH_SLOW_RUNS),
		       (unsigned long long)(gib * SZ_1G / SZ_2M),
		       ok ? "all 2M right after the disable" : "NOT recovered in place");
	}
}
