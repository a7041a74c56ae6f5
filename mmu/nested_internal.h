/* SPDX-License-Identifier: MIT */
/*
 * The nested MMU's private structures and the interfaces between its files
 * (docs/nested-mmu.md; "owner:" comments name the lock of each field).
 *
 * Shadow tables are ordinary TDP MMU tables (struct tdp_page) changed only
 * through tdp_set_spte(); they belong to a second struct mmu, 'sm', used for
 * their accounting (counters, TLB flush generation, deferred freeing with a
 * grace period over the nested vCPUs) and whose lock is THE nested lock. It
 * has no roots or slots of its own: the shadow roots are struct nmmu_root.
 *
 * Lock order (mmu/lock.h levels): L1 slot read side (20) < L1 mmu_lock (30)
 * < nested lock (35) < roots_lock (40) < reclaim_lock (50). The nested lock
 * is only ever taken exclusively; every nested mutator takes a
 * 'struct nmmu_excl *', which only nmmu_lock() makes.
 */
#pragma once

#include "mmu/mmu_internal.h"
#include "mmu/nested.h"

#define LOCK_ORDER_NESTED 35

/* ---- lock token ---- */
struct nmmu_excl {
	struct nmmu *n;
	struct mmu_excl x; /* on n->sm: what tdp_set_spte and reclaim need */
};
struct nmmu_excl nmmu_lock(struct nmmu *n);
void nmmu_unlock(struct nmmu_excl *nx);
void nmmu_assert_locked(const struct nmmu_excl *nx);

/* ---- shadow roots ---- */
struct nmmu_key {
	u64 ncr3;  /* L1 gpa of NPT12's top table */
	u32 asid;  /* L1's ASID for L2 (never 0) */
	u32 mode;  /* nmmu_mode_bits() */
};

struct nmmu_root {
	struct mmu_root base;  /* .pt: the level-4 shadow table (immutable once
	                          allocated); the other fields are unused */
	struct nmmu_key key;   /* owner: nested lock */
	bool used;             /* owner: nested lock: key is meaningful */
	u64 gen;               /* written under the nested lock, read atomically:
	                          bumped whenever the content is dropped, so a
	                          fault that walked NPT12 before cannot install */
	u32 users;             /* owner: nested lock: vCPUs holding it */
	u64 last_use;          /* owner: nested lock: LRU stamp */
	u64 footprint;         /* owner: nested lock: L1 regions (1 GiB, the last
	                          bit for everything above 63 GiB) it maps */
};

/* ---- counters (atomic) ---- */
struct nmmu_counters {
	u64 shadow_faults, fixed, spurious, reflected, l1_mmio, retries, retries_slot, nomem;
	u64 root_hits, root_misses, root_recycled;
	u64 flush_all, flush_asid, invlpga, root_zaps, l1_reductions;
	u64 wrprot_leaves, splits, ad_updates, evictions;
};

/* Test hooks (NULL in keel.efi): named points of the nested fault path. */
enum nmmu_hook {
	NMMU_HOOK_WALKED,          /* NPT12 walked, nothing held but the slot read side */
	NMMU_HOOK_BEFORE_INSTALL,  /* L1 mmu_lock shared + nested lock held */
	NMMU_HOOK_SPLIT_UNIT,      /* dirty-log split of one shadow leaf done (locks held) */
	NMMU_HOOK__COUNT
};
typedef void (*nmmu_hook_fn)(enum nmmu_hook h, void *arg, void *ctx);

struct nmmu {
	struct mmu *l1;            /* immutable */
	struct mmu *sm;            /* immutable: shadow tables; sm->lock is the nested lock */
	unsigned nroots;           /* immutable */
	struct nmmu_root *roots;   /* immutable array; entries owned as above */
	unsigned nvcpus;           /* owner: nested lock */
	u64 clock;                 /* owner: nested lock */
	struct nmmu_counters c;
	nmmu_hook_fn hook;         /* set by tests before any vCPU runs */
	void *hook_ctx;
};

struct nmmu_vcpu {
	struct nmmu *n;
	struct mmu_vcpu *smv;      /* on n->sm: flush_seen/loaded for the grace period */
	struct nmmu_root *root;    /* set under the nested lock by this vCPU only;
	                              read by this vCPU's thread */
	struct nmmu_npt_mode mode; /* owner: this vCPU */
	bool pending_flush;        /* owner: this vCPU */
};

static inline void nmmu_count(u64 *c)
{
	atomic_add(c, 1);
}

static inline void nmmu_hook(struct nmmu *n, enum nmmu_hook h, void *arg)
{
	if (n->hook)
		n->hook(h, arg, n->hook_ctx);
}

/* ---- the NPT12 walk (nested_walk.c) ---- */
struct nwalk {
	u64 l2gfn;          /* in */
	u32 access;         /* in: MMU_ACC_* */
	u64 l1gfn;          /* out: L1 frame of l2gfn */
	int level;          /* out: NPT12 leaf level */
	u32 perms;          /* out: MMU_ACC_* NPT12 grants */
	bool dirty;         /* out: the NPT12 leaf's D bit is set (or this is a write) */
	u64 error_code;     /* out on NWALK_FAULT: NPF_* bits 0-4 */
};
enum nwalk_result { NWALK_OK, NWALK_FAULT, NWALK_RETRY, NWALK_RETRY_SLOT };
/* L1's slot read side held. Sets A (and D for writes) in NPT12 like hardware. */
enum nwalk_result nested_walk(struct nmmu *n, const struct nmmu_npt_mode *mode, u64 ncr3,
			      struct nwalk *w);
u32 nmmu_mode_bits(const struct nmmu_npt_mode *mode);
bool nmmu_mode_ok(const struct nmmu_npt_mode *mode);

/* ---- roots (nested_root.c) ---- */
/* Drop everything a root maps; with l1x (the caller holds L1's mmu_lock
 * exclusively) yields give up both locks. */
void nmmu_root_drop(struct nmmu_excl *nx, struct mmu_excl *l1x, struct nmmu_root *r);
u64 nmmu_region_mask(u64 start_gfn, u64 end_gfn);
/* Yield inside a shadow walk, only if its cursor moved (seed 000). */
bool nmmu_cond_resched(struct nmmu_excl *nx, struct mmu_excl *l1x, struct tdp_iter *it);

/* The TDP MMU's reduce paths call nmmu_l1_zap / _dirty_log_start / _harvested
 * (declared in mmu_internal.h; nested_reduce.c). */

/* ---- debugging (nested_verify.c, tests) ---- */
int nmmu_verify(struct nmmu *n, char *why, size_t len);
typedef void (*nmmu_leaf_cb)(void *ctx, const struct nmmu_key *key, u64 l2gfn, hfn_t hfn,
			     int level, u32 perms);
/* Under L1's slots_lock, L1 mmu_lock exclusive and the nested lock. */
void nmmu_for_each_leaf(struct nmmu *n, nmmu_leaf_cb cb, void *ctx);
void nmmu_set_hook(struct nmmu *n, nmmu_hook_fn fn, void *ctx);

/* The shadow leaf that maps l2gfn in the vCPU's current root, looked up as
 * a hardware walk would use it (L1 slot read side, L1 mmu_lock shared and the
 * nested lock held): hfn of that exact page; 'dirty_ok' is false only for a
 * writable leaf in a dirty-logged L1 slot whose page is not marked dirty. */
struct nmmu_lookup {
	hfn_t hfn;
	int level;
	u32 perms;
	bool dirty_ok;
};
bool nmmu_debug_lookup(struct nmmu_vcpu *nv, ngfn_t l2gfn, struct nmmu_lookup *out);
