/* SPDX-License-Identifier: MIT */
/*
 * Hosted MMU benchmarks (make bench): shared helpers.
 *
 * Guest memory is never touched: slots are backed by fake host frame
 * numbers, so what is measured is the MMU itself (slot lookup, locking,
 * table walks and allocation of page tables), not memory bandwidth.
 * Times come from CLOCK_MONOTONIC; every figure is the median of several
 * runs, each on a fresh struct mmu.
 */
#pragma once

#include <keel/types.h>
#include <mmu/mmu.h>

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define MMU_BENCH_FLAVOUR "sanitizer (not for comparison)"
#elif defined(KEEL_NDEBUG)
#define MMU_BENCH_FLAVOUR "rel (-O2, MMU assertions off)"
#else
#define MMU_BENCH_FLAVOUR "debug (MMU assertions on: not for comparison)"
#endif

#define BENCH_RUNS 5        /* runs per figure (median) */
#define BENCH_SLOW_RUNS 3   /* for the multi-second figures */
#define BENCH_MAX_THREADS 16

u64 bench_now_ns(void);
double bench_median(double *v, unsigned n);
double bench_min(const double *v, unsigned n);
double bench_max(const double *v, unsigned n);
__noreturn __printf(1, 2) void bench_die(const char *fmt, ...);

/* Pages (4 KiB) in one mapping of the given size. */
static inline u64 bench_pages(u64 bytes)
{
	return bytes / SZ_4K;
}

/* A fresh MMU with one slot of 'bytes' at 'base_gpa' whose backing allows
 * mappings of exactly 'map_size' and no larger. */
struct mmu *bench_mmu_with_slot(u16 id, u64 base_gpa, u64 bytes, u64 map_size);

/* Fault [gpa, gpa+bytes) in steps of 'step' bytes with access 'acc', run-loop
 * style (retries re-enter). Returns the number of faults that returned FIXED. */
u64 bench_fault_range(struct mmu_vcpu *mv, u64 gpa, u64 bytes, u64 step, u32 acc);

/* Sections of the table (bench_fault.c, bench_dirty.c). */
void bench_demand_faults(unsigned max_threads);
void bench_table_memory(void);
void bench_enable_dirty_log(void);
void bench_get_dirty_log(void);
void bench_disable_dirty_log(void);
