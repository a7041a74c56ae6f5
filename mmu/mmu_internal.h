/* SPDX-License-Identifier: MIT */
/*
 * The MMU's private structures and the internal interfaces between its
 * files. docs/mmu-design.md explains the design; docs/mmu-locking.md lists
 * which lock owns each field below ("owner:" in the comments).
 */
#pragma once

#include <keel/types.h>
#include <keel/errno.h>
#include "mmu/mmu.h"
#include "mmu/env.h"
#include "mmu/atomic.h"
#include "mmu/lock.h"
#include "mmu/srcu.h"
#include "mmu/spte.h"
#include "mmu/percpu.h"

#define MMU_ACC_ALL (MMU_ACC_READ | MMU_ACC_WRITE | MMU_ACC_EXEC)

/* Generations are full width and compared only for equality (a narrowed or
 * ordered comparison is how KVM's mmu_seq sign-extension bug happened). */
struct mmu_gen {
	u64 v;
};
static inline bool mmu_gen_eq(struct mmu_gen a, struct mmu_gen b)
{
	return a.v == b.v;
}

/* ---- page-table pages ---- */

/*
 * A page-table page: only the 4 KiB the hardware walks. There is no
 * per-table metadata: a table's level and first gfn are known to whoever
 * walks to it, emptiness is read from the entries (under the exclusive
 * lock), and its slot on the deferred-free list is reserved when the page
 * is allocated (struct mmu_reclaim), so retiring it never allocates.
 */
struct tdp_page {
	spte_t spt[TDP_PTES_PER_TABLE];
} __aligned(4096);
_Static_assert(sizeof(struct tdp_page) == PAGE_SIZE, "tdp_page is one page");
#define TDP_PAGE_NPAGES 1

/* ---- deferred free (reclaim.c) ---- */
struct reclaim_slot {
	struct tdp_page *pg;
	u64 stamp;           /* flush_gen when it was retired */
};
struct mmu_reclaim {
	struct reclaim_slot *retired; /* owner: reclaim_lock; 'n' used of 'cap' */
	u64 n, cap;
	u64 reserved;        /* owner: reclaim_lock: slots promised to tables
	                        allocated or waiting in memory caches; <= cap */
};

/* ---- roots ---- */

struct mmu_root {
	struct tdp_page *pt;   /* immutable */
	struct mmu_gen gen;    /* immutable: mmu->root_gen when created */
	u32 refcount;          /* atomic: one per vCPU using it, one for the
	                          MMU itself until the root has been zapped */
	bool mmu_ref_dropped;  /* owner: mmu->lock exclusive */
	struct mmu_root *next; /* owner: roots_lock (+ mmu->lock, see locking doc) */
};

/* ---- memslots ---- */

struct memslot {
	struct memslot_desc d; /* immutable once published */
	bool invalid;          /* immutable: being deleted or moved */
	u64 *dirty_bitmap;     /* words are atomic; the array is owned by the
	                          slot lineage and freed by the slot writer */
};

struct memslots {
	struct mmu_gen gen;
	struct memslot *by_id[MMU_MAX_SLOTS];
};

/* ---- counters ----
 * Nothing a fault updates is MMU-wide (percpu.h): the fault results are per
 * vCPU (struct mmu_vcpu_stats, written only by the vCPU's own thread), the
 * other counters and the gauges a fault may move are per-CPU shards summed
 * when read. A gauge's shard may go below zero (a leaf mapped on one CPU and
 * zapped on another); the total never does, and is checked when read
 * (mmu_gauge_read: the seed-002 underflow check). Counters written only by
 * exclusive-lock holders or rarely stay single atomics (struct mmu_counters). */
struct mmu_shard {
	s64 tables_in_use;            /* gauge: page-table pages allocated */
	s64 maps[TDP_ROOT_LEVEL];     /* gauge: present leaves by level-1 */
	u64 retries_race, retries_obsolete, splits, zaps, tlb_flush_requests;
} __aligned(MMU_CACHE_LINE);

struct mmu_vcpu_stats {
	u64 faults_fixed, faults_spurious, retries_slot, no_slot;
};

struct mmu_counters {
	struct mmu_vcpu_stats gone;   /* owner: lock exclusive; of destroyed vCPUs */
	u64 root_invalidations, yields, evictions;
	u64 excl_acquisitions, excl_total_ns, excl_max_ns;
	u64 remote_flushes, remote_kicks, remote_wait_max_ns; /* remote_flush.c */
	u64 remote_wait_total_ns;      /* remote_flush.c: sum of the waits */
};

/* ---- the MMU ---- */

