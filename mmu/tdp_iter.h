/* SPDX-License-Identifier: MIT */
/*
 * The one table walker, used by every operation and every format.
 *
 * A pre-order walk of the entries that map [start, end), from the root down
 * to min_level, keeping the path of tables in path[level]. Steps: down (into
 * the table the current entry points to, re-reading the entry first so a
 * link that was just replaced is never followed), side (next entry in the
 * same table), up. 'next_gfn' is the cursor: the first gfn not yet finished.
 *
 * After the walker's owner drops the MMU lock (tdp_iter_yielded()), the next
 * step restarts from the root at the cursor: never from 'start', so work
 * already done is never redone. A walker refuses to yield again until the
 * cursor has moved (mmu_excl_cond_resched()): progress between two lock
 * drops is guaranteed, which rules out seed 000's livelock.
 *
 *   level 4 (root)  [ 0 | 1 | ... ]          path[4]
 *                      |
 *   level 3          [ 0 | 1 | ... ]         path[3]   1 GiB leaves possible
 *                          |
 *   level 2          [ 0 | ... ]             path[2]   2 MiB leaves possible
 *                      |
 *   level 1          [ 0 | 1 | ... | 511 ]   path[1]   4 KiB leaves
 */
#pragma once

#include "mmu/spte.h"

struct mmu_root;

/*
 * Where the walker finds the table an entry points to. None (the default):
 * Keel's own tables in host memory. A guest-memory accessor (the nested MMU's
 * view of L1's nested page table, mmu/nested_walk.c) maps a guest-physical
 * table address and may refuse it: the walk then ends (valid = false) with
 * the accessor's reason in mem_err.
 */
struct tdp_mem {
	spte_t *(*map)(const struct tdp_mem *m, u64 table_addr, int *err);
};

struct tdp_iter {
	const struct spte_format *fmt;
	spte_t *path[TDP_ROOT_LEVEL + 1];
	spte_t *sptep;      /* current entry */
	spte_t old;         /* its value when last read (or last set by us) */
	u64 gfn;            /* first gfn mapped by the current entry */
	u64 next_gfn;       /* cursor */
	u64 yield_gfn;      /* cursor at the last yield */
	u64 end;
	int level;
	int min_level;
	bool valid;
	bool yielded;       /* lock was dropped: restart before touching anything */
	bool skip_children; /* next step: do not descend into the current entry */
	const struct tdp_mem *mem; /* NULL: host memory */
	int mem_err;        /* the accessor refused a table (walk ended) */
};

void tdp_iter_start(struct tdp_iter *it, const struct spte_format *fmt, spte_t *root,
		    gfn_t start, gfn_t end, int min_level);
/* The same walk over tables read through a guest-memory accessor. */
void tdp_iter_start_mem(struct tdp_iter *it, const struct spte_format *fmt,
			const struct tdp_mem *mem, spte_t *root, gfn_t start, gfn_t end,
			int min_level);
void tdp_iter_next(struct tdp_iter *it);
void tdp_iter_restart(struct tdp_iter *it);
void tdp_iter_refresh(struct tdp_iter *it);   /* re-read *sptep into old */

static inline bool tdp_iter_covered(const struct tdp_iter *it, u64 start, u64 end)
{
	return it->gfn >= start && it->gfn + tdp_level_pages(it->level) <= end;
}

#define for_each_tdp_pte(it, fmt, root, start_, end_, min_level)                 \
	for (tdp_iter_start((it), (fmt), (root), (start_), (end_), (min_level));  \
	     (it)->valid && (it)->gfn < (it)->end; tdp_iter_next(it))
