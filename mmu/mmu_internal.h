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

/* Software metadata of one page-table page. */
struct tdp_meta {
	u64 base_gfn;        /* immutable: first gfn the table maps */
	int level;           /* immutable: level of the entries in spt[] */
	u32 present;         /* atomic: present entries in spt[]; gains are
	                        counted before the entry is visible, losses after
	                        it is gone (tdp_mmu.c), so it never under-counts
	                        and is exact under the exclusive lock */
	struct tdp_page *retire_next; /* owner: reclaim_lock */
	u64 retire_stamp;             /* owner: reclaim_lock */
};

/* A table and its metadata, allocated together (2 pages: hardware sees
 * only the first). */
struct tdp_page {
	spte_t spt[TDP_PTES_PER_TABLE];
	struct tdp_meta meta;
} __aligned(4096);
_Static_assert(sizeof(struct tdp_page) == 2 * PAGE_SIZE, "tdp_page is two pages");
#define TDP_PAGE_NPAGES 2

static inline struct tdp_page *tdp_page_of_spt(spte_t *spt)
{
	return container_of(spt, struct tdp_page, spt[0]);
}

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

/* ---- counters (all atomic) ---- */
struct mmu_counters {
	u64 faults_fixed, faults_spurious, retries_race, retries_obsolete;
	u64 retries_slot, no_slot, splits, zaps, tables_in_use;
	u64 maps[TDP_ROOT_LEVEL]; /* present leaves by level-1 */
	u64 root_invalidations, tlb_flush_requests, yields, evictions;
	u64 excl_acquisitions, excl_total_ns, excl_max_ns;
	u64 remote_flushes, remote_kicks, remote_wait_max_ns; /* remote_flush.c */
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
	struct tdp_page *reclaim_list;   /* owner: reclaim_lock */
	struct mmu_vcpu *vcpus;          /* owner: lock exclusive */
	u64 flush_gen;                   /* atomic: TLB flush generation */
	u64 flush_synced;                /* owner: lock exclusive: flush_gen up to
	                                    which every vCPU in the guest has flushed
	                                    (remote_flush.c) */
	u64 excl_since_ns;               /* owner: lock exclusive */
	struct nmmu *nested;             /* owner: lock exclusive (mmu/nested.c) */

	struct mmu_counters c;
	bool dead;                       /* atomic: an MMU_BUG_ON fired (verify.c) */
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

/* ---- page tables (tdp_mmu.c) ---- */
struct tdp_iter;
struct tdp_page *tdp_page_alloc(struct mmu *mmu, u64 base_gfn, int level);
void tdp_page_free_unlinked(struct mmu *mmu, struct tdp_page *pg);
int tdp_set_spte(const struct mmu_held *h, struct tdp_iter *it, spte_t new);
void tdp_unfreeze(const struct mmu_held *h, struct tdp_iter *it, spte_t new);
/* Links 'child' or, when the cmpxchg loses, discards it. */
int tdp_link_table(const struct mmu_held *h, struct tdp_iter *it, struct tdp_page *child);
struct tdp_page *tdp_make_split_table(struct mmu *mmu, spte_t huge, u64 gfn, int level,
				      u32 perm_mask);
void mmu_request_tlb_flush(struct mmu *mmu);

/* ---- reclaim (reclaim.c) ---- */
void reclaim_retire(struct mmu *mmu, struct tdp_page *pg);
void reclaim_run(const struct mmu_excl *x);
void reclaim_free_all(struct mmu *mmu);
u64 reclaim_pending(const struct mmu_excl *x);

/* ---- roots (root.c) ---- */
bool root_is_valid(const struct mmu *mmu, const struct mmu_root *root);
void root_put(struct mmu *mmu, struct mmu_root *root);
typedef void (*root_range_fn)(struct mmu_excl *x, struct mmu_root *root, u64 start, u64 end);
void roots_for_each_valid(struct mmu_excl *x, root_range_fn fn, u64 start, u64 end);
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
void dirty_log_start(struct mmu_excl *x, const struct memslot *slot);
void dirty_log_stop(struct mmu_excl *x, const struct memslot *slot);
int dirty_log_harvest(struct mmu_excl *x, const struct memslot *slot, u64 *bitmap);

/* ---- the nested MMU's hooks (mmu/nested_reduce.c): every reduction of the
 * mapping of L1 memory reaches the shadow tables built on it. No-ops when the
 * VM does not nest. L1's lock held exclusively. ---- */
void nmmu_l1_zap(struct mmu_excl *x, u64 start, u64 end);
void nmmu_l1_dirty_log_start(struct mmu_excl *x, const struct memslot *slot);
void nmmu_l1_harvested(struct mmu_excl *x, const struct memslot *slot);
