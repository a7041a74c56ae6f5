// SPDX-License-Identifier: MIT
/* The walker (see tdp_iter.h). */
#include "mmu/tdp_iter.h"
#include "mmu/env.h"

static void iter_load(struct tdp_iter *it)
{
	it->sptep = &it->path[it->level][tdp_level_index(it->gfn, it->level)];
	it->old = spte_read(it->sptep);
}

void tdp_iter_refresh(struct tdp_iter *it)
{
	it->old = spte_read(it->sptep);
}

void tdp_iter_restart(struct tdp_iter *it)
{
	it->yielded = false;
	it->yield_gfn = it->next_gfn;
	it->level = TDP_ROOT_LEVEL;
	it->gfn = ALIGN_DOWN(it->next_gfn, tdp_level_pages(it->level));
	it->valid = it->next_gfn < it->end && it->next_gfn < TDP_MAX_GFN;
	if (it->valid)
		iter_load(it);
}

void tdp_iter_start(struct tdp_iter *it, const struct spte_format *fmt, spte_t *root,
		    gfn_t start, gfn_t end, int min_level)
{
	MMU_ASSERT(min_level >= 1 && min_level <= TDP_ROOT_LEVEL);
	*it = (struct tdp_iter){
		.fmt = fmt,
		.next_gfn = start.v,
		.end = MIN(end.v, TDP_MAX_GFN),
		.min_level = min_level,
	};
	it->path[TDP_ROOT_LEVEL] = root;
	/* yield_gfn = start: no yield before the first unit of work. */
	tdp_iter_restart(it);
}

void tdp_iter_start_mem(struct tdp_iter *it, const struct spte_format *fmt,
			const struct tdp_mem *mem, spte_t *root, gfn_t start, gfn_t end,
			int min_level)
{
	tdp_iter_start(it, fmt, root, start, end, min_level);
	it->mem = mem;
}

static spte_t *table_of_entry(struct tdp_iter *it, spte_t s)
{
	hpa_t table = spte_table_hpa(it->fmt, s);

	return it->mem ? it->mem->map(it->mem, table.v, &it->mem_err) : env_hpa_to_virt(table);
}

static bool try_step_down(struct tdp_iter *it)
{
	spte_t s, *child;

	if (it->level == it->min_level)
		return false;
	/* Re-read: the entry may have been replaced since it->old was read. */
	s = spte_read(it->sptep);
	if (!spte_is_table(it->fmt, s, it->level))
		return false;
	child = table_of_entry(it, s);
	if (!child) {
		it->valid = false; /* the accessor refused the table */
		return true;
	}
	it->level--;
	it->path[it->level] = child;
	it->gfn = ALIGN_DOWN(it->next_gfn, tdp_level_pages(it->level));
	iter_load(it);
	return true;
}

static bool try_step_side(struct tdp_iter *it)
{
	if (tdp_level_index(it->gfn, it->level) == TDP_PTES_PER_TABLE - 1)
		return false;
	it->gfn += tdp_level_pages(it->level);
	it->next_gfn = it->gfn;
	it->sptep++;
	it->old = spte_read(it->sptep);
	return true;
}

static bool try_step_up(struct tdp_iter *it)
{
	if (it->level == TDP_ROOT_LEVEL)
		return false;
	it->level++;
	it->gfn = ALIGN_DOWN(it->gfn, tdp_level_pages(it->level));
	iter_load(it);
	return true;
}

void tdp_iter_next(struct tdp_iter *it)
{
	if (it->yielded) {
		tdp_iter_restart(it);
		return;
	}
	if (it->skip_children)
		it->skip_children = false;
	else if (try_step_down(it))
		return;
	do {
		if (try_step_side(it))
			return;
	} while (try_step_up(it));
	it->valid = false;
}
