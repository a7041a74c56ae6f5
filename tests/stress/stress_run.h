/* SPDX-License-Identifier: MIT */
/*
 * One stress session: the MMU under test, the model, the vCPU threads and the
 * control threads, and the dirty-log tracker they share.
 */
#pragma once

#include "stress.h"
#include "stress_dirty.h"
#include "stress_model.h"

#define STRESS_MAX_VCPUS 16

/* Per-vCPU outcome counters (indexed by enum mmu_fault_result). */
#define STRESS_NR_RESULTS (MMU_FAULT_NOMEM + 1)

struct stress_vcpu {
	struct stress_run *run;
	unsigned idx;
	pthread_t thread;
	struct mmu_vcpu *mv;
	struct stress_rng rng;
	/* Odd while a tracked dirty-slot write is in flight (see stress_dirty.h). */
	atomic_ullong opseq;
	/* Sequential streams: next gfn and how many accesses remain. */
	u64 seq_gfn;
	unsigned seq_left;
	u64 results[STRESS_NR_RESULTS];
	u64 accesses, tries, root_nomem, prefaults, prefault_again, max_tries, flushes;
	/* TLB flush rule (stress_vcpu.c): flush generation after the last entry. */
	bool entered;
	u64 gen_after_entry;
};

struct stress_counts {
	atomic_ullong churn_ops, zaps, invalidations, verifies, leaf_checks, leaves_seen;
	atomic_ullong sessions_checked, yield_windows, flag_races;
};

struct stress_run {
	const struct stress_config *cfg;
	struct mmu *mmu;
	struct stress_model model;
	struct stress_dirty dirty;
	struct stress_report *rep;
	struct stress_counts counts;
	atomic_bool stop;       /* control threads: finish up */
	atomic_uint vcpus_done;
	atomic_ullong progress; /* vCPU access bursts completed (watchdog) */
	u64 start_ns;
	u64 deadline_ns;        /* soak length, or the cap of an ops-bounded run */
	atomic_bool capped;     /* an ops-bounded run hit its cap */
	u64 churn_ns, churn_max_ns; /* slot change latency (churn thread only) */
	struct mmu_stats last_stats; /* previous sample of the monotonic counters */
	unsigned nvcpus;
	struct stress_vcpu vcpus[STRESS_MAX_VCPUS];
};

u64 stress_now_ns(void);
void stress_sleep_us(u64 us);

void *stress_vcpu_main(void *arg);
void stress_check_entry_flush(struct stress_vcpu *v, u64 gen_before, bool flush);
void *stress_churn_main(void *arg);
void *stress_zap_main(void *arg);
void *stress_invalidate_main(void *arg);
void *stress_verify_main(void *arg);
void *stress_watchdog_main(void *arg);
void *stress_dirty_main(void *arg);
void *stress_flags_main(void *arg);

/* Checks any thread may run (stress_control.c). */
void stress_full_leaf_check(struct stress_run *run);
void stress_check_stats(struct stress_run *run);
void stress_verify_once(struct stress_run *run, const char *when);

/* Whole-run driver (stress_run.c). Returns the number of violations. */
u64 stress_run(const struct stress_config *cfg, struct stress_report *rep);
void stress_final_checks(struct stress_run *run);
