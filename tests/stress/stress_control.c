// SPDX-License-Identifier: MIT
/*
 * Control threads that run while the vCPUs fault: slot churn (with the model
 * checks that need a stable model), range zaps and root invalidation. Each
 * loops until run->stop. The checking threads are in stress_watch.c.
 */
#include "stress_run.h"
#include "stress_mmu_glue.h"

#include <errno.h>
#include <inttypes.h>

static bool stopping(struct stress_run *run)
{
	return atomic_load(&run->stop);
}

/* --- slot churn ------------------------------------------------------------ */

static gfn_t region_base(unsigned id)
{
	return GFN(STRESS_CHURN_BASE + (u64)(id - STRESS_SLOT_CHURN0) * STRESS_REGION_PAGES);
}

/* A placement inside the id's region: sometimes 2 MiB aligned, sometimes not. */
static gfn_t pick_base(struct stress_rng *r, unsigned id, u64 npages)
{
	u64 off = stress_rng_below(r, STRESS_REGION_PAGES - npages + 1);

	if (stress_rng_below(r, 2))
		off = ALIGN_DOWN(off, STRESS_2M_PAGES);
	return GFN(region_base(id).v + off);
}

static u64 pick_npages(struct stress_rng *r)
{
	if (stress_rng_below(r, 2))
		return (1 + stress_rng_below(r, 4)) * STRESS_2M_PAGES;
	return 1 + stress_rng_below(r, STRESS_CHURN_MAX_PAGES);
}

/* An error the harness accepts from a slot call under injected failures. */
static void slot_rc(struct stress_run *run, const char *what, unsigned id, int rc)
{
	if (rc && rc != -ENOMEM)
		stress_fail(run->rep, "%s of churn slot %u returned %d", what, id, rc);
}

static void churn_add(struct stress_run *run, struct stress_rng *r, unsigned id)
{
	struct stress_slot *s = &run->model.slots[id];
	struct memslot_desc d = { .id = (u16)id, .npages = pick_npages(r) };
	int rc;

	d.base_gfn = pick_base(r, id, d.npages);
	d.backing = HFN(stress_model_next_backing(&run->model, d.base_gfn, d.npages,
						  stress_rng_below(r, 2)));
	d.flags = stress_slot_id_readonly(id) ? MEMSLOT_READONLY : 0;
	rc = mmu_slot_add(run->mmu, &d);
	slot_rc(run, "add", id, rc);
	if (!rc) {
		s->present = true;
		s->d = d;
	}
}

static void churn_move(struct stress_run *run, struct stress_rng *r, unsigned id)
{
	struct stress_slot *s = &run->model.slots[id];
	struct memslot_desc old = s->d;
	gfn_t base = pick_base(r, id, old.npages);
	int rc = mmu_slot_move(run->mmu, (u16)id, base);

	slot_rc(run, "move", id, rc);
	if (rc)
		return;
	s->d.base_gfn = base;
	stress_check_unmapped(run->mmu, &old, &s->d, run->rep, "move");
}

static void churn_delete(struct stress_run *run, unsigned id)
{
	struct stress_slot *s = &run->model.slots[id];
	int rc = mmu_slot_delete(run->mmu, (u16)id);

	slot_rc(run, "delete", id, rc);
	if (rc)
		return;
	s->present = false;
	/* Checked right after the delete returned, while vCPUs keep faulting. */
	stress_check_unmapped(run->mmu, &s->d, NULL, run->rep, "delete");
}

static void churn_once(struct stress_run *run, struct stress_rng *r)
{
	unsigned id = STRESS_SLOT_CHURN0 + (unsigned)stress_rng_below(r, STRESS_NR_CHURN);
	u64 t0 = stress_now_ns(), dt;

	pthread_mutex_lock(&run->model.lock);
	if (!run->model.slots[id].present)
		churn_add(run, r, id);
	else if (stress_rng_below(r, 2))
		churn_move(run, r, id);
	else
		churn_delete(run, id);
	pthread_mutex_unlock(&run->model.lock);
	dt = stress_now_ns() - t0;
	run->churn_ns += dt;
	run->churn_max_ns = MAX(run->churn_max_ns, dt);
	atomic_fetch_add(&run->counts.churn_ops, 1);
}

