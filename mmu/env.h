/* SPDX-License-Identifier: MIT */
/*
 * The MMU's environment: everything mmu/ needs from the world around it.
 *
 * THIS HEADER IS A CONTRACT FOR TESTS. mmu/ is portable C that builds twice:
 * into keel.efi (rt/mmu_env.c, on include/keel/host.h) and into hosted test
 * programs (mmu/env_hosted.c, on libc + pthreads; the knobs tests turn are in
 * mmu/env_hosted.h). Nothing else differs between the two builds.
 *
 * What the environment provides:
 *  - memory: zeroed 4 KiB-aligned pages (may fail: hosted tests inject
 *    failures) and small zeroed objects, plus the pointer <-> host-physical
 *    mapping of pages (identity in both environments);
 *  - scheduling: a polite pause for spin loops, a yield, and the need-resched
 *    policy that decides when a long walk under the exclusive MMU lock gives
 *    the lock up (hosted tests can force "always yield now");
 *  - per-thread state (which MMU locks this thread holds, for assertions);
 *  - time, logging and assertion failure;
 *  - test hooks: named points in the MMU code where a hosted test may run a
 *    callback (park the thread, inject a slot deletion, count yields...).
 *    In keel.efi they do nothing.
 *
 * Locks and the grace period for freeing page tables are built on these in
 * mmu/lock.c, mmu/srcu.c and mmu/reclaim.c, identically in both builds.
 */
#pragma once

#include <keel/types.h>

/* ---- memory ---- */
void *env_pages_alloc(unsigned npages);           /* zeroed; NULL on failure */
void env_pages_free(void *p, unsigned npages);
void *env_zalloc(size_t bytes);                   /* zeroed; NULL on failure */
void env_free(void *p);
hpa_t env_virt_to_hpa(const void *p);
void *env_hpa_to_virt(hpa_t hpa);

/* ---- scheduling and time ---- */
void env_cpu_relax(void);   /* inside a spin loop */
void env_yield(void);       /* give the CPU away for a moment */
/* Should a walk holding the exclusive MMU lock give it up now? 'contended'
 * says whether another thread waits for the lock. */
bool env_need_resched(bool contended);
u64 env_now_ns(void);

/* ---- per-thread state ---- */
#define ENV_MAX_HELD_LOCKS 8
struct env_held_lock {
	const void *lock;
	u8 mode;    /* LOCK_SHARED or LOCK_EXCL (mmu/lock.h) */
	u8 order;   /* lock order level, strictly increasing while nested */
};
struct env_thread {
	struct env_held_lock held[ENV_MAX_HELD_LOCKS];
	unsigned nheld;
};
struct env_thread *env_thread_self(void);
/* Per-CPU slot for sharded counters and read sides: 0 .. ENV_CPU_SLOTS-1,
 * stable for a thread while it holds an MMU lock (keel.efi: the CPU, which
 * never preempts the MMU; hosted: a per-thread index, threads beyond the
 * bound share slots, which is correct, only slower). */
#define ENV_CPU_SLOTS 64
unsigned env_cpu_slot(void);

/* ---- logging and assertions ---- */
__printf(1, 2) void env_log(const char *fmt, ...);
__noreturn void env_assert_failed(const char *expr, const char *file, int line);

#ifdef KEEL_NDEBUG
#define MMU_DEBUG 0
#else
#define MMU_DEBUG 1
#endif

/* MMU_ASSERT: checked in debug builds (tests, keel.efi), gone in 'rel'.
 * For contract checks only; invariants that guard memory safety use
 * MMU_BUG_ON (mmu/mmu_internal.h), which stays in every build. */
#define MMU_ASSERT(cond)                                                   \
	do {                                                               \
		if (MMU_DEBUG && unlikely(!(cond)))                        \
			env_assert_failed(#cond, __FILE__, __LINE__);      \
	} while (0)

/* ---- test hooks ---- */
enum env_hook {
	HOOK_FAULT_SLOT_FOUND,     /* fault: slot looked up, read side held */
	HOOK_FAULT_BEFORE_INSTALL, /* fault: shared MMU lock held, leaf about to be installed */
	HOOK_FAULT_AFTER_INSTALL,  /* fault: leaf installed, counters not yet updated */
	HOOK_TABLE_LINKED,         /* a new page table was linked (shared lock held) */
	HOOK_PREFAULT_STEP,        /* prefault: between two pages, nothing held */
	HOOK_PREFAULT_RETRY,       /* prefault: giving up with -EAGAIN, nothing held */
	HOOK_SPLIT_AFTER_UNIT,     /* eager split: one unit done, shared lock held */
	HOOK_EXCL_YIELD,           /* a long walk dropped the MMU lock: exclusive, or
	                              shared for the eager split (not held now) */
	HOOK_SLOT_SYNC_BEGIN,      /* slot writer published a snapshot and starts
	                              waiting for readers of the old one */
	HOOK_SLOT_SYNC_END,        /* ... and has finished waiting */
	HOOK_ROOTS_INVALIDATED,    /* exclusive lock held, generation just bumped */
	HOOK_VCPU_ENTERING,        /* load_root: the vCPU is ENTERING and its lock-free
	                              check passed; arg: the struct mmu_vcpu */
	HOOK_RECLAIM_RETIRE,       /* reclaim_retire: inside reclaim_lock, between
	                              reading the list head and storing the new one */
	HOOK_MMU_BUG,              /* an MMU_BUG_ON fired, the MMU is dead; arg is a
	                              bool *: true (debug builds) = fail the
	                              assertion next; a test may clear it to run
	                              the release-build path */
	HOOK_RWLOCK_READ_CHECKED,  /* MMU lock reader: saw no writer, not yet counted
	                              in its CPU slot (arg: the lock) */
	HOOK__COUNT
};
void env_hook(enum env_hook h, void *arg);
