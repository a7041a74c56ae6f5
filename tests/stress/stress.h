/* SPDX-License-Identifier: MIT */
/*
 * Hosted MMU stress harness: shared declarations.
 *
 * One struct stress_run is one stress session against one struct mmu: vCPU
 * threads fault guest addresses through a modelled run loop while control
 * threads churn slots, zap ranges, invalidate roots, toggle dirty logging
 * and harvest bitmaps. Every thread checks what it can see against the
 * harness's own model (stress_model.c) and records violations in the run's
 * report; nothing in the harness calls abort() on a violation, so the
 * self-tests can prove that a corrupted model is caught.
 */
#pragma once

#include <keel/types.h>
#include <mmu/mmu.h>

#include <pthread.h>
#include <stdatomic.h>

#if defined(__SANITIZE_THREAD__)
#define STRESS_SANITIZED 2 /* tsan: slowest, fewest operations */
#elif defined(__SANITIZE_ADDRESS__)
#define STRESS_SANITIZED 1
#else
#define STRESS_SANITIZED 0
#endif

/* --- deterministic pseudo-random numbers (splitmix64 seeding xorshift) --- */
struct stress_rng {
	u64 s;
};

static inline u64 stress_rng_next(struct stress_rng *r)
{
	u64 x = r->s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	r->s = x;
	return x;
}

static inline void stress_rng_seed(struct stress_rng *r, u64 seed, u64 stream)
{
	u64 z = seed + 0x9e3779b97f4a7c15ull * (stream + 1);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	r->s = (z ^ (z >> 31)) | 1;
}

/* Uniform in [0, n); n > 0. */
static inline u64 stress_rng_below(struct stress_rng *r, u64 n)
{
	return stress_rng_next(r) % n;
}

/* --- what a run does ------------------------------------------------------ */
enum stress_broken {
	STRESS_BROKEN_NONE,
	STRESS_BROKEN_MODEL, /* model believes the big slot's backing is 1 frame off */
	STRESS_BROKEN_DIRTY, /* harvester "loses" every harvested bitmap */
};

struct stress_config {
	u64 seed;
	unsigned vcpus;
	u64 ops_per_vcpu;     /* accesses each vCPU completes; 0: use seconds */
	double seconds;       /* wall-clock bound for soak runs */
	/* Ops-bounded runs also go on until the control threads have done this
	 * much, so a fast MMU cannot finish before slots churned; cap_seconds
	 * bounds the run whatever happens (it is a bound, not a check). */
	u64 min_churn, min_sessions, min_invalidations;
	double cap_seconds;
	const struct spte_format *fmt;
	const char *fmt_name;
	enum stress_broken broken;
	unsigned alloc_fail_per_mille; /* injected page-table allocation failures */
	bool no_mmu_verify;   /* skip mmu_verify(): only the harness's own checks */
};

/* --- violations ----------------------------------------------------------- */
#define STRESS_MAX_MSGS 16

struct stress_report {
	atomic_ullong failures;
	pthread_mutex_t lock;
	unsigned nmsgs;
	char msgs[STRESS_MAX_MSGS][256];
};

__printf(2, 3) void stress_fail(struct stress_report *rep, const char *fmt, ...);
void stress_report_init(struct stress_report *rep);
void stress_report_print(const struct stress_report *rep);