void stress_full_leaf_check(struct stress_run *run)
{
	u64 n;

	pthread_mutex_lock(&run->model.lock);
	n = stress_check_leaves(&run->model, run->mmu, run->rep);
	pthread_mutex_unlock(&run->model.lock);
	atomic_fetch_add(&run->counts.leaf_checks, 1);
	atomic_fetch_add(&run->counts.leaves_seen, n);
}

void *stress_churn_main(void *arg)
{
	struct stress_run *run = arg;
	struct stress_rng r;

	stress_rng_seed(&r, run->cfg->seed, 1001);
	for (u64 i = 1; !stopping(run); i++) {
		churn_once(run, &r);
		if (i % 8 == 0)
			stress_full_leaf_check(run);
		stress_sleep_us(stress_rng_below(&r, 300));
	}
	return NULL;
}

/* --- zaps and invalidation --------------------------------------------------- */

/*
 * The other half of the flush rule: removing a translation bumps the flush
 * generation. Read the generation, then count leaves in the range: any leaf
 * counted is gone once the call returns, removed either by the call or by
 * another thread in between, and whoever removed it bumped the generation
 * after it was read.
 */
static void check_gen_moved(struct stress_run *run, u64 gen0, u64 leaves, const char *what)
{
	u64 gen1 = mmu_debug_flush_gen(run->mmu);

	if (leaves && gen1 <= gen0)
		stress_fail(run->rep, "%s removed %" PRIu64 " leaves but the flush generation stayed "
			    "at %" PRIu64, what, leaves, gen0);
}

static void zap_checked(struct stress_run *run, gfn_t start, gfn_t end, bool check)
{
	u64 gen0 = mmu_debug_flush_gen(run->mmu);
	u64 leaves = check ? stress_count_leaves_in(run->mmu, start, end) : 0;

	mmu_zap_gfn_range(run->mmu, start, end);
	check_gen_moved(run, gen0, leaves, "zap_gfn_range");
}

static void invalidate_checked(struct stress_run *run)
{
	u64 gen0 = mmu_debug_flush_gen(run->mmu);
	u64 leaves = stress_count_leaves(run->mmu);

	mmu_invalidate_all_roots(run->mmu);
	check_gen_moved(run, gen0, leaves, "invalidate_all_roots");
}

void *stress_zap_main(void *arg)
{
	struct stress_run *run = arg;
	struct stress_rng r;

	stress_rng_seed(&r, run->cfg->seed, 1002);
	while (!stopping(run)) {
		u64 start = stress_rng_below(&r, STRESS_GPA_PAGES);
		u64 len = 1ull << stress_rng_below(&r, 20); /* 1 page .. 4 GiB */

		zap_checked(run, GFN(start), GFN(start + len), stress_rng_below(&r, 8) == 0);
		atomic_fetch_add(&run->counts.zaps, 1);
		stress_sleep_us(stress_rng_below(&r, 500));
	}
	return NULL;
}

/* Also opens short windows of "always yield now" (env resched policy), so
 * walks under the exclusive lock are driven through their yield paths: the
 * progress guarantee of seed 000. Short, because under that policy every
 * long walk gives up the lock after each unit and the run crawls. */
void *stress_invalidate_main(void *arg)
{
	struct stress_run *run = arg;
	struct stress_rng r;

	stress_rng_seed(&r, run->cfg->seed, 1003);
	while (!stopping(run)) {
		stress_sleep_us(500 + stress_rng_below(&r, 2500));
		invalidate_checked(run);
		atomic_fetch_add(&run->model.invalidations_done, 1);
		atomic_fetch_add(&run->counts.invalidations, 1);
		if (stress_rng_below(&r, 8) == 0) {
			stress_env_set_always_yield(true);
			stress_sleep_us(1000);
			stress_env_set_always_yield(false);
			atomic_fetch_add(&run->counts.yield_windows, 1);
		}
	}
	return NULL;
}
