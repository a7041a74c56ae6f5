// SPDX-License-Identifier: MIT
/*
 * Control threads that run while the vCPUs fault: slot churn (with the model
 * checks that need a stable model), range zaps, root invalidation, and the
 * periodic mmu_verify() / statistics check. Each loops until run->stop.
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

	pthread_mutex_lock(&run->model.lock);
	if (!run->model.slots[id].present)
		churn_add(run, r, id);
	else if (stress_rng_below(r, 2))
		churn_move(run, r, id);
	else
		churn_delete(run, id);
	pthread_mutex_unlock(&run->model.lock);
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

void *stress_zap_main(void *arg)
{
	struct stress_run *run = arg;
	struct stress_rng r;

	stress_rng_seed(&r, run->cfg->seed, 1002);
	while (!stopping(run)) {
		u64 start = stress_rng_below(&r, STRESS_GPA_PAGES);
		u64 len = 1ull << stress_rng_below(&r, 20); /* 1 page .. 4 GiB */

		mmu_zap_gfn_range(run->mmu, GFN(start), GFN(start + len));
		atomic_fetch_add(&run->counts.zaps, 1);
		stress_sleep_us(stress_rng_below(&r, 500));
	}
	return NULL;
}

/* Also flips the environment's resched policy, so walkers that yield are
 * driven through their "yield now" paths part of the time. */
void *stress_invalidate_main(void *arg)
{
	struct stress_run *run = arg;
	struct stress_rng r;

	stress_rng_seed(&r, run->cfg->seed, 1003);
	while (!stopping(run)) {
		stress_sleep_us(500 + stress_rng_below(&r, 2500));
		mmu_invalidate_all_roots(run->mmu);
		atomic_fetch_add(&run->counts.invalidations, 1);
		stress_env_set_always_yield(stress_rng_below(&r, 4) == 0);
	}
	stress_env_set_always_yield(false);
	return NULL;
}

/* --- mmu_verify and counters ---------------------------------------------- */

/* Gauges are u64: an underflow shows up as an absurdly large value. */
#define STRESS_GAUGE_LIMIT (1ull << 40)

void stress_check_stats(struct stress_run *run)
{
	struct mmu_stats st;

	mmu_get_stats(run->mmu, &st);
	if (st.tables_in_use > STRESS_GAUGE_LIMIT || st.maps_4k > STRESS_GAUGE_LIMIT ||
	    st.maps_2m > STRESS_GAUGE_LIMIT || st.maps_1g > STRESS_GAUGE_LIMIT)
		stress_fail(run->rep, "gauge underflow: tables %" PRIu64 " 4k %" PRIu64 " 2m %"
			    PRIu64 " 1g %" PRIu64, st.tables_in_use, st.maps_4k, st.maps_2m,
			    st.maps_1g);
}

void stress_verify_once(struct stress_run *run, const char *when)
{
	char why[256] = "";
	int rc = mmu_verify(run->mmu, why, sizeof(why));

	if (rc)
		stress_fail(run->rep, "mmu_verify (%s) returned %d: %s", when, rc, why);
	stress_check_stats(run);
	atomic_fetch_add(&run->counts.verifies, 1);
}

void *stress_verify_main(void *arg)
{
	struct stress_run *run = arg;

	while (!stopping(run)) {
		stress_sleep_us(3000);
		stress_verify_once(run, "periodic");
	}
	return NULL;
}
