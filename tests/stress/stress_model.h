/* SPDX-License-Identifier: MIT */
/*
 * The harness's model of guest-physical memory: which slots exist, where
 * their (fake) backing frames are and what they permit, and the fixed layout
 * of areas the vCPU threads aim at.
 *
 * Layout (guest-physical), chosen so every mapping size appears:
 *   [0, 1 GiB)            hole: never in a slot, every fault is NO_SLOT
 *   [1 GiB, 3 GiB)        slot 0 "big": RW, backing congruent mod 1 GiB
 *   [4 GiB, +64 MiB)      slot 1 "ro": read-only, congruent mod 2 MiB only
 *   [5 GiB, +256 MiB)     slot 2 "dirty": RW, dirty logging toggled
 *   [8 GiB, +8 x 64 MiB)  slots 3..10 "churn": each id owns one 64 MiB
 *                         region and is added, moved and deleted inside it
 * Slots 0..2 are never deleted or moved, so faults there have one right
 * answer whatever else runs; churn regions accept NO_SLOT.
 */
#pragma once

#include "stress.h"

#define STRESS_2M_PAGES (SZ_2M / SZ_4K)
#define STRESS_1G_PAGES (SZ_1G / SZ_4K)

enum {
	STRESS_SLOT_BIG = 0,
	STRESS_SLOT_RO = 1,
	STRESS_SLOT_DIRTY = 2,
	STRESS_SLOT_CHURN0 = 3,
	STRESS_NR_CHURN = 8,
	STRESS_NR_SLOTS = STRESS_SLOT_CHURN0 + STRESS_NR_CHURN,
};

#define STRESS_BIG_BASE   (1 * STRESS_1G_PAGES)
#define STRESS_BIG_PAGES  (2 * STRESS_1G_PAGES)
#define STRESS_RO_BASE    (4 * STRESS_1G_PAGES)
#define STRESS_RO_PAGES   (32 * STRESS_2M_PAGES)
#define STRESS_DIRTY_BASE (5 * STRESS_1G_PAGES)
#define STRESS_DIRTY_PAGES (128 * STRESS_2M_PAGES)
#define STRESS_CHURN_BASE (8 * STRESS_1G_PAGES)
#define STRESS_REGION_PAGES (32 * STRESS_2M_PAGES)
#define STRESS_CHURN_MAX_PAGES (4 * STRESS_2M_PAGES)
#define STRESS_GPA_PAGES  (16 * STRESS_1G_PAGES) /* everything aimed at */

/* Where an address lies, as far as the fixed layout says. */
enum stress_area {
	STRESS_AREA_HOLE,
	STRESS_AREA_BIG,
	STRESS_AREA_RO,
	STRESS_AREA_DIRTY,
	STRESS_AREA_CHURN, /* region of a churn slot: the slot may be absent */
};

struct stress_slot {
	bool present;
	struct memslot_desc d;
};

struct stress_model {
	/* Taken by whoever changes a slot (around the MMU call and the model
	 * update) and by the leaf checker, so the checker sees one state. */
	pthread_mutex_t lock;
	struct stress_slot slots[STRESS_NR_SLOTS];
	u64 next_backing;  /* fresh fake host frames for churn slots */
	/* Root invalidations completed, and their number when dirty logging
	 * was last enabled: once two more have completed, one started after the
	 * enable, so every leaf of the valid root was installed after it. */
	atomic_ullong invalidations_done;
	u64 log_enabled_at;
	s64 backing_skew;  /* nonzero only when deliberately broken */
};

void stress_model_init(struct stress_model *m, enum stress_broken broken);
int stress_model_add_fixed(struct stress_model *m, struct mmu *mmu);
enum stress_area stress_area_of(gfn_t gfn, unsigned *churn_id);
bool stress_slot_id_readonly(unsigned id);
hfn_t stress_model_backing_of(const struct stress_model *m, unsigned id, gfn_t gfn);
u64 stress_model_next_backing(struct stress_model *m, gfn_t base, u64 npages, bool congruent);

/* Leaf checks, through mmu_for_each_leaf(). Caller holds m->lock. */
u64 stress_check_leaves(struct stress_model *m, struct mmu *mmu, struct stress_report *rep);
void stress_check_unmapped(struct mmu *mmu, const struct memslot_desc *gone,
			   const struct memslot_desc *now, struct stress_report *rep,
			   const char *after);
u64 stress_count_leaves(struct mmu *mmu);
u64 stress_count_leaves_in(struct mmu *mmu, gfn_t start, gfn_t end);