struct mmu {
	const struct spte_format *fmt;   /* immutable */
	int max_level;                   /* atomic: largest leaf level used (1..3);
	                                    written under lock exclusive, which
	                                    also invalidates every root */

	struct mmu_rwlock lock;          /* the MMU lock */
	struct mmu_spinlock roots_lock;
	struct mmu_spinlock reclaim_lock;
	struct mmu_spinlock slots_lock;  /* slot writers, dirty-log harvest */
	struct slots_srcu slots_srcu;

	struct memslots *slots;          /* published snapshot (atomic pointer) */
	struct mmu_gen root_gen;         /* owner: lock (written exclusive) */
	struct mmu_root *roots;          /* owner: roots_lock + lock */
	struct mmu_reclaim reclaim;
	struct mmu_vcpu *vcpus;          /* owner: lock exclusive */
	u64 flush_gen;                   /* atomic: TLB flush generation */
	u64 flush_synced;                /* owner: lock exclusive: flush_gen up to
	                                    which every vCPU in the guest has flushed
	                                    (remote_flush.c) */
	u64 excl_since_ns;               /* owner: lock exclusive */
	struct nmmu *nested;             /* owner: lock exclusive (mmu/nested.c) */

	struct mmu_counters c;
	bool dead;                       /* atomic: an MMU_BUG_ON fired (verify.c) */
	struct mmu_shard shard[ENV_CPU_SLOTS];
};

/* Where a vCPU is relative to the guest (vcpu_mode.c): only a vCPU ENTERING
 * or IN_GUEST can use what its TLB caches, so only those are waited for by
 * remote flushes and grace periods. */
enum mmu_vcpu_mode {
	VCPU_OUTSIDE_GUEST = 0, /* flushes (if due) before it next enters */
	VCPU_ENTERING_GUEST,    /* in load_root, lock-free part: may enter with
	                           what it read of flush_gen */
	VCPU_IN_GUEST,          /* may use its cached translations */
};

struct mmu_vcpu {
	struct mmu *mmu;
	unsigned id;
	struct mmu_root *root;   /* owner: this vCPU (its thread) */
	u64 flush_seen;          /* atomic: flush_gen at its last guest entry */
	bool loaded;             /* atomic: has entered the guest with a root */
	bool pending_flush;      /* owner: this vCPU */
	u32 mode;                /* atomic (seq_cst): enum mmu_vcpu_mode, written
	                            by this vCPU, read by remote flushes/reclaim */
	mmu_kick_fn kick;        /* set before the vCPU first enters, then immutable */
	void *kick_arg;
	struct mmu_vcpu *next;   /* owner: lock exclusive */
	struct mmu_vcpu_stats stats __aligned(MMU_CACHE_LINE); /* written by this vCPU only; summed by
	                                mmu_get_stats, folded into c.gone on destroy */
};

/* ---- lock tokens ----
 * A token proves which mode of mmu->lock the caller holds. The exclusive
 * token can only be made by mmu_lock_excl(); functions that unlink or free
 * tables, walk shared lists or invalidate roots take it (seed 001). */
struct mmu_excl {
	struct mmu *mmu;
};
struct mmu_shared {
	struct mmu *mmu;
};
/* Either mode; for code designed to run in both (the SPTE choke point). */
struct mmu_held {
	struct mmu *mmu;
	bool excl;
};

struct mmu_excl mmu_lock_excl(struct mmu *mmu);
void mmu_unlock_excl(struct mmu_excl *x);
struct mmu_shared mmu_lock_shared(struct mmu *mmu);
void mmu_unlock_shared(struct mmu_shared *s);
/* Drop and retake the exclusive lock (counts a yield, runs HOOK_EXCL_YIELD). */
void mmu_excl_yield(struct mmu_excl *x);
bool mmu_excl_need_resched(const struct mmu_excl *x);
struct tdp_iter;
/* Yield inside a walk, only if its cursor moved since its last yield. */
bool mmu_excl_cond_resched(struct mmu_excl *x, struct tdp_iter *it);

static inline void mmu_assert_excl(const struct mmu_excl *x)
{
	assert_lock_held_mode(&x->mmu->lock, LOCK_EXCL);
}
static inline void mmu_assert_shared(const struct mmu_shared *s)
{
	assert_lock_held_mode(&s->mmu->lock, LOCK_SHARED);
}
static inline void mmu_assert_held(const struct mmu_held *h)
{
	assert_lock_held_mode(&h->mmu->lock, h->excl ? LOCK_EXCL : LOCK_SHARED);
}
static inline struct mmu_held excl_held(const struct mmu_excl *x)
{
	return (struct mmu_held){ x->mmu, true };
}
static inline struct mmu_held shared_held(const struct mmu_shared *s)
{
	return (struct mmu_held){ s->mmu, false };
}

/* ---- invariants that guard memory safety ----
 * MMU_BUG_ON(mmu, cond) is checked in EVERY build, release (KEEL_NDEBUG)
 * included, as KVM_BUG_ON is: when cond holds, mmu_bug() logs it and marks
 * the MMU dead. A dead MMU installs nothing more: faults return
 * MMU_FAULT_DEAD, mmu_vcpu_load_root() and mmu_prefault() -EIO, and the run
 * loop stops the VM. Debug builds then also fail the assertion (tests see
 * it at once). Evaluates to cond, so callers may bail out. MMU_ASSERT stays
 * for contract checks that cost too much for release builds (lock modes). */
void mmu_bug(struct mmu *mmu, const char *expr, const char *file, int line);
#define MMU_BUG_ON(mmu, cond)                                              \
	({                                                                 \
		bool mmu_bug_ = unlikely(!!(cond));                        \
		if (mmu_bug_)                                              \
			mmu_bug((mmu), #cond, __FILE__, __LINE__);         \
		mmu_bug_;                                                  \
	})
static inline bool mmu_is_dead(const struct mmu *mmu)
{
	return atomic_read(&mmu->dead);
}

/* ---- counters ---- */
static inline void mmu_count(u64 *counter)
{
	atomic_add(counter, 1);
}
void mmu_counter_sub(u64 *counter, u64 n);   /* asserts no underflow */

/* This CPU's shard; count in it with mmu_shard_count / mmu_gauge_add. */
static inline struct mmu_shard *mmu_shard_self(struct mmu *mmu)
{
	return &mmu->shard[env_cpu_slot()];
}
#define mmu_shard_count(mmu, field) atomic_add(&mmu_shard_self(mmu)->field, 1)
#define mmu_gauge_add(mmu, field, n) atomic_add(&mmu_shard_self(mmu)->field, (s64)(n))
#define mmu_gauge_sub(mmu, field, n) atomic_sub(&mmu_shard_self(mmu)->field, (s64)(n))
/* Totals over the shards, by field offset: a counter, or a gauge (asserts
 * that the total is not negative). */
u64 mmu_shard_sum(const struct mmu *mmu, size_t offset);
u64 mmu_gauge_read(const struct mmu *mmu, size_t offset);
#define MMU_SHARD_SUM(mmu, field) mmu_shard_sum((mmu), offsetof(struct mmu_shard, field))
#define MMU_GAUGE(mmu, field) mmu_gauge_read((mmu), offsetof(struct mmu_shard, field))

/* Per-vCPU counters: one writer, so a relaxed load and store suffice. */
static inline void mmu_vcpu_count(u64 *counter)
{
	__atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELAXED);
}
void mmu_vcpu_stats_fold(const struct mmu_excl *x, struct mmu_vcpu *mv);

/* ---- page tables (tdp_mmu.c) ---- */
struct tdp_iter;
struct tdp_page *tdp_page_alloc(struct mmu *mmu);
void tdp_page_free_unlinked(struct mmu *mmu, struct tdp_page *pg);
int tdp_set_spte(const struct mmu_held *h, struct tdp_iter *it, spte_t new);
void tdp_unfreeze(const struct mmu_held *h, struct tdp_iter *it, spte_t new);
/* Link an empty table / split a huge leaf; 'pg' is a fresh page from the
 * caller's memory cache or NULL (allocate here). The page belongs to the
 * call: when the cmpxchg loses, it is discarded. 0, -EBUSY or -ENOMEM. */
int tdp_link_new_table(const struct mmu_held *h, struct tdp_iter *it, struct tdp_page *pg);
int tdp_split_huge(const struct mmu_held *h, struct tdp_iter *it, u32 perm_mask,
		   struct tdp_page *pg);
void mmu_request_tlb_flush(struct mmu *mmu);
/* No present entry (exact only where nobody else changes it: exclusive lock,
 * or a table no walker can reach). */
bool tdp_table_empty(const struct spte_format *f, const struct tdp_page *pg);

/* ---- memory caches (mmu_cache.c) ----
 * Page-table pages taken by a long walk (eager split) without allocating
 * under the MMU lock: topped up before the lock is taken, like KVM's
 * kvm_mmu_memory_cache. Cached pages are zeroed and already hold their
 * reclaim reservation. Owned by one thread. */
#define MMU_PAGE_CACHE_MAX 64
struct mmu_page_cache {
	unsigned n;
	struct tdp_page *pages[MMU_PAGE_CACHE_MAX];
};
/* Fill up to 'want' pages; holds no MMU lock. Returns the pages cached. */
unsigned mmu_page_cache_topup(struct mmu *mmu, struct mmu_page_cache *c, unsigned want);
struct tdp_page *mmu_page_cache_take(struct mmu *mmu, struct mmu_page_cache *c);
void mmu_page_cache_release(struct mmu *mmu, struct mmu_page_cache *c);

/* ---- reclaim (reclaim.c) ---- */
int reclaim_reserve(struct mmu *mmu, u64 n);   /* 0 or -ENOMEM; no MMU lock needed */
void reclaim_unreserve(struct mmu *mmu, u64 n);
void reclaim_retire(struct mmu *mmu, struct tdp_page *pg);
void reclaim_run(const struct mmu_excl *x);
void reclaim_free_all(struct mmu *mmu);
u64 reclaim_pending(const struct mmu_excl *x);

/* ---- roots (root.c) ---- */
bool root_is_valid(const struct mmu *mmu, const struct mmu_root *root);
void root_put(struct mmu *mmu, struct mmu_root *root);
typedef void (*root_range_fn)(struct mmu_excl *x, struct mmu_root *root, u64 start, u64 end);
void roots_for_each_valid(struct mmu_excl *x, root_range_fn fn, u64 start, u64 end);
/* The same under the shared lock; fn may drop and retake it. */
typedef void (*root_shared_fn)(struct mmu_shared *s, struct mmu_root *root, void *ctx);
void roots_for_each_valid_shared(struct mmu_shared *s, root_shared_fn fn, void *ctx);
void mmu_zap_all_fast(struct mmu_excl *x);
void mmu_zap_obsolete_roots(struct mmu_excl *x);

/* The two halves of a guest entry (root.c), joined by vcpu_mode.c. */
bool load_root_fast(struct mmu_vcpu *mv);
int vcpu_root_reload(struct mmu_vcpu *mv, bool *need_flush);
int vcpu_reload_owed(struct mmu_vcpu *mv);

/* ---- vCPU modes and remote flushes (vcpu_mode.c, remote_flush.c) ---- */
/* Can this vCPU be using translations cached before generation 'gen'? */
bool vcpu_may_hold_stale(struct mmu_vcpu *v, u64 gen);
bool vcpu_sees_tables(struct mmu_vcpu *v);
/* Every vCPU that may use a translation removed before now has flushed it, or
 * will before it next enters. Exclusive lock held (reclaim_run calls it). */
void remote_flush_sync(const struct mmu_excl *x);

/* ---- zap (zap.c) ---- */
/* Tear down an obsolete root's range, tables included. */
void zap_root_range(struct mmu_excl *x, struct mmu_root *root, u64 start, u64 end);
/* Remove only the leaves of the range in every valid root. */
void zap_valid_roots_range(struct mmu_excl *x, u64 start, u64 end);

/* ---- memslots (memslot.c) ---- */
const struct memslots *slots_deref(const struct mmu *mmu);
const struct memslot *slots_find_gfn(const struct memslots *s, u64 gfn);
int slot_max_level(const struct mmu *mmu, const struct memslot *slot, u64 gfn);
hfn_t slot_gfn_to_hfn(const struct memslot *slot, u64 gfn);
u32 slot_perms(const struct memslot *slot);
bool slot_dirty_test(const struct memslot *slot, u64 gfn);
void slot_dirty_mark(const struct memslot *slot, u64 gfn);
void memslots_free_all(struct mmu *mmu);

/* ---- dirty logging (dirty.c) ---- */
void dirty_log_start(struct mmu *mmu, const struct memslot *slot); /* no MMU lock held */
void dirty_log_stop(struct mmu_excl *x, const struct memslot *slot);
int dirty_log_harvest(struct mmu_excl *x, const struct memslot *slot, u64 *bitmap);

/* ---- the nested MMU's hooks (mmu/nested_reduce.c): every reduction of the
 * mapping of L1 memory reaches the shadow tables built on it. No-ops when the
 * VM does not nest. L1's lock held exclusively. ---- */
void nmmu_l1_zap(struct mmu_excl *x, u64 start, u64 end);
void nmmu_l1_dirty_log_start(struct mmu_excl *x, const struct memslot *slot);
void nmmu_l1_harvested(struct mmu_excl *x, const struct memslot *slot);

/* ---- mmu_verify() and nmmu_verify() (verify.c): the first failure found,
 * as text in why[len] and -EINVAL in err; 0 while all holds. ---- */
struct verify_report {
	char *why;
	size_t len;
	int err;
};
void verify_report_init(struct verify_report *r, char *why, size_t len);
__printf(2, 3) void verify_report_fail(struct verify_report *r, const char *fmt, ...);
